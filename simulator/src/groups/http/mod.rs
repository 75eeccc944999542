//! The HTTP(S) group: `AT+QHTTPCFG`, `AT+QHTTPGET`, `AT+QHTTPPOST`,
//! `AT+QHTTPPUT`, `AT+QHTTPREAD` and `AT+QHTTPSTOP`, making real HTTP/1.1
//! requests (TLS for `https://`) to the simulated network.
//!
//! # Model
//!
//! The configuration ([`Config`]) is plain data in `state.http`; the request
//! in progress is a `Session` in [`Live`], whose network side runs on a
//! helper thread (`worker`) that reports through a channel. [`poll`] turns
//! the reports into URCs and buffers the response for `AT+QHTTPREAD`.
//!
//! - A request needs the URL (708 when it is empty), a joined Wi-Fi network
//!   (706), and no other request waiting for its response or being read
//!   (703). The host is resolved from the world's hosts table and routed
//!   like a TCP socket (see [`crate::groups::tcpip::route`]).
//! - `AT+QHTTPGET[=<rsptime>]` answers `OK` at once, then
//!   `+QHTTPGET: 0,<httprspcode>[,<content_length>]` when the response head
//!   arrives (`<content_length>` only when the response has a
//!   `Content-Length`), or `+QHTTPGET: <err>`: 710 for a name the hosts table
//!   does not know, 712 for an address nothing answers at (or a failed TLS
//!   handshake), 702 when the connect times out, 722 when no response head
//!   came within `<rsptime>` s, 715 when the server closed the connection
//!   first, 719 for an answer that is not HTTP/1.x, 717 for an unreadable
//!   header, 711 when every socket of the module is in use (the TCP/IP and
//!   SSL services hold all twelve `<connectID>`s), 718 when the response
//!   head began but stopped coming before `<rsptime>` ended, 723 when the
//!   head is longer than the module keeps (`framing::MAX_HEAD`) (errata
//!   COND-6).
//! - `AT+QHTTPPOST=<data_length>[,<input_time>,<rsptime>]` (and `PUT`)
//!   connects and writes the request head (with `Content-Length:
//!   <data_length>`) before it answers `CONNECT` ("If ... HTTP(S) server is
//!   connected successfully and the HTTP(S) request header is sent
//!   completely"); a failure is `+CME ERROR: <err>` with the codes above.
//!   The connect runs on the helper thread; the command waits for it at
//!   most [`CONNECT_WAIT`] (702 after that), which on the loopback is never
//!   reached. After `<data_length>` bytes the module answers `OK` and the
//!   body goes out; `+QHTTPPOST: ...` follows as for `GET`, `<rsptime>`
//!   counted from the end of the body. When `<input_time>` s pass first,
//!   the data phase ends with `+QHTTPPOST: 720` (no final result, as the
//!   manual prints it) and the request is dropped.
//! - `AT+QHTTPREAD[=<wait_time>]`: `CONNECT`, the response head as received
//!   when `"rsp/header"` is 1, the body (chunked bodies decoded), `OK`, then
//!   `+QHTTPREAD: <err>`: 0 when the body is complete, 715 when the server
//!   closed the connection early, 717 for a malformed chunked body, 721 when
//!   no data came for `<wait_time>` s. A body still arriving is written as
//!   it comes. The response is read once; then, or with no request, 705.
//!   Before the response head came: 703. With `"rspout/auto"` on: 704.
//! - `"rspout/auto"` 1: the response (head when `"rsp/header"` is 1, then
//!   body) is written as it arrives, each piece announced by
//!   `+QHTTPURC: "recv",<length>` and followed by CR LF, like a direct-push
//!   socket (errata HTTP-6).
//! - `"closed/ind"` 1: `+QHTTPURC: "closed"` once the server's connection
//!   is over (the response complete, the server gone, or a timeout) after
//!   a connection was made; during an `AT+QHTTPREAD` it waits for the end of
//!   the output. `AT+QHTTPSTOP` drops the request without it.
//! - `AT+QHTTPSTOP`: drops the request in progress (closing its
//!   connection) and its unread response; `OK` also when there is none.
//!
//! # The request
//!
//! `<METHOD> <path>?<query> HTTP/1.1`, then `Host` (with the port when it
//! is not the scheme's), `User-Agent: QUECTEL_MODULE`, `Accept: */*`,
//! `Authorization: Basic …` from `"auth"` (or the URL's `user:password@`),
//! for `POST`/`PUT` `Content-Type: application/x-www-form-urlencoded` and
//! `Content-Length`, then the `"header"` headers (which replace a default of
//! the same name, except `Content-Length` and `Transfer-Encoding`: the
//! module frames the body itself). With `"form/option"` set, a `POST`/`PUT`
//! body is sent as one `multipart/form-data` part with that name, file name
//! and content type. The module reads the response by `Content-Length`,
//! chunked coding or the end of the connection, and then closes it.
//!
//! # Not modelled
//!
//! A request already under way is not stopped when the station leaves its
//! network (it runs on the loopback). `<request_header>` (a request head
//! typed by the host) has no sub-command in this manual (errata HTTP-11,
//! HTTP-14), so `<data_length>` is always the body alone. The file-based
//! commands (`AT+QHTTPREADFILE` and the like) are not in the manual
//! (errata HTTP-7).

mod compose;
mod config;
mod framing;
pub mod url;
mod worker;

use std::net::Ipv4Addr;
use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use fcm242d::generated::commands::{qhttpcfg, AnyCommand};
use fcm242d::generated::results::HttpCode;
use fcm242d::generated::urcs::{
    qhttpget, qhttppost, qhttpput, Qhttpget, Qhttppost, Qhttpput, Qhttpread, QhttpurcClosed,
    QhttpurcRecv,
};

use crate::groups::{line, network, tcpip};
use crate::net::Net;
use crate::reply::{DataRequest, Final, Payload, Reply};
use crate::services::Route;
use crate::state::State;
use crate::world::{Protocol, World};

use worker::{Event, Worker};

/// How long `AT+QHTTPPOST`/`AT+QHTTPPUT` wait for the connection before
/// answering (702 after that). It holds the UART, so it is far below the
/// manual's 125 s; on the loopback a connect ends at once.
pub const CONNECT_WAIT: Duration = Duration::from_secs(10);
/// Response bytes the module keeps for `AT+QHTTPREAD`; past this it stops
/// reading the connection (TCP flow control holds the rest at the server).
pub const RESPONSE_BUFFER: usize = 4 * 1024 * 1024;
/// The largest piece one `+QHTTPURC: "recv"` carries.
pub const AUTO_PIECE: usize = 1460;
/// Delay of a completion URC known when the command is answered.
const URC_DELAY: Duration = Duration::from_millis(5);
/// Default `<rsptime>`, `<input_time>` and `<wait_time>` (s).
const DEFAULT_TIME_S: u64 = 60;

/// A `"form/option"` setting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormOption {
    /// `<name>`.
    pub name: String,
    /// `<file_name>`.
    pub file_name: String,
    /// `<content_type>`.
    pub content_type: String,
}

/// The `AT+QHTTPCFG` settings (not saved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `"url"` as given (empty: none).
    pub url: String,
    /// `"header"`: custom request header lines, `Name: value`.
    pub headers: Vec<String>,
    /// `"auth"`: `username:password` (empty: none).
    pub auth: String,
    /// `"sslctxid"` (0–5).
    pub sslctx_id: i64,
    /// `"rsp/header"`.
    pub response_header: qhttpcfg::Enable,
    /// `"rspout/auto"`.
    pub auto_output: qhttpcfg::Enable,
    /// `"closed/ind"`.
    pub closed_ind: qhttpcfg::Enable,
    /// `"form/option"`.
    pub form: Option<FormOption>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            url: String::new(),
            headers: Vec::new(),
            auth: String::new(),
            // "Default: 1."
            sslctx_id: 1,
            response_header: qhttpcfg::Enable::Disable,
            auto_output: qhttpcfg::Enable::Disable,
            closed_ind: qhttpcfg::Enable::Disable,
            form: None,
        }
    }
}

/// The group's state (part of [`State`]; rebuilt by a reboot).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpState {
    /// The `AT+QHTTPCFG` settings.
    pub config: Config,
    /// The body of a `POST`/`PUT` did not come within `<input_time>`: the
    /// request in progress is dropped before anything else happens (the
    /// end of a data phase can change the state only).
    pub abandoned: bool,
}

/// The request methods the module sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `AT+QHTTPGET`.
    Get,
    /// `AT+QHTTPPOST`.
    Post,
    /// `AT+QHTTPPUT`.
    Put,
}

impl Method {
    /// The name in the request line.
    pub fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
        }
    }
}

/// Where a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Sent (or being sent); no response head yet.
    Requesting,
    /// The response head came; the response waits for `AT+QHTTPREAD`.
    Answered,
    /// `AT+QHTTPREAD` is writing the response.
    Reading {
        /// `<wait_time>`.
        wait: Duration,
        /// When data last went out (or the read began).
        last: Instant,
    },
}

/// The request in progress.
#[derive(Debug)]
struct Session {
    method: Method,
    /// The helper thread; `None` for a server that never answers.
    worker: Option<Worker>,
    stage: Stage,
    /// When the current wait ends on the module's clock: the connection
    /// and the response head of a `GET` (`<rsptime>` from the request), the
    /// response head of a `POST`/`PUT` (`<rsptime>` from the body's end).
    deadline: Option<Instant>,
    /// `<rsptime>`.
    response_time: Duration,
    /// The server's address (`None` for one that never answers).
    peer: Option<std::net::SocketAddr>,
    /// Whether a connection to the server was made.
    connected: bool,
    /// Whether the response head began to come.
    answering: bool,
    /// Response bytes not yet handed to the host.
    pending: Vec<u8>,
    /// How the server's side ended, once it did.
    ended: Option<HttpCode>,
    /// URCs held while `AT+QHTTPREAD` writes the response.
    held: Vec<String>,
}

/// The group's live network resources (part of [`Net`]; dropped by a reboot).
#[derive(Debug, Default)]
pub struct Live {
    session: Option<Session>,
}

/// What a command of the group ends with: a reply, or `+CME ERROR: <err>`.
type Outcome = Result<Reply, HttpCode>;

/// The group's answer, if `cmd` is one of its commands.
pub fn handle(cmd: &AnyCommand, state: &mut State, world: &World, net: &mut Net) -> Option<Reply> {
    if std::mem::take(&mut state.http.abandoned) {
        net.http.session = None;
    }
    let outcome = match cmd {
        AnyCommand::QhttpcfgUrl(w) => config::url(w, &mut state.http.config),
        AnyCommand::QhttpcfgHeader(w) => config::header(w, &mut state.http.config),
        AnyCommand::QhttpcfgAuth(w) => config::auth(w, &mut state.http.config),
        AnyCommand::QhttpcfgSslctxid(w) => config::sslctxid(w, &mut state.http.config),
        AnyCommand::QhttpcfgRspHeader(w) => config::rsp_header(w, &mut state.http.config),
        AnyCommand::QhttpcfgRspoutAuto(w) => config::rspout_auto(w, &mut state.http.config),
        AnyCommand::QhttpcfgClosedInd(w) => config::closed_ind(w, &mut state.http.config),
        AnyCommand::QhttpcfgFormOption(w) => config::form_option(w, &mut state.http.config),
        AnyCommand::QhttpgetWrite(w) => get(seconds(w.rsptime.map(|t| t.get())), state, world, net),
        AnyCommand::QhttppostWrite(w) => upload(
            Method::Post,
            w.data_length.get(),
            w.input_time_group
                .as_ref()
                .map(|g| (g.input_time.get(), g.rsptime.get())),
            state,
            world,
            net,
        ),
        AnyCommand::QhttpputWrite(w) => upload(
            Method::Put,
            w.data_length.get(),
            w.input_time_group
                .as_ref()
                .map(|g| (g.input_time.get(), g.rsptime.get())),
            state,
            world,
            net,
        ),
        AnyCommand::QhttpreadWrite(w) => read(seconds(w.wait_time.map(|t| t.get())), state, net),
        AnyCommand::QhttpstopExecute(_) => {
            net.http.session = None;
            Ok(Reply::ok())
        }
        _ => return None,
    };
    Some(outcome.unwrap_or_else(|code| Reply::result(Final::Cme(code.code()))))
}

/// A time parameter in seconds, or the manual's default of 60 s.
fn seconds(value: Option<i64>) -> Duration {
    Duration::from_secs(
        value
            .and_then(|v| u64::try_from(v).ok())
            .unwrap_or(DEFAULT_TIME_S),
    )
}

// ------------------------------------------------------------------ requests

/// Where a request goes.
struct Target {
    url: url::Url,
    addr: Route,
    tls: Option<worker::Tls>,
}

/// Why a request cannot be made: `Now` is known before any network access
/// (always `+CME ERROR`), `Network` is what the network says (a deferred
/// `+QHTTPGET` for `GET`).
enum Refusal {
    Now(HttpCode),
    Network(HttpCode),
}

impl Refusal {
    fn code(&self) -> HttpCode {
        match self {
            Refusal::Now(c) | Refusal::Network(c) => *c,
        }
    }
}

/// Refuses a request while another waits for its response or is read.
fn not_busy(net: &Net) -> Result<(), HttpCode> {
    match net.http.session.as_ref().map(|s| s.stage) {
        Some(Stage::Requesting | Stage::Reading { .. }) => Err(HttpCode::Busy),
        _ => Ok(()),
    }
}

/// The module's address on the joined network (a connect to it goes to the
/// host's loopback, as for sockets).
fn own_address(state: &State, world: &World) -> Ipv4Addr {
    let text = match (&state.wifi.station_static, &state.wifi.station) {
        (Some(s), _) => Some(s[0].clone()),
        (None, Some(ssid)) => world
            .access_points
            .iter()
            .find(|a| &a.ssid == ssid)
            .map(|a| a.ip.clone()),
        (None, None) => None,
    };
    text.and_then(|t| t.parse().ok())
        .unwrap_or(Ipv4Addr::UNSPECIFIED)
}

fn target(state: &State, world: &World, net: &Net) -> Result<Target, Refusal> {
    let config = &state.http.config;
    if config.url.is_empty() {
        return Err(Refusal::Now(HttpCode::EmptyUrl));
    }
    let url = url::parse(&config.url).map_err(Refusal::Now)?;
    if !state.wifi.has_ip(net.now) {
        return Err(Refusal::Now(HttpCode::NetworkError));
    }
    let ip = network::resolve(&url.host, world)
        .and_then(|a| a.first().copied())
        .ok_or(Refusal::Network(HttpCode::DnsError))?;
    // The request's socket comes from the pool the socket services share
    // (errata COND-6): with every `<connectID>` in use there is none.
    if sockets_in_use(state) >= tcpip::MAX_SOCKETS as usize {
        return Err(Refusal::Network(HttpCode::SocketCreateError));
    }
    let own = own_address(state, world);
    let addr = tcpip::route(ip, url.port, Protocol::Tcp, own, world, net)
        .ok_or(Refusal::Network(HttpCode::SocketConnectError))?;
    let tls = if url.secure {
        let ctx = crate::groups::ssl::context(state, config.sslctx_id);
        // A context that cannot make a client (a missing certificate file)
        // fails like a handshake would.
        let config = crate::services::tls::client_config(&state.saved.files, ctx)
            .map_err(|_| Refusal::Network(HttpCode::SocketConnectError))?;
        Some(worker::Tls {
            config,
            host: url.host.clone(),
            handshake_limit: Duration::from_secs(u64::try_from(ctx.negotiate_time).unwrap_or(300)),
        })
    } else {
        None
    };
    Ok(Target { url, addr, tls })
}

/// The sockets the TCP/IP and SSL services hold (their `<connectID>`s,
/// 0–11, are one range).
fn sockets_in_use(state: &State) -> usize {
    state.tcpip.sockets.len() + state.ssl.connections.len()
}

/// `AT+QHTTPGET`.
fn get(rsptime: Duration, state: &mut State, world: &World, net: &mut Net) -> Outcome {
    not_busy(net)?;
    let target = match target(state, world, net) {
        Ok(t) => t,
        Err(Refusal::Now(code)) => return Err(code),
        Err(Refusal::Network(code)) => {
            net.http.session = None;
            return Ok(Reply::ok().with_urc(URC_DELAY, completion(Method::Get, code, None)));
        }
    };
    let request = compose::compose(Method::Get, &target.url, &state.http.config, None);
    let worker = match target.addr {
        Route::To(addr) => Some(
            worker::start(
                worker::Job {
                    addr,
                    tls: target.tls,
                    head: request.head,
                    upload: None,
                    response_time: rsptime,
                    settle: net.services.is_service(addr),
                },
                net.services.activity(),
            )
            .map_err(|_| HttpCode::SocketCreateError)?,
        ),
        // A server that never answers: only the time limit ends the request.
        Route::Silent => None,
    };
    let mut session = Session::new(Method::Get, worker, rsptime);
    session.deadline = Some(net.now + rsptime);
    if let Route::To(addr) = target.addr {
        session.peer = Some(addr);
    }
    net.http.session = Some(session);
    Ok(Reply::ok())
}

/// `AT+QHTTPPOST` and `AT+QHTTPPUT`: connect and send the head, then the
/// data phase.
fn upload(
    method: Method,
    data_length: i64,
    times: Option<(i64, i64)>,
    state: &mut State,
    world: &World,
    net: &mut Net,
) -> Outcome {
    not_busy(net)?;
    let length = usize::try_from(data_length).map_err(|_| HttpCode::InvalidParameter)?;
    let (input_time, rsptime) = match times {
        Some((i, r)) => (seconds(Some(i)), seconds(Some(r))),
        None => (seconds(None), seconds(None)),
    };
    let target = target(state, world, net).map_err(|r| r.code())?;
    let request = compose::compose(method, &target.url, &state.http.config, Some(length));
    // A server that never answers: the connect times out (at once here:
    // the command holds the UART while it waits).
    let Route::To(addr) = target.addr else {
        return Err(HttpCode::Timeout);
    };
    let (body_tx, body_rx) = mpsc::channel();
    let worker = worker::start(
        worker::Job {
            addr,
            tls: target.tls,
            head: request.head,
            upload: Some(worker::Upload {
                prefix: request.prefix,
                suffix: request.suffix,
                body: body_rx,
            }),
            response_time: rsptime,
            settle: net.services.is_service(addr),
        },
        net.services.activity(),
    )
    .map_err(|_| HttpCode::SocketCreateError)?;
    // "CONNECT" only once the server is connected and the head is sent.
    match worker.events.recv_timeout(CONNECT_WAIT) {
        Ok(Event::Connected) => {}
        Ok(Event::Failed(code)) => return Err(code),
        Ok(_) | Err(RecvTimeoutError::Disconnected) => return Err(HttpCode::Unknown),
        Err(RecvTimeoutError::Timeout) => return Err(HttpCode::Timeout),
    }
    let mut session = Session::new(method, Some(worker), rsptime);
    session.peer = Some(addr);
    let activity = net.services.activity().clone();
    session.connected = true;
    net.http.session = Some(session);
    let then = move |state: &mut State, payload: Payload| -> Reply {
        let body = match payload {
            Payload::Data(d) => d,
            Payload::Cancelled => Vec::new(),
        };
        if body.len() == length {
            // Work for the helper thread until it takes the body (counted
            // first, so the thread never takes it before it counts).
            activity.queued();
            if body_tx.send(body).is_ok() {
                return Reply::ok();
            }
            activity.taken();
        }
        // `<input_time>` passed first: the request is abandoned (its
        // thread stops once the body channel is gone).
        state.http.abandoned = true;
        Reply {
            lines: vec![completion(method, HttpCode::InputTimeout, None)],
            ..Reply::result(Final::Nothing)
        }
    };
    Ok(Reply {
        phase: Some(DataRequest {
            greater_prompt: false,
            length: Some(length),
            ctrl_z: false,
            timeout: Some(input_time),
            then: Box::new(then),
        }),
        ..Reply::result(Final::Nothing)
    })
}

/// The completion URC of a request.
fn completion(method: Method, err: HttpCode, answer: Option<(u16, Option<u64>)>) -> String {
    let status = answer.map(|(s, _)| i64::from(s));
    let length = answer
        .and_then(|(_, l)| l)
        .and_then(|l| i64::try_from(l).ok());
    match method {
        Method::Get => line(Qhttpget {
            err,
            httprspcode_group: status.map(|httprspcode| qhttpget::QhttpgetHttprspcodeGroup {
                httprspcode,
                content_length: length,
            }),
        }),
        Method::Post => line(Qhttppost {
            err,
            httprspcode_group: status.map(|httprspcode| qhttppost::QhttppostHttprspcodeGroup {
                httprspcode,
                content_length: length,
            }),
        }),
        Method::Put => line(Qhttpput {
            err,
            httprspcode_group: status.map(|httprspcode| qhttpput::QhttpputHttprspcodeGroup {
                httprspcode,
                content_length: length,
            }),
        }),
    }
}

// ------------------------------------------------------------------ reading

/// `AT+QHTTPREAD`.
fn read(wait: Duration, state: &State, net: &mut Net) -> Outcome {
    // "If auto output of HTTP(S) response data is enabled, AT+QHTTPREAD ...
    // will fail to execute."
    if state.http.config.auto_output == qhttpcfg::Enable::Enable {
        return Err(HttpCode::UartBusy);
    }
    let Some(session) = net.http.session.as_mut() else {
        return Err(HttpCode::NoRequest);
    };
    if session.stage != Stage::Answered {
        return Err(HttpCode::Busy);
    }
    if let Some(err) = session.ended {
        // Everything is here: one answer.
        let data = std::mem::take(&mut session.pending);
        net.http.session = None;
        return Ok(Reply {
            after: Some(data),
            ..Reply::result(Final::Connect)
        }
        .with_urc(Duration::ZERO, line(Qhttpread { err })));
    }
    // The rest is still coming: `poll` writes it.
    session.stage = Stage::Reading {
        wait,
        last: net.now,
    };
    Ok(Reply::result(Final::Connect))
}

/// Appends a URC line.
fn urc(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(b"\r\n");
}

impl Session {
    fn new(method: Method, worker: Option<Worker>, response_time: Duration) -> Session {
        Session {
            method,
            worker,
            stage: Stage::Requesting,
            deadline: None,
            response_time,
            peer: None,
            connected: false,
            answering: false,
            pending: Vec::new(),
            ended: None,
            held: Vec::new(),
        }
    }

    /// A URC now, or after the response while `AT+QHTTPREAD` writes it.
    fn urc(&mut self, out: &mut Vec<u8>, text: String) {
        if matches!(self.stage, Stage::Reading { .. }) {
            self.held.push(text);
        } else {
            urc(out, &text);
        }
    }

    /// The server's side is over.
    fn end(&mut self, code: HttpCode, config: &Config, out: &mut Vec<u8>) {
        self.ended = Some(code);
        if self.connected && config.closed_ind == qhttpcfg::Enable::Enable {
            self.urc(out, line(QhttpurcClosed {}));
        }
    }

    /// Handles one report of the helper thread; `true` when the request is over.
    fn event(&mut self, event: Event, config: &Config, now: Instant, out: &mut Vec<u8>) -> bool {
        match event {
            Event::Connected => self.connected = true,
            Event::Answering => self.answering = true,
            Event::Sent => self.deadline = Some(now + self.response_time),
            Event::Failed(code) => {
                urc(out, &completion(self.method, code, None));
                self.end(code, config, out);
                return true;
            }
            Event::Head {
                status,
                content_length,
                raw,
            } => {
                urc(
                    out,
                    &completion(
                        self.method,
                        HttpCode::Success,
                        Some((status, content_length)),
                    ),
                );
                self.stage = Stage::Answered;
                self.deadline = None;
                if config.response_header == qhttpcfg::Enable::Enable {
                    self.pending.extend_from_slice(&raw);
                }
            }
            Event::Body(data) => self.pending.extend_from_slice(&data),
            Event::End(code) => self.end(code, config, out),
        }
        self.auto_output(config, out)
    }

    /// With `"rspout/auto"` on, writes what arrived; `true` once all of it
    /// was written and the server's side is over.
    fn auto_output(&mut self, config: &Config, out: &mut Vec<u8>) -> bool {
        if config.auto_output != qhttpcfg::Enable::Enable || self.stage != Stage::Answered {
            return false;
        }
        for piece in self.pending.chunks(AUTO_PIECE) {
            let length = i64::try_from(piece.len()).unwrap_or(i64::MAX);
            urc(
                out,
                &line(QhttpurcRecv {
                    length,
                    data: Vec::new(),
                }),
            );
            out.extend_from_slice(piece);
            out.extend_from_slice(b"\r\n");
        }
        self.pending.clear();
        self.ended.is_some()
    }

    /// Takes the thread's reports and writes what is due; `true` when the
    /// request is over.
    fn step(&mut self, config: &Config, now: Instant, out: &mut Vec<u8>) -> bool {
        while self.ended.is_none() && self.pending.len() < RESPONSE_BUFFER {
            let Some(worker) = &self.worker else { break };
            let event = match worker.events.try_recv() {
                Ok(e) => e,
                Err(TryRecvError::Empty) => break,
                // The thread is gone without a last word (never expected).
                Err(TryRecvError::Disconnected) => match self.stage {
                    Stage::Requesting => Event::Failed(HttpCode::SocketClosed),
                    _ => Event::End(HttpCode::SocketClosed),
                },
            };
            if self.event(event, config, now, out) {
                return true;
            }
        }
        if self.stage == Stage::Requesting && self.deadline.is_some_and(|d| now >= d) {
            // No connection, or no response head, in time.
            let code = if self.answering {
                // The head began and stopped coming (errata COND-6).
                HttpCode::ReadTimeout
            } else if self.connected {
                HttpCode::ResponseTimeout
            } else {
                HttpCode::Timeout
            };
            self.worker = None;
            self.event(Event::Failed(code), config, now, out);
            return true;
        }
        let Stage::Reading { wait, last } = self.stage else {
            return false;
        };
        if !self.pending.is_empty() {
            out.append(&mut self.pending);
            self.stage = Stage::Reading { wait, last: now };
        }
        let err = match self.ended {
            Some(code) => code,
            None if now.saturating_duration_since(last) >= wait => HttpCode::WaitDataTimeout,
            None => return false,
        };
        out.extend_from_slice(b"\r\nOK\r\n");
        urc(out, &line(Qhttpread { err }));
        for held in std::mem::take(&mut self.held) {
            urc(out, &held);
        }
        true
    }
}

/// What the network caused since the last call: completion URCs,
/// `+QHTTPURC`, the response while `AT+QHTTPREAD` writes it.
pub fn poll(state: &mut State, net: &mut Net, _world: &World, now: Instant) -> Vec<u8> {
    let mut out = Vec::new();
    if std::mem::take(&mut state.http.abandoned) {
        net.http.session = None;
    }
    let Some(session) = net.http.session.as_mut() else {
        return out;
    };
    if session.step(&state.http.config, now, &mut out) {
        net.http.session = None;
    }
    out
}

/// When the request's time limit passes: the response head's
/// (`<rsptime>`), or `AT+QHTTPREAD`'s `<wait_time>`.
pub fn next_wake(net: &Net) -> Option<Instant> {
    let session = net.http.session.as_ref()?;
    match session.stage {
        Stage::Reading { wait, last } => Some(last + wait),
        _ => session.deadline,
    }
}

/// Whether a request waits for its response, or a response is still
/// being written or announced.
pub fn in_flight(state: &State, net: &Net) -> bool {
    let Some(session) = net.http.session.as_ref() else {
        return false;
    };
    match session.stage {
        Stage::Requesting | Stage::Reading { .. } => true,
        Stage::Answered => {
            session.ended.is_none() && state.http.config.auto_output == qhttpcfg::Enable::Enable
        }
    }
}

/// The request's server (the helper thread owns the socket; see
/// [`crate::net::Socket`]).
pub fn sockets<'a>(net: &'a Net, out: &mut Vec<crate::net::Socket<'a>>) {
    if let Some(peer) = net.http.session.as_ref().and_then(|s| s.peer) {
        out.push(crate::net::Socket {
            fd: None,
            peer: Some(peer),
            local: None,
        });
    }
}
