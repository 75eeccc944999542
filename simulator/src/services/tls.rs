//! TLS for the embedded servers (placeholder: no TLS yet, so TLS services
//! refuse every connection).

use std::io;
use std::net::TcpStream;

use super::Conn;

/// Runs the server side of a TLS handshake on `stream`; with `client_auth`
/// the server asks for a client certificate signed by the embedded CA.
pub fn accept(_stream: TcpStream, _client_auth: bool) -> io::Result<Box<dyn Conn>> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "TLS is not implemented yet",
    ))
}
