//! A virtual FCM242D / FGM842D module.
//!
//! # In process
//!
//! [`sim::Simulated`] is the host's end of a simulator in the same process:
//! a [`fcm242d::transport::Transport`] with no thread behind it, whose
//! reads run the module on its own clock.
//!
//! ```
//! use std::time::Duration;
//! use fcm242d::transport::Transport;
//! use fcm242d_sim::sim::{SimOptions, Simulated};
//! use fcm242d_sim::world::World;
//!
//! let mut sim = Simulated::start(World::default(), SimOptions::default());
//! sim.write_all(b"AT\r\n").unwrap();
//! let mut buf = [0u8; 64];
//! let n = sim.read(&mut buf, Duration::from_secs(1)).unwrap();
//! assert_eq!(&buf[..n], b"\r\nOK\r\n");
//! assert!(sim.is_idle());
//! sim.reset(); // the module's (and its world's) power-on state
//! ```
//!
//! - [`sim::Simulated::start`]`(world, `[`sim::SimOptions`]`)`: a freshly
//!   booted module with servers of its own; `SimOptions { virtual_time:
//!   true, faults: Faults::none() }` by default.
//! - [`sim::Simulated::reset`]: the module back to the world's power-on
//!   state as a fresh start would leave it (volatile and saved state,
//!   files, BLE, sockets closed, nothing pending) and the world forgetting
//!   it (connections cut, the broker's sessions and retained messages
//!   back to the start). Cheap: no thread starts, no boot delay.
//! - [`sim::Simulated::now`]: the module's clock. With virtual time it
//!   jumps to the module's next timer (or by a read's whole time limit)
//!   whenever the world is quiet, so waiting costs no real time; while a
//!   server of the world works, the host sleeps until it is done (no
//!   polling). See [`sim`] and [`activity`].
//! - [`sim::Simulated::is_idle`]: the module will print nothing more until
//!   the host writes or the world acts of itself.
//! - [`sim::Simulated::world`]: the world, and through
//!   [`world::World::environment`] the values a set-up or scenario needs.
//!
//! # Front ends and parts
//!
//! [`module::Module`] behaves like the module on its UART: it parses each
//! command line with the grammar generated from the catalogue, answers from
//! a stateful model of each function group, and prints URCs when they are
//! due. [`serve`] runs a module over a byte stream (standard input/output, a
//! TCP connection, or an in-process link), [`pty`] on a pseudo-terminal;
//! [`faults`] injects faults reproducible from a seed, and [`clock`] gives
//! the serve loop a virtual clock for tests.
//!
//! Every function group is modelled: general, Wi-Fi, BLE (with transparent
//! mode and a phone in the default world), TCP/UDP (real loopback sockets),
//! SSL (rustls), MQTT 3.1.1 (with an embedded broker), HTTP(S) (with an
//! embedded server), PING/DNS/NTP and the file system. [`quirks`] makes a
//! module deviate on purpose; [`faults`] injects faults from a seed; a
//! [`clock::VirtualClock`] makes timing reproducible.
//!
//! [`Module::next_due`](module::Module::next_due) says when the module next
//! has something to do by the clock alone, so every front end sleeps until
//! then or until input comes.

pub mod activity;
pub mod catalog;
pub mod clock;
pub mod environment;
pub mod faults;
pub mod groups;
pub mod module;
pub mod mqtt;
pub mod net;
pub mod pty;
pub mod quirks;
pub mod reply;
pub mod serve;
pub mod services;
pub mod sim;
pub mod state;
pub mod world;
