//! The HTTP group (placeholder: its commands are not modelled yet, so they
//! get the refusal of an unknown command).

use std::time::Instant;

use fcm242d::generated::commands::AnyCommand;

use crate::net::Net;
use crate::reply::Reply;
use crate::state::State;
use crate::world::World;

/// The group's state (part of [`State`]; rebuilt by a reboot).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpState {}

/// The group's live network resources (part of [`Net`]; dropped by a reboot).
#[derive(Debug, Default)]
pub struct Live {}

/// The group's answer, if `cmd` is one of its commands.
pub fn handle(
    _cmd: &AnyCommand,
    _state: &mut State,
    _world: &World,
    _net: &mut Net,
) -> Option<Reply> {
    None
}

/// What the network caused since the last call (URCs, pushed data).
pub fn poll(_state: &mut State, _net: &mut Net, _world: &World, _now: Instant) -> Vec<u8> {
    Vec::new()
}
