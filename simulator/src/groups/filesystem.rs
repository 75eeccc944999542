//! The file-system group (UFS): open, read, write, close, list and delete
//! files, kept in `state.saved.files` so that they survive a reboot as flash
//! does (certificates written here are what the SSL group reads).
//!
//! Decisions where the manual is silent (see also errata FS-1 to FS-4):
//! - handles: the lowest free handle from 1, so the first open file gets
//!   handle 1 and a closed handle is given out again, as in the Examples
//!   chapter (each certificate upload opens, writes and closes handle 1);
//!   the handle is found from the open handles, so `Files::next_handle` is
//!   not used;
//! - `<mode>` is 0, 1 or 2 (FS-1) and defaults to 0 (create or open,
//!   read-write), which is what the examples' bare `AT+QFOPEN="ca.pem"` does;
//! - one file may be open under several handles, each with its own pointer;
//! - an empty name, or the storage name `"UFS:"` itself, is not a file name;
//! - `AT+QFDEL` deletes one named file only: the manual gives no value for
//!   "all files" (FS-2), so `"UFS:"` or `"*"` are answered like any missing
//!   file, with `ERROR`; a file that is open cannot be deleted (`ERROR`);
//! - `AT+QFLST=<name>` for a missing file is `ERROR`; the listing is in name
//!   order; an empty UFS lists nothing (`OK` alone);
//! - the UFS holds [`UFS_CAPACITY`] bytes; a write that does not fit writes
//!   what fits, which `+QFWRITE: <written_length>,<total_length>` reports,
//!   and a write that could write nothing (a full UFS, the pointer at the
//!   end of the file) is refused with `ERROR` before `CONNECT`;
//! - `AT+QFREAD` with a `<length>` beyond the end of the file reads to the
//!   end (`CONNECT <read_length>` says how much); at the end of the file it
//!   answers `CONNECT 0` then `OK`; a negative `<length>` is `ERROR`.
//!
//! - `AT+QFWRITE`'s data phase ends "when the total size of the written
//!   data reaches `<length>` or the time reaches `<timeout>`" (default 5 s):
//!   the time is counted from `CONNECT` (not from the last byte), and at the
//!   timeout the bytes that came are written and reported as usual with
//!   `+QFWRITE: <written_length>,<total_length>` and `OK` — also when no
//!   byte came (`+QFWRITE: 0,<total_length>`).

use std::time::Duration;

use fcm242d::generated::commands::{qflst, qfopen, qfread, qfwrite, AnyCommand};

use crate::groups::line;
use crate::reply::{DataRequest, Final, Payload, Reply};
use crate::state::{OpenFile, State};
use crate::world::World;

/// The bytes the simulated UFS holds in all (the manual gives no size; a
/// bound keeps a host from growing the simulator without end).
pub const UFS_CAPACITY: usize = 1024 * 1024;

/// `<length>` of `AT+QFWRITE` when omitted.
const DEFAULT_WRITE_LENGTH: usize = 10240;

/// `<timeout>` of `AT+QFWRITE` when omitted (seconds).
const DEFAULT_WRITE_TIMEOUT: u64 = 5;

/// The storage name of `AT+QFLST` ("All the files in UFS").
const UFS: &str = "UFS:";

/// The file-system group's answer, if `cmd` is one of its commands.
pub fn handle(cmd: &AnyCommand, state: &mut State, _world: &World) -> Option<Reply> {
    Some(match cmd {
        AnyCommand::QfopenRead(_) => list_open(state),
        AnyCommand::QfopenWrite(w) => open(state, w),
        AnyCommand::QfreadWrite(w) => read(state, w),
        AnyCommand::QfwriteWrite(w) => write(state, w),
        AnyCommand::QfcloseWrite(w) => match state.files.open.remove(&w.filehandle) {
            Some(_) => Reply::ok(),
            None => Reply::error(),
        },
        AnyCommand::QflstExecute(_) => list_all(state, |filename, file_size| {
            line(qflst::ExecuteLine {
                filename,
                file_size,
            })
        }),
        AnyCommand::QflstWrite(w) => match &w.name_pattern {
            qflst::NamePattern::AllFiles => list_all(state, |filename, file_size| {
                line(qflst::WriteLine {
                    filename,
                    file_size,
                })
            }),
            qflst::NamePattern::Other(name) => match state.saved.files.get(name) {
                Some(data) => Reply::lines(vec![line(qflst::WriteLine {
                    filename: name.clone(),
                    file_size: size(data.len()),
                })]),
                None => Reply::error(),
            },
        },
        AnyCommand::QfdelWrite(w) => {
            let name = w.file_name.as_str();
            let in_use = state.files.open.values().any(|f| f.name == name);
            if in_use || state.saved.files.remove(name).is_none() {
                Reply::error()
            } else {
                Reply::ok()
            }
        }
        _ => return None,
    })
}

/// A byte count as the integer the response lines carry.
fn size(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The bytes all files take.
fn used(state: &State) -> usize {
    state.saved.files.values().map(Vec::len).sum()
}

/// `AT+QFOPEN?`: one line per open handle, in handle order.
fn list_open(state: &State) -> Reply {
    let mut lines = Vec::new();
    for (&filehandle, f) in &state.files.open {
        // Modes are only ever stored from a parsed `<mode>`, so this holds.
        let Ok(mode) = qfopen::Mode::from_wire(&f.mode.to_string()) else {
            continue;
        };
        lines.push(line(qfopen::ReadLine {
            filename: f.name.clone(),
            filehandle,
            mode,
        }));
    }
    Reply::lines(lines)
}

/// `AT+QFOPEN=<filename>[,<mode>]`.
fn open(state: &mut State, w: &qfopen::Write) -> Reply {
    let name = w.filename.as_str();
    if name.is_empty() || name == UFS {
        return Reply::error();
    }
    let mode = w.mode.unwrap_or(qfopen::Mode::OpenOrCreate);
    match mode {
        qfopen::Mode::OpenOrCreate => {
            state.saved.files.entry(name.to_string()).or_default();
        }
        qfopen::Mode::CreateOrTruncate => {
            state.saved.files.insert(name.to_string(), Vec::new());
        }
        qfopen::Mode::ReadOnly => {
            if !state.saved.files.contains_key(name) {
                return Reply::error();
            }
        }
    }
    // The lowest free handle from 1 (the examples' first file gets 1).
    let mut filehandle = 1;
    while state.files.open.contains_key(&filehandle) {
        filehandle += 1;
    }
    state.files.open.insert(
        filehandle,
        OpenFile {
            name: name.to_string(),
            mode: mode.wire(),
            position: 0,
        },
    );
    Reply::lines(vec![line(qfopen::WriteLine { filehandle })])
}

/// `AT+QFREAD=<filehandle>[,<length>]`: `CONNECT <read_length>`, the bytes
/// from the file pointer, `OK`.
fn read(state: &mut State, w: &qfread::Write) -> Reply {
    let Some(f) = state.files.open.get_mut(&w.filehandle) else {
        return Reply::error();
    };
    let Some(data) = state.saved.files.get(&f.name) else {
        return Reply::error();
    };
    // Another handle may have truncated the file under this one's pointer.
    let start = f.position.min(data.len());
    let rest = data.get(start..).unwrap_or_default();
    let wanted = match w.length {
        None => rest.len(),
        Some(n) => match usize::try_from(n) {
            Ok(n) => n.min(rest.len()),
            Err(_) => return Reply::error(),
        },
    };
    let bytes = rest.get(..wanted).unwrap_or_default().to_vec();
    f.position = start.saturating_add(bytes.len());
    Reply {
        after: Some(bytes),
        ..Reply::result(Final::ConnectN(wanted))
    }
}

/// `AT+QFWRITE=<filehandle>[,<length>[,<timeout>]]`: `CONNECT`, then
/// `<length>` bytes or what came within `<timeout>` seconds of `CONNECT`,
/// then `+QFWRITE: <written_length>,<total_length>`.
fn write(state: &mut State, w: &qfwrite::Write) -> Reply {
    let Some(f) = state.files.open.get(&w.filehandle) else {
        return Reply::error();
    };
    if f.mode == qfopen::Mode::ReadOnly.wire() {
        return Reply::error();
    }
    let Some(data) = state.saved.files.get(&f.name) else {
        return Reply::error();
    };
    // A full UFS refuses at once, unless the pointer is inside the file
    // (overwriting in place takes no room).
    if f.position >= data.len() && used(state) >= UFS_CAPACITY {
        return Reply::error();
    }
    let length = w
        .length_group
        .as_ref()
        .and_then(|g| usize::try_from(g.length.get()).ok())
        .unwrap_or(DEFAULT_WRITE_LENGTH);
    let timeout = w
        .length_group
        .as_ref()
        .and_then(|g| g.timeout)
        .and_then(|t| u64::try_from(t.get()).ok())
        .unwrap_or(DEFAULT_WRITE_TIMEOUT);
    let filehandle = w.filehandle;
    let then = move |state: &mut State, payload: Payload| match payload {
        Payload::Data(bytes) => store(state, filehandle, &bytes),
        // A CONNECT phase without Ctrl+Z has no cancel; kept for completeness.
        Payload::Cancelled => Reply::error(),
    };
    Reply {
        phase: Some(DataRequest {
            greater_prompt: false,
            length: Some(length),
            ctrl_z: false,
            timeout: Some(Duration::from_secs(timeout)),
            then: Box::new(then),
        }),
        ..Reply::result(Final::Nothing)
    }
}

/// Writes `bytes` at the pointer of `filehandle`, as far as the UFS has room.
fn store(state: &mut State, filehandle: i64, bytes: &[u8]) -> Reply {
    let free = UFS_CAPACITY.saturating_sub(used(state));
    let Some(f) = state.files.open.get_mut(&filehandle) else {
        return Reply::error();
    };
    let Some(data) = state.saved.files.get_mut(&f.name) else {
        return Reply::error();
    };
    let start = f.position.min(data.len());
    // Overwriting in place takes no room; only what goes past the end does.
    let overwrite = data.len().saturating_sub(start);
    let room = overwrite.saturating_add(free);
    let written = bytes.get(..bytes.len().min(room)).unwrap_or_default();
    let end = start.saturating_add(written.len());
    if end > data.len() {
        data.resize(end, 0);
    }
    if let Some(target) = data.get_mut(start..end) {
        target.copy_from_slice(written);
    }
    f.position = end;
    Reply::lines(vec![line(qfwrite::WriteLine {
        written_length: size(written.len()),
        total_length: size(data.len()),
    })])
}

/// Every file of the UFS, one line each, rendered by `render`.
fn list_all(state: &State, render: impl Fn(String, i64) -> String) -> Reply {
    Reply::lines(
        state
            .saved
            .files
            .iter()
            .map(|(name, data)| render(name.clone(), size(data.len())))
            .collect(),
    )
}
