//! Data integrity end to end: every byte value, megabytes in all, through
//! each data path of the module — `AT+QISEND` with a fixed length and
//! `AT+QIRD` (buffer access mode), direct push (`+QIURC: "recv"` with the
//! data), TCP transparent mode, UDP datagrams, `AT+QFWRITE` / `AT+QFREAD`,
//! and BLE transparent mode — through the runtime client against the
//! in-process simulator, with echo peers on the loopback. Nothing may be
//! lost, duplicated, reordered or altered.
//!
//! The payloads come from a seeded generator, so a failure repeats. Each
//! case's first block is a shuffle of all 256 byte values, and every case
//! checks that it sent all of them.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use fcm242d::client::{Client, Options};
use fcm242d::engine::Final;
use fcm242d::generated::commands::{
    escape, qblecfgmtu, qbleconn, qblegattcntfcfg, qbleinit, qbletranmode, qfclose, qfdel, qflst,
    qfopen, qfread, qfwrite, qiclose, qiopen, qird, qisend, qstaapinfo,
};
use fcm242d::generated::results::TcpipCode;
use fcm242d::generated::urcs::Urc;
use fcm242d::session::Notice;
use fcm242d::transport::MemoryTransport;
use fcm242d::value::{HexAddr, Int, Text, Uuid};
use fcm242d_sim::groups::filesystem::UFS_CAPACITY;
use fcm242d_sim::groups::tcpip::MAX_SEND;
use fcm242d_sim::serve::in_process;
use fcm242d_sim::world::World;

/// How long a test waits for something that should happen at once.
const PATIENCE: Duration = Duration::from_secs(10);
const LOCALHOST: Ipv4Addr = Ipv4Addr::LOCALHOST;

// ------------------------------------------------------------------ payloads

/// A seeded pseudo-random generator (SplitMix64): the same bytes every run.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A length in `lo..=hi`.
    fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n + 8);
        while out.len() < n {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(n);
        out
    }
}

/// The blocks of one case: the first is all 256 byte values shuffled, then
/// random blocks with lengths in `lo..=hi`, `total` bytes in all.
fn blocks(seed: u64, total: usize, lo: usize, hi: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(seed);
    let mut first: Vec<u8> = (0..=255u8).collect();
    for i in (1..first.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        first.swap(i, j);
    }
    let mut out = vec![first];
    let mut sent = 256;
    while sent < total {
        let n = rng.between(lo, hi).min(total - sent);
        out.push(rng.bytes(n));
        sent += n;
    }
    out
}

/// How many different byte values `blocks` hold.
fn coverage(blocks: &[Vec<u8>]) -> usize {
    let mut seen = [false; 256];
    for b in blocks.iter().flatten() {
        seen[usize::from(*b)] = true;
    }
    seen.iter().filter(|s| **s).count()
}

/// In transparent mode the client holds back received bytes that could be
/// the start of `\r\nNO CARRIER\r\n` until the next byte shows they are
/// not. A block that must come back whole before the next is sent ends
/// with a byte that cannot continue that sequence (the one thing the
/// channel reserves).
fn unambiguous_tail(block: &mut [u8]) {
    if let Some(last) = block.last_mut() {
        if b"\r\nNO CARRIER".contains(last) {
            *last = 0;
        }
    }
}

/// The first offset where `got` and `want` differ (for a readable failure).
fn first_difference(got: &[u8], want: &[u8]) -> Option<usize> {
    got.iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .or((got.len() != want.len()).then_some(got.len().min(want.len())))
}

fn assert_same(got: &[u8], want: &[u8], what: &str) {
    assert!(
        got == want,
        "{what}: {} bytes back for {} sent; first difference at {:?}",
        got.len(),
        want.len(),
        first_difference(got, want)
    );
}

// ------------------------------------------------------------------ peers

/// A TCP echo server on the loopback for one connection; its port.
fn tcp_echo() -> u16 {
    let listener = TcpListener::bind((LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = listener.accept() else {
            return;
        };
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if s.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            }
        }
    });
    port
}

/// A UDP echo server on the loopback (it stops after a minute without
/// datagrams); its port.
fn udp_echo() -> u16 {
    let socket = UdpSocket::bind((LOCALHOST, 0)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let port = socket.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            if socket.send_to(&buf[..n], from).is_err() {
                return;
            }
        }
    });
    port
}

// ------------------------------------------------------------------ module

/// A module behind a client. Its world's guard time is short (100 ms) so
/// that `+++` is quick; the client keeps 150 ms of silence around it.
struct Sim {
    client: Client<MemoryTransport>,
    handle: Option<JoinHandle<()>>,
}

impl Sim {
    fn offline() -> Sim {
        // Load the catalogue before the first command (see tests/tcpip.rs).
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

    /// Joined to the world's access point (a socket needs an interface).
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

    /// `AT+QIOPEN=<id>,<service>,"127.0.0.1",<port>,0,<mode>`: its `+QIOPEN`
    /// result (buffer and direct push modes).
    fn open(&mut self, id: i64, service: qiopen::ServiceType, port: u16, mode: qiopen::AccessMode) {
        let r = self
            .client
            .send(&open_cmd(id, service, port, mode))
            .unwrap();
        match r.completion {
            Some(Urc::Qiopen(o)) => assert_eq!(o.err, TcpipCode::Success),
            other => panic!("no +QIOPEN: {other:?}"),
        }
        // The client also queues the completion URC: only data follows.
        self.client.take_urcs();
    }

    /// `AT+QISEND=<id>,<len>` with `data`: must answer `SEND OK`.
    fn send(&mut self, id: i64, data: &[u8]) {
        let r = self
            .client
            .send_payload(
                &qisend::WriteConnectIdSendLength {
                    connect_id: Int::new(id).unwrap(),
                    send_length: Int::new(data.len() as i64).unwrap(),
                },
                data,
            )
            .unwrap();
        assert_eq!(r.result, Final::SendOk);
    }

    /// `AT+QIRD=<id>,1500`: the data, or `None` for `+QIRD: 0`.
    fn read(&mut self, id: i64) -> Option<Vec<u8>> {
        let r = self
            .client
            .send(&qird::WriteConnectIdReadLength {
                connect_id: Int::new(id).unwrap(),
                read_length: Some(Int::new(1500).unwrap()),
            })
            .unwrap();
        match r.lines.as_slice() {
            [qird::WriteConnectIdReadLengthLine::Data(l)] if l.read_actual_length > 0 => {
                let data = r.data.into_iter().next().unwrap_or_default();
                assert_eq!(data.len() as i64, l.read_actual_length);
                Some(data)
            }
            _ => None,
        }
    }

    /// Reads with `AT+QIRD` until `want` bytes came.
    fn read_exactly(&mut self, id: i64, want: usize) -> Vec<u8> {
        let deadline = Instant::now() + PATIENCE;
        let mut got = Vec::new();
        while got.len() < want {
            match self.read(id) {
                Some(d) => got.extend(d),
                None => {
                    assert!(Instant::now() < deadline, "{} of {want} bytes", got.len());
                    self.client.poll_urcs(Duration::from_millis(5)).unwrap();
                }
            }
        }
        got
    }

    /// Transparent mode: reads until `want` bytes came.
    fn read_transparent(&mut self, want: usize) -> Vec<u8> {
        let deadline = Instant::now() + PATIENCE;
        let mut got = Vec::new();
        while got.len() < want {
            assert!(Instant::now() < deadline, "{} of {want} bytes", got.len());
            got.extend(
                self.client
                    .read_transparent(Duration::from_millis(50))
                    .unwrap(),
            );
        }
        got
    }

    /// `+++`: back in command mode.
    fn escape(&mut self) {
        let r = self.client.send(&escape::Execute {}).unwrap();
        assert_eq!(r.result, Final::Ok);
        assert!(!self.client.is_transparent());
    }

    fn close(&mut self, id: i64) {
        self.client
            .send(&qiclose::Write {
                connect_id: Int::new(id).unwrap(),
                timeout: None,
            })
            .unwrap();
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        // Dropping the link stops the module; wait for it when the test passed.
        if let Some(h) = self.handle.take() {
            if !std::thread::panicking() {
                let (dead, _) = MemoryTransport::pair();
                drop(std::mem::replace(&mut self.client, Client::new(dead)));
                h.join().unwrap();
            }
        }
    }
}

fn open_cmd(
    id: i64,
    service: qiopen::ServiceType,
    port: u16,
    mode: qiopen::AccessMode,
) -> qiopen::Write {
    qiopen::Write {
        connect_id: Int::new(id).unwrap(),
        service_type: service,
        ip_address_or_domain_name: qiopen::WriteIpAddressOrDomainName::IpAddress(LOCALHOST),
        remote_port: Int::new(port.into()).unwrap(),
        local_port_group: Some(qiopen::WriteLocalPortGroup {
            local_port: Int::new(0).unwrap(),
            access_mode: Some(mode),
            ap_priority: None,
        }),
    }
}

/// Sends `blocks` in batches of about `batch` bytes and gets each batch
/// back with `receive` before the next goes; returns everything received.
fn echo_in_batches(
    sim: &mut Sim,
    blocks: &[Vec<u8>],
    batch: usize,
    mut send: impl FnMut(&mut Sim, &[u8]),
    mut receive: impl FnMut(&mut Sim, usize) -> Vec<u8>,
) -> Vec<u8> {
    let mut back = Vec::new();
    let mut pending = 0;
    for (i, block) in blocks.iter().enumerate() {
        send(sim, block);
        pending += block.len();
        if pending >= batch || i + 1 == blocks.len() {
            back.extend(receive(sim, pending));
            pending = 0;
        }
    }
    back
}

// ------------------------------------------------------------------ cases

#[test]
fn qisend_and_qird_in_buffer_access_mode() {
    let mut sim = Sim::online();
    let port = tcp_echo();
    sim.open(
        0,
        qiopen::ServiceType::Tcp,
        port,
        qiopen::AccessMode::Buffer,
    );
    let data = blocks(1, 384 * 1024, 1, MAX_SEND);
    assert_eq!(coverage(&data), 256);
    let back = echo_in_batches(
        &mut sim,
        &data,
        8 * 1024,
        |sim, b| sim.send(0, b),
        |sim, n| sim.read_exactly(0, n),
    );
    assert_same(&back, &data.concat(), "buffer access mode");
    sim.close(0);
}

#[test]
fn qisend_and_direct_push() {
    let mut sim = Sim::online();
    let port = tcp_echo();
    sim.open(
        1,
        qiopen::ServiceType::Tcp,
        port,
        qiopen::AccessMode::DirectPush,
    );
    let data = blocks(2, 384 * 1024, 1, MAX_SEND);
    assert_eq!(coverage(&data), 256);
    let mut pushed = Vec::new();
    let back = echo_in_batches(
        &mut sim,
        &data,
        8 * 1024,
        |sim, b| sim.send(1, b),
        |sim, n| {
            // `+QIURC: "recv",1,<len>` and the data, until the batch is back
            // (some came while the client waited for `SEND OK`: the client
            // queued them).
            let deadline = Instant::now() + PATIENCE;
            let mut got = Vec::new();
            while got.len() < n {
                assert!(Instant::now() < deadline, "{} of {n} bytes", got.len());
                let notices = sim.client.poll_urcs(Duration::from_millis(5)).unwrap();
                for u in notices.into_iter().filter_map(Notice::into_urc) {
                    match u {
                        Urc::QiurcRecvDirectPush(p) => {
                            assert_eq!(p.connect_id.get(), 1);
                            assert_eq!(p.current_recvlength as usize, p.data.len());
                            got.extend(p.data);
                        }
                        other => pushed.push(other),
                    }
                }
            }
            got
        },
    );
    assert_same(&back, &data.concat(), "direct push");
    assert!(pushed.is_empty(), "other URCs: {pushed:?}");
    sim.close(1);
}

#[test]
fn tcp_transparent_mode() {
    let mut sim = Sim::online();
    let port = tcp_echo();
    let r = sim
        .client
        .send(&open_cmd(
            2,
            qiopen::ServiceType::Tcp,
            port,
            qiopen::AccessMode::Transparent,
        ))
        .unwrap();
    assert_eq!(r.result, Final::Connect);
    let mut data = blocks(3, 1024 * 1024, 1, 16 * 1024);
    for b in &mut data {
        unambiguous_tail(b);
    }
    assert_eq!(coverage(&data), 256);
    let mut back = Vec::new();
    for block in &data {
        sim.client.write_transparent(block).unwrap();
        back.extend(sim.read_transparent(block.len()));
    }
    assert_same(&back, &data.concat(), "TCP transparent mode");
    sim.escape();
    sim.close(2);
}

#[test]
fn udp_datagrams() {
    let mut sim = Sim::online();
    let port = udp_echo();
    sim.open(
        3,
        qiopen::ServiceType::Udp,
        port,
        qiopen::AccessMode::Buffer,
    );
    let data = blocks(4, 192 * 1024, 1, MAX_SEND);
    assert_eq!(coverage(&data), 256);
    // One datagram at a time: UDP may drop what a full buffer cannot take,
    // so the test keeps at most one in flight; each comes back whole.
    for (i, datagram) in data.iter().enumerate() {
        sim.send(3, datagram);
        let deadline = Instant::now() + PATIENCE;
        let back = loop {
            if let Some(d) = sim.read(3) {
                break d;
            }
            assert!(Instant::now() < deadline, "datagram {i} did not come back");
            sim.client.poll_urcs(Duration::from_millis(5)).unwrap();
        };
        assert_same(&back, datagram, &format!("datagram {i}"));
    }
    sim.close(3);
}

#[test]
fn qfwrite_and_qfread_fill_the_ufs_again_and_again() {
    let mut sim = Sim::offline();
    let c = &mut sim.client;
    // 16 writes of 65535 bytes fill the 1 MiB UFS but for 16 bytes.
    let per_write = 65535;
    let writes = UFS_CAPACITY / per_write;
    for round in 0..3u64 {
        let name = format!("integrity{round}.bin");
        let data = blocks(10 + round, writes * per_write, per_write, per_write);
        assert_eq!(coverage(&data), 256);
        let fh = c
            .send(&qfopen::Write {
                filename: Text::new(&name).unwrap(),
                mode: None,
            })
            .unwrap()
            .lines[0]
            .filehandle;
        let mut total = 0;
        for block in &data {
            let r = c
                .send_payload(
                    &qfwrite::Write {
                        filehandle: fh,
                        length_group: Some(qfwrite::WriteLengthGroup {
                            length: Int::new(block.len() as i64).unwrap(),
                            timeout: None,
                        }),
                    },
                    block,
                )
                .unwrap();
            total += block.len() as i64;
            assert_eq!(
                (r.lines[0].written_length, r.lines[0].total_length),
                (block.len() as i64, total)
            );
        }
        c.send(&qfclose::Write { filehandle: fh }).unwrap();
        let listed = c.send(&qflst::Execute {}).unwrap().lines;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].file_size, total);
        // Read back in pieces of another size.
        let fh = c
            .send(&qfopen::Write {
                filename: Text::new(&name).unwrap(),
                mode: Some(qfopen::Mode::ReadOnly),
            })
            .unwrap()
            .lines[0]
            .filehandle;
        let mut back = Vec::new();
        loop {
            let r = c
                .send(&qfread::Write {
                    filehandle: fh,
                    length: Some(50_000),
                })
                .unwrap();
            let piece = r.data.into_iter().next().unwrap_or_default();
            if piece.is_empty() {
                break;
            }
            back.extend(piece);
        }
        assert_same(&back, &data.concat(), &format!("file, round {round}"));
        c.send(&qfclose::Write { filehandle: fh }).unwrap();
        c.send(&qfdel::Write {
            file_name: Text::new(&name).unwrap(),
        })
        .unwrap();
    }
    assert!(sim
        .client
        .send(&qflst::Execute {})
        .unwrap()
        .lines
        .is_empty());
}

#[test]
fn ble_transparent_mode_through_the_uart_peer() {
    let mut sim = Sim::offline();
    let c = &mut sim.client;
    c.send(&qbleinit::Write {
        role: qbleinit::Role::from_wire("1").unwrap(),
        auto_adv: None,
    })
    .unwrap();
    // Sim-UART notifies on TX what is written to RX.
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
        uuid: Uuid::new("6e400003b5a3f393e0a9e50e24dcca9e").unwrap(),
        enable: qblegattcntfcfg::Enable::from_wire("1").unwrap(),
    })
    .unwrap();
    c.poll_urcs(Duration::from_millis(200)).unwrap();
    c.take_urcs();
    let r = c
        .send(&qbletranmode::Write {
            uuid: Uuid::new("6e400002b5a3f393e0a9e50e24dcca9e").unwrap(),
            state: None,
        })
        .unwrap();
    assert_eq!(r.result, Final::Connect);
    let mut data = blocks(5, 512 * 1024, 1, 16 * 1024);
    for b in &mut data {
        unambiguous_tail(b);
    }
    assert_eq!(coverage(&data), 256);
    let mut back = Vec::new();
    for block in &data {
        sim.client.write_transparent(block).unwrap();
        back.extend(sim.read_transparent(block.len()));
    }
    assert_same(&back, &data.concat(), "BLE transparent mode");
    sim.escape();
    // No URC was printed into the data.
    assert!(sim.client.take_urcs().is_empty());
}
