//! The simulator as a module: driven by the runtime's client over an
//! in-process link, and checked against the catalogue's grammar.

use std::time::{Duration, Instant};

use fcm242d::client::{Client, Error};
use fcm242d::command::AtCommand;
use fcm242d::engine::Final;
use fcm242d::generated::commands::{
    qecho, qsetband, qversion, qwlanota, FORM_TEMPLATES, LINE_TEMPLATES,
};
use fcm242d::generated::urcs::{qotastat, Urc};
use fcm242d::session::Notice;
use fcm242d::value::{Int, Text};
use fcm242d_sim::module::Module;
use fcm242d_sim::serve::in_process;
use fcm242d_sim::world::World;

#[test]
fn answers_general_commands_through_the_client() {
    let (link, handle) = in_process(World::default());
    let mut client = Client::new(link);
    let v = client.send(&qversion::Execute {}).unwrap();
    assert_eq!(v.lines[0].version, World::default().firmware);
    // Echo on: the client strips it.
    client
        .send(&qecho::Write {
            enable: qecho::Enable::Enable,
        })
        .unwrap();
    let v = client.send(&qversion::Execute {}).unwrap();
    assert!(v.unexpected.is_empty(), "{:?}", v.unexpected);
    let set = qsetband::Write {
        baud_rate: Int::new(921_600).unwrap(),
        save: qsetband::Save::NotSaved,
    };
    client.send(&set).unwrap();
    let r = client.send(&qsetband::Read {}).unwrap();
    assert_eq!(r.lines[0].baud_rate.get(), 921_600);
    drop(client);
    handle.join().unwrap();
}

#[test]
fn ota_reports_its_progress_in_urcs() {
    let (link, handle) = in_process(World::default());
    let mut client = Client::new(link);
    let urcs = client.urc_channel();
    client
        .send(&qwlanota::Write {
            url: Text::new("http://192.0.2.2/fw.bin").unwrap(),
        })
        .unwrap();
    let _ = client.poll_urcs(Duration::from_millis(400)).unwrap();
    let got: Vec<Urc> = urcs.try_iter().filter_map(Notice::into_urc).collect();
    assert!(
        matches!(&got[0], Urc::Qotastat(u) if u.event == qotastat::Event::Started),
        "{got:?}"
    );
    assert_eq!(got.len(), 2);
    drop(client);
    handle.join().unwrap();
}

#[test]
fn out_of_range_and_unknown_commands_get_error() {
    let mut m = Module::new(World::default());
    let now = Instant::now();
    for bad in [
        "AT+QSETBAND=1199,0\r",
        "AT+QECHO=2\r",
        "AT+QNOSUCH\r",
        "HELLO\r",
    ] {
        assert_eq!(m.input(bad.as_bytes(), now), b"\r\nERROR\r\n", "{bad}");
    }
    // HTTP(S) commands report +CME ERROR with the table's "Invalid parameter".
    assert_eq!(m.input(b"AT+QHTTPGET=0\r", now), b"\r\n+CME ERROR: 724\r\n");
    // Spaces around parameters and lower case are accepted; spaces in the
    // command name (up to its `=`) or inside a value are not.
    assert_eq!(m.input(b" at+qsclk= 1 , 5 \r", now), b"\r\nOK\r\n");
    assert_eq!(m.input(b"at + qsclk = 1 , 5\r", now), b"\r\nERROR\r\n");
    assert_eq!(m.input(b"AT+QVER SION\r", now), b"\r\nERROR\r\n");
    assert_eq!(
        m.input(b"AT+QCFG=\"urc/pin\",1,2 00\r", now),
        b"\r\nERROR\r\n"
    );
    assert_eq!(m.input(b"\r", now), b"");
}

#[test]
fn every_test_command_answers_lines_the_grammar_accepts() {
    let mut m = Module::new(World::default());
    let now = Instant::now();
    let mut checked = 0;
    for form in FORM_TEMPLATES.iter().filter(|f| f.form.ends_with("=?")) {
        let out = String::from_utf8(m.input(format!("{}\r", form.form).as_bytes(), now)).unwrap();
        assert!(out.ends_with("\r\nOK\r\n"), "{}: {out:?}", form.form);
        for line in out.split("\r\n").filter(|l| !l.is_empty() && *l != "OK") {
            let accepted = LINE_TEMPLATES
                .iter()
                .filter(|t| t.form == form.form)
                .any(|t| (t.reencode)(line).is_ok());
            assert!(
                accepted,
                "{}: `{line}` is not a line of its test form",
                form.form
            );
            checked += 1;
        }
    }
    assert!(checked > 40, "{checked}");
}

#[test]
fn a_reboot_keeps_saved_settings_only() {
    let (link, handle) = in_process(World::default());
    let mut client = Client::new(link);
    let saved = qsetband::Write {
        baud_rate: Int::new(57_600).unwrap(),
        save: qsetband::Save::Saved,
    };
    client.send(&saved).unwrap();
    client
        .send(&qecho::Write {
            enable: qecho::Enable::Enable,
        })
        .unwrap();
    client
        .send(&fcm242d::generated::commands::qrst::Execute {})
        .unwrap();
    let r = client.send(&qsetband::Read {}).unwrap();
    assert_eq!(r.lines[0].baud_rate.get(), 57_600);
    drop(client);
    handle.join().unwrap();
    let _ = (Error::NoCarrier, Final::Ok, qversion::Execute::NAME);
}

#[test]
fn the_embedded_catalogue_is_all_of_spec() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = fcm242d_sim::catalog::embedded_files()
        .map(String::from)
        .collect();
    embedded.sort();
    assert_eq!(
        embedded, on_disk,
        "update FILES in simulator/src/catalog.rs"
    );
    assert_eq!(fcm242d_sim::catalog::catalog().commands().count(), 90);
}
