//! The template parser on syntaxes of the manual.

use fcm242d_codegen::model::FormKind;
use fcm242d_codegen::template::{names, parse_command, parse_line, Node, Piece};

fn p(name: &str) -> Node {
    Node::Field(vec![Piece::Param {
        name: name.into(),
        quoted: false,
    }])
}

#[test]
fn parses_nested_optionals_and_alternatives() {
    let s = parse_command("AT+QIOPEN=<connectID>,<service_type>,<IP_address>/<domain_name>,<remote_port>[,<local_port>[,<access_mode>][,<ap_priority>]]").unwrap();
    assert_eq!(s.name, "AT+QIOPEN");
    assert_eq!(s.kind, FormKind::Write);
    assert_eq!(
        s.args,
        vec![
            p("connectID"),
            p("service_type"),
            Node::Alternatives(vec!["IP_address".into(), "domain_name".into()]),
            p("remote_port"),
            Node::Optional {
                nodes: vec![
                    p("local_port"),
                    Node::Optional {
                        nodes: vec![p("access_mode")],
                        repeat: false
                    },
                    Node::Optional {
                        nodes: vec![p("ap_priority")],
                        repeat: false
                    },
                ],
                repeat: false
            }
        ]
    );
}

#[test]
fn parses_repeated_groups() {
    let s = parse_command("AT+QMTSUB=<client_idx>,<msgID>,<topic1>,<qos1>[,<topic2>,<qos2>[,..]]")
        .unwrap();
    assert_eq!(
        s.args[4],
        Node::Optional {
            nodes: vec![p("topic2"), p("qos2")],
            repeat: true
        }
    );
}

#[test]
fn parses_forms_and_literals() {
    assert_eq!(parse_command("AT+QICFG=?").unwrap().kind, FormKind::Test);
    assert_eq!(parse_command("AT+QSCLK?").unwrap().kind, FormKind::Read);
    assert_eq!(parse_command("AT+QRST").unwrap().kind, FormKind::Execute);
    assert_eq!(parse_command("AT").unwrap().name, "AT");
    assert_eq!(parse_command("ATO").unwrap().name, "ATO");
    assert_eq!(parse_command("+++").unwrap().kind, FormKind::Execute);
    let g = parse_command("AT+QHTTPGET[=<rsptime>]").unwrap();
    assert!(g.args_optional);
    let s = parse_command("AT+QISEND=<connectID>,0").unwrap();
    assert_eq!(
        s.args[1],
        Node::Field(vec![Piece::Literal {
            text: "0".into(),
            quoted: false
        }])
    );
    let c = parse_command("AT+QCFG=\"urc/pin\"[,<enable>[,<pulse>]]").unwrap();
    assert_eq!(
        c.args[0],
        Node::Field(vec![Piece::Literal {
            text: "urc/pin".into(),
            quoted: true
        }])
    );
}

#[test]
fn parses_response_lines() {
    let l = parse_line("+QICFG: \"tcp/kalive\",(list of supported <kalive_onoff>s),(list of supported <kalive_idle>s)").unwrap();
    assert_eq!(l.prefix.as_deref(), Some("+QICFG"));
    assert_eq!(names(&l.args), vec!["kalive_onoff", "kalive_idle"]);
    let w = parse_line("+QGETWIFISTATE: ssid=<SSID>,bssid=<BSSID>").unwrap();
    assert_eq!(names(&w.args), vec!["SSID", "BSSID"]);
    let d = parse_line("<data>").unwrap();
    assert_eq!(d.prefix, None);
    let n = parse_line("+QNTP: \"<server>\"[,<port>]").unwrap();
    assert_eq!(names(&n.args), vec!["server", "port"]);
}

#[test]
fn reports_errors_with_offsets() {
    let e = parse_command("AT+QX=<a>[,<b>").unwrap_err();
    assert!(e.message.contains("never closed"), "{e:?}");
    assert_eq!(e.offset, 9);
    assert!(parse_command("AT+QX=<a>,,<b>").is_err());
    assert!(parse_command("AT+QX=<a").is_err());
    assert!(parse_command("AT+QX=").is_err());
    assert!(parse_command("QX").is_err());
    assert!(parse_command("AT+QX=<a>[,..]").is_err());
    assert!(parse_line("+QX: <a>]").is_err());
}
