//! The embedded HTTP server (placeholder: closes every connection).

use super::Conn;

/// Serves one HTTP connection.
pub fn handle(_conn: Box<dyn Conn>) {}
