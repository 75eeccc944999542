//! The Wi-Fi group: STA mode against the embedded world's access points,
//! DHCP and static addresses, the saved hotspot, AP mode, scanning, DNS
//! servers and the configuration switches — through the runtime client, and
//! on the wire with a virtual clock where exact bytes and timing matter.

use std::time::{Duration, Instant};

use fcm242d::client::{Client, Error};
use fcm242d::generated::commands::{
    qairkiss, qapstate, qapstatic, qgetip, qgetwifistate, qidnscfg, qrst, qsoftap, qsoftapstop,
    qstaapinfo, qstaapinfodef, qstaapinformv, qstadhcp, qstast, qstastatic, qstastop, qwebcfg,
    qwscan,
};
use fcm242d::generated::urcs::{qapstat, qstastat, Urc};
use fcm242d::session::Notice;
use fcm242d::transport::MemoryTransport;
use fcm242d::value::Text;
use fcm242d_sim::groups::wifi::rejoin_saved;
use fcm242d_sim::module::Module;
use fcm242d_sim::serve::in_process;
use fcm242d_sim::state::State;
use fcm242d_sim::world::{AccessPoint, World};

/// Long enough for every Wi-Fi URC the simulator schedules.
const SETTLE: Duration = Duration::from_millis(500);

/// A module in `world` behind a client. The catalogue is loaded first: the
/// module loads it on its first command, which in a debug build under a
/// parallel test run can take longer than a command's 300 ms limit.
fn start(world: World) -> (Client<MemoryTransport>, std::thread::JoinHandle<()>) {
    fcm242d_sim::catalog::catalog();
    let (link, handle) = in_process(world);
    (Client::new(link), handle)
}

fn ip(s: &str) -> std::net::Ipv4Addr {
    s.parse().unwrap()
}

/// The world's protected and open access points.
fn aps() -> (AccessPoint, AccessPoint) {
    let w = World::default();
    let secured = w
        .access_points
        .iter()
        .find(|a| a.key.is_some())
        .unwrap()
        .clone();
    let open = w
        .access_points
        .iter()
        .find(|a| a.key.is_none())
        .unwrap()
        .clone();
    (secured, open)
}

fn join(ssid: &str, pwd: Option<&str>) -> qstaapinfo::Write {
    qstaapinfo::Write {
        ssid: Text::new(ssid).unwrap(),
        pwd: pwd.map(|p| Text::new(p).unwrap()),
    }
}

fn sta_events(urcs: &[Notice]) -> Vec<qstastat::Event> {
    urcs.iter()
        .filter_map(|u| match u.urc()? {
            Urc::Qstastat(s) => Some(s.event),
            _ => None,
        })
        .collect()
}

fn ap_events(urcs: &[Notice]) -> Vec<qapstat::Event> {
    urcs.iter()
        .filter_map(|u| match u.urc()? {
            Urc::Qapstat(s) => Some(s.event),
            _ => None,
        })
        .collect()
}

fn sta_state(client: &mut Client<MemoryTransport>) -> qstast::State {
    client.send(&qstast::Execute {}).unwrap().lines[0].state
}

fn station_ip(client: &mut Client<MemoryTransport>) -> Option<qgetip::WriteLine> {
    client
        .send(&qgetip::Write {
            mode: qgetip::Mode::Station,
        })
        .ok()
        .map(|r| r.lines[0].clone())
}

fn is_error<T: std::fmt::Debug>(r: Result<T, Error>) -> bool {
    matches!(r, Err(Error::Error { .. }))
}

/// Sends one command line to a module and returns what it writes at once.
fn send(m: &mut Module, now: Instant, line: &str) -> String {
    String::from_utf8(m.input(format!("{line}\r").as_bytes(), now)).unwrap()
}

/// The URCs a module prints up to `at`.
fn urcs_until(m: &mut Module, at: Instant) -> String {
    String::from_utf8(m.poll(at)).unwrap()
}

#[test]
fn joining_with_the_right_key_connects_and_gets_an_address() {
    let (ap, _) = aps();
    let (mut client, handle) = start(World::default());
    assert_eq!(sta_state(&mut client), qstast::State::Down);
    assert!(is_error(client.send(&qgetwifistate::Execute {})));
    assert!(station_ip(&mut client).is_none());

    client.send(&join(&ap.ssid, ap.key.as_deref())).unwrap();
    let urcs = client.poll_urcs(SETTLE).unwrap();
    assert_eq!(
        sta_events(&urcs),
        [qstastat::Event::Connected, qstastat::Event::GotIp]
    );
    assert_eq!(sta_state(&mut client), qstast::State::Up);

    let s = client.send(&qgetwifistate::Execute {}).unwrap();
    assert_eq!(
        s.lines,
        [qgetwifistate::ExecuteLine {
            ssid: ap.ssid.clone(),
            bssid: ap.bssid.clone(),
            rssi: ap.rssi,
            psk_type: ap.psk_type.clone(),
        }]
    );
    let addr = station_ip(&mut client).unwrap();
    assert_eq!(
        (addr.ip, addr.gate, addr.mask),
        (ip(&ap.ip), ip(&ap.gateway), ip(&ap.mask))
    );
    // The DNS server defaults to the joined network's.
    let d = client.send(&qidnscfg::Read {}).unwrap();
    assert_eq!(d.lines[0].pridnsaddr, ip(&ap.dns));
    drop(client);
    handle.join().unwrap();
}

#[test]
fn a_wrong_key_or_an_unknown_ssid_fails_after_ok() {
    let (ap, open) = aps();
    let (mut client, handle) = start(World::default());

    let wrong = "not-the-key";
    client.send(&join(&ap.ssid, Some(wrong))).unwrap();
    let urcs = client.poll_urcs(SETTLE).unwrap();
    assert_eq!(sta_events(&urcs), [qstastat::Event::Disconnected]);
    assert_eq!(sta_state(&mut client), qstast::State::Down);
    assert!(is_error(client.send(&qgetwifistate::Execute {})));

    // A protected access point needs its key ...
    client.send(&join(&ap.ssid, None)).unwrap();
    let urcs = client.poll_urcs(SETTLE).unwrap();
    assert_eq!(sta_events(&urcs), [qstastat::Event::Disconnected]);
    // ... and an open one takes none.
    client.send(&join(&open.ssid, Some("12345678"))).unwrap();
    let urcs = client.poll_urcs(SETTLE).unwrap();
    assert_eq!(sta_events(&urcs), [qstastat::Event::Disconnected]);

    client.send(&join("no-such-network", None)).unwrap();
    let urcs = client.poll_urcs(SETTLE).unwrap();
    assert_eq!(sta_events(&urcs), [qstastat::Event::NoApFound]);
    assert_eq!(sta_state(&mut client), qstast::State::Down);

    client.send(&join(&open.ssid, None)).unwrap();
    let urcs = client.poll_urcs(SETTLE).unwrap();
    assert_eq!(
        sta_events(&urcs),
        [qstastat::Event::Connected, qstastat::Event::GotIp]
    );
    let s = client.send(&qgetwifistate::Execute {}).unwrap();
    assert_eq!(s.lines[0].psk_type, open.psk_type);
    drop(client);
    handle.join().unwrap();
}

#[test]
fn switching_networks_and_stopping_sta_mode() {
    let (ap, open) = aps();
    let (mut client, handle) = start(World::default());
    client.send(&join(&ap.ssid, ap.key.as_deref())).unwrap();
    client.poll_urcs(SETTLE).unwrap();

    // Joining another network leaves the current one first.
    client.send(&join(&open.ssid, None)).unwrap();
    let urcs = client.poll_urcs(SETTLE).unwrap();
    assert_eq!(
        sta_events(&urcs),
        [
            qstastat::Event::Disconnected,
            qstastat::Event::Connected,
            qstastat::Event::GotIp
        ]
    );
    let s = client.send(&qgetwifistate::Execute {}).unwrap();
    assert_eq!(s.lines[0].ssid, open.ssid);

    // A failed join leaves the module disconnected.
    client.send(&join(&ap.ssid, Some("wrong-key"))).unwrap();
    let urcs = client.poll_urcs(SETTLE).unwrap();
    assert_eq!(
        sta_events(&urcs),
        [qstastat::Event::Disconnected, qstastat::Event::Disconnected]
    );
    assert_eq!(sta_state(&mut client), qstast::State::Down);

    client.send(&join(&ap.ssid, ap.key.as_deref())).unwrap();
    client.poll_urcs(SETTLE).unwrap();
    client.send(&qstastop::Execute {}).unwrap();
    let urcs = client.poll_urcs(SETTLE).unwrap();
    assert_eq!(sta_events(&urcs), [qstastat::Event::Disconnected]);
    assert_eq!(sta_state(&mut client), qstast::State::Down);
    assert!(is_error(client.send(&qgetwifistate::Execute {})));
    assert!(station_ip(&mut client).is_none());
    // Stopping STA mode again is harmless and reports nothing.
    client.send(&qstastop::Execute {}).unwrap();
    assert!(client.poll_urcs(SETTLE).unwrap().is_empty());
    drop(client);
    handle.join().unwrap();
}

#[test]
fn dhcp_and_static_addresses() {
    let (ap, _) = aps();
    let (mut client, handle) = start(World::default());
    let dhcp =
        |c: &mut Client<MemoryTransport>| c.send(&qstadhcp::Read {}).unwrap().lines[0].enable;
    assert_eq!(dhcp(&mut client), qstadhcp::Enable::Enable);

    client.send(&join(&ap.ssid, ap.key.as_deref())).unwrap();
    client.poll_urcs(SETTLE).unwrap();
    let fixed = qstastatic::Write {
        ip: ip("192.168.4.77"),
        mask: ip("255.255.255.0"),
        gate: ip("192.168.4.1"),
        dns: ip("9.9.9.9"),
    };
    client.send(&fixed).unwrap();
    assert_eq!(dhcp(&mut client), qstadhcp::Enable::Disable);
    let addr = station_ip(&mut client).unwrap();
    assert_eq!(
        (addr.ip, addr.mask, addr.gate, addr.dns),
        (fixed.ip, fixed.mask, fixed.gate, fixed.dns)
    );
    let d = client.send(&qidnscfg::Read {}).unwrap();
    assert_eq!(d.lines[0].pridnsaddr, fixed.dns);

    // Configurations the module cannot use.
    for bad in [
        qstastatic::Write {
            mask: ip("255.0.255.0"),
            ..fixed.clone()
        },
        qstastatic::Write {
            mask: ip("0.0.0.0"),
            ..fixed.clone()
        },
        qstastatic::Write {
            ip: ip("0.0.0.0"),
            ..fixed.clone()
        },
        qstastatic::Write {
            ip: ip("192.168.4.255"),
            ..fixed.clone()
        },
        qstastatic::Write {
            ip: ip("224.0.0.1"),
            ..fixed.clone()
        },
        qstastatic::Write {
            gate: ip("255.255.255.255"),
            ..fixed.clone()
        },
    ] {
        assert!(is_error(client.send(&bad)), "{bad:?}");
    }
    assert_eq!(station_ip(&mut client).unwrap().ip, fixed.ip);

    // DHCP on again: a lease from the network replaces the static address.
    client
        .send(&qstadhcp::Write {
            enable: qstadhcp::Enable::Enable,
        })
        .unwrap();
    let urcs = client.poll_urcs(SETTLE).unwrap();
    assert_eq!(sta_events(&urcs), [qstastat::Event::GotIp]);
    assert_eq!(station_ip(&mut client).unwrap().ip, ip(&ap.ip));

    // DHCP off without a static address: joined, but no address.
    client
        .send(&qstadhcp::Write {
            enable: qstadhcp::Enable::Disable,
        })
        .unwrap();
    assert_eq!(dhcp(&mut client), qstadhcp::Enable::Disable);
    client.send(&join(&ap.ssid, ap.key.as_deref())).unwrap();
    let urcs = client.poll_urcs(SETTLE).unwrap();
    assert_eq!(
        sta_events(&urcs),
        [qstastat::Event::Disconnected, qstastat::Event::Connected]
    );
    assert_eq!(station_ip(&mut client).unwrap().ip, ip("0.0.0.0"));
    drop(client);
    handle.join().unwrap();
}

#[test]
fn soft_ap_mode_with_its_limits() {
    let (mut client, handle) = start(World::default());
    let ap_state =
        |c: &mut Client<MemoryTransport>| c.send(&qapstate::Execute {}).unwrap().lines[0].state;
    let ap_ip = |c: &mut Client<MemoryTransport>| {
        c.send(&qgetip::Write {
            mode: qgetip::Mode::Ap,
        })
        .ok()
        .map(|r| r.lines[0].clone())
    };
    assert_eq!(ap_state(&mut client), qapstate::State::Down);
    assert!(ap_ip(&mut client).is_none());

    client
        .send(&qsoftap::Write {
            ssid: Text::new("testap").unwrap(),
            key: Some(Text::new("12345678").unwrap()),
        })
        .unwrap();
    let urcs = client.poll_urcs(SETTLE).unwrap();
    assert_eq!(ap_events(&urcs), [qapstat::Event::Up]);
    assert_eq!(ap_state(&mut client), qapstate::State::Up);
    assert!(ap_ip(&mut client).is_some());

    let fixed = qapstatic::Write {
        ip: ip("192.168.10.1"),
        mask: ip("255.255.255.0"),
        gate: ip("192.168.10.1"),
        dns: ip("192.168.10.1"),
    };
    client.send(&fixed).unwrap();
    assert_eq!(ap_ip(&mut client).unwrap().ip, fixed.ip);
    assert!(is_error(client.send(&qapstatic::Write {
        mask: ip("255.255.0.255"),
        ..fixed.clone()
    })));

    client.send(&qsoftapstop::Execute {}).unwrap();
    let urcs = client.poll_urcs(SETTLE).unwrap();
    assert_eq!(ap_events(&urcs), [qapstat::Event::Down]);
    assert_eq!(ap_state(&mut client), qapstate::State::Down);
    assert!(ap_ip(&mut client).is_none());
    client.send(&qsoftapstop::Execute {}).unwrap();
    assert!(client.poll_urcs(SETTLE).unwrap().is_empty());

    // A passwordless hotspot.
    client
        .send(&qsoftap::Write {
            ssid: Text::new("open-ap").unwrap(),
            key: None,
        })
        .unwrap();
    let urcs = client.poll_urcs(SETTLE).unwrap();
    assert_eq!(ap_events(&urcs), [qapstat::Event::Up]);
    drop(client);
    handle.join().unwrap();
}

#[test]
fn soft_ap_rejects_names_and_keys_out_of_range() {
    let mut m = Module::new(World::default());
    let now = Instant::now();
    let long_ssid = "s".repeat(33);
    let long_key = "k".repeat(64);
    for bad in [
        r#"AT+QSOFTAP="""#.to_string(),
        format!(r#"AT+QSOFTAP="{long_ssid}""#),
        r#"AT+QSOFTAP="ap","1234567""#.to_string(),
        format!(r#"AT+QSOFTAP="ap","{long_key}""#),
        "AT+QSOFTAP".to_string(),
        r#"AT+QSTAAPINFO="sim-ap","short""#.to_string(),
        format!(r#"AT+QSTAAPINFODEF="{long_ssid}""#),
    ] {
        assert_eq!(send(&mut m, now, &bad), "\r\nERROR\r\n", "{bad}");
    }
    assert_eq!(urcs_until(&mut m, now + SETTLE), "");
    assert_eq!(m.state().wifi.soft_ap, None);
    let limits = format!(r#"AT+QSOFTAP="{}","{}""#, "s".repeat(32), "k".repeat(63));
    assert_eq!(send(&mut m, now, &limits), "\r\nOK\r\n");
    assert_eq!(
        send(&mut m, now, r#"AT+QSOFTAP="a","12345678""#),
        "\r\nOK\r\n"
    );
}

#[test]
fn scan_lists_every_access_point_of_the_world() {
    let world = World::default();
    let (mut client, handle) = start(world.clone());
    let r = client.send(&qwscan::Execute {}).unwrap();
    assert_eq!(r.lines.len(), world.access_points.len());
    assert!(r.unexpected.is_empty(), "{:?}", r.unexpected);
    for ap in &world.access_points {
        assert!(
            r.lines.contains(&qwscan::ExecuteLine {
                ssid: ap.ssid.clone(),
                psk_type: ap.psk_type.clone(),
                rssi: ap.rssi,
                bssid: ap.bssid.clone(),
                channel: ap.channel,
            }),
            "{ap:?} missing from {:?}",
            r.lines
        );
    }
    // Strongest first.
    assert!(r.lines.windows(2).all(|w| w[0].rssi >= w[1].rssi));
    drop(client);
    handle.join().unwrap();

    // A world without access points scans nothing.
    let mut m = Module::new(World {
        access_points: Vec::new(),
        ..World::default()
    });
    assert_eq!(send(&mut m, Instant::now(), "AT+QWSCAN"), "\r\nOK\r\n");
}

#[test]
fn dns_servers_can_be_set_and_survive_joining() {
    let (ap, _) = aps();
    let (mut client, handle) = start(World::default());
    let dns =
        |c: &mut Client<MemoryTransport>| c.send(&qidnscfg::Read {}).unwrap().lines[0].clone();
    assert_eq!(
        dns(&mut client),
        qidnscfg::ReadLine {
            pridnsaddr: ip("0.0.0.0"),
            secdnsaddr: ip("0.0.0.0"),
        }
    );
    client
        .send(&qidnscfg::Write {
            pridnsaddr: ip("8.8.8.8"),
            secdnsaddr: Some(ip("1.1.1.1")),
        })
        .unwrap();
    client
        .send(&qidnscfg::Write {
            pridnsaddr: ip("9.9.9.9"),
            secdnsaddr: None,
        })
        .unwrap();
    let want = qidnscfg::ReadLine {
        pridnsaddr: ip("9.9.9.9"),
        secdnsaddr: ip("1.1.1.1"),
    };
    assert_eq!(dns(&mut client), want);
    assert!(is_error(client.send(&qidnscfg::Write {
        pridnsaddr: ip("224.0.0.251"),
        secdnsaddr: None,
    })));
    client.send(&join(&ap.ssid, ap.key.as_deref())).unwrap();
    client.poll_urcs(SETTLE).unwrap();
    assert_eq!(dns(&mut client), want);
    drop(client);
    handle.join().unwrap();
}

#[test]
fn web_and_airkiss_switches() {
    let mut m = Module::new(World::default());
    let now = Instant::now();
    assert_eq!(send(&mut m, now, "AT+QWEBCFG=1"), "\r\nOK\r\n");
    assert_eq!(send(&mut m, now, "AT+QAIRKISS=1"), "\r\nOK\r\n");
    assert_eq!((m.state().wifi.web_config, m.state().wifi.airkiss), (1, 1));
    assert_eq!(send(&mut m, now, "AT+QWEBCFG=0"), "\r\nOK\r\n");
    assert_eq!(send(&mut m, now, "AT+QAIRKISS=0"), "\r\nOK\r\n");
    assert_eq!((m.state().wifi.web_config, m.state().wifi.airkiss), (0, 0));
    // Errata WIFI-8 / WIFI-9: the wire values are 0 and 1.
    for bad in [
        "AT+QWEBCFG=2",
        "AT+QAIRKISS=2",
        "AT+QWEBCFG",
        "AT+QSTADHCP=2",
    ] {
        assert_eq!(send(&mut m, now, bad), "\r\nERROR\r\n", "{bad}");
    }
    // Through the client too.
    let (mut client, handle) = start(World::default());
    client
        .send(&qwebcfg::Write {
            enable: qwebcfg::Enable::Enable,
        })
        .unwrap();
    client
        .send(&qairkiss::Write {
            enable: qairkiss::Enable::Disable,
        })
        .unwrap();
    drop(client);
    handle.join().unwrap();
}

#[test]
fn the_saved_hotspot_survives_a_reboot_until_removed() {
    let (ap, _) = aps();
    let world = World::default();
    let mut m = Module::new(world.clone());
    let now = Instant::now();
    let key = ap.key.clone().unwrap();

    // A hotspot the module cannot join is not saved.
    let wrong = format!(r#"AT+QSTAAPINFODEF="{}","wrong-key""#, ap.ssid);
    assert_eq!(send(&mut m, now, &wrong), "\r\nOK\r\n");
    assert_eq!(m.state().saved.hotspot, None);

    let def = format!(r#"AT+QSTAAPINFODEF="{}","{key}""#, ap.ssid);
    assert_eq!(send(&mut m, now, &def), "\r\nOK\r\n");
    let saved = Some((ap.ssid.clone(), Some(key.clone())));
    assert_eq!(m.state().saved.hotspot, saved);
    assert_eq!(m.state().wifi.station.as_deref(), Some(ap.ssid.as_str()));

    // QSTAAPINFO does not touch the saved hotspot.
    assert_eq!(
        send(&mut m, now, r#"AT+QSTAAPINFO="sim-open""#),
        "\r\nOK\r\n"
    );
    assert_eq!(m.state().saved.hotspot, saved);

    assert_eq!(send(&mut m, now, "AT+QRST"), "\r\nOK\r\n");
    assert_eq!(m.state().saved.hotspot, saved);
    // The module joins the saved hotspot again as it restarts.
    assert_eq!(m.state().wifi.station.as_deref(), Some(ap.ssid.as_str()));

    // The join the module makes with the saved hotspot after a reboot.
    let mut rebooted = m.state().rebooted();
    let urcs = rejoin_saved(&mut rebooted, &world);
    assert_eq!(rebooted.wifi.station.as_deref(), Some(ap.ssid.as_str()));
    let lines: Vec<&str> = urcs.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(
        lines,
        [r#"+QSTASTAT: "WLAN_CONNECTED""#, r#"+QSTASTAT: "GOT_IP""#]
    );
    assert!(rejoin_saved(&mut State::default(), &world).is_empty());

    assert_eq!(send(&mut m, now, "AT+QSTAAPINFORMV"), "\r\nOK\r\n");
    assert_eq!(m.state().saved.hotspot, None);
    assert_eq!(send(&mut m, now, "AT+QRST"), "\r\nOK\r\n");
    assert_eq!(m.state().saved.hotspot, None);

    // The same through the client.
    let (mut client, handle) = start(world);
    client
        .send(&qstaapinfodef::Write {
            ssid: Text::new(ap.ssid.as_str()).unwrap(),
            pwd: Some(Text::new(key.as_str()).unwrap()),
        })
        .unwrap();
    let urcs = client.poll_urcs(SETTLE).unwrap();
    assert_eq!(
        sta_events(&urcs),
        [qstastat::Event::Connected, qstastat::Event::GotIp]
    );
    client.send(&qrst::Execute {}).unwrap();
    // After the restart the module joins the saved hotspot again.
    assert_eq!(sta_state(&mut client), qstast::State::Up);
    let urcs = client.poll_urcs(SETTLE * 3).unwrap();
    assert_eq!(
        sta_events(&urcs),
        [qstastat::Event::Connected, qstastat::Event::GotIp]
    );
    client.send(&qstaapinformv::Execute {}).unwrap();
    client.send(&qrst::Execute {}).unwrap();
    assert_eq!(sta_state(&mut client), qstast::State::Down);
    drop(client);
    handle.join().unwrap();
}

#[test]
fn urcs_on_the_wire_follow_the_ok_after_short_delays() {
    let (ap, _) = aps();
    let mut m = Module::new(World::default());
    let t0 = Instant::now();
    let cmd = format!(
        r#"AT+QSTAAPINFO="{}","{}""#,
        ap.ssid,
        ap.key.as_deref().unwrap()
    );
    assert_eq!(send(&mut m, t0, &cmd), "\r\nOK\r\n");
    // Nothing yet right after the OK.
    assert_eq!(urcs_until(&mut m, t0), "");
    assert_eq!(
        urcs_until(&mut m, t0 + SETTLE),
        "\r\n+QSTASTAT: \"WLAN_CONNECTED\"\r\n\r\n+QSTASTAT: \"GOT_IP\"\r\n"
    );
    assert_eq!(
        send(&mut m, t0, "AT+QGETWIFISTATE"),
        format!(
            "\r\n+QGETWIFISTATE: ssid=\"{}\",bssid=\"{}\",rssi={},psk_type=\"{}\"\r\n\r\nOK\r\n",
            ap.ssid, ap.bssid, ap.rssi, ap.psk_type
        )
    );
    assert_eq!(
        send(&mut m, t0, "AT+QSTAST"),
        "\r\n+QSTAST: \"STATION_UP\"\r\n\r\nOK\r\n"
    );
    assert_eq!(
        send(&mut m, t0, "AT+QSTADHCP?"),
        "\r\n+QSTADHCP: 1\r\n\r\nOK\r\n"
    );
    assert_eq!(
        send(&mut m, t0, "AT+QIDNSCFG?"),
        format!("\r\n+QIDNSCFG: \"{}\",\"0.0.0.0\"\r\n\r\nOK\r\n", ap.dns)
    );

    let t1 = t0 + SETTLE;
    assert_eq!(send(&mut m, t1, r#"AT+QSTAAPINFO="nowhere""#), "\r\nOK\r\n");
    assert_eq!(
        urcs_until(&mut m, t1 + SETTLE),
        "\r\n+QSTASTAT: \"WLAN_DISCONNECTED\"\r\n\r\n+QSTASTAT: \"SCAN_NO_AP\"\r\n"
    );
    assert_eq!(send(&mut m, t1, "AT+QGETWIFISTATE"), "\r\nERROR\r\n");

    let t2 = t1 + SETTLE;
    assert_eq!(send(&mut m, t2, r#"AT+QSOFTAP="testap""#), "\r\nOK\r\n");
    assert_eq!(
        send(&mut m, t2, "AT+QAPSTATE"),
        "\r\n+QAPSTATE: \"SOFTAP_UP\"\r\n\r\nOK\r\n"
    );
    assert_eq!(send(&mut m, t2, "AT+QSOFTAPSTOP"), "\r\nOK\r\n");
    assert_eq!(
        urcs_until(&mut m, t2 + SETTLE),
        "\r\n+QAPSTAT: \"AP_UP\"\r\n\r\n+QAPSTAT: \"AP_DOWN\"\r\n"
    );
}

#[test]
fn urcs_of_commands_sent_in_quick_succession_keep_their_order() {
    let (ap, _) = aps();
    let mut m = Module::new(World::default());
    let t0 = Instant::now();
    let ms = Duration::from_millis;
    let right = format!(
        r#"AT+QSTAAPINFO="{}","{}""#,
        ap.ssid,
        ap.key.as_deref().unwrap()
    );
    let wrong = format!(r#"AT+QSTAAPINFO="{}","wrong-key""#, ap.ssid);
    assert_eq!(send(&mut m, t0, &wrong), "\r\nOK\r\n");
    assert_eq!(send(&mut m, t0 + ms(1), &right), "\r\nOK\r\n");
    assert_eq!(send(&mut m, t0 + ms(2), "AT+QSTASTOP"), "\r\nOK\r\n");
    assert_eq!(
        send(&mut m, t0 + ms(3), "AT+QSTAAPINFO=\"nowhere\""),
        "\r\nOK\r\n"
    );
    assert_eq!(send(&mut m, t0 + ms(4), "AT+QSOFTAP=\"ap\""), "\r\nOK\r\n");
    assert_eq!(send(&mut m, t0 + ms(5), "AT+QSOFTAPSTOP"), "\r\nOK\r\n");
    assert_eq!(
        urcs_until(&mut m, t0 + SETTLE),
        [
            r#"+QSTASTAT: "WLAN_DISCONNECTED""#,
            r#"+QSTASTAT: "WLAN_CONNECTED""#,
            r#"+QSTASTAT: "GOT_IP""#,
            r#"+QSTASTAT: "WLAN_DISCONNECTED""#,
            r#"+QSTASTAT: "SCAN_NO_AP""#,
            r#"+QAPSTAT: "AP_UP""#,
            r#"+QAPSTAT: "AP_DOWN""#,
        ]
        .map(|l| format!("\r\n{l}\r\n"))
        .concat()
    );
}

/// The manual's example "Wi-Fi STA and AP Mode" (scenario `wifi_sta_and_ap`),
/// with the station's hotspot replaced by the embedded world's.
#[test]
fn the_manuals_wifi_scenario_runs() {
    let (ap, _) = aps();
    let scenario = fcm242d_sim::catalog::catalog()
        .scenarios()
        .map(|(_, e)| &e.value)
        .find(|s| s.name == "wifi_sta_and_ap")
        .expect("scenario wifi_sta_and_ap");
    let mut values = scenario.placeholders.clone();
    values.insert("sta_ssid".into(), ap.ssid.clone());
    values.insert("sta_pwd".into(), ap.key.clone().unwrap());
    let fill = |text: &str| {
        values.iter().fold(text.to_string(), |t, (k, v)| {
            t.replace(&format!("${{{k}}}"), v)
        })
    };

    let mut m = Module::new(World::default());
    let mut now = Instant::now();
    let mut output: Vec<String> = Vec::new();
    let mut expected: Vec<String> = Vec::new();
    for step in &scenario.steps {
        if let Some(line) = &step.send {
            let out = send(&mut m, now, &fill(line));
            output.extend(
                out.split("\r\n")
                    .filter(|l| !l.is_empty())
                    .map(String::from),
            );
            now += SETTLE;
            let urcs = urcs_until(&mut m, now);
            output.extend(
                urcs.split("\r\n")
                    .filter(|l| !l.is_empty())
                    .map(String::from),
            );
        }
        if let Some(line) = step.expect.as_ref().or(step.expect_urc.as_ref()) {
            expected.push(fill(line));
        }
    }
    // Every expected line comes, in order; the Wi-Fi URCs the manual's
    // example leaves out may come between them.
    let mut rest = output.iter();
    for want in &expected {
        assert!(
            rest.any(|got| got == want),
            "`{want}` missing from {output:?}"
        );
    }
    let finals = output.iter().filter(|l| *l == "OK").count();
    assert_eq!(finals, 2, "{output:?}");
    assert!(output.contains(&r#"+QSTASTAT: "GOT_IP""#.to_string()));
    assert!(output.contains(&r#"+QAPSTAT: "AP_UP""#.to_string()));
}
