//! The module on a pseudo-terminal, so that serial tools (picocom, minicom,
//! the runtime's `SerialTransport`) open it like a USB serial device.
//!
//! The simulator keeps the master side; clients open the slave side (its
//! path is `/dev/pts/N`). A client may close the device and open it again:
//! the module keeps running meanwhile, as a real module does when its USB
//! cable stays plugged in, and what it prints while nobody has the device
//! open is lost, as on a UART nobody listens to.
//!
//! ```no_run
//! let (path, _server) = fcm242d_sim::pty::spawn(fcm242d_sim::world::World::default())?;
//! let link = fcm242d::transport::SerialTransport::open(&path.to_string_lossy(), 115_200)?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use fcm242d::transport::Transport;
use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};

use crate::clock::Clock;
use crate::faults::Faults;
use crate::module::Module;
use crate::serve::{serve_events, serve_session, Pace, Reader, Session};
use crate::world::World;

/// How long the simulator sleeps between looks while no client has the
/// device open (the master then reports a hang-up at once).
const NO_CLIENT_NAP: Duration = Duration::from_millis(20);
/// How long a write may wait for a client that does not read before the
/// rest of the output is dropped (a UART does not wait either).
const WRITE_PATIENCE: Duration = Duration::from_secs(2);

/// The master side of a pseudo-terminal, as a link to the module.
#[derive(Debug)]
pub struct Pty {
    master: OwnedFd,
    path: PathBuf,
}

impl Pty {
    /// Creates a pseudo-terminal in raw mode (no echo, no line editing, no
    /// CR/LF translation: bytes pass as on a UART).
    pub fn open() -> io::Result<Pty> {
        let pair = nix::pty::openpty(None, None).map_err(io::Error::from)?;
        let path = nix::unistd::ttyname(&pair.slave).map_err(io::Error::from)?;
        let mut raw = tcgetattr(&pair.slave).map_err(io::Error::from)?;
        cfmakeraw(&mut raw);
        tcsetattr(&pair.slave, SetArg::TCSANOW, &raw).map_err(io::Error::from)?;
        // Only clients keep the slave open, so that the master sees when
        // the last one closed it (and never reads its own output back).
        drop(pair.slave);
        let flags = fcntl(&pair.master, FcntlArg::F_GETFL).map_err(io::Error::from)?;
        let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
        fcntl(&pair.master, FcntlArg::F_SETFL(flags)).map_err(io::Error::from)?;
        Ok(Pty {
            master: pair.master,
            path,
        })
    }

    /// The device clients open (`/dev/pts/N`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits up to `timeout` for `events`; the events that happened
    /// (empty on timeout).
    fn wait(&self, events: PollFlags, timeout: Duration) -> io::Result<PollFlags> {
        let ms = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(self.master.as_fd(), events)];
        loop {
            match poll(&mut fds, PollTimeout::from(ms)) {
                Ok(0) => return Ok(PollFlags::empty()),
                Ok(_) => return Ok(fds[0].revents().unwrap_or(PollFlags::empty())),
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

impl Transport for Pty {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        let deadline = Instant::now() + WRITE_PATIENCE;
        let mut rest = bytes;
        while !rest.is_empty() {
            match nix::unistd::write(&self.master, rest) {
                Ok(n) => rest = rest.get(n..).unwrap_or_default(),
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        // The client does not read: the rest is lost.
                        return Ok(());
                    }
                    let got = self.wait(PollFlags::POLLOUT, left)?;
                    if got.contains(PollFlags::POLLHUP) {
                        return Ok(());
                    }
                }
                // No client has the device open: nobody hears the module.
                Err(Errno::EIO) => return Ok(()),
                Err(e) => return Err(io::Error::from(e)),
            }
        }
        Ok(())
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let got = self.wait(PollFlags::POLLIN, timeout)?;
        if got.is_empty() {
            return Ok(0);
        }
        if !got.contains(PollFlags::POLLIN) {
            // A hang-up alone: no client has the device open.
            thread::sleep(timeout.min(NO_CLIENT_NAP));
            return Ok(0);
        }
        match nix::unistd::read(&self.master, buf) {
            Ok(n) if n > 0 => Ok(n),
            Err(Errno::EAGAIN) | Err(Errno::EINTR) => Ok(0),
            // EIO (or an empty read): no client has the device open. Keep
            // serving; a client may open it again. The hang-up is reported
            // at once, so pause instead of spinning.
            Ok(_) | Err(Errno::EIO) => {
                thread::sleep(timeout.min(NO_CLIENT_NAP));
                Ok(0)
            }
            Err(e) => Err(io::Error::from(e)),
        }
    }

    fn describe(&self) -> String {
        format!("pty:{}", self.path.display())
    }
}

/// Makes `link` a symbolic link to the pseudo-terminal `target` (replacing
/// an older symbolic link there, never another kind of file).
pub fn link(target: &Path, link: &Path) -> io::Result<()> {
    if link
        .symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
    {
        std::fs::remove_file(link)?;
    }
    std::os::unix::fs::symlink(target, link)
}

/// Serves `module` on `pty` for as long as the process runs, with time
/// from `clock` (a test's virtual clock; see [`serve_live`] for the
/// system's).
pub fn serve(mut pty: Pty, module: Module, faults: &Faults, clock: &dyn Clock) -> io::Result<()> {
    let mut session = Session::new(module, faults);
    serve_session(&mut pty, &mut session, clock, Pace::default())
}

/// Serves `module` on `pty` for as long as the process runs, on the
/// system's clock, event-driven (see [`crate::serve::serve_events`]).
pub fn serve_live(mut pty: Pty, module: Module, faults: &Faults) -> io::Result<()> {
    let mut reading = Pty {
        master: pty.master.try_clone()?,
        path: pty.path.clone(),
    };
    let input: Reader = Box::new(move |buf| loop {
        // Nothing (or no client) for a while is no end: a client may
        // open the device again.
        match reading.read(buf, Duration::from_secs(3600)) {
            Ok(0) => {}
            r => return r,
        }
    });
    let mut output = |bytes: &[u8]| pty.write_all(bytes);
    let mut session = Session::new(module, faults);
    serve_events(input, &mut output, &mut session, Pace::default())
}

/// Creates a pseudo-terminal and serves a module in `world` on it from a
/// thread (on the system's clock, event-driven); returns the device path
/// to open. The thread serves until the process ends.
pub fn spawn(world: World) -> io::Result<(PathBuf, thread::JoinHandle<()>)> {
    let pty = Pty::open()?;
    let path = pty.path().to_path_buf();
    let module = Module::new(world);
    let handle = thread::Builder::new()
        .name("sim-pty".into())
        .spawn(move || {
            let _ = serve_live(pty, module, &Faults::none());
        })?;
    Ok((path, handle))
}

/// Like [`spawn`], with `faults` and time from `clock`.
pub fn spawn_with(
    world: World,
    faults: Faults,
    clock: Arc<dyn Clock>,
) -> io::Result<(PathBuf, thread::JoinHandle<()>)> {
    let pty = Pty::open()?;
    let path = pty.path().to_path_buf();
    // Booted before the path is handed out, so the first command is
    // answered as quickly as the others.
    let module = Module::new(world);
    let handle = thread::Builder::new()
        .name("sim-pty".into())
        .spawn(move || {
            let _ = serve(pty, module, &faults, &*clock);
        })?;
    Ok((path, handle))
}
