//! The embedded HTTP/1.1 server: the manual's example servers, written by
//! hand over a [`Conn`] (a TCP stream, or a TLS session the caller already
//! unwrapped).
//!
//! # Protocol
//!
//! Request line and headers (at most [`MAX_HEAD`] bytes and [`MAX_HEADERS`]
//! lines: more gets `431`), a body by `Content-Length` or
//! `Transfer-Encoding: chunked` (at most [`MAX_BODY`] bytes: more gets
//! `413`), `Expect: 100-continue`, keep-alive (HTTP/1.1 unless the client
//! sends `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`)
//! and `HEAD`. A malformed request gets `400` and the connection closes.
//!
//! The manual uses `192.0.2.2:8011` both as an SSL echo server and as an
//! HTTPS server, so a connection whose first bytes are not an HTTP method
//! followed by a space is echoed (every byte, the first ones included). The
//! server decides as soon as the bytes received disagree with every method
//! name, so a client that sends `Test data from SSL` gets its echo at once.
//!
//! An HTTPS endpoint may have a greeting ([`handle_secure`]): a client that
//! sends nothing for [`GREETING_AFTER`] after the handshake gets it, and the
//! connection is echoed from then on. The manual's `ssl_client_transparent_receive`
//! example opens `192.0.2.2:8011` and receives data without sending any; an
//! HTTP client sends its request at once and never sees the greeting.
//!
//! # Resources
//!
//! - `GET /` (any host): the page of the manual's GET examples. Over plain
//!   HTTP ([`handle`]) it carries the headers of the `http_get` example
//!   (`Server: nginx`, `Content-Length: 601710`, `Connection: close`, …) and
//!   a 601710-byte HTML body; over TLS ([`handle_secure`]) those of the
//!   `https_get` example (`Server: Tengine/2.1.0`, `Content-Length: 21451`,
//!   `Connection: keep-alive`) and a 21451-byte body. Both examples print
//!   `......<CR><LF>` after these headers: the server sent more header
//!   lines, which the manual leaves out. The simulated servers send one
//!   more each (`Accept-Ranges: bytes`, `Vary: Accept-Encoding`), so that
//!   what the examples print is found as printed. The dates are the
//!   manual's: the simulated server's clock stands still. The example's
//!   `+QHTTPGET: 0,200,21472` disagrees with the header it prints (errata
//!   SCN-25); no server can send both, and the header is what the module
//!   reports, so `+QHTTPGET` says 21451 here.
//! - `POST`/`PUT /DEMOWebServices2.8/Service.asmx/Echo` (`GET` with a
//!   query): the manual's echo web service. It answers the form field
//!   `Message` (or the whole body when the form has none) as
//!   `<string …>Message='<text>' ASCII:<code> <code> … </string>`, the
//!   namespace printed as the manual prints it (errata SCN-24).
//! - `POST`/`PUT /processorder.php` (`GET` with a query): the manual's
//!   order page, filled from the form fields `Message`, `Appleqty` and
//!   `Orangeqty`. The `POST` page ends `</body> </html>` and the `PUT` page
//!   `</body>\n</html>`, as the two examples print them (errata SCN-27).
//!   The printed page is 279 bytes but both examples report 285: the page
//!   goes on after `</html>` with [`ORDER_PAGE_TRAILER`] (three blank
//!   lines, 6 bytes, such as a PHP script leaves after its closing tag),
//!   which the manual's print does not show. So the examples'
//!   `+QHTTPPOST: 0,200,285` and `+QHTTPPUT: 0,200,285` come out as
//!   printed, and the printed page is what `AT+QHTTPREAD` outputs first.
//! - `/echo` (any method): the request body, byte for byte
//!   (`application/octet-stream`).
//! - `/request` (any method): the request exactly as received — request
//!   line, headers, blank line, then the body as decoded (`text/plain`).
//! - `/basic-auth/<user>/<password>`: `200` with the user's name when the
//!   request carries `Authorization: Basic` with those credentials, else
//!   `401` with `WWW-Authenticate: Basic realm="simulator"`. This is the
//!   only path that requires authentication.
//! - `/status/<code>`: an empty answer with that status (200–599).
//! - `/chunked/<n>`: `n` bytes (at most [`MAX_BODY`]) sent with
//!   `Transfer-Encoding: chunked` and no `Content-Length`.
//! - `/delay/<s>`: `200` after `s` seconds (at most [`MAX_DELAY_S`]).
//! - `/ota/fcm242d.bin`, `/ota/fgm842d.bin`: firmware images
//!   ([`FIRMWARE_SIZE`] bytes) for `AT+QWLANOTA`.
//! - Anything else: `404`.
//!
//! # Conditions
//!
//! Paths on which the server misbehaves, for the provocation scenarios
//! (whatever the method): `/stall` never answers; `/close` closes without
//! answering; `/garbage` answers something that is not HTTP; `/bad-header`
//! a head whose `Content-Length` is no number; `/truncated` a head that
//! announces 100 bytes, 9 of them, and closes; `/slow-body` the same head
//! and 9 bytes, then nothing; `/bad-chunked` a chunked body with a chunk
//! size that is no hex number; `/slow-head` the status line and one header,
//! then nothing; `/huge-head` a head of more than [`HUGE_HEAD`] bytes (a
//! long header line repeated), then nothing.

use std::io::{self, Read, Write};
use std::time::Duration;

use super::Conn;

/// The longest request head (request line and headers) accepted.
pub const MAX_HEAD: usize = 64 * 1024;
/// The most header lines a request may carry.
pub const MAX_HEADERS: usize = 100;
/// The longest request body accepted (and the longest `/chunked/<n>`).
pub const MAX_BODY: usize = 16 * 1024 * 1024;
/// The longest wait `/delay/<s>` makes.
pub const MAX_DELAY_S: u64 = 120;
/// How long a client of an HTTPS endpoint with a greeting may stay silent
/// after the handshake before the server greets it. An HTTP client sends
/// its request at once; half a second is far longer than that takes on the
/// loopback, and short enough for a person (or a test) waiting for data.
pub const GREETING_AFTER: Duration = Duration::from_millis(500);
/// What the order page sends after `</html>`: the manual's examples print
/// 279 bytes of page and report 285 (errata SCN-27); six bytes of blank
/// lines make up the difference without changing what is printed.
pub const ORDER_PAGE_TRAILER: &[u8] = b"\r\n\r\n\r\n";

/// Method names a request can start with; anything else is echoed.
const METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT",
];
/// The longest chunk-size line of a chunked body.
const MAX_CHUNK_LINE: usize = 1024;
/// The size of the chunks of a chunked answer.
const CHUNK: usize = 4096;
/// The length of the page of the manual's plain-HTTP GET example.
const PLAIN_PAGE_LENGTH: usize = 601_710;
/// The length of the page of the manual's HTTPS GET example (its header says
/// 21451; its `+QHTTPGET` says 21472, errata SCN-25).
const SECURE_PAGE_LENGTH: usize = 21_451;

/// Serves one connection of a plain-HTTP endpoint.
pub fn handle(conn: Box<dyn Conn>) {
    serve(conn, Flavour::Plain, None);
}

/// Serves one connection of an HTTPS endpoint (TLS already unwrapped).
/// With a `greeting`, a client that sends nothing for [`GREETING_AFTER`]
/// gets it, and the connection is echoed from then on.
pub fn handle_secure(conn: Box<dyn Conn>, greeting: Option<&str>) {
    serve(conn, Flavour::Secure, greeting);
}

/// Which of the manual's servers answers `GET /`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavour {
    /// The nginx server of the plain-HTTP example.
    Plain,
    /// The Tengine server of the HTTPS example.
    Secure,
}

fn serve(conn: Box<dyn Conn>, flavour: Flavour, greeting: Option<&str>) {
    let mut reader = Reader {
        conn,
        buf: Vec::new(),
    };
    if let Some(greeting) = greeting {
        match reader.first_bytes(GREETING_AFTER) {
            Ok(true) => {}
            Ok(false) => {
                // A silent client is not an HTTP client: greet it, then
                // echo what it sends.
                let mut conn = reader.conn;
                if conn
                    .write_all(greeting.as_bytes())
                    .and_then(|_| conn.flush())
                    .is_ok()
                {
                    super::echo::handle(conn, None, false);
                }
                return;
            }
            Err(_) => return,
        }
    }
    match reader.sniff() {
        Ok(true) => http(reader, flavour),
        Ok(false) => {
            let Reader { mut conn, buf } = reader;
            if conn.write_all(&buf).and_then(|_| conn.flush()).is_ok() {
                super::echo::handle(conn, None, false);
            }
        }
        Err(_) => {}
    }
}

// ------------------------------------------------------------------ reading

/// A connection and the bytes read from it but not consumed yet.
struct Reader {
    conn: Box<dyn Conn>,
    buf: Vec<u8>,
}

/// Why a request could not be read.
#[derive(Debug)]
enum Failure {
    /// The connection broke or closed in the middle.
    Io,
    /// The request is malformed (`400`).
    Bad,
    /// The head is too long or has too many lines (`431`).
    HeadTooLarge,
    /// The body is too long (`413`).
    BodyTooLarge,
}

impl From<io::Error> for Failure {
    fn from(_: io::Error) -> Self {
        Failure::Io
    }
}

impl Reader {
    /// Reads more bytes; `Ok(0)` at the end of the stream.
    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.conn.read(&mut chunk) {
                Ok(n) => {
                    self.buf
                        .extend_from_slice(chunk.get(..n).unwrap_or_default());
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Waits at most `patience` for the client's first bytes: `Ok(true)`
    /// once some came (they stay in the buffer), `Ok(false)` when the
    /// client stayed silent. A connection without a socket to time out on
    /// counts as one whose client spoke (the server then just reads on).
    fn first_bytes(&mut self, patience: Duration) -> io::Result<bool> {
        let Some(socket) = super::socket_of(&*self.conn) else {
            return Ok(true);
        };
        // The server is about to act (greet) if nothing comes: its wait is
        // work for the world, not idleness (see `crate::activity`).
        let _acting = super::activity_of(&*self.conn).map(|a| a.busy());
        socket.set_read_timeout(Some(patience))?;
        let spoke = match self.fill() {
            Ok(0) => Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(_) => Ok(true),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(e),
        };
        socket.set_read_timeout(None)?;
        spoke
    }

    /// Reads until the first bytes show whether this is an HTTP request
    /// (`true`) or something to echo (`false`). A stream that ends before
    /// deciding is an error (nothing to answer).
    fn sniff(&mut self) -> io::Result<bool> {
        loop {
            if let Some(http) = classify(&self.buf) {
                return Ok(http);
            }
            if self.fill()? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// The next request head (without its blank line), or `None` when the
    /// client closed the connection between requests.
    fn head(&mut self) -> Result<Option<Vec<u8>>, Failure> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                if end > MAX_HEAD {
                    return Err(Failure::HeadTooLarge);
                }
                let head = self.buf.get(..end).unwrap_or_default().to_vec();
                self.buf.drain(..(end + 4).min(self.buf.len()));
                return Ok(Some(head));
            }
            if self.buf.len() > MAX_HEAD + 4 {
                return Err(Failure::HeadTooLarge);
            }
            if self.fill()? == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(Failure::Io)
                };
            }
        }
    }

    /// Exactly `n` bytes.
    fn take(&mut self, n: usize) -> Result<Vec<u8>, Failure> {
        while self.buf.len() < n {
            if self.fill()? == 0 {
                return Err(Failure::Io);
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    /// One CR LF-ended line (without its ending), at most `max` bytes.
    fn line(&mut self, max: usize) -> Result<Vec<u8>, Failure> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n") {
                if end > max {
                    return Err(Failure::Bad);
                }
                let line = self.buf.get(..end).unwrap_or_default().to_vec();
                self.buf.drain(..(end + 2).min(self.buf.len()));
                return Ok(line);
            }
            if self.buf.len() > max + 2 {
                return Err(Failure::Bad);
            }
            if self.fill()? == 0 {
                return Err(Failure::Io);
            }
        }
    }

    /// A chunked body, decoded; trailer fields are read and dropped.
    fn chunked(&mut self) -> Result<Vec<u8>, Failure> {
        let mut body = Vec::new();
        loop {
            let line = self.line(MAX_CHUNK_LINE)?;
            let size = chunk_size(&line).ok_or(Failure::Bad)?;
            if size == 0 {
                // Trailer fields, up to the blank line.
                let mut trailers = 0;
                while !self.line(MAX_HEAD)?.is_empty() {
                    trailers += 1;
                    if trailers > MAX_HEADERS {
                        return Err(Failure::HeadTooLarge);
                    }
                }
                return Ok(body);
            }
            if body.len().saturating_add(size) > MAX_BODY {
                return Err(Failure::BodyTooLarge);
            }
            body.extend(self.take(size)?);
            if !self.line(0)?.is_empty() {
                return Err(Failure::Bad);
            }
        }
    }
}

/// Whether `bytes` start an HTTP request: `Some(true)` once they begin with
/// a method and a space, `Some(false)` once they cannot, `None` while they
/// are still a prefix of some method and space.
fn classify(bytes: &[u8]) -> Option<bool> {
    let mut undecided = false;
    for method in METHODS {
        let pattern = format!("{method} ");
        if bytes.starts_with(pattern.as_bytes()) {
            return Some(true);
        }
        if pattern.as_bytes().starts_with(bytes) {
            undecided = true;
        }
    }
    if undecided {
        None
    } else {
        Some(false)
    }
}

/// The first position of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The size of a chunk-size line (hex digits, then optional extensions).
fn chunk_size(line: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(line).ok()?;
    let digits = text.split(';').next()?.trim();
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    usize::from_str_radix(digits, 16).ok()
}

// ------------------------------------------------------------------ requests

/// A parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Request {
    method: String,
    /// The request target as sent (path and query).
    target: String,
    version: String,
    headers: Vec<(String, String)>,
    /// The head as received (for `/request`).
    raw_head: Vec<u8>,
}

impl Request {
    /// The value of the first header named `name` (case-insensitive).
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of the headers named `name`, joined by commas.
    fn list(&self, name: &str) -> String {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Whether a comma-separated header lists `token`.
    fn lists(&self, name: &str, token: &str) -> bool {
        self.list(name)
            .split(',')
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// Whether the client wants the connection kept after this request.
    fn keep_alive(&self) -> bool {
        if self.lists("Connection", "close") {
            return false;
        }
        self.version == "HTTP/1.1" || self.lists("Connection", "keep-alive")
    }

    /// The path (an absolute-form target loses its scheme and authority).
    fn path(&self) -> &str {
        let path = self.target.split('?').next().unwrap_or_default();
        let without_scheme = ["http://", "https://"].iter().find_map(|scheme| {
            path.get(..scheme.len())
                .filter(|p| p.eq_ignore_ascii_case(scheme))
                .map(|_| path.get(scheme.len()..).unwrap_or_default())
        });
        match without_scheme {
            Some(rest) => rest.find('/').map_or("/", |i| rest.get(i..).unwrap_or("/")),
            None => path,
        }
    }

    fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }
}

/// Parses a request head; `None` when it is malformed.
fn parse_request(head: &[u8]) -> Result<Request, Failure> {
    let text = std::str::from_utf8(head).map_err(|_| Failure::Bad)?;
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (first.next(), first.next(), first.next(), first.next())
    else {
        return Err(Failure::Bad);
    };
    if !METHODS.contains(&method) || target.is_empty() || !version.starts_with("HTTP/1.") {
        return Err(Failure::Bad);
    }
    let mut headers = Vec::new();
    for line in lines {
        // No obsolete line folding, no field without a colon.
        if line.starts_with([' ', '\t']) {
            return Err(Failure::Bad);
        }
        let (name, value) = line.split_once(':').ok_or(Failure::Bad)?;
        if name.is_empty() || name.contains([' ', '\t']) {
            return Err(Failure::Bad);
        }
        headers.push((name.to_string(), value.trim().to_string()));
        if headers.len() > MAX_HEADERS {
            return Err(Failure::HeadTooLarge);
        }
    }
    Ok(Request {
        method: method.to_string(),
        target: target.to_string(),
        version: version.to_string(),
        headers,
        raw_head: head.to_vec(),
    })
}

/// Reads the body `request` announces.
fn body(request: &Request, reader: &mut Reader) -> Result<Vec<u8>, Failure> {
    if request.header("Transfer-Encoding").is_some() {
        return if request.lists("Transfer-Encoding", "chunked") {
            reader.chunked()
        } else {
            Err(Failure::Bad)
        };
    }
    let lengths: Vec<&str> = request
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("Content-Length"))
        .map(|(_, v)| v.as_str())
        .collect();
    let Some(first) = lengths.first() else {
        return Ok(Vec::new());
    };
    if lengths.iter().any(|l| l != first) || !first.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Failure::Bad);
    }
    let length: u64 = first.parse().map_err(|_| Failure::BodyTooLarge)?;
    let length = usize::try_from(length).map_err(|_| Failure::BodyTooLarge)?;
    if length > MAX_BODY {
        return Err(Failure::BodyTooLarge);
    }
    reader.take(length)
}

// ------------------------------------------------------------------ answers

/// An answer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Response {
    status: u16,
    /// Header lines in order. `Content-Length` is added unless present (or
    /// the body is chunked).
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Send the body with `Transfer-Encoding: chunked`.
    chunked: bool,
}

impl Response {
    /// An answer with the simulator's usual headers.
    fn new(status: u16, content_type: &str, body: Vec<u8>) -> Response {
        Response {
            status,
            headers: vec![
                ("Server".into(), "fcm242d-sim".into()),
                ("Content-Type".into(), content_type.into()),
            ],
            body,
            chunked: false,
        }
    }

    fn text(status: u16, text: &str) -> Response {
        Response::new(status, "text/plain", text.as_bytes().to_vec())
    }

    fn with(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the answer itself says the connection closes.
    fn closes(&self) -> bool {
        self.header("Connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }

    /// The bytes on the wire; `head_only` for `HEAD`. `close` adds
    /// `Connection: close` when the answer does not carry a `Connection`.
    fn wire(&self, head_only: bool, close: bool) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status)).into_bytes();
        for (name, value) in &self.headers {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        if self.chunked {
            out.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
        } else if self.header("Content-Length").is_none() {
            out.extend_from_slice(format!("Content-Length: {}\r\n", self.body.len()).as_bytes());
        }
        if close && self.header("Connection").is_none() {
            out.extend_from_slice(b"Connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        if head_only {
            return out;
        }
        if self.chunked {
            for chunk in self.body.chunks(CHUNK) {
                out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                out.extend_from_slice(chunk);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
        } else {
            out.extend_from_slice(&self.body);
        }
        out
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// Serves requests until the client or an answer closes the connection.
fn http(mut reader: Reader, flavour: Flavour) {
    loop {
        let request = match reader.head() {
            Ok(Some(head)) => parse_request(&head),
            Ok(None) | Err(Failure::Io) => return,
            Err(e) => Err(e),
        };
        let request = match request {
            Ok(r) => r,
            Err(e) => return refuse(&mut reader, e),
        };
        if request.lists("Expect", "100-continue")
            && reader
                .conn
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .and_then(|_| reader.conn.flush())
                .is_err()
        {
            return;
        }
        let body = match body(&request, &mut reader) {
            Ok(b) => b,
            Err(e) => return refuse(&mut reader, e),
        };
        if let Some(misbehaviour) = condition(&request) {
            return misbehave(reader, misbehaviour);
        }
        let response = route(&request, &body, flavour);
        let close = !request.keep_alive() || response.closes();
        let bytes = response.wire(request.method == "HEAD", close);
        if reader
            .conn
            .write_all(&bytes)
            .and_then(|_| reader.conn.flush())
            .is_err()
            || close
        {
            return;
        }
    }
}

/// How a condition path of the server misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Misbehaviour {
    /// Never answers: reads and drops until the client closes.
    Stall,
    /// Closes without an answer.
    Close,
    /// Sends these bytes (something that is no HTTP answer, a malformed
    /// head, a head and part of its body) and closes.
    SendAndClose(&'static [u8]),
    /// Sends these bytes, then stalls.
    SendAndStall(&'static [u8]),
    /// Sends a head longer than [`HUGE_HEAD`] that never ends, then stalls.
    HugeHead,
}

/// Bytes of the `/huge-head` answer: more than a module keeps of a
/// response head (see `groups::http::framing::MAX_HEAD`, 64 KiB).
pub const HUGE_HEAD: usize = 96 * 1024;

/// The misbehaviour a request's path asks for (see the module
/// documentation, "Conditions").
fn condition(request: &Request) -> Option<Misbehaviour> {
    Some(match request.path().trim_start_matches('/') {
        "stall" => Misbehaviour::Stall,
        "close" => Misbehaviour::Close,
        "garbage" => Misbehaviour::SendAndClose(b"SSH-2.0-OpenSSH_9.6\r\n\r\n"),
        "bad-header" => Misbehaviour::SendAndClose(
            b"HTTP/1.1 200 OK\r\nContent-Length: twelve\r\nConnection: close\r\n\r\n",
        ),
        "truncated" => Misbehaviour::SendAndClose(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nonly part",
        ),
        "slow-body" => Misbehaviour::SendAndStall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nonly part",
        ),
        "slow-head" => {
            Misbehaviour::SendAndStall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n")
        }
        "huge-head" => Misbehaviour::HugeHead,
        "bad-chunked" => Misbehaviour::SendAndClose(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n",
        ),
        _ => return None,
    })
}

/// Misbehaves on the connection of `reader`.
fn misbehave(reader: Reader, how: Misbehaviour) {
    let mut conn = reader.conn;
    match how {
        Misbehaviour::Stall => super::echo::stall(conn),
        Misbehaviour::Close => {}
        Misbehaviour::SendAndClose(bytes) => {
            let _ = conn.write_all(bytes).and_then(|_| conn.flush());
        }
        Misbehaviour::SendAndStall(bytes) => {
            if conn.write_all(bytes).and_then(|_| conn.flush()).is_ok() {
                super::echo::stall(conn);
            }
        }
        Misbehaviour::HugeHead => {
            let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
            let filler = format!("X-Filler: {}\r\n", "a".repeat(1000));
            while head.len() <= HUGE_HEAD {
                head.extend_from_slice(filler.as_bytes());
            }
            // The module gives up once it cannot keep more; what it does
            // not read is lost with the connection.
            if conn.write_all(&head).and_then(|_| conn.flush()).is_ok() {
                super::echo::stall(conn);
            }
        }
    }
}

/// The firmware images the server offers under `/ota/` (for
/// `AT+QWLANOTA`): one per module model.
pub const FIRMWARE_IMAGES: &[&str] = &["fcm242d.bin", "fgm842d.bin"];
/// The size of a firmware image (bytes).
pub const FIRMWARE_SIZE: usize = 256 * 1024;

/// Whether `path` names a firmware image of the server.
pub fn has_firmware(path: &str) -> bool {
    path.trim_start_matches('/')
        .strip_prefix("ota/")
        .is_some_and(|name| FIRMWARE_IMAGES.contains(&name))
}

/// Answers a request that could not be read (if the connection still
/// works), then closes.
fn refuse(reader: &mut Reader, failure: Failure) {
    let response = match failure {
        Failure::Io => return,
        Failure::Bad => Response::text(400, "bad request\n"),
        Failure::HeadTooLarge => Response::text(431, "request head too large\n"),
        Failure::BodyTooLarge => Response::text(413, "request body too large\n"),
    };
    let _ = reader.conn.write_all(&response.wire(false, true));
    let _ = reader.conn.flush();
}

/// The answer to a request.
fn route(request: &Request, body: &[u8], flavour: Flavour) -> Response {
    let path = request.path();
    let method = request.method.as_str();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let form_source = if method == "GET" || method == "HEAD" {
        request.query().as_bytes()
    } else {
        body
    };
    match segments.as_slice() {
        [""] | ["index.html"] => match method {
            "GET" | "HEAD" => front_page(flavour),
            _ => Response::text(405, "method not allowed\n").with("Allow", "GET, HEAD"),
        },
        ["DEMOWebServices2.8", "Service.asmx", "Echo"] => echo_service(form_source),
        ["processorder.php"] => order_page(form_source, method == "PUT"),
        ["echo"] => Response::new(200, "application/octet-stream", body.to_vec()),
        ["request"] => {
            let mut seen = request.raw_head.clone();
            seen.extend_from_slice(b"\r\n\r\n");
            seen.extend_from_slice(body);
            Response::new(200, "text/plain", seen)
        }
        ["basic-auth", user, password] => basic_auth(request, user, password),
        ["ota", _] if has_firmware(path) => match method {
            "GET" | "HEAD" => {
                Response::new(200, "application/octet-stream", pattern(FIRMWARE_SIZE))
            }
            _ => Response::text(405, "method not allowed\n").with("Allow", "GET, HEAD"),
        },
        ["status", code] => match code.parse::<u16>() {
            Ok(c) if (200..=599).contains(&c) => Response::new(c, "text/plain", Vec::new()),
            _ => Response::text(400, "status must be 200-599\n"),
        },
        ["chunked", n] => match n.parse::<usize>() {
            Ok(n) if n <= MAX_BODY => Response {
                chunked: true,
                ..Response::new(200, "application/octet-stream", pattern(n))
            },
            _ => Response::text(400, "length too large\n"),
        },
        ["delay", s] => match s.parse::<u64>() {
            Ok(s) if s <= MAX_DELAY_S => {
                std::thread::sleep(Duration::from_secs(s));
                Response::text(200, "delayed\n")
            }
            _ => Response::text(400, "delay too long\n"),
        },
        _ => Response::text(404, "not found\n"),
    }
}

/// `n` bytes cycling through every byte value.
fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 256) as u8).collect()
}

/// The page of the manual's GET examples.
fn front_page(flavour: Flavour) -> Response {
    let (headers, length): (&[(&str, &str)], usize) = match flavour {
        Flavour::Plain => (
            &[
                ("Server", "nginx"),
                ("Date", "Tue, 12 Sep 2017 05:57:29 GMT"),
                ("Content-Type", "text/html"),
                ("Content-Length", "601710"),
                ("Connection", "close"),
                ("Last-Modified", "Tue, 12 Sep 2017 05:54:48 GMT"),
                ("Vary", "Accept-Encoding"),
                ("Expires", "Tue, 12 Sep 2017 05:58:28 GMT"),
                ("Cache-Control", "max-age=60"),
                ("X-Powered-By", "shci_v1.03"),
                ("Age", "1"),
                // The manual elides header lines here (`......`).
                ("Accept-Ranges", "bytes"),
            ],
            PLAIN_PAGE_LENGTH,
        ),
        Flavour::Secure => (
            &[
                ("Server", "Tengine/2.1.0"),
                ("Date", "Tue, 12 Sep 2017 05:54:34 GMT"),
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", "21451"),
                ("Connection", "keep-alive"),
                // The manual elides header lines here (`......`).
                ("Vary", "Accept-Encoding"),
            ],
            SECURE_PAGE_LENGTH,
        ),
    };
    Response {
        status: 200,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body: page(length),
        chunked: false,
    }
}

/// A deterministic HTML page of exactly `length` bytes.
fn page(length: usize) -> Vec<u8> {
    let head = "<!DOCTYPE html>\n<html>\n<head>\n<title>Example Domain</title>\n</head>\n<body>\n";
    let tail = "</body>\n</html>\n";
    let mut out = head.as_bytes().to_vec();
    let mut n = 1;
    loop {
        let line = format!("<p>Line {n} of the simulated example page.</p>\n");
        if out.len() + line.len() + tail.len() > length {
            break;
        }
        out.extend_from_slice(line.as_bytes());
        n += 1;
    }
    while out.len() + tail.len() < length {
        out.push(b' ');
    }
    out.extend_from_slice(tail.as_bytes());
    out.truncate(length);
    out
}

/// The manual's echo web service (`Service.asmx/Echo`).
fn echo_service(form: &[u8]) -> Response {
    let fields = parse_form(form);
    let message = field(&fields, "Message").map_or_else(|| form.to_vec(), <[u8]>::to_vec);
    let mut body = b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n".to_vec();
    body.extend_from_slice(b"<string xmlns=\"httpHTTPs://example.com/webservices2.3\">Message='");
    body.extend(escape(&message));
    body.extend_from_slice(b"' ASCII:");
    for b in &message {
        body.extend_from_slice(format!("{b} ").as_bytes());
    }
    body.extend_from_slice(b"</string>");
    Response::new(200, "text/xml; charset=utf-8", body)
}

/// The manual's order page (`processorder.php`).
fn order_page(form: &[u8], put: bool) -> Response {
    let fields = parse_form(form);
    let value = |name: &str| escape(field(&fields, name).unwrap_or_default());
    let mut body = b"<html>\n<head>\n<title>Quectel's Auto Parts - Order Results</title>\n</head>\n<body>\n<h1>Quectel's Auto Parts</h1>\n<h2>Order Results</h2>\n<p>Order processed at 02:49, 27th December</p><p>Your order is as follows: </p>".to_vec();
    body.extend(value("Message"));
    body.extend_from_slice(b" message<br />");
    body.extend(value("Appleqty"));
    body.extend_from_slice(b" apple<br />");
    body.extend(value("Orangeqty"));
    body.extend_from_slice(b" orange<br /></body>");
    body.extend_from_slice(if put { b"\n" } else { b" " });
    body.extend_from_slice(b"</html>");
    body.extend_from_slice(ORDER_PAGE_TRAILER);
    Response::new(200, "text/html", body)
}

/// `/basic-auth/<user>/<password>`.
fn basic_auth(request: &Request, user: &str, password: &str) -> Response {
    let expected = format!("{user}:{password}");
    let given = request
        .header("Authorization")
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| base64_decode(b64.trim()));
    if given.as_deref() == Some(expected.as_bytes()) {
        Response::text(200, &format!("authenticated as {user}\n"))
    } else {
        Response::text(401, "authentication required\n")
            .with("WWW-Authenticate", "Basic realm=\"simulator\"")
    }
}

/// The fields of an `application/x-www-form-urlencoded` body.
fn parse_form(form: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    form.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let mut parts = pair.splitn(2, |&b| b == b'=');
            let name = parts.next().unwrap_or_default();
            let value = parts.next().unwrap_or_default();
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

fn field<'a>(fields: &'a [(Vec<u8>, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    fields
        .iter()
        .find(|(n, _)| n == name.as_bytes())
        .map(|(_, v)| v.as_slice())
}

/// Decodes `%XX` and `+` (a malformed escape stays as it is).
fn percent_decode(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        let hex = text
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Escapes the bytes XML and HTML give a meaning.
fn escape(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for &b in text {
        match b {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            _ => out.push(b),
        }
    }
    out
}

/// Decodes standard base64 (with or without padding); `None` when invalid.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.bytes().filter(|&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_bytes_decide_between_http_and_echo() {
        assert_eq!(classify(b""), None);
        assert_eq!(classify(b"G"), None);
        assert_eq!(classify(b"GET"), None);
        assert_eq!(classify(b"GET "), Some(true));
        assert_eq!(classify(b"POST /x"), Some(true));
        assert_eq!(classify(b"T"), None);
        assert_eq!(classify(b"Te"), Some(false));
        assert_eq!(classify(b"GETX"), Some(false));
        assert_eq!(classify(b"\x16\x03\x01"), Some(false));
    }

    #[test]
    fn the_manuals_bodies_have_the_manuals_lengths() {
        let echo = echo_service(b"Message=HelloQuectel");
        assert_eq!(echo.body.len(), 177);
        // https_post and https_put: 285 bytes, the printed page first.
        let form = b"Message=1111&Appleqty=2222&Orangeqty=3333&find=1";
        for (put, end) in [(false, " "), (true, "\n")] {
            let order = order_page(form, put);
            assert_eq!(order.body.len(), 285);
            let printed = format!("<html>\n<head>\n<title>Quectel's Auto Parts - Order Results</title>\n</head>\n<body>\n<h1>Quectel's Auto Parts</h1>\n<h2>Order Results</h2>\n<p>Order processed at 02:49, 27th December</p><p>Your order is as follows: </p>1111 message<br />2222 apple<br />3333 orange<br /></body>{end}</html>");
            assert_eq!(printed.len(), 279);
            assert!(order.body.starts_with(printed.as_bytes()));
        }
        assert_eq!(page(PLAIN_PAGE_LENGTH).len(), PLAIN_PAGE_LENGTH);
        assert_eq!(page(SECURE_PAGE_LENGTH).len(), SECURE_PAGE_LENGTH);
        assert_eq!(page(10).len(), 10);
    }

    #[test]
    fn base64_decodes() {
        assert_eq!(base64_decode("dXNlcjpwYXNz").unwrap(), b"user:pass");
        assert_eq!(base64_decode("YQ==").unwrap(), b"a");
        assert!(base64_decode("a*b").is_none());
    }

    #[test]
    fn chunk_sizes_parse_or_fail() {
        assert_eq!(chunk_size(b"1a"), Some(26));
        assert_eq!(chunk_size(b"10;ext=1"), Some(16));
        assert_eq!(chunk_size(b""), None);
        assert_eq!(chunk_size(b"zz"), None);
        assert_eq!(chunk_size(b"fffffffff"), None);
    }
}
