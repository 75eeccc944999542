//! What every generated command form and response line provides: its catalogue
//! metadata as constants, its encoding, and its decoding.

use alloc::string::String;

use crate::generated::urcs::UrcKind;
use crate::wire::DecodeError;

/// Kind of a command form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FormKind {
    /// `AT+X=?`
    Test,
    /// `AT+X?`
    Read,
    /// `AT+X=…`
    Write,
    /// `AT+X`
    Execute,
}

/// Conformance safety class of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Safety {
    /// Reads state, or changes volatile state that can be restored.
    Safe,
    /// Needs set-up and tear-down.
    Stateful,
    /// Writes saved configuration.
    Persistent,
    /// Ends or suspends the session.
    Disruptive,
    /// Cannot be undone from the host.
    Destructive,
}

/// The catalogue's maximum response time, as the manual gives it. The time for
/// a particular command value is [`AtCommand::time_limit_ms`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeLimit {
    /// A fixed limit.
    Fixed {
        /// Milliseconds.
        ms: u64,
    },
    /// The largest of the limits of several situations.
    Conditional {
        /// Milliseconds.
        max_ms: u64,
    },
    /// Set by a parameter of the command.
    Param,
    /// Set by configuration; the limit with the default configuration.
    Config {
        /// Milliseconds, when the manual gives the default.
        default_ms: Option<u64>,
    },
    /// Determined by the network.
    Network {
        /// Milliseconds.
        ms: u64,
    },
    /// The network's time plus a parameter's value.
    NetworkPlusParam {
        /// The network part, when given.
        ms: Option<u64>,
    },
    /// The manual gives no limit.
    NotGiven,
}

/// The prompt of a data phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// `>`
    Greater,
    /// `CONNECT`
    Connect,
}

/// A data phase: the prompt, then the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataPhase {
    /// What the module prints to ask for the payload.
    pub prompt: Prompt,
    /// The parameter giving the payload's length, when the form has one.
    pub length_param: Option<&'static str>,
    /// The byte that ends a variable-length payload (Ctrl+Z, 0x1A).
    pub terminator: Option<u8>,
    /// The byte that cancels the payload (Esc, 0x1B).
    pub cancel: Option<u8>,
    /// The largest payload, in bytes.
    pub max_length: Option<usize>,
}

/// What follows a `CONNECT` final result of a form that reads data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterConnect {
    /// Nothing special (a data prompt or transparent mode, if anything).
    Nothing,
    /// `CONNECT <n>`, then exactly n bytes, then a final result (QFREAD).
    Length,
    /// `CONNECT`, then a body up to the final `OK` (QHTTPREAD).
    UntilOk,
}

/// A response or URC line type.
pub trait Line: Sized + core::fmt::Debug + Clone + PartialEq {
    /// Reads the line (without its line ending).
    fn parse(line: &str) -> Result<Self, DecodeError>;
    /// Writes the line (without its line ending).
    fn render(&self) -> String;
}

/// The line type of a form that has no information lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoLine {}

impl Line for NoLine {
    fn parse(_line: &str) -> Result<Self, DecodeError> {
        Err(DecodeError::NoMatch {
            expected: "no information line",
            at: None,
        })
    }
    fn render(&self) -> String {
        match *self {}
    }
}

/// One form of one command, with typed parameters.
pub trait AtCommand: Sized {
    /// The command's name (`AT+QIOPEN`).
    const NAME: &'static str;
    /// The form's kind.
    const KIND: FormKind;
    /// The form's syntax in the manual's notation.
    const SYNTAX: &'static str;
    /// The sub-command key, for QICFG-style commands.
    const SUBCOMMAND: Option<&'static str>;
    /// Conformance safety class.
    const SAFETY: Safety;
    /// Maximum response time as the manual gives it.
    const TIME_LIMIT: TimeLimit;
    /// The form's data phase.
    const DATA_PHASE: Option<DataPhase>;
    /// The URC that completes the command after its final result.
    const COMPLETION: Option<UrcKind>;
    /// Whether a successful response switches to transparent mode.
    const ENTERS_TRANSPARENT: bool;
    /// What follows `CONNECT`, for forms that read data after it.
    const AFTER_CONNECT: AfterConnect;
    /// The type of the form's information lines.
    type Line: Line;

    /// The command line, without its line ending.
    fn encode(&self) -> String;
    /// Reads a command line (what the simulator does).
    fn parse(line: &str) -> Result<Self, DecodeError>;
    /// The time limit for this value, in milliseconds (parameter-dependent
    /// limits use the parameter or its default); `None` when the manual gives none.
    fn time_limit_ms(&self) -> Option<u64>;
    /// The payload length this value announces for its data phase.
    fn payload_length(&self) -> Option<usize>;
    /// For an information line of this form that announces a data block
    /// (`+QIRD: <read_actual_length>`), the block's length.
    fn data_length_of(line: &str) -> Option<usize>;
}

/// One template of the catalogue with its reader: what conformance checks and
/// round-trip tests iterate over.
#[derive(Debug, Clone, Copy)]
pub struct Template {
    /// The command (`AT+QIOPEN`) or URC (`+QIURC`) it belongs to.
    pub owner: &'static str,
    /// The form's syntax (for information lines: the form they answer).
    pub form: &'static str,
    /// The template text.
    pub template: &'static str,
    /// The name of its grammar rule.
    pub rule: &'static str,
    /// Decodes a line with the template's type and writes it back.
    pub reencode: fn(&str) -> Result<String, DecodeError>,
}
