//! The parser derived from the generated grammar (`generated/grammar.pest`).

use alloc::vec::Vec;

use pest::Parser as _;

use crate::wire::DecodeError;

pub use parser::{AtParser, Rule};

mod parser {
    // pest_derive generates `Rule` with one variant per grammar rule; the
    // grammar documents its line rules, not every capture rule.
    #![allow(missing_docs)]

    /// The pest parser of the AT command grammar.
    #[derive(pest_derive::Parser)]
    #[grammar = "generated/grammar.pest"]
    pub struct AtParser;
}

/// Parses `line` with `rule` and returns every capture, in order;
/// `expected` (the template) names what was expected in the error.
pub fn captures<'a>(
    rule: Rule,
    expected: &'static str,
    line: &'a str,
) -> Result<Vec<(Rule, &'a str)>, DecodeError> {
    let pairs = AtParser::parse(rule, line).map_err(|e| DecodeError::NoMatch {
        expected,
        at: match e.location {
            pest::error::InputLocation::Pos(p) => Some(p),
            pest::error::InputLocation::Span((p, _)) => Some(p),
        },
    })?;
    Ok(pairs.flatten().map(|p| (p.as_rule(), p.as_str())).collect())
}

/// Whether `line` matches `rule` as a whole.
pub fn matches(rule: Rule, line: &str) -> bool {
    AtParser::parse(rule, line).is_ok()
}
