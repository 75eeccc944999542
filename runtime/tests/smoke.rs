//! Smoke tests of the generated bindings on lines from the manual.

mod support;

use fcm242d::command::{AtCommand, Line};
use fcm242d::generated::commands::{qiopen, qmtsub, AnyCommand};
use fcm242d::generated::urcs::Urc;
use fcm242d::value::Text;

#[test]
fn qiopen_round_trip() {
    let cmd = support::tcp_open(qiopen::AccessMode::Transparent);
    let line = cmd.encode();
    assert_eq!(line, "AT+QIOPEN=0,\"TCP\",\"192.0.2.2\",8009,0,2");
    assert_eq!(qiopen::Write::parse(&line).unwrap(), cmd);
    assert!(matches!(
        AnyCommand::parse(&line).unwrap(),
        AnyCommand::QiopenWrite(_)
    ));
    assert_eq!(cmd.time_limit_ms(), Some(150_000));
}

#[test]
fn qmtsub_repeats() {
    let line = "AT+QMTSUB=0,1,\"topic/example\",2,\"b\",0";
    let c = qmtsub::Write::parse(line).unwrap();
    assert_eq!(c.more_topic.len(), 1);
    assert_eq!(c.encode(), line);
    let _ = Text::<0, 10>::new("x");
}

#[test]
fn urcs_parse() {
    let u = Urc::parse("+QIURC: \"recv\",3,18").unwrap().unwrap();
    assert_eq!(u.data_length(), Some(18));
    assert_eq!(u.render(), "+QIURC: \"recv\",3,18");
    let u = Urc::parse("+QIOPEN: 0,564").unwrap().unwrap();
    assert_eq!(u.render(), "+QIOPEN: 0,564");
    assert!(Urc::parse("OK").is_none());
    let l = <qiopen::TestLine as Line>::parse("+QIOPEN: (0-11),(\"TCP\",\"UDP\"),<IP_address>/<domain_name>,(0-65535),(1-65535),(0-2),(0,1)");
    assert!(l.is_ok(), "{l:?}");
}
