//! The TCP/UDP group through the runtime client, with real peers on the
//! loopback: a TCP echo server, plain `std` sockets connecting to the
//! module's listeners and UDP services. The module joins the world's access
//! point first (a socket needs an IP interface).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream, UdpSocket};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use fcm242d::client::{Client, Error};
use fcm242d::engine::Final;
use fcm242d::generated::commands::{
    ato, qiaccept, qicfg, qiclose, qigeterror, qiopen, qird, qisend, qistate, qiswtmd, qstaapinfo,
    qstastop,
};
use fcm242d::generated::results::TcpipCode;
use fcm242d::generated::urcs::Urc;
use fcm242d::session::Notice;
use fcm242d::transport::MemoryTransport;
use fcm242d::value::{Host, Int, Text};
use fcm242d_sim::module::Module;
use fcm242d_sim::serve::in_process;
use fcm242d_sim::world::{Protocol, World};

/// Where the host reaches the module's listener (TCP) or UDP service with
/// `<local_port>` `port`: the module's ports are free ports of the host.
fn host(protocol: Protocol, port: u16) -> std::net::SocketAddr {
    fcm242d_sim::services::Services::shared()
        .host_address(protocol, port)
        .expect("the module listens there")
}

/// How long a test waits for something the network should cause.
const PATIENCE: Duration = Duration::from_secs(5);
const LOCALHOST: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// A module behind a client, and the URCs seen so far.
struct Sim {
    client: Client<MemoryTransport>,
    seen: Vec<Urc>,
    handle: Option<JoinHandle<()>>,
}

impl Sim {
    /// A module that has not joined a network.
    fn offline() -> Sim {
        // Load the catalogue before the first command (the module loads it
        // lazily, which can exceed a 300 ms limit in a parallel debug run).
        fcm242d_sim::catalog::catalog();
        let (link, handle) = in_process(World::default());
        Sim {
            client: Client::new(link),
            seen: Vec::new(),
            handle: Some(handle),
        }
    }

    /// A module joined to the world's access point.
    fn online() -> Sim {
        let mut sim = Sim::offline();
        sim.client
            .send(&qstaapinfo::Write {
                ssid: Text::new("sim-ap").unwrap(),
                pwd: Some(Text::new("sim-password").unwrap()),
            })
            .unwrap();
        sim.settle(Duration::from_millis(300));
        sim.seen.clear();
        sim
    }

    /// Collects URCs for `wait`.
    fn settle(&mut self, wait: Duration) {
        let got = self.client.poll_urcs(wait).unwrap();
        self.seen
            .extend(got.into_iter().filter_map(Notice::into_urc));
    }

    /// Waits for the first URC `f` picks, and removes it from `seen`.
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

    fn recv_buffer(&mut self, id: i64) {
        self.wait_for("+QIURC: \"recv\"", |u| match u {
            Urc::QiurcRecvBuffer(r) if r.connect_id.get() == id => Some(()),
            _ => None,
        })
    }

    fn count(&self, f: impl Fn(&Urc) -> bool) -> usize {
        self.seen.iter().filter(|u| f(u)).count()
    }

    /// `AT+QIOPEN`, returning the `<err>` of its `+QIOPEN`.
    fn open(&mut self, cmd: &qiopen::Write) -> TcpipCode {
        let r = self.client.send(cmd).unwrap();
        match r.completion {
            Some(Urc::Qiopen(o)) => {
                assert_eq!(o.connect_id, cmd.connect_id);
                o.err
            }
            other => panic!("no +QIOPEN: {other:?}"),
        }
    }

    fn send(&mut self, id: i64, data: &[u8]) -> Result<Final, Error> {
        self.client
            .send_payload(
                &qisend::WriteConnectIdSendLength {
                    connect_id: cid(id),
                    send_length: Int::new(data.len() as i64).unwrap(),
                },
                data,
            )
            .map(|r| r.result)
    }

    /// `AT+QIRD=<id>,<len>`: the data, or `None` for `+QIRD: 0`.
    fn read(&mut self, id: i64, len: i64) -> Option<Vec<u8>> {
        let r = self
            .client
            .send(&qird::WriteConnectIdReadLength {
                connect_id: cid(id),
                read_length: Some(Int::new(len).unwrap()),
            })
            .unwrap();
        match r.lines.as_slice() {
            [qird::WriteConnectIdReadLengthLine::Data(l)] if l.read_actual_length > 0 => {
                let data = r.data.first().cloned().unwrap_or_default();
                assert_eq!(data.len() as i64, l.read_actual_length);
                Some(data)
            }
            [qird::WriteConnectIdReadLengthLine::Data(_)]
            | [qird::WriteConnectIdReadLengthLine::NoData(_)] => None,
            other => panic!("QIRD lines: {other:?}"),
        }
    }

    /// Reads until `want` bytes came (the peer's data may come in pieces).
    fn read_exactly(&mut self, id: i64, want: usize) -> Vec<u8> {
        let deadline = Instant::now() + PATIENCE;
        let mut got = Vec::new();
        while got.len() < want {
            match self.read(id, 1500) {
                Some(d) => got.extend(d),
                None => {
                    assert!(Instant::now() < deadline, "got {} of {want}", got.len());
                    self.settle(Duration::from_millis(20));
                }
            }
        }
        got
    }

    fn last_error(&mut self) -> (TcpipCode, String) {
        let r = self.client.send(&qigeterror::Execute {}).unwrap();
        let l = &r.lines[0];
        (l.err, l.errcode_description.clone())
    }

    fn state_of(&mut self, id: i64) -> Result<qistate::WriteLine, Error> {
        self.client
            .send(&qistate::Write {
                connect_id: cid(id),
            })
            .map(|r| r.lines[0].clone())
    }

    fn states(&mut self) -> Vec<qistate::ExecuteLine> {
        self.client.send(&qistate::Execute {}).unwrap().lines
    }

    fn close(&mut self, id: i64) -> Result<(), Error> {
        self.client
            .send(&qiclose::Write {
                connect_id: cid(id),
                timeout: None,
            })
            .map(|_| ())
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        // Dropping the link stops the module; wait for it when the test passed.
        if let Some(h) = self.handle.take() {
            if !std::thread::panicking() {
                let (link, _) = MemoryTransport::pair();
                drop(std::mem::replace(&mut self.client, Client::new(link)));
                h.join().unwrap();
            }
        }
    }
}

fn cid(id: i64) -> Int<0, 11> {
    Int::new(id).unwrap()
}

fn refused(r: Result<impl std::fmt::Debug, Error>) -> bool {
    matches!(r, Err(Error::Error { .. }))
}

/// `AT+QIOPEN=<id>,<service>,<ip>,<port>[,<local_port>,<mode>]`.
fn open_cmd(
    id: i64,
    service: qiopen::ServiceType,
    ip: Ipv4Addr,
    port: u16,
    local: Option<(u16, Option<qiopen::AccessMode>)>,
) -> qiopen::Write {
    qiopen::Write {
        connect_id: cid(id),
        service_type: service,
        ip_address_or_domain_name: qiopen::WriteIpAddressOrDomainName::IpAddress(ip),
        remote_port: Int::new(port.into()).unwrap(),
        local_port_group: local.map(|(p, mode)| qiopen::WriteLocalPortGroup {
            local_port: Int::new(p.into()).unwrap(),
            access_mode: mode,
            ap_priority: None,
        }),
    }
}

fn tcp(id: i64, port: u16, mode: qiopen::AccessMode) -> qiopen::Write {
    open_cmd(
        id,
        qiopen::ServiceType::Tcp,
        LOCALHOST,
        port,
        Some((0, Some(mode))),
    )
}

const BUFFER: qiopen::AccessMode = qiopen::AccessMode::Buffer;
const PUSH: qiopen::AccessMode = qiopen::AccessMode::DirectPush;

/// A TCP echo server for one connection; `close_at_once` makes it close the
/// connection right after accepting it. Bounded in time.
fn echo_server(close_at_once: bool) -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind((LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let handle = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut stream = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
                Err(_) => return,
            }
        };
        if close_at_once {
            return;
        }
        stream.set_nonblocking(false).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 || stream.write_all(&buf[..n]).is_err() {
                break;
            }
        }
    });
    (port, handle)
}

/// A loopback port nobody listens on (bound, then released).
fn free_port() -> u16 {
    TcpListener::bind((LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ------------------------------------------------------------------ tests

#[test]
fn opening_needs_a_network_and_qigeterror_says_why() {
    let mut sim = Sim::offline();
    let (port, _) = echo_server(true);
    assert!(refused(sim.client.send(&tcp(0, port, BUFFER))));
    assert_eq!(
        sim.last_error(),
        (TcpipCode::NotAllowed, "Operation not allowed".to_string())
    );
    assert!(sim.states().is_empty());
    // Nothing was opened, so nothing follows.
    sim.settle(Duration::from_millis(100));
    assert!(sim.seen.is_empty(), "{:?}", sim.seen);
}

#[test]
fn tcp_client_in_buffer_access_mode() {
    let mut sim = Sim::online();
    let (port, server) = echo_server(false);
    assert_eq!(sim.open(&tcp(0, port, BUFFER)), TcpipCode::Success);
    assert_eq!(sim.last_error().0, TcpipCode::Success);

    let st = sim.state_of(0).unwrap();
    assert_eq!(st.service_type, qistate::ServiceType::Tcp);
    assert_eq!(st.ip_address, LOCALHOST);
    assert_eq!(st.remote_port, i64::from(port));
    assert_ne!(st.local_port, 0);
    assert_eq!(st.socket_state, qistate::SocketState::Connected);
    assert_eq!(st.server_id, 0);
    assert_eq!(st.access_mode, qistate::AccessMode::Buffer);
    assert_eq!(st.at_port, qistate::AtPort::Uart1);

    // Fixed length, then Ctrl+Z-ended.
    assert_eq!(sim.send(0, b"hello").unwrap(), Final::SendOk);
    sim.recv_buffer(0);
    let r = sim
        .client
        .send_payload(&qisend::WriteConnectId { connect_id: cid(0) }, b" world")
        .unwrap();
    assert_eq!(r.result, Final::SendOk);
    sim.settle(Duration::from_millis(200));
    // The buffer was not drained: no second "recv".
    assert_eq!(
        sim.count(|u| matches!(u, Urc::QiurcRecvBuffer(_))),
        0,
        "{:?}",
        sim.seen
    );
    assert_eq!(sim.read(0, 3).unwrap(), b"hel");
    assert_eq!(sim.read_exactly(0, 8), b"lo world");
    assert_eq!(sim.read(0, 1500), None);

    // Totals.
    let sent = sim
        .client
        .send(&qisend::WriteConnectId0 { connect_id: cid(0) })
        .unwrap();
    let l = &sent.lines[0];
    assert_eq!(
        (l.total_send_length, l.ackedbytes, l.unackedbytes),
        (11, 11, 0)
    );
    let rd = sim
        .client
        .send(&qird::WriteConnectId0 { connect_id: cid(0) })
        .unwrap();
    let l = &rd.lines[0];
    assert_eq!(
        (l.total_receive_length, l.have_read_length, l.unread_length),
        (11, 11, 0)
    );

    // Drained: the next data is announced again.
    assert_eq!(sim.send(0, b"again").unwrap(), Final::SendOk);
    sim.recv_buffer(0);
    assert_eq!(sim.read_exactly(0, 5), b"again");

    sim.close(0).unwrap();
    assert!(refused(sim.state_of(0)));
    assert!(sim.states().is_empty());
    server.join().unwrap();
}

#[test]
fn tcp_client_in_direct_push_mode_and_switching_modes() {
    let mut sim = Sim::online();
    let (port, server) = echo_server(false);
    assert_eq!(sim.open(&tcp(3, port, PUSH)), TcpipCode::Success);
    assert_eq!(
        sim.state_of(3).unwrap().access_mode,
        qistate::AccessMode::DirectPush
    );
    assert_eq!(sim.send(3, b"pushed").unwrap(), Final::SendOk);
    let mut got = Vec::new();
    while got.len() < 6 {
        got.extend(sim.wait_for("direct push", |u| match u {
            Urc::QiurcRecvDirectPush(p) if p.connect_id.get() == 3 => {
                assert_eq!(p.current_recvlength, p.data.len() as i64);
                Some(p.data.clone())
            }
            _ => None,
        }));
    }
    assert_eq!(got, b"pushed");
    // Reading is for buffer access mode.
    assert!(refused(sim.client.send(&qird::WriteConnectIdReadLength {
        connect_id: cid(3),
        read_length: None,
    })));
    assert_eq!(sim.last_error().0, TcpipCode::NotAllowed);

    // Switch to buffer access mode: data is now kept for QIRD.
    sim.client
        .send(&qiswtmd::Write {
            connect_id: cid(3),
            access_mode: qiswtmd::AccessMode::Buffer,
        })
        .unwrap();
    assert_eq!(sim.send(3, b"kept").unwrap(), Final::SendOk);
    sim.recv_buffer(3);
    assert_eq!(sim.read_exactly(3, 4), b"kept");
    // Switching to transparent mode is covered by tests/transparent.rs.
    sim.close(3).unwrap();
    server.join().unwrap();
}

#[test]
fn every_byte_value_goes_through_qisend_and_qird_unchanged() {
    let mut sim = Sim::online();
    let (port, server) = echo_server(false);
    assert_eq!(sim.open(&tcp(0, port, BUFFER)), TcpipCode::Success);
    let all: Vec<u8> = (0..=255u8).collect();
    let mut total = 0usize;
    for round in 0..40u8 {
        let block: Vec<u8> = all
            .iter()
            .cycle()
            .skip(round.into())
            .take(1460)
            .copied()
            .collect();
        assert_eq!(sim.send(0, &block).unwrap(), Final::SendOk);
        assert_eq!(sim.read_exactly(0, block.len()), block, "round {round}");
        total += block.len();
    }
    let rd = sim
        .client
        .send(&qird::WriteConnectId0 { connect_id: cid(0) })
        .unwrap();
    assert_eq!(rd.lines[0].total_receive_length, total as i64);
    assert_eq!(rd.lines[0].unread_length, 0);
    sim.close(0).unwrap();
    server.join().unwrap();
}

#[test]
fn a_refused_connect_reports_564() {
    let mut sim = Sim::online();
    let port = free_port();
    assert_eq!(
        sim.open(&tcp(1, port, BUFFER)),
        TcpipCode::SocketConnectFailed
    );
    assert_eq!(
        sim.last_error(),
        (
            TcpipCode::SocketConnectFailed,
            "Socket connect failed".to_string()
        )
    );
    // The identity is free again.
    assert!(refused(sim.state_of(1)));
    // An address outside the simulated world is unreachable too (and no
    // packet leaves the machine for it).
    assert_eq!(
        sim.open(&open_cmd(
            1,
            qiopen::ServiceType::Tcp,
            Ipv4Addr::new(192, 0, 2, 99),
            8009,
            None
        )),
        TcpipCode::SocketConnectFailed
    );
}

#[test]
fn names_resolve_from_the_hosts_table_and_identities_are_exclusive() {
    let mut sim = Sim::online();
    let (port, server) = echo_server(false);
    let by_name = |name: &str, id: i64| qiopen::Write {
        ip_address_or_domain_name: qiopen::WriteIpAddressOrDomainName::DomainName(
            Host::new(name).unwrap(),
        ),
        ..tcp(id, port, BUFFER)
    };
    assert_eq!(
        sim.open(&by_name("nowhere.invalid", 0)),
        TcpipCode::DnsFailed
    );
    assert_eq!(sim.last_error().1, "DNS failed");
    assert_eq!(sim.open(&by_name("sim.example", 0)), TcpipCode::Success);
    assert_eq!(sim.state_of(0).unwrap().ip_address, LOCALHOST);
    // The identity is in use: 561, and the open socket is untouched.
    assert_eq!(sim.open(&tcp(0, port, BUFFER)), TcpipCode::SocketIdInUse);
    assert_eq!(
        sim.state_of(0).unwrap().socket_state,
        qistate::SocketState::Connected
    );
    assert_eq!(sim.send(0, b"still here").unwrap(), Final::SendOk);
    sim.recv_buffer(0);
    assert_eq!(sim.read_exactly(0, 10), b"still here");
    sim.close(0).unwrap();
    server.join().unwrap();
}

#[test]
fn a_peer_that_closes_gives_closed_and_the_socket_is_closing() {
    let mut sim = Sim::online();
    let (port, server) = echo_server(true);
    assert_eq!(sim.open(&tcp(2, port, BUFFER)), TcpipCode::Success);
    sim.wait_for("+QIURC: \"closed\"", |u| match u {
        Urc::QiurcClosed(c) if c.connect_id.get() == 2 => Some(()),
        _ => None,
    });
    assert_eq!(
        sim.state_of(2).unwrap().socket_state,
        qistate::SocketState::Closing
    );
    assert!(refused(sim.send(2, b"late")));
    assert_eq!(sim.last_error().0, TcpipCode::SocketClosed);
    // QICLOSE frees the identity.
    sim.close(2).unwrap();
    assert!(refused(sim.state_of(2)));
    assert!(refused(sim.close(2)));
    server.join().unwrap();
}

#[test]
fn leaving_the_network_closes_the_sockets() {
    let mut sim = Sim::online();
    let (port, server) = echo_server(false);
    assert_eq!(sim.open(&tcp(0, port, BUFFER)), TcpipCode::Success);
    sim.client.send(&qstastop::Execute {}).unwrap();
    sim.wait_for("+QIURC: \"closed\"", |u| match u {
        Urc::QiurcClosed(c) if c.connect_id.get() == 0 => Some(()),
        _ => None,
    });
    assert_eq!(
        sim.state_of(0).unwrap().socket_state,
        qistate::SocketState::Closing
    );
    server.join().unwrap();
}

#[test]
fn a_listener_takes_incoming_connections_automatically_or_with_qiaccept() {
    let mut sim = Sim::online();
    let port = free_port();
    let listener = open_cmd(
        1,
        qiopen::ServiceType::TcpListener,
        LOCALHOST,
        0,
        Some((port, Some(BUFFER))),
    );
    assert_eq!(sim.open(&listener), TcpipCode::Success);
    let st = sim.state_of(1).unwrap();
    assert_eq!(st.service_type, qistate::ServiceType::TcpListener);
    assert_eq!(st.socket_state, qistate::SocketState::Listening);
    assert_eq!(st.local_port, i64::from(port));
    assert_eq!(st.server_id, 1);
    // A listener's address is the module's own on the joined network.
    assert_eq!(st.ip_address, Ipv4Addr::new(192, 168, 4, 23));

    // Automatic acceptance (the default): the lowest free identity.
    let mut peer = TcpStream::connect(host(Protocol::Tcp, port)).unwrap();
    let peer_port = peer.local_addr().unwrap().port();
    let incoming = sim.wait_for("+QIURC: \"incoming\"", |u| match u {
        Urc::QiurcIncoming(i) => Some(i.clone()),
        _ => None,
    });
    assert_eq!(incoming.connect_id.get(), 0);
    assert_eq!(incoming.server_id, 1);
    assert_eq!(incoming.remote_ip, LOCALHOST);
    assert_eq!(incoming.remote_port, i64::from(peer_port));
    let st = sim.state_of(0).unwrap();
    assert_eq!(st.service_type, qistate::ServiceType::TcpIncoming);
    assert_eq!(st.server_id, 1);
    assert_eq!(st.remote_port, i64::from(peer_port));
    assert_eq!(st.local_port, i64::from(port));
    assert_eq!(st.access_mode, qistate::AccessMode::Buffer);

    peer.write_all(b"ping").unwrap();
    sim.recv_buffer(0);
    assert_eq!(sim.read_exactly(0, 4), b"ping");
    assert_eq!(sim.send(0, b"pong").unwrap(), Final::SendOk);
    let mut buf = [0u8; 4];
    peer.set_read_timeout(Some(PATIENCE)).unwrap();
    peer.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"pong");

    // Nothing waits: QIACCEPT has nothing to take.
    let take = |accept, id: Option<i64>| qiaccept::Write {
        listener_socket_id: cid(1),
        accept,
        incoming_socket_id: id.map(cid),
    };
    assert!(refused(
        sim.client.send(&take(qiaccept::Accept::Accept, None))
    ));

    // Manual acceptance.
    sim.client
        .send(&qicfg::TcpAccept {
            state: Some(qicfg::Enable::Disable),
        })
        .unwrap();
    let second = TcpStream::connect(host(Protocol::Tcp, port)).unwrap();
    sim.settle(Duration::from_millis(150));
    assert_eq!(
        sim.count(|u| matches!(u, Urc::QiurcIncoming(_))),
        0,
        "{:?}",
        sim.seen
    );
    let r = sim
        .client
        .send(&take(qiaccept::Accept::Accept, Some(5)))
        .unwrap();
    let l = &r.lines[0];
    assert_eq!(l.incoming_socket_id.get(), 5);
    assert_eq!(l.remote_addr, LOCALHOST);
    assert_eq!(
        l.remote_port,
        i64::from(second.local_addr().unwrap().port())
    );
    assert_eq!(
        sim.state_of(5).unwrap().service_type,
        qistate::ServiceType::TcpIncoming
    );
    // An identity in use cannot take a connection.
    let mut third = TcpStream::connect(host(Protocol::Tcp, port)).unwrap();
    sim.settle(Duration::from_millis(100));
    assert!(refused(
        sim.client.send(&take(qiaccept::Accept::Accept, Some(0)))
    ));
    assert_eq!(sim.last_error().0, TcpipCode::SocketIdInUse);
    // Rejected: the peer sees the connection end.
    sim.client
        .send(&take(qiaccept::Accept::Reject, None))
        .unwrap();
    third.set_read_timeout(Some(PATIENCE)).unwrap();
    assert_eq!(third.read(&mut buf).unwrap_or(0), 0);

    let listed: Vec<(i64, qistate::ServiceType)> = sim
        .states()
        .iter()
        .map(|l| (l.connect_id.get(), l.service_type))
        .collect();
    assert_eq!(
        listed,
        [
            (0, qistate::ServiceType::TcpIncoming),
            (1, qistate::ServiceType::TcpListener),
            (5, qistate::ServiceType::TcpIncoming),
        ]
    );
    // The same lines through the read form.
    let read_form = sim.client.send(&qistate::Read {}).unwrap().lines;
    assert_eq!(read_form.len(), 3);
    peer.shutdown(Shutdown::Both).unwrap();
    sim.wait_for("+QIURC: \"closed\"", |u| match u {
        Urc::QiurcClosed(c) if c.connect_id.get() == 0 => Some(()),
        _ => None,
    });
}

#[test]
fn a_full_module_reports_incoming_full() {
    let mut sim = Sim::online();
    let port = free_port();
    let listener = open_cmd(
        11,
        qiopen::ServiceType::TcpListener,
        LOCALHOST,
        0,
        Some((port, None)),
    );
    assert_eq!(sim.open(&listener), TcpipCode::Success);
    let mut peers = Vec::new();
    for _ in 0..11 {
        peers.push(TcpStream::connect(host(Protocol::Tcp, port)).unwrap());
    }
    for _ in 0..11 {
        sim.wait_for("+QIURC: \"incoming\"", |u| match u {
            Urc::QiurcIncoming(_) => Some(()),
            _ => None,
        });
    }
    let mut extra = TcpStream::connect(host(Protocol::Tcp, port)).unwrap();
    sim.wait_for("+QIURC: \"incoming full\"", |u| match u {
        Urc::QiurcIncomingFull(_) => Some(()),
        _ => None,
    });
    extra.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut buf = [0u8; 1];
    assert_eq!(extra.read(&mut buf).unwrap_or(0), 0);
    assert_eq!(sim.states().len(), 12);
}

#[test]
fn a_udp_service_receives_and_sends_datagrams() {
    let mut sim = Sim::online();
    let port = {
        let probe = UdpSocket::bind((LOCALHOST, 0)).unwrap();
        probe.local_addr().unwrap().port()
    };
    let service = open_cmd(
        4,
        qiopen::ServiceType::UdpService,
        LOCALHOST,
        0,
        Some((port, Some(BUFFER))),
    );
    assert_eq!(sim.open(&service), TcpipCode::Success);
    let st = sim.state_of(4).unwrap();
    assert_eq!(st.service_type, qistate::ServiceType::UdpService);
    assert_eq!(st.local_port, i64::from(port));

    let peer = UdpSocket::bind((LOCALHOST, 0)).unwrap();
    peer.set_read_timeout(Some(PATIENCE)).unwrap();
    let peer_port = peer.local_addr().unwrap().port();
    peer.send_to(b"first", host(Protocol::Udp, port)).unwrap();
    peer.send_to(b"second", host(Protocol::Udp, port)).unwrap();
    sim.recv_buffer(4);
    // One datagram per read, with its sender.
    for want in [&b"first"[..], b"second"] {
        let mut r = sim
            .client
            .send(&qird::WriteConnectId { connect_id: cid(4) })
            .unwrap();
        if matches!(r.lines.as_slice(), [qird::WriteConnectIdLine::NoData(_)]) {
            // The second datagram had not arrived yet.
            sim.settle(Duration::from_millis(50));
            r = sim
                .client
                .send(&qird::WriteConnectId { connect_id: cid(4) })
                .unwrap();
        }
        match r.lines.as_slice() {
            [qird::WriteConnectIdLine::Data(l)] => {
                assert_eq!(l.read_actual_length, want.len() as i64);
                assert_eq!(l.remote_ip, LOCALHOST);
                assert_eq!(l.remote_port, i64::from(peer_port));
                assert_eq!(r.data[0], want);
            }
            other => panic!("{other:?}"),
        }
    }

    // Sending needs the destination.
    let reply = qisend::WriteConnectIdSendLengthRemoteIpRemotePort {
        connect_id: cid(4),
        send_length: Int::new(5).unwrap(),
        remote_ip: LOCALHOST,
        remote_port: Int::new(peer_port.into()).unwrap(),
    };
    let r = sim.client.send_payload(&reply, b"reply").unwrap();
    assert_eq!(r.result, Final::SendOk);
    let mut buf = [0u8; 64];
    let (n, from) = peer.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"reply");
    assert_eq!(from, host(Protocol::Udp, port));
    assert!(refused(sim.send(4, b"nowhere")));
    assert_eq!(sim.last_error().0, TcpipCode::InvalidParameters);
    // A service's mode cannot be switched.
    assert!(refused(sim.client.send(&qiswtmd::Write {
        connect_id: cid(4),
        access_mode: qiswtmd::AccessMode::DirectPush,
    })));
    sim.close(4).unwrap();
}

#[test]
fn a_udp_service_in_direct_push_mode_names_the_sender() {
    let mut sim = Sim::online();
    let port = free_port();
    let service = open_cmd(
        6,
        qiopen::ServiceType::UdpService,
        LOCALHOST,
        0,
        Some((port, Some(PUSH))),
    );
    assert_eq!(sim.open(&service), TcpipCode::Success);
    let peer = UdpSocket::bind((LOCALHOST, 0)).unwrap();
    peer.send_to(b"datagram", host(Protocol::Udp, port))
        .unwrap();
    let (data, ip, from) = sim.wait_for("UDP direct push", |u| match u {
        Urc::QiurcRecvDirectPushUdpService(p) if p.connect_id.get() == 6 => {
            Some((p.data.clone(), p.remote_ip, p.remote_port))
        }
        _ => None,
    });
    assert_eq!(data, b"datagram");
    assert_eq!(ip, LOCALHOST);
    assert_eq!(from, i64::from(peer.local_addr().unwrap().port()));
}

#[test]
fn a_udp_client_talks_to_its_peer() {
    let mut sim = Sim::online();
    let peer = UdpSocket::bind((LOCALHOST, 0)).unwrap();
    peer.set_read_timeout(Some(PATIENCE)).unwrap();
    let port = peer.local_addr().unwrap().port();
    let client = open_cmd(7, qiopen::ServiceType::Udp, LOCALHOST, port, None);
    assert_eq!(sim.open(&client), TcpipCode::Success);
    assert_eq!(sim.send(7, b"hi").unwrap(), Final::SendOk);
    let mut buf = [0u8; 16];
    let (n, from) = peer.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"hi");
    assert_eq!(sim.state_of(7).unwrap().local_port, i64::from(from.port()));
    peer.send_to(b"back", from).unwrap();
    sim.recv_buffer(7);
    assert_eq!(sim.read_exactly(7, 4), b"back");
}

#[test]
fn the_catalogue_rules_and_other_refusals() {
    let mut sim = Sim::online();
    // A listener needs its local port...
    assert!(refused(sim.client.send(&open_cmd(
        1,
        qiopen::ServiceType::TcpListener,
        LOCALHOST,
        0,
        None
    ))));
    assert_eq!(sim.last_error().0, TcpipCode::InvalidParameters);
    assert!(refused(sim.client.send(&open_cmd(
        1,
        qiopen::ServiceType::UdpService,
        LOCALHOST,
        0,
        Some((0, None))
    ))));
    // ...and cannot use transparent mode.
    assert!(refused(sim.client.send(&open_cmd(
        1,
        qiopen::ServiceType::TcpListener,
        LOCALHOST,
        0,
        Some((free_port(), Some(qiopen::AccessMode::Transparent)))
    ))));
    assert_eq!(sim.last_error().0, TcpipCode::InvalidParameters);
    // A transparent open that cannot connect is refused at once, and ATO
    // then finds no connection.
    assert!(refused(sim.client.send(&tcp(
        0,
        free_port(),
        qiopen::AccessMode::Transparent
    ))));
    assert_eq!(sim.last_error().0, TcpipCode::SocketConnectFailed);
    assert!(matches!(
        sim.client.send(&ato::Execute {}),
        Err(Error::NoCarrier)
    ));
    // Nothing is open.
    assert!(refused(sim.send(0, b"x")));
    assert_eq!(sim.last_error().0, TcpipCode::InvalidParameters);
    assert!(refused(sim.client.send(&qird::WriteConnectIdReadLength {
        connect_id: cid(0),
        read_length: None,
    })));
    assert!(refused(
        sim.client
            .send(&qisend::WriteConnectId0 { connect_id: cid(0) })
    ));
    assert!(refused(sim.close(0)));
    assert!(refused(sim.client.send(&qiswtmd::Write {
        connect_id: cid(0),
        access_mode: qiswtmd::AccessMode::Buffer,
    })));
    assert!(refused(sim.client.send(&qiaccept::Write {
        listener_socket_id: cid(0),
        accept: qiaccept::Accept::Accept,
        incoming_socket_id: None,
    })));
    // A port the module uses already: 570 (the host's ports are not the
    // module's: one another program uses is no matter).
    let _taken = TcpListener::bind((LOCALHOST, 0)).unwrap();
    let busy = free_port();
    assert_eq!(
        sim.open(&open_cmd(
            5,
            qiopen::ServiceType::TcpListener,
            LOCALHOST,
            0,
            Some((busy, None))
        )),
        TcpipCode::Success
    );
    assert_eq!(
        sim.open(&open_cmd(
            2,
            qiopen::ServiceType::TcpListener,
            LOCALHOST,
            0,
            Some((busy, None))
        )),
        TcpipCode::PortBusy
    );
    // A listener does not send, and a TCP socket takes no destination.
    let port = free_port();
    assert_eq!(
        sim.open(&open_cmd(
            3,
            qiopen::ServiceType::TcpListener,
            LOCALHOST,
            0,
            Some((port, None))
        )),
        TcpipCode::Success
    );
    assert!(refused(sim.send(3, b"x")));
    assert_eq!(sim.last_error().0, TcpipCode::NotSupported);
    let (echo, server) = echo_server(false);
    assert_eq!(sim.open(&tcp(4, echo, BUFFER)), TcpipCode::Success);
    assert!(refused(sim.client.send_payload(
        &qisend::WriteConnectIdSendLengthRemoteIpRemotePort {
            connect_id: cid(4),
            send_length: Int::new(1).unwrap(),
            remote_ip: LOCALHOST,
            remote_port: Int::new(echo.into()).unwrap(),
        },
        b"x"
    )));
    assert_eq!(sim.last_error().0, TcpipCode::InvalidParameters);
    sim.close(4).unwrap();
    server.join().unwrap();
}

/// Polls `m` until its output contains `want`; returns all of it.
fn pump(m: &mut Module, want: &str) -> String {
    let deadline = Instant::now() + PATIENCE;
    let mut out = Vec::new();
    loop {
        out.extend(m.poll(Instant::now()));
        let text = String::from_utf8_lossy(&out).into_owned();
        if text.contains(want) {
            return text;
        }
        assert!(Instant::now() < deadline, "no {want:?} in {text:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A module on the wire (no client), joined to the world's access point,
/// with socket 0 connected to an echo server in `mode`.
fn wired(mode: u8) -> (Module, JoinHandle<()>) {
    fcm242d_sim::catalog::catalog();
    let mut m = Module::new(World::default());
    let now = Instant::now();
    let out = m.input(b"AT+QSTAAPINFO=\"sim-ap\",\"sim-password\"\r", now);
    assert_eq!(out, b"\r\nOK\r\n");
    let (port, server) = echo_server(false);
    let open = format!("AT+QIOPEN=0,\"TCP\",\"127.0.0.1\",{port},0,{mode}\r");
    // Once the station has its address (`+QSTASTAT: "GOT_IP"`).
    let later = now + Duration::from_millis(100);
    assert_eq!(m.input(open.as_bytes(), later), b"\r\nOK\r\n");
    pump(&mut m, "+QIOPEN: 0,0\r\n");
    (m, server)
}

#[test]
fn the_wire_format_of_send_read_and_push() {
    let (mut m, server) = wired(0);
    assert_eq!(m.input(b"AT+QISEND=0,5\r", Instant::now()), b"\r\n> ");
    assert_eq!(m.input(b"hello", Instant::now()), b"\r\nSEND OK\r\n");
    let out = pump(&mut m, "+QIURC: \"recv\",0\r\n");
    assert!(out.ends_with("\r\n+QIURC: \"recv\",0\r\n"), "{out:?}");
    assert_eq!(
        m.input(b"AT+QIRD=0,1500\r", Instant::now()),
        b"\r\n+QIRD: 5\r\nhello\r\n\r\nOK\r\n"
    );
    assert_eq!(
        m.input(b"AT+QIRD=0\r", Instant::now()),
        b"\r\n+QIRD: 0\r\n\r\nOK\r\n"
    );
    assert_eq!(
        m.input(b"AT+QIRD=0,0\r", Instant::now()),
        b"\r\n+QIRD: 5,5,0\r\n\r\nOK\r\n"
    );
    assert_eq!(
        m.input(b"AT+QISEND=0,0\r", Instant::now()),
        b"\r\n+QISEND: 5,5,0\r\n\r\nOK\r\n"
    );
    // Direct push after switching.
    assert_eq!(m.input(b"AT+QISWTMD=0,1\r", Instant::now()), b"\r\nOK\r\n");
    m.input(b"AT+QISEND=0\r", Instant::now());
    assert_eq!(m.input(b"abc\x1a", Instant::now()), b"\r\nSEND OK\r\n");
    let out = pump(&mut m, "abc\r\n");
    assert!(
        out.ends_with("\r\n+QIURC: \"recv\",0,3\r\nabc\r\n"),
        "{out:?}"
    );
    let st = m.input(b"AT+QISTATE=0\r", Instant::now());
    let st = String::from_utf8_lossy(&st);
    assert!(
        st.starts_with("\r\n+QISTATE: 0,\"TCP\",\"127.0.0.1\","),
        "{st:?}"
    );
    assert!(st.ends_with(",2,0,1,\"uart1\"\r\n\r\nOK\r\n"), "{st:?}");
    assert_eq!(m.input(b"AT+QICLOSE=0\r", Instant::now()), b"\r\nOK\r\n");
    assert_eq!(m.input(b"AT+QISTATE\r", Instant::now()), b"\r\nOK\r\n");
    server.join().unwrap();
}

#[test]
fn esc_cancels_a_send_and_over_long_payloads_are_refused() {
    let (mut m, server) = wired(0);
    assert_eq!(m.input(b"AT+QISEND=0\r", Instant::now()), b"\r\n> ");
    assert_eq!(m.input(b"never\x1b", Instant::now()), b"\r\nERROR\r\n");
    assert_eq!(
        m.input(b"AT+QIGETERROR\r", Instant::now()),
        b"\r\n+QIGETERROR: 568,\"Cancel sending\"\r\n\r\nOK\r\n"
    );
    assert_eq!(m.state().tcpip.sockets[&0].sent, 0);
    // Over-long Ctrl+Z payloads are refused.
    m.input(b"AT+QISEND=0\r", Instant::now());
    let mut long = vec![b'x'; 1461];
    long.push(0x1A);
    assert_eq!(m.input(&long, Instant::now()), b"\r\nERROR\r\n");
    // The listener rules on the wire.
    assert_eq!(
        m.input(
            b"AT+QIOPEN=1,\"TCP LISTENER\",\"127.0.0.1\",0\r",
            Instant::now()
        ),
        b"\r\nERROR\r\n"
    );
    assert_eq!(
        m.input(
            b"AT+QIOPEN=1,\"UDP SERVICE\",\"127.0.0.1\",0,5000,2\r",
            Instant::now()
        ),
        b"\r\nERROR\r\n"
    );
    assert_eq!(
        m.input(b"AT+QIGETERROR\r", Instant::now()),
        b"\r\n+QIGETERROR: 552,\"Invalid parameters\"\r\n\r\nOK\r\n"
    );
    // A reboot drops every socket.
    m.input(b"AT+QRST\r", Instant::now());
    assert!(m.state().tcpip.sockets.is_empty());
    server.join().unwrap();
}

#[test]
fn qicfg_stores_and_reports_every_setting() {
    let mut sim = Sim::offline();
    let c = &mut sim.client;
    let q = c.send(&qicfg::Transpktsize { transpktsize: None }).unwrap();
    assert_eq!(q.lines[0].transpktsize.get(), 1024);
    c.send(&qicfg::Transpktsize {
        transpktsize: Some(Int::new(512).unwrap()),
    })
    .unwrap();
    let q = c.send(&qicfg::Transpktsize { transpktsize: None }).unwrap();
    assert_eq!(q.lines[0].transpktsize.get(), 512);

    let q = c.send(&qicfg::Transwaittm { transwaittm: None }).unwrap();
    assert_eq!(q.lines[0].transwaittm.get(), 2);
    c.send(&qicfg::Transwaittm {
        transwaittm: Some(Int::new(7).unwrap()),
    })
    .unwrap();
    let q = c.send(&qicfg::Transwaittm { transwaittm: None }).unwrap();
    assert_eq!(q.lines[0].transwaittm.get(), 7);

    let q = c.send(&qicfg::TcpAccept { state: None }).unwrap();
    assert_eq!(q.lines[0].state, qicfg::Enable::Enable);

    c.send(&qicfg::QisendTimeout {
        timeout: Some(Int::new(30).unwrap()),
    })
    .unwrap();
    let q = c.send(&qicfg::QisendTimeout { timeout: None }).unwrap();
    assert_eq!(q.lines[0].timeout.get(), 30);

    let q = c.send(&qicfg::Passiveclosed { closed: None }).unwrap();
    assert_eq!(q.lines[0].closed, qicfg::Enable::Disable);

    c.send(&qicfg::Dataformat {
        send_data_format_group: Some(qicfg::DataformatSendDataFormatGroup {
            send_data_format: qicfg::SendDataFormat::Hex,
            recv_data_format: qicfg::RecvDataFormat::Text,
        }),
    })
    .unwrap();
    let q = c
        .send(&qicfg::Dataformat {
            send_data_format_group: None,
        })
        .unwrap();
    assert_eq!(
        (q.lines[0].send_data_format, q.lines[0].recv_data_format),
        (qicfg::SendDataFormat::Hex, qicfg::RecvDataFormat::Text)
    );

    c.send(&qicfg::CloseMode {
        close_mode: Some(qicfg::Enable::Enable),
    })
    .unwrap();
    let q = c.send(&qicfg::CloseMode { close_mode: None }).unwrap();
    assert_eq!(q.lines[0].close_mode, qicfg::Enable::Enable);

    let q = c
        .send(&qicfg::TcpKalive {
            kalive_onoff_group: None,
        })
        .unwrap();
    assert_eq!(q.lines[0].kalive_onoff, qicfg::Enable::Disable);
    c.send(&qicfg::TcpKalive {
        kalive_onoff_group: Some(qicfg::TcpKaliveKaliveOnoffGroup {
            kalive_onoff: qicfg::Enable::Enable,
            kalive_idle: Int::new(120).unwrap(),
            kalive_interval: Int::new(15).unwrap(),
            kalive_cnt: Int::new(3).unwrap(),
        }),
    })
    .unwrap();
    let q = c
        .send(&qicfg::TcpKalive {
            kalive_onoff_group: None,
        })
        .unwrap();
    let l = &q.lines[0];
    assert_eq!(
        (
            l.kalive_onoff,
            l.kalive_idle.get(),
            l.kalive_interval.get(),
            l.kalive_cnt.get()
        ),
        (qicfg::Enable::Enable, 120, 15, 3)
    );

    c.send(&qicfg::TcpTwCycle {
        tw_enable: Some(qicfg::TwEnable::Enable),
    })
    .unwrap();
    let q = c.send(&qicfg::TcpTwCycle { tw_enable: None }).unwrap();
    assert_eq!(q.lines[0].tw_enable, qicfg::TwEnable::Enable);

    let q = c
        .send(&qicfg::UdpBroadcast {
            udp_broadcast: None,
        })
        .unwrap();
    assert_eq!(q.lines[0].udp_broadcast, qicfg::Broadcast::Off);
    c.send(&qicfg::UdpBroadcast {
        udp_broadcast: Some(qicfg::Broadcast::On),
    })
    .unwrap();
    let q = c
        .send(&qicfg::UdpBroadcast {
            udp_broadcast: None,
        })
        .unwrap();
    assert_eq!(q.lines[0].udp_broadcast, qicfg::Broadcast::On);
    // A successful TCP/IP command leaves 0 for QIGETERROR.
    assert_eq!(
        sim.last_error(),
        (TcpipCode::Success, "Operation success".to_string())
    );
}

#[test]
fn hex_data_format_applies_to_sent_and_received_data() {
    let mut sim = Sim::online();
    sim.client
        .send(&qicfg::Dataformat {
            send_data_format_group: Some(qicfg::DataformatSendDataFormatGroup {
                send_data_format: qicfg::SendDataFormat::Hex,
                recv_data_format: qicfg::RecvDataFormat::Hex,
            }),
        })
        .unwrap();
    let (port, server) = echo_server(false);
    assert_eq!(sim.open(&tcp(0, port, BUFFER)), TcpipCode::Success);
    assert_eq!(sim.send(0, b"41420A").unwrap(), Final::SendOk);
    sim.recv_buffer(0);
    assert_eq!(sim.read_exactly(0, 6), b"41420A");
    // Not hex: refused.
    assert!(refused(sim.send(0, b"4G")));
    assert_eq!(sim.last_error().0, TcpipCode::InvalidParameters);
    let sent = sim
        .client
        .send(&qisend::WriteConnectId0 { connect_id: cid(0) })
        .unwrap();
    assert_eq!(sent.lines[0].total_send_length, 3);
    sim.close(0).unwrap();
    server.join().unwrap();
}
