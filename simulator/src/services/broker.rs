//! The embedded MQTT broker (placeholder: closes every connection).

use super::Conn;

/// Serves one MQTT connection.
pub fn handle(_conn: Box<dyn Conn>) {}
