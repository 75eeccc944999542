//! Places where the simulator follows the manual, each found by a
//! transcript written from the manual (issue 9, item 7).

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fcm242d::transport::Transport;
use fcm242d_sim::module::Module;
use fcm242d_sim::sim::{SimOptions, Simulated};
use fcm242d_sim::world::{Protocol, Service, World};

/// Writes `line` CR LF and reads until `until` appears (a minute at most,
/// on the module's clock).
fn say(sim: &mut Simulated, line: &str, until: &str) -> String {
    sim.write_all(format!("{line}\r\n").as_bytes()).unwrap();
    let end = sim.now() + Duration::from_secs(60);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains(until) && sim.now() < end {
        let left = end - sim.now();
        let n = sim.read(&mut buf, left).unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

fn online() -> Simulated {
    let mut sim = Simulated::start(World::default(), SimOptions::default());
    let got = say(
        &mut sim,
        "AT+QSTAAPINFO=\"sim-ap\",\"sim-password\"",
        "GOT_IP",
    );
    assert!(got.contains("GOT_IP"), "{got}");
    sim
}

#[test]
fn spaces_count_inside_names_and_values() {
    let mut sim = Simulated::start(World::default(), SimOptions::default());
    assert_eq!(say(&mut sim, "AT+QVER SION", "\r\n\r\n"), "\r\nERROR\r\n");
    assert_eq!(
        say(&mut sim, "AT+QCFG=\"urc/pin\",1,2 00", "\r\n\r\n"),
        "\r\nERROR\r\n"
    );
    assert_eq!(
        say(&mut sim, "  AT+QCFG=\"urc/pin\" , 1 , 200 ", "OK"),
        "\r\nOK\r\n"
    );
    let got = say(&mut sim, "AT+QCFG=\"urc/pin\"", "OK");
    assert!(got.contains("+QCFG: \"urc/pin\",1,200"), "{got}");
    // An HTTP(S) command refuses with its own code.
    assert_eq!(
        say(&mut sim, "AT+QHTTP GET", "\r\n\r\n"),
        "\r\n+CME ERROR: 724\r\n"
    );
}

#[test]
fn qigeterror_reports_a_line_the_parser_refused() {
    let mut sim = online();
    let got = say(&mut sim, "AT+QIOPEN=12,\"TCP\",\"192.0.2.2\",7", "ERROR");
    assert_eq!(got, "\r\nERROR\r\n");
    let got = say(&mut sim, "AT+QIGETERROR", "OK");
    assert!(
        got.contains("+QIGETERROR: 552,\"Invalid parameters\""),
        "{got}"
    );
    // Success clears it.
    say(&mut sim, "AT+QISTATE?", "OK");
    let got = say(&mut sim, "AT+QIGETERROR", "OK");
    assert!(got.contains("+QIGETERROR: 0,"), "{got}");
}

#[test]
fn the_ssl_test_form_lists_cipher_suites_in_hex() {
    let mut sim = Simulated::start(World::default(), SimOptions::default());
    let got = say(&mut sim, "AT+QSSLCFG=?", "OK");
    assert!(
        got.contains("+QSSLCFG: \"ciphersuite\",(0-5),(0x0035,0x002F,0x0005,"),
        "{got}"
    );
    assert!(got.contains("0xC030,0xFFFF)"), "{got}");
}

#[test]
fn the_network_is_there_only_once_the_station_has_its_address() {
    let mut m = Module::new(World::default());
    let t = Instant::now();
    assert_eq!(
        m.input(b"AT+QSTAAPINFO=\"sim-ap\",\"sim-password\"\r", t),
        b"\r\nOK\r\n"
    );
    // Before +QSTASTAT: "GOT_IP": no network.
    let open = b"AT+QIOPEN=0,\"TCP\",\"192.0.2.2\",7,0,0\r";
    assert_eq!(m.input(open, t), b"\r\nERROR\r\n");
    assert_eq!(
        m.input(b"AT+QIDNSGIP=\"example.com\"\r", t),
        b"\r\nERROR\r\n"
    );
    assert_eq!(
        m.input(b"AT+QHTTPCFG=\"url\",\"http://www.example.com/\"\r", t),
        b"\r\nOK\r\n"
    );
    assert_eq!(m.input(b"AT+QHTTPGET\r", t), b"\r\n+CME ERROR: 706\r\n");
    // The URCs come in the order the module prints them, GOT_IP last.
    let at = m.next_due().unwrap();
    let urcs = String::from_utf8(m.poll(at)).unwrap();
    assert_eq!(
        urcs,
        "\r\n+QSTASTAT: \"WLAN_CONNECTED\"\r\n\r\n+QSTASTAT: \"GOT_IP\"\r\n"
    );
    assert_eq!(m.input(open, at), b"\r\nOK\r\n");
}

#[test]
fn a_udp_service_sends_through_the_simulated_network() {
    let mut sim = online();
    say(
        &mut sim,
        "AT+QIOPEN=1,\"UDP SERVICE\",\"127.0.0.1\",0,9000,1",
        "+QIOPEN: 1,0",
    );
    let got = say(&mut sim, "AT+QISEND=1,4,\"192.0.2.2\",8009", ">");
    assert!(got.contains('>'), "{got}");
    sim.write_all(b"ping").unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let end = sim.now() + Duration::from_secs(5);
    while !String::from_utf8_lossy(&got).contains("\r\nping") && sim.now() < end {
        let left = end - sim.now();
        let n = sim.read(&mut buf, left).unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    let got = String::from_utf8_lossy(&got).into_owned();
    assert!(got.contains("SEND OK"), "{got}");
    assert!(
        got.contains("+QIURC: \"recv\",1,4,\"192.0.2.2\",8009\r\nping"),
        "{got}"
    );
}

#[test]
fn listeners_take_free_host_ports_so_simulators_run_side_by_side() {
    let mut a = online();
    let mut b = online();
    for sim in [&mut a, &mut b] {
        let got = say(
            sim,
            "AT+QIOPEN=0,\"TCP LISTENER\",\"127.0.0.1\",0,8124,0",
            "+QIOPEN: 0,",
        );
        assert!(got.contains("+QIOPEN: 0,0"), "{got}");
        let got = say(sim, "AT+QISTATE?", "OK");
        assert!(
            got.contains("+QISTATE: 0,\"TCP LISTENER\",\"192.168.4.23\",0,8124,3,0,0,\"uart1\""),
            "{got}"
        );
        // The module's own address reaches its listener.
        let got = say(
            sim,
            "AT+QIOPEN=1,\"TCP\",\"192.168.4.23\",8124,0,0",
            "\"incoming\"",
        );
        assert!(got.contains("+QIOPEN: 1,0"), "{got}");
        assert!(
            got.contains("+QIURC: \"incoming\",2,0,\"192.168.4.23\","),
            "{got}"
        );
    }
    // The same port twice in one module: busy.
    let got = say(
        &mut a,
        "AT+QIOPEN=3,\"TCP LISTENER\",\"127.0.0.1\",0,8124,0",
        "+QIOPEN: 3,",
    );
    assert!(got.contains("+QIOPEN: 3,570"), "{got}");
    // The host reaches each module's listener at its own port.
    let one = a.services().host_address(Protocol::Tcp, 8124).unwrap();
    let two = b.services().host_address(Protocol::Tcp, 8124).unwrap();
    assert_ne!(one, two);
}

#[test]
fn nothing_leaves_the_host_for_an_address_the_world_does_not_serve() {
    let mut sim = online();
    // www.example.com resolves, but nothing serves port 1234 there.
    let got = say(
        &mut sim,
        "AT+QIOPEN=0,\"TCP\",\"www.example.com\",1234,0,0",
        "+QIOPEN: 0,",
    );
    assert!(got.contains("+QIOPEN: 0,564"), "{got}");
}

#[test]
fn a_world_file_changes_only_the_entries_it_names() {
    let world = World::from_yaml(
        "endpoints:\n\
         \x20 - {address: 192.0.2.2, port: 1883, service: {kind: refuse}}\n\
         \x20 - {address: 192.0.2.2, port: 80, remove: true}\n\
         \x20 - {address: 192.0.2.9, port: 5, service: {kind: stall}}\n\
         hosts:\n\
         \x20 - {name: example.com, remove: true}\n\
         \x20 - {name: lab.example, addresses: [192.0.2.9]}\n\
         access_points:\n\
         \x20 - {ssid: sim-open, remove: true}\n",
    )
    .unwrap();
    let default = World::default();
    let at = |w: &World, port: u16| {
        w.endpoint("192.0.2.2".parse().unwrap(), port, Protocol::Tcp)
            .map(|e| e.service.clone())
    };
    assert_eq!(at(&world, 1883), Some(Service::Refuse));
    assert_eq!(at(&world, 80), None);
    assert_eq!(at(&world, 8883), at(&default, 8883));
    assert_eq!(world.endpoints.len(), default.endpoints.len());
    assert!(world.hosts.iter().any(|h| h.name == "lab.example"));
    assert!(world.hosts.iter().all(|h| h.name != "example.com"));
    assert!(world.hosts.iter().any(|h| h.name == "www.example.com"));
    assert_eq!(world.access_points.len(), default.access_points.len() - 1);
    // An entry that names nothing is an error.
    assert!(World::from_yaml("hosts:\n  - {addresses: [1.2.3.4]}\n").is_err());
    // Other keys as before.
    assert_eq!(
        World::from_yaml("guard_time_ms: 50").unwrap().guard_time_ms,
        50
    );
    assert_eq!(World::from_yaml("").unwrap(), default);
}

#[test]
fn the_banner_lists_the_ble_peers() {
    let banner = World::default().banner();
    assert!(
        banner.contains("BLE peer \"Sim-Thermometer\" 58d391010203"),
        "{banner}"
    );
    assert!(banner.contains("Sim-Beacon"), "{banner}");
}

/// Runs `fcm242d-sim --stdio` on `script`; returns what it printed and
/// what it said on standard error.
fn stdio(script: &[u8]) -> (String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fcm242d-sim"))
        .arg("--stdio")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(script).unwrap();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(child.wait().unwrap().success());
    (out, err)
}

#[test]
fn stdio_answers_a_script_as_the_manual_prints_it() {
    // The SSL direct push example: each echo comes on its own, and the
    // completion of each command before the next command's answer.
    let script = b"AT+QSTAAPINFO=\"sim-ap\",\"sim-password\"\r\n\
AT+QSSLOPEN=1,4,\"192.0.2.2\",8011,1\r\n\
AT+QSSLSEND=4\r\nTest data from SSL\x1a\
AT+QSSLSEND=4,18\r\nTest data from SSL\
AT+QSSLCLOSE=4\r\n\
AT+QFOPEN=\"f.txt\",0\r\n\
AT+QFWRITE=1,10\r\nhello";
    let (out, err) = stdio(script);
    let expected = [
        "\r\nOK\r\n",
        "+QSTASTAT: \"GOT_IP\"",
        "\r\nOK\r\n",
        "+QSSLOPEN: 4,0",
        "SEND OK",
        "+QSSLURC: \"recv\",4,18\r\nTest data from SSL",
        "SEND OK",
        "+QSSLURC: \"recv\",4,18\r\nTest data from SSL",
        "\r\nOK\r\n",
        "+QFOPEN: 1",
        "CONNECT",
        // The script ends inside the payload: the phase ends with what came.
        "+QFWRITE: 5,5",
        "\r\nOK\r\n",
    ];
    let mut at = 0;
    for want in expected {
        match out[at..].find(want) {
            Some(i) => at += i + want.len(),
            None => panic!("`{want}` missing or out of order in {out:?}"),
        }
    }
    assert!(!out.contains("Hello from"), "{out:?}");
    assert!(err.contains("test certificates"), "{err}");
}

#[test]
fn stdio_takes_a_scripts_escape_with_its_guard_time() {
    // The transparent-mode example: data, then `+++` on a line of its own,
    // typed with the guard time's silence around it.
    let script = b"AT+QSTAAPINFO=\"sim-ap\",\"sim-password\"\r\n\
AT+QIOPEN=1,\"TCP\",\"192.0.2.2\",8009,0,2\r\n\
hello\r\n+++\r\n\
AT+QICLOSE=1\r\n";
    let (out, _) = stdio(script);
    let expected = [
        "+QSTASTAT: \"GOT_IP\"",
        "\r\nCONNECT\r\n",
        "Test 1",
        "hello\r\n",
        "\r\nOK\r\n",
        "\r\nOK\r\n",
    ];
    let mut at = 0;
    for want in expected {
        match out[at..].find(want) {
            Some(i) => at += i + want.len(),
            None => panic!("`{want}` missing or out of order in {out:?}"),
        }
    }
    assert!(!out.contains("+++"), "{out:?}");
}
