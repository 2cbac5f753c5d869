//! A real HTTP server on loopback that receives webhooks for tests: it reads each request
//! (headers and a `Content-Length` body), keeps it, and answers with the next status of a
//! script (then 204), so that a test can make an endpoint fail and recover.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// One received request.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method.
    pub method: String,
    /// The path.
    pub path: String,
    /// Headers, by lower-case name.
    pub headers: HashMap<String, String>,
    /// The body.
    pub body: Vec<u8>,
    /// The status it was answered.
    pub answered: u16,
}

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<Request>>,
    script: Mutex<VecDeque<u16>>,
    always: Mutex<Option<u16>>,
}

/// The running receiver; it stops with the test process.
#[derive(Clone)]
pub struct HttpReceiver {
    /// The port on 127.0.0.1.
    pub port: u16,
    shared: Arc<Shared>,
}

impl HttpReceiver {
    /// Starts a receiver on a free loopback port.
    pub fn start() -> Self {
        let shared = Arc::new(Shared::default());
        let port = crate::loopback::serve("HTTP receiver", shared.clone(), serve);
        Self { port, shared }
    }

    /// `http://127.0.0.1:PORT/hook`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// Answers the next requests with these statuses, in order (then 204, or `always`).
    pub fn answer_next(&self, statuses: &[u16]) {
        self.shared
            .script
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(statuses);
    }

    /// Answers every request with `status` from now on (`None`: 204 again).
    pub fn answer_always(&self, status: Option<u16>) {
        *self
            .shared
            .always
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = status;
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits (at most `limit`) until at least `count` requests arrived; the requests.
    pub fn wait_for(&self, count: usize, limit: Duration) -> Vec<Request> {
        let deadline = Instant::now() + limit;
        loop {
            let requests = self.requests();
            if requests.len() >= count || Instant::now() >= deadline {
                return requests;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn serve(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or_default().to_owned(),
            parts.next().unwrap_or_default().to_owned(),
        );
        let mut headers = HashMap::new();
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 {
                return Ok(());
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
            }
        }
        let length = headers
            .get("content-length")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0; length.min(10 << 20)];
        reader.read_exact(&mut body)?;
        let status = shared
            .script
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
            .or(*shared.always.lock().unwrap_or_else(PoisonError::into_inner))
            .unwrap_or(204);
        shared
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Request {
                method,
                path,
                headers,
                body,
                answered: status,
            });
        writer.write_all(
            format!("HTTP/1.1 {status} Status\r\ncontent-length: 0\r\n\r\n").as_bytes(),
        )?;
    }
}
