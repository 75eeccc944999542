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

/// A service the simulated network offers at one address and port. The
/// simulator starts each on the host's loopback when a module first uses it
/// (see [`crate::services`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Service {
    /// A TCP server that sends `greeting` (if any) on connect, then echoes.
    TcpEcho {
        /// Sent once when a connection opens.
        #[serde(default)]
        greeting: Option<String>,
    },
    /// A UDP server that echoes each datagram.
    UdpEcho,
    /// A TLS server (certificate from the embedded CA) that echoes.
    TlsEcho {
        /// Sent once when the handshake ends.
        #[serde(default)]
        greeting: Option<String>,
        /// Whether the server asks for a client certificate.
        #[serde(default)]
        client_auth: bool,
    },
    /// The embedded MQTT 3.1.1 broker.
    Mqtt,
    /// The embedded MQTT broker behind TLS.
    MqttTls {
        /// Whether the server asks for a client certificate.
        #[serde(default)]
        client_auth: bool,
    },
    /// The embedded HTTP/1.1 server.
    Http,
    /// The embedded HTTP/1.1 server behind TLS; a connection whose first
    /// bytes are not an HTTP request is echoed (the manual uses one port
    /// for both).
    Https {
        /// Whether the server asks for a client certificate.
        #[serde(default)]
        client_auth: bool,
    },
    /// A real server elsewhere (`host:port`), e.g. an external broker.
    External {
        /// Where connections go.
        to: String,
    },
}

/// Transport protocol of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// TCP (also TLS, MQTT, HTTP).
    Tcp,
    /// UDP.
    Udp,
}

/// A service at an address and port of the simulated network.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// The IPv4 address the module connects to.
    pub address: String,
    /// The port.
    pub port: u16,
    /// TCP unless said otherwise.
    #[serde(default = "tcp")]
    pub protocol: Protocol,
    /// What answers there.
    pub service: Service,
}

fn tcp() -> Protocol {
    Protocol::Tcp
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
    /// Services of the simulated network, by address and port. A connect
    /// to a listed endpoint reaches its service; a connect to a loopback
    /// address goes to the host's own port; anything else is unreachable.
    pub endpoints: Vec<Endpoint>,
    /// Deliberate deviations from the catalogue, to try a conformance
    /// runner on a module that does not conform (see [`crate::quirks`]).
    /// None by default.
    #[serde(default)]
    pub quirks: Vec<crate::quirks::Quirk>,
    /// Fault injection, written as for `--faults` (e.g.
    /// `"delay=0..200ms,drop=0.001,seed=7"`, see [`crate::faults`]);
    /// `--faults` and `--seed` override it. None by default.
    #[serde(default)]
    pub faults: Option<crate::faults::FaultSpec>,
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
                // The access point of the manual's Wi-Fi example.
                AccessPoint {
                    ssid: "testssid".into(),
                    key: Some("123456789".into()),
                    bssid: "a0b1c2d3e4f7".into(),
                    rssi: -55,
                    channel: 1,
                    psk_type: "WPA2_PSK".into(),
                    ip: "192.168.1.23".into(),
                    gateway: "192.168.1.1".into(),
                    mask: "255.255.255.0".into(),
                    dns: "192.168.1.1".into(),
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
                Host {
                    name: "www.example.com".into(),
                    addresses: vec!["192.0.2.2".into()],
                },
                Host {
                    name: "example.com".into(),
                    addresses: vec!["192.0.2.2".into()],
                },
            ],
            guard_time_ms: 1000,
            endpoints: default_endpoints(),
            quirks: Vec::new(),
            faults: None,
        }
    }
}

/// The servers of the manual's examples, at the addresses the examples use
/// (192.0.2.2 is the documentation network; `www.example.com` and
/// `example.com` resolve to it).
fn default_endpoints() -> Vec<Endpoint> {
    let at = |port: u16, protocol: Protocol, service: Service| Endpoint {
        address: "192.0.2.2".into(),
        port,
        protocol,
        service,
    };
    vec![
        // The TCP transparent-mode example receives "Test 1" from its server.
        at(
            8009,
            Protocol::Tcp,
            Service::TcpEcho {
                greeting: Some("Test 1".into()),
            },
        ),
        at(8009, Protocol::Udp, Service::UdpEcho),
        at(
            8010,
            Protocol::Tcp,
            Service::TlsEcho {
                greeting: None,
                client_auth: false,
            },
        ),
        at(8011, Protocol::Tcp, Service::Https { client_auth: false }),
        at(8306, Protocol::Tcp, Service::Mqtt),
        at(8307, Protocol::Tcp, Service::MqttTls { client_auth: true }),
        at(80, Protocol::Tcp, Service::Http),
        at(443, Protocol::Tcp, Service::Https { client_auth: false }),
        at(1883, Protocol::Tcp, Service::Mqtt),
        at(8883, Protocol::Tcp, Service::MqttTls { client_auth: false }),
        at(7, Protocol::Tcp, Service::TcpEcho { greeting: None }),
        at(7, Protocol::Udp, Service::UdpEcho),
        // The socket chapter's own examples use 220.180.239.212:8009.
        Endpoint {
            address: "220.180.239.212".into(),
            port: 8009,
            protocol: Protocol::Tcp,
            service: Service::TcpEcho { greeting: None },
        },
        Endpoint {
            address: "220.180.239.212".into(),
            port: 8009,
            protocol: Protocol::Udp,
            service: Service::UdpEcho,
        },
    ]
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
        for e in &self.endpoints {
            s.push_str(&format!(
                "  {:?} {}:{} -> {:?}\n",
                e.protocol, e.address, e.port, e.service
            ));
        }
        for h in &self.hosts {
            s.push_str(&format!(
                "  host {} -> {}\n",
                h.name,
                h.addresses.join(", ")
            ));
        }
        for q in &self.quirks {
            s.push_str(&format!("  quirk: {q}\n"));
        }
        s
    }
}
