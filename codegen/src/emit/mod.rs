//! Emitters: each turns the validated catalogue into one generated artifact.

pub mod docs;
pub mod schema;
