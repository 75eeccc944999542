//! One handler per function group. Each answers the commands of its group
//! and returns `None` for the others; answers are rendered through the
//! generated line types, so they always match the catalogue's grammar.

pub mod ble;
pub mod filesystem;
pub mod general;
pub mod network;
pub mod tcpip;
pub mod wifi;

use fcm242d::generated::commands::AnyCommand;

use crate::net::Net;
use crate::reply::Reply;
use crate::state::State;
use crate::world::World;

/// The answer of the group that owns `cmd`, or `None` when no group models it.
pub fn handle(cmd: &AnyCommand, state: &mut State, world: &World, net: &mut Net) -> Option<Reply> {
    general::handle(cmd, state, world)
        .or_else(|| wifi::handle(cmd, state, world))
        .or_else(|| filesystem::handle(cmd, state, world))
        .or_else(|| network::handle(cmd, state, world))
        .or_else(|| ble::handle(cmd, state, world))
        .or_else(|| tcpip::handle(cmd, state, world, net))
}

/// Renders a generated line value.
pub fn line<L: fcm242d::command::Line>(l: L) -> String {
    l.render()
}
