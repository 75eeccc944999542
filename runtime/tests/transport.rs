//! Tests of the byte transports: in-memory pipe, TCP, child process, serial.
#![cfg(feature = "std")]

use fcm242d::transport::{
    available_ports, ChildTransport, MemoryTransport, ParseTargetError, SerialTransport,
    TcpTransport, Transport, DEFAULT_BAUD,
};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

const SHORT: Duration = Duration::from_millis(50);
const LONG: Duration = Duration::from_secs(10);

/// Reads until `want` bytes arrived (or panics after `LONG`).
fn read_exact(t: &mut dyn Transport, want: usize) -> Vec<u8> {
    let start = Instant::now();
    let mut out = Vec::with_capacity(want);
    let mut buf = [0u8; 8192];
    while out.len() < want {
        assert!(start.elapsed() < LONG, "{}: timed out", t.describe());
        let room = (want - out.len()).min(buf.len());
        let n = t
            .read(&mut buf[..room], Duration::from_millis(200))
            .unwrap();
        out.extend_from_slice(&buf[..n]);
    }
    out
}

/// Reads until the link reports UnexpectedEof; returns what came before.
fn read_to_eof(t: &mut dyn Transport) -> Vec<u8> {
    let start = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        assert!(start.elapsed() < LONG, "{}: no EOF", t.describe());
        match t.read(&mut buf, Duration::from_millis(200)) {
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return out,
            Err(e) => panic!("{}: unexpected error {e}", t.describe()),
        }
    }
}

/// A read that must time out: Ok(0), roughly after `timeout`.
fn assert_times_out(t: &mut dyn Transport, timeout: Duration) {
    let mut buf = [0u8; 16];
    let start = Instant::now();
    let n = t.read(&mut buf, timeout).unwrap();
    let took = start.elapsed();
    assert_eq!(n, 0, "{}: expected a timeout", t.describe());
    assert!(
        took + Duration::from_millis(5) >= timeout,
        "{}: returned early ({took:?} < {timeout:?})",
        t.describe()
    );
    assert!(
        took < timeout + Duration::from_secs(1),
        "{}: returned late ({took:?})",
        t.describe()
    );
}

/// A deterministic, non-repeating-looking 1 MB payload.
fn payload(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

// ---------------------------------------------------------------- memory

#[test]
fn memory_both_directions() {
    let (mut a, mut b) = MemoryTransport::pair();
    a.write_all(b"AT\r\n").unwrap();
    assert_eq!(read_exact(&mut b, 4), b"AT\r\n");
    b.write_all(b"\r\nOK\r\n").unwrap();
    assert_eq!(read_exact(&mut a, 6), b"\r\nOK\r\n");
    assert_eq!(a.describe(), "memory:a");
    assert_eq!(b.describe(), "memory:b");
}

#[test]
fn memory_small_buffer_reads_in_pieces() {
    let (mut a, mut b) = MemoryTransport::pair();
    a.write_all(b"hello").unwrap();
    a.write_all(b" world").unwrap();
    let mut buf = [0u8; 3];
    let mut got = Vec::new();
    while got.len() < 11 {
        let n = b.read(&mut buf, SHORT).unwrap();
        assert!(n > 0 && n <= 3);
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, b"hello world");
    assert_eq!(b.read(&mut [], SHORT).unwrap(), 0);
}

#[test]
fn memory_timeout_returns_zero_promptly() {
    let (mut a, mut b) = MemoryTransport::pair();
    assert_times_out(&mut a, SHORT);
    assert_times_out(&mut b, Duration::ZERO);
    assert_times_out(&mut b, Duration::from_millis(1));
}

#[test]
fn memory_read_wakes_when_data_arrives() {
    let (mut a, mut b) = MemoryTransport::pair();
    let writer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(50));
        a.write_all(b"late").unwrap();
        a
    });
    let start = Instant::now();
    assert_eq!(read_exact(&mut b, 4), b"late");
    assert!(start.elapsed() < Duration::from_secs(2));
    drop(writer.join().unwrap());
}

#[test]
fn memory_eof_after_drop_once_drained() {
    let (mut a, mut b) = MemoryTransport::pair();
    a.write_all(b"last words").unwrap();
    drop(a);
    assert_eq!(read_to_eof(&mut b), b"last words");
    // Stays closed.
    let err = b.read(&mut [0u8; 4], SHORT).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    let err = b.write_all(b"x").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BrokenPipe);
}

#[test]
fn memory_eof_after_close_both_ends() {
    let (mut a, mut b) = MemoryTransport::pair();
    b.write_all(b"to a").unwrap();
    a.write_all(b"to b").unwrap();
    a.close();
    a.close(); // harmless
    assert!(a.is_closed() && b.is_closed());
    assert_eq!(read_to_eof(&mut b), b"to b");
    assert_eq!(read_to_eof(&mut a), b"to a");
    assert_eq!(a.write_all(b"x").unwrap_err().kind(), ErrorKind::BrokenPipe);
}

#[test]
fn memory_close_wakes_a_blocked_reader() {
    let (a, mut b) = MemoryTransport::pair();
    let reader = thread::spawn(move || {
        let start = Instant::now();
        let err = b.read(&mut [0u8; 4], LONG).unwrap_err();
        (err.kind(), start.elapsed())
    });
    thread::sleep(Duration::from_millis(50));
    drop(a);
    let (kind, took) = reader.join().unwrap();
    assert_eq!(kind, ErrorKind::UnexpectedEof);
    assert!(took < Duration::from_secs(2));
}

#[test]
fn memory_huge_timeout_does_not_overflow() {
    let (mut a, mut b) = MemoryTransport::pair();
    a.write_all(b"x").unwrap();
    assert_eq!(b.read(&mut [0u8; 4], Duration::MAX).unwrap(), 1);
    drop(a);
    let err = b.read(&mut [0u8; 4], Duration::MAX).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
}

#[test]
fn memory_large_transfer_in_order() {
    let data = payload(1 << 20);
    let (mut a, mut b) = MemoryTransport::pair();
    let sent = data.clone();
    let writer = thread::spawn(move || {
        for chunk in sent.chunks(1000) {
            a.write_all(chunk).unwrap();
        }
        // `a` dropped here: EOF after the data.
    });
    let got = read_to_eof(&mut b);
    writer.join().unwrap();
    assert_eq!(got.len(), data.len());
    assert!(got == data, "payload corrupted or reordered");
}

#[test]
fn transports_work_as_trait_objects() {
    let (a, b) = MemoryTransport::pair();
    let mut a: Box<dyn Transport> = Box::new(a);
    let mut b = b;
    let mut by_ref: &mut dyn Transport = &mut b;
    a.write_all(b"boxed").unwrap();
    assert_eq!(read_exact(&mut by_ref, 5), b"boxed");
    assert_eq!(a.describe(), "memory:a");
}

// ---------------------------------------------------------------- tcp

/// A loopback echo server for one connection; returns its address.
fn echo_server() -> (std::net::SocketAddr, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = [0u8; 8192];
        loop {
            match conn.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if conn.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
    });
    (addr, handle)
}

#[test]
fn tcp_echo_roundtrip_and_timeout() {
    let (addr, server) = echo_server();
    let mut t = TcpTransport::connect(addr, Duration::from_secs(2)).unwrap();
    assert_eq!(t.describe(), format!("tcp:{addr}"));
    assert_times_out(&mut t, SHORT);
    assert_times_out(&mut t, Duration::ZERO);
    t.write_all(b"AT+QVERSION\r\n").unwrap();
    assert_eq!(read_exact(&mut t, 13), b"AT+QVERSION\r\n");
    // Zero timeout then a write: the socket must be blocking again.
    assert_times_out(&mut t, Duration::ZERO);
    t.write_all(b"again").unwrap();
    assert_eq!(read_exact(&mut t, 5), b"again");
    drop(t);
    server.join().unwrap();
}

#[test]
fn tcp_large_transfer_in_order() {
    let (addr, server) = echo_server();
    let mut t = TcpTransport::connect(addr, Duration::from_secs(2)).unwrap();
    let data = payload(1 << 20);
    // Write on one thread (through a second transport on a cloned handle),
    // read on this one.
    let mut w = TcpTransport::from_stream(t.stream().try_clone().unwrap());
    let sent = data.clone();
    let writer = thread::spawn(move || {
        for chunk in sent.chunks(4096) {
            w.write_all(chunk).unwrap();
        }
    });
    let got = read_exact(&mut t, data.len());
    writer.join().unwrap();
    assert!(got == data, "payload corrupted or reordered");
    drop(t);
    server.join().unwrap();
}

#[test]
fn tcp_eof_when_peer_closes() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.write_all(b"\r\nREADY\r\n").unwrap();
        // Dropped: orderly close.
    });
    let stream = std::net::TcpStream::connect(addr).unwrap();
    let mut t = TcpTransport::from_stream(stream);
    assert_eq!(t.describe(), format!("tcp:{addr}"));
    server.join().unwrap();
    assert_eq!(read_to_eof(&mut t), b"\r\nREADY\r\n");
    let err = t.read(&mut [0u8; 4], SHORT).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    assert!(err.to_string().contains("tcp:127.0.0.1:"), "{err}");
}

#[test]
fn tcp_connect_failure_is_an_error() {
    // Nothing can listen on port 0, so this is refused at once.
    let addr: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    let err = TcpTransport::connect(addr, Duration::from_secs(2)).unwrap_err();
    assert!(err.to_string().contains("tcp:127.0.0.1:0"), "{err}");
    // An address list that resolves to nothing.
    let none: &[std::net::SocketAddr] = &[];
    let err = TcpTransport::connect(none, Duration::from_secs(2)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

// ---------------------------------------------------------------- child

#[test]
#[cfg(unix)]
fn child_cat_echoes() {
    let mut t = ChildTransport::spawn(Command::new("cat")).unwrap();
    assert_eq!(t.describe(), "child:cat");
    assert_times_out(&mut t, SHORT);
    assert_times_out(&mut t, Duration::ZERO);
    t.write_all(b"AT\r\n").unwrap();
    assert_eq!(read_exact(&mut t, 4), b"AT\r\n");
    t.write_all(b"ATI\r\n").unwrap();
    assert_eq!(read_exact(&mut t, 5), b"ATI\r\n");
}

#[test]
#[cfg(unix)]
fn child_large_transfer_in_order() {
    let mut t = ChildTransport::spawn(Command::new("cat")).unwrap();
    let data = payload(1 << 20);
    // The transport's reader thread drains the child's stdout into an
    // unbounded channel, so `cat` never blocks and neither do our writes;
    // interleave non-blocking reads anyway, as a client would.
    let mut got = Vec::with_capacity(data.len());
    let mut buf = [0u8; 8192];
    let start = Instant::now();
    for chunk in data.chunks(4096) {
        t.write_all(chunk).unwrap();
        loop {
            let n = t.read(&mut buf, Duration::ZERO).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
    }
    t.close_stdin();
    got.extend(read_to_eof(&mut t));
    assert!(start.elapsed() < LONG);
    assert!(got == data, "payload corrupted or reordered");
}

#[test]
#[cfg(unix)]
fn child_eof_when_child_exits() {
    let mut t = ChildTransport::spawn(Command::new("true")).unwrap();
    assert_eq!(read_to_eof(&mut t), b"");
    let err = t.read(&mut [0u8; 4], SHORT).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    assert!(err.to_string().contains("child:true"), "{err}");
}

#[test]
#[cfg(unix)]
fn child_output_before_exit_is_delivered() {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "printf 'RDY\\r\\n'"]);
    let mut t = ChildTransport::spawn(cmd).unwrap();
    assert_eq!(read_to_eof(&mut t), b"RDY\r\n");
}

#[test]
#[cfg(unix)]
fn child_is_killed_on_drop() {
    let mut cmd = Command::new("sleep");
    cmd.arg("30");
    let t = ChildTransport::spawn(cmd).unwrap();
    let pid = t.id();
    let start = Instant::now();
    drop(t);
    assert!(start.elapsed() < Duration::from_secs(5));
    // Reaped: no such process any more (not even a zombie).
    #[cfg(target_os = "linux")]
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
}

#[test]
fn child_spawn_failure_is_an_error() {
    let err = ChildTransport::spawn(Command::new("/nonexistent/fcm242d-sim")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("fcm242d-sim"), "{err}");
}

#[test]
#[cfg(unix)]
fn child_write_after_close_stdin_fails() {
    let mut t = ChildTransport::spawn(Command::new("cat")).unwrap();
    t.close_stdin();
    assert_eq!(t.write_all(b"x").unwrap_err().kind(), ErrorKind::BrokenPipe);
    assert_eq!(read_to_eof(&mut t), b"");
}

// ---------------------------------------------------------------- serial

#[test]
fn serial_parse_target() {
    let ok = |s: &str| SerialTransport::parse_target(s).unwrap();
    assert_eq!(ok("/dev/ttyUSB0"), ("/dev/ttyUSB0".into(), DEFAULT_BAUD));
    assert_eq!(DEFAULT_BAUD, 115_200);
    assert_eq!(ok("/dev/ttyUSB0@921600"), ("/dev/ttyUSB0".into(), 921_600));
    assert_eq!(ok("COM3@9600"), ("COM3".into(), 9600));
    assert_eq!(
        ok("serial:/dev/ttyACM1@115200"),
        ("/dev/ttyACM1".into(), 115_200)
    );
    assert_eq!(ok("/dev/odd@name@57600"), ("/dev/odd@name".into(), 57_600));

    for bad in [
        "/dev/ttyUSB0@",
        "/dev/ttyUSB0@fast",
        "/dev/ttyUSB0@0",
        "/dev/ttyUSB0@-9600",
        "/dev/ttyUSB0@+9600",
        "/dev/ttyUSB0@ 9600",
        "/dev/ttyUSB0@99999999999",
    ] {
        match SerialTransport::parse_target(bad) {
            Err(ParseTargetError::BadBaud { target, .. }) => assert_eq!(target, bad),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    assert_eq!(
        SerialTransport::parse_target(""),
        Err(ParseTargetError::EmptyPath)
    );
    assert_eq!(
        SerialTransport::parse_target("@115200"),
        Err(ParseTargetError::EmptyPath)
    );
    let err: std::io::Error = SerialTransport::parse_target("x@y").unwrap_err().into();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("baud"), "{err}");
}

#[test]
fn serial_open_missing_device_is_an_error() {
    let err = SerialTransport::open("/dev/fcm242d-does-not-exist", 115_200).unwrap_err();
    assert!(
        err.to_string().contains("/dev/fcm242d-does-not-exist"),
        "{err}"
    );
    let err = SerialTransport::open_target("/dev/fcm242d-does-not-exist@9600").unwrap_err();
    assert!(err.to_string().contains("@9600"), "{err}");
    let err = SerialTransport::open_target("/dev/ttyUSB0@fast").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn serial_available_ports_does_not_panic() {
    // Either a list or an error; both are fine on a machine without ports.
    match available_ports() {
        Ok(names) => assert!(names.windows(2).all(|w| w[0] < w[1])),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}
