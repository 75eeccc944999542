//! Set-up and tear-down of the catalogue's preconditions: for each state a
//! command sequence that reaches it (using the [`Env`]), and one that
//! leaves it. A state the runner cannot reach makes the case a skip with
//! the reason, never a failure.

use std::time::Duration;

use crate::case::ConnectData;
use crate::env::Env;
use crate::link::Link;

/// One step of a set-up: a line, and the URC that ends it (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The command line.
    pub line: String,
    /// A URC family label that must follow `OK` (`+QIOPEN`).
    pub then_urc: Option<&'static str>,
    /// The module chooses the object's id and reports it in the answer's
    /// information line (`+QFOPEN: <filehandle>`).
    pub yields_id: bool,
}

fn step(line: String) -> Step {
    Step {
        line,
        then_urc: None,
        yields_id: false,
    }
}

fn step_urc(line: String, urc: &'static str) -> Step {
    Step {
        line,
        then_urc: Some(urc),
        yields_id: false,
    }
}

/// The steps that reach `state` for the object `value` names (including the
/// states it builds on), and the steps that undo it; `None` when the runner
/// has no recipe.
pub fn recipe(state: &str, value: Option<&str>, env: &Env) -> Option<(Vec<Step>, Vec<Step>)> {
    let id = value.unwrap_or("0");
    let get = |k: &str| env.value(k).unwrap_or_default().to_string();
    // DHCP on first: a case may have left a static configuration. Joining
    // while joined first reports "WLAN_DISCONNECTED" and the network is the
    // module's only once it reports its address, so the join ends at GOT_IP.
    let wifi = || {
        step_urc(
            format!(
                "AT+QSTAAPINFO=\"{}\",\"{}\"",
                get("wifi_ssid"),
                get("wifi_key")
            ),
            "+QSTASTAT: \"GOT_IP\"",
        )
    };
    let dhcp = || step("AT+QSTADHCP=1".into());
    let (tcp_host, tcp_port) = Env::split(&get("tcp_echo"));
    let (tls_host, tls_port) = Env::split(&get("tls_echo"));
    let (mqtt_host, mqtt_port) = Env::split(&get("mqtt_broker"));
    let http_url = get("http_url");
    let peripheral = || step("AT+QBLEINIT=2".into());
    let ble_off = || step("AT+QBLEINIT=0".into());
    Some(match state {
        "wifi_sta_connected" => (vec![dhcp(), wifi()], vec![]),
        "wifi_ap_up" => (
            vec![step("AT+QSOFTAP=\"conformance-ap\",\"12345678\"".into())],
            vec![],
        ),
        "socket_open" => (
            vec![
                dhcp(),
                wifi(),
                step_urc(
                    format!("AT+QIOPEN={id},\"TCP\",\"{tcp_host}\",{tcp_port},0,0"),
                    "+QIOPEN",
                ),
            ],
            vec![step(format!("AT+QICLOSE={id}"))],
        ),
        "socket_listening" => (
            vec![
                dhcp(),
                wifi(),
                step_urc(
                    format!("AT+QIOPEN={id},\"TCP LISTENER\",\"127.0.0.1\",0,40{id:0>2},0"),
                    "+QIOPEN",
                ),
            ],
            vec![step(format!("AT+QICLOSE={id}"))],
        ),
        "ssl_open" => (
            vec![
                dhcp(),
                wifi(),
                step_urc(
                    format!("AT+QSSLOPEN=1,{id},\"{tls_host}\",{tls_port},0"),
                    "+QSSLOPEN",
                ),
            ],
            vec![step(format!("AT+QSSLCLOSE={id}"))],
        ),
        "mqtt_opened" => (
            vec![
                dhcp(),
                wifi(),
                step_urc(
                    format!("AT+QMTOPEN={id},\"{mqtt_host}\",{mqtt_port}"),
                    "+QMTOPEN",
                ),
            ],
            vec![step_urc(format!("AT+QMTCLOSE={id}"), "+QMTCLOSE")],
        ),
        "mqtt_connected" => (
            vec![
                dhcp(),
                wifi(),
                step_urc(
                    format!("AT+QMTOPEN={id},\"{mqtt_host}\",{mqtt_port}"),
                    "+QMTOPEN",
                ),
                step_urc(format!("AT+QMTCONN={id},\"conformance{id}\""), "+QMTCONN"),
            ],
            vec![step_urc(format!("AT+QMTDISC={id}"), "+QMTDISC")],
        ),
        "file_open" => (
            vec![Step {
                yields_id: true,
                ..step("AT+QFOPEN=\"conformance.txt\"".into())
            }],
            vec![step(format!("AT+QFCLOSE={id}"))],
        ),
        "http_url_set" => (
            vec![
                dhcp(),
                wifi(),
                step(format!("AT+QHTTPCFG=\"url\",\"{http_url}\"")),
            ],
            vec![],
        ),
        "http_response_ready" => (
            vec![
                dhcp(),
                wifi(),
                step(format!("AT+QHTTPCFG=\"url\",\"{http_url}\"")),
                step_urc("AT+QHTTPGET=60".into(), "+QHTTPGET"),
            ],
            vec![],
        ),
        "ble_initialized" | "ble_peripheral" => (vec![peripheral()], vec![ble_off()]),
        "ble_central" => (vec![step("AT+QBLEINIT=1".into())], vec![ble_off()]),
        "ble_service_created" => (
            vec![peripheral(), step("AT+QBLEGATTSSRV=\"FFF1\"".into())],
            vec![ble_off()],
        ),
        "ble_characteristic_added" => (
            vec![
                peripheral(),
                step("AT+QBLEGATTSSRV=\"FFF1\"".into()),
                step("AT+QBLEGATTSCHAR=\"FFF2\"".into()),
            ],
            vec![ble_off()],
        ),
        "ble_service_done" | "ble_advertising" => {
            let mut s = vec![
                peripheral(),
                step("AT+QBLEGATTSSRV=\"FFF1\"".into()),
                step("AT+QBLEGATTSCHAR=\"FFF2\"".into()),
                step("AT+QBLEGATTSSRVDONE".into()),
            ];
            if state == "ble_advertising" {
                s.push(step("AT+QBLEADVSTART".into()));
            }
            (s, vec![ble_off()])
        }
        "ble_connected" => (
            vec![
                step("AT+QBLEINIT=1".into()),
                step_urc(
                    format!(
                        "AT+QBLECONN={},\"{}\"",
                        get("ble_peer_type"),
                        get("ble_peer")
                    ),
                    "+QBLESTAT",
                ),
            ],
            vec![ble_off()],
        ),
        _ => return None,
    })
}

/// Runs `steps`; `Err` names the step that failed. Returns the id the
/// module chose, when a step reports one.
pub fn run(link: &mut Link, steps: &[Step]) -> Result<Option<String>, String> {
    let mut obtained = None;
    for s in steps {
        link.send_line(&s.line, ConnectData::None, false);
        let a = link.answer(link.now() + Duration::from_secs(20));
        match a.result.as_deref() {
            Some("OK") => {
                if s.yields_id {
                    obtained = a
                        .lines
                        .iter()
                        .find_map(|l| l.split_once(": ").map(|(_, v)| v.trim().to_string()));
                }
            }
            Some(other) => return Err(format!("`{}` answered {other}", s.line)),
            None => return Err(format!("`{}` got no final result", s.line)),
        }
        if let Some(urc) = s.then_urc {
            let mut others = Vec::new();
            // The URC may already be among the answer's URCs.
            let got = match a.urcs.iter().find(|u| u.starts_with(urc)) {
                Some(u) => Some(u.clone()),
                None => link.wait_urc(urc, link.now() + Duration::from_secs(20), &mut others),
            };
            let Some(got) = got else {
                return Err(format!(
                    "{MISSING_URC}`{}` answered OK but no {urc} followed",
                    s.line
                ));
            };
            if !completion_succeeded(&got) {
                return Err(format!("`{}` ended with `{got}`", s.line));
            }
        }
    }
    Ok(obtained)
}

/// Marks a set-up failure that is the module's fault whatever the
/// environment: a command accepted without the URC the manual promises.
pub const MISSING_URC: &str = "missing URC: ";

/// Whether a completion URC reports success: its result field (the second
/// for `+QIOPEN: <id>,<err>`, `+QMTOPEN: <idx>,<result>`, `+QMTCONN:
/// <idx>,<result>,…`; the first for `+QHTTPGET: <err>,…`) is 0. State
/// reports (`+QSTASTAT`, `+QBLESTAT`) carry no result field.
fn completion_succeeded(urc: &str) -> bool {
    let Some((prefix, rest)) = urc.split_once(": ") else {
        return true;
    };
    let fields: Vec<&str> = rest.split(',').map(str::trim).collect();
    let result = match prefix {
        "+QSTASTAT" | "+QBLESTAT" => return true,
        "+QHTTPGET" | "+QHTTPPOST" | "+QHTTPPUT" => fields.first(),
        _ => fields.get(1),
    };
    result.is_none_or(|r| *r == "0")
}

/// Runs tear-down steps, ignoring their results (best effort).
pub fn undo(link: &mut Link, steps: &[Step]) {
    for s in steps {
        link.send_line(&s.line, ConnectData::None, false);
        let a = link.answer(link.now() + Duration::from_secs(10));
        if a.result.as_deref() != Some("OK") {
            continue;
        }
        if let Some(urc) = s.then_urc {
            let _ = link.wait_urc(urc, link.now() + Duration::from_secs(5), &mut Vec::new());
        }
    }
}
