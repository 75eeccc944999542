//! The module's state, one part per function group. A reboot (`AT+QRST`)
//! rebuilds the volatile parts and keeps the saved ones.

use std::collections::BTreeMap;

/// Settings that survive a reboot (the manual's "saved" configuration).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Saved {
    /// Baud rate saved with `AT+QSETBAND=<rate>,1`.
    pub baud_rate: Option<i64>,
    /// Hotspot saved with `AT+QSTAAPINFODEF`: (SSID, key).
    pub hotspot: Option<(String, Option<String>)>,
    /// Files of the UFS (kept across reboots, as flash is).
    pub files: BTreeMap<String, Vec<u8>>,
}

/// General settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct General {
    /// Echo of received characters (`AT+QECHO`).
    pub echo: bool,
    /// Current baud rate.
    pub baud_rate: i64,
    /// Low-power mode (`AT+QSCLK`) and DTIM.
    pub sleep_mode: (i64, Option<i64>),
    /// URC pin latency (`AT+QCFG="urc/pin"`): enabled, pulse ms.
    pub urc_pin: (i64, i64),
}

impl Default for General {
    fn default() -> Self {
        General {
            echo: false,
            baud_rate: 115_200,
            sleep_mode: (0, None),
            urc_pin: (0, 120),
        }
    }
}

/// Wi-Fi station and access-point state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wifi {
    /// The joined access point's SSID, when connected in station mode
    /// (STA mode is "STATION_UP" exactly while this is set).
    pub station: Option<String>,
    /// When the joined station has its address (`+QSTASTAT: "GOT_IP"`):
    /// until then nothing can use the network. `None`: since it joined.
    pub ip_from: Option<std::time::Instant>,
    /// DHCP on (`AT+QSTADHCP`). While it is off, `station_static` holds the
    /// addresses in use (all `0.0.0.0` when none were configured).
    pub dhcp: bool,
    /// Static station IP: IP, mask, gateway, DNS.
    pub station_static: Option<[String; 4]>,
    /// The soft AP, when up: SSID, key.
    pub soft_ap: Option<(String, Option<String>)>,
    /// Static AP IP: IP, mask, gateway, DNS.
    pub ap_static: Option<[String; 4]>,
    /// The DNS servers in use (primary, secondary): those set with
    /// `AT+QIDNSCFG`, else the joined network's (or the static DNS).
    pub dns: (String, String),
    /// Whether `AT+QIDNSCFG` set `dns` (then joining a network keeps it).
    pub dns_configured: bool,
    /// Web configuration switch (`AT+QWEBCFG`, wire value).
    pub web_config: i64,
    /// AirKiss switch (`AT+QAIRKISS`, wire value).
    pub airkiss: i64,
}

impl Default for Wifi {
    fn default() -> Self {
        Wifi {
            station: None,
            ip_from: None,
            // DHCP is what makes `AT+QSTAAPINFO` alone give the module an address.
            dhcp: true,
            station_static: None,
            soft_ap: None,
            ap_static: None,
            dns: ("0.0.0.0".into(), "0.0.0.0".into()),
            dns_configured: false,
            web_config: 0,
            airkiss: 0,
        }
    }
}

impl Wifi {
    /// Whether the station is joined and has its address at `now` (the
    /// network commands need it).
    pub fn has_ip(&self, now: std::time::Instant) -> bool {
        self.station.is_some() && self.ip_from.is_none_or(|t| now >= t)
    }
}

/// An open file of the UFS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenFile {
    /// Its name.
    pub name: String,
    /// Open mode (0, 1, 2).
    pub mode: i64,
    /// The file pointer.
    pub position: usize,
}

/// The file system's open handles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Files {
    /// Open handles.
    pub open: BTreeMap<i64, OpenFile>,
    /// The next handle number.
    pub next_handle: i64,
}

/// TCP/IP state visible to every group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tcpip {
    /// The last TCP/IP result code and its description (`AT+QIGETERROR`).
    pub last_error: (i64, String),
    /// The socket services, by `<connectID>` (0–11); their live sockets are
    /// in [`crate::net::Net`].
    pub sockets: BTreeMap<i64, crate::groups::tcpip::Socket>,
    /// The `AT+QICFG` settings (not saved: a reboot restores the defaults).
    pub config: crate::groups::tcpip::Config,
}

/// The whole state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// Saved settings.
    pub saved: Saved,
    /// General settings.
    pub general: General,
    /// Wi-Fi.
    pub wifi: Wifi,
    /// UFS handles.
    pub files: Files,
    /// TCP/IP.
    pub tcpip: Tcpip,
    /// BLE.
    pub ble: crate::groups::ble::Ble,
    /// SSL contexts and connections.
    pub ssl: crate::groups::ssl::SslState,
    /// MQTT clients.
    pub mqtt: crate::groups::mqtt::MqttState,
    /// HTTP(S) configuration and the last request.
    pub http: crate::groups::http::HttpState,
}

impl State {
    /// The state after a reboot: volatile parts back to their defaults.
    pub fn rebooted(&self) -> State {
        let mut s = State {
            saved: self.saved.clone(),
            ..State::default()
        };
        if let Some(rate) = self.saved.baud_rate {
            s.general.baud_rate = rate;
        }
        s
    }
}
