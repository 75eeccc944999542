//! Transparent transmission mode of TCP/UDP client sockets through the
//! runtime client: `AT+QIOPEN` access mode 2, `AT+QISWTMD=<id>,2`, `+++`,
//! `ATO` and `NO CARRIER`, with real peers on the loopback. The world's
//! guard time is short (100 ms) so that the tests run quickly; the client
//! keeps 150 ms of silence around `+++`.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream, UdpSocket};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use fcm242d::client::{Client, Error, Options};
use fcm242d::engine::Final;
use fcm242d::generated::commands::{
    ato, escape, qiclose, qigeterror, qiopen, qistate, qiswtmd, qstaapinfo,
};
use fcm242d::generated::results::TcpipCode;
use fcm242d::generated::urcs::Urc;
use fcm242d::session::Notice;
use fcm242d::transport::MemoryTransport;
use fcm242d::value::{Int, Text};
use fcm242d_sim::serve::in_process;
use fcm242d_sim::world::World;

/// How long a test waits for something the network should cause.
const PATIENCE: Duration = Duration::from_secs(5);
const LOCALHOST: Ipv4Addr = Ipv4Addr::LOCALHOST;

struct Sim {
    client: Client<MemoryTransport>,
    handle: Option<JoinHandle<()>>,
}

impl Sim {
    fn offline() -> Sim {
        fcm242d_sim::catalog::catalog();
        let world = World {
            guard_time_ms: 100,
            ..World::default()
        };
        let (link, handle) = in_process(world);
        let options = Options {
            guard_time: Duration::from_millis(150),
            ..Options::default()
        };
        Sim {
            client: Client::with_options(link, options),
            handle: Some(handle),
        }
    }

    fn online() -> Sim {
        let mut sim = Sim::offline();
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

    fn last_error(&mut self) -> TcpipCode {
        self.client.send(&qigeterror::Execute {}).unwrap().lines[0].err
    }

    fn state_of(&mut self, id: i64) -> qistate::WriteLine {
        self.client
            .send(&qistate::Write {
                connect_id: cid(id),
            })
            .unwrap()
            .lines[0]
            .clone()
    }

    /// Reads transparent data until `want` bytes came.
    fn read_exactly(&mut self, want: usize) -> Vec<u8> {
        let deadline = Instant::now() + PATIENCE;
        let mut got = Vec::new();
        while got.len() < want {
            assert!(Instant::now() < deadline, "only {got:?}");
            got.extend(
                self.client
                    .read_transparent(Duration::from_millis(100))
                    .unwrap(),
            );
        }
        got
    }

    fn escape(&mut self) {
        let r = self.client.send(&escape::Execute {}).unwrap();
        assert_eq!(r.result, Final::Ok);
        assert!(!self.client.is_transparent());
    }

    fn ato(&mut self) -> Result<Final, Error> {
        self.client.send(&ato::Execute {}).map(|r| r.result)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            if !std::thread::panicking() {
                let (dead, _) = MemoryTransport::pair();
                drop(std::mem::replace(&mut self.client, Client::new(dead)));
                let _ = h.join();
            }
        }
    }
}

fn cid(id: i64) -> Int<0, 11> {
    Int::new(id).unwrap()
}

fn open_cmd(
    id: i64,
    service: qiopen::ServiceType,
    port: u16,
    local: u16,
    mode: qiopen::AccessMode,
) -> qiopen::Write {
    qiopen::Write {
        connect_id: cid(id),
        service_type: service,
        ip_address_or_domain_name: qiopen::WriteIpAddressOrDomainName::IpAddress(LOCALHOST),
        remote_port: Int::new(port.into()).unwrap(),
        local_port_group: Some(qiopen::WriteLocalPortGroup {
            local_port: Int::new(local.into()).unwrap(),
            access_mode: Some(mode),
            ap_priority: None,
        }),
    }
}

const TRANSPARENT: qiopen::AccessMode = qiopen::AccessMode::Transparent;

/// A listener for the peer, and its port.
fn peer_listener() -> (TcpListener, u16) {
    let l = TcpListener::bind((LOCALHOST, 0)).unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

/// The peer's end of the connection the module made (already in the backlog).
fn accept(l: &TcpListener) -> TcpStream {
    let (s, _) = l.accept().unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s
}

fn peer_read(peer: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    peer.read_exact(&mut buf).unwrap();
    buf
}

#[test]
fn tcp_open_escape_resume_and_no_carrier() {
    let mut sim = Sim::online();
    let (listener, port) = peer_listener();
    let r = sim
        .client
        .send(&open_cmd(0, qiopen::ServiceType::Tcp, port, 0, TRANSPARENT))
        .unwrap();
    assert_eq!(r.result, Final::Connect);
    assert!(sim.client.is_transparent());
    let mut peer = accept(&listener);

    // Host bytes go to the peer as they are: no echo, no commands.
    sim.client.write_transparent(b"hello\r\nAT\r\n").unwrap();
    assert_eq!(peer_read(&mut peer, 11), b"hello\r\nAT\r\n");
    // Peer bytes come to the host as they are: no URC. (They do not end
    // with CR LF, which the client holds back as a possible `NO CARRIER`.)
    peer.write_all(b"world\r\nOK\r\n.").unwrap();
    assert_eq!(sim.read_exactly(12), b"world\r\nOK\r\n.");
    assert!(sim.client.take_urcs().is_empty());

    // `+++` between two guard times: command mode, the socket stays open.
    sim.escape();
    let s = sim.state_of(0);
    assert_eq!(s.socket_state, qistate::SocketState::Connected);
    assert_eq!(s.access_mode, qistate::AccessMode::Transparent);
    assert_eq!(sim.last_error(), TcpipCode::Success);

    // Data arriving in command mode waits (no URC) for ATO.
    peer.write_all(b"later").unwrap();
    assert!(sim
        .client
        .poll_urcs(Duration::from_millis(200))
        .unwrap()
        .is_empty());
    assert_eq!(sim.ato().unwrap(), Final::Connect);
    assert!(sim.client.is_transparent());
    assert_eq!(sim.read_exactly(5), b"later");
    sim.client.write_transparent(b"again").unwrap();
    assert_eq!(peer_read(&mut peer, 5), b"again");

    // The peer closes: NO CARRIER, command mode, the socket is closing.
    drop(peer);
    let deadline = Instant::now() + PATIENCE;
    loop {
        match sim.client.read_transparent(Duration::from_millis(100)) {
            Err(Error::NoCarrier) => break,
            Ok(d) => assert!(d.is_empty(), "unexpected data {d:?}"),
            Err(e) => panic!("{e}"),
        }
        assert!(Instant::now() < deadline, "no NO CARRIER");
    }
    assert!(!sim.client.is_transparent());
    assert_eq!(sim.state_of(0).socket_state, qistate::SocketState::Closing);
    // No `+QIURC: "closed"` was printed for it.
    assert!(!sim
        .client
        .poll_urcs(Duration::from_millis(100))
        .unwrap()
        .iter()
        .any(|u| matches!(u, Notice::Urc(Urc::QiurcClosed(_)))));
    // Nothing to resume.
    assert!(matches!(sim.ato(), Err(Error::NoCarrier)));
    sim.client
        .send(&qiclose::Write {
            connect_id: cid(0),
            timeout: None,
        })
        .unwrap();
}

#[test]
fn unguarded_plus_signs_are_data() {
    let mut sim = Sim::online();
    let (listener, port) = peer_listener();
    let r = sim
        .client
        .send(&open_cmd(3, qiopen::ServiceType::Tcp, port, 0, TRANSPARENT))
        .unwrap();
    assert_eq!(r.result, Final::Connect);
    let mut peer = accept(&listener);

    // Inside data.
    sim.client.write_transparent(b"x+++y").unwrap();
    assert_eq!(peer_read(&mut peer, 5), b"x+++y");
    // Silence before, but data right after.
    std::thread::sleep(Duration::from_millis(150));
    sim.client.write_transparent(b"+++").unwrap();
    sim.client.write_transparent(b"z").unwrap();
    assert_eq!(peer_read(&mut peer, 4), b"+++z");
    // Four `+` between silences.
    std::thread::sleep(Duration::from_millis(150));
    sim.client.write_transparent(b"++++").unwrap();
    assert_eq!(peer_read(&mut peer, 4), b"++++");
    // Two `+` between silences are data too.
    std::thread::sleep(Duration::from_millis(150));
    sim.client.write_transparent(b"++").unwrap();
    assert_eq!(peer_read(&mut peer, 2), b"++");
    // Still transparent: the escape works and the module answers commands.
    std::thread::sleep(Duration::from_millis(150));
    assert!(sim.client.is_transparent());
    sim.escape();
    assert_eq!(
        sim.state_of(3).socket_state,
        qistate::SocketState::Connected
    );
}

#[test]
fn qiswtmd_enters_transparent_mode() {
    let mut sim = Sim::online();
    let (listener, port) = peer_listener();
    let r = sim
        .client
        .send(&open_cmd(
            1,
            qiopen::ServiceType::Tcp,
            port,
            0,
            qiopen::AccessMode::Buffer,
        ))
        .unwrap();
    assert!(matches!(r.completion, Some(Urc::Qiopen(ref o)) if o.err == TcpipCode::Success));
    let mut peer = accept(&listener);
    // Data kept in buffer access mode comes out when the mode switches.
    peer.write_all(b"kept").unwrap();
    let deadline = Instant::now() + PATIENCE;
    while !sim
        .client
        .poll_urcs(Duration::from_millis(20))
        .unwrap()
        .iter()
        .any(|u| matches!(u, Notice::Urc(Urc::QiurcRecvBuffer(_))))
    {
        assert!(Instant::now() < deadline, "no recv URC");
    }
    let r = sim
        .client
        .send(&qiswtmd::Write {
            connect_id: cid(1),
            access_mode: qiswtmd::AccessMode::Transparent,
        })
        .unwrap();
    assert_eq!(r.result, Final::Connect);
    assert!(sim.client.is_transparent());
    assert_eq!(sim.read_exactly(4), b"kept");
    sim.client.write_transparent(b"sent").unwrap();
    assert_eq!(peer_read(&mut peer, 4), b"sent");
    sim.escape();
    // Modes 0 and 1 still answer OK; after that ATO has nothing to resume.
    sim.client
        .send(&qiswtmd::Write {
            connect_id: cid(1),
            access_mode: qiswtmd::AccessMode::DirectPush,
        })
        .unwrap();
    assert_eq!(sim.state_of(1).access_mode, qistate::AccessMode::DirectPush);
    assert!(matches!(sim.ato(), Err(Error::NoCarrier)));
    // No socket: ERROR.
    assert!(matches!(
        sim.client.send(&qiswtmd::Write {
            connect_id: cid(9),
            access_mode: qiswtmd::AccessMode::Transparent,
        }),
        Err(Error::Error { .. })
    ));
    assert_eq!(sim.last_error(), TcpipCode::InvalidParameters);
}

#[test]
fn udp_client_in_transparent_mode() {
    let mut sim = Sim::online();
    let peer = UdpSocket::bind((LOCALHOST, 0)).unwrap();
    peer.set_read_timeout(Some(PATIENCE)).unwrap();
    let port = peer.local_addr().unwrap().port();
    let r = sim
        .client
        .send(&open_cmd(2, qiopen::ServiceType::Udp, port, 0, TRANSPARENT))
        .unwrap();
    assert_eq!(r.result, Final::Connect);
    sim.client.write_transparent(b"ping").unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = peer.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"ping");
    peer.send_to(b"pong", from).unwrap();
    assert_eq!(sim.read_exactly(4), b"pong");
    sim.escape();
    assert_eq!(sim.state_of(2).service_type, qistate::ServiceType::Udp);
}

#[test]
fn transparent_open_failures() {
    // No IP interface: ERROR (569).
    let mut sim = Sim::offline();
    assert!(matches!(
        sim.client
            .send(&open_cmd(0, qiopen::ServiceType::Tcp, 1, 0, TRANSPARENT)),
        Err(Error::Error { .. })
    ));
    assert_eq!(sim.last_error(), TcpipCode::NotAllowed);
    assert!(matches!(sim.ato(), Err(Error::NoCarrier)));
    drop(sim);

    let mut sim = Sim::online();
    // A refused connect: ERROR (564), no socket left.
    let (listener, port) = peer_listener();
    drop(listener);
    assert!(matches!(
        sim.client
            .send(&open_cmd(0, qiopen::ServiceType::Tcp, port, 0, TRANSPARENT)),
        Err(Error::Error { .. })
    ));
    assert!(!sim.client.is_transparent());
    assert_eq!(sim.last_error(), TcpipCode::SocketConnectFailed);
    assert!(sim
        .client
        .send(&qistate::Execute {})
        .unwrap()
        .lines
        .is_empty());
    // Listeners and services refuse mode 2.
    for service in [
        qiopen::ServiceType::TcpListener,
        qiopen::ServiceType::UdpService,
    ] {
        let free = TcpListener::bind((LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        assert!(matches!(
            sim.client.send(&open_cmd(4, service, 0, free, TRANSPARENT)),
            Err(Error::Error { .. })
        ));
        assert_eq!(sim.last_error(), TcpipCode::InvalidParameters);
    }
    // A `<connectID>` in use: ERROR (561).
    let (listener, port) = peer_listener();
    let r = sim
        .client
        .send(&open_cmd(5, qiopen::ServiceType::Tcp, port, 0, TRANSPARENT))
        .unwrap();
    assert_eq!(r.result, Final::Connect);
    let _peer = accept(&listener);
    sim.escape();
    assert!(matches!(
        sim.client
            .send(&open_cmd(5, qiopen::ServiceType::Tcp, port, 0, TRANSPARENT)),
        Err(Error::Error { .. })
    ));
    assert_eq!(sim.last_error(), TcpipCode::SocketIdInUse);
    // The first socket is still there to resume.
    assert_eq!(sim.ato().unwrap(), Final::Connect);
    sim.escape();
}

/// The guard time on the wire, with the module driven directly at chosen
/// instants: `+++` counts only with the world's guard time of silence
/// before and after it.
#[test]
fn the_guard_time_on_the_wire() {
    fcm242d_sim::catalog::catalog();
    let mut m = fcm242d_sim::module::Module::new(World::default());
    let t0 = Instant::now();
    let at = |ms: u64| t0 + Duration::from_millis(ms);
    // Joined a second before: the station has its address at `at(0)`.
    assert_eq!(
        m.input(
            b"AT+QSTAAPINFO=\"sim-ap\",\"sim-password\"\r\n",
            t0 - Duration::from_secs(1)
        ),
        b"\r\nOK\r\n"
    );
    // The join's URCs.
    assert!(!m.poll(at(0)).is_empty());
    let (listener, port) = peer_listener();
    let open = format!("AT+QIOPEN=0,\"TCP\",\"127.0.0.1\",{port},0,2\r\n");
    assert_eq!(m.input(open.as_bytes(), at(0)), b"\r\nCONNECT\r\n");
    let mut peer = accept(&listener);
    // 900 ms of silence is less than the default guard time (1 s): data.
    assert!(m.input(b"+++", at(900)).is_empty());
    assert!(m.poll(at(3000)).is_empty());
    assert_eq!(peer_read(&mut peer, 3), b"+++");
    // Guarded before, but not after: data.
    assert!(m.input(b"+++", at(4000)).is_empty());
    assert!(m.input(b"!", at(4500)).is_empty());
    assert_eq!(peer_read(&mut peer, 4), b"+++!");
    // Guarded on both sides: command mode.
    assert!(m.input(b"+++", at(6000)).is_empty());
    assert!(m.poll(at(6999)).is_empty());
    assert_eq!(m.poll(at(7000)), b"\r\nOK\r\n");
    assert_eq!(m.input(b"ATO\r", at(7100)), b"\r\nCONNECT\r\n");
    // Back in transparent mode: commands are data for the peer.
    assert!(m.input(b"ATE0\r", at(7200)).is_empty());
    assert_eq!(peer_read(&mut peer, 5), b"ATE0\r");
    peer.write_all(b"raw").unwrap();
    let deadline = Instant::now() + PATIENCE;
    let mut got = Vec::new();
    while got.len() < 3 && Instant::now() < deadline {
        got.extend(m.poll(at(7300)));
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(got, b"raw");
    drop(peer);
    let mut got = Vec::new();
    while got.is_empty() && Instant::now() < deadline {
        got.extend(m.poll(at(7400)));
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(got, b"\r\nNO CARRIER\r\n");
    assert_eq!(m.input(b"ATO\r", at(7500)), b"\r\nNO CARRIER\r\n");
}
