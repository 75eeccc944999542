//! The network group (AT+QIDNSGIP, AT+QPING, AT+QNTP): the refusals when
//! the station is not connected through the runtime client, and the
//! connected paths through the group's functions on a hand-built state
//! (the module does not expose a mutable state, and joining a network is the
//! Wi-Fi group's business).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fcm242d::client::{Client, Error};
use fcm242d::generated::commands::{qidnsgip, qntp, qping, AnyCommand};
use fcm242d::generated::results::TcpipCode;
use fcm242d::generated::urcs::{qping_final, qping_reply, Urc};
use fcm242d::session::Notice;
use fcm242d::value::{Host, Int};
use fcm242d_sim::groups::network::{self, format_time, Reach};
use fcm242d_sim::module::Module;
use fcm242d_sim::reply::{Final, Reply};
use fcm242d_sim::serve::in_process;
use fcm242d_sim::state::{State, Wifi};
use fcm242d_sim::world::{Host as WorldHost, World};

/// A state whose station has joined `sim-ap` by DHCP.
fn connected() -> State {
    State {
        wifi: Wifi {
            station: Some("sim-ap".into()),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Runs one command line through the group on `state`.
fn run(line: &str, state: &mut State, world: &World) -> Reply {
    let cmd = AnyCommand::parse(line).unwrap_or_else(|e| panic!("{line}: {e:?}"));
    network::handle(&cmd, state, world).unwrap_or_else(|| panic!("{line}: not handled"))
}

/// The reply's URCs, parsed with the catalogue's grammar (each must parse and
/// re-render to the same text), with their delays.
fn urcs(reply: &Reply) -> Vec<(Duration, Urc)> {
    reply
        .urcs
        .iter()
        .map(|(delay, text)| {
            let urc = Urc::parse(text)
                .unwrap_or_else(|| panic!("not a URC: {text}"))
                .unwrap_or_else(|e| panic!("{text}: {e:?}"));
            assert_eq!(&urc.render(), text);
            (*delay, urc)
        })
        .collect()
}

fn texts(reply: &Reply) -> Vec<&str> {
    reply.urcs.iter().map(|(_, t)| t.as_str()).collect()
}

fn assert_in_order(reply: &Reply) {
    let delays: Vec<Duration> = reply.urcs.iter().map(|(d, _)| *d).collect();
    assert!(
        delays.windows(2).all(|w| w[0] < w[1]),
        "URCs not strictly in order: {delays:?}"
    );
}

// ------------------------------------------------------------- not connected

#[test]
fn every_command_is_refused_through_the_client_before_joining_a_network() {
    let (link, handle) = in_process(World::default());
    let mut client = Client::new(link);
    let urcs = client.urc_channel();
    let refused = |r: Result<_, Error>| matches!(r, Err(Error::Error { .. }));
    assert!(refused(client.send(&qidnsgip::Write {
        hostname: Host::new("sim.example").unwrap(),
    })));
    assert!(refused(client.send(&qping::Write {
        host: Host::new("127.0.0.1").unwrap(),
        timeout_group: None,
    })));
    assert!(refused(client.send(&qntp::Write {
        server: Host::new("sim.example").unwrap(),
        port: Some(Int::new(123).unwrap()),
    })));
    assert!(refused(client.send(&qntp::Execute {})));
    // Nothing was sent on the network, so nothing follows.
    client.poll_urcs(Duration::from_millis(150)).unwrap();
    let got: Vec<Urc> = urcs.try_iter().filter_map(Notice::into_urc).collect();
    assert!(got.is_empty(), "{got:?}");
    drop(client);
    handle.join().unwrap();
}

#[test]
fn a_refusal_records_operation_not_allowed_for_qigeterror() {
    let mut m = Module::new(World::default());
    let now = Instant::now();
    for line in [
        "AT+QIDNSGIP=\"sim.example\"\r",
        "AT+QPING=\"sim.example\",1,1\r",
        "AT+QNTP=\"sim.example\"\r",
        "AT+QNTP\r",
    ] {
        assert_eq!(m.input(line.as_bytes(), now), b"\r\nERROR\r\n", "{line}");
        assert_eq!(
            m.state().tcpip.last_error,
            (569, "Operation not allowed".to_string()),
            "{line}"
        );
        assert_eq!(m.next_due(), None, "{line}: a URC was scheduled");
    }
}

#[test]
fn out_of_range_parameters_get_error() {
    let mut m = Module::new(World::default());
    let now = Instant::now();
    let long = format!("AT+QNTP=\"{}\"\r", "n".repeat(51));
    for bad in [
        "AT+QPING=\"sim.example\",0\r",
        "AT+QPING=\"sim.example\",256\r",
        "AT+QPING=\"sim.example\",4,0\r",
        "AT+QPING=\"sim.example\",4,11\r",
        "AT+QPING=\"\"\r",
        "AT+QPING\r",
        "AT+QIDNSGIP=\"\"\r",
        "AT+QIDNSGIP\r",
        "AT+QNTP=\"sim.example\",0\r",
        "AT+QNTP=\"sim.example\",65536\r",
        long.as_str(),
    ] {
        assert_eq!(m.input(bad.as_bytes(), now), b"\r\nERROR\r\n", "{bad}");
    }
}

#[test]
fn the_test_forms_answer_the_catalogue_lines() {
    let mut m = Module::new(World::default());
    let now = Instant::now();
    let out = |m: &mut Module, l: &str| String::from_utf8(m.input(l.as_bytes(), now)).unwrap();
    assert_eq!(
        out(&mut m, "AT+QPING=?\r"),
        "\r\n+QPING: <host>,(1-255),(1-10)\r\n\r\nOK\r\n"
    );
    assert_eq!(
        out(&mut m, "AT+QIDNSGIP=?\r"),
        "\r\n+QIDNSGIP: <hostname>\r\n\r\nOK\r\n"
    );
    assert!(out(&mut m, "AT+QNTP=?\r").starts_with("\r\n+QNTP: <server>"));
}

// ------------------------------------------------------------------- DNS

#[test]
fn dnsgip_resolves_names_of_the_hosts_table() {
    let mut world = World::default();
    world.hosts.push(WorldHost {
        name: "multi.example".into(),
        addresses: vec!["192.0.2.10".into(), "192.0.2.11".into(), "::1".into()],
    });
    let mut state = connected();
    let reply = run("AT+QIDNSGIP=\"sim.example\"", &mut state, &world);
    assert_eq!(reply.result, Final::Ok);
    assert!(reply.lines.is_empty());
    assert_eq!(
        texts(&reply),
        [
            "+QIURC: \"dnsgip\",0,1,600",
            "+QIURC: \"dnsgip\",\"127.0.0.1\""
        ]
    );
    assert_in_order(&reply);
    let parsed = urcs(&reply);
    assert!(matches!(&parsed[0].1, Urc::QiurcDnsgipResult(u)
        if u.err == TcpipCode::Success && u.ip_count == 1 && u.dns_ttl == network::DNS_TTL));
    assert_eq!(state.tcpip.last_error, (0, "Operation success".into()));

    // Several addresses, case-insensitive name and a trailing dot; IPv6
    // addresses are not reported (the URC carries IPv4 only).
    let reply = run("AT+QIDNSGIP=\"MULTI.example.\"", &mut state, &world);
    assert_eq!(
        texts(&reply),
        [
            "+QIURC: \"dnsgip\",0,2,600",
            "+QIURC: \"dnsgip\",\"192.0.2.10\"",
            "+QIURC: \"dnsgip\",\"192.0.2.11\"",
        ]
    );
    assert_in_order(&reply);

    // A dotted-decimal address is its own answer, with nothing cached.
    let reply = run("AT+QIDNSGIP=\"203.0.113.7\"", &mut state, &world);
    assert_eq!(
        texts(&reply),
        [
            "+QIURC: \"dnsgip\",0,1,0",
            "+QIURC: \"dnsgip\",\"203.0.113.7\""
        ]
    );
}

#[test]
fn dnsgip_of_an_unknown_name_reports_dns_failed() {
    let world = World::default();
    let mut state = connected();
    let reply = run("AT+QIDNSGIP=\"nowhere.invalid\"", &mut state, &world);
    assert_eq!(reply.result, Final::Ok);
    assert_eq!(texts(&reply), ["+QIURC: \"dnsgip\",563,0,0"]);
    assert!(
        matches!(&urcs(&reply)[0].1, Urc::QiurcDnsgipResult(u) if u.err == TcpipCode::DnsFailed)
    );
    assert_eq!(state.tcpip.last_error, (563, "DNS failed".into()));
    // The next successful command clears it.
    run("AT+QIDNSGIP=\"localhost\"", &mut state, &world);
    assert_eq!(state.tcpip.last_error.0, 0);
}

// ------------------------------------------------------------------- PING

#[test]
fn ping_of_a_world_host_replies_with_deterministic_values() {
    let world = World::default();
    let mut state = connected();
    let reply = run("AT+QPING=\"sim.example\"", &mut state, &world);
    assert_eq!(reply.result, Final::Ok);
    // Defaults: 4 requests; remote profile 20 ms + [0,3,1,4,2], TTL 52.
    assert_eq!(
        texts(&reply),
        [
            "+QPING: 0,\"127.0.0.1\",32,20,52",
            "+QPING: 0,\"127.0.0.1\",32,23,52",
            "+QPING: 0,\"127.0.0.1\",32,21,52",
            "+QPING: 0,\"127.0.0.1\",32,24,52",
            "+QPING: 0,4,4,0,20,24,22",
        ]
    );
    assert_in_order(&reply);
    let parsed = urcs(&reply);
    for (_, u) in &parsed[..4] {
        assert!(
            matches!(u, Urc::QpingReply(r) if r.ping_result == qping_reply::PingResult::Replied),
            "{u:?}"
        );
    }
    assert!(
        matches!(&parsed[4].1, Urc::QpingFinal(f) if f.finresult == qping_final::Finresult::Success)
    );
    // Back to back after the lookup: 40 ms DNS, then 20+23+21+24 ms.
    assert_eq!(parsed[3].0, Duration::from_millis(40 + 88));
    assert_eq!(state.tcpip.last_error.0, 0);
}

#[test]
fn ping_count_and_profiles_follow_the_target() {
    let world = World::default();
    let mut state = connected();
    // The joined network's gateway (sim-ap: 192.168.4.1): LAN profile, no lookup.
    let reply = run("AT+QPING=\"192.168.4.1\",2,6", &mut state, &world);
    assert_eq!(
        texts(&reply),
        [
            "+QPING: 0,\"192.168.4.1\",32,3,64",
            "+QPING: 0,\"192.168.4.1\",32,6,64",
            "+QPING: 0,\"192.168.4.1\",32,4,64",
            "+QPING: 0,\"192.168.4.1\",32,7,64",
            "+QPING: 0,\"192.168.4.1\",32,5,64",
            "+QPING: 0,\"192.168.4.1\",32,3,64",
            "+QPING: 0,6,6,0,3,7,4",
        ]
    );
    assert_eq!(reply.urcs[0].0, Duration::from_millis(3));
    // The module's own address.
    let reply = run("AT+QPING=\"192.168.4.23\",1,1", &mut state, &world);
    assert_eq!(
        texts(&reply),
        [
            "+QPING: 0,\"192.168.4.23\",32,1,255",
            "+QPING: 0,1,1,0,1,1,1"
        ]
    );
    // A static configuration replaces the access point's addresses.
    state.wifi.station_static = Some([
        "10.1.1.5".into(),
        "255.255.255.0".into(),
        "10.1.1.254".into(),
        "10.1.1.53".into(),
    ]);
    assert_eq!(
        network::reach("10.1.1.254".parse().unwrap(), &state, &world),
        Reach::Lan
    );
    assert_eq!(
        network::reach("10.1.1.53".parse().unwrap(), &state, &world),
        Reach::Lan
    );
    assert_eq!(
        network::reach("10.1.1.5".parse().unwrap(), &state, &world),
        Reach::Own
    );
    assert_eq!(
        network::reach("192.168.4.1".parse().unwrap(), &state, &world),
        Reach::Silent
    );
}

#[test]
fn ping_of_a_silent_address_times_out_each_request() {
    let world = World::default();
    let mut state = connected();
    let reply = run("AT+QPING=\"198.51.100.1\",2,3", &mut state, &world);
    assert_eq!(reply.result, Final::Ok);
    assert_eq!(
        texts(&reply),
        [
            "+QPING: 567",
            "+QPING: 567",
            "+QPING: 567",
            "+QPING: 0,3,0,3,0,0,0"
        ]
    );
    let delays: Vec<u128> = reply.urcs.iter().map(|(d, _)| d.as_millis()).collect();
    assert_eq!(delays, [2000, 4000, 6000, 6001]);
    let parsed = urcs(&reply);
    assert!(
        matches!(&parsed[0].1, Urc::QpingReply(r) if r.ping_result == qping_reply::PingResult::TimedOut)
    );
    assert_eq!(state.tcpip.last_error.0, 0);
}

#[test]
fn ping_of_an_unknown_name_ends_with_dns_failed() {
    let world = World::default();
    let mut state = connected();
    let reply = run("AT+QPING=\"nowhere.invalid\",1,4", &mut state, &world);
    assert_eq!(reply.result, Final::Ok);
    assert_eq!(texts(&reply), ["+QPING: 563"]);
    assert_eq!(state.tcpip.last_error, (563, "DNS failed".into()));
}

// ------------------------------------------------------------------- NTP

#[test]
fn ntp_reports_the_host_clock() {
    let world = World::default();
    let mut state = connected();
    let before = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for line in [
        "AT+QNTP=\"sim.example\"",
        "AT+QNTP=\"127.0.0.1\",1123",
        "AT+QNTP",
    ] {
        let reply = run(line, &mut state, &world);
        let after = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 1;
        assert_eq!(reply.result, Final::Ok, "{line}");
        let parsed = urcs(&reply);
        assert_eq!(parsed.len(), 1, "{line}");
        let Urc::Qntp(u) = &parsed[0].1 else {
            panic!("{line}: {parsed:?}")
        };
        assert_eq!(u.err, TcpipCode::Success, "{line}");
        let candidates: Vec<String> = (before..=after)
            .map(|s| format_time(i64::try_from(s).unwrap()))
            .collect();
        assert!(candidates.contains(&u.time), "{line}: {}", u.time);
        assert!(parsed[0].0 <= Duration::from_millis(300), "{line}");
        assert_eq!(state.tcpip.last_error.0, 0, "{line}");
    }
}

#[test]
fn ntp_failures_come_in_the_urc() {
    let world = World::default();
    let mut state = connected();
    let reply = run("AT+QNTP=\"nowhere.invalid\",123", &mut state, &world);
    assert_eq!(reply.result, Final::Ok);
    assert!(
        matches!(&urcs(&reply)[0].1, Urc::Qntp(u) if u.err == TcpipCode::DnsFailed),
        "{:?}",
        reply.urcs
    );
    assert_eq!(state.tcpip.last_error, (563, "DNS failed".into()));
    let reply = run("AT+QNTP=\"198.51.100.1\"", &mut state, &world);
    assert!(
        matches!(&urcs(&reply)[0].1, Urc::Qntp(u) if u.err == TcpipCode::Timeout),
        "{:?}",
        reply.urcs
    );
    assert!(reply.urcs[0].0 < Duration::from_millis(300));
    assert_eq!(state.tcpip.last_error, (567, "Operation timeout".into()));
}

#[test]
fn ntp_time_has_the_manual_format() {
    assert_eq!(format_time(0), "70/01/01,00:00:00+00");
    assert_eq!(format_time(951_782_400), "00/02/29,00:00:00+00");
    assert_eq!(format_time(1_709_210_096), "24/02/29,12:34:56+00");
    assert_eq!(format_time(4_102_444_799), "99/12/31,23:59:59+00");
    // Before 1970 still gives a valid date.
    assert_eq!(format_time(-1), "69/12/31,23:59:59+00");
}

#[test]
fn other_groups_commands_are_not_handled() {
    let mut state = connected();
    let cmd = AnyCommand::parse("AT+QVERSION").unwrap();
    assert!(network::handle(&cmd, &mut state, &World::default()).is_none());
}
