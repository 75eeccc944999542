//! Runs a module over a byte stream: in process (for tests and the
//! conformance runner), on standard input/output, or on TCP connections.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use fcm242d::transport::{MemoryTransport, TcpTransport, Transport};

use crate::module::Module;
use crate::world::World;

/// Serves `module` on `link` until the link closes.
pub fn serve(link: &mut dyn Transport, module: &mut Module) -> std::io::Result<()> {
    let mut buf = [0u8; 4096];
    loop {
        let now = Instant::now();
        let wait = module
            .next_due()
            .map(|at| at.saturating_duration_since(now))
            .unwrap_or(Duration::from_millis(50))
            .min(Duration::from_millis(50));
        let n = match link.read(&mut buf, wait) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                // Input ended: print what is still scheduled (a piped script
                // expects the URCs its commands cause), then stop.
                while let Some(at) = module.next_due() {
                    std::thread::sleep(at.saturating_duration_since(Instant::now()));
                    let out = module.poll(Instant::now());
                    if !out.is_empty() && link.write_all(&out).is_err() {
                        break;
                    }
                }
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let now = Instant::now();
        let mut out = module.input(&buf[..n], now);
        out.extend(module.poll(now));
        if !out.is_empty() {
            link.write_all(&out)?;
        }
    }
}

/// Starts a module in `world` on a thread and returns the host's end of an
/// in-memory link to it. The module stops when the link is dropped.
pub fn in_process(world: World) -> (MemoryTransport, thread::JoinHandle<()>) {
    let (host, mut module_end) = MemoryTransport::pair();
    let handle = thread::spawn(move || {
        let mut module = Module::new(world);
        let _ = serve(&mut module_end, &mut module);
    });
    (host, handle)
}

/// Serves one module per TCP connection (each connection is a UART).
pub fn tcp(listener: TcpListener, world: World) -> std::io::Result<()> {
    for stream in listener.incoming() {
        let stream = stream?;
        let world = world.clone();
        thread::spawn(move || {
            let mut link = TcpTransport::from_stream(stream);
            let mut module = Module::new(world);
            let _ = serve(&mut link, &mut module);
        });
    }
    Ok(())
}

/// Standard input and output as a link.
struct Stdio {
    rx: mpsc::Receiver<Vec<u8>>,
    pending: Vec<u8>,
    closed: bool,
}

impl Stdio {
    fn new() -> Self {
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut stdin = std::io::stdin();
            let mut buf = [0u8; 4096];
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if tx.send(buf[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        Stdio {
            rx,
            pending: Vec::new(),
            closed: false,
        }
    }
}

impl Transport for Stdio {
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let mut out = std::io::stdout();
        out.write_all(bytes)?;
        out.flush()
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> std::io::Result<usize> {
        if self.pending.is_empty() && !self.closed {
            match self.rx.recv_timeout(timeout) {
                Ok(bytes) => self.pending = bytes,
                Err(mpsc::RecvTimeoutError::Timeout) => return Ok(0),
                Err(mpsc::RecvTimeoutError::Disconnected) => self.closed = true,
            }
        }
        if self.pending.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "stdin closed",
            ));
        }
        let n = self.pending.len().min(buf.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }

    fn describe(&self) -> String {
        "stdio".into()
    }
}

/// Serves one module on standard input and output until input ends.
pub fn stdio(world: World) -> std::io::Result<()> {
    let mut link = Stdio::new();
    let mut module = Module::new(world);
    serve(&mut link, &mut module)
}
