//! A keep-alive HTTP/1.1 client on a plain TCP socket, for the load loops. reqwest's blocking
//! client hands every request to a runtime thread and waits for the answer on a channel: two
//! thread wake-ups per request, which the latency of every answer included, on a machine whose
//! two cores the client shares with the server. Here the measuring thread writes the request
//! and reads the answer itself. Only what the loops need: `POST` with a JSON body over `http://`,
//! answers framed by `Content-Length`, chunked, or by closing the connection.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};

use crate::client::Endpoint;

/// Longest status line or header line accepted.
const MAX_LINE: usize = 16 * 1024;

/// One keep-alive connection to a server, opened on first use and again whenever the server
/// closed it.
pub struct WireClient {
    /// `host:port`, to connect to and to send as `Host`.
    authority: String,
    /// The URL's path before every request path (empty for a server at the root).
    base_path: String,
    authorization: Option<String>,
    timeout: Duration,
    connection: Option<BufReader<TcpStream>>,
    request: Vec<u8>,
}

/// An answer: its status and body.
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl WireClient {
    /// A client for `endpoint`, or `None` when its URL is not plain `http://` (TLS goes through
    /// reqwest).
    pub fn new(endpoint: &Endpoint, timeout: Duration) -> Option<WireClient> {
        let rest = endpoint.url.strip_prefix("http://")?;
        let (authority, base_path) = match rest.find('/') {
            Some(slash) => (&rest[..slash], &rest[slash..]),
            None => (rest, ""),
        };
        let authority = if authority.contains(':') {
            authority.to_string()
        } else {
            format!("{authority}:80")
        };
        Some(WireClient {
            authority,
            base_path: base_path.trim_end_matches('/').to_string(),
            authorization: endpoint.api_key.as_ref().map(|k| format!("Bearer {k}")),
            timeout,
            connection: None,
            request: Vec::new(),
        })
    }

    /// Sends `POST path` with a JSON body and reads the whole answer. A kept-alive connection
    /// that the server closed in the meantime is reopened once.
    pub fn post_json(&mut self, path: &str, body: &[u8]) -> Result<Reply> {
        self.request.clear();
        write!(
            self.request,
            "POST {}{path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            self.base_path,
            self.authority,
            body.len()
        )?;
        if let Some(value) = &self.authorization {
            write!(self.request, "Authorization: {value}\r\n")?;
        }
        self.request.extend_from_slice(b"\r\n");
        self.request.extend_from_slice(body);
        for attempt in 0..2 {
            let reused = self.connection.is_some();
            let connection = match &mut self.connection {
                Some(connection) => connection,
                None => self.connection.insert(open(&self.authority, self.timeout)?),
            };
            match exchange(connection, &self.request) {
                Ok((reply, keep_alive)) => {
                    if !keep_alive {
                        self.connection = None;
                    }
                    return Ok(reply);
                }
                Err(error) => {
                    self.connection = None;
                    // Only a connection kept from before may have been closed under us.
                    if !reused || attempt == 1 {
                        return Err(error);
                    }
                }
            }
        }
        unreachable!("the second attempt returns")
    }
}

fn open(authority: &str, timeout: Duration) -> Result<BufReader<TcpStream>> {
    let stream =
        TcpStream::connect(authority).with_context(|| format!("connecting to {authority}"))?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    Ok(BufReader::with_capacity(64 * 1024, stream))
}

/// Writes one request and reads its answer; also says whether the connection stays open.
fn exchange(connection: &mut BufReader<TcpStream>, request: &[u8]) -> Result<(Reply, bool)> {
    connection.get_mut().write_all(request)?;
    read_reply(connection)
}

/// Reads one answer: status line, headers, then the body as its framing says.
pub(crate) fn read_reply(reader: &mut impl BufRead) -> Result<(Reply, bool)> {
    let mut line = Vec::new();
    read_line(reader, &mut line)?;
    if line.is_empty() {
        bail!("the server closed the connection");
    }
    let status_line = String::from_utf8_lossy(&line).into_owned();
    let mut parts = status_line.split_whitespace();
    let version = parts.next().unwrap_or_default();
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("not an HTTP status line: {status_line:?}"))?;
    let mut keep_alive = version == "HTTP/1.1";
    let mut length: Option<usize> = None;
    let mut chunked = false;
    loop {
        read_line(reader, &mut line)?;
        if line.is_empty() {
            break;
        }
        let header = String::from_utf8_lossy(&line);
        let Some((name, value)) = header.split_once(':') else {
            bail!("a header without a colon: {header:?}");
        };
        // Compared without allocating: this runs for every header of every answer measured.
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse()
                    .context("a Content-Length that is not a number")?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value
                .split(',')
                .any(|coding| coding.trim().eq_ignore_ascii_case("chunked"));
        } else if name.eq_ignore_ascii_case("connection") {
            if value.eq_ignore_ascii_case("close") {
                keep_alive = false;
            } else if value.eq_ignore_ascii_case("keep-alive") {
                keep_alive = true;
            }
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            read_line(reader, &mut line)?;
            let size = String::from_utf8_lossy(&line);
            let size = size.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size, 16)
                .with_context(|| format!("a chunk size that is not hexadecimal: {size:?}"))?;
            if size == 0 {
                // Trailers, up to the empty line.
                loop {
                    read_line(reader, &mut line)?;
                    if line.is_empty() {
                        break;
                    }
                }
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            read_line(reader, &mut line)?;
        }
    } else if let Some(length) = length {
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
    } else if status >= 200 && status != 204 && status != 304 {
        reader.read_to_end(&mut body)?;
        keep_alive = false;
    }
    Ok((Reply { status, body }, keep_alive))
}

/// Reads one line into `line`, without its CRLF (empty at the end of the stream too).
fn read_line(reader: &mut impl BufRead, line: &mut Vec<u8>) -> Result<()> {
    line.clear();
    let read = reader
        .take(MAX_LINE as u64)
        .read_until(b'\n', line)
        .context("reading the answer")?;
    if read == MAX_LINE && line.last() != Some(&b'\n') {
        bail!("a line longer than {MAX_LINE} bytes in the answer");
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn parse(raw: &str) -> (u16, String, bool) {
        let (reply, keep) = read_reply(&mut raw.as_bytes()).unwrap();
        (reply.status, String::from_utf8(reply.body).unwrap(), keep)
    }

    #[test]
    fn answers_framed_every_way_are_read_whole() {
        assert_eq!(
            parse("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhelloEXTRA"),
            (200, "hello".into(), true)
        );
        assert_eq!(
            parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n"),
            (200, "abcde".into(), true)
        );
        assert_eq!(
            parse("HTTP/1.1 400 Bad Request\r\nConnection: close\r\ncontent-length: 2\r\n\r\n{}"),
            (400, "{}".into(), false)
        );
        assert_eq!(
            parse("HTTP/1.0 200 OK\r\n\r\nuntil the end"),
            (200, "until the end".into(), false)
        );
        assert!(read_reply(&mut "".as_bytes()).is_err());
        assert!(read_reply(&mut "garbage\r\n\r\n".as_bytes()).is_err());
        assert!(
            read_reply(&mut "HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nshort".as_bytes())
                .is_err()
        );
    }

    /// Against a real socket: requests go out whole, a kept connection is reused, and one the
    /// server closed after answering is reopened for the next request.
    #[test]
    fn keeps_the_connection_and_reopens_it_when_closed() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let mut seen = Vec::new();
            // First connection: two requests, the second answered with `Connection: close`.
            for (answers, close) in [(2, true), (1, false)] {
                let (stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                for i in 0..answers {
                    let mut head = String::new();
                    let mut length = 0;
                    loop {
                        let mut line = String::new();
                        reader.read_line(&mut line).unwrap();
                        if line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap();
                        }
                        head.push_str(&line);
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    seen.push((head, String::from_utf8(body).unwrap()));
                    let last = close && i == answers - 1;
                    let connection = if last { "Connection: close\r\n" } else { "" };
                    write!(
                        writer,
                        "HTTP/1.1 200 OK\r\n{connection}Content-Length: 2\r\n\r\nok"
                    )
                    .unwrap();
                }
            }
            seen
        });
        let endpoint = Endpoint::new(&format!("http://127.0.0.1:{port}/base/"), Some("k".into()));
        let mut client = WireClient::new(&endpoint, Duration::from_secs(10)).unwrap();
        for i in 0..3 {
            let reply = client
                .post_json("/indexes/x/search", format!("{{\"q\":{i}}}").as_bytes())
                .unwrap();
            assert_eq!(
                (reply.status, reply.body.as_slice()),
                (200, b"ok".as_slice())
            );
        }
        let seen = server.join().unwrap();
        assert_eq!(seen.len(), 3);
        for (i, (head, body)) in seen.iter().enumerate() {
            assert!(
                head.starts_with("POST /base/indexes/x/search HTTP/1.1\r\n"),
                "{head}"
            );
            assert!(
                head.contains(&format!("Host: 127.0.0.1:{port}\r\n")),
                "{head}"
            );
            assert!(head.contains("Authorization: Bearer k\r\n"), "{head}");
            assert_eq!(body, &format!("{{\"q\":{i}}}"));
        }
        assert!(WireClient::new(
            &Endpoint::new("https://example.org", None),
            Duration::from_secs(1)
        )
        .is_none());
    }
}
