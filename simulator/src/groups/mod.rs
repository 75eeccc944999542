//! One handler per function group. Each answers the commands of its group
//! and returns `None` for the others; answers are rendered through the
//! generated line types, so they always match the catalogue's grammar.

pub mod ble;
pub mod filesystem;
pub mod general;
pub mod http;
pub mod mqtt;
pub mod network;
pub mod ssl;
pub mod tcpip;
pub mod wifi;

use std::time::Instant;

use fcm242d::generated::commands::AnyCommand;

use crate::net::{Channel, Net};
use crate::reply::Reply;
use crate::state::State;
use crate::world::World;

/// The answer of the group that owns `cmd`, or `None` when no group models it.
pub fn handle(cmd: &AnyCommand, state: &mut State, world: &World, net: &mut Net) -> Option<Reply> {
    let now = net.now;
    general::handle_at(cmd, state, world, now)
        .or_else(|| wifi::handle_at(cmd, state, world, now))
        .or_else(|| filesystem::handle(cmd, state, world))
        .or_else(|| network::handle_at(cmd, state, world, now))
        .or_else(|| ble::handle(cmd, state, world, net))
        .or_else(|| tcpip::handle(cmd, state, world, net))
        .or_else(|| ssl::handle(cmd, state, world, net))
        .or_else(|| mqtt::handle(cmd, state, world, net))
        .or_else(|| http::handle(cmd, state, world, net))
}

/// What the network caused since the last call, from every group that has
/// live links (URCs, pushed data, transparent-mode data, `NO CARRIER`).
pub fn poll(state: &mut State, net: &mut Net, world: &World, now: Instant) -> Vec<u8> {
    let mut out = tcpip::poll(state, net, now);
    out.extend(ble::poll(state, net, world, now));
    out.extend(ssl::poll(state, net, world, now));
    out.extend(mqtt::poll(state, net, world, now));
    out.extend(http::poll(state, net, world, now));
    out
}

/// The earliest time a group has something to do by the clock alone (a
/// time limit, a retransmission, the keep-alive, the world's phone).
pub fn next_wake(state: &State, net: &Net, world: &World) -> Option<Instant> {
    [
        tcpip::next_wake(net),
        ssl::next_wake(net),
        mqtt::next_wake(state, net),
        http::next_wake(net),
        ble::next_wake(state, world),
    ]
    .into_iter()
    .flatten()
    .min()
}

/// Whether an operation is under way whose end the module will print (a
/// connect, a request, a packet waiting for its acknowledgement, the
/// world's phone about to act).
pub fn in_flight(state: &State, net: &Net, world: &World) -> bool {
    tcpip::in_flight(state, net)
        || ssl::in_flight(state, net)
        || mqtt::in_flight(state, net)
        || http::in_flight(state, net)
        || ble::next_wake(state, world).is_some()
}

/// Every live socket of the module (see [`crate::net::Socket`]).
pub fn sockets(net: &Net) -> Vec<crate::net::Socket<'_>> {
    let mut out = Vec::new();
    tcpip::sockets(net, &mut out);
    ssl::sockets(net, &mut out);
    mqtt::sockets(net, &mut out);
    http::sockets(net, &mut out);
    out
}

/// In transparent mode: host bytes, to the link the UART is switched to.
pub fn transparent_send(state: &mut State, net: &mut Net, data: &[u8]) {
    match net.transparent {
        Some(Channel::Socket(_)) => tcpip::transparent_send(state, net, data),
        Some(Channel::Ssl(_)) => ssl::transparent_send(state, net, data),
        Some(Channel::Ble) => ble::transparent_send(state, net, data),
        None => {}
    }
}

/// Renders a generated line value.
pub fn line<L: fcm242d::command::Line>(l: L) -> String {
    l.render()
}
