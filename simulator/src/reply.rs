//! What the module answers to one command, and how it is written on the UART.

use std::time::Duration;

use crate::state::State;

/// A final result code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Final {
    /// `OK`
    Ok,
    /// `ERROR`
    Error,
    /// `+CME ERROR: <err>`
    Cme(i64),
    /// `SEND OK`
    SendOk,
    /// `SEND FAIL`
    SendFail,
    /// `CONNECT`
    Connect,
    /// `CONNECT <n>`
    ConnectN(usize),
    /// `NO CARRIER`
    NoCarrier,
    /// Nothing (the answer continues in a data phase).
    Nothing,
}

impl Final {
    fn text(self) -> Option<String> {
        Some(match self {
            Final::Ok => "OK".into(),
            Final::Error => "ERROR".into(),
            Final::Cme(code) => format!("+CME ERROR: {code}"),
            Final::SendOk => "SEND OK".into(),
            Final::SendFail => "SEND FAIL".into(),
            Final::Connect => "CONNECT".into(),
            Final::ConnectN(n) => format!("CONNECT {n}"),
            Final::NoCarrier => "NO CARRIER".into(),
            Final::Nothing => return None,
        })
    }
}

/// What the module does with a payload once it has it.
pub type Continuation = Box<dyn FnOnce(&mut State, Payload) -> Reply + Send>;

/// A payload the host sent in a data phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// The bytes (without Ctrl+Z).
    Data(Vec<u8>),
    /// The host pressed Esc.
    Cancelled,
}

/// A request for a payload: the prompt, how it ends, what follows.
pub struct DataRequest {
    /// `>` (true) or `CONNECT` (false).
    pub greater_prompt: bool,
    /// A fixed length, when announced.
    pub length: Option<usize>,
    /// Whether Ctrl+Z ends it (variable length) and Esc cancels it.
    pub ctrl_z: bool,
    /// How long the phase may last from the prompt (`AT+QFWRITE`'s
    /// `<timeout>`): when it is over, [`DataRequest::then`] gets the bytes
    /// that came so far as [`Payload::Data`]. `None`: no limit.
    pub timeout: Option<Duration>,
    /// What the module answers with the payload.
    pub then: Continuation,
}

impl std::fmt::Debug for DataRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataRequest")
            .field("greater_prompt", &self.greater_prompt)
            .field("length", &self.length)
            .field("ctrl_z", &self.ctrl_z)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The module's answer to one command.
#[derive(Debug)]
pub struct Reply {
    /// Information lines.
    pub lines: Vec<String>,
    /// Raw bytes right after the information lines (a `+QIRD` data block).
    pub data: Option<Vec<u8>>,
    /// The final result.
    pub result: Final,
    /// Raw bytes after the final result (QFREAD's file after `CONNECT <n>`), then `OK`.
    pub after: Option<Vec<u8>>,
    /// URC lines the module prints later (deferred completions, state changes).
    pub urcs: Vec<(Duration, String)>,
    /// A data phase that follows.
    pub phase: Option<DataRequest>,
}

impl Reply {
    /// `OK` alone.
    pub fn ok() -> Reply {
        Reply::result(Final::Ok)
    }

    /// `ERROR` alone.
    pub fn error() -> Reply {
        Reply::result(Final::Error)
    }

    /// A final result alone.
    pub fn result(result: Final) -> Reply {
        Reply {
            lines: Vec::new(),
            data: None,
            result,
            after: None,
            urcs: Vec::new(),
            phase: None,
        }
    }

    /// Information lines then `OK`.
    pub fn lines(lines: Vec<String>) -> Reply {
        Reply {
            lines,
            ..Reply::ok()
        }
    }

    /// Adds a URC printed after `delay`.
    pub fn with_urc(mut self, delay: Duration, line: impl Into<String>) -> Reply {
        self.urcs.push((delay, line.into()));
        self
    }

    /// The bytes written now (the URCs are scheduled separately).
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for l in &self.lines {
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(l.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        if let Some(d) = &self.data {
            out.extend_from_slice(d);
            out.extend_from_slice(b"\r\n");
        }
        if let Some(f) = self.result.text() {
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(f.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        if let Some(after) = &self.after {
            out.extend_from_slice(after);
            out.extend_from_slice(b"\r\nOK\r\n");
        }
        if let Some(p) = &self.phase {
            out.extend_from_slice(if p.greater_prompt {
                b"\r\n> "
            } else {
                b"\r\nCONNECT\r\n"
            });
        }
        out
    }
}
