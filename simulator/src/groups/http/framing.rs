//! Reading an HTTP/1.1 response: the status line and headers, and how the
//! body is delimited (`Content-Length`, chunked, or the end of the
//! connection). Pure functions over bytes, so that no server can make the
//! module panic.

use fcm242d::generated::results::HttpCode;

/// The longest response head the module accepts.
pub const MAX_HEAD: usize = 64 * 1024;
/// The longest chunk-size line or trailer line.
const MAX_LINE: usize = 4096;
/// The most trailer bytes after the last chunk.
const MAX_TRAILER: usize = 64 * 1024;

/// What the response head says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code.
    pub status: u16,
    /// `Content-Length`, when given (and the body is not chunked).
    pub content_length: Option<u64>,
    /// `Transfer-Encoding: chunked`.
    pub chunked: bool,
}

impl ResponseHead {
    /// Whether a body follows the head of an answer to `method`.
    pub fn has_body(&self, head_request: bool) -> bool {
        !(head_request || self.status < 200 || self.status == 204 || self.status == 304)
    }
}

/// Parses a response head (without the blank line that ends it): 719
/// (response failed) when it is not an HTTP/1.x status line, 717 (data
/// decode error) for an unreadable header or `Content-Length`.
pub fn parse_head(head: &[u8]) -> Result<ResponseHead, HttpCode> {
    let text = std::str::from_utf8(head).map_err(|_| HttpCode::DecodeError)?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let (Some(version), Some(code)) = (parts.next(), parts.next()) else {
        return Err(HttpCode::ResponseFailed);
    };
    if !version.starts_with("HTTP/1.")
        || code.len() != 3
        || !code.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(HttpCode::ResponseFailed);
    }
    let status: u16 = code.parse().map_err(|_| HttpCode::ResponseFailed)?;
    let mut content_length: Option<u64> = None;
    let mut chunked = false;
    for line in lines {
        let (name, value) = line.split_once(':').ok_or(HttpCode::DecodeError)?;
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("Content-Length") {
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err(HttpCode::DecodeError);
            }
            let n: u64 = value.parse().map_err(|_| HttpCode::DecodeError)?;
            if content_length.is_some_and(|c| c != n) {
                return Err(HttpCode::DecodeError);
            }
            content_length = Some(n);
        } else if name.eq_ignore_ascii_case("Transfer-Encoding") {
            chunked |= value
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("chunked"));
        }
    }
    if chunked {
        content_length = None;
    }
    Ok(ResponseHead {
        status,
        content_length,
        chunked,
    })
}

/// The first position of `needle` in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Where a chunked body's decoder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunked {
    /// Reading a chunk-size line.
    Size,
    /// Inside a chunk: bytes left.
    Data(u64),
    /// After a chunk's data: CR LF bytes seen.
    DataEnd(u8),
    /// After the last chunk: reading trailer lines.
    Trailer,
    /// The body is complete.
    Done,
}

/// An incremental decoder of a chunked body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkDecoder {
    state: Chunked,
    line: Vec<u8>,
    trailer: usize,
}

impl Default for ChunkDecoder {
    fn default() -> Self {
        ChunkDecoder {
            state: Chunked::Size,
            line: Vec::new(),
            trailer: 0,
        }
    }
}

impl ChunkDecoder {
    /// Whether the last chunk and the trailer were read.
    pub fn done(&self) -> bool {
        self.state == Chunked::Done
    }

    /// Decodes `input`, appending the body's bytes to `out`. Stops at the
    /// end of the body (later bytes are not part of it). `Err` for a
    /// malformed body.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), ()> {
        let mut rest = input;
        while !rest.is_empty() {
            match self.state {
                Chunked::Done => return Ok(()),
                Chunked::Data(left) => {
                    let take = usize::try_from(left).unwrap_or(usize::MAX).min(rest.len());
                    let (data, after) = rest.split_at(take);
                    out.extend_from_slice(data);
                    rest = after;
                    let left = left - take as u64;
                    self.state = if left == 0 {
                        Chunked::DataEnd(0)
                    } else {
                        Chunked::Data(left)
                    };
                }
                Chunked::DataEnd(seen) => {
                    let (&b, after) = rest.split_first().ok_or(())?;
                    rest = after;
                    self.state = match (seen, b) {
                        (0, b'\r') => Chunked::DataEnd(1),
                        (1, b'\n') => Chunked::Size,
                        _ => return Err(()),
                    };
                }
                Chunked::Size | Chunked::Trailer => {
                    let (&b, after) = rest.split_first().ok_or(())?;
                    rest = after;
                    if b != b'\n' {
                        if self.line.len() >= MAX_LINE {
                            return Err(());
                        }
                        self.line.push(b);
                        continue;
                    }
                    let line = std::mem::take(&mut self.line);
                    let line = line.strip_suffix(b"\r").ok_or(())?;
                    self.state = if self.state == Chunked::Size {
                        match size(line).ok_or(())? {
                            0 => Chunked::Trailer,
                            n => Chunked::Data(n),
                        }
                    } else {
                        self.trailer += line.len() + 2;
                        if self.trailer > MAX_TRAILER {
                            return Err(());
                        }
                        if line.is_empty() {
                            Chunked::Done
                        } else {
                            Chunked::Trailer
                        }
                    };
                }
            }
        }
        Ok(())
    }
}

/// The size of a chunk-size line (hex digits, then optional extensions).
fn size(line: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(line).ok()?;
    let digits = text.split(';').next()?.trim();
    if digits.is_empty() || digits.len() > 15 {
        return None;
    }
    u64::from_str_radix(digits, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_parse() {
        let h = parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nServer: x").unwrap();
        assert_eq!(
            (h.status, h.content_length, h.chunked),
            (200, Some(12), false)
        );
        let h = parse_head(
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 3",
        )
        .unwrap();
        assert_eq!((h.status, h.content_length, h.chunked), (404, None, true));
        assert_eq!(parse_head(b"HTTP/1.0 204").unwrap().status, 204);
        assert_eq!(parse_head(b"SSH-2.0 hello"), Err(HttpCode::ResponseFailed));
        assert_eq!(
            parse_head(b"HTTP/1.1 2000 OK"),
            Err(HttpCode::ResponseFailed)
        );
        assert_eq!(
            parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: -1"),
            Err(HttpCode::DecodeError)
        );
        assert_eq!(
            parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2"),
            Err(HttpCode::DecodeError)
        );
        assert_eq!(
            parse_head(b"HTTP/1.1 200 OK\r\nbroken"),
            Err(HttpCode::DecodeError)
        );
        assert_eq!(parse_head(b"\xff\xfe"), Err(HttpCode::DecodeError));
    }

    #[test]
    fn chunked_bodies_decode_in_any_pieces() {
        let wire = b"5;x=y\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nTrailer: 1\r\n\r\nEXTRA";
        for step in 1..wire.len() {
            let mut d = ChunkDecoder::default();
            let mut out = Vec::new();
            for piece in wire.chunks(step) {
                d.feed(piece, &mut out).unwrap();
            }
            assert!(d.done());
            assert_eq!(out, b"hello world");
        }
    }

    #[test]
    fn malformed_chunked_bodies_fail() {
        for bad in [&b"zz\r\n"[..], b"5\r\nhelloXX", b"5\nhello\r\n", b"\r\n"] {
            let mut d = ChunkDecoder::default();
            let mut out = Vec::new();
            assert!(d.feed(bad, &mut out).is_err(), "{bad:?}");
        }
    }
}
