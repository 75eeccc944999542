//! Code generated from the catalogue in `spec/` by `cargo xtask gen`.
//!
//! [`commands`] has one module per command with a type per form and per
//! information line; [`urcs`] has a type per URC variant and the [`urcs::Urc`]
//! enum; [`results`] has the result-code tables; [`shared`] has the
//! enumerations several commands or URCs share (re-exported by each).
#![cfg_attr(not(feature = "default-groups"), allow(dead_code))]

#[rustfmt::skip]
// With some groups left out, what serves only them goes unused.
#[cfg_attr(not(feature = "default-groups"), allow(unused_variables, unused_mut, dead_code))]
pub mod commands;
#[rustfmt::skip]
// With some groups left out, what serves only them goes unused.
#[cfg_attr(not(feature = "default-groups"), allow(unused_variables, unused_mut, dead_code))]
pub mod decode;
#[rustfmt::skip]
pub mod results;
#[rustfmt::skip]
pub mod shared;
#[rustfmt::skip]
// With some groups left out, what serves only them goes unused.
#[cfg_attr(not(feature = "default-groups"), allow(unused_variables, unused_mut, dead_code))]
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

/// A reader of one template, from bytes.
pub(crate) type DecodeFn<T> = fn(&[u8]) -> crate::command::Decoded<T>;

/// The best reading of a line among several templates: the first that reads
/// it; else the first whose shape the line has (its error names the field at
/// fault, and its data block is still framed); else the last error.
pub(crate) struct Best<T> {
    shaped: Option<crate::command::Decoded<T>>,
    last: Option<crate::command::Decoded<T>>,
}

impl<T> Best<T> {
    /// Nothing offered yet.
    pub(crate) fn new() -> Self {
        Best {
            shaped: None,
            last: None,
        }
    }

    /// Offers one template's reading: given back when it read the line (the
    /// caller returns it at once, without it being stored and taken out
    /// again), else kept as a fallback.
    pub(crate) fn offer(
        &mut self,
        d: crate::command::Decoded<T>,
    ) -> Option<crate::command::Decoded<T>> {
        match &d.value {
            Ok(_) => return Some(d),
            Err(crate::wire::DecodeError::NoMatch { .. }) => self.last = Some(d),
            Err(_) => {
                if self.shaped.is_none() {
                    self.shaped = Some(d);
                }
            }
        }
        None
    }

    /// The best failed reading, `None` when nothing was offered.
    pub(crate) fn take(self) -> Option<crate::command::Decoded<T>> {
        self.shaped.or(self.last)
    }
}

/// The first of `tries` that reads `line`, as [`Best`] picks it.
pub(crate) fn first_decoded<T>(tries: &[DecodeFn<T>], line: &[u8]) -> crate::command::Decoded<T> {
    let mut best = Best::new();
    for t in tries {
        if let Some(d) = best.offer(t(line)) {
            return d;
        }
    }
    best.take().unwrap_or(crate::command::Decoded {
        value: Err(crate::wire::DecodeError::NoMatch {
            expected: "one of the templates",
            at: None,
        }),
        data: None,
    })
}
