//! Code generated from the catalogue in `spec/` by `cargo xtask gen`.
//!
//! [`commands`] has one module per command with a type per form and per
//! information line; [`urcs`] has a type per URC variant and the [`urcs::Urc`]
//! enum; [`results`] has the result-code tables.

#[rustfmt::skip]
pub mod commands;
#[rustfmt::skip]
pub mod results;
#[rustfmt::skip]
pub mod urcs;

/// Whether `line` starts with the command name `name` (case-insensitive),
/// followed by `=`, `?` or nothing.
pub(crate) fn starts_with_name(line: &str, name: &str) -> bool {
    let (l, n) = (line.as_bytes(), name.as_bytes());
    l.len() >= n.len()
        && l[..n.len()].eq_ignore_ascii_case(n)
        && matches!(l.get(n.len()), None | Some(b'=') | Some(b'?'))
}

/// A reader of one template.
pub(crate) type TryFn<T> = fn(&str) -> Result<T, crate::wire::DecodeError>;

/// The first of `tries` that reads `line`, or the error of the last one.
pub(crate) fn first_match<T>(
    tries: &[TryFn<T>],
    line: &str,
) -> Result<T, crate::wire::DecodeError> {
    let mut last = None;
    for t in tries {
        match t(line) {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or(crate::wire::DecodeError::NoMatch {
        expected: "one of the templates",
        at: None,
    }))
}
