//! The default world's echo servers as the manual's SSL examples need them:
//! 192.0.2.2:8010 answers only the first message of a connection
//! (`ssl_client_buffer_access`), and 192.0.2.2:8011 greets a client that
//! stays silent (`ssl_client_transparent_receive`) while HTTP and echo on
//! the same port work as before.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use fcm242d_sim::module::Module;
use fcm242d_sim::services::started;
use fcm242d_sim::world::{Protocol, Service, World};

/// The longest wait for anything the network does.
const PATIENCE: Duration = Duration::from_secs(20);

/// A module driven directly, with a clock the test moves (the network is
/// real, so waiting for it takes real time too). Command answers come from
/// `input`, everything the network causes from `poll`, so the two never mix.
struct WireSim {
    m: Module,
    t0: Instant,
    ms: u64,
    /// Output of `poll` not yet matched.
    pool: Vec<u8>,
}

impl WireSim {
    fn online(world: World) -> WireSim {
        fcm242d_sim::catalog::catalog();
        let mut w = WireSim {
            m: Module::new(world),
            t0: Instant::now(),
            ms: 0,
            pool: Vec::new(),
        };
        w.cmd("AT+QSTAAPINFO=\"sim-ap\",\"sim-password\"", "\r\nOK\r\n");
        w.ms += 1000;
        let now = w.now();
        assert!(!w.m.poll(now).is_empty());
        w
    }

    fn now(&self) -> Instant {
        self.t0 + Duration::from_millis(self.ms)
    }

    /// The answer to raw input; then a poll, as the serve loop does after
    /// input (its output goes to the pool).
    fn raw(&mut self, bytes: &[u8]) -> String {
        self.ms += 10;
        let now = self.now();
        let answer = String::from_utf8_lossy(&self.m.input(bytes, now)).into_owned();
        let out = self.m.poll(now);
        self.pool.extend(out);
        answer
    }

    /// Sends a command line, expecting `expect` as the whole answer.
    fn cmd(&mut self, line: &str, expect: &str) {
        let got = self.raw(format!("{line}\r").as_bytes());
        assert_eq!(got, expect, "{line}");
    }

    /// Polls until `text` is in what the network caused; removes it and
    /// everything before it.
    fn expect_output(&mut self, text: &[u8]) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(i) = self.pool.windows(text.len()).position(|w| w == text) {
                self.pool.drain(..i + text.len());
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no {:?} in {:?}",
                String::from_utf8_lossy(text),
                String::from_utf8_lossy(&self.pool)
            );
            std::thread::sleep(Duration::from_millis(2));
            self.ms += 10;
            let now = self.now();
            let out = self.m.poll(now);
            self.pool.extend(out);
        }
    }

    /// `+++` with the world's guard time (1 s) of silence around it.
    fn escape(&mut self) {
        self.ms += 1100;
        assert_eq!(self.raw(b"+++"), "");
        self.ms += 1100;
        let now = self.now();
        let out = self.m.poll(now);
        self.pool.extend(out);
        self.expect_output(b"\r\nOK\r\n");
    }
}

/// Reads exactly `n` bytes (or fails after [`PATIENCE`]).
fn read_exactly(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut got = vec![0u8; n];
    stream.read_exact(&mut got).unwrap();
    got
}

#[test]
fn a_once_echo_answers_the_first_message_and_then_only_listens() {
    let addr = started(
        &Service::TcpEcho {
            greeting: Some("hi ".into()),
            once: true,
        },
        Protocol::Tcp,
    )
    .unwrap();
    let mut s = TcpStream::connect(addr).unwrap();
    assert_eq!(read_exactly(&mut s, 3), b"hi ");
    s.write_all(b"first").unwrap();
    assert_eq!(read_exactly(&mut s, 5), b"first");
    // The connection stays open and takes more, without an answer: what
    // comes back before the server closes (after our end) is nothing.
    s.write_all(b"second").unwrap();
    s.write_all(b"third").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "{rest:?}");
    // A full echo answers everything.
    let addr = started(
        &Service::TcpEcho {
            greeting: None,
            once: false,
        },
        Protocol::Tcp,
    )
    .unwrap();
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"first").unwrap();
    assert_eq!(read_exactly(&mut s, 5), b"first");
    s.write_all(b"second").unwrap();
    assert_eq!(read_exactly(&mut s, 6), b"second");
}

#[test]
fn world_files_set_once_and_greeting() {
    let world = World::from_yaml(
        "endpoints:\n  - {address: 192.0.2.9, port: 1, service: {kind: tls_echo, once: true}}\n  - {address: 192.0.2.9, port: 2, service: {kind: https, greeting: hello}}\n  - {address: 192.0.2.9, port: 3, service: {kind: tcp_echo}}\n",
    )
    .unwrap();
    // The world file adds to the embedded endpoints.
    let services: Vec<&Service> = world
        .endpoints
        .iter()
        .filter(|e| e.address == "192.0.2.9")
        .map(|e| &e.service)
        .collect();
    assert_eq!(
        services,
        [
            &Service::TlsEcho {
                greeting: None,
                client_auth: false,
                once: true
            },
            &Service::Https {
                client_auth: false,
                greeting: Some("hello".into())
            },
            &Service::TcpEcho {
                greeting: None,
                once: false
            },
        ]
    );
}

/// Scenario ssl_client_buffer_access on the default world: two messages
/// sent, 18 bytes received, then nothing.
#[test]
fn the_manuals_buffer_access_example_runs_on_the_default_world() {
    let mut w = WireSim::online(World::default());
    w.cmd("AT+QSSLOPEN=1,4,\"192.0.2.2\",8010,0", "\r\nOK\r\n");
    w.expect_output(b"\r\n+QSSLOPEN: 4,0\r\n");
    w.cmd("AT+QSSLSEND=4", "\r\n> ");
    w.cmd("Test data from SSL\x1a", "\r\nSEND OK\r\n");
    // (The server's first read takes the first message alone when the
    // second follows a command later; the test waits to be sure.)
    w.expect_output(b"\r\n+QSSLURC: \"recv\",4\r\n");
    w.cmd("AT+QSSLSEND=4,18", "\r\n> ");
    assert_eq!(w.raw(b"Test data from SSL"), "\r\nSEND OK\r\n");
    w.cmd(
        "AT+QSSLRECV=4,1500",
        "\r\n+QSSLRECV: 18\r\nTest data from SSL\r\n\r\nOK\r\n",
    );
    w.cmd("AT+QSSLRECV=4,1500", "\r\n+QSSLRECV: 0\r\n\r\nOK\r\n");
    w.cmd("AT+QSSLCLOSE=4", "\r\nOK\r\n");
    assert!(w.pool.is_empty(), "{:?}", String::from_utf8_lossy(&w.pool));
}

/// Scenario ssl_client_transparent_receive on the default world: the
/// module receives data without sending any; what it sends afterwards is
/// echoed.
#[test]
fn the_manuals_transparent_receive_example_runs_on_the_default_world() {
    let mut w = WireSim::online(World::default());
    w.cmd("AT+QSSLOPEN=1,4,\"192.0.2.2\",8011,2", "\r\nCONNECT\r\n");
    w.expect_output(b"Hello from 192.0.2.2\r\n");
    assert!(w.pool.is_empty());
    assert_eq!(w.raw(b"ping"), "");
    w.expect_output(b"ping");
    w.escape();
    w.cmd("AT+QSSLCLOSE=4", "\r\nOK\r\n");
}

/// A client of 8011 that speaks at once is not greeted: echo (the direct
/// push example) and HTTP (the HTTPS examples) work as on 443.
#[test]
fn a_client_that_speaks_first_is_not_greeted() {
    let mut w = WireSim::online(World::default());
    w.cmd("AT+QSSLOPEN=1,4,\"192.0.2.2\",8011,2", "\r\nCONNECT\r\n");
    assert_eq!(w.raw(b"Test data from SSL"), "");
    w.expect_output(b"Test data from SSL");
    // Long after: still no greeting, only the echo of what is sent.
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(w.raw(b"!"), "");
    w.expect_output(b"!");
    assert!(w.pool.is_empty(), "{:?}", String::from_utf8_lossy(&w.pool));
    w.escape();
    w.cmd("AT+QSSLCLOSE=4", "\r\nOK\r\n");
    w.cmd(
        "AT+QHTTPCFG=\"url\",\"https://192.0.2.2:8011/echo\"",
        "\r\nOK\r\n",
    );
    w.cmd("AT+QHTTPPOST=4,10,10", "\r\nCONNECT\r\n");
    assert_eq!(w.raw(b"abcd"), "\r\nOK\r\n");
    w.expect_output(b"\r\n+QHTTPPOST: 0,200,4\r\n");
}
