//! The `serde` feature: generated types (URCs, commands, lines, enums,
//! result codes) and the value types serialise, values as plain numbers
//! and strings.

use fcm242d::generated::commands::{qiopen, qstaapinfo};
use fcm242d::generated::urcs::Urc;
use fcm242d::value::{Int, Text};

#[test]
fn a_urc_serialises_with_its_values_plain() {
    let urc = Urc::parse("+QIOPEN: 1,0").unwrap().unwrap();
    let json = serde_json::to_value(&urc).unwrap();
    let fields = &json["Qiopen"];
    assert_eq!(fields["connect_id"], 1, "{json}");
    assert!(!fields["err"].is_null(), "{json}");
}

#[test]
fn a_command_serialises() {
    let open = qiopen::Write {
        connect_id: Int::lit::<2>(),
        service_type: qiopen::ServiceType::Tcp,
        ip_address_or_domain_name: qiopen::WriteIpAddressOrDomainName::IpAddress(
            "192.0.2.2".parse().unwrap(),
        ),
        remote_port: Int::lit::<8009>(),
        local_port_group: None,
    };
    let json = serde_json::to_value(&open).unwrap();
    assert_eq!(json["connect_id"], 2, "{json}");
    assert_eq!(json["remote_port"], 8009, "{json}");
    assert_eq!(json["service_type"], "Tcp", "{json}");
    let join = qstaapinfo::Write {
        ssid: Text::new("home").unwrap(),
        pwd: None,
    };
    assert_eq!(
        serde_json::to_string(&join).unwrap(),
        r#"{"ssid":"home","pwd":null}"#
    );
}
