//! Interoperability with Debian's mosquitto (broker 2.x and its
//! `mosquitto_pub` / `mosquitto_sub` clients): (a) the simulated module
//! against a real mosquitto broker, reached through a world endpoint of
//! kind `external`; (b) mosquitto's clients against the embedded broker.
//!
//! mosquitto must be installed: when it is missing the tests run
//! `.ci/install-mosquitto`, and fail (not skip) if it is still missing.
//! Every child process is killed when its guard is dropped, on every path.

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::OnceLock;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use fcm242d::client::Client;
use fcm242d::generated::commands::{
    qmtcfg, qmtclose, qmtconn, qmtopen, qmtpub, qmtsub, qstaapinfo,
};
use fcm242d::generated::urcs::Urc;
use fcm242d::session::Notice;
use fcm242d::transport::MemoryTransport;
use fcm242d::value::{Host, Int, Text};
use fcm242d_sim::serve::in_process;
use fcm242d_sim::world::{Protocol, Service, World};

/// How long a test waits for something the network should cause.
const PATIENCE: Duration = Duration::from_secs(10);

// ====================================================================== tools

/// Where a mosquitto program is: on the PATH, or in Debian's directories.
fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// The path of `name`, installing mosquitto first if it is missing. Panics
/// (fails the test) when it cannot be had.
fn tool(name: &str) -> PathBuf {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    if let Some(p) = find_tool(name) {
        return p;
    }
    INSTALLED.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.ci/install-mosquitto");
        let status = Command::new("bash").arg(&script).status();
        eprintln!("{} ran: {status:?}", script.display());
    });
    find_tool(name)
        .unwrap_or_else(|| panic!("{name} is missing and .ci/install-mosquitto did not install it"))
}

/// A child process, killed (and reaped) when dropped.
struct Proc {
    child: Child,
    lines: Option<Receiver<String>>,
}

impl Proc {
    /// Starts `cmd`; its standard output lines come through [`Proc::line`].
    fn spawn(cmd: &mut Command) -> Proc {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        let (tx, rx) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Proc {
            child,
            lines: Some(rx),
        }
    }

    /// The next line of output, or `None` after `PATIENCE`.
    fn line(&self) -> Option<String> {
        self.lines.as_ref()?.recv_timeout(PATIENCE).ok()
    }

    fn line_within(&self, wait: Duration) -> Option<String> {
        self.lines.as_ref()?.recv_timeout(wait).ok()
    }

    /// Kills the process at once (its connections end without DISCONNECT).
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A unique name (topics, client identifiers).
fn unique(what: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{what}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// Every byte value, twice (ascending, then descending).
fn all_bytes() -> Vec<u8> {
    let mut v: Vec<u8> = (0..=255u8).collect();
    v.extend((0..=255u8).rev());
    v
}

/// A mosquitto broker on a free loopback port, with a configuration file
/// in a temporary directory.
struct Mosquitto {
    port: u16,
    _proc: Proc,
    dir: PathBuf,
}

impl Mosquitto {
    fn start() -> Mosquitto {
        let binary = tool("mosquitto");
        // A port the OS says is free; another process could take it before
        // mosquitto binds it, so a failed start tries another.
        for _ in 0..5 {
            let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .and_then(|l| l.local_addr())
                .unwrap()
                .port();
            let dir = std::env::temp_dir().join(unique("mosquitto"));
            std::fs::create_dir_all(&dir).unwrap();
            let conf = dir.join("mosquitto.conf");
            std::fs::write(
                &conf,
                format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"),
            )
            .unwrap();
            // (The broker's log would drown the test's output.)
            let mut proc = Proc::spawn(
                Command::new(&binary)
                    .arg("-c")
                    .arg(&conf)
                    .stderr(Stdio::null()),
            );
            let deadline = Instant::now() + PATIENCE;
            while Instant::now() < deadline {
                if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                    return Mosquitto {
                        port,
                        _proc: proc,
                        dir,
                    };
                }
                if proc.child.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            proc.kill();
            let _ = std::fs::remove_dir_all(&dir);
        }
        panic!("mosquitto did not start");
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `mosquitto_sub` printing `<topic> <qos> <retain> <hex payload>` per
/// message, subscribed to `topics` and to a readiness topic; returns once
/// it is subscribed.
fn subscriber(addr: SocketAddr, topics: &[&str], extra: &[&str]) -> Proc {
    let ready = unique("ready");
    let mut cmd = Command::new(tool("mosquitto_sub"));
    cmd.args(["-h", &addr.ip().to_string(), "-p", &addr.port().to_string()])
        .args(["-q", "2", "-W", "60", "-F", "%t %q %r %x"])
        .args(["-t", &ready]);
    for t in topics {
        cmd.args(["-t", t]);
    }
    cmd.args(extra);
    let sub = Proc::spawn(&mut cmd);
    // Publish to the readiness topic until the subscriber prints it.
    let deadline = Instant::now() + PATIENCE;
    loop {
        assert!(Instant::now() < deadline, "mosquitto_sub did not subscribe");
        publish(addr, &ready, b"ready", 0, &[]);
        if let Some(line) = sub.line_within(Duration::from_millis(200)) {
            assert!(line.starts_with(&ready), "{line}");
            // Later copies of the readiness message may follow.
            while sub
                .line_within(Duration::from_millis(100))
                .is_some_and(|l| l.starts_with(&ready))
            {}
            return sub;
        }
    }
}

/// Publishes with `mosquitto_pub` (the payload from a file, so any bytes).
fn publish(addr: SocketAddr, topic: &str, payload: &[u8], qos: u8, extra: &[&str]) {
    let file = std::env::temp_dir().join(unique("payload"));
    std::fs::write(&file, payload).unwrap();
    let status = Command::new(tool("mosquitto_pub"))
        .args(["-h", &addr.ip().to_string(), "-p", &addr.port().to_string()])
        .args(["-t", topic, "-q", &qos.to_string(), "-f"])
        .arg(&file)
        .args(extra)
        .stdin(Stdio::null())
        .status()
        .unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(status.success(), "mosquitto_pub to {topic}: {status}");
}

/// One line of [`subscriber`]'s output: topic, QoS, retain, payload.
fn parse(line: &str) -> (String, u8, bool, Vec<u8>) {
    let mut f = line.splitn(4, ' ');
    let topic = f.next().unwrap().to_string();
    let qos = f.next().unwrap().parse().unwrap();
    let retain = f.next().unwrap() == "1";
    let payload = unhex(f.next().unwrap_or(""));
    (topic, qos, retain, payload)
}

// ====================================================================== the module

/// A module behind the runtime client.
struct Sim {
    client: Client<MemoryTransport>,
    seen: Vec<Urc>,
    handle: Option<JoinHandle<()>>,
}

impl Sim {
    fn online_in(world: World) -> Sim {
        fcm242d_sim::catalog::catalog();
        let (link, handle) = in_process(world);
        let mut sim = Sim {
            client: Client::new(link),
            seen: Vec::new(),
            handle: Some(handle),
        };
        sim.client
            .send(&qstaapinfo::Write {
                ssid: Text::new("sim-ap").unwrap(),
                pwd: Some(Text::new("sim-password").unwrap()),
            })
            .unwrap();
        sim.client.poll_urcs(Duration::from_millis(300)).unwrap();
        sim.client.take_urcs();
        sim
    }

    fn wait_for<T>(&mut self, what: &str, f: impl Fn(&Urc) -> Option<T>) -> T {
        let deadline = Instant::now() + PATIENCE;
        loop {
            self.seen.extend(
                self.client
                    .take_urcs()
                    .into_iter()
                    .filter_map(Notice::into_urc),
            );
            if let Some(i) = self.seen.iter().position(|u| f(u).is_some()) {
                let u = self.seen.remove(i);
                return f(&u).unwrap();
            }
            assert!(Instant::now() < deadline, "no {what}; seen {:?}", self.seen);
            let got = self.client.poll_urcs(Duration::from_millis(20)).unwrap();
            self.seen
                .extend(got.into_iter().filter_map(Notice::into_urc));
        }
    }

    fn publish(&mut self, msg_id: i64, qos: qmtpub::Qos, retain: bool, topic: &str, data: &[u8]) {
        let r = self
            .client
            .send_payload(
                &qmtpub::Write {
                    client_idx: Int::new(0).unwrap(),
                    msg_id: Int::new(msg_id).unwrap(),
                    qos,
                    retain: if retain {
                        qmtpub::Retain::Retain
                    } else {
                        qmtpub::Retain::NoRetain
                    },
                    topic: Text::new(topic).unwrap(),
                    length: Some(Int::new(data.len() as i64).unwrap()),
                },
                data,
            )
            .unwrap();
        match r.completion {
            Some(Urc::Qmtpub(p)) => assert_eq!((p.msg_id.get(), p.result.wire()), (msg_id, 0)),
            other => panic!("no +QMTPUB: {other:?}"),
        }
    }

    fn received(&mut self) -> (i64, String, String) {
        self.wait_for("+QMTRECV", |u| match u {
            Urc::QmtrecvMessage(m) => Some((
                m.msg_id.get(),
                m.topic.clone(),
                String::from_utf8_lossy(&m.payload).into_owned(),
            )),
            _ => None,
        })
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            if !std::thread::panicking() {
                let (link, _) = MemoryTransport::pair();
                drop(std::mem::replace(&mut self.client, Client::new(link)));
                h.join().unwrap();
            }
        }
    }
}

/// (a) The module against a real mosquitto, reached as 192.0.2.50:1883 of
/// the simulated world: what it publishes (every QoS, any bytes, retained,
/// its will) reaches `mosquitto_sub`; what `mosquitto_pub` publishes
/// reaches it (text, and any bytes in hex mode).
#[test]
fn the_module_talks_to_mosquitto() {
    let mosquitto = Mosquitto::start();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, mosquitto.port));
    let world = World::from_yaml(&format!(
        "endpoints:\n  - {{address: 192.0.2.50, port: 1883, service: {{kind: external, to: \"127.0.0.1:{}\"}}}}\n",
        mosquitto.port
    ))
    .unwrap();
    let base = unique("interop");
    let (out, inbox, will, kept) = (
        format!("{base}/out"),
        format!("{base}/in"),
        format!("{base}/will"),
        format!("{base}/kept"),
    );
    let sub = subscriber(addr, &[&out, &will], &[]);

    let mut sim = Sim::online_in(world);
    sim.client
        .send(&qmtcfg::Will {
            client_idx: Int::new(0).unwrap(),
            will_flag_group: Some(qmtcfg::WillWillFlagGroup {
                will_flag: qmtcfg::WillFlag::Set,
                will_qos_group: Some(qmtcfg::WillWillFlagGroupWillQosGroup {
                    will_qos: qmtcfg::Qos::AtLeastOnce,
                    will_retain: qmtcfg::Retain::NoRetain,
                    will_topic: Text::new(will.clone()).unwrap(),
                    will_message: Text::new("module lost").unwrap(),
                }),
            }),
        })
        .unwrap();
    let r = sim
        .client
        .send(&qmtopen::Write {
            client_idx: Int::new(0).unwrap(),
            host_name: Host::new("192.0.2.50").unwrap(),
            port: Int::new(1883).unwrap(),
        })
        .unwrap();
    assert!(matches!(r.completion, Some(Urc::Qmtopen(o)) if o.result.wire() == 0));
    let r = sim
        .client
        .send(&qmtconn::Write {
            client_idx: Int::new(0).unwrap(),
            client_id: Text::new(unique("module")).unwrap(),
            username_group: Some(qmtconn::WriteUsernameGroup {
                username: Text::new("quectel").unwrap(),
                password: Text::new("quectel").unwrap(),
            }),
        })
        .unwrap();
    assert!(
        matches!(r.completion, Some(Urc::Qmtconn(c)) if c.result.wire() == 0 && c.retcode.map(|r| r.wire()) == Some(0))
    );
    let r = sim
        .client
        .send(&qmtsub::Write {
            client_idx: Int::new(0).unwrap(),
            msg_id: Int::new(1).unwrap(),
            topic: Text::new(inbox.clone()).unwrap(),
            qos: qmtsub::Qos::AtLeastOnce,
            more_topic: vec![],
        })
        .unwrap();
    assert!(matches!(r.completion, Some(Urc::Qmtsub(s)) if s.result.wire() == 0 && s.value == [1]));

    // Module to mosquitto: every QoS, then every byte value.
    for (qos, id, q) in [
        (qmtpub::Qos::AtMostOnce, 0, 0),
        (qmtpub::Qos::AtLeastOnce, 2, 1),
        (qmtpub::Qos::ExactlyOnce, 3, 2),
    ] {
        let text = format!("hello at QoS {q}");
        sim.publish(id, qos, false, &out, text.as_bytes());
        assert_eq!(
            parse(&sub.line().unwrap()),
            (out.clone(), q, false, text.into_bytes())
        );
    }
    sim.publish(4, qmtpub::Qos::ExactlyOnce, false, &out, &all_bytes());
    assert_eq!(
        parse(&sub.line().unwrap()),
        (out.clone(), 2, false, all_bytes())
    );

    // Retained at mosquitto: a later subscriber gets it.
    sim.publish(
        5,
        qmtpub::Qos::AtLeastOnce,
        true,
        &kept,
        b"kept by mosquitto",
    );
    let late = Proc::spawn(
        Command::new(tool("mosquitto_sub"))
            .args(["-h", "127.0.0.1", "-p", &mosquitto.port.to_string()])
            .args(["-t", &kept, "-C", "1", "-W", "10", "-F", "%r %p"]),
    );
    assert_eq!(late.line().as_deref(), Some("1 kept by mosquitto"));

    // mosquitto to the module: text, then any bytes in hex mode.
    publish(addr, &inbox, b"hello from mosquitto", 1, &[]);
    let (id, topic, payload) = sim.received();
    assert!(id > 0, "QoS 1 has a packet identifier");
    assert_eq!(
        (topic.as_str(), payload.as_str()),
        (inbox.as_str(), "hello from mosquitto")
    );
    publish(addr, &inbox, b"at QoS 0", 0, &[]);
    assert_eq!(sim.received(), (0, inbox.clone(), "at QoS 0".to_string()));
    sim.client
        .send(&qmtcfg::Dataformat {
            client_idx: Int::new(0).unwrap(),
            send_mode_group: Some(qmtcfg::DataformatSendModeGroup {
                send_mode: qmtcfg::SendDataFormat::String,
                recvmode: qmtcfg::RecvDataFormat::Hex,
            }),
        })
        .unwrap();
    publish(addr, &inbox, &all_bytes(), 2, &[]);
    let (_, _, payload) = sim.received();
    assert_eq!(unhex(&payload), all_bytes());

    // The link drops: mosquitto publishes the will.
    sim.client
        .send(&qmtclose::Write {
            client_idx: Int::new(0).unwrap(),
        })
        .unwrap();
    assert_eq!(
        parse(&sub.line().unwrap()),
        (will.clone(), 1, false, b"module lost".to_vec())
    );
}

// ====================================================================== the embedded broker

fn embedded() -> SocketAddr {
    fcm242d_sim::services::started(&Service::Mqtt, Protocol::Tcp).unwrap()
}

/// (b) mosquitto's clients against the embedded broker: the manual's
/// retained message, every QoS and any bytes, retained messages, MQTT 3.1,
/// a login, a will when a client dies, and a persistent session.
#[test]
fn mosquitto_clients_use_the_embedded_broker() {
    let addr = embedded();
    let port = addr.port().to_string();

    // The manual's retained message.
    let example = Proc::spawn(
        Command::new(tool("mosquitto_sub"))
            .args(["-h", "127.0.0.1", "-p", &port])
            .args([
                "-t",
                "topic/example",
                "-C",
                "1",
                "-W",
                "10",
                "-F",
                "%r %l %p",
            ]),
    );
    assert_eq!(
        example.line().as_deref(),
        Some("1 36 This is the payload related to topic")
    );

    let base = unique("embedded");
    let data = format!("{base}/data");
    let sub = subscriber(addr, &[&format!("{base}/#")], &["-u", "any", "-P", "thing"]);
    for q in 0..=2u8 {
        let text = format!("QoS {q} through the embedded broker");
        publish(addr, &data, text.as_bytes(), q, &[]);
        assert_eq!(
            parse(&sub.line().unwrap()),
            (data.clone(), q, false, text.into_bytes())
        );
    }
    publish(addr, &data, &all_bytes(), 1, &[]);
    assert_eq!(
        parse(&sub.line().unwrap()),
        (data.clone(), 1, false, all_bytes())
    );
    // MQTT 3.1 and a login.
    publish(
        addr,
        &data,
        b"v3.1",
        1,
        &["-V", "mqttv31", "-u", "user", "-P", "pw"],
    );
    assert_eq!(
        parse(&sub.line().unwrap()),
        (data.clone(), 1, false, b"v3.1".to_vec())
    );

    // Retained: forwarded without RETAIN, kept for later subscribers.
    let kept = format!("{base}/kept");
    publish(addr, &kept, b"kept", 1, &["-r"]);
    assert_eq!(
        parse(&sub.line().unwrap()),
        (kept.clone(), 1, false, b"kept".to_vec())
    );
    let late = Proc::spawn(
        Command::new(tool("mosquitto_sub"))
            .args(["-h", "127.0.0.1", "-p", &port, "-V", "mqttv31"])
            .args(["-t", &kept, "-C", "1", "-W", "10", "-F", "%r %p"]),
    );
    assert_eq!(late.line().as_deref(), Some("1 kept"));

    // A client with a will dies: the will.
    let will = format!("{base}/will");
    let mut doomed = subscriber(
        addr,
        &[&format!("{base}/nothing")],
        &[
            "--will-topic",
            &will,
            "--will-payload",
            "gone",
            "--will-qos",
            "1",
        ],
    );
    doomed.kill();
    assert_eq!(
        parse(&sub.line().unwrap()),
        (will, 1, false, b"gone".to_vec())
    );

    // A persistent session receives what came while it was away.
    let id = unique("persistent");
    let queued = format!("{base}/queued");
    let mut away = subscriber(addr, &[&queued], &["-c", "-i", &id]);
    away.kill();
    publish(addr, &queued, b"while you were away", 1, &[]);
    assert_eq!(
        parse(&sub.line().unwrap()),
        (queued.clone(), 1, false, b"while you were away".to_vec())
    );
    let back = Proc::spawn(
        Command::new(tool("mosquitto_sub"))
            .args(["-h", "127.0.0.1", "-p", &port, "-c", "-i", &id, "-q", "1"])
            .args(["-t", &queued, "-C", "1", "-W", "10", "-F", "%p"]),
    );
    assert_eq!(back.line().as_deref(), Some("while you were away"));
}

/// The module and a mosquitto client meet at the embedded broker.
#[test]
fn the_module_and_mosquitto_meet_at_the_embedded_broker() {
    let addr = embedded();
    let topic = unique("meet");
    let sub = subscriber(addr, &[&topic], &[]);
    let mut sim = Sim::online_in(World::default());
    let r = sim
        .client
        .send(&qmtopen::Write {
            client_idx: Int::new(0).unwrap(),
            host_name: Host::new("192.0.2.2").unwrap(),
            port: Int::new(8306).unwrap(),
        })
        .unwrap();
    assert!(matches!(r.completion, Some(Urc::Qmtopen(o)) if o.result.wire() == 0));
    let r = sim
        .client
        .send(&qmtconn::Write {
            client_idx: Int::new(0).unwrap(),
            client_id: Text::new(unique("meet-module")).unwrap(),
            username_group: None,
        })
        .unwrap();
    assert!(matches!(r.completion, Some(Urc::Qmtconn(c)) if c.result.wire() == 0));
    sim.publish(
        9,
        qmtpub::Qos::AtLeastOnce,
        false,
        &topic,
        b"from the module",
    );
    assert_eq!(
        parse(&sub.line().unwrap()),
        (topic.clone(), 1, false, b"from the module".to_vec())
    );
}
