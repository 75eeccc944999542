//! The network group: DNS lookups (`AT+QIDNSGIP`), PING (`AT+QPING`) and
//! NTP (`AT+QNTP`), all answered from the world rather than the real network.
//!
//! # The simulated network
//!
//! The world's hosts table is the whole Internet the module can reach: a name
//! resolves only if the table lists it (case-insensitively, a trailing dot
//! ignored), to its IPv4 addresses; a dotted-decimal address stands for
//! itself. An address *answers* (PING, NTP) when it is a hosts-table
//! address, or the module's own address, gateway or DNS server on the joined
//! network; any other address never answers.
//!
//! Every command needs the station to be connected ("the host should first
//! connect to a Wi-Fi network"). Without it the command is refused at once
//! with `ERROR` (the manual's failure response) and `AT+QIGETERROR` then
//! reports 569 "Operation not allowed": the module has no network interface
//! to send the query on, so no DNS/PING/NTP exchange (and no URC) happens.
//! Failures found on the network (an unknown name, a silent address) come
//! after `OK`, in the command's URC, as they would on a module that resolves
//! names asynchronously.
//!
//! # Simulated values (deterministic)
//!
//! - DNS: `<DNS_ttl>` is [`DNS_TTL`] seconds for a name from the hosts table
//!   and 0 for a dotted-decimal address (nothing was looked up). The URCs come
//!   [`DNS_DELAY`] after `OK`; an unknown name gives
//!   `+QIURC: "dnsgip",563,0,0` (563 "DNS failed"; `<IP_count>` and
//!   `<DNS_ttl>` are 0 because the catalogue's grammar has all three fields).
//! - PING: each request carries [`PING_BYTES`] bytes. The reply time of
//!   request *k* (from 0) is a base plus `[0, 3, 1, 4, 2][k % 5]` ms; base and
//!   TTL depend on the target: the module's own address 1 ms / TTL 255, the
//!   joined network's gateway or DNS server 3 ms / TTL 64, other hosts 20 ms /
//!   TTL 52. Requests go back to back: each reply URC is printed when its
//!   reply arrives, the final URC 1 ms after the last one. A target that does
//!   not answer gives `+QPING: 567` (Operation timeout) after `<timeout>`
//!   seconds per request, and a final `+QPING: 0,<n>,0,<n>,0,0,0` (the host
//!   was found; every request was lost). A name that does not resolve gives
//!   the final `+QPING: 563` alone.
//! - NTP: `<time>` is the host's clock in UTC, `"YY/MM/DD,hh:mm:ss+00"`. The
//!   URC comes 30 ms after `OK` (within the manual's 300 ms). The write form
//!   talks to `<server>` (any `<port>`: the world has no NTP configuration, so
//!   every answering host is taken to run the service); an unknown name gives
//!   `+QNTP: 563,<time>`, a silent address `+QNTP: 567,<time>` after 250 ms,
//!   with `<time>` the module's own (unsynchronised) clock. The execution
//!   form uses the firmware's default server, which the manual does not name;
//!   the simulator takes it to answer whenever the station is connected.
//!
//! `state.tcpip.last_error` is set by every command of the group to the
//! result code it ends with (0 on success), for `AT+QIGETERROR`.

use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fcm242d::generated::commands::AnyCommand;
use fcm242d::generated::results::TcpipCode;
use fcm242d::generated::urcs::{
    qping_final, qping_reply, QiurcDnsgipAddress, QiurcDnsgipResult, Qntp, QpingFinal, QpingReply,
};

use crate::groups::line;
use crate::reply::Reply;
use crate::state::State;
use crate::world::World;

/// `<DNS_ttl>` reported for a name of the hosts table (seconds).
pub const DNS_TTL: i64 = 600;
/// Delay between `OK` and the DNS result URCs (and before a PING or NTP of a
/// name starts, which needs the same lookup).
pub const DNS_DELAY: Duration = Duration::from_millis(40);
/// Length of each ping request (bytes).
pub const PING_BYTES: i64 = 32;
/// Default `<timeout>` of `AT+QPING` (seconds).
pub const PING_TIMEOUT_DEFAULT: i64 = 4;
/// Default `<pingnum>` of `AT+QPING`.
pub const PING_COUNT_DEFAULT: i64 = 4;
/// The longest NTP server name (bytes).
const NTP_SERVER_MAX: usize = 50;
/// Delay between `OK` and a successful `+QNTP`.
const NTP_DELAY: Duration = Duration::from_millis(30);
/// Delay between `OK` and the `+QNTP` of a server that does not answer.
const NTP_TIMEOUT: Duration = Duration::from_millis(250);
/// Reply-time jitter added to the base, by request number.
const JITTER: [i64; 5] = [0, 3, 1, 4, 2];

/// How an address answers a ping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// The module's own address.
    Own,
    /// The joined network's gateway or DNS server.
    Lan,
    /// A host of the world's hosts table.
    Remote,
    /// Nothing answers.
    Silent,
}

impl Reach {
    /// Base reply time (ms) and TTL of the replies.
    fn profile(self) -> Option<(i64, i64)> {
        match self {
            Reach::Own => Some((1, 255)),
            Reach::Lan => Some((3, 64)),
            Reach::Remote => Some((20, 52)),
            Reach::Silent => None,
        }
    }
}

/// The group's answer, if `cmd` is one of its commands.
pub fn handle(cmd: &AnyCommand, state: &mut State, world: &World) -> Option<Reply> {
    handle_at(cmd, state, world, std::time::Instant::now())
}

/// [`handle`] at `now` on the module's clock (the station must have its
/// address by then).
pub fn handle_at(
    cmd: &AnyCommand,
    state: &mut State,
    world: &World,
    now: std::time::Instant,
) -> Option<Reply> {
    let own = matches!(
        cmd,
        AnyCommand::QidnsgipWrite(_)
            | AnyCommand::QpingWrite(_)
            | AnyCommand::QntpWrite(_)
            | AnyCommand::QntpExecute(_)
    );
    if own && !state.wifi.has_ip(now) {
        set_error(state, TcpipCode::NotAllowed);
        return Some(Reply::error());
    }
    Some(match cmd {
        AnyCommand::QidnsgipWrite(w) => dnsgip(w.hostname.as_str(), state, world),
        AnyCommand::QpingWrite(w) => {
            let timeout = w
                .timeout_group
                .as_ref()
                .map_or(PING_TIMEOUT_DEFAULT, |g| g.timeout.get());
            let count = w
                .timeout_group
                .as_ref()
                .and_then(|g| g.pingnum)
                .map_or(PING_COUNT_DEFAULT, |n| n.get());
            ping(w.host.as_str(), timeout, count, state, world)
        }
        AnyCommand::QntpWrite(w) => ntp(Some(w.server.as_str()), state, world, SystemTime::now()),
        AnyCommand::QntpExecute(_) => ntp(None, state, world, SystemTime::now()),
        _ => return None,
    })
}

/// Records the result code for `AT+QIGETERROR`.
fn set_error(state: &mut State, code: TcpipCode) {
    state.tcpip.last_error = (code.code(), code.description().to_string());
}

/// Refuses a command the module cannot run without a station connection.
fn not_connected(state: &mut State) -> Option<Reply> {
    if state.wifi.station.is_some() {
        return None;
    }
    set_error(state, TcpipCode::NotAllowed);
    Some(Reply::error())
}

/// Resolves `host` from the world: a dotted-decimal address stands for
/// itself; a name gives the IPv4 addresses of its hosts-table entry, or
/// `None` when the table does not list it (or lists no IPv4 address).
pub fn resolve(host: &str, world: &World) -> Option<Vec<Ipv4Addr>> {
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Some(vec![ip]);
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    let addresses: Vec<Ipv4Addr> = world
        .hosts
        .iter()
        .filter(|h| {
            h.name
                .strip_suffix('.')
                .unwrap_or(&h.name)
                .eq_ignore_ascii_case(name)
        })
        .flat_map(|h| h.addresses.iter().filter_map(|a| a.parse().ok()))
        .collect();
    (!addresses.is_empty()).then_some(addresses)
}

/// The joined network's addresses: (own, [gateway, DNS]).
fn station_addresses(state: &State, world: &World) -> Option<(Ipv4Addr, [Ipv4Addr; 2])> {
    let ssid = state.wifi.station.as_ref()?;
    let parse = |s: &str| s.parse::<Ipv4Addr>().ok();
    // A static configuration is [IP, mask, gateway, DNS].
    if let Some([ip, _mask, gateway, dns]) = &state.wifi.station_static {
        return Some((parse(ip)?, [parse(gateway)?, parse(dns)?]));
    }
    let ap = world.access_points.iter().find(|a| &a.ssid == ssid)?;
    Some((parse(&ap.ip)?, [parse(&ap.gateway)?, parse(&ap.dns)?]))
}

/// How `ip` answers, seen from the module in `state`.
pub fn reach(ip: Ipv4Addr, state: &State, world: &World) -> Reach {
    if let Some((own, lan)) = station_addresses(state, world) {
        if ip == own {
            return Reach::Own;
        }
        if lan.contains(&ip) {
            return Reach::Lan;
        }
    }
    let listed = world
        .hosts
        .iter()
        .flat_map(|h| h.addresses.iter())
        .any(|a| a.parse::<Ipv4Addr>().is_ok_and(|a| a == ip));
    if listed {
        Reach::Remote
    } else {
        Reach::Silent
    }
}

/// `AT+QIDNSGIP=<hostname>`.
pub fn dnsgip(hostname: &str, state: &mut State, world: &World) -> Reply {
    if let Some(refused) = not_connected(state) {
        return refused;
    }
    let literal = hostname.parse::<Ipv4Addr>().is_ok();
    let Some(addresses) = resolve(hostname, world) else {
        set_error(state, TcpipCode::DnsFailed);
        return Reply::ok().with_urc(
            DNS_DELAY,
            line(QiurcDnsgipResult {
                err: TcpipCode::DnsFailed,
                ip_count: 0,
                dns_ttl: 0,
            }),
        );
    };
    set_error(state, TcpipCode::Success);
    let mut reply = Reply::ok().with_urc(
        DNS_DELAY,
        line(QiurcDnsgipResult {
            err: TcpipCode::Success,
            ip_count: i64::try_from(addresses.len()).unwrap_or(i64::MAX),
            dns_ttl: if literal { 0 } else { DNS_TTL },
        }),
    );
    // One millisecond apart, so that they keep their order in any scheduler.
    let mut at = DNS_DELAY;
    for host_i_paddr in addresses {
        at += Duration::from_millis(1);
        reply = reply.with_urc(at, line(QiurcDnsgipAddress { host_i_paddr }));
    }
    reply
}

/// `AT+QPING=<host>,<timeout>,<pingnum>` (defaults filled in).
pub fn ping(host: &str, timeout: i64, count: i64, state: &mut State, world: &World) -> Reply {
    if let Some(refused) = not_connected(state) {
        return refused;
    }
    let lookup = if host.parse::<Ipv4Addr>().is_ok() {
        Duration::ZERO
    } else {
        DNS_DELAY
    };
    let Some(ip) = resolve(host, world).and_then(|a| a.first().copied()) else {
        set_error(state, TcpipCode::DnsFailed);
        return Reply::ok().with_urc(
            lookup,
            line(QpingFinal {
                finresult: qping_final::Finresult::Other(TcpipCode::DnsFailed.code()),
                sent_group: None,
            }),
        );
    };
    set_error(state, TcpipCode::Success);
    let profile = reach(ip, state, world).profile();
    let mut reply = Reply::ok();
    let mut at = lookup;
    let mut times = Vec::new();
    for k in 0..count.max(0) {
        let (wait, urc) = match profile {
            Some((base, ttl)) => {
                let jitter = usize::try_from(k)
                    .ok()
                    .and_then(|k| JITTER.get(k % JITTER.len()))
                    .copied()
                    .unwrap_or(0);
                let time = base + jitter;
                times.push(time);
                let urc = QpingReply {
                    ping_result: qping_reply::PingResult::Replied,
                    ip_address_group: Some(qping_reply::QpingReplyIpAddressGroup {
                        ip_address: ip,
                        bytes: PING_BYTES,
                        time,
                        ttl,
                    }),
                };
                (time, urc)
            }
            None => {
                let urc = QpingReply {
                    ping_result: qping_reply::PingResult::TimedOut,
                    ip_address_group: None,
                };
                (timeout.saturating_mul(1000), urc)
            }
        };
        at += Duration::from_millis(u64::try_from(wait).unwrap_or(0));
        reply = reply.with_urc(at, line(urc));
    }
    let rcvd = i64::try_from(times.len()).unwrap_or(0);
    let min = times.iter().copied().min().unwrap_or(0);
    let max = times.iter().copied().max().unwrap_or(0);
    let avg = if rcvd > 0 {
        times.iter().sum::<i64>() / rcvd
    } else {
        0
    };
    reply.with_urc(
        at + Duration::from_millis(1),
        line(QpingFinal {
            finresult: qping_final::Finresult::Success,
            sent_group: Some(qping_final::QpingFinalSentGroup {
                sent: count,
                rcvd,
                lost: count - rcvd,
                min,
                max,
                avg,
            }),
        }),
    )
}

/// `AT+QNTP=<server>[,<port>]` (`server` given) or `AT+QNTP` (the default
/// server); `now` is the host clock when the command arrives.
pub fn ntp(server: Option<&str>, state: &mut State, world: &World, now: SystemTime) -> Reply {
    if server.is_some_and(|s| s.len() > NTP_SERVER_MAX) {
        set_error(state, TcpipCode::InvalidParameters);
        return Reply::error();
    }
    if let Some(refused) = not_connected(state) {
        return refused;
    }
    let (code, delay) = match server {
        None => (TcpipCode::Success, NTP_DELAY),
        Some(s) => match resolve(s, world).and_then(|a| a.first().copied()) {
            None => (TcpipCode::DnsFailed, DNS_DELAY),
            Some(ip) if reach(ip, state, world) == Reach::Silent => {
                (TcpipCode::Timeout, NTP_TIMEOUT)
            }
            Some(_) => (TcpipCode::Success, NTP_DELAY),
        },
    };
    set_error(state, code);
    let unix = (now + delay)
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    Reply::ok().with_urc(
        delay,
        line(Qntp {
            err: code,
            time: format_time(unix),
        }),
    )
}

/// A Unix time (seconds, UTC) in the manual's `YY/MM/DD,hh:mm:ss±zz` format,
/// with zone `+00`.
///
/// ```
/// use fcm242d_sim::groups::network::format_time;
/// assert_eq!(format_time(0), "70/01/01,00:00:00+00");
/// assert_eq!(format_time(1_709_210_096), "24/02/29,12:34:56+00");
/// ```
pub fn format_time(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{:02}/{:02}/{:02},{:02}:{:02}:{:02}+00",
        year.rem_euclid(100),
        month,
        day,
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// The proleptic Gregorian date of a day count from 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}
