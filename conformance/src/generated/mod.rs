//! Code generated from the catalogue in `spec/` by `cargo xtask gen`.

#[rustfmt::skip]
pub mod cases;
