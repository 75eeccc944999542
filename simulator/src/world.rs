//! The simulated surroundings of the module: access points, a hosts table,
//! identity. A world file (YAML) overrides any part of the embedded default.

use serde::Deserialize;

/// An access point the module can see and join.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessPoint {
    /// Its name.
    pub ssid: String,
    /// Its key; `None` for an open hotspot.
    #[serde(default)]
    pub key: Option<String>,
    /// Its BSSID (12 hex digits).
    pub bssid: String,
    /// Signal strength (dBm).
    pub rssi: i64,
    /// Channel.
    pub channel: i64,
    /// Encryption type as the module reports it.
    pub psk_type: String,
    /// The address the module gets by DHCP on this network.
    pub ip: String,
    /// Gateway.
    pub gateway: String,
    /// Subnet mask.
    pub mask: String,
    /// DNS server.
    pub dns: String,
}

/// A host name the simulated DNS resolves.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// The name.
    pub name: String,
    /// Its addresses.
    pub addresses: Vec<String>,
}

/// Everything the simulator models outside the module.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct World {
    /// Firmware version reported by `AT+QVERSION`.
    pub firmware: String,
    /// MAC address reported by `AT+QWLMAC`.
    pub mac: String,
    /// BLE device address.
    pub ble_address: String,
    /// Access points in range.
    pub access_points: Vec<AccessPoint>,
    /// Host names the DNS resolves.
    pub hosts: Vec<Host>,
    /// The silence (ms) that must precede and follow `+++` for it to leave
    /// transparent mode. The manual gives none; 1 s is the usual guard time
    /// of Quectel modules.
    pub guard_time_ms: u64,
}

impl Default for World {
    fn default() -> Self {
        World {
            firmware: "FCM242DAAR01A05_SIM".into(),
            mac: "8800337769cc".into(),
            ble_address: "c8e4a1b1c1f9".into(),
            access_points: vec![
                AccessPoint {
                    ssid: "sim-ap".into(),
                    key: Some("sim-password".into()),
                    bssid: "a0b1c2d3e4f5".into(),
                    rssi: -42,
                    channel: 6,
                    psk_type: "WPA2_PSK".into(),
                    ip: "192.168.4.23".into(),
                    gateway: "192.168.4.1".into(),
                    mask: "255.255.255.0".into(),
                    dns: "192.168.4.1".into(),
                },
                AccessPoint {
                    ssid: "sim-open".into(),
                    key: None,
                    bssid: "a0b1c2d3e4f6".into(),
                    rssi: -70,
                    channel: 11,
                    psk_type: "OPEN".into(),
                    ip: "10.0.0.23".into(),
                    gateway: "10.0.0.1".into(),
                    mask: "255.255.255.0".into(),
                    dns: "10.0.0.1".into(),
                },
            ],
            hosts: vec![
                Host {
                    name: "localhost".into(),
                    addresses: vec!["127.0.0.1".into()],
                },
                Host {
                    name: "sim.example".into(),
                    addresses: vec!["127.0.0.1".into()],
                },
            ],
            guard_time_ms: 1000,
        }
    }
}

impl World {
    /// Reads a world file; keys it leaves out keep their default.
    pub fn from_yaml(text: &str) -> Result<World, String> {
        serde_norway::from_str(text).map_err(|e| format!("world file: {e}"))
    }

    /// Reads a world file from disk.
    pub fn load(path: &std::path::Path) -> Result<World, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::from_yaml(&text)
    }

    /// A one-paragraph description for the start-up banner.
    pub fn banner(&self) -> String {
        let mut s = format!(
            "fcm242d-sim: firmware {}, MAC {}\n",
            self.firmware, self.mac
        );
        for ap in &self.access_points {
            s.push_str(&format!(
                "  access point \"{}\" key {} (channel {}, {} dBm)\n",
                ap.ssid,
                ap.key
                    .as_deref()
                    .map(|k| format!("\"{k}\""))
                    .unwrap_or_else(|| "none".into()),
                ap.channel,
                ap.rssi
            ));
        }
        for h in &self.hosts {
            s.push_str(&format!(
                "  host {} -> {}\n",
                h.name,
                h.addresses.join(", ")
            ));
        }
        s
    }
}
