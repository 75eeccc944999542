//! The BLE group (not modelled yet: its commands are answered with ERROR).

use fcm242d::generated::commands::AnyCommand;

use crate::reply::Reply;
use crate::state::State;
use crate::world::World;

/// The BLE state (reset by a reboot).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ble {}

/// The group's answer, if `cmd` is one of its commands.
pub fn handle(_cmd: &AnyCommand, _state: &mut State, _world: &World) -> Option<Reply> {
    None
}
