//! Loads, validates and generates from the FCM242D / FGM842D AT command catalogue.
//!
//! The catalogue lives in `spec/*.yaml` (format: `spec/README.md`). This crate
//! reads it into [`model`] types ([`load`]), checks it ([`validate`]), and emits
//! every generated artifact ([`artifacts`]). The generator knows nothing about
//! particular commands: everything it emits comes from the catalogue.
//!
//! ```no_run
//! use fcm242d_codegen::Catalog;
//! match Catalog::load(std::path::Path::new("spec")) {
//!     Ok(catalog) => println!("{} commands", catalog.commands().count()),
//!     Err(errors) => eprint!("{}", errors.render()),
//! }
//! ```

pub mod artifacts;
pub mod catalog;
pub mod diagnostic;
pub mod emit;
pub mod export;
pub mod load;
pub mod locate;
pub mod model;
pub mod params;
pub mod template;
pub mod validate;

pub use catalog::{Catalog, SpecErrors};
pub use diagnostic::Diagnostic;
