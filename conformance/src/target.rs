//! Where a run goes: the built-in simulator (in process), a serial port, a
//! TCP link to a module's UART, or a pseudo-terminal.

use std::path::PathBuf;
use std::time::Duration;

use fcm242d::transport::{SerialTransport, TcpTransport, Transport};
use fcm242d_sim::world::World;

/// A target named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The built-in simulator, in process, in its default world or a world file.
    Sim {
        /// A world file (quirks, other servers); `None`: the embedded world.
        world: Option<PathBuf>,
    },
    /// A serial port and baud rate.
    Serial {
        /// Device path.
        path: String,
        /// Baud rate.
        baud: u32,
    },
    /// A TCP connection to a UART bridge (or `fcm242d-sim --tcp`).
    Tcp {
        /// `host:port`.
        addr: String,
    },
    /// A pseudo-terminal (e.g. `fcm242d-sim --pty`).
    Pty {
        /// Its path.
        path: String,
    },
}

impl Target {
    /// Reads `sim`, `sim:WORLD.yaml`, `serial:PATH[@BAUD]`, `tcp:HOST:PORT`,
    /// `pty:PATH`.
    pub fn parse(text: &str) -> Result<Target, String> {
        if text == "sim" {
            return Ok(Target::Sim { world: None });
        }
        if let Some(w) = text.strip_prefix("sim:") {
            return Ok(Target::Sim {
                world: Some(PathBuf::from(w)),
            });
        }
        if text.starts_with("serial:") {
            let (path, baud) = SerialTransport::parse_target(text).map_err(|e| e.to_string())?;
            return Ok(Target::Serial { path, baud });
        }
        if let Some(addr) = text.strip_prefix("tcp:") {
            if !addr.contains(':') {
                return Err(format!("{text}: expected tcp:HOST:PORT"));
            }
            return Ok(Target::Tcp { addr: addr.into() });
        }
        if let Some(path) = text.strip_prefix("pty:") {
            if path.is_empty() {
                return Err(format!("{text}: expected pty:PATH"));
            }
            return Ok(Target::Pty { path: path.into() });
        }
        Err(format!(
            "unknown target `{text}`: use sim, sim:WORLD.yaml, serial:PATH[@BAUD], tcp:HOST:PORT or pty:PATH"
        ))
    }

    /// Whether this is the built-in simulator.
    pub fn is_sim(&self) -> bool {
        matches!(self, Target::Sim { .. })
    }

    /// The name for reports.
    pub fn name(&self) -> String {
        match self {
            Target::Sim { world: None } => "sim".into(),
            Target::Sim { world: Some(w) } => format!("sim:{}", w.display()),
            Target::Serial { path, baud } => format!("serial:{path}@{baud}"),
            Target::Tcp { addr } => format!("tcp:{addr}"),
            Target::Pty { path } => format!("pty:{path}"),
        }
    }

    /// The world of a simulator target.
    pub fn world(&self) -> Result<World, String> {
        match self {
            Target::Sim { world: Some(w) } => World::load(w),
            _ => Ok(World::default()),
        }
    }

    /// Opens the target.
    pub fn open(&self) -> Result<Box<dyn Transport>, String> {
        match self {
            Target::Sim { .. } => Ok(crate::session::start_sim(self.world()?)),
            Target::Serial { path, baud } => SerialTransport::open(path, *baud)
                .map(|t| Box::new(t) as Box<dyn Transport>)
                .map_err(|e| e.to_string()),
            Target::Pty { path } => SerialTransport::open(path, 115_200)
                .map(|t| Box::new(t) as Box<dyn Transport>)
                .map_err(|e| e.to_string()),
            Target::Tcp { addr } => TcpTransport::connect(addr.as_str(), Duration::from_secs(10))
                .map(|t| Box::new(t) as Box<dyn Transport>)
                .map_err(|e| format!("{addr}: {e}")),
        }
    }
}
