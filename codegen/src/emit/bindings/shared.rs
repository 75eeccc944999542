//! `shared.rs`: enumerations that several commands or URCs share.
//!
//! A concept the manual repeats (the MQTT QoS, a packet's result, the
//! disable/enable switch, a socket's access mode) gets one Rust type, not one
//! per command: an enumeration whose name and values (wire value and id, in
//! order) are the same in two or more scopes is emitted once here (for a
//! name with several definitions, the one most scopes use), and each such
//! scope re-exports it (`pub use crate::generated::shared::Qos;`), so
//! `qmtsub::Qos` and `qmtpub::Qos` are the same type. Enumerations of the
//! same name whose values differ from the shared one stay separate.

use std::collections::BTreeMap;

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::emit::bindings::enum_names;
use crate::emit::bindings::enums;
use crate::emit::plan::Plan;
use crate::model::Param;

/// What makes two enumerations the same type: the representation and the
/// values (wire value and id, in order).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Signature {
    numeric: bool,
    hex: bool,
    open: bool,
    values: Vec<(String, Option<String>)>,
}

fn signature(p: &Param) -> Signature {
    Signature {
        numeric: p.ty.is_numeric(),
        hex: p.ty == crate::model::ParamType::HexInteger,
        open: p.open_values.is_some(),
        values: p
            .values
            .iter()
            .map(|v| (v.value.to_string(), v.id.clone()))
            .collect(),
    }
}

/// Whether two parameters' enumerations are the same type: the same
/// representation and the same values (wire value and id, in order). Two
/// parameters of one module with the same `type_name` share its type when
/// this holds (`<store_status0>` … `<store_status4>` of AT+QMTRECV).
pub fn same_values(a: &Param, b: &Param) -> bool {
    signature(a) == signature(b)
}

/// Every enumeration of the plan with its scope-local name, once per scope
/// (parameters of one scope that share a type count once).
fn all_enums<'a>(plan: &'a Plan<'a>) -> Vec<(Ident, &'a Param)> {
    let mut out = Vec::new();
    for c in &plan.commands {
        let names = enum_names(&c.command.params, &super::command_type_names(c));
        for (i, n) in super::distinct(&names) {
            out.push((n.clone(), &c.command.params[i]));
        }
    }
    for u in &plan.urcs {
        let names = enum_names(&u.urc.params, std::slice::from_ref(&u.type_name));
        for (i, n) in super::distinct(&names) {
            out.push((n.clone(), &u.urc.params[i]));
        }
    }
    out
}

/// The shared enumerations: name → the first parameter that defines it.
pub struct Shared<'a> {
    types: BTreeMap<String, (Signature, &'a Param, usize)>,
}

impl<'a> Shared<'a> {
    /// Finds the enumerations that two or more scopes define identically.
    pub fn of(plan: &'a Plan<'a>) -> Self {
        let mut seen: BTreeMap<String, Vec<(Signature, &'a Param, usize)>> = BTreeMap::new();
        for (name, p) in all_enums(plan) {
            let sig = signature(p);
            let entries = seen.entry(name.to_string()).or_default();
            match entries.iter_mut().find(|(s, _, _)| *s == sig) {
                Some(e) => e.2 += 1,
                None => entries.push((sig, p, 1)),
            }
        }
        let types = seen
            .into_iter()
            .filter_map(|(name, entries)| {
                // The definition of a name that most scopes use, if two or
                // more do (the first in catalogue order on a tie); scopes
                // whose values differ keep their own type of that name.
                let mut best: Option<&(Signature, &'a Param, usize)> = None;
                for e in &entries {
                    if e.2 >= 2 && best.is_none_or(|b| e.2 > b.2) {
                        best = Some(e);
                    }
                }
                best.map(|(sig, p, n)| (name.clone(), (sig.clone(), *p, *n)))
            })
            .collect();
        Shared { types }
    }

    /// Whether the enumeration `name` for `p` is the shared one.
    pub fn is_shared(&self, name: &Ident, p: &Param) -> bool {
        self.types
            .get(&name.to_string())
            .is_some_and(|(sig, _, _)| *sig == signature(p))
    }

    /// The item a scope emits for its enumeration `name` of `p`: the
    /// definition, or a re-export of the shared one.
    pub fn item(&self, name: &Ident, p: &Param) -> TokenStream {
        if self.is_shared(name, p) {
            quote!(pub use crate::generated::shared::#name;)
        } else {
            enums::render(p, name)
        }
    }

    /// The `shared.rs` file.
    pub fn render(&self) -> TokenStream {
        let defs = self.types.iter().map(|(name, (_, p, _))| {
            let ident = quote::format_ident!("{}", name);
            enums::render(p, &ident)
        });
        quote! {
            //! Enumerations that several commands or URCs share (the same
            //! name and values): each of their modules re-exports the type
            //! defined here, so values move between them without conversion.
            #(#defs)*
        }
    }
}
