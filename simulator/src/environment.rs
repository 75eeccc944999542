//! The named values a set-up or a scenario needs from the world
//! ([`World::environment`]), read from the world itself so that they never
//! drift from what the simulator does.
//!
//! # Keys
//!
//! Wi-Fi (the first access point with a key, the first open one):
//! `wifi_ssid`, `wifi_key`, `wifi_bssid`, `wifi_ip` (the address the module
//! gets there), `wifi_gateway`, `wifi_mask`, `wifi_dns`, `wifi_open_ssid`,
//! and `wifi_absent_ssid` (a name no access point in range has).
//!
//! The module: `firmware`, `mac`, `ble_address`.
//!
//! Servers: every endpoint with a `name` gives `<name>` = `address:port`,
//! and `<name>_host` = `address`, `<name>_port` = `port`.
//! The embedded world names `tcp_echo`, `udp_echo` (UDP), `tcp_greeter`
//! (greets with "Test 1"), `tls_echo`, `tls_greeter`, `http`, `https`,
//! `mqtt_broker`, `mqtt_tls_broker`, `mqtt_tls_client_auth_broker`, and
//! the conditions below.
//!
//! URLs: `http_url` and `https_url` (the endpoints named `http` and
//! `https`, by a host name of the hosts table when one resolves to them:
//! `http://www.example.com/`); the web server's conditions on paths of
//! `http_url`: `http_stall_url` (never answers), `http_close_url` (closes
//! without answering), `http_garbage_url` (answers something that is not
//! HTTP), `http_bad_header_url` (an unreadable header), `http_truncated_url`
//! (closes before the announced body length), `http_slow_body_url` (sends
//! the head, then nothing), `http_bad_chunked_url` (a malformed chunked
//! body), `http_slow_head_url` (begins the head, then nothing),
//! `http_huge_head_url` (a head longer than a module keeps),
//! `http_status_url` (answers 404), `http_echo_url` (answers the
//! request's body); `https_stall_url` on the `https` endpoint; and for each
//! connection condition `<name>_url` (`http://address:port/`, `https://`
//! for `failing_tls`, `resetting_tls` and `closing_tls`). OTA: `ota_url` (a firmware image the module
//! downloads), `ota_missing_url` (one the server does not have).
//!
//! Conditions (each an endpoint of the world): `refused_tcp` (refuses
//! connections), `silent_tcp` (never answers a connect), `stalled_tcp`
//! (accepts, never answers), `unread_tcp` (accepts, takes one receive
//! window of bytes and stops reading), `unread_tls` (the same after a TLS
//! handshake), `closing_tcp` (accepts and closes),
//! `resetting_tcp` (accepts and resets), `closing_tls` (closes after the
//! TLS handshake), `failing_tls` (refuses every TLS handshake),
//! `resetting_tls` (resets in the middle of the TLS handshake),
//! `garbage_tcp` (sends what no protocol understands),
//! `mqtt_closing_broker`, `mqtt_stalled_broker`, `mqtt_mute_broker`
//! (accepts CONNECT, then answers nothing), `mqtt_hangup_broker` (hangs up
//! on CONNECT), `mqtt_garbage_broker`, `mqtt_refusing_broker_1` …
//! `mqtt_refusing_broker_5` (CONNACK return codes 1–5). Host names:
//! `host_name` (a name the DNS resolves), `unknown_host` (a name it does
//! not).
//!
//! BLE (the world's peers, see [`crate::groups::ble::PEERS`]): `ble_peer`,
//! `ble_peer_type`, `ble_peer_name`, `ble_peer_read_uuid` (readable and
//! notifying), `ble_peer_write_uuid` (readable and writable),
//! `ble_peer_write_command_uuid` (a 16-bit one taking writes without
//! response), `ble_peer_long_uuid` (a characteristic with a 128-bit UUID that reads,
//! writes and notifies), `ble_uart_peer`, `ble_uart_peer_type`, `ble_uart_rx_uuid`,
//! `ble_uart_tx_uuid`, `ble_beacon` (not connectable). The phone (absent
//! when the world has none): `phone_name` (the name it connects to),
//! `phone_write_uuid`, `phone_write_data` (its first write).
//!
//! Certificates of the embedded CA (the servers' and the module's):
//! `ca_cert_pem`, `client_cert_pem`, `client_key_pem` and their lengths in
//! bytes `ca_cert_size`, `client_cert_size`, `client_key_size`.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use crate::groups::ble::PEERS;
use crate::services::tls;
use crate::world::{Endpoint, Protocol, Service, World};

/// Paths of the web server's conditions on `http_url` (see
/// [`crate::services::web`]).
pub const WEB_CONDITIONS: &[(&str, &str)] = &[
    ("http_stall_url", "stall"),
    ("http_close_url", "close"),
    ("http_garbage_url", "garbage"),
    ("http_bad_header_url", "bad-header"),
    ("http_truncated_url", "truncated"),
    ("http_slow_body_url", "slow-body"),
    ("http_bad_chunked_url", "bad-chunked"),
    ("http_slow_head_url", "slow-head"),
    ("http_huge_head_url", "huge-head"),
    ("http_status_url", "status/404"),
    ("http_echo_url", "echo"),
    ("ota_url", "ota/fcm242d.bin"),
    ("ota_missing_url", "ota/missing.bin"),
];

impl World {
    /// Every named value a set-up or scenario needs, read from this world
    /// (see [`crate::environment`] for the keys).
    pub fn environment(&self) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            env.insert(k.to_string(), v);
        };
        if let Some(ap) = self.access_points.iter().find(|a| a.key.is_some()) {
            put("wifi_ssid", ap.ssid.clone());
            put("wifi_key", ap.key.clone().unwrap_or_default());
            put("wifi_bssid", ap.bssid.clone());
            put("wifi_ip", ap.ip.clone());
            put("wifi_gateway", ap.gateway.clone());
            put("wifi_mask", ap.mask.clone());
            put("wifi_dns", ap.dns.clone());
        }
        if let Some(ap) = self.access_points.iter().find(|a| a.key.is_none()) {
            put("wifi_open_ssid", ap.ssid.clone());
        }
        put(
            "wifi_absent_ssid",
            unused("absent-ap", |n| {
                self.access_points.iter().any(|a| a.ssid == n)
            }),
        );
        put("firmware", self.firmware.clone());
        put("mac", self.mac.clone());
        put("ble_address", self.ble_address.clone());

        for e in &self.endpoints {
            let Some(name) = &e.name else { continue };
            put(name, format!("{}:{}", e.address, e.port));
            put(&format!("{name}_host"), e.address.clone());
            put(&format!("{name}_port"), e.port.to_string());
            if let Some(url) = condition_url(e) {
                put(&format!("{name}_url"), url);
            }
        }
        let named = |n: &str| self.endpoints.iter().find(|e| e.name.as_deref() == Some(n));
        if let Some(http) = named("http") {
            let base = self.url("http", http, 80);
            for (key, path) in WEB_CONDITIONS {
                put(key, format!("{base}{path}"));
            }
            put("http_url", base);
        }
        if let Some(https) = named("https") {
            let base = self.url("https", https, 443);
            put("https_stall_url", format!("{base}stall"));
            put("https_url", base);
        }
        if let Some(host) = self
            .hosts
            .iter()
            .find(|h| h.addresses.iter().any(|a| !is_loopback(a)))
        {
            put("host_name", host.name.clone());
        }
        put(
            "unknown_host",
            unused("unknown.example", |n| {
                self.hosts.iter().any(|h| h.name.eq_ignore_ascii_case(n))
            }),
        );

        let connectable: Vec<_> = PEERS.iter().filter(|p| p.connectable).collect();
        if let Some(p) = connectable.first() {
            put("ble_peer", p.address.to_string());
            put("ble_peer_type", p.address_type.to_string());
            put("ble_peer_name", p.name.to_string());
            let read = p
                .characteristics
                .iter()
                .find(|c| c.properties & crate::groups::ble::NOTIFY != 0);
            if let Some(c) = read {
                put("ble_peer_read_uuid", c.uuid.to_string());
            }
            let write = p
                .characteristics
                .iter()
                .find(|c| c.properties & crate::groups::ble::WRITE != 0);
            if let Some(c) = write {
                put("ble_peer_write_uuid", c.uuid.to_string());
            }
            let command = p.characteristics.iter().find(|c| {
                c.uuid.len() == 4 && c.properties & crate::groups::ble::WRITE_NO_RESPONSE != 0
            });
            if let Some(c) = command {
                put("ble_peer_write_command_uuid", c.uuid.to_string());
            }
            if let Some(c) = p.characteristics.iter().find(|c| c.uuid.len() == 32) {
                put("ble_peer_long_uuid", c.uuid.to_string());
            }
        }
        if let Some(p) = connectable
            .iter()
            .find(|p| p.characteristics.iter().any(|c| c.echo_to.is_some()))
        {
            put("ble_uart_peer", p.address.to_string());
            put("ble_uart_peer_type", p.address_type.to_string());
            if let Some(c) = p.characteristics.iter().find(|c| c.echo_to.is_some()) {
                put("ble_uart_rx_uuid", c.uuid.to_string());
                put(
                    "ble_uart_tx_uuid",
                    c.echo_to.unwrap_or_default().to_string(),
                );
            }
        }
        if let Some(p) = PEERS.iter().find(|p| !p.connectable) {
            put("ble_beacon", p.address.to_string());
        }
        if let Some(phone) = &self.phone {
            if let Some(name) = &phone.connects_to {
                put("phone_name", name.clone());
            }
            if let Some(w) = phone.writes.first() {
                put("phone_write_uuid", w.uuid.clone());
                put("phone_write_data", w.data.clone());
            }
        }
        for (name, pem) in [
            ("ca_cert", tls::CA_PEM),
            ("client_cert", tls::CLIENT_CERT_PEM),
            ("client_key", tls::CLIENT_KEY_PEM),
        ] {
            put(&format!("{name}_pem"), pem.to_string());
            put(&format!("{name}_size"), pem.len().to_string());
        }
        env
    }

    /// `scheme://host[:port]/` of an endpoint, by a name of the hosts
    /// table that resolves to its address when there is one.
    fn url(&self, scheme: &str, e: &Endpoint, default_port: u16) -> String {
        let host = self
            .hosts
            .iter()
            .find(|h| h.addresses.contains(&e.address))
            .map_or(e.address.clone(), |h| h.name.clone());
        if e.port == default_port {
            format!("{scheme}://{host}/")
        } else {
            format!("{scheme}://{host}:{}/", e.port)
        }
    }
}

/// The URL of a connection condition (an HTTP(S) client meets it there).
fn condition_url(e: &Endpoint) -> Option<String> {
    if e.protocol != Protocol::Tcp {
        return None;
    }
    let scheme = match e.service {
        Service::Refuse
        | Service::Silent
        | Service::Stall
        | Service::Reset
        | Service::Garbage { .. }
        | Service::Close { tls: false, .. } => "http",
        Service::TlsFail | Service::TlsReset | Service::Close { tls: true, .. } => "https",
        _ => return None,
    };
    Some(format!("{scheme}://{}:{}/", e.address, e.port))
}

fn is_loopback(address: &str) -> bool {
    address.parse::<Ipv4Addr>().is_ok_and(|a| a.is_loopback())
}

/// `base`, or `base-2`, `base-3`, … : the first that `taken` refuses.
fn unused(base: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut n = 1;
    loop {
        let name = if n == 1 {
            base.to_string()
        } else {
            format!("{base}-{n}")
        };
        if !taken(&name) {
            return name;
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_world_names_what_the_scenarios_need() {
        let env = World::default().environment();
        for key in [
            "wifi_ssid",
            "wifi_key",
            "tcp_echo",
            "udp_echo",
            "tls_echo",
            "mqtt_broker",
            "mqtt_tls_broker",
            "http_url",
            "https_url",
            "ble_peer",
            "ble_peer_type",
            "phone_name",
            "ca_cert_pem",
            "ca_cert_size",
            "client_cert_pem",
            "client_key_size",
            "unknown_host",
            "refused_tcp",
            "silent_tcp",
            "stalled_tcp",
            "unread_tcp",
            "unread_tls",
            "closing_tcp",
            "closing_tls",
            "failing_tls",
            "mqtt_refusing_broker_4",
            "ota_url",
        ] {
            assert!(env.contains_key(key), "{key} missing");
        }
        assert_eq!(env["wifi_ssid"], "sim-ap");
        assert_eq!(env["tcp_echo"], "192.0.2.2:7");
        assert_eq!(env["tcp_echo_host"], "192.0.2.2");
        assert_eq!(env["tcp_echo_port"], "7");
        assert_eq!(env["http_url"], "http://www.example.com/");
        assert_eq!(env["http_stall_url"], "http://www.example.com/stall");
        assert_eq!(env["silent_tcp_url"], "http://192.0.2.3:9/");
        assert_eq!(env["ble_peer"], "58d391010203");
        assert_eq!(env["ca_cert_size"], tls::CA_PEM.len().to_string());
        assert!(World::default()
            .hosts
            .iter()
            .all(|h| h.name != env["unknown_host"]));
    }

    #[test]
    fn a_removed_endpoint_takes_its_key_along() {
        let mut world = World::default();
        world
            .endpoints
            .retain(|e| e.name.as_deref() != Some("stalled_tcp"));
        let env = world.environment();
        assert!(!env.contains_key("stalled_tcp"));
        assert!(!env.contains_key("stalled_tcp_url"));
    }
}
