//! The TCP/UDP group (not modelled yet: its commands are answered with ERROR).

use std::time::Instant;

use fcm242d::generated::commands::AnyCommand;

use crate::net::Net;
use crate::reply::Reply;
use crate::state::State;
use crate::world::World;

/// The group's answer, if `cmd` is one of its commands.
pub fn handle(
    _cmd: &AnyCommand,
    _state: &mut State,
    _world: &World,
    _net: &mut Net,
) -> Option<Reply> {
    None
}

/// Output caused by the network since the last call (URCs such as
/// `+QIURC: "recv"`, direct-push data), written to the UART as it is.
pub fn poll(_state: &mut State, _net: &mut Net, _now: Instant) -> Vec<u8> {
    Vec::new()
}
