//! A child process's stdin / stdout as the link: typically the simulator's
//! stdio front end, started by the client or the conformance runner.

use super::{closed, context, Transport};
use std::fmt;
use std::io::{self, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::string::String;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::time::Duration;
use std::vec::Vec;

/// What the reader thread passes on: a chunk of stdout, or the error that
/// ended it. The end of stdout is the channel's disconnection.
type Chunk = io::Result<Vec<u8>>;

/// How much the reader thread asks for per `read` on the child's stdout.
const CHUNK: usize = 4096;

/// A [`Transport`] over a child process: bytes written go to its stdin,
/// bytes read come from its stdout; its stderr is inherited (so its logs
/// show up in the parent's).
///
/// A reader thread moves stdout into a channel, so reads can time out. The
/// end of the child's stdout (it exited, or closed it) gives
/// [`io::ErrorKind::UnexpectedEof`] once everything before it was read.
/// Dropping the transport closes the child's stdin, kills the child and
/// reaps it.
///
/// ```no_run
/// use fcm242d::transport::{ChildTransport, Transport};
/// use std::process::Command;
/// use std::time::Duration;
///
/// let mut cmd = Command::new("fcm242d-sim");
/// cmd.arg("--stdio");
/// let mut link = ChildTransport::spawn(cmd)?;
/// link.write_all(b"AT\r\n")?;
/// let mut buf = [0u8; 256];
/// let n = link.read(&mut buf, Duration::from_millis(300))?;
/// println!("{} answered {:?}", link.describe(), &buf[..n]);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct ChildTransport {
    child: Child,
    /// `None` once closed.
    stdin: Option<ChildStdin>,
    rx: Receiver<Chunk>,
    /// The chunk being read out, and how far.
    pending: Vec<u8>,
    pos: usize,
    /// An error met while draining ahead, reported by the next read.
    pending_err: Option<io::Error>,
    /// The reader thread has finished (stdout ended).
    eof: bool,
    name: String,
}

impl ChildTransport {
    /// Starts `cmd` with piped stdin and stdout and inherited stderr.
    ///
    /// Any stdio settings already made on `cmd` are overridden.
    pub fn spawn(mut cmd: Command) -> io::Result<ChildTransport> {
        let name = describe_command(&cmd);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd
            .spawn()
            .map_err(|e| context(&std::format!("{name}: cannot start"), e))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let Some(mut stdout) = stdout else {
            reap(&mut child);
            return Err(io::Error::other(std::format!(
                "{name}: child has no stdout pipe"
            )));
        };

        let (tx, rx) = mpsc::channel::<Chunk>();
        let reader = std::thread::Builder::new()
            .name(String::from("fcm242d-child-reader"))
            .spawn(move || {
                let mut buf = std::vec![0u8; CHUNK];
                loop {
                    match stdout.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            if tx.send(Ok(buf[..n].to_vec())).is_err() {
                                break; // the transport is gone
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            break;
                        }
                    }
                }
            });
        if let Err(e) = reader {
            reap(&mut child);
            return Err(context(&std::format!("{name}: cannot start reader"), e));
        }
        // The reader thread is detached: it ends when stdout closes (the
        // child is killed on drop) or when the channel's receiver is gone.

        Ok(ChildTransport {
            child,
            stdin,
            rx,
            pending: Vec::new(),
            pos: 0,
            pending_err: None,
            eof: false,
            name,
        })
    }

    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The child's exit status if it has exited, without waiting.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.child.try_wait().map_err(|e| context(&self.name, e))
    }

    /// Closes the child's stdin (it reads end-of-file). Later writes fail
    /// with [`io::ErrorKind::BrokenPipe`]; reads go on until stdout ends.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Copies buffered output into `buf`, then takes further chunks that
    /// have already arrived, without waiting. Returns the count copied.
    fn fill(&mut self, buf: &mut [u8]) -> usize {
        let mut n = 0;
        loop {
            let avail = &self.pending[self.pos..];
            let take = avail.len().min(buf.len() - n);
            buf[n..n + take].copy_from_slice(&avail[..take]);
            n += take;
            self.pos += take;
            if n == buf.len() || self.eof || self.pending_err.is_some() {
                return n;
            }
            // The pending chunk is used up and there is room for more.
            match self.rx.try_recv() {
                Ok(Ok(chunk)) => {
                    self.pending = chunk;
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.pending_err = Some(e);
                    return n;
                }
                Err(TryRecvError::Empty) => return n,
                Err(TryRecvError::Disconnected) => {
                    self.eof = true;
                    return n;
                }
            }
        }
    }

    fn eof_error(&mut self) -> io::Error {
        let detail = match self.child.try_wait() {
            Ok(Some(status)) => std::format!("child's stdout ended; it exited with {status}"),
            _ => String::from("child's stdout ended"),
        };
        closed(&self.name, &detail)
    }
}

impl Transport for ChildTransport {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        let Some(stdin) = self.stdin.as_mut() else {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                std::format!("{}: stdin is closed", self.name),
            ));
        };
        stdin
            .write_all(bytes)
            .and_then(|()| stdin.flush())
            .map_err(|e| context(&self.name, e))
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = self.fill(buf);
        if n > 0 {
            return Ok(n);
        }
        if let Some(e) = self.pending_err.take() {
            return Err(context(&self.name, e));
        }
        if self.eof {
            return Err(self.eof_error());
        }
        let first = if timeout.is_zero() {
            self.rx.try_recv().map_err(|e| match e {
                TryRecvError::Empty => RecvTimeoutError::Timeout,
                TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
            })
        } else {
            self.rx.recv_timeout(timeout)
        };
        match first {
            Ok(Ok(chunk)) => {
                self.pending = chunk;
                self.pos = 0;
                Ok(self.fill(buf))
            }
            Ok(Err(e)) => Err(context(&self.name, e)),
            Err(RecvTimeoutError::Timeout) => Ok(0),
            Err(RecvTimeoutError::Disconnected) => {
                self.eof = true;
                Err(self.eof_error())
            }
        }
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

impl Drop for ChildTransport {
    fn drop(&mut self) {
        self.stdin = None;
        reap(&mut self.child);
    }
}

impl fmt::Debug for ChildTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildTransport")
            .field("name", &self.name)
            .field("pid", &self.child.id())
            .field("eof", &self.eof)
            .finish()
    }
}

/// Kills the child unless it already exited, then waits for it.
fn reap(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// `child:PROGRAM ARG…`, lossily decoded.
fn describe_command(cmd: &Command) -> String {
    let mut name = std::format!("child:{}", cmd.get_program().to_string_lossy());
    for arg in cmd.get_args() {
        name.push(' ');
        name.push_str(&arg.to_string_lossy());
    }
    name
}
