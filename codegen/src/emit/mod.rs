//! Emitters: each turns the validated catalogue into generated artifacts.

pub mod bindings;
pub mod conformance;
pub mod decoder;
pub mod docs;
pub mod grammar;
pub mod names;
pub mod plan;
pub mod schema;
pub mod shape;
