//! The simulator on a pseudo-terminal, opened like a USB serial device by
//! the runtime's serial transport.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use fcm242d::client::{Client, Options};
use fcm242d::generated::commands::{
    at, qfclose, qfopen, qfread, qfwrite, qiclose, qiopen, qird, qisend, qstaapinfo, qversion,
};
use fcm242d::generated::urcs::Urc;
use fcm242d::transport::SerialTransport;
use fcm242d::value::{Int, Text};
use fcm242d_sim::world::World;

/// How long a test waits for something the network should cause.
const PATIENCE: Duration = Duration::from_secs(5);

/// A client on the device. Its time limits get a generous slack: these
/// tests check what the module answers, not how fast a loaded machine runs.
fn open(path: &std::path::Path) -> Client<SerialTransport> {
    let link = SerialTransport::open(&path.to_string_lossy(), 115_200).unwrap();
    Client::with_options(
        link,
        Options {
            slack: Duration::from_secs(5),
            ..Options::default()
        },
    )
}

#[test]
fn the_serial_transport_runs_commands_and_data_phases_on_the_pty() {
    fcm242d_sim::catalog::catalog();
    let (path, _server) = fcm242d_sim::pty::spawn(World::default()).unwrap();
    assert!(path.starts_with("/dev"), "{}", path.display());
    let mut client = open(&path);

    client.send(&at::Execute {}).unwrap();
    let v = client.send(&qversion::Execute {}).unwrap();
    assert_eq!(v.lines[0].version, World::default().firmware);

    // A `>` data phase: send to the world's echo server, read it back.
    client
        .send(&qstaapinfo::Write {
            ssid: Text::new("sim-ap").unwrap(),
            pwd: Some(Text::new("sim-password").unwrap()),
        })
        .unwrap();
    // The station has its address with `+QSTASTAT: "GOT_IP"`.
    client.poll_urcs(Duration::from_millis(300)).unwrap();
    let open = client
        .send(&qiopen::Write {
            connect_id: Int::new(0).unwrap(),
            service_type: qiopen::ServiceType::Tcp,
            ip_address_or_domain_name: qiopen::WriteIpAddressOrDomainName::IpAddress(
                Ipv4Addr::new(192, 0, 2, 2),
            ),
            remote_port: Int::new(7).unwrap(),
            local_port_group: None,
        })
        .unwrap();
    assert!(
        matches!(&open.completion, Some(Urc::Qiopen(o)) if o.err.code() == 0),
        "{open:?}"
    );
    // Bytes a terminal would act on (CR, LF, Ctrl+Z, Esc, XON/XOFF, DEL)
    // pass untouched on a raw device.
    let payload = b"a\r\nb\x1a\x1b\x11\x13\x7f\x00z";
    let sent = client
        .send_payload(
            &qisend::WriteConnectIdSendLength {
                connect_id: Int::new(0).unwrap(),
                send_length: Int::new(payload.len() as i64).unwrap(),
            },
            payload,
        )
        .unwrap();
    assert_eq!(sent.result, fcm242d::engine::Final::SendOk);
    let deadline = Instant::now() + PATIENCE;
    let mut echoed = Vec::new();
    while echoed.len() < payload.len() {
        assert!(Instant::now() < deadline, "echo: got {echoed:?}");
        client.poll_urcs(Duration::from_millis(20)).unwrap();
        let r = client
            .send(&qird::WriteConnectIdReadLength {
                connect_id: Int::new(0).unwrap(),
                read_length: Some(Int::new(1500).unwrap()),
            })
            .unwrap();
        if let Some(d) = r.data.first() {
            echoed.extend_from_slice(d);
        }
    }
    assert_eq!(echoed, payload);
    client
        .send(&qiclose::Write {
            connect_id: Int::new(0).unwrap(),
            timeout: None,
        })
        .unwrap();

    // A `CONNECT` data phase (a file write) and a data block in the answer.
    let fh = client
        .send(&qfopen::Write {
            filename: Text::new("pty.txt").unwrap(),
            mode: None,
        })
        .unwrap()
        .lines[0]
        .filehandle;
    let body = b"written through /dev/pts";
    client
        .send_payload(
            &qfwrite::Write {
                filehandle: fh,
                length_group: Some(qfwrite::WriteLengthGroup {
                    length: Int::new(body.len() as i64).unwrap(),
                    timeout: None,
                }),
            },
            body,
        )
        .unwrap();
    client.send(&qfclose::Write { filehandle: fh }).unwrap();
    let fh = client
        .send(&qfopen::Write {
            filename: Text::new("pty.txt").unwrap(),
            mode: None,
        })
        .unwrap()
        .lines[0]
        .filehandle;
    let read = client
        .send(&qfread::Write {
            filehandle: fh,
            length: None,
        })
        .unwrap();
    assert_eq!(read.data, vec![body.to_vec()]);
}

#[test]
fn the_device_can_be_closed_and_opened_again() {
    fcm242d_sim::catalog::catalog();
    let (path, _server) = fcm242d_sim::pty::spawn(World::default()).unwrap();
    for round in 0..3 {
        let mut client = open(&path);
        let v = client.send(&qversion::Execute {});
        assert!(v.is_ok(), "round {round}: {v:?}");
        drop(client);
        // While nobody has the device open the module keeps running.
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_symbolic_link_names_the_device() {
    let (path, _server) = fcm242d_sim::pty::spawn(World::default()).unwrap();
    let dir = std::env::temp_dir().join(format!("fcm242d-sim-pty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("ttyFCM");
    fcm242d_sim::pty::link(&path, &link).unwrap();
    // Replacing an older link works too.
    fcm242d_sim::pty::link(&path, &link).unwrap();
    let mut client = open(&link);
    client.send(&at::Execute {}).unwrap();
    drop(client);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_binary_prints_the_device_path_and_serves_it() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let mut child = Command::new(env!("CARGO_BIN_EXE_fcm242d-sim"))
        .arg("--pty")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The first line of standard output is the path, alone on its line.
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(60));
    let result = line.map(|line| {
        let path = std::path::PathBuf::from(line.trim_end());
        let mut client = open(&path);
        client
            .send(&qversion::Execute {})
            .map(|v| v.lines[0].version.clone())
    });
    let _ = child.kill();
    let _ = child.wait();
    let version = result.expect("no path on standard output").unwrap();
    assert_eq!(version, World::default().firmware);
}
