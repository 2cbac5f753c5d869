//! A real SMTP server on loopback for tests: it speaks enough of RFC 5321 for any client
//! (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; no STARTTLS, like a local relay), keeps
//! every message it accepts, and can be told to refuse the next sessions (421), as a relay that
//! is down would.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// One accepted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The envelope sender.
    pub from: String,
    /// The envelope recipients.
    pub to: Vec<String>,
    /// The message as sent (headers and body, dot-unstuffed).
    pub data: String,
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    refuse: AtomicUsize,
}

/// The running server; it stops with the test process.
#[derive(Clone)]
pub struct SmtpSink {
    /// The port on 127.0.0.1.
    pub port: u16,
    shared: Arc<Shared>,
}

impl SmtpSink {
    /// Starts a server on a free loopback port.
    pub fn start() -> Self {
        let shared = Arc::new(Shared::default());
        let port = crate::loopback::serve("SMTP sink", shared.clone(), session);
        Self { port, shared }
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages accepted so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared
            .received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Refuses the next `sessions` connections with `421` (a relay that is down).
    pub fn refuse_next(&self, sessions: usize) {
        self.shared.refuse.store(sessions, Ordering::SeqCst);
    }

    /// Waits (at most `limit`) until at least `count` messages arrived; the messages.
    pub fn wait_for(&self, count: usize, limit: Duration) -> Vec<Received> {
        let deadline = Instant::now() + limit;
        loop {
            let received = self.received();
            if received.len() >= count || Instant::now() >= deadline {
                return received;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn session(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut writer = stream.try_clone()?;
    let refused = shared
        .refuse
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if refused {
        writer.write_all(b"421 sink unavailable, try again later\r\n")?;
        return Ok(());
    }
    writer.write_all(b"220 sink.test ESMTP\r\n")?;
    let mut reader = BufReader::new(stream);
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            writer.write_all(b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")?;
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            writer.write_all(b"250 ok\r\n")?;
        } else if upper.starts_with("MAIL FROM:") {
            from = address(&command["MAIL FROM:".len()..]);
            to.clear();
            writer.write_all(b"250 ok\r\n")?;
        } else if upper.starts_with("RCPT TO:") {
            to.push(address(&command["RCPT TO:".len()..]));
            writer.write_all(b"250 ok\r\n")?;
        } else if upper == "DATA" {
            writer.write_all(b"354 end with <CRLF>.<CRLF>\r\n")?;
            let mut data = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            shared
                .received
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Received {
                    from: std::mem::take(&mut from),
                    to: std::mem::take(&mut to),
                    data,
                });
            writer.write_all(b"250 queued\r\n")?;
        } else if upper == "RSET" {
            from.clear();
            to.clear();
            writer.write_all(b"250 ok\r\n")?;
        } else if upper == "QUIT" {
            writer.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            writer.write_all(b"502 not implemented\r\n")?;
        }
    }
}

/// The address inside `<...>` of a MAIL or RCPT argument.
fn address(argument: &str) -> String {
    let argument = argument.trim();
    argument
        .strip_prefix('<')
        .and_then(|rest| rest.split_once('>'))
        .map_or(argument, |(inside, _)| inside)
        .to_owned()
}
