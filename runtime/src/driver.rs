//! The loop both clients run over a [`Session`], without its I/O: what to
//! do next ([`step`]), what to do with bytes read ([`absorb`]), and how an
//! exchange's outcome becomes the caller's result ([`outcome`]). The
//! blocking client performs the steps with a transport and the system
//! clock, the async client with `embedded-io-async` and a timer; neither
//! makes a protocol decision of its own.

use alloc::collections::VecDeque;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::time::Duration;

use crate::command::Line;
use crate::engine::Final;
use crate::error::Error;
use crate::generated::results::HttpCode;
use crate::generated::urcs::Urc;
use crate::options::Options;
use crate::response::Response;
use crate::session::{Action, Notice, Reply, Session, UrcSeries};
use crate::trace;

/// What the client does next.
#[derive(Debug)]
pub(crate) enum Step {
    /// Write these bytes.
    Write(Vec<u8>),
    /// Write these bytes with the guard time's silence before and after.
    WriteGuarded(Vec<u8>),
    /// Hand this notice to the subscribers.
    Notice(Notice),
    /// The condition holds, or the caller's time is up.
    Done,
    /// Read, waiting at most this many milliseconds, then [`absorb`].
    Read(u64),
}

/// The next step at `now` (milliseconds on the client's clock): pending
/// writes first, then notices, then the condition, else a read for as long
/// as nothing can be due (`longest` at most, and no later than `until`).
pub(crate) fn step(
    session: &mut Session,
    now: u64,
    until: Option<u64>,
    done: &mut dyn FnMut(&Session) -> bool,
    longest: u64,
) -> Step {
    if let Some(action) = session.next_action() {
        return match action {
            Action::Write(bytes) => {
                trace::wrote(session, &bytes);
                Step::Write(bytes)
            }
            Action::WriteGuarded(bytes) => {
                trace::wrote(session, &bytes);
                Step::WriteGuarded(bytes)
            }
        };
    }
    if let Some(n) = session.take_notice() {
        trace::notice(session, &n);
        return Step::Notice(n);
    }
    if done(session) {
        return Step::Done;
    }
    let mut wait = longest;
    if let Some(until) = until {
        if now >= until {
            return Step::Done;
        }
        wait = wait.min(until - now);
    }
    if let Some(d) = session.deadline() {
        wait = wait.min(d.saturating_sub(now));
    }
    Step::Read(wait)
}

/// Feeds what a read returned (nothing: the time passed) at `now`.
pub(crate) fn absorb(session: &mut Session, bytes: &[u8], now: u64) {
    if bytes.is_empty() {
        session.tick(now);
    } else {
        trace::read(session, bytes);
        session.feed(bytes, now);
    }
}

/// Gets the session ready for a command: the current options, and whether
/// a time-out left the link to be resynchronised first.
pub(crate) fn needs_resync(session: &mut Session, options: &Options) -> bool {
    session.set_options(options.session());
    session.needs_resync()
}

/// Starts a resynchronisation at `now` (see [`Session::resync`]).
pub(crate) fn begin_resync(session: &mut Session, options: &Options, now: u64) {
    session.set_options(options.session());
    session.resync(now);
    // An exchange abandoned here has nobody to report to.
    let _ = session.take_outcome();
}

/// The result of a resynchronisation that has ended.
pub(crate) fn resync_result<E>(session: &Session, options: &Options) -> Result<(), Error<E>> {
    if session.needs_resync() {
        return Err(Error::Timeout {
            command: "AT+QVERSION".to_string(),
            waiting_for: "the answer to the resynchronisation probe",
            waited: options.default_timeout + options.slack,
        });
    }
    Ok(())
}

/// The typed outcome of the exchange that has ended.
pub(crate) fn outcome<L: Line, E>(session: &mut Session) -> Result<Response<L>, Error<E>> {
    let outcome = session.take_outcome().ok_or(Error::Timeout {
        command: String::new(),
        waiting_for: "an outcome",
        waited: Duration::ZERO,
    })?;
    match outcome {
        Ok(reply) => typed::<L, E>(reply),
        Err(t) => Err(Error::Timeout {
            command: t.command,
            waiting_for: t.waiting_for,
            waited: Duration::from_millis(t.waited_ms),
        }),
    }
}

/// What [`read_transparent`](crate::client::Client::read_transparent)
/// returns once the drive ended: the bytes, the end of the connection, or
/// nothing yet.
pub(crate) fn transparent_bytes<E>(session: &mut Session) -> Result<Vec<u8>, Error<E>> {
    if session.has_raw() {
        return Ok(session.take_raw());
    }
    if session.carrier_lost() {
        return Err(Error::NoCarrier);
    }
    Ok(Vec::new())
}

/// What a waiting caller makes of a notice.
pub(crate) enum Picked<R> {
    /// Not its: the notice goes on to the subscribers.
    No,
    /// Its, and it waits for more.
    Kept,
    /// Its, and the wait is over.
    Done(R),
}

/// Offers the queued notices to `pick`, oldest first; removes those it
/// takes.
pub(crate) fn scan_queue<R>(
    queued: &mut VecDeque<Notice>,
    pick: &mut dyn FnMut(&Notice) -> Picked<R>,
) -> Option<R> {
    let mut i = 0;
    while i < queued.len() {
        match pick(&queued[i]) {
            Picked::No => i += 1,
            Picked::Kept => {
                queued.remove(i);
            }
            Picked::Done(r) => {
                queued.remove(i);
                return Some(r);
            }
        }
    }
    None
}

/// A picker for `wait_for`: the first notice `f` accepts.
pub(crate) fn first_of<R>(
    mut f: impl FnMut(&Notice) -> Option<R>,
) -> impl FnMut(&Notice) -> Picked<R> {
    move |n| match f(n) {
        Some(r) => Picked::Done(r),
        None => Picked::No,
    }
}

/// A `wait_for` closure for `wait_for_urc`: the URC itself, when `accept`
/// holds for it.
pub(crate) fn urc_where(
    mut accept: impl FnMut(&Urc) -> bool,
) -> impl FnMut(&Notice) -> Option<Urc> {
    move |n| n.urc().filter(|u| accept(u)).cloned()
}

/// A picker for `wait_for_series`: a URC `first` accepts, then the URCs of
/// its kind until the series is complete.
pub(crate) fn series_of(
    mut first: impl FnMut(&Urc) -> bool,
) -> impl FnMut(&Notice) -> Picked<Vec<Urc>> {
    let mut series = UrcSeries::new();
    move |n| {
        let Some(u) = n.urc() else {
            return Picked::No;
        };
        let ours = if series.is_empty() {
            first(u)
        } else {
            series.kind() == Some(u.kind())
        };
        if !ours {
            return Picked::No;
        }
        if series.push(u.clone()) {
            Picked::Done(core::mem::take(&mut series).into_urcs())
        } else {
            Picked::Kept
        }
    }
}

/// The typed response of a reply, or the error its final result means.
pub(crate) fn typed<L: Line, E>(reply: Reply) -> Result<Response<L>, Error<E>> {
    let Reply {
        command,
        lines,
        data,
        result,
        series,
        mut unexpected,
    } = reply;
    let mut typed_lines = Vec::with_capacity(lines.len());
    for l in lines {
        match l.downcast::<L>() {
            Ok(l) => typed_lines.push(l),
            Err(other) => unexpected.push(String::from_utf8_lossy(&other.render()).into_owned()),
        }
    }
    match result {
        Final::Error => return Err(Error::Error { command }),
        Final::CmeError(code) => {
            return Err(Error::Cme {
                command,
                code: HttpCode::from_code(code),
            })
        }
        Final::CmeText(text) => return Err(Error::CmeText { command, text }),
        Final::SendFail => return Err(Error::SendFail),
        Final::NoCarrier => return Err(Error::NoCarrier),
        _ => {}
    }
    Ok(Response {
        lines: typed_lines,
        data,
        result,
        completion: series.last().cloned(),
        series,
        unexpected,
    })
}
