//! The simulated network's servers (the world's endpoints), started on the
//! host's loopback the first time a module connects to them, and shared by
//! every module of the process. A module connecting to `192.0.2.2:8306`
//! really connects to the embedded MQTT broker on some loopback port.

pub mod broker;
pub mod echo;
pub mod tls;
pub mod web;

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;

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

/// Where a connect from the module to `ip:port` really goes, or `None` when
/// nothing listens there in the simulated network. Loopback addresses are
/// the host's own; the world's endpoints are started on first use.
pub fn address(world: &World, ip: Ipv4Addr, port: u16, protocol: Protocol) -> Option<SocketAddr> {
    if ip.is_loopback() {
        return Some(SocketAddr::from((ip, port)));
    }
    let endpoint = world.endpoints.iter().find(|e| {
        e.port == port && e.protocol == protocol && e.address.parse::<Ipv4Addr>().ok() == Some(ip)
    })?;
    started(&endpoint.service, protocol).ok()
}

/// The loopback address of `service`, starting it if it is not running.
pub fn started(service: &Service, protocol: Protocol) -> io::Result<SocketAddr> {
    static RUNNING: OnceLock<Mutex<HashMap<(Service, Protocol), SocketAddr>>> = OnceLock::new();
    let running = RUNNING.get_or_init(Default::default);
    let mut running = running.lock().unwrap_or_else(|e| e.into_inner());
    let key = (service.clone(), protocol);
    if let Some(addr) = running.get(&key) {
        return Ok(*addr);
    }
    let addr = start(service, protocol)?;
    running.insert(key, addr);
    Ok(addr)
}

/// A connection handler: runs on its own thread for one connection.
type Handler = Arc<dyn Fn(Box<dyn Conn>) + Send + Sync>;

fn start(service: &Service, protocol: Protocol) -> io::Result<SocketAddr> {
    if protocol == Protocol::Udp {
        return match service {
            Service::UdpEcho => echo::start_udp(),
            Service::External { to } => resolve(to),
            _ => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "only udp_echo and external services speak UDP",
            )),
        };
    }
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
        Service::Mqtt => (false, false, Arc::new(broker::handle)),
        Service::MqttTls { client_auth } => (true, client_auth, Arc::new(broker::handle)),
        Service::Http => (false, false, Arc::new(web::handle)),
        Service::Https {
            client_auth,
            greeting,
        } => (
            true,
            client_auth,
            Arc::new(move |c| web::handle_secure(c, greeting.as_deref())),
        ),
        Service::External { to } => return resolve(&to),
        Service::UdpEcho => {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "udp_echo is a UDP service",
            ))
        }
    };
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let addr = listener.local_addr()?;
    thread::Builder::new()
        .name(format!("sim-service-{}", addr.port()))
        .spawn(move || accept_loop(listener, tls, client_auth, handler))?;
    Ok(addr)
}

fn accept_loop(listener: TcpListener, tls: bool, client_auth: bool, handler: Handler) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let handler = handler.clone();
        let _ = thread::Builder::new()
            .name("sim-service-conn".into())
            .spawn(move || {
                // Known to `cut_all` while the handler runs.
                let _live = Registered::new(&stream);
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

/// The server side of every live connection of the embedded services, so
/// that a fault can cut them all (see [`cut_all`]).
fn live() -> &'static Mutex<HashMap<u64, TcpStream>> {
    static LIVE: OnceLock<Mutex<HashMap<u64, TcpStream>>> = OnceLock::new();
    LIVE.get_or_init(Default::default)
}

/// A connection's entry in [`live`], removed when the handler ends.
struct Registered(Option<u64>);

impl Registered {
    fn new(stream: &TcpStream) -> Registered {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let Ok(clone) = stream.try_clone() else {
            return Registered(None);
        };
        let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        live()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, clone);
        Registered(Some(id))
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        if let Some(id) = self.0 {
            live().lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
        }
    }
}

/// Cuts every live connection of the embedded services (the simulated
/// network dropped every link): each is shut down from the server side, so
/// the module sees its peer close (`+QIURC: "closed"`, `+QSSLURC:
/// "closed"`, `+QMTSTAT`) as after a real link loss. The services keep
/// listening; new connections work. Returns how many were cut. The
/// services are shared by every module of the process, so all their
/// connections are cut.
pub fn cut_all() -> usize {
    let live = live().lock().unwrap_or_else(|e| e.into_inner());
    for stream in live.values() {
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }
    live.len()
}

/// The socket under a connection of the embedded services (a TCP stream,
/// or the stream under a TLS session), to set a read timeout on; `None`
/// for another kind of connection.
pub fn socket_of(conn: &dyn Conn) -> Option<TcpStream> {
    let any = conn.as_any();
    if let Some(s) = any.downcast_ref::<TcpStream>() {
        return s.try_clone().ok();
    }
    any.downcast_ref::<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>()
        .and_then(|s| s.sock.try_clone().ok())
}

/// An external `host:port`.
fn resolve(to: &str) -> io::Result<SocketAddr> {
    to.to_socket_addrs()?
        .find(SocketAddr::is_ipv4)
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{to}: no IPv4 address")))
}

/// Keeps the unused-import lint quiet until a service needs the types.
#[allow(dead_code)]
fn _types(_: TcpStream, _: UdpSocket) {}
