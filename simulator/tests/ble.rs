//! The BLE group: roles, name and address, the peripheral's GATT server and
//! advertising, the central's scan of and connection to the embedded peers
//! with reads, writes, notifications and MTU — through the runtime client,
//! and on the wire with a virtual clock where exact bytes matter.

use std::time::{Duration, Instant};

use fcm242d::client::Client;
use fcm242d::command::Line;
use fcm242d::engine::Final;
use fcm242d::generated::commands::{
    ato, escape, qbleaddr, qbleadvparam, qbleadvstart, qbleadvstop, qblecfgmtu, qbleconn,
    qbledisconn, qblegattcntfcfg, qblegattschar, qblegattssrv, qblegattssrvdone, qbleinit,
    qblename, qblescan, qblestat, qbletranmode, AnyCommand,
};
use fcm242d::generated::urcs::{qbleinfo, qblestat as stat_urc, Urc};
use fcm242d::session::Notice;
use fcm242d::transport::MemoryTransport;
use fcm242d::value::{HexAddr, Int, Text, Uuid};
use fcm242d_sim::groups::ble::{
    central_connects, central_disconnects, central_writes, handle, peer_disconnects,
    DEFAULT_PERIPHERAL_MTU, PEERS,
};
use fcm242d_sim::module::Module;
use fcm242d_sim::serve::in_process;
use fcm242d_sim::state::State;
use fcm242d_sim::world::World;

/// Long enough for every BLE URC the simulator schedules.
const SETTLE: Duration = Duration::from_millis(400);

const UART_RX: &str = "6e400002b5a3f393e0a9e50e24dcca9e";
const UART_TX: &str = "6e400003b5a3f393e0a9e50e24dcca9e";

/// A module behind a client (the catalogue loaded first, so the first
/// command is not slowed down by it).
fn start() -> (Client<MemoryTransport>, std::thread::JoinHandle<()>) {
    fcm242d_sim::catalog::catalog();
    let (link, handle) = in_process(World::default());
    (Client::new(link), handle)
}

fn end(client: Client<MemoryTransport>, handle: std::thread::JoinHandle<()>) {
    drop(client);
    handle.join().unwrap();
}

/// A module on a virtual clock, driven with raw command lines.
struct Wire {
    m: Module,
    now: Instant,
}

impl Wire {
    fn new() -> Wire {
        Wire::in_world(World::default())
    }

    fn in_world(world: World) -> Wire {
        Wire {
            m: Module::new(world),
            now: Instant::now(),
        }
    }

    /// What the module prints `ms` later.
    fn after(&mut self, ms: u64) -> Vec<String> {
        self.now += Duration::from_millis(ms);
        lines_of(&self.m.poll(self.now))
    }

    /// The lines the module writes for `cmd`, with what is due at once (as
    /// the serving loop does).
    fn send(&mut self, cmd: &str) -> Vec<String> {
        let mut out = self.m.input(format!("{cmd}\r").as_bytes(), self.now);
        out.extend(self.m.poll(self.now));
        lines_of(&out)
    }

    /// What the module prints in the next second.
    fn later(&mut self) -> Vec<String> {
        self.now += Duration::from_secs(1);
        lines_of(&self.m.poll(self.now))
    }

    /// Sends `cmd` and checks it is answered with `OK` alone.
    fn ok(&mut self, cmd: &str) {
        assert_eq!(self.send(cmd), ["OK"], "{cmd}");
    }

    /// Sends `cmd`, checks it is answered with `OK`, and returns what
    /// follows the `OK` at once (the URCs of the event it caused).
    fn events(&mut self, cmd: &str) -> Vec<String> {
        let mut out = self.send(cmd);
        assert_eq!(
            out.first().map(String::as_str),
            Some("OK"),
            "{cmd}: {out:?}"
        );
        out.remove(0);
        out
    }

    /// Sends `cmd` and checks it is answered with `ERROR` alone.
    fn error(&mut self, cmd: &str) {
        assert_eq!(self.send(cmd), ["ERROR"], "{cmd}");
    }

    fn stat(&mut self) -> String {
        let out = self.send("AT+QBLESTAT");
        assert_eq!(out.len(), 2, "{out:?}");
        out[0].clone()
    }

    /// A central connected to the peer at `addr`.
    fn connected(&mut self, addr_type: i64, addr: &str) -> Vec<String> {
        self.ok("AT+QBLEINIT=1");
        self.events(&format!("AT+QBLECONN={addr_type},\"{addr}\""))
    }
}

fn lines_of(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

fn thermometer() -> &'static fcm242d_sim::groups::ble::Peer {
    PEERS.iter().find(|p| p.name == "Sim-Thermometer").unwrap()
}

#[test]
fn a_peripheral_is_set_up_and_advertises_through_the_client() {
    let (mut c, h) = start();
    let s = c.send(&qblestat::Execute {}).unwrap();
    assert_eq!(s.lines[0].ble_state, qblestat::BleState::Uninitialized);
    let role = c.send(&qbleinit::Read {}).unwrap();
    assert_eq!(role.lines[0].role.wire(), 0);
    c.send(&qbleinit::Write {
        role: qbleinit::Role::from_wire("2").unwrap(),
        auto_adv: Some(qbleinit::AutoAdv::from_wire("1").unwrap()),
    })
    .unwrap();
    assert_eq!(c.send(&qbleinit::Read {}).unwrap().lines[0].role.wire(), 2);
    let s = c.send(&qblestat::Execute {}).unwrap();
    assert_eq!(s.lines[0].ble_state, qblestat::BleState::Initialized);

    // The default name is the module's; a new one is kept.
    let n = c.send(&qblename::Read {}).unwrap();
    assert_eq!(n.lines[0].ble_name, "FCM242D");
    c.send(&qblename::Write {
        ble_name: Text::new("QuecFCM242D").unwrap(),
    })
    .unwrap();
    assert_eq!(
        c.send(&qblename::Read {}).unwrap().lines[0].ble_name,
        "QuecFCM242D"
    );
    let a = c.send(&qbleaddr::Read {}).unwrap();
    assert_eq!(a.lines[0].ble_addr.as_str(), World::default().ble_address);

    // Advertising parameters: 160/160 by default, min <= max enforced.
    let p = c.send(&qbleadvparam::Read {}).unwrap();
    assert_eq!(
        (p.lines[0].adv_int_min.get(), p.lines[0].adv_int_max.get()),
        (160, 160)
    );
    let bad = c.send(&qbleadvparam::Write {
        adv_int_min: Int::new(200).unwrap(),
        adv_int_max: Int::new(100).unwrap(),
    });
    assert!(bad.is_err(), "{bad:?}");
    c.send(&qbleadvparam::Write {
        adv_int_min: Int::new(150).unwrap(),
        adv_int_max: Int::new(300).unwrap(),
    })
    .unwrap();
    let p = c.send(&qbleadvparam::Read {}).unwrap();
    assert_eq!(
        (p.lines[0].adv_int_min.get(), p.lines[0].adv_int_max.get()),
        (150, 300)
    );

    // Advertising needs the completed GATT server.
    assert!(c.send(&qbleadvstart::Execute {}).is_err());
    c.send(&qblegattssrv::Write {
        srv_uuid: Uuid::new("FFF1").unwrap(),
    })
    .unwrap();
    c.send(&qblegattschar::Write {
        char_uuid: Uuid::new("FFF2").unwrap(),
        att_cfg: None,
    })
    .unwrap();
    assert!(c.send(&qbleadvstart::Execute {}).is_err());
    c.send(&qblegattssrvdone::Execute {}).unwrap();
    let r = c.send(&qbleadvstart::Read {}).unwrap();
    assert_eq!(r.lines[0].adv_state.wire(), 0);
    c.send(&qbleadvstart::Execute {}).unwrap();
    let r = c.send(&qbleadvstart::Read {}).unwrap();
    assert_eq!(r.lines[0].adv_state.wire(), 1);
    let s = c.send(&qblestat::Execute {}).unwrap();
    assert_eq!(s.lines[0].ble_state, qblestat::BleState::Advertising);
    c.send(&qbleadvstop::Execute {}).unwrap();
    let r = c.send(&qbleadvstart::Read {}).unwrap();
    assert_eq!(r.lines[0].adv_state.wire(), 0);
    let s = c.send(&qblestat::Execute {}).unwrap();
    assert_eq!(s.lines[0].ble_state, qblestat::BleState::Initialized);
    // No peer connects to the module by itself: no URC.
    assert!(c.poll_urcs(SETTLE).unwrap().is_empty());
    end(c, h);
}

#[test]
fn initialisation_happens_once_per_boot_and_role_zero_undoes_it() {
    let mut w = Wire::new();
    assert_eq!(w.send("AT+QBLEINIT?"), ["+QBLEINIT: 0", "OK"]);
    w.ok("AT+QBLEINIT=1");
    w.error("AT+QBLEINIT=2,1");
    w.error("AT+QBLEINIT=1");
    assert_eq!(w.send("AT+QBLEINIT?"), ["+QBLEINIT: 1", "OK"]);
    // Out of the catalogue's range.
    w.error("AT+QBLEINIT=4");
    w.error("AT+QBLEINIT=2,2");
    w.ok("AT+QBLENAME=\"kept\"");
    w.ok("AT+QBLEINIT=0");
    assert_eq!(w.stat(), "+QBLESTAT: \"NOINIT\"");
    w.ok("AT+QBLEINIT=3");
    assert_eq!(w.send("AT+QBLEINIT?"), ["+QBLEINIT: 3", "OK"]);
    assert_eq!(w.send("AT+QBLENAME?"), ["+QBLENAME: \"kept\"", "OK"]);
    // A reboot forgets everything BLE.
    w.ok("AT+QRST");
    assert_eq!(w.stat(), "+QBLESTAT: \"NOINIT\"");
    assert_eq!(w.send("AT+QBLENAME?"), ["+QBLENAME: \"FCM242D\"", "OK"]);
}

#[test]
fn names_are_at_most_25_bytes() {
    let mut w = Wire::new();
    w.ok(&format!("AT+QBLENAME=\"{}\"", "n".repeat(25)));
    w.error(&format!("AT+QBLENAME=\"{}\"", "n".repeat(26)));
    assert_eq!(
        w.send("AT+QBLENAME?"),
        [format!("+QBLENAME: \"{}\"", "n".repeat(25)), "OK".into()]
    );
    // The FGM842D's default name is its own.
    let mut m = Module::new(World {
        firmware: "FGM842DAAR01A01".into(),
        ..World::default()
    });
    let out = lines_of(&m.input(b"AT+QBLENAME?\r", Instant::now()));
    assert_eq!(out, ["+QBLENAME: \"FGM842D\"", "OK"]);
}

#[test]
fn the_gatt_server_keeps_its_order_and_limits() {
    let mut w = Wire::new();
    // Not initialised, or a central: no GATT server.
    w.error("AT+QBLEGATTSSRV=\"FFF1\"");
    w.ok("AT+QBLEINIT=1");
    for cmd in [
        "AT+QBLEGATTSSRV=\"FFF1\"",
        "AT+QBLEGATTSCHAR=\"FFF2\"",
        "AT+QBLEGATTSSRVDONE",
        "AT+QBLEADVSTART",
        "AT+QBLEADVSTART?",
        "AT+QBLEADVSTOP",
        "AT+QBLEADVPARAM?",
        "AT+QBLEADVPARAM=160,160",
        "AT+QBLEADVDATA=020106",
    ] {
        w.error(cmd);
    }
    w.ok("AT+QBLEINIT=0");
    w.ok("AT+QBLEINIT=2");
    // Characteristic before service, done before characteristic.
    w.error("AT+QBLEGATTSCHAR=\"FFF2\"");
    w.error("AT+QBLEGATTSSRVDONE");
    w.ok("AT+QBLEGATTSSRV=\"FFF1\"");
    w.error("AT+QBLEGATTSSRVDONE");
    w.ok("AT+QBLEGATTSSRV=\"0000fff000001000800000805f9b34fb\"");
    w.ok("AT+QBLEGATTSSRV=\"FFF3\"");
    w.error("AT+QBLEGATTSSRV=\"FFF4\"");
    // UUIDs are 4 or 32 hex digits; <att_cfg> is hex 0..FF.
    w.error("AT+QBLEGATTSCHAR=\"FFF\"");
    w.error("AT+QBLEGATTSCHAR=\"FFF2\",100");
    w.ok("AT+QBLEGATTSCHAR=\"FFF2\"");
    w.ok("AT+QBLEGATTSCHAR=\"FFF5\",FF");
    w.ok("AT+QBLEGATTSCHAR=\"FFF6\",01");
    w.error("AT+QBLEGATTSCHAR=\"FFF7\"");
    w.ok("AT+QBLEGATTSSRVDONE");
    w.error("AT+QBLEGATTSSRVDONE");
    w.error("AT+QBLEGATTSSRV=\"FFF4\"");
    w.error("AT+QBLEGATTSCHAR=\"FFF7\"");
    // Peripheral-only commands of the central role.
    for cmd in [
        "AT+QBLESCAN=1",
        "AT+QBLESCAN?",
        "AT+QBLESCANPARAM?",
        "AT+QBLESCANPARAM=100,30",
        "AT+QBLECONN=0,\"58d391010203\"",
        "AT+QBLECFGMTU=100",
        "AT+QBLECFGMTU?",
    ] {
        w.error(cmd);
    }
    w.ok("AT+QBLEADVSTART");
    // Starting again while advertising, and stopping twice, are harmless.
    w.ok("AT+QBLEADVSTART");
    w.ok("AT+QBLEADVSTOP");
    w.ok("AT+QBLEADVSTOP");
    assert!(w.later().is_empty());
}

#[test]
fn advertising_data_is_checked_against_the_ad_structure_format() {
    let mut w = Wire::new();
    w.ok("AT+QBLEINIT=2");
    w.ok("AT+QBLEADVDATA=0201060B0953696D2D426561636F6E");
    w.ok(&format!("AT+QBLEADVDATA=1E09{}", "41".repeat(29)));
    for bad in [
        // Not hex, an odd digit, an empty field.
        "AT+QBLEADVDATA=02010G".to_string(),
        "AT+QBLEADVDATA=020106F".to_string(),
        "AT+QBLEADVDATA=".to_string(),
        // A structure longer than the data, one of length 0, one over 0x1e.
        "AT+QBLEADVDATA=05010203".to_string(),
        "AT+QBLEADVDATA=00".to_string(),
        format!("AT+QBLEADVDATA=1F09{}", "41".repeat(30)),
        // More than the 31 bytes of an advertising packet.
        format!("AT+QBLEADVDATA=0201061E09{}", "41".repeat(29)),
    ] {
        w.error(&bad);
    }
}

#[test]
fn a_scan_reports_the_worlds_peers_after_ok() {
    let mut w = Wire::new();
    w.ok("AT+QBLEINIT=1");
    assert_eq!(w.send("AT+QBLESCAN?"), ["+QBLESCAN: 0", "OK"]);
    let out = w.send("AT+QBLESCAN=1");
    let mut expected = vec!["OK".to_string()];
    for p in PEERS {
        expected.push(format!(
            "+QBLESCAN: \"{}\",{},\"{}\"",
            p.name, p.address_type, p.address
        ));
    }
    assert_eq!(out, expected);
    // Without <timeout> the scan runs until it is stopped.
    assert_eq!(w.send("AT+QBLESCAN?"), ["+QBLESCAN: 1", "OK"]);
    w.ok("AT+QBLESCAN=0");
    assert_eq!(w.send("AT+QBLESCAN?"), ["+QBLESCAN: 0", "OK"]);
    // <timeout> is required with <scan> 2.
    w.error("AT+QBLESCAN=2");
    w.error("AT+QBLESCAN=2,99");
    w.error("AT+QBLESCAN=4");
    let out = w.send("AT+QBLESCAN=2,1000");
    assert_eq!(out.len(), PEERS.len() + 1);
    assert_eq!(out[0], "OK");
    for (line, p) in out[1..].iter().zip(PEERS) {
        assert_eq!(
            line,
            &format!(
                "+QBLESCAN: \"{}\",{},\"{}\",{},\"{}\"",
                p.name, p.address_type, p.address, p.rssi, p.adv_data
            )
        );
        // The lines are those of the catalogue's grammar.
        assert!(qblescan::WriteLine::parse(line).is_ok(), "{line}");
    }
    // A scan with a timeout is over once its results are out.
    assert_eq!(w.send("AT+QBLESCAN?"), ["+QBLESCAN: 0", "OK"]);
    // Mode 3: connectable peers only.
    let out = w.send("AT+QBLESCAN=3");
    let connectable = PEERS.iter().filter(|p| p.connectable).count();
    assert!(connectable < PEERS.len());
    assert_eq!(out.len(), connectable + 1);
    assert!(!out.iter().any(|l| l.contains("Sim-Beacon")));
    assert!(w.later().is_empty());
}

#[test]
fn scan_parameters_keep_the_window_within_the_interval() {
    let mut w = Wire::new();
    w.ok("AT+QBLEINIT=1");
    assert_eq!(
        w.send("AT+QBLESCANPARAM?"),
        ["+QBLESCANPARAM: 100,30", "OK"]
    );
    w.error("AT+QBLESCANPARAM=100,101");
    w.error("AT+QBLESCANPARAM=17,17");
    w.ok("AT+QBLESCANPARAM=200,200");
    assert_eq!(
        w.send("AT+QBLESCANPARAM?"),
        ["+QBLESCANPARAM: 200,200", "OK"]
    );
}

#[test]
fn connecting_to_a_peer_reports_its_characteristics() {
    let (mut c, h) = start();
    let urcs = c.urc_channel();
    c.send(&qbleinit::Write {
        role: qbleinit::Role::from_wire("1").unwrap(),
        auto_adv: None,
    })
    .unwrap();
    let peer = thermometer();
    c.send(&qbleconn::Write {
        addr_type: qbleconn::AddressType::from_wire("0").unwrap(),
        peer_addr: HexAddr::new(peer.address.to_ascii_uppercase()).unwrap(),
        timeout: None,
    })
    .unwrap();
    let _ = c.poll_urcs(SETTLE).unwrap();
    let got: Vec<Urc> = urcs.try_iter().filter_map(Notice::into_urc).collect();
    assert!(
        matches!(&got[0], Urc::Qblestat(s) if s.event == stat_urc::Event::Connected),
        "{got:?}"
    );
    assert!(
        matches!(&got[1], Urc::Qbleconnparam(p) if (p.con_interval, p.timeout, p.latency) == (20, 500, 0)),
        "{got:?}"
    );
    // The default MTU of a central (AT+QBLECFGMTU's 64).
    assert!(
        matches!(&got[2], Urc::Qblemtu(m) if m.mtu_value.get() == 64),
        "{got:?}"
    );
    let infos: Vec<qbleinfo::Char> = got
        .iter()
        .filter_map(|u| match u {
            Urc::Qbleinfo(i) => Some(i.char.clone()),
            _ => None,
        })
        .collect();
    let mut expected: Vec<qbleinfo::Char> = peer
        .characteristics
        .iter()
        .map(|ch| qbleinfo::Char::Other(ch.uuid.into()))
        .collect();
    expected.push(qbleinfo::Char::DiscoveryDone);
    assert_eq!(infos, expected);
    assert_eq!(got.len(), 3 + expected.len());
    let s = c.send(&qblestat::Execute {}).unwrap();
    assert_eq!(s.lines[0].ble_state, qblestat::BleState::Connected);

    // One connection at a time.
    let again = c.send(&qbleconn::Write {
        addr_type: qbleconn::AddressType::from_wire("0").unwrap(),
        peer_addr: HexAddr::new(peer.address).unwrap(),
        timeout: None,
    });
    assert!(again.is_err());
    c.send(&qbledisconn::Write { conn_idx: None }).unwrap();
    let _ = c.poll_urcs(SETTLE).unwrap();
    let got: Vec<Urc> = urcs.try_iter().filter_map(Notice::into_urc).collect();
    assert!(
        matches!(&got[..], [Urc::Qblestat(s)] if s.event == stat_urc::Event::Disconnected),
        "{got:?}"
    );
    let s = c.send(&qblestat::Execute {}).unwrap();
    assert_eq!(s.lines[0].ble_state, qblestat::BleState::Disconnected);
    assert!(c.send(&qbledisconn::Write { conn_idx: None }).is_err());
    end(c, h);
}

#[test]
fn a_connection_to_a_peer_that_is_not_there_never_completes() {
    let mut w = Wire::new();
    w.ok("AT+QBLEINIT=1");
    // Unknown address, wrong address type, a non-connectable beacon.
    for cmd in [
        "AT+QBLECONN=0,\"0a0b0c0d0e0f\",1000",
        "AT+QBLECONN=1,\"58d391010203\"",
        "AT+QBLECONN=1,\"d1e2f3a4b5c6\"",
    ] {
        w.ok(cmd);
        assert!(w.later().is_empty(), "{cmd}");
        assert_eq!(w.stat(), "+QBLESTAT: \"INIT\"");
    }
    w.error("AT+QBLECONN=2,\"58d391010203\"");
    w.error("AT+QBLECONN=0,\"58d39101020\"");
    w.error("AT+QBLECONN=0,\"58d391010203\",999");
    // Nothing to disconnect or to talk to.
    w.error("AT+QBLEDISCONN");
    w.error("AT+QBLEDISCONN=0");
    w.error("AT+QBLEGATTCRD=0,\"2a19\"");
    w.error("AT+QBLEGATTCWRREQ=0,\"fff3\",\"x\"");
    w.error("AT+QBLEGATTCNTFCFG=0,\"2a19\",1");
    w.error("AT+QBLECONNPARAM?");
    w.error("AT+QBLECONNPARAM=0,20,500,0");
}

#[test]
fn a_central_reads_and_writes_the_peers_characteristics() {
    let mut w = Wire::new();
    let urcs = w.connected(0, "58D391010203");
    assert_eq!(urcs[0], "+QBLESTAT: \"CONNECTED\"");
    assert_eq!(urcs.last().unwrap(), "+QBLEINFO: \"DOWN\"");
    // A read answers OK, then the value.
    assert_eq!(w.send("AT+QBLEGATTCRD=0,\"2A19\""), ["OK", "87"]);
    assert_eq!(w.send("AT+QBLEGATTCRD=0,\"fff3\""), ["OK", "interval=10"]);
    // A write request changes the value; fff3 takes no write command.
    w.ok("AT+QBLEGATTCWRREQ=0,\"FFF3\",\"interval=5\"");
    assert_eq!(w.send("AT+QBLEGATTCRD=0,\"fff3\""), ["OK", "interval=5"]);
    w.error("AT+QBLEGATTCWRCMD=0,\"fff3\",\"interval=1\"");
    // <hex_length> is the number of bytes the hex digits stand for.
    w.ok("AT+QBLEGATTCWRREQ=0,\"fff3\",3,\"414243\"");
    assert_eq!(w.send("AT+QBLEGATTCRD=0,\"fff3\""), ["OK", "ABC"]);
    w.error("AT+QBLEGATTCWRREQ=0,\"fff3\",6,\"414243\"");
    w.error("AT+QBLEGATTCWRREQ=0,\"fff3\",2,\"41424\"");
    // Non-printable values read back as hex digits.
    w.ok("AT+QBLEGATTCWRREQ=0,\"fff3\",2,\"00FF\"");
    assert_eq!(w.send("AT+QBLEGATTCRD=0,\"fff3\""), ["OK", "00FF"]);
    // Unknown characteristics, properties the characteristic lacks.
    w.error("AT+QBLEGATTCRD=0,\"abcd\"");
    w.error("AT+QBLEGATTCWRREQ=0,\"2a19\",\"1\"");
    w.error("AT+QBLEGATTCNTFCFG=0,\"fff3\",1");
    w.ok("AT+QBLEGATTCNTFCFG=0,\"2a19\",1");
    w.ok("AT+QBLEGATTCNTFCFG=0,\"2A19\",0");
    w.error("AT+QBLEGATTCNTFCFG=0,\"2a19\",2");
    w.error("AT+QBLEGATTCRD=1,\"2a19\"");
    // Data longer than MTU-3 (61 bytes at the default MTU 64).
    w.ok(&format!(
        "AT+QBLEGATTCWRREQ=0,\"fff3\",\"{}\"",
        "x".repeat(61)
    ));
    w.error(&format!(
        "AT+QBLEGATTCWRREQ=0,\"fff3\",\"{}\"",
        "x".repeat(62)
    ));
    assert!(w.later().is_empty());
    // Transparent mode writes: 2a19 cannot be written.
    w.error("AT+QBLETRANMODE=\"2a19\"");
    w.error("AT+QBLETRANMODE=\"2a19\",1");
}

#[test]
fn the_mtu_is_exchanged_once_per_connection() {
    let mut w = Wire::new();
    w.ok("AT+QBLEINIT=1");
    assert_eq!(w.send("AT+QBLECFGMTU?"), ["+QBLECFGMTU: 64", "OK"]);
    w.error("AT+QBLECFGMTU=63");
    w.error("AT+QBLECFGMTU=513");
    // Before a connection: the value for the next MTU exchange.
    w.ok("AT+QBLECFGMTU=100");
    w.ok("AT+QBLECFGMTU=128");
    assert_eq!(w.send("AT+QBLECFGMTU?"), ["+QBLECFGMTU: 128", "OK"]);
    let urcs = w.events("AT+QBLECONN=0,\"58d391010203\"");
    assert!(urcs.contains(&"+QBLEMTU: 128".to_string()), "{urcs:?}");
    // During the connection: once, limited by the peer's MTU (247).
    assert_eq!(w.events("AT+QBLECFGMTU=512"), ["+QBLEMTU: 247"]);
    w.error("AT+QBLECFGMTU=100");
    assert_eq!(w.send("AT+QBLECFGMTU?"), ["+QBLECFGMTU: 512", "OK"]);
    w.ok(&format!(
        "AT+QBLEGATTCWRREQ=0,\"fff3\",\"{}\"",
        "x".repeat(244)
    ));
    w.error(&format!(
        "AT+QBLEGATTCWRREQ=0,\"fff3\",\"{}\"",
        "x".repeat(245)
    ));
    // A new connection may exchange it again.
    assert_eq!(
        w.events("AT+QBLEDISCONN=0"),
        ["+QBLESTAT: \"DISCONNECTED\""]
    );
    let urcs = w.events("AT+QBLECONN=1,\"C0FFEE123456\",5000");
    assert!(urcs.contains(&"+QBLEMTU: 512".to_string()), "{urcs:?}");
    assert_eq!(w.events("AT+QBLECFGMTU=200"), ["+QBLEMTU: 200"]);
    assert!(w.later().is_empty());
}

#[test]
fn connection_parameters_follow_the_manuals_rule() {
    let mut w = Wire::new();
    w.connected(0, "58d391010203");
    assert_eq!(
        w.send("AT+QBLECONNPARAM?"),
        ["+QBLECONNPARAM: 0,20,500,0", "OK"]
    );
    // <con_interval> × <latency> must be less than <timeout>.
    w.error("AT+QBLECONNPARAM=0,100,500,5");
    w.error("AT+QBLECONNPARAM=0,100,500,6");
    w.error("AT+QBLECONNPARAM=1,100,500,0");
    w.error("AT+QBLECONNPARAM=0,5,500,0");
    assert_eq!(
        w.events("AT+QBLECONNPARAM=0,100,500,4"),
        ["+QBLECONNPARAM: 0,100,500,4"]
    );
    assert_eq!(
        w.send("AT+QBLECONNPARAM?"),
        ["+QBLECONNPARAM: 0,100,500,4", "OK"]
    );
}

#[test]
fn a_uart_peer_notifies_what_it_is_sent_once_subscribed() {
    let (mut c, h) = start();
    let urcs = c.urc_channel();
    for cmd in ["AT+QBLEINIT=1", "AT+QBLECONN=1,\"c0ffee123456\""] {
        let cmd = AnyCommand::parse(cmd).unwrap();
        match cmd {
            AnyCommand::QbleinitWrite(x) => {
                c.send(&x).unwrap();
            }
            AnyCommand::QbleconnWrite(x) => {
                c.send(&x).unwrap();
            }
            _ => unreachable!(),
        }
    }
    let _ = c.poll_urcs(SETTLE).unwrap();
    let _: Vec<Urc> = urcs.try_iter().filter_map(Notice::into_urc).collect();
    let write =
        |data: &str, hex_length: Option<i64>| fcm242d::generated::commands::qblegattcwrcmd::Write {
            conn_idx: Int::new(0).unwrap(),
            uuid: Uuid::new(UART_RX).unwrap(),
            hex_length,
            data: Text::new(data).unwrap(),
        };
    // Not subscribed yet: the peer keeps quiet.
    c.send(&write("hello", None)).unwrap();
    let _ = c.poll_urcs(SETTLE).unwrap();
    assert_eq!(urcs.try_iter().count(), 0);
    c.send(&fcm242d::generated::commands::qblegattcntfcfg::Write {
        conn_idx: Int::new(0).unwrap(),
        uuid: Uuid::new(UART_TX.to_ascii_uppercase()).unwrap(),
        enable: fcm242d::generated::commands::qblegattcntfcfg::Enable::from_wire("1").unwrap(),
    })
    .unwrap();
    c.send(&write("hello, peer", None)).unwrap();
    c.send(&write("48690A", Some(3))).unwrap();
    let _ = c.poll_urcs(SETTLE).unwrap();
    let got: Vec<Urc> = urcs.try_iter().filter_map(Notice::into_urc).collect();
    let received: Vec<(String, Vec<u8>)> = got
        .iter()
        .filter_map(|u| match u {
            Urc::Qblerecv(r) => Some((r.uuid.as_str().to_string(), r.data.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        received,
        [
            (UART_TX.to_string(), b"hello, peer".to_vec()),
            // "Hi\n" is not printable: it is printed as hex digits.
            (UART_TX.to_string(), b"48690A".to_vec()),
        ]
    );
    let r = c
        .send(&fcm242d::generated::commands::qblegattcrd::Write {
            conn_idx: Int::new(0).unwrap(),
            uuid: Uuid::new("2a29").unwrap(),
        })
        .unwrap();
    assert_eq!(r.result, Final::Ok);
    end(c, h);
}

#[test]
fn the_uart_echo_is_exact_on_the_wire() {
    let mut w = Wire::new();
    w.connected(1, "c0ffee123456");
    w.ok(&format!("AT+QBLEGATTCNTFCFG=0,\"{UART_TX}\",1"));
    let cmd = format!("AT+QBLEGATTCWRREQ=0,\"{UART_RX}\",\"from host\"\r");
    let mut out = w.m.input(cmd.as_bytes(), w.now);
    out.extend(w.m.poll(w.now));
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!("\r\nOK\r\n\r\n+QBLERECV: 0,\"{UART_TX}\",9\r\nfrom host\r\n")
    );
    assert_eq!(
        w.send(&format!("AT+QBLEGATTCRD=0,\"{UART_TX}\"")),
        ["OK", "ready"]
    );
    // RX cannot be read.
    w.error(&format!("AT+QBLEGATTCRD=0,\"{UART_RX}\""));
}

/// The default world without its phone: nothing connects to the module's
/// peripheral but the test's own calls of the group's hooks.
fn no_phone() -> World {
    World {
        phone: None,
        ..World::default()
    }
}

/// Runs BLE commands on a state directly (for the peripheral side, whose
/// central — a phone — acts through the group's hooks).
fn run(state: &mut State, cmd: &str) -> Vec<String> {
    let world = World::default();
    let cmd = AnyCommand::parse(cmd).unwrap();
    let reply = handle(&cmd, state, &world, &mut fcm242d_sim::net::Net::default()).unwrap();
    let mut out = lines_of(&reply.render());
    for (_, urc) in &reply.urcs {
        out.extend(lines_of(urc.as_bytes()));
    }
    out
}

/// A phone writes `data` into the module's characteristic `uuid`: what the
/// module prints at its next poll, or `None` when the write is refused.
fn phone_writes(state: &mut State, uuid: &str, data: &[u8]) -> Option<String> {
    if !central_writes(state, uuid, data) {
        return None;
    }
    let out = fcm242d_sim::groups::ble::poll(
        state,
        &mut fcm242d_sim::net::Net::default(),
        &no_phone(),
        Instant::now(),
    );
    Some(String::from_utf8(out).unwrap())
}

fn peripheral(state: &mut State, init: &str) {
    for cmd in [
        init,
        "AT+QBLEGATTSSRV=\"FFF1\"",
        "AT+QBLEGATTSCHAR=\"FFF2\"",
        "AT+QBLEGATTSCHAR=\"FFF3\",01",
        "AT+QBLEGATTSSRVDONE",
        "AT+QBLEADVSTART",
    ] {
        assert_eq!(run(state, cmd), ["OK"], "{cmd}");
    }
}

#[test]
fn a_phone_connects_to_the_peripheral_and_exchanges_data() {
    let mut s = State::default();
    peripheral(&mut s, "AT+QBLEINIT=2,1");
    // Not connected yet: nothing to notify.
    assert_eq!(run(&mut s, "AT+QBLEGATTSNTFY=0,\"FFF2\",\"x\""), ["ERROR"]);
    assert_eq!(
        central_connects(&mut s, DEFAULT_PERIPHERAL_MTU).unwrap(),
        ["+QBLESTAT: \"CONNECTED\"", "+QBLEMTU: 23"]
    );
    assert!(central_connects(&mut s, 23).is_none());
    assert_eq!(
        run(&mut s, "AT+QBLESTAT"),
        ["+QBLESTAT: \"CONNECTED\"", "OK"]
    );
    assert_eq!(run(&mut s, "AT+QBLEADVSTART?"), ["+QBLEADVSTART: 0", "OK"]);
    assert_eq!(run(&mut s, "AT+QBLEADVSTART"), ["ERROR"]);
    // The phone writes; the module reports it with the data after the line.
    assert_eq!(
        phone_writes(&mut s, "FFF2", b"from phone").unwrap(),
        "\r\n+QBLERECV: 0,\"fff2\",10\r\nfrom phone\r\n"
    );
    assert!(phone_writes(&mut s, "FFF9", b"x").is_none());
    assert!(phone_writes(&mut s, "FFF2", &[b'x'; 21]).is_none());
    // Notifications: only on a Notify characteristic, at most MTU-3 bytes.
    assert_eq!(
        run(&mut s, "AT+QBLEGATTSNTFY=0,\"FFF2\",\"123456789\""),
        ["OK"]
    );
    assert_eq!(
        s.ble.last_notification,
        Some(("fff2".to_string(), b"123456789".to_vec()))
    );
    assert_eq!(
        run(&mut s, "AT+QBLEGATTSNTFY=0,\"fff2\",3,\"123456\""),
        ["OK"]
    );
    assert_eq!(
        s.ble.last_notification,
        Some(("fff2".to_string(), vec![0x12, 0x34, 0x56]))
    );
    assert_eq!(run(&mut s, "AT+QBLEGATTSNTFY=0,\"FFF3\",\"x\""), ["ERROR"]);
    assert_eq!(run(&mut s, "AT+QBLEGATTSNTFY=0,\"FFF9\",\"x\""), ["ERROR"]);
    let longest = format!("AT+QBLEGATTSNTFY=0,\"FFF2\",\"{}\"", "y".repeat(20));
    assert_eq!(run(&mut s, &longest), ["OK"]);
    let too_long = format!("AT+QBLEGATTSNTFY=0,\"FFF2\",\"{}\"", "y".repeat(21));
    assert_eq!(run(&mut s, &too_long), ["ERROR"]);
    // Transparent mode sends by Notify: FFF3 (Write only) cannot carry it.
    assert_eq!(run(&mut s, "AT+QBLETRANMODE=\"FFF3\",1"), ["ERROR"]);
    // Central-side commands are not the peripheral's.
    assert_eq!(run(&mut s, "AT+QBLEGATTCRD=0,\"FFF2\""), ["ERROR"]);
    // With auto advertising, a disconnection restarts advertising.
    assert_eq!(
        central_disconnects(&mut s).unwrap(),
        ["+QBLESTAT: \"DISCONNECTED\""]
    );
    assert!(central_disconnects(&mut s).is_none());
    assert_eq!(
        run(&mut s, "AT+QBLESTAT"),
        ["+QBLESTAT: \"ADVERTISING\"", "OK"]
    );
    // The module may end the connection itself.
    central_connects(&mut s, 185).unwrap();
    assert_eq!(
        run(&mut s, "AT+QBLEDISCONN"),
        ["OK", "+QBLESTAT: \"DISCONNECTED\""]
    );
    assert_eq!(run(&mut s, "AT+QBLEADVSTART?"), ["+QBLEADVSTART: 1", "OK"]);
}

#[test]
fn without_auto_advertising_a_disconnected_peripheral_stays_quiet() {
    let mut s = State::default();
    peripheral(&mut s, "AT+QBLEINIT=2,0");
    central_connects(&mut s, 247).unwrap();
    central_disconnects(&mut s).unwrap();
    assert_eq!(
        run(&mut s, "AT+QBLESTAT"),
        ["+QBLESTAT: \"DISCONNECTED\"", "OK"]
    );
    assert_eq!(run(&mut s, "AT+QBLEADVSTART?"), ["+QBLEADVSTART: 0", "OK"]);
    assert_eq!(run(&mut s, "AT+QBLEADVSTART"), ["OK"]);
    assert_eq!(
        run(&mut s, "AT+QBLESTAT"),
        ["+QBLESTAT: \"ADVERTISING\"", "OK"]
    );
    // A phone that is not connected cannot write or disconnect.
    assert!(!central_writes(&mut s, "FFF2", b"x"));
    // Role 0 de-initialises; a central cannot be connected to.
    assert_eq!(run(&mut s, "AT+QBLEINIT=0"), ["OK"]);
    assert!(central_connects(&mut s, 23).is_none());
    assert_eq!(run(&mut s, "AT+QBLESTAT"), ["+QBLESTAT: \"NOINIT\"", "OK"]);
}

#[test]
fn de_initialising_drops_the_connection() {
    let mut w = Wire::new();
    w.connected(0, "58d391010203");
    assert_eq!(w.events("AT+QBLEINIT=0"), ["+QBLESTAT: \"DISCONNECTED\""]);
    assert_eq!(w.stat(), "+QBLESTAT: \"NOINIT\"");
    w.error("AT+QBLEGATTCRD=0,\"2a19\"");
}

/// Replaces `${name}` placeholders with the scenario's values.
fn substitute(text: &str, values: &std::collections::BTreeMap<String, String>) -> String {
    let mut out = text.to_string();
    for (k, v) in values {
        out = out.replace(&format!("${{{k}}}"), v);
    }
    out
}

#[test]
fn the_manuals_peripheral_example_runs() {
    let catalog = fcm242d_sim::catalog::catalog();
    let scenario = &catalog
        .scenarios()
        .find(|(_, e)| e.value.name == "ble_peripheral_setup")
        .unwrap()
        .1
        .value;
    let world = no_phone();
    let mut values = scenario.placeholders.clone();
    // The address is the world's (the manual's module had its own).
    values.insert("ble_addr".into(), world.ble_address.clone());
    // (The default world's phone would connect: see the next test.)
    let mut w = Wire::in_world(world);
    let mut pending: Vec<String> = Vec::new();
    let mut sent = 0;
    for step in &scenario.steps {
        if let Some(send) = &step.send {
            assert!(pending.is_empty(), "unmatched output {pending:?}");
            pending = w.send(&substitute(send, &values));
            sent += 1;
        } else if let Some(expect) = &step.expect {
            assert!(!pending.is_empty(), "expected `{expect}`, got nothing");
            assert_eq!(pending.remove(0), substitute(expect, &values));
        } else {
            assert!(step.expect_urc.is_none() && step.expect_data.is_none());
        }
    }
    assert!(pending.is_empty(), "{pending:?}");
    assert_eq!(sent, 8);
    // The module advertises under the example's name.
    assert_eq!(w.stat(), "+QBLESTAT: \"ADVERTISING\"");
    assert_eq!(
        w.send("AT+QBLENAME?"),
        [
            format!("+QBLENAME: \"{}\"", values["ble_name"]),
            "OK".into()
        ]
    );
    assert!(w.later().is_empty());
}

/// The steps of the manual's example `name`, run on `w` in order: sends,
/// expected lines (the URCs of the phone's actions among them, waited for
/// on the virtual clock) and expected data.
fn run_example(w: &mut Wire, name: &str, values: &std::collections::BTreeMap<String, String>) {
    let catalog = fcm242d_sim::catalog::catalog();
    let scenario = &catalog
        .scenarios()
        .find(|(_, e)| e.value.name == name)
        .unwrap()
        .1
        .value;
    let mut pending: Vec<String> = Vec::new();
    for step in &scenario.steps {
        let expected = step
            .expect
            .as_ref()
            .or(step.expect_urc.as_ref())
            .or(step.expect_data.as_ref());
        if let Some(send) = &step.send {
            assert!(pending.is_empty(), "{name}: unmatched {pending:?}");
            pending = w.send(&substitute(send, values));
        } else if let Some(expected) = expected {
            // What the phone does comes within a few seconds.
            for _ in 0..50 {
                if !pending.is_empty() {
                    break;
                }
                pending = w.after(100);
            }
            assert!(!pending.is_empty(), "{name}: expected `{expected}`");
            assert_eq!(pending.remove(0), substitute(expected, values), "{name}");
        }
    }
    assert!(pending.is_empty(), "{name}: unmatched {pending:?}");
}

#[test]
fn the_manuals_ble_examples_run_with_the_worlds_phone() {
    // ble_peripheral_setup, then the phone of the default world connects
    // (ble_connect_nrf_connect), writes "from phone" into FFF2
    // (ble_send_data_to_module) and stays connected for the notification
    // (ble_send_data_to_nrf_connect).
    let world = World::default();
    let mut values = std::collections::BTreeMap::new();
    values.insert("ble_name".to_string(), "QuecFGM842D".to_string());
    values.insert("ble_addr".to_string(), world.ble_address.clone());
    let mut w = Wire::in_world(world);
    run_example(&mut w, "ble_peripheral_setup", &values);
    // Connected half a second after advertising started, and not before.
    assert!(w.after(499).is_empty());
    assert_eq!(w.after(1), ["+QBLESTAT: \"CONNECTED\"", "+QBLEMTU: 247"]);
    assert_eq!(w.stat(), "+QBLESTAT: \"CONNECTED\"");
    run_example(&mut w, "ble_send_data_to_module", &values);
    run_example(&mut w, "ble_send_data_to_nrf_connect", &values);
    assert_eq!(
        w.m.state_mut().ble.last_notification,
        Some(("fff2".to_string(), b"123456789".to_vec()))
    );
    // Nothing more from the phone.
    assert!(w.after(10_000).is_empty());
    assert_eq!(w.stat(), "+QBLESTAT: \"CONNECTED\"");
}

#[test]
fn the_worlds_phone_writes_exactly_what_the_manual_prints() {
    let mut w = Wire::new();
    for cmd in [
        "AT+QBLEINIT=2,1",
        "AT+QBLENAME=\"QuecFGM842D\"",
        "AT+QBLEGATTSSRV=\"FFF1\"",
        "AT+QBLEGATTSCHAR=\"FFF2\"",
        "AT+QBLEGATTSSRVDONE",
        "AT+QBLEADVSTART",
    ] {
        w.ok(cmd);
    }
    w.now += Duration::from_millis(500);
    assert_eq!(
        w.m.poll(w.now),
        b"\r\n+QBLESTAT: \"CONNECTED\"\r\n\r\n+QBLEMTU: 247\r\n"
    );
    w.now += Duration::from_millis(500);
    assert_eq!(
        w.m.poll(w.now),
        b"\r\n+QBLERECV: 0,\"fff2\",10\r\nfrom phone\r\n"
    );
}

#[test]
fn the_phone_connects_only_to_the_name_it_looks_for() {
    // The module's own name: not what the user picks.
    let mut w = Wire::new();
    w.advertising("AT+QBLEINIT=2,1");
    assert!(w.after(10_000).is_empty());
    assert_eq!(w.stat(), "+QBLESTAT: \"ADVERTISING\"");
    // Advertising data with the complete local name "QuecFGM842D" shows
    // that name, whatever the device name.
    let mut w = Wire::new();
    w.ok("AT+QBLEINIT=2,1");
    w.ok("AT+QBLEADVDATA=\"0201060C095175656346474D38343244\"");
    w.advertising_set_up();
    assert!(w.after(499).is_empty());
    assert_eq!(w.after(1)[0], "+QBLESTAT: \"CONNECTED\"");
    // Advertising data without a name shows none, even with the name set.
    let mut w = Wire::new();
    w.ok("AT+QBLEINIT=2,1");
    w.ok("AT+QBLENAME=\"QuecFGM842D\"");
    w.ok("AT+QBLEADVDATA=\"020106\"");
    w.advertising_set_up();
    assert!(w.after(10_000).is_empty());
    // A module that stops advertising before the user taps CONNECT is
    // not connected to; advertising again starts the wait again.
    let mut w = Wire::new();
    w.ok("AT+QBLEINIT=2,1");
    w.ok("AT+QBLENAME=\"QuecFGM842D\"");
    w.advertising_set_up();
    assert!(w.after(300).is_empty());
    w.ok("AT+QBLEADVSTOP");
    assert!(w.after(1_000).is_empty());
    w.ok("AT+QBLEADVSTART");
    assert!(w.after(300).is_empty());
    assert!(w.after(199).is_empty());
    assert_eq!(w.after(1)[0], "+QBLESTAT: \"CONNECTED\"");
}

#[test]
fn the_phone_connects_once_per_initialisation() {
    let mut w = Wire::new();
    w.ok("AT+QBLEINIT=2,1");
    w.ok("AT+QBLENAME=\"QuecFGM842D\"");
    w.advertising_set_up();
    assert_eq!(w.after(500), ["+QBLESTAT: \"CONNECTED\"", "+QBLEMTU: 247"]);
    // The module ends the link before the phone writes: the write is
    // given up, and auto advertising does not bring the phone back.
    assert_eq!(w.events("AT+QBLEDISCONN"), ["+QBLESTAT: \"DISCONNECTED\""]);
    assert_eq!(w.stat(), "+QBLESTAT: \"ADVERTISING\"");
    assert!(w.after(10_000).is_empty());
    // A new initialisation: the user connects again.
    w.ok("AT+QBLEINIT=0");
    w.ok("AT+QBLEINIT=2,1");
    w.advertising_set_up();
    assert_eq!(w.after(500)[0], "+QBLESTAT: \"CONNECTED\"");
    assert_eq!(w.after(500), ["+QBLERECV: 0,\"fff2\",10", "from phone"]);
}

#[test]
fn a_world_file_sets_up_or_removes_the_phone() {
    // Without a phone, an advertising module stays alone.
    let world = World::from_yaml("phone: null").unwrap();
    assert_eq!(world.phone, None);
    let mut w = Wire::in_world(world);
    w.ok("AT+QBLEINIT=2,1");
    w.ok("AT+QBLENAME=\"QuecFGM842D\"");
    w.advertising_set_up();
    assert!(w.after(10_000).is_empty());
    assert_eq!(w.stat(), "+QBLESTAT: \"ADVERTISING\"");
    // A phone that connects to any module, with the ATT default MTU, and
    // writes twice: into a characteristic the module does not have (the
    // write fails on the phone, the module prints nothing), then into
    // FFF3 (Write only).
    let world = World::from_yaml(
        "phone:\n  connects_to: null\n  connect_after_ms: 2000\n  mtu: 5\n  writes:\n    - {uuid: FFF9, data: lost, after_ms: 100}\n    - {uuid: fff3, data: hello, after_ms: 100}\n",
    )
    .unwrap();
    let mut w = Wire::in_world(world);
    w.advertising("AT+QBLEINIT=2,1");
    assert!(w.after(1_999).is_empty());
    // The MTU is kept within the peripheral's range.
    assert_eq!(w.after(1), ["+QBLESTAT: \"CONNECTED\"", "+QBLEMTU: 23"]);
    assert!(w.after(100).is_empty());
    assert_eq!(w.after(100), ["+QBLERECV: 0,\"fff3\",5", "hello"]);
    assert!(w.after(10_000).is_empty());
    assert!(World::from_yaml("phone: {colour: red}").is_err());
}

#[test]
fn the_phones_writes_arrive_raw_in_transparent_mode() {
    let mut w = Wire::new();
    w.ok("AT+QBLEINIT=2,1");
    w.ok("AT+QBLENAME=\"QuecFGM842D\"");
    w.advertising_set_up();
    assert_eq!(w.send("AT+QBLETRANMODE=\"FFF2\""), ["CONNECT"]);
    // Connected while the UART carries the link: the URCs of the
    // connection wait for command mode, the phone's write is data.
    assert!(w.poll().is_empty());
    w.now += Duration::from_millis(500);
    assert!(w.m.poll(w.now).is_empty());
    w.now += Duration::from_millis(500);
    assert_eq!(w.m.poll(w.now), b"from phone");
    assert_eq!(
        w.escape(),
        ["OK", "+QBLESTAT: \"CONNECTED\"", "+QBLEMTU: 247"]
    );
    assert_eq!(w.stat(), "+QBLESTAT: \"CONNECTED\"");
}

// ------------------------------------------------------------------ transparent mode

impl Wire {
    /// Host bytes in transparent mode, then what the module prints at once.
    fn raw(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.now += Duration::from_millis(1);
        let mut out = self.m.input(bytes, self.now);
        out.extend(self.m.poll(self.now));
        out
    }

    /// What the module prints at its next poll (a millisecond later).
    fn poll(&mut self) -> Vec<u8> {
        self.now += Duration::from_millis(1);
        self.m.poll(self.now)
    }

    /// `+++` between two guard times (the world's 1 s), and the answer.
    fn escape(&mut self) -> Vec<String> {
        self.now += Duration::from_secs(2);
        let mut out = self.m.input(b"+++", self.now);
        self.now += Duration::from_secs(2);
        out.extend(self.m.poll(self.now));
        lines_of(&out)
    }

    /// A central connected to the UART-like peer, subscribed to its TX.
    fn uart_peer(&mut self) {
        self.connected(1, "c0ffee123456");
        self.ok(&format!("AT+QBLEGATTCNTFCFG=0,\"{UART_TX}\",1"));
    }

    /// A peripheral with FFF2 (Notify, Write no response) and FFF3 (Write),
    /// advertising.
    fn advertising(&mut self, init: &str) {
        self.ok(init);
        self.advertising_set_up();
    }

    /// An initialised peripheral gets FFF2 (Notify, Write no response) and
    /// FFF3 (Write), and advertises.
    fn advertising_set_up(&mut self) {
        for cmd in [
            "AT+QBLEGATTSSRV=\"FFF1\"",
            "AT+QBLEGATTSCHAR=\"FFF2\"",
            "AT+QBLEGATTSCHAR=\"FFF3\",01",
            "AT+QBLEGATTSSRVDONE",
            "AT+QBLEADVSTART",
        ] {
            self.ok(cmd);
        }
    }
}

#[test]
fn transparent_mode_is_entered_only_where_the_manual_allows_it() {
    let mut w = Wire::new();
    // Not initialised.
    w.error(&format!("AT+QBLETRANMODE=\"{UART_RX}\""));
    // A central must be connected, and the characteristic must take writes.
    w.ok("AT+QBLEINIT=1");
    w.error(&format!("AT+QBLETRANMODE=\"{UART_RX}\""));
    w.events("AT+QBLECONN=0,\"58d391010203\"");
    w.error("AT+QBLETRANMODE=\"2a19\""); // Read and Notify only
    w.error("AT+QBLETRANMODE=\"ffff\""); // not the peer's
    w.error(&format!("AT+QBLETRANMODE=\"{UART_RX}\"")); // another peer's
    assert_eq!(w.send("AT+QBLETRANMODE=\"FFF3\""), ["CONNECT"]);
    // The UART belongs to the link: a command line is data now.
    assert!(w.raw(b"AT\r\n").is_empty());
    assert_eq!(
        w.m.state().ble.link.as_ref().unwrap().written["fff3"],
        b"AT\r\n"
    );
    assert_eq!(w.escape(), ["OK"]);
    assert_eq!(w.send("AT+QBLEGATTCRD=0,\"fff3\""), ["OK", "41540D0A"]);

    // A peripheral: advertising or connected, and a characteristic of its
    // own that notifies.
    let mut w = Wire::new();
    w.ok("AT+QBLEINIT=2");
    w.ok("AT+QBLEGATTSSRV=\"FFF1\"");
    w.ok("AT+QBLEGATTSCHAR=\"FFF2\"");
    w.ok("AT+QBLEGATTSSRVDONE");
    w.error("AT+QBLETRANMODE=\"FFF2\""); // not advertising yet
    w.ok("AT+QBLEADVSTART");
    w.error("AT+QBLETRANMODE=\"FFF9\"");
    assert_eq!(w.send("AT+QBLETRANMODE=\"FFF2\",0"), ["CONNECT"]);
    // No central yet: the bytes are lost.
    assert!(w.raw(b"nobody listens").is_empty());
    assert_eq!(w.m.state().ble.last_notification, None);
    assert_eq!(w.escape(), ["OK"]);
    assert_eq!(w.stat(), "+QBLESTAT: \"ADVERTISING\"");
}

#[test]
fn a_central_in_transparent_mode_writes_and_gets_the_peers_notifications() {
    let mut w = Wire::new();
    w.uart_peer();
    assert_eq!(
        w.send(&format!("AT+QBLETRANMODE=\"{UART_RX}\"")),
        ["CONNECT"]
    );
    // Every byte value, more than one packet (MTU 64: 61 bytes a packet):
    // the peer's notifications come back raw, in order, without URCs.
    let data: Vec<u8> = (0..=255u8).chain(0..=255u8).collect();
    assert_eq!(w.raw(&data), data);
    // The last packet the peer got is what was left after full packets.
    let written = &w.m.state().ble.link.as_ref().unwrap().written[UART_RX];
    assert_eq!(written.as_slice(), &data[data.len() / 61 * 61..]);
    // `+++` alone in its guard times is not data.
    assert_eq!(w.escape(), ["OK"]);
    assert_eq!(w.stat(), "+QBLESTAT: \"CONNECTED\"");
    // In command mode the peer's data is a URC again.
    assert_eq!(
        w.send(&format!("AT+QBLEGATTCWRCMD=0,\"{UART_RX}\",\"cmd\"")),
        ["OK", &format!("+QBLERECV: 0,\"{UART_TX}\",3"), "cmd"]
    );
    // ATO resumes the mode while the link is up.
    assert_eq!(w.send("ATO"), ["CONNECT"]);
    assert_eq!(w.raw(b"+again+"), b"+again+");
    assert_eq!(w.escape(), ["OK"]);
    // Without the subscription the peer sends nothing back.
    w.ok(&format!("AT+QBLEGATTCNTFCFG=0,\"{UART_TX}\",0"));
    assert_eq!(w.send("ATO"), ["CONNECT"]);
    assert!(w.raw(b"quiet").is_empty());
    assert_eq!(w.escape(), ["OK"]);
    // Once the link is gone, ATO has nothing to resume.
    assert_eq!(
        w.events("AT+QBLEDISCONN=0"),
        ["+QBLESTAT: \"DISCONNECTED\""]
    );
    assert_eq!(w.send("ATO"), ["NO CARRIER"]);
}

#[test]
fn a_lost_link_ends_transparent_mode_with_no_carrier() {
    let mut w = Wire::new();
    w.uart_peer();
    assert_eq!(
        w.send(&format!("AT+QBLETRANMODE=\"{UART_RX}\"")),
        ["CONNECT"]
    );
    assert_eq!(w.raw(b"ping"), b"ping");
    // The peer goes away: "the module exits transparent transmission mode
    // automatically".
    assert_eq!(
        peer_disconnects(w.m.state_mut()).unwrap(),
        ["+QBLESTAT: \"DISCONNECTED\""]
    );
    assert_eq!(w.poll(), b"\r\nNO CARRIER\r\n");
    assert!(w.poll().is_empty());
    // Command mode again; the mode went with the link.
    w.ok("AT");
    assert_eq!(w.send("ATO"), ["NO CARRIER"]);
    assert!(w.m.state().ble.tranmode.is_none());
    assert!(peer_disconnects(w.m.state_mut()).is_none());
}

#[test]
fn a_peripheral_in_transparent_mode_notifies_and_gets_the_phones_writes() {
    let mut w = Wire::new();
    w.advertising("AT+QBLEINIT=2,1");
    assert_eq!(w.send("AT+QBLETRANMODE=\"FFF2\",1"), ["CONNECT"]);
    // A phone connects (its URCs are for the phone's test to print).
    central_connects(w.m.state_mut(), DEFAULT_PERIPHERAL_MTU).unwrap();
    // Host bytes are notified on FFF2, 20 bytes (MTU 23 - 3) a packet.
    let data: Vec<u8> = (0..50u8).collect();
    assert!(w.raw(&data).is_empty());
    assert_eq!(
        w.m.state().ble.last_notification,
        Some(("fff2".to_string(), data[40..].to_vec()))
    );
    // What the phone writes comes out raw, on either writable characteristic.
    assert!(central_writes(
        w.m.state_mut(),
        "FFF3",
        &[0, 0x0d, 0x0a, 0xff]
    ));
    assert!(central_writes(w.m.state_mut(), "fff2", b"+QBLERECV"));
    assert_eq!(w.poll(), b"\0\r\n\xff+QBLERECV");
    // A disconnection ends the mode; with <state> 1 the next connection
    // enters it again.
    central_disconnects(w.m.state_mut()).unwrap();
    assert_eq!(w.poll(), b"\r\nNO CARRIER\r\n");
    w.ok("AT");
    assert_eq!(w.stat(), "+QBLESTAT: \"ADVERTISING\"");
    central_connects(w.m.state_mut(), 185).unwrap();
    assert_eq!(w.poll(), b"\r\nCONNECT\r\n");
    assert!(w.raw(b"back").is_empty());
    assert_eq!(
        w.m.state().ble.last_notification,
        Some(("fff2".to_string(), b"back".to_vec()))
    );
    // `+++` cancels the automatic re-entry (note 3).
    assert_eq!(w.escape(), ["OK"]);
    assert!(central_writes(w.m.state_mut(), "FFF3", b"urc"));
    assert_eq!(lines_of(&w.poll()), ["+QBLERECV: 0,\"fff3\",3", "urc"]);
    central_disconnects(w.m.state_mut()).unwrap();
    assert!(w.poll().is_empty());
    central_connects(w.m.state_mut(), 23).unwrap();
    assert!(w.poll().is_empty());
    w.ok("AT");
    // ATO still resumes it while connected.
    assert_eq!(w.send("ATO"), ["CONNECT"]);
    assert!(w.raw(b"x").is_empty());
    assert_eq!(
        w.m.state().ble.last_notification,
        Some(("fff2".to_string(), b"x".to_vec()))
    );
}

#[test]
fn with_state_0_a_peripheral_stays_in_command_mode_after_reconnecting() {
    let mut w = Wire::new();
    w.advertising("AT+QBLEINIT=2,1");
    assert_eq!(w.send("AT+QBLETRANMODE=\"FFF2\""), ["CONNECT"]);
    central_connects(w.m.state_mut(), 23).unwrap();
    central_disconnects(w.m.state_mut()).unwrap();
    assert_eq!(w.poll(), b"\r\nNO CARRIER\r\n");
    central_connects(w.m.state_mut(), 23).unwrap();
    assert!(w.poll().is_empty());
    w.ok("AT");
}

#[test]
fn transparent_mode_carries_the_uart_peers_echo_through_the_client() {
    fcm242d_sim::catalog::catalog();
    let world = World {
        guard_time_ms: 100,
        ..World::default()
    };
    let (link, h) = in_process(world);
    let options = fcm242d::client::Options {
        guard_time: Duration::from_millis(150),
        ..fcm242d::client::Options::default()
    };
    let mut c = Client::with_options(link, options);
    c.send(&qbleinit::Write {
        role: qbleinit::Role::from_wire("1").unwrap(),
        auto_adv: None,
    })
    .unwrap();
    c.send(&qbleconn::Write {
        addr_type: qbleconn::AddressType::from_wire("1").unwrap(),
        peer_addr: HexAddr::new("c0ffee123456").unwrap(),
        timeout: None,
    })
    .unwrap();
    c.send(&qblecfgmtu::Write {
        mtu_value: Int::new(512).unwrap(),
    })
    .unwrap();
    c.send(&qblegattcntfcfg::Write {
        conn_idx: Int::new(0).unwrap(),
        uuid: Uuid::new(UART_TX).unwrap(),
        enable: qblegattcntfcfg::Enable::from_wire("1").unwrap(),
    })
    .unwrap();
    c.poll_urcs(SETTLE).unwrap();
    c.take_urcs();
    let r = c
        .send(&qbletranmode::Write {
            uuid: Uuid::new(UART_RX).unwrap(),
            state: None,
        })
        .unwrap();
    assert_eq!(r.result, Final::Connect);
    assert!(c.is_transparent());
    // Everything written comes back, byte for byte (the last byte is not
    // one the client would hold back as a possible `NO CARRIER`).
    let mut data: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 256) as u8).collect();
    data.push(b'.');
    c.write_transparent(&data).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut got = Vec::new();
    while got.len() < data.len() && Instant::now() < deadline {
        got.extend(c.read_transparent(Duration::from_millis(100)).unwrap());
    }
    assert_eq!(got, data);
    let r = c.send(&escape::Execute {}).unwrap();
    assert_eq!(r.result, Final::Ok);
    assert!(!c.is_transparent());
    let s = c.send(&qblestat::Execute {}).unwrap();
    assert_eq!(s.lines[0].ble_state, qblestat::BleState::Connected);
    assert_eq!(c.send(&ato::Execute {}).unwrap().result, Final::Connect);
    c.write_transparent(b"once more").unwrap();
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while got.len() < 9 && Instant::now() < deadline {
        got.extend(c.read_transparent(Duration::from_millis(100)).unwrap());
    }
    assert_eq!(got, b"once more");
    c.send(&escape::Execute {}).unwrap();
    c.send(&qbledisconn::Write { conn_idx: None }).unwrap();
    assert!(matches!(
        c.send(&ato::Execute {}),
        Err(fcm242d::client::Error::NoCarrier)
    ));
    assert!(c.urc_channel().try_iter().next().is_none());
    end(c, h);
}
