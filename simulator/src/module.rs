//! The virtual module: its UART line discipline (echo, command lines, data
//! phases) and the dispatch of each command to its function group.
//!
//! ```
//! use std::time::Instant;
//! use fcm242d_sim::module::Module;
//! use fcm242d_sim::world::World;
//!
//! let mut m = Module::new(World::default());
//! let out = m.input(b"AT+QVERSION\r", Instant::now());
//! assert_eq!(String::from_utf8_lossy(&out), "\r\n+QVERSION: FCM242DAAR01A05_SIM\r\n\r\nOK\r\n");
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use fcm242d::generated::commands::AnyCommand;

use crate::catalog;
use crate::groups;
use crate::net::Net;
use crate::reply::{DataRequest, Final, Payload, Reply};
use crate::services::Services;
use crate::state::State;
use crate::world::World;

/// The longest command line kept; longer ones are answered with `ERROR`.
const MAX_LINE: usize = 4096;

enum Mode {
    /// Reading a command line.
    Command { line: Vec<u8>, overflow: bool },
    /// Reading a payload after a prompt. `skip_lf`: the command line ended
    /// with CR and its LF may still come; it is not part of the payload.
    Payload {
        request: DataRequest,
        data: Vec<u8>,
        skip_lf: bool,
        /// When the phase ends with what came (`DataRequest::timeout`).
        deadline: Option<Instant>,
    },
    /// Transparent mode with the socket `Net::transparent` names: host bytes
    /// go to the socket.
    /// `held`: `+` bytes kept back because they may be the start of a
    /// guarded `+++`; `last_input`: when the host last sent a byte (the
    /// silence before and after `+++` is measured from it); `skip_lf`: as
    /// for a payload, the LF of the command line that entered the mode.
    Transparent {
        held: usize,
        last_input: Instant,
        skip_lf: bool,
    },
}

/// A scheduled output (a URC printed later).
struct Due {
    at: Instant,
    bytes: Vec<u8>,
}

/// The module.
pub struct Module {
    world: World,
    state: State,
    mode: Mode,
    scheduled: Vec<Due>,
    net: Net,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("state", &self.state)
            .finish()
    }
}

impl Module {
    /// A freshly booted module in `world`, whose servers are the process's
    /// shared ones ([`Services::shared`]).
    pub fn new(world: World) -> Self {
        Self::with_services(world, Services::shared())
    }

    /// A freshly booted module in `world` with the servers `services`.
    pub fn with_services(world: World, services: Arc<Services>) -> Self {
        // Load the embedded catalogue now rather than on the first command,
        // so the first answer is as quick as the others.
        let _ = catalog::catalog();
        Module {
            world,
            state: State::default(),
            mode: command_mode(),
            scheduled: Vec::new(),
            net: Net::new(services, Instant::now()),
        }
    }

    /// The world the module lives in.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The world's running servers.
    pub fn services(&self) -> &Arc<Services> {
        &self.net.services
    }

    /// The module's state (for tests and fault injection).
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The module's state, to change (fault injection: a BLE peer that
    /// connects, writes or goes away acts on it).
    pub fn state_mut(&mut self) -> &mut State {
        &mut self.state
    }

    /// Bytes from the host; returns what the module writes back at once.
    pub fn input(&mut self, bytes: &[u8], now: Instant) -> Vec<u8> {
        self.net.now = now;
        let mut out = Vec::new();
        let mut to_socket = Vec::new();
        for &b in bytes {
            self.byte(b, now, &mut out, &mut to_socket);
        }
        groups::transparent_send(&mut self.state, &mut self.net, &to_socket);
        out
    }

    /// Output that is due at `now`: scheduled URCs, then what the network
    /// caused. In transparent mode: the end of a guarded `+++`, and the
    /// socket's data (URCs wait until command mode).
    pub fn poll(&mut self, now: Instant) -> Vec<u8> {
        self.net.now = now;
        let mut out = Vec::new();
        self.guard(now, &mut out);
        self.payload_timeout(now, &mut out);
        if !matches!(self.mode, Mode::Transparent { .. }) {
            self.scheduled.sort_by_key(|d| d.at);
            while self.scheduled.first().is_some_and(|d| d.at <= now) {
                let d = self.scheduled.remove(0);
                out.extend_from_slice(&d.bytes);
            }
        }
        let network = groups::poll(&mut self.state, &mut self.net, &self.world, now);
        if matches!(self.mode, Mode::Transparent { .. }) {
            out.extend(network);
        } else {
            // Quirks change URCs, never transparent-mode data.
            out.extend(crate::quirks::edit_urc_output(&self.world.quirks, network));
        }
        if matches!(self.mode, Mode::Transparent { .. }) && self.net.transparent.is_none() {
            // The connection ended (`NO CARRIER` is in `out`).
            self.mode = command_mode();
        } else if matches!(self.mode, Mode::Command { .. }) && self.net.transparent.is_some() {
            // A group re-entered transparent mode by itself (`CONNECT` is in
            // `out`): a BLE peripheral with `AT+QBLETRANMODE=<UUID>,1`.
            self.mode = Mode::Transparent {
                held: 0,
                last_input: now,
                skip_lf: false,
            };
        }
        out
    }

    /// Ends a data phase whose time limit passed, with the bytes that came.
    fn payload_timeout(&mut self, now: Instant, out: &mut Vec<u8>) {
        let Mode::Payload { data, deadline, .. } = &mut self.mode else {
            return;
        };
        if deadline.is_none_or(|d| now < d) {
            return;
        }
        let payload = Payload::Data(std::mem::take(data));
        if let Mode::Payload { request, .. } = std::mem::replace(&mut self.mode, command_mode()) {
            let reply = (request.then)(&mut self.state, payload);
            self.emit(reply, now, out);
        }
    }

    /// Ends a data phase because the host's input ended (a script piped in
    /// whose payload stops short): a payload that Ctrl+Z would end ends as
    /// with Ctrl+Z, another one with the bytes that came (as when its time
    /// limit passes). Returns what the module prints.
    pub fn end_data_phase(&mut self, now: Instant) -> Vec<u8> {
        let mut out = Vec::new();
        let Mode::Payload { data, request, .. } = &mut self.mode else {
            return out;
        };
        let payload = Payload::Data(std::mem::take(data));
        let _ = request;
        if let Mode::Payload { request, .. } = std::mem::replace(&mut self.mode, command_mode()) {
            let reply = (request.then)(&mut self.state, payload);
            self.emit(reply, now, &mut out);
        }
        out
    }

    /// In transparent mode, once the guard time passed since the host's last
    /// byte: a held `+++` leaves the mode with `OK`; fewer held `+` are data.
    fn guard(&mut self, now: Instant, out: &mut Vec<u8>) {
        let guard = Duration::from_millis(self.world.guard_time_ms);
        let Mode::Transparent {
            held, last_input, ..
        } = &mut self.mode
        else {
            return;
        };
        if *held == 0 || now.saturating_duration_since(*last_input) < guard {
            return;
        }
        if *held == 3 {
            self.mode = command_mode();
            self.net.transparent = None;
            out.extend_from_slice(b"\r\nOK\r\n");
        } else {
            let data = vec![b'+'; std::mem::take(held)];
            groups::transparent_send(&mut self.state, &mut self.net, &data);
        }
    }

    /// When the module next has something to do by the clock alone: a
    /// scheduled URC, the end of `+++`'s guard time, a data phase's time
    /// limit, a group's timer (a connect's time limit, a retransmission,
    /// the keep-alive, the world's phone). A front end that polls the
    /// module at this time (and whenever input comes) misses nothing.
    pub fn next_due(&self) -> Option<Instant> {
        let guard = match &self.mode {
            Mode::Transparent {
                held, last_input, ..
            } if *held > 0 => {
                last_input.checked_add(Duration::from_millis(self.world.guard_time_ms))
            }
            _ => None,
        };
        let payload = match &self.mode {
            Mode::Payload { deadline, .. } => *deadline,
            _ => None,
        };
        [
            self.scheduled.iter().map(|d| d.at).min(),
            guard,
            payload,
            groups::next_wake(&self.state, &self.net, &self.world),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Whether the module is about to print something without new input:
    /// a scheduled URC, a `+++` waiting for its guard time, a data phase
    /// with a time limit, or an operation under way whose end it prints (a
    /// connect, a request, a packet waiting for its acknowledgement, the
    /// world's phone about to act). Timers that print nothing while all
    /// goes well (the MQTT keep-alive) do not count.
    pub fn busy(&self) -> bool {
        let phase = match &self.mode {
            Mode::Transparent { held, .. } => *held > 0,
            Mode::Payload { deadline, .. } => deadline.is_some(),
            Mode::Command { .. } => false,
        };
        phase
            || !self.scheduled.is_empty()
            || groups::in_flight(&self.state, &self.net, &self.world)
    }

    /// Whether the module has a live network link (a socket, a connect or
    /// a request under way).
    pub fn has_links(&self) -> bool {
        !self.sockets().is_empty()
    }

    /// The module's live sockets (to wait for their input) and their peers.
    pub fn sockets(&self) -> Vec<crate::net::Socket<'_>> {
        groups::sockets(&self.net)
    }

    /// Whether a live link of the module goes to a peer outside the world's
    /// servers (a port of the host, an external server): nobody can tell
    /// when such a peer will send something.
    pub fn talks_outside(&self) -> bool {
        let sockets = self.sockets();
        // The module's own sockets (its listeners, the ends of its own
        // connections to itself) are inside the world too.
        let own: Vec<std::net::SocketAddr> = sockets.iter().filter_map(|s| s.local).collect();
        sockets
            .iter()
            .filter_map(|s| s.peer)
            .any(|p| !self.net.services.is_service(p) && !own.contains(&p))
    }

    /// The module as a fresh start in the same world would leave it:
    /// volatile and saved state (files, saved hotspot and baud rate)
    /// cleared, every link closed, nothing scheduled, the UART in command
    /// mode. The world's servers are not touched (see
    /// [`Services::reset`]).
    pub fn reset(&mut self, now: Instant) {
        self.mode = command_mode();
        self.state = State::default();
        self.scheduled.clear();
        self.net = Net::new(self.net.services.clone(), now);
    }

    fn byte(&mut self, b: u8, now: Instant, out: &mut Vec<u8>, to_socket: &mut Vec<u8>) {
        let guard = Duration::from_millis(self.world.guard_time_ms);
        match &mut self.mode {
            Mode::Transparent {
                held,
                last_input,
                skip_lf,
            } => {
                let silent = now.saturating_duration_since(*last_input) >= guard;
                *last_input = now;
                if std::mem::take(skip_lf) && b == b'\n' {
                    return;
                }
                if b == b'+' && *held > 0 && *held < 3 {
                    *held += 1;
                    return;
                }
                // Anything else shows that the held `+` were data.
                to_socket.extend(std::iter::repeat_n(b'+', std::mem::take(held)));
                if b == b'+' && silent {
                    *held = 1;
                } else {
                    to_socket.push(b);
                }
            }
            Mode::Command { line, overflow } => {
                if self.state.general.echo {
                    out.push(b);
                }
                match b {
                    b'\r' => {
                        let text = String::from_utf8_lossy(line).into_owned();
                        let too_long = *overflow;
                        line.clear();
                        *overflow = false;
                        if too_long {
                            self.emit(Reply::error(), now, out);
                        } else {
                            self.command_line(&text, now, out);
                        }
                    }
                    // "A newline character is ignored."
                    b'\n' => {}
                    // Backspace edits the line, as on a terminal.
                    0x08 => {
                        line.pop();
                    }
                    _ if line.len() >= MAX_LINE => *overflow = true,
                    _ => line.push(b),
                }
            }
            Mode::Payload {
                request,
                data,
                skip_lf,
                ..
            } => {
                if std::mem::take(skip_lf) && b == b'\n' {
                    return;
                }
                let done = if request.ctrl_z && b == 0x1B {
                    Some(Payload::Cancelled)
                } else if request.ctrl_z && request.length.is_none() && b == 0x1A {
                    Some(Payload::Data(std::mem::take(data)))
                } else {
                    data.push(b);
                    (request.length == Some(data.len()))
                        .then(|| Payload::Data(std::mem::take(data)))
                };
                if let Some(payload) = done {
                    let mode = std::mem::replace(&mut self.mode, command_mode());
                    if let Mode::Payload { request, .. } = mode {
                        let reply = (request.then)(&mut self.state, payload);
                        self.emit(reply, now, out);
                    }
                }
            }
        }
    }

    fn emit(&mut self, mut reply: Reply, now: Instant, out: &mut Vec<u8>) {
        crate::quirks::edit_reply(&self.world.quirks, &mut reply);
        out.extend_from_slice(&reply.render());
        for (delay, line) in reply.urcs.drain(..) {
            self.schedule(now + delay, format!("\r\n{line}\r\n").into_bytes());
        }
        if let Some(request) = reply.phase.take() {
            self.mode = Mode::Payload {
                deadline: request.timeout.map(|t| now + t),
                request,
                data: Vec::new(),
                skip_lf: true,
            };
        }
    }

    /// Emits a reply whose final result, and all that follows it, a delay
    /// quirk holds back (see [`crate::quirks`]); its lines go out now.
    fn emit_late(&mut self, mut reply: Reply, delay: Duration, now: Instant, out: &mut Vec<u8>) {
        let late = crate::quirks::late_len(&reply);
        let mut rest = Reply::result(Final::Nothing);
        rest.urcs = std::mem::take(&mut reply.urcs);
        let mut bytes = Vec::new();
        self.emit(reply, now, &mut bytes);
        let held = bytes.split_off(bytes.len().saturating_sub(late));
        out.extend(bytes);
        self.schedule(now + delay, held);
        // Scheduled after the final result, so a URC due at once follows it.
        self.emit(rest, now + delay, out);
    }

    fn schedule(&mut self, at: Instant, bytes: Vec<u8>) {
        self.scheduled.push(Due { at, bytes });
    }

    /// Handles one command line (without its CR).
    fn command_line(&mut self, raw: &str, now: Instant, out: &mut Vec<u8>) {
        let Some(line) = normalise(raw) else {
            return self.refuse_line(raw, now, out);
        };
        if line.is_empty() {
            return;
        }
        if !line.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("AT")) {
            return self.emit(Reply::error(), now, out);
        }
        let reply = match crate::quirks::before_dispatch(&self.world.quirks, &line) {
            Ok(dispatched) => {
                let reply = self.reply(&dispatched);
                crate::quirks::after_dispatch(&self.world.quirks, &line, reply)
            }
            Err(answer) => Reply::result(answer),
        };
        if matches!(reply.result, Final::Ok) && line.eq_ignore_ascii_case("AT+QRST") {
            // The reply goes out first, then the module restarts.
            self.emit(reply, now, out);
            self.reboot(now);
            return;
        }
        match crate::quirks::delay(&self.world.quirks, &line) {
            Some(delay) => self.emit_late(reply, delay, now, out),
            None => self.emit(reply, now, out),
        }
        if self.net.transparent.is_some() {
            // The command answered `CONNECT`: the UART now belongs to the socket.
            self.mode = Mode::Transparent {
                held: 0,
                last_input: now,
                skip_lf: true,
            };
        }
    }

    /// A line the module cannot read (a space inside a command name or a
    /// value): `ERROR`, or the command's own refusal code when the name is
    /// recognisable (`+CME ERROR` for the HTTP(S) commands); a TCP/IP
    /// command records the refusal for `AT+QIGETERROR`.
    fn refuse_line(&mut self, raw: &str, now: Instant, out: &mut Vec<u8>) {
        let compact: String = raw.chars().filter(|c| *c != ' ').collect();
        let reply = self.refusal(catalog::command_name(&compact));
        self.emit(reply, now, out);
    }

    /// How the module refuses a line of command `name` it cannot parse.
    fn refusal(&mut self, name: Option<&str>) -> Reply {
        if let Some(n) = name {
            if crate::groups::tcpip::reports_errors(n) {
                crate::groups::tcpip::set_error(
                    &mut self.state,
                    fcm242d::generated::results::TcpipCode::InvalidParameters,
                );
            }
        }
        match name {
            Some(n) if catalog::uses_cme(n) => {
                Reply::result(Final::Cme(catalog::invalid_parameter_code()))
            }
            _ => Reply::error(),
        }
    }

    fn reply(&mut self, line: &str) -> Reply {
        let name = catalog::command_name(line);
        if line.ends_with("=?") {
            if let Some(lines) = name.and_then(catalog::test_lines) {
                return Reply::lines(lines);
            }
        }
        match AnyCommand::parse(line) {
            Ok(cmd) => match groups::handle(&cmd, &mut self.state, &self.world, &mut self.net) {
                Some(reply) => reply,
                None => self.refusal(name),
            },
            Err(_) => self.refusal(name),
        }
    }

    /// Restarts the module (`AT+QRST`, or a spontaneous reboot injected as
    /// a fault): volatile state, scheduled output and every live link are
    /// dropped, the UART is back in command mode, and a saved hotspot is
    /// joined again.
    pub fn reboot(&mut self, now: Instant) {
        self.mode = command_mode();
        self.state = self.state.rebooted();
        self.scheduled.clear();
        self.net = Net::new(self.net.services.clone(), now);
        for (delay, line) in groups::wifi::rejoin_saved_at(
            &mut self.state,
            &self.world,
            now + Duration::from_millis(200),
        ) {
            let Some(line) = crate::quirks::edit_urc(&self.world.quirks, &line) else {
                continue;
            };
            self.schedule(
                now + Duration::from_millis(200) + delay,
                format!("\r\n{line}\r\n").into_bytes(),
            );
        }
    }

    /// What the UART is reading now (front ends that pace a host's input,
    /// and fault injection, which never puts a URC into transparent data).
    pub fn uart(&self) -> Uart {
        match self.mode {
            Mode::Command { .. } => Uart::Command,
            Mode::Payload { .. } => Uart::Payload,
            Mode::Transparent { .. } => Uart::Transparent,
        }
    }

    /// Schedules a URC line after `delay` (fault injection, tests).
    pub fn inject_urc(&mut self, line: &str, now: Instant, delay: Duration) {
        self.schedule(now + delay, format!("\r\n{line}\r\n").into_bytes());
    }
}

/// What the UART is reading (see [`Module::uart`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uart {
    /// Command lines.
    Command,
    /// A payload after a `>` or `CONNECT` prompt.
    Payload,
    /// Transparent-mode data for a link.
    Transparent,
}

/// Reading command lines, with an empty line.
fn command_mode() -> Mode {
    Mode::Command {
        line: Vec::new(),
        overflow: false,
    }
}

/// A command line with the spaces the manual lets a host put in removed,
/// or `None` when a space stands where the manual keeps it ("Spaces should
/// be ignored when you enter AT commands, except in the following cases:
/// within quoted strings, where spaces are preserved; within an unquoted
/// string or numeric parameter; within an IP address; within the AT command
/// name up to and including a =, ? or =?"). So spaces may stand before
/// and after the line and around each parameter; one inside the command
/// name (`AT+QVER SION`), before its `=` or `?`, or inside an unquoted
/// value (`2 00`, `192.168. 1.1`) makes the line invalid.
fn normalise(raw: &str) -> Option<String> {
    let line = raw.trim_matches(' ');
    let name_end = line.find(['=', '?']).map_or(line.len(), |i| {
        // `=?` belongs to the name too.
        if line[i..].starts_with("=?") {
            i + 2
        } else {
            i + 1
        }
    });
    let (name, params) = line.split_at(name_end);
    if name.contains(' ') {
        return None;
    }
    let mut out = String::with_capacity(line.len());
    out.push_str(name);
    if params.is_empty() {
        return Some(out);
    }
    let mut field = String::new();
    let mut quoted = false;
    let mut fields = Vec::new();
    for c in params.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                field.push(c);
            }
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    for (n, f) in fields.iter().enumerate() {
        let f = f.trim_matches(' ');
        // A space left outside the quotes is inside a value.
        let mut inside = false;
        for c in f.chars() {
            match c {
                '"' => inside = !inside,
                ' ' if !inside => return None,
                _ => {}
            }
        }
        if n > 0 {
            out.push(',');
        }
        out.push_str(f);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn spaces_are_ignored_only_where_the_manual_says() {
        assert_eq!(normalise("  AT+QVERSION  ").as_deref(), Some("AT+QVERSION"));
        assert_eq!(
            normalise("AT+QCFG= \"urc/pin\" , 1 , 200 ").as_deref(),
            Some("AT+QCFG=\"urc/pin\",1,200")
        );
        assert_eq!(
            normalise("AT+QSTAAPINFO=\"my ssid\",\" a key \"").as_deref(),
            Some("AT+QSTAAPINFO=\"my ssid\",\" a key \"")
        );
        assert_eq!(normalise("AT+QVER SION"), None);
        assert_eq!(normalise("AT +QVERSION"), None);
        assert_eq!(normalise("AT+QECHO =1"), None);
        assert_eq!(normalise("AT+QECHO ?"), None);
        assert_eq!(normalise("AT+QCFG=\"urc/pin\",1,2 00"), None);
        assert_eq!(normalise("AT+QPING=\"x\",192.168. 1.1"), None);
        assert_eq!(normalise("AT+QECHO=? ").as_deref(), Some("AT+QECHO=?"));
        assert_eq!(normalise("   ").as_deref(), Some(""));
    }
}
