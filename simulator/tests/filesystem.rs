//! The file-system (UFS) group: open modes, handles, reads and writes at the
//! file pointer, listing, deletion, limits, reboots, data integrity, and the
//! file-system steps of the manual's examples.

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use fcm242d::client::{Client, Error};
use fcm242d::generated::commands::{qfclose, qfdel, qflst, qfopen, qfread, qfwrite, qrst};
use fcm242d::transport::MemoryTransport;
use fcm242d::value::{Int, Text};
use fcm242d_codegen::model::{DataEnd, ScenarioSource};
use fcm242d_sim::groups::filesystem::UFS_CAPACITY;
use fcm242d_sim::module::Module;
use fcm242d_sim::serve::in_process;
use fcm242d_sim::world::World;

type Session = Client<MemoryTransport>;

fn session() -> (Session, JoinHandle<()>) {
    // Load the catalogue before the first command (the module loads it
    // lazily, which can exceed a 300 ms limit in a parallel debug run).
    fcm242d_sim::catalog::catalog();
    let (link, handle) = in_process(World::default());
    (Client::new(link), handle)
}

fn end(client: Session, handle: JoinHandle<()>) {
    drop(client);
    handle.join().unwrap();
}

fn open(client: &mut Session, name: &str, mode: Option<qfopen::Mode>) -> Result<i64, Error> {
    let r = client.send(&qfopen::Write {
        filename: Text::new(name).unwrap(),
        mode,
    })?;
    assert_eq!(r.lines.len(), 1);
    Ok(r.lines[0].filehandle)
}

fn write(client: &mut Session, filehandle: i64, data: &[u8]) -> Result<(i64, i64), Error> {
    let cmd = qfwrite::Write {
        filehandle,
        length_group: Some(qfwrite::WriteLengthGroup {
            length: Int::new(data.len() as i64).unwrap(),
            timeout: None,
        }),
    };
    let r = client.send_payload(&cmd, data)?;
    assert_eq!(r.lines.len(), 1);
    Ok((r.lines[0].written_length, r.lines[0].total_length))
}

fn read(client: &mut Session, filehandle: i64, length: Option<i64>) -> Result<Vec<u8>, Error> {
    let r = client.send(&qfread::Write { filehandle, length })?;
    assert_eq!(r.data.len(), 1, "{r:?}");
    Ok(r.data.into_iter().next().unwrap())
}

fn close(client: &mut Session, filehandle: i64) -> Result<(), Error> {
    client.send(&qfclose::Write { filehandle }).map(|_| ())
}

fn list(client: &mut Session) -> Vec<(String, i64)> {
    let r = client.send(&qflst::Execute {}).unwrap();
    r.lines
        .into_iter()
        .map(|l| (l.filename, l.file_size))
        .collect()
}

fn delete(client: &mut Session, name: &str) -> Result<(), Error> {
    client
        .send(&qfdel::Write {
            file_name: Text::new(name).unwrap(),
        })
        .map(|_| ())
}

fn is_error<T: std::fmt::Debug>(r: Result<T, Error>) -> bool {
    matches!(r, Err(Error::Error { .. }))
}

/// A certificate-like payload of `n` bytes.
fn pem(n: usize) -> Vec<u8> {
    let mut v = b"-----BEGIN CERTIFICATE-----\n".to_vec();
    while v.len() < n {
        v.push(b'A' + (v.len() % 26) as u8);
    }
    v.truncate(n);
    v
}

/// The bytes the module writes for `input` (a raw exchange, no client).
fn raw(m: &mut Module, input: &[u8]) -> Vec<u8> {
    m.input(input, Instant::now())
}

#[test]
fn the_manuals_certificate_upload_works() {
    let (mut c, h) = session();
    let ca = pem(1757);
    let handle = open(&mut c, "ca.pem", None).unwrap();
    assert_eq!(handle, 1);
    assert_eq!(write(&mut c, handle, &ca).unwrap(), (1757, 1757));
    close(&mut c, handle).unwrap();
    // Each upload of the examples gets handle 1 again.
    for (name, size) in [("user.pem", 1639), ("user_key.pem", 2455)] {
        let handle = open(&mut c, name, None).unwrap();
        assert_eq!(handle, 1);
        assert_eq!(
            write(&mut c, handle, &pem(size)).unwrap(),
            (size as i64, size as i64)
        );
        close(&mut c, handle).unwrap();
    }
    assert_eq!(
        list(&mut c),
        vec![
            ("ca.pem".to_string(), 1757),
            ("user.pem".to_string(), 1639),
            ("user_key.pem".to_string(), 2455)
        ]
    );
    let handle = open(&mut c, "ca.pem", Some(qfopen::Mode::ReadOnly)).unwrap();
    assert_eq!(read(&mut c, handle, None).unwrap(), ca);
    close(&mut c, handle).unwrap();
    end(c, h);
}

#[test]
fn the_wire_format_is_the_manuals() {
    let mut m = Module::new(World::default());
    assert_eq!(
        raw(&mut m, b"AT+QFOPEN=\"ca.pem\"\r"),
        b"\r\n+QFOPEN: 1\r\n\r\nOK\r\n"
    );
    assert_eq!(raw(&mut m, b"AT+QFWRITE=1,5\r"), b"\r\nCONNECT\r\n");
    // Everything up to <length> is data, even CR and what looks like a command.
    assert_eq!(raw(&mut m, b"AT\r"), b"");
    assert_eq!(raw(&mut m, b"\n!"), b"\r\n+QFWRITE: 5,5\r\n\r\nOK\r\n");
    assert_eq!(
        raw(&mut m, b"AT+QFOPEN?\r"),
        b"\r\n+QFOPEN: \"ca.pem\",1,0\r\n\r\nOK\r\n"
    );
    assert_eq!(raw(&mut m, b"AT+QFCLOSE=1\r"), b"\r\nOK\r\n");
    assert_eq!(
        raw(&mut m, b"AT+QFOPEN=\"ca.pem\",2\r"),
        b"\r\n+QFOPEN: 1\r\n\r\nOK\r\n"
    );
    assert_eq!(
        raw(&mut m, b"AT+QFREAD=1,3\r"),
        b"\r\nCONNECT 3\r\nAT\r\r\nOK\r\n"
    );
    assert_eq!(
        raw(&mut m, b"AT+QFREAD=1\r"),
        b"\r\nCONNECT 2\r\n\n!\r\nOK\r\n"
    );
    assert_eq!(
        raw(&mut m, b"AT+QFREAD=1\r"),
        b"\r\nCONNECT 0\r\n\r\nOK\r\n"
    );
    assert_eq!(
        raw(&mut m, b"AT+QFLST\r"),
        b"\r\n+QFLST: \"ca.pem\",5\r\n\r\nOK\r\n"
    );
    assert_eq!(
        raw(&mut m, b"AT+QFLST=\"UFS:\"\r"),
        b"\r\n+QFLST: \"ca.pem\",5\r\n\r\nOK\r\n"
    );
    assert_eq!(
        raw(&mut m, b"AT+QFLST=\"ca.pem\"\r"),
        b"\r\n+QFLST: \"ca.pem\",5\r\n\r\nOK\r\n"
    );
    // Failures the manual answers with ERROR.
    for bad in [
        &b"AT+QFREAD=1,-1\r"[..],
        b"AT+QFWRITE=1,3\r",
        b"AT+QFREAD=7\r",
        b"AT+QFWRITE=7,3\r",
        b"AT+QFCLOSE=7\r",
        b"AT+QFDEL=\"ca.pem\"\r",
        b"AT+QFDEL=\"nothing\"\r",
        b"AT+QFLST=\"nothing\"\r",
        b"AT+QFOPEN=\"nothing\",2\r",
        b"AT+QFOPEN=\"ca.pem\",3\r",
        b"AT+QFOPEN=\"\"\r",
        b"AT+QFWRITE=1,0\r",
        b"AT+QFWRITE=1,65536\r",
        b"AT+QFWRITE=1,10,180\r",
    ] {
        assert_eq!(
            raw(&mut m, bad),
            b"\r\nERROR\r\n",
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    assert_eq!(raw(&mut m, b"AT+QFCLOSE=1\r"), b"\r\nOK\r\n");
    assert_eq!(raw(&mut m, b"AT+QFDEL=\"ca.pem\"\r"), b"\r\nOK\r\n");
    // An empty UFS lists nothing; no handle is open.
    assert_eq!(raw(&mut m, b"AT+QFLST\r"), b"\r\nOK\r\n");
    assert_eq!(raw(&mut m, b"AT+QFOPEN?\r"), b"\r\nOK\r\n");
}

#[test]
fn the_default_write_length_is_10240() {
    let mut m = Module::new(World::default());
    raw(&mut m, b"AT+QFOPEN=\"big.bin\"\r");
    assert_eq!(raw(&mut m, b"AT+QFWRITE=1\r"), b"\r\nCONNECT\r\n");
    assert_eq!(raw(&mut m, &[0x55; 10239]), b"");
    assert_eq!(
        raw(&mut m, &[0x55]),
        b"\r\n+QFWRITE: 10240,10240\r\n\r\nOK\r\n"
    );
    // With a timeout given, the length still ends the input.
    assert_eq!(raw(&mut m, b"AT+QFWRITE=1,2,179\r"), b"\r\nCONNECT\r\n");
    assert_eq!(raw(&mut m, b"xy"), b"\r\n+QFWRITE: 2,10242\r\n\r\nOK\r\n");
}

/// `send_payload` puts the payload's length in when the caller left it out:
/// the write ends with the payload, not at 10240 bytes or the time-out.
#[test]
fn a_write_without_a_length_takes_the_payloads() {
    let (mut client, handle) = session();
    let h = open(&mut client, "short.txt", None).unwrap();
    let started = Instant::now();
    let r = client
        .send_payload(
            &qfwrite::Write {
                filehandle: h,
                length_group: None,
            },
            b"hello",
        )
        .unwrap();
    assert_eq!((r.lines[0].written_length, r.lines[0].total_length), (5, 5));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "waited for the time-out"
    );
    close(&mut client, h).unwrap();
    let h = open(&mut client, "short.txt", None).unwrap();
    assert_eq!(read(&mut client, h, None).unwrap(), b"hello");
    end(client, handle);
}

#[test]
fn open_modes_create_keep_truncate_or_refuse() {
    let (mut c, h) = session();
    // Mode 2 needs an existing file.
    assert!(is_error(open(
        &mut c,
        "a.txt",
        Some(qfopen::Mode::ReadOnly)
    )));
    assert!(list(&mut c).is_empty());
    // The default (mode 0) creates it.
    let fh = open(&mut c, "a.txt", None).unwrap();
    assert_eq!(write(&mut c, fh, b"0123456789").unwrap(), (10, 10));
    close(&mut c, fh).unwrap();
    // Mode 0 keeps the contents; the pointer starts at 0, so a write overwrites.
    let fh = open(&mut c, "a.txt", Some(qfopen::Mode::OpenOrCreate)).unwrap();
    assert_eq!(write(&mut c, fh, b"ab").unwrap(), (2, 10));
    close(&mut c, fh).unwrap();
    let fh = open(&mut c, "a.txt", Some(qfopen::Mode::ReadOnly)).unwrap();
    assert_eq!(read(&mut c, fh, None).unwrap(), b"ab23456789");
    // Read-only: writing is an error, before any CONNECT.
    assert!(is_error(write(&mut c, fh, b"zz")));
    close(&mut c, fh).unwrap();
    // Mode 1 clears it.
    let fh = open(&mut c, "a.txt", Some(qfopen::Mode::CreateOrTruncate)).unwrap();
    assert_eq!(list(&mut c), vec![("a.txt".to_string(), 0)]);
    assert_eq!(read(&mut c, fh, None).unwrap(), b"");
    assert_eq!(write(&mut c, fh, b"new").unwrap(), (3, 3));
    close(&mut c, fh).unwrap();
    // Mode 1 also creates.
    let fh = open(&mut c, "b.txt", Some(qfopen::Mode::CreateOrTruncate)).unwrap();
    close(&mut c, fh).unwrap();
    assert_eq!(
        list(&mut c),
        vec![("a.txt".to_string(), 3), ("b.txt".to_string(), 0)]
    );
    end(c, h);
}

#[test]
fn handles_are_the_lowest_free_and_listed_with_their_modes() {
    let (mut c, h) = session();
    assert!(c.send(&qfopen::Read {}).unwrap().lines.is_empty());
    assert_eq!(open(&mut c, "one", None).unwrap(), 1);
    assert_eq!(
        open(&mut c, "two", Some(qfopen::Mode::CreateOrTruncate)).unwrap(),
        2
    );
    assert_eq!(
        open(&mut c, "one", Some(qfopen::Mode::ReadOnly)).unwrap(),
        3
    );
    let r = c.send(&qfopen::Read {}).unwrap();
    let got: Vec<(String, i64, qfopen::Mode)> = r
        .lines
        .into_iter()
        .map(|l| (l.filename, l.filehandle, l.mode))
        .collect();
    assert_eq!(
        got,
        vec![
            ("one".to_string(), 1, qfopen::Mode::OpenOrCreate),
            ("two".to_string(), 2, qfopen::Mode::CreateOrTruncate),
            ("one".to_string(), 3, qfopen::Mode::ReadOnly),
        ]
    );
    close(&mut c, 2).unwrap();
    // A closed handle is released and cannot be used again...
    assert!(is_error(close(&mut c, 2)));
    assert!(is_error(read(&mut c, 2, None)));
    assert!(is_error(write(&mut c, 2, b"x")));
    // ...until QFOPEN gives it out again.
    assert_eq!(open(&mut c, "three", None).unwrap(), 2);
    assert_eq!(open(&mut c, "four", None).unwrap(), 4);
    for fh in 1..=4 {
        close(&mut c, fh).unwrap();
    }
    assert!(c.send(&qfopen::Read {}).unwrap().lines.is_empty());
    end(c, h);
}

#[test]
fn reads_and_writes_move_the_file_pointer() {
    let (mut c, h) = session();
    let fh = open(&mut c, "data", None).unwrap();
    assert_eq!(write(&mut c, fh, b"hello ").unwrap(), (6, 6));
    // The next write continues at the pointer.
    assert_eq!(write(&mut c, fh, b"world").unwrap(), (5, 11));
    // The pointer is at the end: nothing left to read.
    assert_eq!(read(&mut c, fh, None).unwrap(), b"");
    close(&mut c, fh).unwrap();

    let fh = open(&mut c, "data", None).unwrap();
    assert_eq!(read(&mut c, fh, Some(3)).unwrap(), b"hel");
    assert_eq!(read(&mut c, fh, Some(0)).unwrap(), b"");
    assert_eq!(read(&mut c, fh, Some(2)).unwrap(), b"lo");
    // A write in the middle overwrites and leaves the rest.
    assert_eq!(write(&mut c, fh, b"_W").unwrap(), (2, 11));
    // Longer than the rest: the rest (CONNECT <read_length> says how much).
    assert_eq!(read(&mut c, fh, Some(100)).unwrap(), b"orld");
    assert_eq!(read(&mut c, fh, Some(5)).unwrap(), b"");
    // A negative length is refused.
    assert!(is_error(read(&mut c, fh, Some(-1))));
    close(&mut c, fh).unwrap();

    let fh = open(&mut c, "data", Some(qfopen::Mode::ReadOnly)).unwrap();
    assert_eq!(read(&mut c, fh, None).unwrap(), b"hello_World");
    close(&mut c, fh).unwrap();
    end(c, h);
}

#[test]
fn two_handles_on_one_file_keep_their_own_pointers() {
    let (mut c, h) = session();
    let w = open(&mut c, "shared", None).unwrap();
    write(&mut c, w, b"abcdef").unwrap();
    let r = open(&mut c, "shared", Some(qfopen::Mode::ReadOnly)).unwrap();
    assert_eq!(read(&mut c, r, Some(4)).unwrap(), b"abcd");
    // Truncated under the reader: it reads nothing, without failing.
    let t = open(&mut c, "shared", Some(qfopen::Mode::CreateOrTruncate)).unwrap();
    assert_eq!(read(&mut c, r, None).unwrap(), b"");
    // The first writer's pointer (6) is past the new end: it writes at the end.
    assert_eq!(write(&mut c, w, b"xy").unwrap(), (2, 2));
    assert_eq!(read(&mut c, t, None).unwrap(), b"xy");
    for fh in [w, r, t] {
        close(&mut c, fh).unwrap();
    }
    end(c, h);
}

#[test]
fn listing_and_deleting() {
    let (mut c, h) = session();
    assert!(list(&mut c).is_empty());
    let r = c
        .send(&qflst::Write {
            name_pattern: qflst::NamePattern::AllFiles,
        })
        .unwrap();
    assert!(r.lines.is_empty());
    for (name, body) in [("b.pem", &b"bb"[..]), ("a.pem", b"a")] {
        let fh = open(&mut c, name, None).unwrap();
        write(&mut c, fh, body).unwrap();
        close(&mut c, fh).unwrap();
    }
    let all = c
        .send(&qflst::Write {
            name_pattern: qflst::NamePattern::AllFiles,
        })
        .unwrap();
    let all: Vec<(String, i64)> = all
        .lines
        .into_iter()
        .map(|l| (l.filename, l.file_size))
        .collect();
    assert_eq!(all, list(&mut c));
    assert_eq!(
        all,
        vec![("a.pem".to_string(), 1), ("b.pem".to_string(), 2)]
    );
    let one = c
        .send(&qflst::Write {
            name_pattern: qflst::NamePattern::Other("b.pem".into()),
        })
        .unwrap();
    assert_eq!(one.lines.len(), 1);
    assert_eq!(
        (one.lines[0].filename.as_str(), one.lines[0].file_size),
        ("b.pem", 2)
    );
    assert!(is_error(c.send(&qflst::Write {
        name_pattern: qflst::NamePattern::Other("c.pem".into()),
    })));

    // A missing file cannot be deleted; neither can an open one.
    assert!(is_error(delete(&mut c, "c.pem")));
    let fh = open(&mut c, "a.pem", Some(qfopen::Mode::ReadOnly)).unwrap();
    assert!(is_error(delete(&mut c, "a.pem")));
    close(&mut c, fh).unwrap();
    delete(&mut c, "a.pem").unwrap();
    assert!(is_error(delete(&mut c, "a.pem")));
    // No value deletes all files (errata FS-2): "UFS:" and "*" are no file.
    assert!(is_error(delete(&mut c, "UFS:")));
    assert!(is_error(delete(&mut c, "*")));
    assert_eq!(list(&mut c), vec![("b.pem".to_string(), 2)]);
    // A deleted file is gone for mode 2, and comes back empty for mode 0.
    assert!(is_error(open(
        &mut c,
        "a.pem",
        Some(qfopen::Mode::ReadOnly)
    )));
    let fh = open(&mut c, "a.pem", None).unwrap();
    assert_eq!(read(&mut c, fh, None).unwrap(), b"");
    close(&mut c, fh).unwrap();
    end(c, h);
}

#[test]
fn file_names_are_1_to_80_bytes() {
    let (mut c, h) = session();
    let longest = "n".repeat(80);
    let fh = open(&mut c, &longest, None).unwrap();
    close(&mut c, fh).unwrap();
    assert_eq!(list(&mut c), vec![(longest.clone(), 0)]);
    delete(&mut c, &longest).unwrap();
    let mut m = Module::new(World::default());
    let too_long = format!("AT+QFOPEN=\"{}\"\r", "n".repeat(81));
    assert_eq!(raw(&mut m, too_long.as_bytes()), b"\r\nERROR\r\n");
    assert_eq!(raw(&mut m, b"AT+QFOPEN=\"\",0\r"), b"\r\nERROR\r\n");
    // "UFS:" names the storage, not a file.
    assert_eq!(raw(&mut m, b"AT+QFOPEN=\"UFS:\"\r"), b"\r\nERROR\r\n");
    assert!(m.state().saved.files.is_empty());
    end(c, h);
}

#[test]
fn files_survive_a_reboot_and_handles_do_not() {
    let (mut c, h) = session();
    let fh = open(&mut c, "keep.txt", None).unwrap();
    write(&mut c, fh, b"persistent").unwrap();
    // Not closed: a reboot releases the handle, the data stays in flash.
    c.send(&qrst::Execute {}).unwrap();
    assert!(c.send(&qfopen::Read {}).unwrap().lines.is_empty());
    assert!(is_error(read(&mut c, fh, None)));
    assert!(is_error(close(&mut c, fh)));
    assert_eq!(list(&mut c), vec![("keep.txt".to_string(), 10)]);
    let fh = open(&mut c, "keep.txt", Some(qfopen::Mode::ReadOnly)).unwrap();
    assert_eq!(fh, 1);
    assert_eq!(read(&mut c, fh, None).unwrap(), b"persistent");
    close(&mut c, fh).unwrap();
    end(c, h);
}

#[test]
fn a_full_ufs_writes_what_fits_then_refuses() {
    let (mut c, h) = session();
    let chunk = vec![0xA5u8; 65535];
    let fh = open(&mut c, "fill", None).unwrap();
    let mut total = 0usize;
    while total + chunk.len() <= UFS_CAPACITY {
        let (written, size) = write(&mut c, fh, &chunk).unwrap();
        total += chunk.len();
        assert_eq!((written, size), (65535, total as i64));
    }
    // The last write is cut at the capacity, and says so.
    let left = UFS_CAPACITY - total;
    assert!(left < chunk.len());
    assert_eq!(
        write(&mut c, fh, &chunk).unwrap(),
        (left as i64, UFS_CAPACITY as i64)
    );
    // Full, and the pointer at the end: refused before CONNECT.
    assert!(is_error(write(&mut c, fh, b"x")));
    let other = open(&mut c, "other", None).unwrap();
    assert!(is_error(write(&mut c, other, b"x")));
    close(&mut c, other).unwrap();
    close(&mut c, fh).unwrap();
    // Overwriting in place needs no room.
    let fh = open(&mut c, "fill", None).unwrap();
    assert_eq!(
        write(&mut c, fh, b"head").unwrap(),
        (4, UFS_CAPACITY as i64)
    );
    close(&mut c, fh).unwrap();
    // Deleting frees the room.
    delete(&mut c, "fill").unwrap();
    let fh = open(&mut c, "other", None).unwrap();
    assert_eq!(write(&mut c, fh, b"x").unwrap(), (1, 1));
    close(&mut c, fh).unwrap();
    end(c, h);
}

#[test]
fn megabytes_of_every_byte_value_go_through_unchanged() {
    let (mut c, h) = session();
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut moved = 0usize;
    for round in 0..6 {
        let name = format!("blob{round}.bin");
        // 8 writes of up to 65535 bytes: every byte value, then noise.
        let mut content = Vec::new();
        let fh = open(&mut c, &name, Some(qfopen::Mode::CreateOrTruncate)).unwrap();
        for i in 0..8 {
            let len = 65535 - (round * 8 + i) * 7;
            let mut part: Vec<u8> = (0..=255u8).collect();
            while part.len() < len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                part.push((seed >> 24) as u8);
            }
            let (written, total) = write(&mut c, fh, &part).unwrap();
            content.extend_from_slice(&part);
            assert_eq!((written, total), (len as i64, content.len() as i64));
        }
        close(&mut c, fh).unwrap();
        // Read back in uneven pieces, then all at once.
        let fh = open(&mut c, &name, Some(qfopen::Mode::ReadOnly)).unwrap();
        let mut back = Vec::new();
        loop {
            let piece = read(&mut c, fh, Some(40_000)).unwrap();
            if piece.is_empty() {
                break;
            }
            back.extend_from_slice(&piece);
        }
        assert!(back == content, "round {round}: content differs");
        close(&mut c, fh).unwrap();
        let fh = open(&mut c, &name, Some(qfopen::Mode::ReadOnly)).unwrap();
        assert!(read(&mut c, fh, None).unwrap() == content);
        close(&mut c, fh).unwrap();
        delete(&mut c, &name).unwrap();
        moved += 3 * content.len();
    }
    assert!(moved > 8_000_000, "{moved}");
    assert!(list(&mut c).is_empty());
    end(c, h);
}

/// Replaces `${name}` placeholders with the scenario's values.
fn substitute(text: &str, values: &std::collections::BTreeMap<String, String>) -> String {
    let mut out = text.to_string();
    for (k, v) in values {
        out = out.replace(&format!("${{{k}}}"), v);
    }
    out
}

/// The lines of a module's output, without empty ones.
fn lines_of(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn the_file_system_steps_of_the_manuals_examples_pass() {
    // No example uses the file system alone: each uploads certificates for
    // SSL, MQTT or HTTPS. Their file-system steps (from an AT+QF command to
    // the next command of another group) run here on a fresh module.
    let catalog = fcm242d_sim::catalog::catalog();
    let mut ran = 0;
    for (_, entry) in catalog.scenarios() {
        let scenario = &entry.value;
        // The manual's examples only: the exchanges composed from the
        // catalogue (which also read files back, with data) run in the
        // conformance suite.
        if scenario.source != ScenarioSource::Manual {
            continue;
        }
        let mut values = scenario.placeholders.clone();
        // The manual does not print the certificates: stand-ins of the given sizes.
        for (pem_key, size_key) in [
            ("ca_cert_pem", "ca_cert_size"),
            ("client_cert_pem", "client_cert_size"),
            ("client_key_pem", "client_key_size"),
        ] {
            if let Some(size) = values.get(size_key).and_then(|s| s.parse::<usize>().ok()) {
                let body = String::from_utf8(pem(size)).unwrap();
                values.insert(pem_key.to_string(), body);
            }
        }
        let mut m = Module::new(World::default());
        let mut in_fs = false;
        let mut pending: Vec<String> = Vec::new();
        for step in &scenario.steps {
            if let Some(send) = &step.send {
                assert!(
                    pending.is_empty(),
                    "{}: unmatched output {pending:?}",
                    scenario.name
                );
                in_fs = send.starts_with("AT+QF");
                if in_fs {
                    ran += 1;
                    let line = format!("{}\r", substitute(send, &values));
                    pending = lines_of(&raw(&mut m, line.as_bytes()));
                }
                continue;
            }
            if !in_fs {
                continue;
            }
            if let Some(data) = &step.send_data {
                assert!(pending.is_empty(), "{}: {pending:?}", scenario.name);
                assert_eq!(step.end, Some(DataEnd::None));
                pending = lines_of(&raw(&mut m, substitute(data, &values).as_bytes()));
            } else if let Some(expect) = &step.expect {
                let expect = substitute(expect, &values);
                assert!(
                    !pending.is_empty(),
                    "{}: expected `{expect}`, got nothing",
                    scenario.name
                );
                assert_eq!(pending.remove(0), expect, "{}", scenario.name);
            } else if step.expect_urc.is_some() || step.expect_data.is_some() {
                panic!("{}: the file system has no URCs or data", scenario.name);
            }
        }
        assert!(pending.is_empty(), "{}: {pending:?}", scenario.name);
    }
    // ssl_context_config, mqtt_with_ssl, https_post: 2 + 6 + 6 commands.
    assert!(ran >= 14, "{ran}");
}

/// A module on a virtual clock with file `t.bin` open as handle 1.
fn timed() -> (Module, Instant) {
    let mut m = Module::new(World::default());
    let t0 = Instant::now();
    assert_eq!(
        m.input(b"AT+QFOPEN=\"t.bin\"\r", t0),
        b"\r\n+QFOPEN: 1\r\n\r\nOK\r\n"
    );
    (m, t0)
}

#[test]
fn qfwrite_writes_what_came_when_its_timeout_is_over() {
    let (mut m, t0) = timed();
    let s = Duration::from_secs;
    let ms = Duration::from_millis;
    assert_eq!(m.input(b"AT+QFWRITE=1,100,2\r", t0), b"\r\nCONNECT\r\n");
    // The time counts from CONNECT: bytes that come do not restart it.
    assert_eq!(m.input(&[0u8; 20], t0 + ms(500)), b"");
    assert_eq!(m.poll(t0 + ms(1500)), b"");
    assert_eq!(m.input(&[0xffu8; 20], t0 + ms(1900)), b"");
    assert_eq!(m.poll(t0 + ms(1999)), b"");
    assert_eq!(m.poll(t0 + s(2)), b"\r\n+QFWRITE: 40,40\r\n\r\nOK\r\n");
    assert_eq!(m.poll(t0 + s(3)), b"");
    // Back in command mode: later bytes are commands again.
    assert_eq!(m.input(b"AT\r", t0 + s(3)), b"\r\nOK\r\n");
    let mut expected = vec![0u8; 20];
    expected.extend([0xffu8; 20]);
    assert_eq!(m.state().saved.files["t.bin"], expected);
}

#[test]
fn qfwrite_times_out_after_5_seconds_by_default_even_with_nothing_written() {
    let (mut m, t0) = timed();
    let s = Duration::from_secs;
    assert_eq!(m.input(b"AT+QFWRITE=1,3\r", t0), b"\r\nCONNECT\r\n");
    assert_eq!(m.input(b"ab", t0 + s(1)), b"");
    assert_eq!(m.poll(t0 + Duration::from_millis(4999)), b"");
    assert_eq!(m.poll(t0 + s(5)), b"\r\n+QFWRITE: 2,2\r\n\r\nOK\r\n");
    // The default <length> (10240) has the default timeout too.
    let t1 = t0 + s(10);
    assert_eq!(m.input(b"AT+QFWRITE=1\r", t1), b"\r\nCONNECT\r\n");
    assert_eq!(m.poll(t1 + s(5)), b"\r\n+QFWRITE: 0,2\r\n\r\nOK\r\n");
    // The longest timeout, 179 s.
    let t2 = t1 + s(10);
    assert_eq!(m.input(b"AT+QFWRITE=1,10,179\r", t2), b"\r\nCONNECT\r\n");
    assert_eq!(m.poll(t2 + s(178)), b"");
    assert_eq!(m.input(b"z", t2 + s(178)), b"");
    assert_eq!(m.poll(t2 + s(179)), b"\r\n+QFWRITE: 1,3\r\n\r\nOK\r\n");
    assert_eq!(m.state().saved.files["t.bin"], b"abz");
    // Out of range: refused before CONNECT.
    assert_eq!(
        m.input(b"AT+QFWRITE=1,10,0\r", t2 + s(200)),
        b"\r\nERROR\r\n"
    );
    assert_eq!(
        m.input(b"AT+QFWRITE=1,10,180\r", t2 + s(200)),
        b"\r\nERROR\r\n"
    );
}

#[test]
fn a_timed_out_qfwrite_into_a_full_ufs_writes_what_fits() {
    let (mut m, t0) = timed();
    let s = Duration::from_secs;
    // Fill the UFS but for 10 bytes (16 writes of 65535, then the rest).
    let mut at = t0;
    let mut left = UFS_CAPACITY - 10;
    while left > 0 {
        let n = left.min(65535);
        at += s(1);
        let cmd = format!("AT+QFWRITE=1,{n}\r");
        assert_eq!(m.input(cmd.as_bytes(), at), b"\r\nCONNECT\r\n");
        assert!(m.input(&vec![7u8; n], at).starts_with(b"\r\n+QFWRITE: "));
        left -= n;
    }
    at += s(1);
    assert_eq!(m.input(b"AT+QFWRITE=1,100,1\r", at), b"\r\nCONNECT\r\n");
    assert_eq!(m.input(&[9u8; 30], at), b"");
    let total = UFS_CAPACITY;
    assert_eq!(
        m.poll(at + s(1)),
        format!("\r\n+QFWRITE: 10,{total}\r\n\r\nOK\r\n").as_bytes()
    );
}
