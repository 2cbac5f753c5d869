//! The load generator's HTTP/1.1 clients: one keep-alive connection per worker.
//!
//! `Raw` writes each request with one `write_all` and parses the response head by hand
//! (`Content-Length` or chunked bodies), so that the client costs a few microseconds of CPU per
//! request and the server, not the load generator, is what gets measured. `Reqwest` does the
//! same through reqwest (HTTP/1.1 only, one pooled connection), to compare the two clients' cost.

use anyhow::{Context as _, anyhow, bail};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Which client the workers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClientKind {
    /// Hand-written HTTP/1.1 over a tokio `TcpStream`.
    Raw,
    /// reqwest 0.12, HTTP/1.1 only, one keep-alive connection.
    Reqwest,
}

/// One request to send.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`, `PATCH`, ...
    pub method: &'static str,
    /// Path and query, already percent-encoded.
    pub path: String,
    /// JSON body, if any.
    pub body: Option<String>,
}

/// A response: status and the whole body.
#[derive(Debug)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// `Location` header, if any.
    pub location: Option<String>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
}

/// Where to send requests and with which credentials.
#[derive(Debug, Clone)]
pub struct Target {
    /// `127.0.0.1:port`.
    pub addr: String,
    /// Bearer token, sent on every request.
    pub token: String,
}

/// One worker's connection.
pub enum Client {
    /// See [`ClientKind::Raw`].
    Raw(RawClient),
    /// See [`ClientKind::Reqwest`].
    Reqwest(reqwest::Client, Target),
}

impl Client {
    /// A client of this kind (the raw one connects lazily on first use).
    pub fn new(kind: ClientKind, target: &Target) -> anyhow::Result<Self> {
        Ok(match kind {
            ClientKind::Raw => Self::Raw(RawClient::new(target)),
            ClientKind::Reqwest => Self::Reqwest(
                reqwest::Client::builder()
                    .http1_only()
                    .pool_max_idle_per_host(1)
                    .redirect(reqwest::redirect::Policy::none())
                    .tcp_nodelay(true)
                    .build()?,
                target.clone(),
            ),
        })
    }

    /// Sends one request and reads the whole response.
    pub async fn send(&mut self, request: &Request) -> anyhow::Result<Response> {
        match self {
            Self::Raw(raw) => raw.send(request).await,
            Self::Reqwest(client, target) => send_reqwest(client, target, request).await,
        }
    }
}

async fn send_reqwest(
    client: &reqwest::Client,
    target: &Target,
    request: &Request,
) -> anyhow::Result<Response> {
    let method = reqwest::Method::from_bytes(request.method.as_bytes())?;
    let url = format!("http://{}{}", target.addr, request.path);
    let mut builder = client
        .request(method, url)
        .bearer_auth(&target.token)
        .header("Accept", "application/scim+json")
        .header("User-Agent", "Okta SCIM Client 1.0.0");
    if let Some(body) = &request.body {
        builder = builder
            .header("Content-Type", "application/scim+json; charset=utf-8")
            .body(body.clone());
    }
    let response = builder.send().await?;
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.bytes().await?.to_vec();
    Ok(Response {
        status,
        location,
        body,
    })
}

/// A hand-written HTTP/1.1 client on one keep-alive connection.
pub struct RawClient {
    addr: String,
    auth_header: String,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    out: Vec<u8>,
}

/// A response head bigger than this is refused.
const MAX_HEAD: usize = 64 * 1024;
/// A response body bigger than this is refused.
const MAX_BODY: usize = 256 * 1024 * 1024;

impl RawClient {
    fn new(target: &Target) -> Self {
        Self {
            addr: target.addr.clone(),
            auth_header: format!("Authorization: Bearer {}\r\n", target.token),
            stream: None,
            buf: Vec::with_capacity(64 * 1024),
            out: Vec::with_capacity(4096),
        }
    }

    async fn send(&mut self, request: &Request) -> anyhow::Result<Response> {
        self.out.clear();
        let body = request.body.as_deref().unwrap_or("");
        self.out.extend_from_slice(
            format!(
                "{} {} HTTP/1.1\r\nHost: {}\r\n{}Accept: application/scim+json\r\nUser-Agent: Okta SCIM Client 1.0.0\r\n",
                request.method, request.path, self.addr, self.auth_header
            )
            .as_bytes(),
        );
        if request.body.is_some() {
            self.out.extend_from_slice(
                format!(
                    "Content-Type: application/scim+json; charset=utf-8\r\nContent-Length: {}\r\n",
                    body.len()
                )
                .as_bytes(),
            );
        }
        self.out.extend_from_slice(b"\r\n");
        self.out.extend_from_slice(body.as_bytes());
        let result = self.exchange().await;
        if result.is_err() {
            // The connection is in an unknown state: the next request opens a new one.
            self.stream = None;
        }
        result
    }

    async fn exchange(&mut self) -> anyhow::Result<Response> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(&self.addr)
                .await
                .with_context(|| format!("connecting to {}", self.addr))?;
            stream.set_nodelay(true)?;
            self.stream = Some(stream);
            self.buf.clear();
        }
        let stream = self
            .stream
            .as_mut()
            .ok_or_else(|| anyhow!("no connection"))?;
        stream.write_all(&self.out).await?;
        // Read until the head is complete.
        let head_end = loop {
            if let Some(at) = find(&self.buf, b"\r\n\r\n") {
                break at + 4;
            }
            if self.buf.len() > MAX_HEAD {
                bail!("response head larger than {MAX_HEAD} bytes");
            }
            read_more(stream, &mut self.buf).await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end])?;
        let (status, length, chunked, close, location) = parse_head(head)?;
        let mut body = Vec::new();
        if chunked {
            let mut at = head_end;
            loop {
                let line_end = loop {
                    if let Some(i) = find(&self.buf[at..], b"\r\n") {
                        break at + i;
                    }
                    read_more(stream, &mut self.buf).await?;
                };
                let size_text = std::str::from_utf8(&self.buf[at..line_end])?;
                let size_text = size_text.split(';').next().unwrap_or("").trim();
                let size = usize::from_str_radix(size_text, 16)
                    .with_context(|| format!("bad chunk size {size_text:?}"))?;
                if body.len() + size > MAX_BODY {
                    bail!("response body larger than {MAX_BODY} bytes");
                }
                let data_end = line_end + 2 + size + 2;
                while self.buf.len() < data_end {
                    read_more(stream, &mut self.buf).await?;
                }
                body.extend_from_slice(&self.buf[line_end + 2..line_end + 2 + size]);
                at = data_end;
                if size == 0 {
                    break;
                }
            }
            self.buf.drain(..at);
        } else {
            let length = length.unwrap_or(0);
            if length > MAX_BODY {
                bail!("response body of {length} bytes is too large");
            }
            while self.buf.len() < head_end + length {
                read_more(stream, &mut self.buf).await?;
            }
            body.extend_from_slice(&self.buf[head_end..head_end + length]);
            self.buf.drain(..head_end + length);
        }
        if close {
            self.stream = None;
        }
        Ok(Response {
            status,
            location,
            body,
        })
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> anyhow::Result<()> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).await?;
    if n == 0 {
        bail!("the server closed the connection");
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

/// Status, Content-Length, chunked, Connection: close, Location.
type Head = (u16, Option<usize>, bool, bool, Option<String>);

fn parse_head(head: &str) -> anyhow::Result<Head> {
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("bad status line {status_line:?}"))?;
    let (mut length, mut chunked, mut close, mut location) = (None, false, false, None);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse()?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close");
        } else if name.eq_ignore_ascii_case("location") {
            location = Some(value.to_owned());
        }
    }
    Ok((status, length, chunked, close, location))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_is_parsed_case_insensitively() -> anyhow::Result<()> {
        let (status, length, chunked, close, location) = parse_head(
            "HTTP/1.1 201 Created\r\ncontent-length: 12\r\nLocation: http://x/Users/1\r\n\r\n",
        )?;
        assert_eq!(status, 201);
        assert_eq!(length, Some(12));
        assert!(!chunked && !close);
        assert_eq!(location.as_deref(), Some("http://x/Users/1"));
        Ok(())
    }
}
