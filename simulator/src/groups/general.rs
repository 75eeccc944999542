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

fn ipv4(s: &str) -> core::net::Ipv4Addr {
    s.parse().unwrap_or(core::net::Ipv4Addr::UNSPECIFIED)
}

/// The general group's answer, if `cmd` is one of its commands.
pub fn handle(cmd: &AnyCommand, state: &mut State, world: &World) -> Option<Reply> {
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
        AnyCommand::QwlanotaWrite(_) => {
            // The embedded world has no firmware server: the download fails.
            let urc = |event| line(Qotastat { event });
            Reply::ok()
                .with_urc(
                    Duration::from_millis(50),
                    urc(qotastat::Event::StartDownload),
                )
                .with_urc(
                    Duration::from_millis(150),
                    urc(qotastat::Event::DownloadFailed),
                )
        }
        AnyCommand::QsclkRead(_) => {
            let (mode, dtim) = state.general.sleep_mode;
            let mode = qsclk::Mode::from_wire(&mode.to_string())
                .unwrap_or(qsclk::Mode::DisableLowPowerMode);
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
