//! The BLE group: initialisation and role, name and address, the GATT
//! server of a peripheral (at most three services and three
//! characteristics, created in the order service → characteristic → done),
//! advertising, and as a central scanning, connecting to, reading, writing
//! and subscribing to the embedded peers ([`PEERS`]).
//!
//! Decisions the manual leaves open (each is also noted where it is made):
//! - Roles follow the catalogue's wire values (errata BLE-1): 0 not
//!   initialised, 1 central, 2 peripheral, 3 peripheral for Wi-Fi via BLE;
//!   role 3 is modelled as a peripheral like role 2. `AT+QBLEINIT` "only
//!   needs to be executed once after module boot": a second initialisation
//!   with a role is refused with `ERROR`; `AT+QBLEINIT=0` de-initialises
//!   (dropping a connection) and allows a new role.
//! - Commands that the manual describes "when the module is operating as a
//!   peripheral device" (or central) answer `ERROR` in the other roles, their
//!   read forms included.
//! - A connection to a peer the world does not have (or a non-connectable
//!   one, or with the wrong address type) is answered `OK` — the module only
//!   starts connecting — and then nothing is reported: the host sees no
//!   `+QBLESTAT: "CONNECTED"` within its `<timeout>`.
//! - A successful connection reports, after `OK`: `+QBLESTAT: "CONNECTED"`,
//!   `+QBLECONNPARAM`, `+QBLEMTU` and one `+QBLEINFO` per peer
//!   characteristic, then `+QBLEINFO: "DOWN"` (spelt as printed, errata
//!   URC-5). UUIDs in URCs are printed in lower case, as the manual's
//!   `+QBLERECV: 0,"fff2",10` shows.
//! - The limit of three characteristics counts all services together, as
//!   the limit of three services does. `AT+QBLEGATTSSRVDONE` needs at least
//!   one characteristic and completes the whole GATT server: after it, more
//!   services or characteristics are refused (until `AT+QBLEINIT=0` or a
//!   reboot). Advertising needs it; starting advertising again while
//!   advertising, and stopping it while stopped, answer `OK`.
//! - `<adv_data>` must be whole AD structures (length byte 1..=0x1e, then
//!   that many bytes) and, as in the Core Specification the manual cites,
//!   31 bytes at most in all.
//! - `<hex_length>` counts the bytes the hex digits of `<data>` stand for
//!   ("123456" → 3); GATT data is at most `<MTU_value>`-3 bytes, for writes
//!   as for notifications.
//! - Every peer is found at once: the scan results are written right after
//!   `OK`; a scan with `<timeout>` is over then, one without it runs (for
//!   `AT+QBLESCAN?`) until `AT+QBLESCAN=0`.
//! - `AT+QBLECFGMTU` before a connection sets the MTU the next connection
//!   exchanges (reported by `+QBLEMTU`, limited by the peer); during a
//!   connection it exchanges it again, once per connection, and reports the
//!   result in `+QBLEMTU`.
//! - Data the module prints (GATT reads, `+QBLERECV`) is printable ASCII as
//!   it is; other bytes are printed as upper-case hex digits, `<length>`
//!   counting what is printed.
//! - The URCs of an event follow the command's answer at once (see
//!   `EVENT_DELAY`).
//! - `AT+QBLETRANMODE=<UUID>[,<state>]` answers `CONNECT` and switches the
//!   UART to the BLE link:
//!   - as a central, once connected to a peer (the embedded peers' services
//!     are discovered when the connection is reported), `<UUID>` must be a
//!     peer characteristic that takes writes (Write or Write no response):
//!     "you can only send data ... by writing commands";
//!   - as a peripheral, while advertising or connected, `<UUID>` must be one
//!     of the module's own characteristics with Notify: "you can only send
//!     data ... by Notify"; bytes that come while no central is connected
//!     are lost;
//!   - anything else (not initialised, a central without a connection, an
//!     unknown characteristic or one without that property) is `ERROR`;
//!   - host bytes go out in packets of at most `<MTU_value>`-3 bytes (the
//!     manual says longer packets "may be lost": the simulator splits them
//!     instead, so nothing is lost);
//!   - what the peer sends — the notifications the module subscribed to as
//!     a central (a peer notifies only subscribed clients, so
//!     `AT+QBLEGATTCNTFCFG` still applies), the central's writes as a
//!     peripheral — is written to the UART raw; in command mode the same
//!     data is reported with `+QBLERECV`;
//!   - `+++` leaves the mode (the module's line discipline handles it) and,
//!     per the manual's note 3, cancels the automatic re-entry of `<state>`
//!     1; `ATO` resumes the mode while the command would be accepted again;
//!   - a disconnection during the mode prints `NO CARRIER` (note 1: "the
//!     module exits transparent transmission mode automatically"); a
//!     central forgets the mode with its link;
//!   - a peripheral whose mode a disconnection ended with `<state>` 1
//!     enters it again when the next central connects, printing `CONNECT`
//!     (the manual does not say what it prints; `CONNECT` is what every
//!     entry prints); `<state>` is ignored for a central ("takes effect
//!     only when the module is operating as a peripheral device").
//! - The world's phone ([`crate::world::Phone`], by default the manual's
//!   phone running nRF Connect) is the central that connects to the
//!   module's peripheral by itself: at [`poll`], once the module has
//!   advertised for the phone's `connect_after_ms` under the name the phone
//!   looks for, it connects ([`central_connects`]: `+QBLESTAT:
//!   "CONNECTED"`, `+QBLEMTU`), then makes its writes one by one
//!   ([`central_writes`]: `+QBLERECV` with the data). It does so once per
//!   BLE initialisation (a user taps CONNECT once); it does not reconnect
//!   after the link goes down. The name a scan shows is the local name in
//!   the module's `AT+QBLEADVDATA` (complete, else shortened; none when
//!   the data has neither) or, without advertising data, the device name
//!   (`AT+QBLENAME`, as the manual's example finds "QuecFGM842D" after
//!   setting it).
//! - [`central_connects`], [`central_writes`] and [`central_disconnects`]
//!   are also the hooks through which a test or fault injection acts as a
//!   phone; [`peer_disconnects`] makes the peer of a central go away. The
//!   module prints what a central writes at its next [`poll`].

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use fcm242d::generated::commands::{
    qbleaddr, qbleadvparam, qbleadvstart, qblecfgmtu, qbleconnparam, qblegattcrd, qbleinit,
    qblename, qblescan, qblescanparam, qblestat, AnyCommand,
};
use fcm242d::generated::urcs::{
    qbleinfo, qblestat as stat_urc, Qbleconnparam, Qbleinfo, Qblemtu, Qblerecv, Qblestat,
};
use fcm242d::value::{HexAddr, Int, Uuid};

use crate::groups::line;
use crate::net::{Channel, Net};
use crate::reply::{Final, Reply};
use crate::state::State;
use crate::world::World;

/// Characteristic property: Write (bit0 of the manual's `<att_cfg>`).
pub const WRITE: u8 = 0x01;
/// Characteristic property: Write no response (bit1 of `<att_cfg>`).
pub const WRITE_NO_RESPONSE: u8 = 0x02;
/// Characteristic property: Notify (bit2 of `<att_cfg>`).
pub const NOTIFY: u8 = 0x04;
/// Characteristic property: Read. `<att_cfg>` has no such bit (bit3 is
/// reserved there); the simulator uses it for the peers' characteristics only.
pub const READ: u8 = 0x08;

/// `<att_cfg>` when omitted: Notify and Write no response (errata BLE-6).
const DEFAULT_ATT_CFG: u8 = NOTIFY | WRITE_NO_RESPONSE;
/// At most three services and three characteristics ("Only three ... can
/// be established / set at most through the command"): the characteristic
/// limit counts all services together, as the service limit does.
const MAX_SERVICES: usize = 3;
/// See [`MAX_SERVICES`].
const MAX_CHARACTERISTICS: usize = 3;
/// `<adv_int_min>` and `<adv_int_max>` defaults (100 ms).
const DEFAULT_ADV_INTERVAL: (i64, i64) = (160, 160);
/// `<scan_interval>`, `<scan_window>` defaults.
const DEFAULT_SCAN_PARAM: (i64, i64) = (100, 30);
/// `<con_interval>`, `<timeout>`, `<latency>` defaults.
const DEFAULT_CONN_PARAM: (i64, i64, i64) = (20, 500, 0);
/// `AT+QBLECFGMTU` default.
const DEFAULT_CENTRAL_MTU: i64 = 64;
/// The ATT default MTU (the `+QBLEMTU` default for a peripheral, URC-3).
pub const DEFAULT_PERIPHERAL_MTU: i64 = 23;
/// The largest `<MTU_value>` ("Range: 23--512" for a peripheral).
const MAX_MTU: i64 = 512;
/// AD types of the local name: shortened, complete (Core Specification
/// Supplement, part A, 1.2).
const AD_SHORTENED_LOCAL_NAME: u8 = 0x08;
/// See [`AD_SHORTENED_LOCAL_NAME`].
const AD_COMPLETE_LOCAL_NAME: u8 = 0x09;
/// The maximum length of one AD structure's length field (0x1e).
const MAX_AD_LENGTH: usize = 0x1e;
/// The legacy advertising payload of the Core Specification the manual
/// cites: 31 bytes, i.e. one AD structure of the maximum length 0x1e.
const MAX_ADV_DATA: usize = 31;

/// When the URCs of a BLE event follow the command that caused it: at once,
/// and the same for every event. The model's state changes when the command
/// is answered, so a URC printed later could follow a later command's answer
/// that already shows the new state; and a uniform delay keeps the URCs of
/// successive events (connected, then disconnected) in their order.
const EVENT_DELAY: Duration = Duration::ZERO;

/// A characteristic of a peer in the embedded world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerCharacteristic {
    /// Its UUID (4 or 32 hex digits, lower case).
    pub uuid: &'static str,
    /// [`READ`], [`WRITE`], [`WRITE_NO_RESPONSE`], [`NOTIFY`] bits.
    pub properties: u8,
    /// The value a read returns until the module writes another.
    pub value: &'static str,
    /// A UART-like peer notifies what is written here on this other
    /// characteristic (when the module enabled its notifications).
    pub echo_to: Option<&'static str>,
}

/// A BLE device in range of the module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// Its device name, as a scan reports it.
    pub name: &'static str,
    /// Address type, as wire value: 0 public, 1 random (errata BLE-15).
    pub address_type: i64,
    /// Its address (12 hex digits).
    pub address: &'static str,
    /// Signal strength (dBm).
    pub rssi: i64,
    /// Advertising and scan response data (hex AD structures).
    pub adv_data: &'static str,
    /// Whether it accepts connections (`AT+QBLESCAN=3` lists only these).
    pub connectable: bool,
    /// The largest ATT MTU it accepts in an MTU exchange.
    pub mtu: i64,
    /// Its GATT characteristics, in discovery order.
    pub characteristics: &'static [PeerCharacteristic],
}

/// The BLE peers of the embedded world:
/// - `Sim-Thermometer`, public address `58d391010203` (the manual's example
///   address), -48 dBm: battery level `2a19` ("87") and temperature `2a6e`
///   ("21.50"), readable and notifying, a read/write configuration
///   characteristic `fff3` ("interval=10"), a command characteristic
///   `fff4` taking writes without response ("idle"), and a vendor
///   characteristic `8e7f0001…` that reads, writes and notifies ("unit=C");
/// - `Sim-UART`, random address `c0ffee123456`, -63 dBm, a Nordic-UART-like
///   device: what is written to RX `6e400002…` comes back as a notification
///   on TX `6e400003…` (readable, "ready") once notifications are enabled;
///   manufacturer name `2a29` ("Quectel-Sim");
/// - `Sim-Beacon`, random address `d1e2f3a4b5c6`, -81 dBm, a
///   non-connectable beacon (no GATT server).
pub const PEERS: &[Peer] = &[
    Peer {
        name: "Sim-Thermometer",
        address_type: 0,
        address: "58d391010203",
        rssi: -48,
        // Flags, Complete Local Name, TX Power Level.
        adv_data: "020106100953696D2D546865726D6F6D65746572020A04",
        connectable: true,
        mtu: 247,
        characteristics: &[
            PeerCharacteristic {
                uuid: "2a19",
                properties: READ | NOTIFY,
                value: "87",
                echo_to: None,
            },
            PeerCharacteristic {
                uuid: "2a6e",
                properties: READ | NOTIFY,
                value: "21.50",
                echo_to: None,
            },
            PeerCharacteristic {
                uuid: "fff3",
                properties: READ | WRITE,
                value: "interval=10",
                echo_to: None,
            },
            PeerCharacteristic {
                uuid: "fff4",
                properties: READ | WRITE_NO_RESPONSE,
                value: "idle",
                echo_to: None,
            },
            // A vendor characteristic with a 128-bit UUID (settings a
            // phone app reads, writes and subscribes to).
            PeerCharacteristic {
                uuid: "8e7f0001b5a3f393e0a9e50e24dcca9e",
                properties: READ | WRITE | WRITE_NO_RESPONSE | NOTIFY,
                value: "unit=C",
                echo_to: None,
            },
        ],
    },
    Peer {
        name: "Sim-UART",
        address_type: 1,
        address: "c0ffee123456",
        rssi: -63,
        // Flags, Complete Local Name, TX Power Level.
        adv_data: "020106090953696D2D55415254020A00",
        connectable: true,
        mtu: 512,
        characteristics: &[
            PeerCharacteristic {
                uuid: "6e400002b5a3f393e0a9e50e24dcca9e",
                properties: WRITE | WRITE_NO_RESPONSE,
                value: "",
                echo_to: Some("6e400003b5a3f393e0a9e50e24dcca9e"),
            },
            PeerCharacteristic {
                uuid: "6e400003b5a3f393e0a9e50e24dcca9e",
                properties: READ | NOTIFY,
                value: "ready",
                echo_to: None,
            },
            PeerCharacteristic {
                uuid: "2a29",
                properties: READ,
                value: "Quectel-Sim",
                echo_to: None,
            },
        ],
    },
    Peer {
        name: "Sim-Beacon",
        address_type: 1,
        address: "d1e2f3a4b5c6",
        rssi: -81,
        // Flags, Complete Local Name, Manufacturer Specific Data.
        adv_data: "0201040B0953696D2D426561636F6E0AFF5D0001020304050607",
        connectable: false,
        mtu: 23,
        characteristics: &[],
    },
];

/// A characteristic of the module's own GATT server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Characteristic {
    /// Its UUID, lower case.
    pub uuid: String,
    /// `<att_cfg>` bits ([`WRITE`], [`WRITE_NO_RESPONSE`], [`NOTIFY`]).
    pub properties: u8,
}

/// A service of the module's own GATT server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Its UUID, lower case.
    pub uuid: String,
    /// Its characteristics, in creation order.
    pub characteristics: Vec<Characteristic>,
}

/// The BLE connection (`<conn_idx>` 0, the only one the manual allows).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Link {
    /// The peer the module connected to as a central (index into
    /// [`PEERS`]); `None` when a central connected to the module's peripheral.
    pub peer: Option<usize>,
    /// The negotiated MTU.
    pub mtu: i64,
    /// Whether `AT+QBLECFGMTU` was used on this connection ("can only be
    /// set once after a single BLE connection").
    pub mtu_set: bool,
    /// `<con_interval>`, `<timeout>`, `<latency>`.
    pub params: (i64, i64, i64),
    /// Peer characteristics (lower-case UUIDs) whose notifications are on.
    pub notifying: BTreeSet<String>,
    /// Values the module wrote into peer characteristics.
    pub written: BTreeMap<String, Vec<u8>>,
}

/// The BLE state (reset by a reboot).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ble {
    /// `<role>` as wire value; 0 = not initialised.
    pub role: i64,
    /// Peripheral: advertising restarts after a disconnection.
    pub auto_adv: bool,
    /// The name set with `AT+QBLENAME` (`None`: the module's default).
    pub name: Option<String>,
    /// `<adv_int_min>`, `<adv_int_max>` (`None`: the defaults).
    pub adv_interval: Option<(i64, i64)>,
    /// Advertising data set with `AT+QBLEADVDATA`.
    pub adv_data: Option<Vec<u8>>,
    /// The GATT server's services.
    pub services: Vec<Service>,
    /// Whether `AT+QBLEGATTSSRVDONE` completed the GATT server.
    pub services_done: bool,
    /// Whether the peripheral advertises.
    pub advertising: bool,
    /// Whether a scan without `<timeout>` runs (until `AT+QBLESCAN=0`).
    pub scanning: bool,
    /// `<scan_interval>`, `<scan_window>` (`None`: the defaults).
    pub scan_param: Option<(i64, i64)>,
    /// The MTU set with `AT+QBLECFGMTU` (`None`: 64).
    pub mtu: Option<i64>,
    /// The connection, if any.
    pub link: Option<Link>,
    /// Whether the last event was a disconnection (`AT+QBLESTAT` then
    /// answers "DISCONNECTED" until advertising or a connection starts).
    pub disconnected: bool,
    /// The last notification the peripheral sent: UUID and bytes.
    pub last_notification: Option<(String, Vec<u8>)>,
    /// Transparent mode set up with `AT+QBLETRANMODE`.
    pub tranmode: Option<TranMode>,
    /// Data the peer sent (characteristic UUID and bytes) that the module
    /// has not written to the UART yet ([`poll`] writes it).
    pub inbound: VecDeque<(String, Vec<u8>)>,
    /// What the world's phone did since this initialisation.
    pub phone: PhoneVisit,
    /// URCs of events [`poll`] found (the phone connecting) that wait
    /// while the UART is in transparent mode: it carries data only.
    pub held_urcs: VecDeque<String>,
}

/// What the world's phone ([`crate::world::Phone`]) did since the module's
/// BLE initialisation (reset with it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhoneVisit {
    /// Since when the phone has seen the module advertise under the name
    /// it looks for, while it has not connected yet.
    pub seen: Option<Instant>,
    /// When it connected (it connects once).
    pub connected: Option<Instant>,
    /// When it made its last write (or connected, before the first).
    pub last: Option<Instant>,
    /// How many of its writes are done (made, or given up with the link).
    pub writes: usize,
}

/// Transparent mode over the BLE link (`AT+QBLETRANMODE=<UUID>[,<state>]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TranMode {
    /// The characteristic the host's bytes go to (lower case): the peer's,
    /// written, for a central; the module's own, notified, for a peripheral.
    pub uuid: String,
    /// `<state>` 1, for a peripheral: after a disconnection ended the mode,
    /// the next connection enters it again.
    pub reenter: bool,
    /// Whether the UART is in the mode, as the group last saw it (`+++` and
    /// `ATO` change `Net::transparent` without the group; [`poll`] catches up).
    pub active: bool,
    /// The link went down since the last [`poll`].
    pub lost: bool,
    /// A disconnection ended the mode and `<state>` is 1: the next
    /// connection enters it again.
    pub armed: bool,
}

impl Ble {
    fn central(&self) -> bool {
        self.role == 1
    }

    fn peripheral(&self) -> bool {
        matches!(self.role, 2 | 3)
    }

    fn characteristic_count(&self) -> usize {
        self.services.iter().map(|s| s.characteristics.len()).sum()
    }

    /// The connection to a peer, when the module is a connected central.
    fn central_link(&mut self) -> Option<(&mut Link, &'static Peer)> {
        if !self.central() {
            return None;
        }
        let link = self.link.as_mut()?;
        let peer = PEERS.get(link.peer?)?;
        Some((link, peer))
    }

    fn state(&self) -> qblestat::BleState {
        if self.role == 0 {
            qblestat::BleState::Uninitialized
        } else if self.link.is_some() {
            qblestat::BleState::Connected
        } else if self.advertising {
            qblestat::BleState::Advertising
        } else if self.disconnected {
            qblestat::BleState::Disconnected
        } else {
            qblestat::BleState::Initialized
        }
    }

    /// Drops the connection; returns the URC lines that report it.
    fn disconnect(&mut self) -> Vec<String> {
        if self.link.take().is_none() {
            return Vec::new();
        }
        if let Some(t) = &mut self.tranmode {
            t.lost = true;
        }
        self.disconnected = true;
        if self.peripheral() && self.auto_adv && self.services_done {
            self.advertising = true;
            self.disconnected = false;
        }
        vec![stat(stat_urc::Event::Disconnected)]
    }
}

/// The module's default device name: "FCM242D" for the FCM242D, "FGM842D"
/// for the FGM842D series (told apart by the firmware version's prefix).
pub fn default_name(world: &World) -> &'static str {
    if world.firmware.to_ascii_uppercase().starts_with("FGM842D") {
        "FGM842D"
    } else {
        "FCM242D"
    }
}

fn stat(event: stat_urc::Event) -> String {
    line(Qblestat { event })
}

fn mtu_urc(mtu: i64) -> Option<String> {
    Some(line(Qblemtu {
        mtu_value: Int::new(mtu).ok()?,
    }))
}

/// Adds `lines` as URCs of an event (after [`EVENT_DELAY`]).
fn with_urcs(mut reply: Reply, lines: Vec<String>) -> Reply {
    for l in lines {
        reply = reply.with_urc(EVENT_DELAY, l);
    }
    reply
}

/// `OK`, then `lines`: the catalogue's `after_result` lines (scan results,
/// the data a GATT read returns), which belong to the answer and are
/// written with it, after the final result.
fn ok_then(lines: Vec<String>) -> Reply {
    let mut all = vec!["OK".to_string()];
    all.extend(lines);
    Reply {
        lines: all,
        ..Reply::result(Final::Nothing)
    }
}

/// `OK` when `ok`, else `ERROR`.
fn ok_if(ok: bool) -> Reply {
    if ok {
        Reply::ok()
    } else {
        Reply::error()
    }
}

/// Hex digits to bytes (an even number of digits).
fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    let digits = hex.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks(2)
        .map(|pair| {
            let text = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(text, 16).ok()
        })
        .collect()
}

/// Checks `AT+QBLEADVDATA`'s `<adv_data>`: hex digits forming AD structures
/// (a length byte of 1..=0x1e that counts the AD type and data, then that
/// many bytes), 31 bytes at most in all. Returns the bytes.
pub fn parse_adv_data(hex: &str) -> Option<Vec<u8>> {
    let bytes = decode_hex(hex)?;
    if bytes.is_empty() || bytes.len() > MAX_ADV_DATA {
        return None;
    }
    let mut rest = bytes.as_slice();
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len);
        // A length of 0 would leave out the AD type the length must count.
        if len == 0 || len > MAX_AD_LENGTH {
            return None;
        }
        rest = tail.get(len..)?;
    }
    Some(bytes)
}

/// The bytes a GATT data command sends: `<data>` as it is, or with
/// `<hex_length>` the bytes its hex digits stand for ("if <data> is 123456,
/// the module will convert it to 0x123456"). `<hex_length>` is taken as the
/// number of those bytes and must match.
fn gatt_payload(hex_length: Option<i64>, data: &str) -> Option<Vec<u8>> {
    match hex_length {
        None => Some(data.as_bytes().to_vec()),
        Some(n) => {
            let bytes = decode_hex(data)?;
            (i64::try_from(bytes.len()).ok()? == n).then_some(bytes)
        }
    }
}

/// Whether `len` bytes fit one ATT packet: at most `<MTU_value>`-3.
fn fits(len: usize, mtu: i64) -> bool {
    i64::try_from(len).is_ok_and(|len| len <= mtu - 3)
}

/// Data as the module prints it (GATT reads, `+QBLERECV`): printable ASCII
/// as it is; anything else (which a text line cannot carry) as upper-case
/// hex digits.
fn printable(bytes: &[u8]) -> String {
    if bytes.iter().all(|b| (0x20..0x7f).contains(b)) {
        String::from_utf8_lossy(bytes).into_owned()
    } else {
        bytes.iter().map(|b| format!("{b:02X}")).collect()
    }
}

/// `+QBLERECV: 0,"<uuid>",<length>` CR LF `<data>` (one URC "line" whose
/// data block follows its header).
fn recv_urc(uuid: &str, bytes: &[u8]) -> Option<String> {
    let data = printable(bytes);
    let header = line(Qblerecv {
        conn_idx: Int::new(0).ok()?,
        uuid: Uuid::new(uuid.to_ascii_lowercase()).ok()?,
        length: i64::try_from(data.len()).ok()?,
        data: Vec::new(),
    });
    Some(format!("{header}\r\n{data}"))
}

/// The peer whose address and type `AT+QBLECONN` names, if it accepts a
/// connection.
fn find_peer(addr_type: i64, address: &str) -> Option<usize> {
    PEERS.iter().position(|p| {
        p.connectable && p.address_type == addr_type && p.address.eq_ignore_ascii_case(address)
    })
}

/// The scan result lines for `<scan>` 1, 2 or 3 (wire values, errata BLE-11):
/// 1 without advertising data, 2 and 3 with it, 3 connectable peers only.
fn scan_lines(scan: i64) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for p in PEERS {
        if scan == 3 && !p.connectable {
            continue;
        }
        let address_type = qblescan::AddressType::from_wire(&p.address_type.to_string()).ok()?;
        let ble_addr = HexAddr::new(p.address).ok()?;
        let l = if scan == 1 {
            qblescan::WriteLine::ScanWithoutAdvData(qblescan::WriteScanWithoutAdvDataLine {
                name: p.name.into(),
                address_type,
                ble_addr,
            })
        } else {
            qblescan::WriteLine::ScanWithAdvData(qblescan::WriteScanWithAdvDataLine {
                name: p.name.into(),
                address_type,
                ble_addr,
                rssi: p.rssi,
                adv_data: p.adv_data.into(),
            })
        };
        out.push(line(l));
    }
    Some(out)
}

/// The URCs of a successful connection to `peer` with MTU `mtu`.
fn connect_urcs(peer: &Peer, mtu: i64) -> Option<Vec<String>> {
    let (con_interval, timeout, latency) = DEFAULT_CONN_PARAM;
    let mut out = vec![
        stat(stat_urc::Event::Connected),
        line(Qbleconnparam {
            conn_idx: Int::new(0).ok()?,
            con_interval,
            timeout,
            latency,
        }),
        mtu_urc(mtu)?,
    ];
    for c in peer.characteristics {
        out.push(line(Qbleinfo {
            char: qbleinfo::Char::Other(c.uuid.to_ascii_lowercase()),
        }));
    }
    out.push(line(Qbleinfo {
        char: qbleinfo::Char::DiscoveryDone,
    }));
    Some(out)
}

/// The peer characteristic `uuid` names, if it has all of `needs`.
fn peer_characteristic(
    peer: &'static Peer,
    uuid: &Uuid,
    needs: u8,
) -> Option<&'static PeerCharacteristic> {
    let found = peer
        .characteristics
        .iter()
        .find(|c| c.uuid.eq_ignore_ascii_case(uuid.as_str()))?;
    (found.properties & needs == needs).then_some(found)
}

/// `AT+QBLEGATTCWRCMD` / `AT+QBLEGATTCWRREQ`: writes into the connected
/// peer's characteristic, which needs `property`.
fn central_write(
    ble: &mut Ble,
    uuid: &Uuid,
    hex_length: Option<i64>,
    data: &str,
    property: u8,
) -> Reply {
    let Some((link, peer)) = ble.central_link() else {
        return Reply::error();
    };
    let Some(c) = peer_characteristic(peer, uuid, property) else {
        return Reply::error();
    };
    let Some(bytes) = gatt_payload(hex_length, data) else {
        return Reply::error();
    };
    if !fits(bytes.len(), link.mtu) {
        return Reply::error();
    }
    let mut reply = Reply::ok();
    if let Some(target) = c.echo_to {
        if link.notifying.contains(target) {
            if let Some(urc) = recv_urc(target, &bytes) {
                reply = reply.with_urc(EVENT_DELAY, urc);
            }
        }
    }
    link.written.insert(c.uuid.to_string(), bytes);
    reply
}

/// The group's answer, if `cmd` is one of its commands.
pub fn handle(cmd: &AnyCommand, state: &mut State, world: &World, net: &mut Net) -> Option<Reply> {
    let ble = &mut state.ble;
    Some(match cmd {
        AnyCommand::QbleinitRead(_) => match qbleinit::Role::from_wire(&ble.role.to_string()) {
            Ok(role) => Reply::lines(vec![line(qbleinit::ReadLine { role })]),
            Err(_) => Reply::error(),
        },
        AnyCommand::QbleinitWrite(w) => {
            let role = w.role.wire();
            if role == 0 {
                // De-initialise: everything but the device name goes.
                let urcs = ble.disconnect();
                *ble = Ble {
                    name: ble.name.take(),
                    ..Ble::default()
                };
                with_urcs(Reply::ok(), urcs)
            } else if ble.role != 0 {
                // "Only needs to be executed once after module boot."
                Reply::error()
            } else {
                ble.role = role;
                // "advertisement auto-on after BLE disconnection, unless
                // AT+QBLEINIT=2,0": on by default.
                ble.auto_adv = w.auto_adv.is_none_or(|a| a.wire() == 1);
                Reply::ok()
            }
        }
        AnyCommand::QbleaddrRead(_) => match HexAddr::new(world.ble_address.clone()) {
            Ok(ble_addr) => Reply::lines(vec![line(qbleaddr::ReadLine { ble_addr })]),
            Err(_) => Reply::error(),
        },
        AnyCommand::QblenameRead(_) => {
            let ble_name = ble
                .name
                .clone()
                .unwrap_or_else(|| default_name(world).into());
            Reply::lines(vec![line(qblename::ReadLine { ble_name })])
        }
        AnyCommand::QblenameWrite(w) => {
            ble.name = Some(w.ble_name.as_str().to_string());
            Reply::ok()
        }
        AnyCommand::QbleadvparamRead(_) if ble.peripheral() => {
            let (min, max) = ble.adv_interval.unwrap_or(DEFAULT_ADV_INTERVAL);
            match (Int::new(min), Int::new(max)) {
                (Ok(adv_int_min), Ok(adv_int_max)) => {
                    Reply::lines(vec![line(qbleadvparam::ReadLine {
                        adv_int_min,
                        adv_int_max,
                    })])
                }
                _ => Reply::error(),
            }
        }
        AnyCommand::QbleadvparamWrite(w) if ble.peripheral() => {
            let (min, max) = (w.adv_int_min.get(), w.adv_int_max.get());
            // The minimum interval cannot exceed the maximum.
            if min <= max {
                ble.adv_interval = Some((min, max));
            }
            ok_if(min <= max)
        }
        AnyCommand::QbleadvdataWrite(w) if ble.peripheral() => {
            match parse_adv_data(w.adv_data.as_str()) {
                Some(bytes) => {
                    ble.adv_data = Some(bytes);
                    Reply::ok()
                }
                None => Reply::error(),
            }
        }
        AnyCommand::QblegattssrvWrite(w) if ble.peripheral() => {
            let ok = !ble.services_done && ble.services.len() < MAX_SERVICES;
            if ok {
                ble.services.push(Service {
                    uuid: w.srv_uuid.as_str().to_ascii_lowercase(),
                    characteristics: Vec::new(),
                });
            }
            ok_if(ok)
        }
        AnyCommand::QblegattscharWrite(w) if ble.peripheral() => {
            let room = ble.characteristic_count() < MAX_CHARACTERISTICS;
            let properties = match w.att_cfg {
                Some(cfg) => u8::try_from(cfg.get()).ok(),
                None => Some(DEFAULT_ATT_CFG),
            };
            // "You must create a BLE service first and then set a BLE
            // characteristic UUID": it joins the last service created.
            match (ble.services_done, room, properties, ble.services.last_mut()) {
                (false, true, Some(properties), Some(service)) => {
                    service.characteristics.push(Characteristic {
                        uuid: w.char_uuid.as_str().to_ascii_lowercase(),
                        properties,
                    });
                    Reply::ok()
                }
                _ => Reply::error(),
            }
        }
        AnyCommand::QblegattssrvdoneExecute(_) if ble.peripheral() => {
            // "you must set a BLE characteristic UUID ... and then complete
            // adding a BLE service": at least one characteristic, once.
            let ok = !ble.services_done && ble.characteristic_count() > 0;
            ble.services_done |= ok;
            ok_if(ok)
        }
        AnyCommand::QbleadvstartRead(_) if ble.peripheral() => {
            // <adv_state> 0 stopped, 1 started (errata BLE-7).
            match qbleadvstart::AdvState::from_wire(if ble.advertising { "1" } else { "0" }) {
                Ok(adv_state) => Reply::lines(vec![line(qbleadvstart::ReadLine { adv_state })]),
                Err(_) => Reply::error(),
            }
        }
        AnyCommand::QbleadvstartExecute(_) if ble.peripheral() => {
            // Only after the GATT server is complete, and not while a
            // central is connected (the module has one connection).
            let ok = ble.services_done && ble.link.is_none();
            if ok {
                ble.advertising = true;
                ble.disconnected = false;
            }
            ok_if(ok)
        }
        AnyCommand::QbleadvstopExecute(_) if ble.peripheral() => {
            ble.advertising = false;
            Reply::ok()
        }
        AnyCommand::QblegattsntfyWrite(w) if ble.peripheral() => {
            let Some(link) = &ble.link else {
                return Some(Reply::error());
            };
            let ours = ble
                .services
                .iter()
                .flat_map(|s| &s.characteristics)
                .find(|c| c.uuid.eq_ignore_ascii_case(w.uuid.as_str()));
            let bytes = gatt_payload(w.hex_length, w.data.as_str());
            match (ours, bytes) {
                (Some(c), Some(bytes))
                    if c.properties & NOTIFY != 0 && fits(bytes.len(), link.mtu) =>
                {
                    ble.last_notification = Some((c.uuid.clone(), bytes));
                    Reply::ok()
                }
                _ => Reply::error(),
            }
        }
        AnyCommand::QblescanRead(_) if ble.central() => {
            let scan_state = if ble.scanning {
                qblescan::ScanState::Other(1)
            } else {
                qblescan::ScanState::Stopped
            };
            Reply::lines(vec![line(qblescan::ReadLine { scan_state })])
        }
        AnyCommand::QblescanWrite(w) if ble.central() => {
            let scan = w.scan.wire();
            if scan == 0 {
                ble.scanning = false;
                return Some(Reply::ok());
            }
            // "<timeout> ... must be set when <scan> is 2."
            if scan == 2 && w.timeout.is_none() {
                return Some(Reply::error());
            }
            let Some(lines) = scan_lines(scan) else {
                return Some(Reply::error());
            };
            // Every peer is found at once, so a scan with a <timeout> is
            // over when its results are out; without one it runs on until
            // AT+QBLESCAN=0. The results follow OK at once.
            ble.scanning = w.timeout.is_none();
            ok_then(lines)
        }
        AnyCommand::QblescanparamRead(_) if ble.central() => {
            let (interval, window) = ble.scan_param.unwrap_or(DEFAULT_SCAN_PARAM);
            match (Int::new(interval), Int::new(window)) {
                (Ok(scan_interval), Ok(scan_window)) => {
                    Reply::lines(vec![line(qblescanparam::ReadLine {
                        scan_interval,
                        scan_window,
                    })])
                }
                _ => Reply::error(),
            }
        }
        AnyCommand::QblescanparamWrite(w) if ble.central() => {
            let (interval, window) = (w.scan_interval.get(), w.scan_window.get());
            // "<scan_window> shall be less than or equal to <scan_interval>."
            if window <= interval {
                ble.scan_param = Some((interval, window));
            }
            ok_if(window <= interval)
        }
        AnyCommand::QbleconnWrite(w) if ble.central() => {
            if ble.link.is_some() {
                return Some(Reply::error());
            }
            let Some(index) = find_peer(w.addr_type.wire(), w.peer_addr.as_str()) else {
                // The module starts connecting and never gets an answer.
                return Some(Reply::ok());
            };
            let Some(peer) = PEERS.get(index) else {
                return Some(Reply::error());
            };
            let mtu = ble.mtu.unwrap_or(DEFAULT_CENTRAL_MTU).min(peer.mtu);
            let Some(urcs) = connect_urcs(peer, mtu) else {
                return Some(Reply::error());
            };
            ble.link = Some(Link {
                peer: Some(index),
                mtu,
                params: DEFAULT_CONN_PARAM,
                ..Link::default()
            });
            ble.disconnected = false;
            with_urcs(Reply::ok(), urcs)
        }
        AnyCommand::QbleconnparamRead(_) => match ble.central_link() {
            Some((link, _)) => {
                let (interval, timeout, latency) = link.params;
                match (
                    Int::new(0),
                    Int::new(interval),
                    Int::new(timeout),
                    Int::new(latency),
                ) {
                    (Ok(conn_idx), Ok(con_interval), Ok(timeout), Ok(latency)) => {
                        Reply::lines(vec![line(qbleconnparam::ReadLine {
                            conn_idx,
                            con_interval,
                            timeout,
                            latency,
                        })])
                    }
                    _ => Reply::error(),
                }
            }
            None => Reply::error(),
        },
        AnyCommand::QbleconnparamWrite(w) => {
            let Some((link, _)) = ble.central_link() else {
                return Some(Reply::error());
            };
            let (interval, timeout, latency) =
                (w.con_interval.get(), w.timeout.get(), w.latency.get());
            // "<con_interval> × <latency> is less than the value of
            // <timeout>", on the wire values as the catalogue records it.
            if interval * latency >= timeout {
                return Some(Reply::error());
            }
            link.params = (interval, timeout, latency);
            let urc = Int::new(0).ok().map(|conn_idx| {
                line(Qbleconnparam {
                    conn_idx,
                    con_interval: interval,
                    timeout,
                    latency,
                })
            });
            with_urcs(Reply::ok(), urc.into_iter().collect())
        }
        AnyCommand::QblecfgmtuRead(_) if ble.central() => {
            match Int::new(ble.mtu.unwrap_or(DEFAULT_CENTRAL_MTU)) {
                Ok(mtu_value) => Reply::lines(vec![line(qblecfgmtu::ReadLine { mtu_value })]),
                Err(_) => Reply::error(),
            }
        }
        AnyCommand::QblecfgmtuWrite(w) if ble.central() => {
            let value = w.mtu_value.get();
            let Some((link, peer)) = ble.central_link() else {
                // Not connected: used in the next connection's MTU exchange.
                ble.mtu = Some(value);
                return Some(Reply::ok());
            };
            // "can only be set once after a single BLE connection".
            if link.mtu_set {
                return Some(Reply::error());
            }
            link.mtu_set = true;
            link.mtu = value.min(peer.mtu);
            let urc = mtu_urc(link.mtu);
            ble.mtu = Some(value);
            with_urcs(Reply::ok(), urc.into_iter().collect())
        }
        AnyCommand::QblegattcntfcfgWrite(w) => {
            let Some((link, peer)) = ble.central_link() else {
                return Some(Reply::error());
            };
            let Some(c) = peer_characteristic(peer, &w.uuid, NOTIFY) else {
                return Some(Reply::error());
            };
            if w.enable.wire() == 1 {
                link.notifying.insert(c.uuid.to_string());
            } else {
                link.notifying.remove(c.uuid);
            }
            Reply::ok()
        }
        AnyCommand::QblegattcrdWrite(w) => {
            let Some((link, peer)) = ble.central_link() else {
                return Some(Reply::error());
            };
            let Some(c) = peer_characteristic(peer, &w.uuid, READ) else {
                return Some(Reply::error());
            };
            let value = link
                .written
                .get(c.uuid)
                .map(|v| printable(v))
                .unwrap_or_else(|| c.value.to_string());
            // The <data> line follows OK.
            ok_then(vec![line(qblegattcrd::WriteLine { data: value })])
        }
        AnyCommand::QblegattcwrcmdWrite(w) => central_write(
            ble,
            &w.uuid,
            w.hex_length,
            w.data.as_str(),
            WRITE_NO_RESPONSE,
        ),
        AnyCommand::QblegattcwrreqWrite(w) => {
            central_write(ble, &w.uuid, w.hex_length, w.data.as_str(), WRITE)
        }
        AnyCommand::QbledisconnWrite(_) => {
            let urcs = ble.disconnect();
            if urcs.is_empty() {
                Reply::error()
            } else {
                with_urcs(Reply::ok(), urcs)
            }
        }
        AnyCommand::QblestatExecute(_) => Reply::lines(vec![line(qblestat::ExecuteLine {
            ble_state: ble.state(),
        })]),
        AnyCommand::QbletranmodeWrite(w) => {
            let uuid = w.uuid.as_str().to_ascii_lowercase();
            if !tranmode_allowed(ble, &uuid) {
                return Some(Reply::error());
            }
            // "<state> takes effect only when the module is operating as a
            // peripheral device."
            let reenter = ble.peripheral() && w.state.is_some_and(|s| s.wire() == 1);
            ble.tranmode = Some(TranMode {
                uuid,
                reenter,
                active: true,
                ..TranMode::default()
            });
            enter(net);
            Reply::result(Final::Connect)
        }
        // A BLE command in a role it does not belong to.
        AnyCommand::QbleadvparamRead(_)
        | AnyCommand::QbleadvparamWrite(_)
        | AnyCommand::QbleadvdataWrite(_)
        | AnyCommand::QblegattssrvWrite(_)
        | AnyCommand::QblegattscharWrite(_)
        | AnyCommand::QblegattssrvdoneExecute(_)
        | AnyCommand::QbleadvstartRead(_)
        | AnyCommand::QbleadvstartExecute(_)
        | AnyCommand::QbleadvstopExecute(_)
        | AnyCommand::QblegattsntfyWrite(_)
        | AnyCommand::QblescanRead(_)
        | AnyCommand::QblescanWrite(_)
        | AnyCommand::QblescanparamRead(_)
        | AnyCommand::QblescanparamWrite(_)
        | AnyCommand::QbleconnWrite(_)
        | AnyCommand::QblecfgmtuRead(_)
        | AnyCommand::QblecfgmtuWrite(_) => Reply::error(),
        _ => return None,
    })
}

/// A central (a phone running nRF Connect, say) connects to the module's
/// advertising peripheral and exchanges MTU `mtu` (23..=512). Returns the
/// URC lines the module prints (`+QBLESTAT: "CONNECTED"`, `+QBLEMTU`), or
/// `None` when the module is not an advertising peripheral.
pub fn central_connects(state: &mut State, mtu: i64) -> Option<Vec<String>> {
    let ble = &mut state.ble;
    if !ble.peripheral() || !ble.advertising || ble.link.is_some() {
        return None;
    }
    let urcs = vec![stat(stat_urc::Event::Connected), mtu_urc(mtu)?];
    ble.advertising = false;
    ble.disconnected = false;
    ble.link = Some(Link {
        peer: None,
        mtu,
        params: DEFAULT_CONN_PARAM,
        ..Link::default()
    });
    Some(urcs)
}

/// The connected central writes `data` into the module's characteristic
/// `uuid` (which must allow Write or Write no response, and `data` must fit
/// one packet). The module prints it at its next [`poll`]: as `+QBLERECV`
/// in command mode, raw in transparent mode. Returns whether it was taken.
pub fn central_writes(state: &mut State, uuid: &str, data: &[u8]) -> bool {
    let ble = &mut state.ble;
    let Some(link) = ble.link.as_ref().filter(|l| l.peer.is_none()) else {
        return false;
    };
    let Some(c) = ble
        .services
        .iter()
        .flat_map(|s| &s.characteristics)
        .find(|c| c.uuid.eq_ignore_ascii_case(uuid))
    else {
        return false;
    };
    if c.properties & (WRITE | WRITE_NO_RESPONSE) == 0 || !fits(data.len(), link.mtu) {
        return false;
    }
    let uuid = c.uuid.clone();
    ble.inbound.push_back((uuid, data.to_vec()));
    true
}

/// The connected central disconnects. Returns the URC lines the module
/// prints, or `None` when no central was connected. A peripheral
/// initialised with auto advertising advertises again.
pub fn central_disconnects(state: &mut State) -> Option<Vec<String>> {
    let ble = &mut state.ble;
    ble.link.as_ref().filter(|l| l.peer.is_none())?;
    Some(ble.disconnect())
}

/// The peer the module is connected to as a central ends the connection
/// (or goes out of range). Returns the URC lines the module prints, or
/// `None` when the module is not connected to a peer.
pub fn peer_disconnects(state: &mut State) -> Option<Vec<String>> {
    let ble = &mut state.ble;
    ble.link.as_ref().filter(|l| l.peer.is_some())?;
    Some(ble.disconnect())
}

// ------------------------------------------------------------------ the world's phone

/// The name a scan shows for the module's advertising: the local name in
/// its advertising data when it set some (complete, else shortened; `None`
/// when there is neither), else its device name.
pub fn advertised_name(ble: &Ble, world: &World) -> Option<String> {
    let Some(data) = &ble.adv_data else {
        return Some(
            ble.name
                .clone()
                .unwrap_or_else(|| default_name(world).into()),
        );
    };
    let mut shortened = None;
    let mut rest = data.as_slice();
    while let Some((&len, tail)) = rest.split_first() {
        let structure = tail.get(..usize::from(len))?;
        rest = tail.get(usize::from(len)..)?;
        match structure.split_first() {
            Some((&AD_COMPLETE_LOCAL_NAME, name)) => {
                return Some(String::from_utf8_lossy(name).into_owned())
            }
            Some((&AD_SHORTENED_LOCAL_NAME, name)) => {
                shortened = Some(String::from_utf8_lossy(name).into_owned());
            }
            _ => {}
        }
    }
    shortened
}

/// What the world's phone does by `now`: it connects once the module has
/// advertised under the name it looks for long enough (returns the URCs of
/// the connection), then makes its writes when they are due (the module
/// prints them with the rest of `inbound`).
fn phone_acts(state: &mut State, world: &World, now: Instant) -> Vec<String> {
    let Some(phone) = &world.phone else {
        return Vec::new();
    };
    let ble = &mut state.ble;
    if ble.phone.connected.is_none() {
        let sees = ble.peripheral()
            && ble.advertising
            && ble.link.is_none()
            && phone
                .connects_to
                .as_ref()
                .is_none_or(|n| advertised_name(ble, world).as_ref() == Some(n));
        if !sees {
            // Not (or no longer) in the scan results: the user waits.
            ble.phone.seen = None;
            return Vec::new();
        }
        let seen = *ble.phone.seen.get_or_insert(now);
        if now.saturating_duration_since(seen) < Duration::from_millis(phone.connect_after_ms) {
            return Vec::new();
        }
        let mtu = phone.mtu.clamp(DEFAULT_PERIPHERAL_MTU, MAX_MTU);
        let Some(urcs) = central_connects(state, mtu) else {
            return Vec::new();
        };
        state.ble.phone.connected = Some(now);
        state.ble.phone.last = Some(now);
        return urcs;
    }
    // The phone's writes go over the link it made, while it lasts.
    let linked = ble.link.as_ref().is_some_and(|l| l.peer.is_none());
    if !linked {
        ble.phone.writes = phone.writes.len();
        return Vec::new();
    }
    while let Some(write) = phone.writes.get(state.ble.phone.writes) {
        let last = state.ble.phone.last.unwrap_or(now);
        // (A delay past the end of time is never due.)
        let Some(due) = last.checked_add(Duration::from_millis(write.after_ms)) else {
            break;
        };
        if now < due {
            break;
        }
        state.ble.phone.writes += 1;
        state.ble.phone.last = Some(due);
        // A write the module's server refuses fails on the phone only.
        central_writes(state, &write.uuid, write.data.as_bytes());
    }
    Vec::new()
}

// ------------------------------------------------------------------ transparent mode

/// Whether `AT+QBLETRANMODE` with characteristic `uuid` (lower case) can
/// enter transparent mode now: a connected central whose peer's `uuid`
/// takes writes, or an advertising or connected peripheral whose own `uuid`
/// notifies.
fn tranmode_allowed(ble: &Ble, uuid: &str) -> bool {
    if ble.central() {
        let peer = ble
            .link
            .as_ref()
            .and_then(|l| l.peer)
            .and_then(|i| PEERS.get(i));
        peer.is_some_and(|p| {
            p.characteristics
                .iter()
                .any(|c| c.uuid == uuid && c.properties & (WRITE | WRITE_NO_RESPONSE) != 0)
        })
    } else if ble.peripheral() {
        (ble.advertising || ble.link.is_some())
            && ble
                .services
                .iter()
                .flat_map(|s| &s.characteristics)
                .any(|c| c.uuid == uuid && c.properties & NOTIFY != 0)
    } else {
        false
    }
}

/// `CONNECT`: the UART now carries the BLE link.
fn enter(net: &mut Net) {
    net.transparent = Some(Channel::Ble);
    net.last_transparent = Some(Channel::Ble);
}

/// Whether the BLE link can carry transparent mode again (`ATO`): the mode
/// was set up and `AT+QBLETRANMODE` with its characteristic would be
/// accepted now.
pub fn transparent_live(state: &State, _net: &Net) -> bool {
    let ble = &state.ble;
    ble.tranmode
        .as_ref()
        .is_some_and(|t| tranmode_allowed(ble, &t.uuid))
}

/// In transparent mode over BLE: bytes from the host, sent to the peer in
/// packets of at most `<MTU_value>`-3 bytes — written into the peer's
/// characteristic by a central (a UART-like peer notifies them back on its
/// other characteristic if the module subscribed to it), notified on the
/// module's characteristic by a peripheral (lost while no central is
/// connected).
pub fn transparent_send(state: &mut State, net: &mut Net, data: &[u8]) {
    if net.transparent != Some(Channel::Ble) || data.is_empty() {
        return;
    }
    let ble = &mut state.ble;
    let Some(uuid) = ble.tranmode.as_ref().map(|t| t.uuid.clone()) else {
        return;
    };
    let central = ble.central();
    let Some(link) = ble.link.as_mut() else {
        return;
    };
    let packet = usize::try_from(link.mtu - 3).unwrap_or(0).max(1);
    if !central {
        if let Some(last) = data.chunks(packet).last() {
            ble.last_notification = Some((uuid, last.to_vec()));
        }
        return;
    }
    let Some(c) = link
        .peer
        .and_then(|i| PEERS.get(i))
        .and_then(|p| p.characteristics.iter().find(|c| c.uuid == uuid))
    else {
        return;
    };
    let echo = c.echo_to.filter(|target| link.notifying.contains(*target));
    for chunk in data.chunks(packet) {
        if let Some(target) = echo {
            ble.inbound.push_back((target.to_string(), chunk.to_vec()));
        }
    }
    if let Some(last) = data.chunks(packet).last() {
        link.written.insert(c.uuid.to_string(), last.to_vec());
    }
}

/// What the BLE link caused since the last call: the world's phone
/// connecting (its URCs) and writing, the peer's data (raw in transparent
/// mode, `+QBLERECV` in command mode, kept while the UART belongs to
/// another link), `NO CARRIER` when a disconnection ends transparent mode,
/// and `CONNECT` when a peripheral re-enters it.
pub fn poll(state: &mut State, net: &mut Net, world: &World, now: Instant) -> Vec<u8> {
    let mut out = Vec::new();
    let urcs = phone_acts(state, world, now);
    let ble = &mut state.ble;
    ble.held_urcs.extend(urcs);
    if net.transparent.is_none() {
        for urc in ble.held_urcs.drain(..) {
            out.extend_from_slice(format!("\r\n{urc}\r\n").as_bytes());
        }
    }
    let ours = net.transparent == Some(Channel::Ble);
    if let Some(t) = &mut ble.tranmode {
        if t.active && !ours {
            // Left with `+++`: "the module does not enter transparent
            // transmission mode after the successful BLE connection".
            t.active = false;
            t.reenter = false;
            t.armed = false;
        } else if !t.active && ours {
            // Back in with `ATO`.
            t.active = true;
        }
    }
    match net.transparent {
        Some(Channel::Ble) => {
            for (_, data) in ble.inbound.drain(..) {
                out.extend_from_slice(&data);
            }
        }
        None => {
            for (uuid, data) in ble.inbound.drain(..) {
                if let Some(urc) = recv_urc(&uuid, &data) {
                    out.extend_from_slice(format!("\r\n{urc}\r\n").as_bytes());
                }
            }
        }
        Some(_) => {}
    }
    let lost = ble
        .tranmode
        .as_mut()
        .is_some_and(|t| std::mem::take(&mut t.lost));
    if lost {
        let was_active = ble.tranmode.as_ref().is_some_and(|t| t.active);
        if ble.central() {
            // The mode belonged to this link.
            ble.tranmode = None;
        } else if let Some(t) = &mut ble.tranmode {
            t.active = false;
            t.armed = was_active && t.reenter;
        }
        if was_active {
            net.transparent = None;
            out.extend_from_slice(b"\r\nNO CARRIER\r\n");
        }
    }
    let rejoin = ble.tranmode.as_ref().is_some_and(|t| t.armed);
    if rejoin && ble.link.is_some() && net.transparent.is_none() {
        if let Some(t) = &mut ble.tranmode {
            t.armed = false;
            t.active = true;
        }
        enter(net);
        out.extend_from_slice(b"\r\nCONNECT\r\n");
    }
    out
}

/// When the world's phone next acts: it connects, or makes its next write.
pub fn next_wake(state: &State, world: &World) -> Option<Instant> {
    let phone = world.phone.as_ref()?;
    let ble = &state.ble;
    if ble.phone.connected.is_none() {
        return ble
            .phone
            .seen
            .and_then(|s| s.checked_add(Duration::from_millis(phone.connect_after_ms)));
    }
    let linked = ble.link.as_ref().is_some_and(|l| l.peer.is_none());
    if !linked {
        return None;
    }
    let write = phone.writes.get(ble.phone.writes)?;
    ble.phone
        .last?
        .checked_add(Duration::from_millis(write.after_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peers_advertise_valid_data_with_their_names() {
        for p in PEERS {
            let bytes = parse_adv_data(p.adv_data).expect(p.name);
            let name = p.name.as_bytes();
            assert!(bytes.windows(name.len()).any(|w| w == name), "{}", p.name);
            assert!(HexAddr::new(p.address).is_ok());
            for c in p.characteristics {
                assert!(Uuid::new(c.uuid).is_ok());
                assert_eq!(c.uuid, c.uuid.to_ascii_lowercase());
            }
        }
    }

    #[test]
    fn advertising_data_must_be_whole_ad_structures() {
        assert!(parse_adv_data("020106").is_some());
        assert!(parse_adv_data("").is_none());
        assert!(parse_adv_data("02010").is_none());
        assert!(parse_adv_data("0201").is_none());
        assert!(parse_adv_data("00").is_none());
        let longest = format!("1E09{}", "41".repeat(29));
        assert!(parse_adv_data(&longest).is_some());
        let too_long = format!("1F09{}", "41".repeat(30));
        assert!(parse_adv_data(&too_long).is_none());
        assert!(parse_adv_data(&format!("020106{longest}")).is_none());
    }

    #[test]
    fn hex_length_counts_the_converted_bytes() {
        assert_eq!(
            gatt_payload(Some(3), "123456"),
            Some(vec![0x12, 0x34, 0x56])
        );
        assert_eq!(gatt_payload(Some(6), "123456"), None);
        assert_eq!(gatt_payload(Some(1), "1G"), None);
        assert_eq!(gatt_payload(None, "123"), Some(b"123".to_vec()));
    }
}
