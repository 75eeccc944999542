//! The simulated network's servers (the world's endpoints), started on the
//! host's loopback the first time a module connects to them. A module
//! connecting to `192.0.2.2:8306` really connects to the embedded MQTT
//! broker on some loopback port. The servers of one world are a
//! [`Services`].

pub mod broker;
pub mod conditions;
pub mod echo;
pub mod tls;
pub mod web;

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;

use crate::activity::{Activity, Watched};
use crate::world::{Protocol, Service, World};

/// A server-side connection: a TCP stream, or a TLS session over one.
pub trait Conn: Read + Write + Send {
    /// The connection as `Any`, so that a handler can reach the socket
    /// under it (the MQTT broker sets read timeouts on it). Call it on the
    /// trait object (`(*conn).as_any()`), not on the `Box`.
    fn as_any(&self) -> &dyn std::any::Any;
}
impl<T: Read + Write + Send + 'static> Conn for T {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The running services of one simulated world: its servers (started on
/// the loopback the first time the module connects to them), the broker's
/// sessions and retained messages, and the [`Activity`] bookkeeping that
/// tells a virtual clock when the world is quiet.
///
/// [`Services::shared`] is the process's one shared world, which every
/// [`crate::module::Module::new`] uses (so two modules of a test meet on
/// the same broker). A [`crate::sim::Simulated`] has its own, so that its
/// [`reset`](crate::sim::Simulated::reset) wipes what its module left in
/// the world and parallel simulators never see each other. Dropping the
/// last handle of a world stops its servers.
pub struct Services {
    activity: Arc<Activity>,
    broker: Arc<broker::Broker>,
    running: Mutex<HashMap<(Service, Protocol), SocketAddr>>,
    shared: Arc<Shared>,
    /// The modules' listeners and UDP services: the module's port and
    /// where the host reaches it (see [`PortLease`]).
    leases: Arc<Leases>,
}

/// The leases of a world's modules: protocol, the module's port, the
/// host's address, by lease number.
type Leases = Mutex<BTreeMap<u64, (Protocol, u16, SocketAddr)>>;

/// A port a module's listener or UDP service uses, and the free port of the
/// host it really has (so that several simulators run side by side). The
/// entry lives as long as the lease.
#[derive(Debug)]
pub struct PortLease {
    /// The protocol.
    pub protocol: Protocol,
    /// The module's port (`<local_port>`).
    pub port: u16,
    /// Where the host reaches it.
    pub host: SocketAddr,
    id: u64,
    leases: std::sync::Weak<Leases>,
}

impl Drop for PortLease {
    fn drop(&mut self) {
        if let Some(leases) = self.leases.upgrade() {
            lock(&leases).remove(&self.id);
        }
    }
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("running", &lock(&self.running).len())
            .finish_non_exhaustive()
    }
}

/// What the servers' threads share with [`Services`].
#[derive(Default)]
struct Shared {
    /// The server side of every live connection, so that a fault (or a
    /// reset) can cut them all.
    live: Mutex<HashMap<u64, TcpStream>>,
    next: AtomicU64,
    /// The world was dropped: the servers stop.
    stopped: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Services {
    /// A world of its own, nothing running yet.
    pub fn new() -> Arc<Services> {
        let activity = Activity::new();
        Arc::new(Services {
            broker: Arc::new(broker::Broker::new(activity.clone())),
            activity,
            running: Mutex::new(HashMap::new()),
            shared: Arc::new(Shared::default()),
            leases: Arc::new(Mutex::new(BTreeMap::new())),
        })
    }

    /// Records that a module's listener or UDP service with `<local_port>`
    /// `port` is at `host` on the host.
    pub fn lease(&self, protocol: Protocol, port: u16, host: SocketAddr) -> PortLease {
        let id = self.shared.next.fetch_add(1, Ordering::Relaxed);
        lock(&self.leases).insert(id, (protocol, port, host));
        PortLease {
            protocol,
            port,
            host,
            id,
            leases: Arc::downgrade(&self.leases),
        }
    }

    /// Where the host reaches a module's listener (`Protocol::Tcp`) or UDP
    /// service (`Protocol::Udp`) opened with `<local_port>` `port`: the
    /// module's ports are free ports of the host, so that several
    /// simulators run side by side. With several modules of this world on
    /// the same port, the one that opened it last.
    pub fn host_address(&self, protocol: Protocol, port: u16) -> Option<SocketAddr> {
        lock(&self.leases)
            .values()
            .rev()
            .find(|(p, n, _)| *p == protocol && *n == port)
            .map(|(_, _, a)| *a)
    }

    /// The process's shared world.
    pub fn shared() -> Arc<Services> {
        static SHARED: OnceLock<Arc<Services>> = OnceLock::new();
        SHARED.get_or_init(Services::new).clone()
    }

    /// The world's activity (see [`crate::activity`]).
    pub fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }

    /// The embedded broker's state.
    pub fn broker(&self) -> &Arc<broker::Broker> {
        &self.broker
    }

    /// Where a connect from the module to `ip:port` really goes, or `None`
    /// when nothing listens there in the simulated network (or the world
    /// says the connect is refused). Loopback addresses are the host's own;
    /// the world's endpoints are started on first use.
    pub fn address(
        &self,
        world: &World,
        ip: Ipv4Addr,
        port: u16,
        protocol: Protocol,
    ) -> Option<Route> {
        if ip.is_loopback() {
            return Some(Route::To(SocketAddr::from((ip, port))));
        }
        let endpoint = world.endpoint(ip, port, protocol)?;
        match endpoint.service {
            Service::Silent => Some(Route::Silent),
            Service::Refuse => None,
            _ => self
                .started(&endpoint.service, protocol)
                .ok()
                .map(Route::To),
        }
    }

    /// Whether `addr` is one of this world's running servers (not a port of
    /// the host or an external server, whose activity nobody can see).
    pub fn is_service(&self, addr: SocketAddr) -> bool {
        lock(&self.running)
            .iter()
            .any(|((service, _), a)| *a == addr && !matches!(service, Service::External { .. }))
    }

    /// The loopback address of `service`, starting it if it is not running.
    pub fn started(&self, service: &Service, protocol: Protocol) -> io::Result<SocketAddr> {
        let mut running = lock(&self.running);
        let key = (service.clone(), protocol);
        if let Some(addr) = running.get(&key) {
            return Ok(*addr);
        }
        let addr = self.start(service, protocol)?;
        running.insert(key, addr);
        Ok(addr)
    }

    fn start(&self, service: &Service, protocol: Protocol) -> io::Result<SocketAddr> {
        if protocol == Protocol::Udp {
            return match service {
                Service::UdpEcho => echo::start_udp(self.activity.clone(), self.stop_flag()),
                Service::External { to } => resolve(to),
                _ => Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "only udp_echo and external services speak UDP",
                )),
            };
        }
        let broker = self.broker.clone();
        let (tls, client_auth, handler): (bool, bool, Handler) = match service.clone() {
            Service::TcpEcho { greeting, once } => (
                false,
                false,
                Arc::new(move |c| echo::handle(c, greeting.as_deref(), once)),
            ),
            Service::TlsEcho {
                greeting,
                client_auth,
                once,
            } => (
                true,
                client_auth,
                Arc::new(move |c| echo::handle(c, greeting.as_deref(), once)),
            ),
            Service::Mqtt => (
                false,
                false,
                Arc::new(move |c| broker::handle(c, broker.clone())),
            ),
            Service::MqttTls { client_auth } => (
                true,
                client_auth,
                Arc::new(move |c| broker::handle(c, broker.clone())),
            ),
            Service::Http => (false, false, Arc::new(web::handle)),
            Service::Stall => (false, false, Arc::new(echo::stall)),
            // What arrives fills the server's receive window (its socket's
            // buffer, which its application never empties): the module
            // sends no more than the window (see `Service::receive_window`),
            // so taking those bytes off the socket here keeps the world
            // quiet without changing what the module sees.
            Service::Unread { tls, .. } => (tls, false, Arc::new(echo::stall)),
            Service::Close { greeting, tls } => (
                tls,
                false,
                Arc::new(move |c| conditions::close(c, greeting.as_deref())),
            ),
            Service::Reset => (false, false, Arc::new(conditions::reset)),
            Service::TlsFail => (false, false, Arc::new(conditions::tls_fail)),
            Service::TlsReset => (false, false, Arc::new(conditions::tls_reset)),
            Service::Garbage { data } => (
                false,
                false,
                Arc::new(move |c| conditions::garbage(c, &data)),
            ),
            Service::MqttRefuse { code } => (
                false,
                false,
                Arc::new(move |c| conditions::mqtt_refuse(c, code)),
            ),
            Service::MqttMute => (false, false, Arc::new(conditions::mqtt_mute)),
            Service::MqttHangUp => (false, false, Arc::new(conditions::mqtt_hang_up)),
            Service::Https {
                client_auth,
                greeting,
            } => (
                true,
                client_auth,
                Arc::new(move |c| web::handle_secure(c, greeting.as_deref())),
            ),
            Service::External { to } => return resolve(&to),
            Service::Refuse | Service::Silent => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "nothing runs at a refusing or silent endpoint",
                ))
            }
            Service::UdpEcho => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "udp_echo is a UDP service",
                ))
            }
        };
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let activity = self.activity.clone();
        let shared = self.shared.clone();
        // Watched and busy before the thread runs: a connect that comes
        // before it does is work for the world all the same.
        let watch = activity.watch(&listener);
        let looping = activity.busy();
        thread::Builder::new()
            .name(format!("sim-service-{}", addr.port()))
            .spawn(move || {
                let _watch = watch;
                accept_loop(listener, tls, client_auth, handler, looping, shared)
            })?;
        Ok(addr)
    }

    fn stop_flag(&self) -> Arc<dyn Fn() -> bool + Send + Sync> {
        let shared = self.shared.clone();
        Arc::new(move || shared.stopped.load(Ordering::SeqCst))
    }

    /// Cuts every live connection of the world's servers (the simulated
    /// network dropped every link): each is shut down from the server side,
    /// so the module sees its peer close (`+QIURC: "closed"`, `+QSSLURC:
    /// "closed"`, `+QMTSTAT`) as after a real link loss. The servers keep
    /// listening; new connections work. Returns how many were cut.
    pub fn cut_all(&self) -> usize {
        let live = lock(&self.shared.live);
        for stream in live.values() {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
        live.len()
    }

    /// The world as it started: every connection cut, the broker without
    /// sessions and with only the manual's retained message. The servers
    /// keep their addresses.
    pub fn reset(&self) {
        self.cut_all();
        self.broker.reset();
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        self.cut_all();
        // Wake the accept loops (and the UDP servers) so they see the flag.
        for (&(_, protocol), addr) in lock(&self.running).iter() {
            if !addr.ip().is_loopback() {
                continue;
            }
            match protocol {
                Protocol::Tcp => {
                    let _ = TcpStream::connect_timeout(addr, std::time::Duration::from_millis(100));
                }
                Protocol::Udp => {
                    if let Ok(u) = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)) {
                        let _ = u.send_to(&[], addr);
                    }
                }
            }
        }
    }
}

/// Where a connect from the module goes (see [`Services::address`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// To this address of the host (a server of the world, a loopback
    /// port, an external server).
    To(SocketAddr),
    /// To a host that never answers: the connect only times out.
    Silent,
}

/// Where a connect from the module to `ip:port` really goes in the
/// process's shared world (see [`Services::address`]).
pub fn address(world: &World, ip: Ipv4Addr, port: u16, protocol: Protocol) -> Option<Route> {
    Services::shared().address(world, ip, port, protocol)
}

/// The loopback address of `service` in the process's shared world,
/// starting it if it is not running.
pub fn started(service: &Service, protocol: Protocol) -> io::Result<SocketAddr> {
    Services::shared().started(service, protocol)
}

/// A connection handler: runs on its own thread for one connection.
type Handler = Arc<dyn Fn(Box<dyn Conn>) + Send + Sync>;

fn accept_loop(
    listener: TcpListener,
    tls: bool,
    client_auth: bool,
    handler: Handler,
    mut looping: crate::activity::Busy,
    shared: Arc<Shared>,
) {
    let activity = looping.activity().clone();
    loop {
        let accepted = crate::activity::accept(&listener, &mut looping);
        if shared.stopped.load(Ordering::SeqCst) {
            return;
        }
        let Ok((stream, peer)) = accepted else {
            continue;
        };
        activity.accepted(peer);
        // Nothing waits in the kernel (Nagle's algorithm holding a small
        // write until the peer acknowledges the last): what a server
        // writes is at the peer when the write returns, which the world's
        // activity relies on.
        let _ = stream.set_nodelay(true);
        // The connection's own token, taken while the loop is still busy,
        // so the world is never seen quiet between the accept and the
        // handler's first read.
        let busy = activity.busy();
        let handler = handler.clone();
        let shared = shared.clone();
        let _ = thread::Builder::new()
            .name("sim-service-conn".into())
            .spawn(move || {
                // Known to `cut_all` while the connection lives.
                let live = Registered::new(shared, &stream);
                // Dropped with the connection, before its thread counts as
                // idle: the end is recorded while the world is still busy.
                let end = EndNotice {
                    activity: busy.activity().clone(),
                    peer,
                };
                let stream = Watched::new(stream, busy).with_guard(Box::new((live, end)));
                let conn: Box<dyn Conn> = if tls {
                    match tls::accept(stream, client_auth) {
                        Ok(c) => c,
                        Err(_) => return,
                    }
                } else {
                    Box::new(stream)
                };
                handler(conn);
            });
    }
}

/// Tells the world's [`Activity`] that a service's connection ended
/// ([`Activity::ended`]) when it is dropped.
struct EndNotice {
    activity: Arc<Activity>,
    peer: std::net::SocketAddr,
}

impl Drop for EndNotice {
    fn drop(&mut self) {
        self.activity.ended(self.peer);
    }
}

/// A connection's entry in [`Shared::live`], removed when the connection
/// closes.
struct Registered {
    shared: Arc<Shared>,
    id: Option<u64>,
}

impl Registered {
    fn new(shared: Arc<Shared>, stream: &TcpStream) -> Registered {
        let Ok(clone) = stream.try_clone() else {
            return Registered { shared, id: None };
        };
        let id = shared.next.fetch_add(1, Ordering::Relaxed);
        lock(&shared.live).insert(id, clone);
        Registered {
            shared,
            id: Some(id),
        }
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            lock(&self.shared.live).remove(&id);
        }
    }
}

/// Cuts every live connection of the process's shared world (see
/// [`Services::cut_all`]).
pub fn cut_all() -> usize {
    Services::shared().cut_all()
}

/// The socket under a connection of the embedded services (a TCP stream,
/// or the stream under a TLS session), to set a read timeout on; `None`
/// for another kind of connection.
pub fn socket_of(conn: &dyn Conn) -> Option<TcpStream> {
    let any = conn.as_any();
    if let Some(s) = any.downcast_ref::<Watched>() {
        return s.stream().try_clone().ok();
    }
    if let Some(s) = any.downcast_ref::<TcpStream>() {
        return s.try_clone().ok();
    }
    any.downcast_ref::<rustls::StreamOwned<rustls::ServerConnection, Watched>>()
        .and_then(|s| s.sock.stream().try_clone().ok())
}

/// The world of a connection of the embedded services (see
/// [`crate::activity`]); `None` for another kind of connection.
pub fn activity_of(conn: &dyn Conn) -> Option<Arc<Activity>> {
    let any = conn.as_any();
    if let Some(s) = any.downcast_ref::<Watched>() {
        return Some(s.activity().clone());
    }
    any.downcast_ref::<rustls::StreamOwned<rustls::ServerConnection, Watched>>()
        .map(|s| s.sock.activity().clone())
}

/// An external `host:port`.
fn resolve(to: &str) -> io::Result<SocketAddr> {
    to.to_socket_addrs()?
        .find(SocketAddr::is_ipv4)
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{to}: no IPv4 address")))
}
