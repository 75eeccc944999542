//! The shape of one generated conformance case. The cases themselves are
//! data emitted from the catalogue by `cargo xtask gen` into
//! [`crate::generated::cases`]; the runner interprets them.

/// The catalogue's safety class of a command (DESIGN.md, "Conformance safety
/// classes"). A run touches the last three only when asked by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Safety {
    /// Reads state or changes volatile state that the case restores.
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

impl Safety {
    /// The catalogue's name of the class.
    pub fn name(self) -> &'static str {
        match self {
            Safety::Safe => "safe",
            Safety::Stateful => "stateful",
            Safety::Persistent => "persistent",
            Safety::Disruptive => "disruptive",
            Safety::Destructive => "destructive",
        }
    }

    /// The class named `name`.
    pub fn from_name(name: &str) -> Option<Safety> {
        Some(match name {
            "safe" => Safety::Safe,
            "stateful" => Safety::Stateful,
            "persistent" => Safety::Persistent,
            "disruptive" => Safety::Disruptive,
            "destructive" => Safety::Destructive,
            _ => return None,
        })
    }
}

/// What a case checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The test form (`=?`) answers lines the grammar accepts.
    TestForm,
    /// The read form (`?`) answers a response of the catalogue's shape.
    ReadForm,
    /// The execution form is accepted.
    Execute,
    /// The write form with every required parameter at a valid value.
    Baseline,
    /// A parameter at its range's minimum or maximum.
    Boundary,
    /// A parameter at one of its enumeration values.
    EnumValue,
    /// A string parameter at its shortest or longest length.
    Length,
    /// Every optional parameter present.
    OptionalPresent,
    /// A repeated group given several times.
    Repeated,
    /// A value outside the parameter's range (must be refused).
    OutOfRange,
    /// A value of the wrong type (must be refused).
    WrongType,
    /// A string one byte longer than allowed (must be refused).
    OverLong,
    /// One argument too many (must be refused).
    WrongArity,
    /// An unknown sub-command key (must be refused).
    UnknownKey,
    /// A cross-parameter rule broken (must be refused).
    RuleBroken,
}

impl Kind {
    /// Whether the case expects the module to refuse the line.
    pub fn expects_refusal(self) -> bool {
        matches!(
            self,
            Kind::OutOfRange
                | Kind::WrongType
                | Kind::OverLong
                | Kind::WrongArity
                | Kind::UnknownKey
                | Kind::RuleBroken
        )
    }

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::TestForm => "test-form",
            Kind::ReadForm => "read-form",
            Kind::Execute => "execute",
            Kind::Baseline => "baseline",
            Kind::Boundary => "boundary",
            Kind::EnumValue => "enum-value",
            Kind::Length => "length",
            Kind::OptionalPresent => "optional-present",
            Kind::Repeated => "repeated",
            Kind::OutOfRange => "out-of-range",
            Kind::WrongType => "wrong-type",
            Kind::OverLong => "over-long",
            Kind::WrongArity => "wrong-arity",
            Kind::UnknownKey => "unknown-key",
            Kind::RuleBroken => "rule-broken",
        }
    }
}

/// How the module must refuse a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `ERROR`.
    Error,
    /// `+CME ERROR: <code>` with the table's code for an invalid parameter.
    Cme(i64),
}

/// A state that must hold before the case (a catalogue precondition), and
/// the value of the parameter that names its object in this case's line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Precondition {
    /// The catalogue's state name (`socket_open`).
    pub state: &'static str,
    /// The parameter naming the object (`connectID`).
    pub param: Option<&'static str>,
    /// Its value in this case's line.
    pub value: Option<&'static str>,
    /// Which comma-separated argument of the line holds it (0-based), so
    /// the runner can put there the id a set-up obtained from the module.
    pub field: Option<usize>,
}

/// A state a command leaves behind (the catalogue's `leaves`), undone after
/// the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leaves {
    /// The catalogue's state name.
    pub state: &'static str,
    /// The object's id on the line, if any.
    pub value: Option<&'static str>,
    /// Which argument of the line holds it (0-based).
    pub field: Option<usize>,
}

/// A data phase that follows the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataPhase {
    /// `>` (true) or `CONNECT` (false).
    pub greater_prompt: bool,
    /// The payload length the line announces, if any.
    pub length: Option<usize>,
    /// Whether Ctrl+Z ends the payload.
    pub ctrl_z: bool,
}

/// What follows a `CONNECT` result of the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectData {
    /// Nothing special.
    None,
    /// `CONNECT <n>` then `n` bytes.
    Length,
    /// `CONNECT` then a body up to `\r\nOK\r\n`.
    UntilOk,
    /// `CONNECT` switches the port to transparent mode.
    Transparent,
}

/// One conformance case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case {
    /// A unique, stable name (`qicfg.write.transpktsize.max`).
    pub id: &'static str,
    /// The catalogue command (`AT+QICFG`).
    pub command: &'static str,
    /// Its function group.
    pub group: &'static str,
    /// The form's syntax, as in the catalogue.
    pub form: &'static str,
    /// The form's sub-command key (`"transpktsize"` of QICFG), if any.
    pub subcommand: Option<&'static str>,
    /// The parameter the case is about, if any.
    pub param: Option<&'static str>,
    /// What it checks.
    pub kind: Kind,
    /// The command's safety class.
    pub safety: Safety,
    /// What must hold first (set up by the runner, torn down after).
    pub preconditions: &'static [Precondition],
    /// The state the command leaves behind, undone after the case.
    pub leaves: Option<Leaves>,
    /// The command line to send (without CR).
    pub line: &'static str,
    /// The line that puts the form's parameters back to their defaults
    /// (sent after a variant of a configuration command).
    pub restore: Option<&'static str>,
    /// The data phase that follows an accepted line.
    pub data_phase: Option<DataPhase>,
    /// For refusal cases: how.
    pub refusal: Option<Refusal>,
    /// What follows `CONNECT`.
    pub connect_data: ConnectData,
    /// The URC that completes the command after its result, if any.
    pub completion: Option<&'static str>,
    /// Time limit for the final result, in milliseconds.
    pub time_limit_ms: u64,
    /// The catalogue's reason why the case cannot run automatically.
    pub skip: Option<&'static str>,
    /// The final results the form gives an accepted line (`OK`, `SEND OK`,
    /// `CONNECT <n>` ...); empty when the catalogue lists none.
    pub finals: &'static [&'static str],
    /// The prefixes (`+QWLMAC`) of the information lines every accepting
    /// response of the form prints: an accepted answer needs each.
    pub required_lines: &'static [&'static str],
    /// Where the case comes from (`spec/tcpip.yaml AT+QICFG`).
    pub entry: &'static str,
    /// The id of the case that must pass for this one to be meaningful
    /// (the form's baseline).
    pub baseline: Option<&'static str>,
}

/// How a scenario's payload ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataEnd {
    /// Ctrl+Z ends it.
    CtrlZ,
    /// Esc cancels it.
    Esc,
    /// Its length was given in the command.
    None,
}

/// One step of a scenario (the manual's example), placeholders unexpanded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Send a command line.
    Send(&'static str),
    /// Expect a response line or final result.
    Expect(&'static str),
    /// Expect a URC.
    ExpectUrc(&'static str),
    /// Expect a data-phase prompt.
    ExpectPrompt(&'static str),
    /// Send a payload.
    SendData(&'static str, DataEnd),
    /// Expect raw bytes.
    ExpectData(&'static str),
}

/// One of the manual's examples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scenario {
    /// Its name in its catalogue file.
    pub name: &'static str,
    /// That file (`spec/scenarios.yaml`, `spec/provocations.yaml`).
    pub file: &'static str,
    /// The manual's title.
    pub title: &'static str,
    /// Why the example cannot succeed as printed (an erratum).
    pub skip: Option<&'static str>,
    /// The states it starts from (`spec/states.yaml` recipes).
    pub requires: &'static [&'static str],
    /// Values of its `${placeholders}` in the manual.
    pub placeholders: &'static [(&'static str, &'static str)],
    /// Its steps (notes left out).
    pub steps: &'static [Step],
}

/// How the runner reaches a state (`spec/states.yaml`): `${key}` in a line
/// is a value of the environment, `${id}` the object's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateRecipe {
    /// The state reached.
    pub state: &'static str,
    /// Only when the case needs these states too (a role).
    pub when: &'static [&'static str],
    /// States reached first.
    pub requires: &'static [&'static str],
    /// What it does, in words.
    pub text: &'static str,
    /// The steps that reach it.
    pub steps: &'static [RecipeStep],
    /// The steps that leave it.
    pub undo: &'static [RecipeStep],
    /// Objects the environment provides for the precondition's parameter.
    pub objects: &'static [&'static str],
}

/// One step of a [`StateRecipe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecipeStep {
    /// A command line to send.
    pub send: Option<&'static str>,
    /// Bytes sent after the `>` prompt.
    pub payload: Option<&'static str>,
    /// A URC that must follow (the start of the line).
    pub until: Option<&'static str>,
    /// The module prints the object's id in its answer.
    pub yields_id: bool,
}

/// What the catalogue allows for a parameter (for judging the lists a
/// test form prints).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Domain {
    /// The command.
    pub command: &'static str,
    /// The parameter.
    pub param: &'static str,
    /// Where the catalogue says so (`spec/wifi.yaml AT+QSTADHCP`).
    pub entry: &'static str,
    /// Allowed integers, as inclusive intervals.
    pub ints: &'static [(i64, i64)],
    /// Allowed strings (a closed list).
    pub strings: &'static [&'static str],
}
