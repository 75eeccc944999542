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
//! Status: the general, Wi-Fi, BLE, TCP/UDP (real sockets on loopback),
//! file-system and network (PING/DNS/NTP) groups are modelled; SSL, MQTT and
//! HTTP(S) are not yet, and their commands are answered with `ERROR` (or
//! `+CME ERROR`). Transparent mode is modelled for TCP/UDP client sockets
//! (QIOPEN access mode 2, QISWTMD, `+++` with guard times, ATO, NO CARRIER).

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
