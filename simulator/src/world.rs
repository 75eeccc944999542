//! The simulated surroundings of the module: access points, a hosts table,
//! identity, the servers of the network and their conditions.
//!
//! # World files
//!
//! A world file (YAML, `fcm242d-sim --world FILE`) changes the embedded
//! world. A key it leaves out keeps its default; `firmware`, `mac`,
//! `guard_time_ms`, `phone`, `quirks`, `faults` replace the default. The
//! lists `access_points`, `hosts` and `endpoints` change only the entries
//! they name: an access point by its `ssid`, a host by its `name`, an
//! endpoint by its `protocol` (TCP unless said), `address` and `port`. An
//! entry with those keys replaces the default one (or joins the list);
//! `remove: true` removes it:
//!
//! ```yaml
//! endpoints:
//!   # The broker at 192.0.2.2:1883 is a real one; the rest stays.
//!   - {address: 192.0.2.2, port: 1883, service: {kind: external, to: "10.0.0.5:1883"}}
//!   # No HTTP server at 192.0.2.2:80 any more.
//!   - {address: 192.0.2.2, port: 80, remove: true}
//! hosts:
//!   - {name: broker.lab, addresses: [192.0.2.2]}
//!   - {name: example.com, remove: true}
//! ```
//!
//! Nothing leaves the host unless an endpoint says `external`: an address
//! no endpoint serves is unreachable (see [`crate::groups::tcpip::route`]).

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
        /// Whether the server answers only the first message of a
        /// connection (the bytes of its first read) and then stays silent
        /// until the peer closes; `false`: it echoes everything.
        #[serde(default)]
        once: bool,
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
        /// Whether the server answers only the first message of a
        /// connection (as [`Service::TcpEcho`]'s `once`).
        #[serde(default)]
        once: bool,
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
        /// Sent when a client stays silent for
        /// [`crate::services::web::GREETING_AFTER`] after the handshake;
        /// the connection is echoed after it. An HTTP client speaks first,
        /// so it never sees the greeting. `None`: the server waits.
        #[serde(default)]
        greeting: Option<String>,
    },
    /// A server that accepts connections and never answers: it reads and
    /// drops what it gets until the peer closes.
    Stall,
    /// A server that accepts connections and then stops reading: its
    /// application never takes what arrives, so its TCP receive window
    /// closes once it holds `window` bytes and never reopens. A sender's
    /// further bytes stay unacknowledged in the sender's own buffer (the
    /// module's `AT+QISEND` answers `SEND FAIL` once its buffer is full,
    /// errata COND-7). With `tls` it completes the TLS handshake first and
    /// stops reading after it (`AT+QSSLSEND` fills its buffer the same
    /// way). The module's socket services (`AT+QIOPEN`) and SSL
    /// connections (`AT+QSSLOPEN`) model the window; its other clients
    /// (MQTT, HTTP) meet a server that never answers.
    Unread {
        /// The receive window (bytes) the server advertises and fills.
        window: u32,
        /// Whether the server speaks TLS (the window counts from the end
        /// of the handshake).
        #[serde(default)]
        tls: bool,
    },
    /// Nothing listens: a connect is refused at once.
    Refuse,
    /// A host that never answers a connect (its packets are lost): only
    /// the module's time limit ends the attempt.
    Silent,
    /// A server that accepts a connection (with `tls`, completes the
    /// handshake), sends `greeting` if any, and closes it at once.
    Close {
        /// Sent before the close.
        #[serde(default)]
        greeting: Option<String>,
        /// Whether the server speaks TLS (the close comes after the
        /// handshake).
        #[serde(default)]
        tls: bool,
    },
    /// A server that accepts a connection and resets it at once (TCP RST):
    /// what the module sends fails, what it reads fails.
    Reset,
    /// A TLS server that resets the connection (TCP RST) when the client's
    /// hello arrives, in the middle of the handshake.
    TlsReset,
    /// A TLS server that refuses every handshake: it answers the client's
    /// hello with a fatal `handshake_failure` alert and closes (as a
    /// server does that shares no cipher suite or protocol version with
    /// the client, or refuses its certificate).
    TlsFail,
    /// An MQTT broker that refuses every connection: it answers CONNECT
    /// with CONNACK return `code` (1 unacceptable protocol version, 2
    /// identifier rejected, 3 server unavailable, 4 bad user name or
    /// password, 5 not authorized) and closes the connection, as MQTT
    /// 3.1.1 requires.
    MqttRefuse {
        /// The CONNACK return code (1–5).
        code: u8,
    },
    /// An MQTT broker that accepts CONNECT and then answers nothing: no
    /// SUBACK, UNSUBACK, PUBACK, PUBREC, PUBCOMP or PINGRESP.
    MqttMute,
    /// An MQTT server that closes the connection when CONNECT arrives,
    /// without CONNACK (as a server does with a CONNECT it will not take).
    MqttHangUp,
    /// A server that sends `data` on connect (something no client of the
    /// module's protocols understands) and then reads and drops.
    Garbage {
        /// What it sends.
        data: String,
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
    /// The key naming it in [`World::environment`] (its value is
    /// `address:port`).
    #[serde(default)]
    pub name: Option<String>,
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

/// A phone near the module running a BLE app: the manual's nRF Connect
/// examples (`ble_connect_nrf_connect`, `ble_send_data_to_module`,
/// `ble_send_data_to_nrf_connect`). The user scans, picks the module by
/// name in the results and taps CONNECT; once connected, the phone writes
/// into the module's characteristics. See [`crate::groups::ble`] for how
/// the module sees it.
///
/// The phone acts once per BLE initialisation of the module: it connects
/// when the module has advertised under [`Phone::connects_to`] for
/// [`Phone::connect_after_ms`] as a peripheral with a completed GATT server
/// (advertising needs one), and then performs [`Phone::writes`]. After the
/// link goes down (the module disconnects, `AT+QBLEINIT=0`) the phone does
/// not come back by itself until the module is initialised again (a reboot
/// or `AT+QBLEINIT=0` and a role).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Phone {
    /// The device name the user picks in the scan results: the phone
    /// connects to a module that advertises this name (its `AT+QBLENAME`,
    /// or the local name in its `AT+QBLEADVDATA`). `None`: to the first
    /// module it sees advertising.
    pub connects_to: Option<String>,
    /// How long (ms) the module has advertised before the phone connects
    /// (the user scanning and tapping CONNECT).
    pub connect_after_ms: u64,
    /// The ATT MTU the phone settles on in its MTU exchange (the module
    /// reports it with `+QBLEMTU`; 23..=512 for a peripheral, values
    /// outside are clamped).
    pub mtu: i64,
    /// What the phone writes once connected, in order.
    pub writes: Vec<PhoneWrite>,
}

impl Default for Phone {
    /// The manual's phone: it connects to "QuecFGM842D" half a second
    /// after the module starts advertising, and half a second later writes
    /// the text "from phone" into characteristic FFF2
    /// (`ble_send_data_to_module` prints `+QBLERECV: 0,"fff2",10` and
    /// `from phone`).
    fn default() -> Self {
        Phone {
            connects_to: Some("QuecFGM842D".into()),
            connect_after_ms: 500,
            // What phones commonly settle on with Data Length Extension.
            mtu: 247,
            writes: vec![PhoneWrite {
                uuid: "FFF2".into(),
                data: "from phone".into(),
                after_ms: 500,
            }],
        }
    }
}

/// One write of a [`Phone`] into a characteristic of the module's GATT
/// server (as nRF Connect sends a value in "TEXT" format). A write the
/// module's server cannot take (no such characteristic, one without Write
/// or Write no response, more than `<MTU_value>`-3 bytes) fails on the
/// phone and the module prints nothing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneWrite {
    /// The characteristic's UUID (4 or 32 hex digits, any case).
    pub uuid: String,
    /// The text written.
    pub data: String,
    /// How long (ms) after the connection (for the first write) or after
    /// the previous write the phone writes it.
    #[serde(default)]
    pub after_ms: u64,
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
    /// The phone near the module (see [`Phone`]); by default the manual's
    /// phone running nRF Connect, which connects to a module advertising
    /// as "QuecFGM842D". `phone: null` in a world file removes it.
    pub phone: Option<Phone>,
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
            phone: Some(Phone::default()),
        }
    }
}

/// The receive window of the embedded world's server that stops reading
/// (`unread_tcp`): one full-size `AT+QISEND` payload, taken before it
/// stops.
pub const UNREAD_WINDOW: u32 = 1460;

/// The servers of the manual's examples, at the addresses the examples use
/// (192.0.2.2 is the documentation network; `www.example.com` and
/// `example.com` resolve to it):
/// - 8009 TCP: an echo that greets with "Test 1" (`tcp_transparent_mode`
///   receives it); 8009 UDP: an echo.
/// - 8010: a TLS echo that answers only the first message of a connection
///   (`once`): `ssl_client_buffer_access` sends "Test data from SSL" twice
///   and then reads 18 bytes and no more.
/// - 8011: the HTTPS server of `https_post`/`https_put`, which echoes a
///   connection that does not speak HTTP (`ssl_client_direct_push`,
///   `ssl_client_transparent_send`) and greets one that stays silent with
///   "Hello from 192.0.2.2" CR LF (`ssl_client_transparent_receive` opens
///   it and receives data without sending any).
/// - 8306 MQTT, 8307 MQTT over TLS with client certificates, 80 HTTP, 443
///   HTTPS, 1883 MQTT, 8883 MQTT over TLS, 7 TCP and UDP echo.
/// - 220.180.239.212:8009 TCP and UDP echo (the socket chapter's examples).
///
/// And the conditions the provocation scenarios use (see
/// [`World::environment`] for their names), at 192.0.2.3 (connections)
/// and 192.0.2.4 (MQTT servers):
/// - 192.0.2.3:7 refuses connections, :9 never answers a connect, :10
///   accepts and never answers, :11 accepts and closes at once, :12
///   accepts and resets, :13 accepts and stops reading once it holds
///   [`UNREAD_WINDOW`] bytes, :8012 closes after the TLS handshake, :8013
///   refuses every TLS handshake, :8014 sends what no protocol of the
///   module understands, :8015 resets in the middle of the TLS handshake,
///   :8016 completes the TLS handshake and stops reading once it holds
///   [`UNREAD_WINDOW`] bytes;
/// - 192.0.2.4:1883 closes after accepting, :1884 never answers, :1885
///   accepts CONNECT and then answers nothing, :1886 hangs up on CONNECT,
///   :1891–1895 refuse CONNECT with return codes 1–5.
fn default_endpoints() -> Vec<Endpoint> {
    let named =
        |name: &str, address: &str, port: u16, protocol: Protocol, service: Service| Endpoint {
            name: (!name.is_empty()).then(|| name.to_string()),
            address: address.into(),
            port,
            protocol,
            service,
        };
    let at = |name: &str, port: u16, protocol: Protocol, service: Service| {
        named(name, "192.0.2.2", port, protocol, service)
    };
    let condition = |name: &str, port: u16, service: Service| {
        named(name, "192.0.2.3", port, Protocol::Tcp, service)
    };
    let broker = |name: &str, port: u16, service: Service| {
        named(name, "192.0.2.4", port, Protocol::Tcp, service)
    };
    let mut endpoints = vec![
        // The TCP transparent-mode example receives "Test 1" from its server.
        at(
            "tcp_greeter",
            8009,
            Protocol::Tcp,
            Service::TcpEcho {
                greeting: Some("Test 1".into()),
                once: false,
            },
        ),
        at("", 8009, Protocol::Udp, Service::UdpEcho),
        at(
            "tls_echo",
            8010,
            Protocol::Tcp,
            Service::TlsEcho {
                greeting: None,
                client_auth: false,
                once: true,
            },
        ),
        at(
            "tls_greeter",
            8011,
            Protocol::Tcp,
            Service::Https {
                client_auth: false,
                greeting: Some("Hello from 192.0.2.2\r\n".into()),
            },
        ),
        at("", 8306, Protocol::Tcp, Service::Mqtt),
        at(
            "mqtt_tls_client_auth_broker",
            8307,
            Protocol::Tcp,
            Service::MqttTls { client_auth: true },
        ),
        at("http", 80, Protocol::Tcp, Service::Http),
        at(
            "https",
            443,
            Protocol::Tcp,
            Service::Https {
                client_auth: false,
                greeting: None,
            },
        ),
        at("mqtt_broker", 1883, Protocol::Tcp, Service::Mqtt),
        at(
            "mqtt_tls_broker",
            8883,
            Protocol::Tcp,
            Service::MqttTls { client_auth: false },
        ),
        at(
            "tcp_echo",
            7,
            Protocol::Tcp,
            Service::TcpEcho {
                greeting: None,
                once: false,
            },
        ),
        at("udp_echo", 7, Protocol::Udp, Service::UdpEcho),
        // The socket chapter's own examples use 220.180.239.212:8009.
        named(
            "",
            "220.180.239.212",
            8009,
            Protocol::Tcp,
            Service::TcpEcho {
                greeting: None,
                once: false,
            },
        ),
        named("", "220.180.239.212", 8009, Protocol::Udp, Service::UdpEcho),
        // Conditions.
        condition("refused_tcp", 7, Service::Refuse),
        condition("silent_tcp", 9, Service::Silent),
        condition("stalled_tcp", 10, Service::Stall),
        condition(
            "unread_tcp",
            13,
            Service::Unread {
                window: UNREAD_WINDOW,
                tls: false,
            },
        ),
        condition(
            "closing_tcp",
            11,
            Service::Close {
                greeting: None,
                tls: false,
            },
        ),
        condition("resetting_tcp", 12, Service::Reset),
        condition(
            "closing_tls",
            8012,
            Service::Close {
                greeting: None,
                tls: true,
            },
        ),
        condition("failing_tls", 8013, Service::TlsFail),
        condition("resetting_tls", 8015, Service::TlsReset),
        condition(
            "unread_tls",
            8016,
            Service::Unread {
                window: UNREAD_WINDOW,
                tls: true,
            },
        ),
        condition(
            "garbage_tcp",
            8014,
            Service::Garbage {
                data: "\u{0}\u{ff}garbage\r\n".into(),
            },
        ),
        broker(
            "mqtt_closing_broker",
            1883,
            Service::Close {
                greeting: None,
                tls: false,
            },
        ),
        broker("mqtt_stalled_broker", 1884, Service::Stall),
        broker("mqtt_mute_broker", 1885, Service::MqttMute),
        broker("mqtt_hangup_broker", 1886, Service::MqttHangUp),
        broker(
            "mqtt_garbage_broker",
            1887,
            Service::Garbage {
                data: "\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}".into(),
            },
        ),
    ];
    for code in 1..=5u8 {
        endpoints.push(broker(
            &format!("mqtt_refusing_broker_{code}"),
            1890 + u16::from(code),
            Service::MqttRefuse { code },
        ));
    }
    endpoints
}

impl Service {
    /// The TCP receive window a peer of this service advertises and never
    /// reopens, because it stopped reading ([`Service::Unread`]); `None`
    /// for a peer that reads, whose flow control the host's OS handles.
    pub fn receive_window(&self) -> Option<usize> {
        match self {
            Service::Unread { window, .. } => usize::try_from(*window).ok(),
            _ => None,
        }
    }
}

impl World {
    /// The endpoint at `ip:port` for `protocol`, if the world has one.
    pub fn endpoint(
        &self,
        ip: std::net::Ipv4Addr,
        port: u16,
        protocol: Protocol,
    ) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| {
            e.port == port
                && e.protocol == protocol
                && e.address.parse::<std::net::Ipv4Addr>().ok() == Some(ip)
        })
    }

    /// Reads a world file over the embedded world (see the module
    /// documentation, "World files"): keys it leaves out keep their
    /// default; `access_points`, `hosts` and `endpoints` change only the
    /// entries they name.
    pub fn from_yaml(text: &str) -> Result<World, String> {
        let err = |e: serde_norway::Error| format!("world file: {e}");
        let mut value: serde_norway::Value = serde_norway::from_str(text).map_err(err)?;
        let mut lists = Vec::new();
        if let serde_norway::Value::Mapping(map) = &mut value {
            for key in ["access_points", "hosts", "endpoints"] {
                if let Some(list) = map.remove(key) {
                    lists.push((key, list));
                }
            }
        }
        let mut world: World = if value.is_null() {
            World::default()
        } else {
            serde_norway::from_value(value).map_err(err)?
        };
        for (key, list) in lists {
            let serde_norway::Value::Sequence(items) = list else {
                return Err(format!("world file: `{key}` must be a list"));
            };
            for (n, item) in items.into_iter().enumerate() {
                world
                    .merge(key, item)
                    .map_err(|e| format!("world file: {key}[{n}]: {e}"))?;
            }
        }
        Ok(world)
    }

    /// Applies one entry of a world file's list `key` (see
    /// [`World::from_yaml`]).
    fn merge(&mut self, key: &str, item: serde_norway::Value) -> Result<(), String> {
        let remove = item
            .get("remove")
            .map(|r| r.as_bool().ok_or("`remove` must be true or false"))
            .transpose()?
            .unwrap_or(false);
        let mut item = item;
        if let serde_norway::Value::Mapping(m) = &mut item {
            m.remove("remove");
        }
        let text = |v: &serde_norway::Value, field: &str| -> Result<String, String> {
            v.get(field)
                .and_then(|f| match f {
                    serde_norway::Value::String(s) => Some(s.clone()),
                    serde_norway::Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .ok_or(format!("`{field}` is needed"))
        };
        let e = |e: serde_norway::Error| e.to_string();
        match key {
            "access_points" => {
                let ssid = text(&item, "ssid")?;
                self.access_points.retain(|a| a.ssid != ssid);
                if !remove {
                    self.access_points
                        .push(serde_norway::from_value(item).map_err(e)?);
                }
            }
            "hosts" => {
                let name = text(&item, "name")?;
                self.hosts.retain(|h| !h.name.eq_ignore_ascii_case(&name));
                if !remove {
                    self.hosts.push(serde_norway::from_value(item).map_err(e)?);
                }
            }
            _ => {
                let address = text(&item, "address")?;
                let port: u16 = text(&item, "port")?
                    .parse()
                    .map_err(|_| "`port` must be 0-65535".to_string())?;
                let protocol = match item.get("protocol") {
                    Some(p) => serde_norway::from_value(p.clone()).map_err(e)?,
                    None => Protocol::Tcp,
                };
                self.endpoints.retain(|x| {
                    !(x.address == address && x.port == port && x.protocol == protocol)
                });
                if !remove {
                    self.endpoints
                        .push(serde_norway::from_value(item).map_err(e)?);
                }
            }
        }
        Ok(())
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
        if let Some(p) = &self.phone {
            s.push_str(&format!(
                "  phone: connects to {} after {} ms, {} write(s)\n",
                p.connects_to
                    .as_deref()
                    .map(|n| format!("\"{n}\""))
                    .unwrap_or_else(|| "any advertising module".into()),
                p.connect_after_ms,
                p.writes.len()
            ));
        }
        for p in crate::groups::ble::PEERS {
            s.push_str(&format!(
                "  BLE peer \"{}\" {} (address type {}, {} dBm{})\n",
                p.name,
                p.address,
                p.address_type,
                p.rssi,
                if p.connectable {
                    ""
                } else {
                    ", not connectable"
                }
            ));
        }
        for q in &self.quirks {
            s.push_str(&format!("  quirk: {q}\n"));
        }
        s
    }
}
