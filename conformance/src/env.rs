//! What the module needs from the outside world for set-ups and scenarios:
//! an access point, servers, a BLE peer. With the built-in simulator it is
//! filled in automatically; for a real module it comes from an environment
//! file (YAML):
//!
//! ```yaml
//! wifi_ssid: lab-ap
//! wifi_key: secret-key
//! tcp_echo: 192.168.1.10:7
//! tls_echo: 192.168.1.10:8010
//! mqtt_broker: 192.168.1.10:1883
//! http_url: http://192.168.1.10/
//! ble_peer: 58d391010203
//! ble_peer_type: 0
//! placeholders: {ca_cert_pem: "..."}
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

/// The environment of a run.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Env {
    /// SSID of an access point the module can join.
    pub wifi_ssid: String,
    /// Its key (masked in reports).
    pub wifi_key: String,
    /// A TCP echo server `host:port`.
    pub tcp_echo: String,
    /// A TLS echo server `host:port`.
    pub tls_echo: String,
    /// An MQTT broker `host:port`.
    pub mqtt_broker: String,
    /// An HTTP URL that answers GET.
    pub http_url: String,
    /// A connectable BLE peer's address (12 hex digits).
    pub ble_peer: String,
    /// Its address type (0 public, 1 random).
    pub ble_peer_type: i64,
    /// Values for scenario placeholders (`${name}`), overriding the manual's.
    pub placeholders: BTreeMap<String, String>,
}

impl Default for Env {
    /// The built-in simulator's world.
    fn default() -> Self {
        let mut placeholders = BTreeMap::new();
        let pems = [
            ("ca_cert", fcm242d_sim::services::tls::CA_PEM),
            ("client_cert", fcm242d_sim::services::tls::CLIENT_CERT_PEM),
            ("client_key", fcm242d_sim::services::tls::CLIENT_KEY_PEM),
        ];
        for (name, pem) in pems {
            if !pem.is_empty() {
                placeholders.insert(format!("{name}_pem"), pem.to_string());
                placeholders.insert(format!("{name}_size"), pem.len().to_string());
            }
        }
        Env {
            wifi_ssid: "sim-ap".into(),
            wifi_key: "sim-password".into(),
            tcp_echo: "192.0.2.2:7".into(),
            tls_echo: "192.0.2.2:8010".into(),
            mqtt_broker: "192.0.2.2:1883".into(),
            http_url: "http://www.example.com/".into(),
            ble_peer: "58d391010203".into(),
            ble_peer_type: 0,
            placeholders,
        }
    }
}

impl Env {
    /// Reads an environment file; keys left out keep the simulator's values.
    pub fn load(path: &std::path::Path) -> Result<Env, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_norway::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// `host` and `port` of a `host:port` setting.
    pub fn split(addr: &str) -> (String, String) {
        match addr.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.to_string()),
            None => (addr.to_string(), String::new()),
        }
    }

    /// Values that must never appear in a report.
    pub fn secrets(&self) -> Vec<String> {
        vec![self.wifi_key.clone()]
    }
}
