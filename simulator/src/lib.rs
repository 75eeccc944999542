//! A virtual FCM242D / FGM842D module.
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

pub mod catalog;
pub mod clock;
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
pub mod state;
pub mod world;
