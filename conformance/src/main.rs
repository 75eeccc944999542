//! `fcm242d-conformance`: the conformance runner's command line.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "fcm242d-conformance: the conformance runner is not implemented yet.\n\
         Today the repository provides the command catalogue (spec/) and its tools:\n\
         cargo xtask check | gen | export"
    );
    ExitCode::from(2)
}
