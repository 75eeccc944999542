//! The reference parser of the FCM242D / FGM842D AT command set: the pest
//! grammar generated from the catalogue (`src/grammar.pest`, written by
//! `cargo xtask gen`). The runtime `fcm242d` does not use it: it decodes with
//! the byte-level decoder generated from the same catalogue. The simulator,
//! the conformance checker and the tests read lines with this grammar, and a
//! differential test (`tests/differential.rs`) holds the two to the
//! same language and the same captures.

use pest::Parser as _;

pub use parser::{AtParser, Rule};

mod parser {
    // pest_derive generates `Rule` with one variant per grammar rule; the
    // grammar documents its line rules, not every capture rule.
    #![allow(missing_docs)]

    /// The pest parser of the AT command grammar.
    #[derive(pest_derive::Parser)]
    #[grammar = "grammar.pest"]
    pub struct AtParser;
}

/// Why a line does not match a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoMatch {
    /// What was expected (the caller's name for the rule).
    pub expected: &'static str,
    /// Where the match failed (byte offset).
    pub at: usize,
}

impl core::fmt::Display for NoMatch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "the line does not match {} (from byte {})",
            self.expected, self.at
        )
    }
}

impl std::error::Error for NoMatch {}

/// Parses `line` with `rule` and returns every capture, in order (the rule
/// itself first); `expected` names what was expected in the error.
pub fn captures<'a>(
    rule: Rule,
    expected: &'static str,
    line: &'a str,
) -> Result<Vec<(Rule, &'a str)>, NoMatch> {
    let pairs = AtParser::parse(rule, line).map_err(|e| NoMatch {
        expected,
        at: match e.location {
            pest::error::InputLocation::Pos(p) => p,
            pest::error::InputLocation::Span((p, _)) => p,
        },
    })?;
    Ok(pairs.flatten().map(|p| (p.as_rule(), p.as_str())).collect())
}

/// Whether `line` matches `rule` as a whole.
pub fn matches(rule: Rule, line: &str) -> bool {
    AtParser::parse(rule, line).is_ok()
}

/// The rule named `name` (as the grammar file writes it).
pub fn rule_named(name: &str) -> Option<Rule> {
    Rule::all_rules()
        .iter()
        .copied()
        .find(|r| format!("{r:?}") == name)
}
