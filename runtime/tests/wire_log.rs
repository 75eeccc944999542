//! The wire log (feature `log`): what was written and read, with the
//! secrets a command sent masked wherever they appear, and error messages
//! that show the command line masked too.

use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use fcm242d::client::{Client, Error, Options};
use fcm242d::generated::commands::qstaapinfo;
use fcm242d::transport::{MemoryTransport, Transport};
use fcm242d::value::Text;

struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        self.0
            .lock()
            .unwrap()
            .push(format!("{} {}", record.target(), record.args()));
    }
    fn flush(&self) {}
}

static LOG: Capture = Capture(Mutex::new(Vec::new()));

#[test]
fn secrets_never_reach_the_log_or_an_error_message() {
    log::set_logger(&LOG).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let (host, mut module) = MemoryTransport::pair();
    let handle = thread::spawn(move || {
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        while !got.ends_with(b"\r\n") {
            let n = module.read(&mut buf, Duration::from_secs(5)).unwrap();
            assert!(n > 0, "no command");
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"AT+QSTAAPINFO=\"home\",\"hunter22\"\r\n");
        // An echo of the password (a module with echo on), then ERROR.
        module
            .write_all(b"AT+QSTAAPINFO=\"home\",\"hunter22\"\r\n\r\nERROR\r\n")
            .unwrap();
    });
    let mut client = Client::with_options(host, Options::default());
    let err = client
        .send(&qstaapinfo::Write {
            ssid: Text::new("home").unwrap(),
            pwd: Some(Text::new("hunter22").unwrap()),
        })
        .unwrap_err();
    handle.join().unwrap();
    assert!(matches!(err, Error::Error { .. }), "{err:?}");
    assert_eq!(err.to_string(), r#"`AT+QSTAAPINFO="home","***"`: ERROR"#);
    let lines = LOG.0.lock().unwrap().clone();
    let wire: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("fcm242d::wire"))
        .collect();
    assert!(
        wire.iter()
            .any(|l| l.contains(r#"> AT+QSTAAPINFO=\"home\",\"***\""#)),
        "{lines:?}"
    );
    assert!(wire.iter().any(|l| l.contains("< ")), "{lines:?}");
    assert!(!lines.iter().any(|l| l.contains("hunter22")), "{lines:?}");
}
