//! The world's conditions, each provoking the result code or URC the
//! provocation scenarios (`spec/provocations.yaml`) expect, on the virtual
//! clock of an in-process simulator.

use std::time::Duration;

use fcm242d::transport::Transport;
use fcm242d_sim::sim::{SimOptions, Simulated};
use fcm242d_sim::world::World;

/// A simulator joined to the world's access point, and its environment.
fn online() -> (Simulated, std::collections::BTreeMap<String, String>) {
    let world = World::default();
    let env = world.environment();
    let mut sim = Simulated::start(world, SimOptions::default());
    let join = format!(
        "AT+QSTAAPINFO=\"{}\",\"{}\"",
        env["wifi_ssid"], env["wifi_key"]
    );
    let got = say(&mut sim, &join, "GOT_IP");
    assert!(got.contains("GOT_IP"), "{got}");
    (sim, env)
}

/// Writes `line` CR LF and reads until `until` appears (at most a minute
/// of the module's clock).
fn say(sim: &mut Simulated, line: &str, until: &str) -> String {
    sim.write_all(format!("{line}\r\n").as_bytes()).unwrap();
    hear(sim, until)
}

/// Reads until `until` appears (at most 200 s of the module's clock).
fn hear(sim: &mut Simulated, until: &str) -> String {
    let end = sim.now() + Duration::from_secs(200);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains(until) && sim.now() < end {
        let left = end - sim.now();
        let n = sim.read(&mut buf, left).unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

fn host_port(v: &str) -> (&str, &str) {
    v.rsplit_once(':').unwrap()
}

#[test]
fn sockets_meet_closing_resetting_and_garbage_servers() {
    let (mut sim, env) = online();
    let (h, p) = host_port(&env["closing_tcp"]);
    let got = say(
        &mut sim,
        &format!("AT+QIOPEN=0,\"TCP\",\"{h}\",{p},0,0"),
        "\"closed\"",
    );
    assert!(got.contains("+QIOPEN: 0,0"), "{got}");
    assert!(got.contains("+QIURC: \"closed\",0"), "{got}");
    let (h, p) = host_port(&env["resetting_tcp"]);
    let got = say(
        &mut sim,
        &format!("AT+QIOPEN=1,\"TCP\",\"{h}\",{p},0,0"),
        "\"closed\"",
    );
    assert!(got.contains("+QIURC: \"closed\",1"), "{got}");
    let (h, p) = host_port(&env["refused_tcp"]);
    let got = say(
        &mut sim,
        &format!("AT+QIOPEN=2,\"TCP\",\"{h}\",{p},0,0"),
        "+QIOPEN: 2",
    );
    assert!(got.contains("+QIOPEN: 2,564"), "{got}");
    let got = say(
        &mut sim,
        &format!("AT+QIOPEN=3,\"TCP\",\"{}\",80,0,0", env["unknown_host"]),
        "+QIOPEN: 3",
    );
    assert!(got.contains("+QIOPEN: 3,563"), "{got}");
}

#[test]
fn ssl_meets_closing_and_failing_servers() {
    let (mut sim, env) = online();
    let (h, p) = host_port(&env["closing_tls"]);
    let got = say(
        &mut sim,
        &format!("AT+QSSLOPEN=1,0,\"{h}\",{p},0"),
        "\"closed\"",
    );
    assert!(got.contains("+QSSLOPEN: 0,0"), "{got}");
    assert!(got.contains("+QSSLURC: \"closed\",0"), "{got}");
    let (h, p) = host_port(&env["failing_tls"]);
    let got = say(
        &mut sim,
        &format!("AT+QSSLOPEN=1,1,\"{h}\",{p},0"),
        "+QSSLOPEN: 1",
    );
    assert!(got.contains("+QSSLOPEN: 1,564"), "{got}");
    let (h, p) = host_port(&env["stalled_tcp"]);
    let before = sim.now();
    let got = say(&mut sim, "AT+QSSLCFG=\"negotiatetime\",2,20", "OK");
    assert!(got.contains("OK"), "{got}");
    let got = say(
        &mut sim,
        &format!("AT+QSSLOPEN=2,2,\"{h}\",{p},0"),
        "+QSSLOPEN: 2",
    );
    assert!(got.contains("+QSSLOPEN: 2,567"), "{got}");
    assert_eq!(sim.now() - before, Duration::from_secs(20));
}

#[test]
fn mqtt_meets_refusing_mute_hanging_up_and_garbage_brokers() {
    let (mut sim, env) = online();
    let open = |sim: &mut Simulated, idx: u8, key: &str| -> String {
        let (h, p) = host_port(&env[key]);
        let got = say(sim, &format!("AT+QMTOPEN={idx},\"{h}\",{p}"), "+QMTOPEN:");
        assert!(got.contains(&format!("+QMTOPEN: {idx},0")), "{got}");
        got
    };
    open(&mut sim, 0, "mqtt_refusing_broker_4");
    let got = say(
        &mut sim,
        "AT+QMTCONN=0,\"c4\",\"user\",\"wrong\"",
        "+QMTSTAT",
    );
    assert!(got.contains("+QMTCONN: 0,0,4"), "{got}");
    assert!(got.contains("+QMTSTAT: 0,1"), "{got}");

    open(&mut sim, 1, "mqtt_hangup_broker");
    let got = say(&mut sim, "AT+QMTCONN=1,\"hung\"", "+QMTSTAT");
    assert!(got.contains("+QMTCONN: 1,2"), "{got}");
    assert!(got.contains("+QMTSTAT: 1,4"), "{got}");

    say(&mut sim, "AT+QMTCFG=\"timeout\",2,5,2,1", "OK");
    open(&mut sim, 2, "mqtt_mute_broker");
    let got = say(&mut sim, "AT+QMTCONN=2,\"mute\"", "+QMTCONN: 2,0,0");
    assert!(got.contains("+QMTCONN: 2,0,0"), "{got}");
    let got = say(&mut sim, "AT+QMTSUB=2,1,\"a/b\",1", "+QMTSTAT");
    assert!(got.contains("+QMTSUB: 2,1,1,1"), "{got}");
    assert!(got.contains("+QMTSUB: 2,1,2"), "{got}");
    assert!(got.contains("+QMTSTAT: 2,6"), "{got}");

    let mut got = open(&mut sim, 3, "mqtt_closing_broker");
    got += &hear(&mut sim, "+QMTSTAT: 3");
    assert!(got.contains("+QMTSTAT: 3,1"), "{got}");

    let mut got = open(&mut sim, 4, "mqtt_garbage_broker");
    got += &hear(&mut sim, "+QMTSTAT: 4");
    assert!(got.contains("+QMTSTAT: 4,8"), "{got}");
}

#[test]
fn mqtt_keepalive_against_a_mute_broker() {
    let (mut sim, env) = online();
    say(&mut sim, "AT+QMTCFG=\"keepalive\",0,10", "OK");
    let (h, p) = host_port(&env["mqtt_mute_broker"]);
    say(&mut sim, &format!("AT+QMTOPEN=0,\"{h}\",{p}"), "+QMTOPEN:");
    say(&mut sim, "AT+QMTCONN=0,\"ka\"", "+QMTCONN: 0,0,0");
    let got = hear(&mut sim, "+QMTSTAT");
    assert!(got.contains("+QMTSTAT: 0,2"), "{got}");
}

#[test]
fn http_requests_meet_every_failing_server() {
    let (mut sim, env) = online();
    let get = |sim: &mut Simulated, url: &str| -> String {
        say(sim, &format!("AT+QHTTPCFG=\"url\",\"{url}\""), "OK");
        say(sim, "AT+QHTTPGET=30", "+QHTTPGET:")
    };
    let got = get(&mut sim, &env["http_stall_url"]);
    assert!(got.contains("+QHTTPGET: 722"), "{got}");
    let got = get(&mut sim, &env["http_garbage_url"]);
    assert!(got.contains("+QHTTPGET: 719"), "{got}");
    let got = get(&mut sim, &env["http_bad_header_url"]);
    assert!(got.contains("+QHTTPGET: 717"), "{got}");
    let got = get(&mut sim, &env["http_close_url"]);
    assert!(got.contains("+QHTTPGET: 715"), "{got}");
    let got = get(&mut sim, &env["silent_tcp_url"]);
    assert!(got.contains("+QHTTPGET: 702"), "{got}");
    let got = get(&mut sim, &env["refused_tcp_url"]);
    assert!(got.contains("+QHTTPGET: 712"), "{got}");
    let got = get(&mut sim, &env["failing_tls_url"]);
    assert!(got.contains("+QHTTPGET: 712"), "{got}");
    let got = get(&mut sim, &format!("http://{}/", env["unknown_host"]));
    assert!(got.contains("+QHTTPGET: 710"), "{got}");

    let got = get(&mut sim, &env["http_truncated_url"]);
    assert!(got.contains("+QHTTPGET: 0,200,100"), "{got}");
    let got = say(&mut sim, "AT+QHTTPREAD=5", "+QHTTPREAD:");
    assert!(got.contains("+QHTTPREAD: 715"), "{got}");
    let got = get(&mut sim, &env["http_slow_body_url"]);
    assert!(got.contains("+QHTTPGET: 0,200,100"), "{got}");
    let got = say(&mut sim, "AT+QHTTPREAD=5", "+QHTTPREAD:");
    assert!(got.contains("+QHTTPREAD: 721"), "{got}");
    say(&mut sim, "AT+QHTTPSTOP", "OK");
    let got = get(&mut sim, &env["http_bad_chunked_url"]);
    assert!(got.contains("+QHTTPGET: 0,200"), "{got}");
    let got = say(&mut sim, "AT+QHTTPREAD=5", "+QHTTPREAD:");
    assert!(got.contains("+QHTTPREAD: 717"), "{got}");
}

#[test]
fn http_uploads_fail_with_a_cme_error_before_connect() {
    let (mut sim, env) = online();
    let post = |sim: &mut Simulated, url: &str| -> String {
        say(sim, &format!("AT+QHTTPCFG=\"url\",\"{url}\""), "OK");
        say(sim, "AT+QHTTPPOST=5,10,10", "\r\n+CME ERROR")
    };
    for (key, code) in [
        ("resetting_tcp_url", 714),
        ("closing_tcp_url", 715),
        ("silent_tcp_url", 702),
        ("refused_tcp_url", 712),
    ] {
        let got = post(&mut sim, &env[key]);
        assert!(got.contains(&format!("+CME ERROR: {code}")), "{key}: {got}");
    }
    let got = post(&mut sim, &format!("http://{}/", env["unknown_host"]));
    assert!(got.contains("+CME ERROR: 710"), "{got}");
}

#[test]
fn ota_downloads_an_image_of_the_worlds_server() {
    let (mut sim, env) = online();
    let got = say(
        &mut sim,
        &format!("AT+QWLANOTA=\"{}\"", env["ota_url"]),
        "DOWNLOAD_SUCCEED",
    );
    assert!(got.contains("+QOTASTAT: \"START_DOWNLOAD\""), "{got}");
    assert!(got.contains("+QOTASTAT: \"DOWNLOADING\""), "{got}");
    let got = say(
        &mut sim,
        &format!("AT+QWLANOTA=\"{}\"", env["ota_missing_url"]),
        "DOWNLOAD_FAILED",
    );
    assert!(got.contains("+QOTASTAT: \"DOWNLOAD_FAILED\""), "{got}");
}

/// Sends `payload` with `AT+QISEND=<id>,<len>`; the final result
/// (`SEND OK` or `SEND FAIL`, whatever URCs come with it).
fn qisend(sim: &mut Simulated, id: u8, payload: &[u8]) -> String {
    let prompt = say(sim, &format!("AT+QISEND={id},{}", payload.len()), "> ");
    assert!(prompt.ends_with("> "), "{prompt}");
    sim.write_all(payload).unwrap();
    let mut got = String::new();
    let end = sim.now() + Duration::from_secs(5);
    while sim.now() < end {
        for result in ["SEND OK", "SEND FAIL"] {
            if got.contains(&format!("\r\n{result}\r\n")) {
                return result.to_string();
            }
        }
        got.push_str(&hear(sim, "\r\n"));
    }
    got
}

/// Sends full-size payloads to `peer` on socket 0 until one gets
/// `SEND FAIL`; how many were taken.
fn fill_sending_buffer(sim: &mut Simulated, peer: &str) -> usize {
    let (h, p) = host_port(peer);
    let got = say(
        sim,
        &format!("AT+QIOPEN=0,\"TCP\",\"{h}\",{p},0,0"),
        "+QIOPEN: 0",
    );
    assert!(got.contains("+QIOPEN: 0,0"), "{got}");
    let payload = [b'u'; fcm242d_sim::groups::tcpip::MAX_SEND];
    let mut taken = 0;
    loop {
        assert!(taken < 100, "no SEND FAIL after {taken} payloads");
        match qisend(sim, 0, &payload).as_str() {
            "SEND OK" => taken += 1,
            "SEND FAIL" => break,
            other => panic!("{other}"),
        }
    }
    taken
}

/// `AT+QISEND=0,0`'s information line.
fn send_totals(sim: &mut Simulated) -> String {
    let got = say(sim, "AT+QISEND=0,0", "OK");
    got.trim().lines().next().unwrap_or("").to_string()
}

#[test]
fn a_peer_that_stops_reading_fills_the_sending_buffer_until_send_fail() {
    use fcm242d_sim::groups::tcpip::{MAX_SEND, TX_BUFFER};
    use fcm242d_sim::world::UNREAD_WINDOW;
    let (mut sim, env) = online();
    let taken = fill_sending_buffer(&mut sim, &env["unread_tcp"]);
    // The buffer is full: Operation busy.
    let got = say(&mut sim, "AT+QIGETERROR", "OK");
    assert!(got.contains("+QIGETERROR: 566"), "{got}");
    let totals = send_totals(&mut sim);
    let window = UNREAD_WINDOW as usize;
    // The window takes what fits, the buffer holds the rest; the payload
    // that got SEND FAIL is not counted.
    assert_eq!(taken, (window + TX_BUFFER) / MAX_SEND);
    let total = taken * MAX_SEND;
    let unacked = total - window;
    assert!(unacked <= TX_BUFFER && unacked + MAX_SEND > TX_BUFFER);
    assert_eq!(totals, format!("+QISEND: {total},{window},{unacked}"));
    // Bytes held back by a closed window wait for nothing the world will
    // do: the module is idle, and its clock moves on.
    sim.pass(Duration::from_secs(30));
    assert!(sim.is_idle());
    assert_eq!(send_totals(&mut sim), totals);
    let got = say(&mut sim, "AT+QICLOSE=0", "OK");
    assert!(got.contains("OK"), "{got}");
}

#[test]
fn the_peers_window_is_a_setting_of_the_world() {
    use fcm242d_sim::groups::tcpip::{MAX_SEND, TX_BUFFER};
    let world = World::from_yaml(
        "endpoints:\n  - {address: 192.0.2.3, port: 13, service: {kind: unread, window: 0}}\n",
    )
    .unwrap();
    let env = world.environment();
    let mut sim = Simulated::start(world, SimOptions::default());
    let join = format!(
        "AT+QSTAAPINFO=\"{}\",\"{}\"",
        env["wifi_ssid"], env["wifi_key"]
    );
    assert!(say(&mut sim, &join, "GOT_IP").contains("GOT_IP"));
    // Nothing is acknowledged: the buffer alone holds what was taken.
    let taken = fill_sending_buffer(&mut sim, "192.0.2.3:13");
    assert_eq!(taken, TX_BUFFER / MAX_SEND);
    let total = taken * MAX_SEND;
    assert_eq!(send_totals(&mut sim), format!("+QISEND: {total},0,{total}"));
}

#[test]
fn a_peer_that_reads_acknowledges_everything() {
    let (mut sim, env) = online();
    let (h, p) = host_port(&env["tcp_echo"]);
    let got = say(
        &mut sim,
        &format!("AT+QIOPEN=0,\"TCP\",\"{h}\",{p},0,0"),
        "+QIOPEN: 0",
    );
    assert!(got.contains("+QIOPEN: 0,0"), "{got}");
    // Far more than the sending buffer holds: the echo server reads it all.
    let payload = [b'r'; fcm242d_sim::groups::tcpip::MAX_SEND];
    let rounds = 3 * fcm242d_sim::groups::tcpip::TX_BUFFER / payload.len();
    for _ in 0..rounds {
        assert_eq!(qisend(&mut sim, 0, &payload), "SEND OK");
    }
    sim.settle();
    let total = rounds * payload.len();
    let got = say(&mut sim, "AT+QISEND=0,0", "OK");
    assert!(
        got.contains(&format!("+QISEND: {total},{total},0")),
        "{got}"
    );
}

#[test]
fn an_ssl_server_that_stops_reading_fills_the_sending_buffer_until_send_fail() {
    use fcm242d_sim::groups::tcpip::{MAX_SEND, TX_BUFFER};
    let (mut sim, env) = online();
    let (h, p) = host_port(&env["unread_tls"]);
    let got = say(
        &mut sim,
        &format!("AT+QSSLOPEN=1,4,\"{h}\",{p},0"),
        "+QSSLOPEN: 4",
    );
    assert!(got.contains("+QSSLOPEN: 4,0"), "{got}");
    let payload = [b's'; MAX_SEND];
    let mut taken = 0;
    loop {
        assert!(taken < 100, "no SEND FAIL after {taken} payloads");
        let prompt = say(&mut sim, &format!("AT+QSSLSEND=4,{MAX_SEND}"), "> ");
        assert!(prompt.ends_with("> "), "{prompt}");
        sim.write_all(&payload).unwrap();
        let got = hear(&mut sim, "SEND ");
        let got = if got.ends_with("\r\n") {
            got
        } else {
            got + &hear(&mut sim, "\r\n")
        };
        if got.contains("SEND OK") {
            taken += 1;
        } else {
            assert!(got.contains("SEND FAIL"), "{got}");
            break;
        }
    }
    // The first payload's TLS record is longer than the server's window
    // (one payload's worth): TLS holds its rest, and the buffer fills
    // behind it.
    assert_eq!(taken, 1 + TX_BUFFER / MAX_SEND);
    let got = say(&mut sim, "AT+QIGETERROR", "OK");
    assert!(got.contains("+QIGETERROR: 566"), "{got}");
    sim.pass(Duration::from_secs(30));
    assert!(sim.is_idle());
    let got = say(&mut sim, "AT+QSSLCLOSE=4", "OK");
    assert!(got.contains("OK"), "{got}");
}
