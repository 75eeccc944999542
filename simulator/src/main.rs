//! `fcm242d-sim`: the virtual module's command line.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "fcm242d-sim: the simulator is not implemented yet.\n\
         Today the repository provides the command catalogue (spec/) and its tools:\n\
         cargo xtask check | gen | export"
    );
    ExitCode::from(2)
}
