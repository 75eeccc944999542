//! Wi-Fi commands: STA mode (joining the world's access points, DHCP or
//! static addresses, saved hotspot), AP mode, scanning, DNS servers, and the
//! Web / AirKiss configuration switches.
//!
//! Decisions the manual leaves open (each documented where it is made):
//! - STA mode is "STATION_UP" while the module is joined to an access point;
//!   a join that fails leaves it "STATION_DOWN".
//! - The state changes when the command is answered; the `+QSTASTAT` /
//!   `+QAPSTAT` URCs that report the change follow a little later, as on the
//!   module (all those of one command together, see `STA_EVENT`).
//! - Joining while joined first leaves the current network
//!   (`"WLAN_DISCONNECTED"`), and so does `AT+QSTASTOP`.
//! - Stopping a mode that is already down answers `OK` with no URC.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use fcm242d::generated::commands::{
    qapstate, qgetwifistate, qidnscfg, qstadhcp, qstast, qwscan, AnyCommand,
};
use fcm242d::generated::urcs::{qapstat, qstastat, Qapstat, Qstastat};

use crate::groups::line;
use crate::reply::Reply;
use crate::state::State;
use crate::world::{AccessPoint, World};

/// Delay of every `+QSTASTAT` URC after the command that causes it.
///
/// All the URCs of one command share this delay (and are printed in order):
/// the handler cannot withdraw URCs already scheduled, so with one delay for
/// all, the URCs of two commands sent in quick succession (a join, then a
/// stop) can never interleave and leave the host with the wrong picture.
const STA_EVENT: Duration = Duration::from_millis(100);
/// Delay of `+QAPSTAT: "AP_UP"` / `"AP_DOWN"` (one delay, for the same reason).
const AP_EVENT: Duration = Duration::from_millis(100);

const UNSPECIFIED: &str = "0.0.0.0";

fn sta_urc(event: qstastat::Event) -> String {
    line(Qstastat { event })
}

fn ap_urc(event: qapstat::Event) -> String {
    line(Qapstat { event })
}

fn ipv4(s: &str) -> Ipv4Addr {
    s.parse().unwrap_or(Ipv4Addr::UNSPECIFIED)
}

/// Whether `mask` is a subnet mask (ones then zeros, not all zeros).
fn is_mask(mask: Ipv4Addr) -> bool {
    let m = u32::from(mask);
    m != 0 && m.leading_ones() + m.trailing_zeros() == 32
}

/// Whether `ip` can be an interface's address in the subnet `mask`: not
/// 0.0.0.0, broadcast, multicast or loopback, and (for subnets with room
/// for them) neither the subnet's own address nor its broadcast address.
fn is_host(ip: Ipv4Addr, mask: Ipv4Addr) -> bool {
    if ip.is_unspecified() || ip.is_broadcast() || ip.is_multicast() || ip.is_loopback() {
        return false;
    }
    let (a, m) = (u32::from(ip), u32::from(mask));
    // /31 and /32 subnets have no subnet or broadcast address to avoid.
    m.count_ones() >= 31 || (a & !m != 0 && a | m != u32::MAX)
}

/// Whether `ip` can name a gateway or DNS server (0.0.0.0 means "none").
fn is_server(ip: Ipv4Addr) -> bool {
    !ip.is_broadcast() && !ip.is_multicast()
}

/// A static configuration (IP, mask, gateway, DNS) the module accepts, as
/// the state stores it; `None` when the module answers `ERROR`.
fn static_config(
    ip: Ipv4Addr,
    mask: Ipv4Addr,
    gate: Ipv4Addr,
    dns: Ipv4Addr,
) -> Option<[String; 4]> {
    (is_mask(mask) && is_host(ip, mask) && is_server(gate) && is_server(dns))
        .then(|| [ip, mask, gate, dns].map(|a| a.to_string()))
}

/// Whether the station has an address once joined: by DHCP, or a static
/// address other than 0.0.0.0.
fn has_address(state: &State) -> bool {
    match &state.wifi.station_static {
        Some(s) => ipv4(&s[0]) != Ipv4Addr::UNSPECIFIED,
        None => state.wifi.dhcp,
    }
}

/// Takes the primary DNS server from the network (or the static
/// configuration) unless the host set the servers with `AT+QIDNSCFG`.
fn adopt_dns(state: &mut State, ap: &AccessPoint) {
    if state.wifi.dns_configured {
        return;
    }
    let primary = match &state.wifi.station_static {
        Some(s) => s[3].clone(),
        None => ap.dns.clone(),
    };
    state.wifi.dns = (primary, UNSPECIFIED.into());
}

/// The joined access point of the world.
fn joined<'w>(state: &State, world: &'w World) -> Option<&'w AccessPoint> {
    let ssid = state.wifi.station.as_ref()?;
    world.access_points.iter().find(|a| &a.ssid == ssid)
}

/// Joins `ssid` with `pwd` (leaving the current network first) and returns
/// the `+QSTASTAT` URCs that report it, with their delays, and whether the
/// join succeeds. The key must be exactly the access point's: an open
/// access point takes no key, a protected one its own.
fn join(
    state: &mut State,
    world: &World,
    ssid: &str,
    pwd: Option<&str>,
    now: Instant,
) -> (bool, Vec<(Duration, String)>) {
    let mut urcs = Vec::new();
    if state.wifi.station.take().is_some() {
        urcs.push((STA_EVENT, sta_urc(qstastat::Event::Disconnected)));
    }
    let mut candidates = world
        .access_points
        .iter()
        .filter(|a| a.ssid == ssid)
        .peekable();
    if candidates.peek().is_none() {
        urcs.push((STA_EVENT, sta_urc(qstastat::Event::NoApFound)));
        return (false, urcs);
    }
    let Some(ap) = candidates.find(|a| a.key.as_deref() == pwd) else {
        // Errata URC-1: the wire value is WLAN_DISCONNECTED (underscore).
        urcs.push((STA_EVENT, sta_urc(qstastat::Event::Disconnected)));
        return (false, urcs);
    };
    state.wifi.station = Some(ap.ssid.clone());
    urcs.push((STA_EVENT, sta_urc(qstastat::Event::Connected)));
    // The network is the module's once it reports its address.
    state.wifi.ip_from = Some(now + STA_EVENT);
    if has_address(state) {
        urcs.push((STA_EVENT, sta_urc(qstastat::Event::GotIp)));
        adopt_dns(state, ap);
    }
    (true, urcs)
}

fn with_urcs(mut reply: Reply, urcs: Vec<(Duration, String)>) -> Reply {
    reply.urcs.extend(urcs);
    reply
}

/// Joins the hotspot saved with `AT+QSTAAPINFODEF` again, as the module
/// does after a reboot, and returns the `+QSTASTAT` URCs to print (with
/// their delays from the restart). Does nothing when no hotspot is saved.
///
/// The reboot itself (`State::rebooted`, `AT+QRST` in the module) is outside
/// this group; call this on the rebooted state to model the automatic join.
pub fn rejoin_saved(state: &mut State, world: &World) -> Vec<(Duration, String)> {
    rejoin_saved_at(state, world, Instant::now())
}

/// [`rejoin_saved`] with the URCs' delays counted from `now`.
pub fn rejoin_saved_at(state: &mut State, world: &World, now: Instant) -> Vec<(Duration, String)> {
    match state.saved.hotspot.clone() {
        Some((ssid, pwd)) => join(state, world, &ssid, pwd.as_deref(), now).1,
        None => Vec::new(),
    }
}

/// The Wi-Fi group's answer, if `cmd` is one of its commands.
pub fn handle(cmd: &AnyCommand, state: &mut State, world: &World) -> Option<Reply> {
    handle_at(cmd, state, world, Instant::now())
}

/// [`handle`] at `now` on the module's clock (a join gives the station its
/// address when `+QSTASTAT: "GOT_IP"` is printed).
pub fn handle_at(
    cmd: &AnyCommand,
    state: &mut State,
    world: &World,
    now: Instant,
) -> Option<Reply> {
    Some(match cmd {
        AnyCommand::QstastExecute(_) => {
            let state = if state.wifi.station.is_some() {
                qstast::State::Up
            } else {
                qstast::State::Down
            };
            Reply::lines(vec![line(qstast::ExecuteLine { state })])
        }
        AnyCommand::QstadhcpRead(_) => {
            let enable = if state.wifi.dhcp {
                qstadhcp::Enable::Enable
            } else {
                qstadhcp::Enable::Disable
            };
            Reply::lines(vec![line(qstadhcp::ReadLine { enable })])
        }
        AnyCommand::QstadhcpWrite(w) => match w.enable {
            qstadhcp::Enable::Enable if !state.wifi.dhcp => {
                state.wifi.dhcp = true;
                state.wifi.station_static = None;
                // A joined station asks the network for a lease at once.
                match joined(state, world).cloned() {
                    Some(ap) => {
                        adopt_dns(state, &ap);
                        state.wifi.ip_from = Some(now + STA_EVENT);
                        Reply::ok().with_urc(STA_EVENT, sta_urc(qstastat::Event::GotIp))
                    }
                    None => Reply::ok(),
                }
            }
            qstadhcp::Enable::Disable if state.wifi.dhcp => {
                // Without DHCP and before AT+QSTASTATIC the station has no
                // address: QGETIP then reports 0.0.0.0.
                state.wifi.dhcp = false;
                state.wifi.station_static = Some([UNSPECIFIED; 4].map(String::from));
                Reply::ok()
            }
            _ => Reply::ok(),
        },
        AnyCommand::QstastaticWrite(w) => match static_config(w.ip, w.mask, w.gate, w.dns) {
            Some(config) => {
                // A static address replaces DHCP (QSTADHCP? then reads 0).
                state.wifi.dhcp = false;
                if !state.wifi.dns_configured {
                    state.wifi.dns = (config[3].clone(), UNSPECIFIED.into());
                }
                state.wifi.station_static = Some(config);
                Reply::ok()
            }
            None => Reply::error(),
        },
        AnyCommand::QstastopExecute(_) => {
            if state.wifi.station.take().is_some() {
                Reply::ok().with_urc(STA_EVENT, sta_urc(qstastat::Event::Disconnected))
            } else {
                Reply::ok()
            }
        }
        AnyCommand::QsoftapWrite(w) => {
            // The parser already enforced the SSID's 1..32 and the key's
            // 8..63 bytes; an AP that is up restarts with the new settings.
            state.wifi.soft_ap = Some((
                w.ssid.as_str().to_string(),
                w.key.as_ref().map(|k| k.as_str().to_string()),
            ));
            Reply::ok().with_urc(AP_EVENT, ap_urc(qapstat::Event::Up))
        }
        AnyCommand::QapstateExecute(_) => {
            let state = if state.wifi.soft_ap.is_some() {
                qapstate::State::Up
            } else {
                qapstate::State::Down
            };
            Reply::lines(vec![line(qapstate::ExecuteLine { state })])
        }
        AnyCommand::QapstaticWrite(w) => match static_config(w.ip, w.mask, w.gate, w.dns) {
            Some(config) => {
                state.wifi.ap_static = Some(config);
                Reply::ok()
            }
            None => Reply::error(),
        },
        AnyCommand::QsoftapstopExecute(_) => {
            if state.wifi.soft_ap.take().is_some() {
                Reply::ok().with_urc(AP_EVENT, ap_urc(qapstat::Event::Down))
            } else {
                Reply::ok()
            }
        }
        AnyCommand::QstaapinfoWrite(w) => {
            let pwd = w.pwd.as_ref().map(|p| p.as_str());
            let (_, urcs) = join(state, world, w.ssid.as_str(), pwd, now);
            with_urcs(Reply::ok(), urcs)
        }
        AnyCommand::QstaapinfodefWrite(w) => {
            let pwd = w.pwd.as_ref().map(|p| p.as_str());
            let (joined, urcs) = join(state, world, w.ssid.as_str(), pwd, now);
            // "Saves the connected hotspot information": only a hotspot
            // the module could join is saved.
            if joined {
                state.saved.hotspot = Some((w.ssid.as_str().to_string(), pwd.map(String::from)));
            }
            with_urcs(Reply::ok(), urcs)
        }
        AnyCommand::QgetwifistateExecute(_) => match joined(state, world) {
            Some(ap) => Reply::lines(vec![line(qgetwifistate::ExecuteLine {
                ssid: ap.ssid.clone(),
                bssid: ap.bssid.clone(),
                rssi: ap.rssi,
                psk_type: ap.psk_type.clone(),
            })]),
            // "Queries the connected hotspot when the module is in STA mode."
            None => Reply::error(),
        },
        AnyCommand::QwscanExecute(_) => {
            // The radio scans whether or not the station is joined; the
            // strongest access points come first, as in a real scan list.
            let mut aps: Vec<&AccessPoint> = world.access_points.iter().collect();
            aps.sort_by_key(|a| std::cmp::Reverse(a.rssi));
            Reply::lines(
                aps.into_iter()
                    .map(|a| {
                        line(qwscan::ExecuteLine {
                            ssid: a.ssid.clone(),
                            psk_type: a.psk_type.clone(),
                            rssi: a.rssi,
                            bssid: a.bssid.clone(),
                            channel: a.channel,
                        })
                    })
                    .collect(),
            )
        }
        AnyCommand::QidnscfgRead(_) => Reply::lines(vec![line(qidnscfg::ReadLine {
            pridnsaddr: ipv4(&state.wifi.dns.0),
            secdnsaddr: ipv4(&state.wifi.dns.1),
        })]),
        AnyCommand::QidnscfgWrite(w) => {
            let secondary = w
                .secdnsaddr
                .map(|s| s.to_string())
                // Leaving out <secdnsaddr> keeps the current secondary server.
                .unwrap_or_else(|| state.wifi.dns.1.clone());
            if !is_server(w.pridnsaddr) || !is_server(ipv4(&secondary)) {
                return Some(Reply::error());
            }
            state.wifi.dns = (w.pridnsaddr.to_string(), secondary);
            state.wifi.dns_configured = true;
            Reply::ok()
        }
        AnyCommand::QwebcfgWrite(w) => {
            state.wifi.web_config = w.enable.wire();
            Reply::ok()
        }
        AnyCommand::QstaapinformvExecute(_) => {
            state.saved.hotspot = None;
            Reply::ok()
        }
        AnyCommand::QairkissWrite(w) => {
            state.wifi.airkiss = w.enable.wire();
            Reply::ok()
        }
        _ => return None,
    })
}
