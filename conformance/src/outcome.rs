//! What a run produced: one result per case and per scenario, plus the lines
//! the catalogue cannot explain. Reports (JSON, JUnit, Markdown, coverage,
//! diff) are written from this; the JSON report is its serde form.

use serde::{Deserialize, Serialize};

/// The verdict of one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// The module did what the catalogue says.
    Pass,
    /// The module deviated from the catalogue.
    Fail {
        /// What was expected and what came.
        reason: String,
    },
    /// The case could not be judged: a set-up failed, no recipe reaches a
    /// precondition, the environment lacks something, a restore failed.
    /// Never a pass: a run with an error is not PASSED.
    Error {
        /// What went wrong.
        reason: String,
    },
    /// Not run, for a reason recorded in the catalogue (by name; the
    /// README lists them). Nothing else makes a case a skip.
    Skip {
        /// The catalogue's reason.
        reason: String,
    },
}

impl Verdict {
    /// A one-word name.
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail { .. } => "fail",
            Verdict::Error { .. } => "error",
            Verdict::Skip { .. } => "skip",
        }
    }

    /// The reason of a verdict other than a pass.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Verdict::Pass => None,
            Verdict::Fail { reason } | Verdict::Error { reason } | Verdict::Skip { reason } => {
                Some(reason)
            }
        }
    }

    /// Whether the case could not be judged.
    pub fn is_error(&self) -> bool {
        matches!(self, Verdict::Error { .. })
    }

    /// Whether it is a failure.
    pub fn is_fail(&self) -> bool {
        matches!(self, Verdict::Fail { .. })
    }
}

/// Direction of a transcript line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Host to module.
    Sent,
    /// Module to host.
    Received,
}

/// One exchanged line (or data block, shown escaped), with its time since
/// the case began.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchanged {
    /// Who sent it.
    pub direction: Direction,
    /// The text (secrets masked; bytes outside printable ASCII escaped).
    pub text: String,
    /// Milliseconds since the case began.
    pub at_ms: u64,
}

/// The result of one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseResult {
    /// The case's id (stable across runs: `diff` matches on it).
    pub id: String,
    /// The catalogue command.
    pub command: String,
    /// Its function group.
    pub group: String,
    /// The form's syntax.
    pub form: String,
    /// The parameter the case is about.
    pub param: Option<String>,
    /// What it checks (`boundary`, `out-of-range`, `scenario`, ...).
    pub kind: String,
    /// The catalogue entry it tests (`spec/tcpip.yaml AT+QICFG ...`).
    pub entry: String,
    /// The verdict.
    pub verdict: Verdict,
    /// The module's answer in short (final result and information lines),
    /// compared by `diff` to show changed responses.
    pub answer: String,
    /// What the catalogue entry allows, one alternative per item (lines
    /// separated by `\n`): a failing case's expected side, shown next to
    /// the module's lines. Kept with the transcript; empty in reports
    /// written before it existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expected: Vec<String>,
    /// The lines exchanged (kept for failing cases; empty otherwise unless
    /// the run keeps every transcript).
    pub exchanged: Vec<Exchanged>,
    /// How long it took.
    pub duration_ms: u64,
}

/// A line the catalogue cannot explain, with the command before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unexplained {
    /// The line.
    pub line: String,
    /// The command line sent last before it.
    pub after_command: String,
    /// The case during which it came.
    pub case: String,
    /// Why no template explains it.
    pub reason: String,
}

/// What the run exercised, for the coverage report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exercised {
    /// Command names that were sent.
    pub commands: Vec<String>,
    /// Form syntaxes that were sent.
    pub forms: Vec<String>,
    /// `command param=value` strings of the values sent.
    pub values: Vec<String>,
    /// Final results seen (`OK`, `ERROR`, `+CME ERROR: 724`, `SEND OK`...).
    pub results: Vec<String>,
    /// URC names (with discriminator) seen.
    pub urcs: Vec<String>,
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunReport {
    /// The tool's version.
    pub tool_version: String,
    /// The target (`sim`, `serial:/dev/ttyUSB0@115200`, ...).
    pub target: String,
    /// The firmware version from `AT+QVERSION` (empty if unknown).
    pub firmware: String,
    /// When the run started (seconds since the Unix epoch).
    pub started_unix: u64,
    /// The run's wall time.
    pub duration_ms: u64,
    /// Results of cases and scenarios, in run order.
    pub cases: Vec<CaseResult>,
    /// Lines the catalogue cannot explain.
    pub unexplained: Vec<Unexplained>,
    /// What was exercised.
    pub exercised: Exercised,
}

/// How many cases got each verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Passed.
    pub passed: usize,
    /// Failed (a deviation).
    pub failed: usize,
    /// Could not be judged.
    pub errors: usize,
    /// Skipped for a reason the catalogue records.
    pub skipped: usize,
}

impl Counts {
    /// Counts `verdict`.
    pub fn add(&mut self, verdict: &Verdict) {
        match verdict {
            Verdict::Pass => self.passed += 1,
            Verdict::Fail { .. } => self.failed += 1,
            Verdict::Error { .. } => self.errors += 1,
            Verdict::Skip { .. } => self.skipped += 1,
        }
    }

    /// Every counted case.
    pub fn total(&self) -> usize {
        self.passed + self.failed + self.errors + self.skipped
    }
}

impl RunReport {
    /// Verdict counts over every case and scenario.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for r in &self.cases {
            c.add(&r.verdict);
        }
        c
    }

    /// Whether the run found any deviation (a failed case or an unexplained line).
    pub fn has_failures(&self) -> bool {
        self.cases.iter().any(|c| c.verdict.is_fail()) || !self.unexplained.is_empty()
    }

    /// Whether some case could not be judged.
    pub fn has_errors(&self) -> bool {
        self.cases.iter().any(|c| c.verdict.is_error())
    }

    /// Whether the run PASSED: no deviation, no case that could not be
    /// judged (the only cases that did not run are the catalogue's
    /// recorded skips).
    pub fn passed(&self) -> bool {
        !self.has_failures() && !self.has_errors()
    }
}
