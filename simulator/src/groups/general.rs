//! General commands: version, echo, IP information, baud rate, OTA, MAC,
//! low-power modes, URC pin.

use std::time::Duration;

use fcm242d::generated::commands::{qcfg, qgetip, qsclk, qsetband, qversion, qwlmac, AnyCommand};
use fcm242d::generated::urcs::{qotastat, Qotastat};
use fcm242d::value::{HexAddr, Int};

use crate::groups::line;
use crate::reply::Reply;
use crate::state::State;
use crate::world::World;

/// When each event of an OTA upgrade comes, after `OK`.
const OTA_START: Duration = Duration::from_millis(50);
/// The first `"DOWNLOADING"`, and the time between two.
const OTA_STEP: Duration = Duration::from_millis(100);
/// `"DOWNLOADING"` events of a successful download.
const OTA_PROGRESS: u32 = 3;

/// `AT+QWLANOTA=<URL>`: `OK`, then `+QOTASTAT: "START_DOWNLOAD"` and
/// either `"DOWNLOADING"` (a few times) and `"DOWNLOAD_SUCCEED"`, or
/// `"DOWNLOAD_FAILED"` (errata OTA-1). The download succeeds when the
/// station is connected and the URL names a firmware image of one of the
/// world's web servers ([`crate::services::web::has_firmware`]); a URL the
/// module cannot read at all gets `ERROR`. The new firmware takes effect
/// at the next restart, which the host decides (`AT+QRST`); the simulated
/// module keeps its version.
fn ota(url: &str, state: &State, world: &World, now: std::time::Instant) -> Reply {
    use crate::world::{Protocol, Service};
    let Ok(url) = crate::groups::http::url::parse(url) else {
        return Reply::error();
    };
    let found = state.wifi.has_ip(now)
        && crate::groups::network::resolve(&url.host, world)
            .and_then(|a| a.first().copied())
            .and_then(|ip| world.endpoint(ip, url.port, Protocol::Tcp))
            .is_some_and(|e| match e.service {
                Service::Http => !url.secure,
                Service::Https { .. } => url.secure,
                _ => false,
            })
        && crate::services::web::has_firmware(url.target.split('?').next().unwrap_or(""));
    let urc = |event| line(Qotastat { event });
    let mut reply = Reply::ok().with_urc(OTA_START, urc(qotastat::Event::Started));
    if !found {
        return reply.with_urc(OTA_START + OTA_STEP, urc(qotastat::Event::Failed));
    }
    for n in 1..=OTA_PROGRESS {
        reply = reply.with_urc(OTA_START + OTA_STEP * n, urc(qotastat::Event::Downloading));
    }
    reply.with_urc(
        OTA_START + OTA_STEP * (OTA_PROGRESS + 1),
        urc(qotastat::Event::Succeeded),
    )
}

fn ipv4(s: &str) -> core::net::Ipv4Addr {
    s.parse().unwrap_or(core::net::Ipv4Addr::UNSPECIFIED)
}

/// The general group's answer, if `cmd` is one of its commands.
pub fn handle(cmd: &AnyCommand, state: &mut State, world: &World) -> Option<Reply> {
    handle_at(cmd, state, world, std::time::Instant::now())
}

/// [`handle`] at `now` on the module's clock.
pub fn handle_at(
    cmd: &AnyCommand,
    state: &mut State,
    world: &World,
    now: std::time::Instant,
) -> Option<Reply> {
    Some(match cmd {
        AnyCommand::AtExecute(_) | AnyCommand::QrstExecute(_) => Reply::ok(),
        AnyCommand::QversionExecute(_) => Reply::lines(vec![line(qversion::ExecuteLine {
            version: world.firmware.clone(),
        })]),
        AnyCommand::QechoWrite(w) => {
            state.general.echo = w.enable.wire() == 1;
            Reply::ok()
        }
        AnyCommand::QwlmacExecute(_) => match HexAddr::new(world.mac.clone()) {
            Ok(mac) => Reply::lines(vec![line(qwlmac::ExecuteLine { mac })]),
            Err(_) => Reply::error(),
        },
        AnyCommand::QgetipWrite(w) => {
            let addresses = match w.mode {
                qgetip::Mode::Station => state.wifi.station.as_ref().and_then(|ssid| {
                    if let Some(s) = &state.wifi.station_static {
                        return Some([s[0].clone(), s[2].clone(), s[1].clone(), s[3].clone()]);
                    }
                    let ap = world.access_points.iter().find(|a| &a.ssid == ssid)?;
                    Some([
                        ap.ip.clone(),
                        ap.gateway.clone(),
                        ap.mask.clone(),
                        ap.dns.clone(),
                    ])
                }),
                qgetip::Mode::Ap => {
                    state
                        .wifi
                        .soft_ap
                        .as_ref()
                        .map(|_| match &state.wifi.ap_static {
                            Some(s) => [s[0].clone(), s[2].clone(), s[1].clone(), s[3].clone()],
                            None => [
                                "192.168.4.1".into(),
                                "0.0.0.0".into(),
                                "255.255.255.0".into(),
                                "192.168.4.1".into(),
                            ],
                        })
                }
            };
            match addresses {
                Some([ip, gate, mask, dns]) => Reply::lines(vec![line(qgetip::WriteLine {
                    ip: ipv4(&ip),
                    gate: ipv4(&gate),
                    mask: ipv4(&mask),
                    dns: ipv4(&dns),
                })]),
                None => Reply::error(),
            }
        }
        AnyCommand::QsetbandWrite(w) => {
            state.general.baud_rate = w.baud_rate.get();
            if w.save == qsetband::Save::Saved {
                state.saved.baud_rate = Some(w.baud_rate.get());
            }
            Reply::ok()
        }
        AnyCommand::QsetbandRead(_) => match Int::new(state.general.baud_rate) {
            Ok(baud_rate) => Reply::lines(vec![line(qsetband::ReadLine { baud_rate })]),
            Err(_) => Reply::error(),
        },
        AnyCommand::QwlanotaWrite(w) => ota(w.url.as_str(), state, world, now),
        AnyCommand::QsclkRead(_) => {
            let (mode, dtim) = state.general.sleep_mode;
            let mode = qsclk::Mode::from_wire(&mode.to_string()).unwrap_or(qsclk::Mode::Disabled);
            let dtim = dtim.and_then(|d| Int::new(d).ok());
            Reply::lines(vec![line(qsclk::ReadLine { mode, dtim })])
        }
        AnyCommand::QsclkWrite(w) => {
            state.general.sleep_mode = (w.mode.wire(), w.dtim.map(|d| d.get()));
            Reply::ok()
        }
        AnyCommand::QcfgUrcPin(w) => match &w.enable_group {
            None => {
                let (enable, pulse) = state.general.urc_pin;
                let enable =
                    qcfg::Enable::from_wire(&enable.to_string()).unwrap_or(qcfg::Enable::Disabled);
                Reply::lines(vec![line(qcfg::UrcPinLine {
                    enable,
                    pulse: Int::new(pulse).ok(),
                })])
            }
            Some(g) => {
                let pulse = g.pulse.map(|p| p.get()).unwrap_or(state.general.urc_pin.1);
                state.general.urc_pin = (g.enable.wire(), pulse);
                Reply::ok()
            }
        },
        _ => return None,
    })
}
