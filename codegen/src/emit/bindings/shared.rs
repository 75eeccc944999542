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

/// Every enumeration of the plan with its scope-local name and where it is
/// used (`` `<closed>` of AT+QICFG ``), once per scope (parameters of one
/// scope that share a type count once, and are all named).
fn all_enums<'a>(plan: &'a Plan<'a>) -> Vec<(Ident, &'a Param, String)> {
    let mut out = Vec::new();
    let mut add = |names: &BTreeMap<usize, Ident>, params: &'a [Param], scope: &str| {
        for (i, n) in super::distinct(names) {
            let users: Vec<String> = names
                .iter()
                .filter(|(_, m)| *m == n)
                .map(|(j, _)| format!("`<{}>`", params[*j].name))
                .collect();
            out.push((
                n.clone(),
                &params[i],
                format!("{} of {scope}", users.join(", ")),
            ));
        }
    };
    for c in &plan.commands {
        let names = enum_names(&c.command.params, &super::command_type_names(c));
        add(&names, &c.command.params, &c.command.name);
    }
    for u in &plan.urcs {
        let names = enum_names(&u.urc.params, std::slice::from_ref(&u.type_name));
        let scope = match &u.urc.discriminator {
            Some(d) => format!("{} \"{d}\"", u.urc.name),
            None => u.urc.name.clone(),
        };
        add(&names, &u.urc.params, &scope);
    }
    out
}

/// One definition of a name: what makes it that type, the parameter it is
/// rendered from, and where it is used.
type Definition<'a> = (Signature, &'a Param, Vec<String>);

/// The shared enumerations: name → the first parameter that defines it.
pub struct Shared<'a> {
    types: BTreeMap<String, Definition<'a>>,
}

impl<'a> Shared<'a> {
    /// Finds the enumerations that two or more scopes define identically.
    pub fn of(plan: &'a Plan<'a>) -> Self {
        let mut seen: BTreeMap<String, Vec<Definition<'a>>> = BTreeMap::new();
        for (name, p, user) in all_enums(plan) {
            let sig = signature(p);
            let entries = seen.entry(name.to_string()).or_default();
            match entries.iter_mut().find(|(s, _, _)| *s == sig) {
                Some(e) => e.2.push(user),
                None => entries.push((sig, p, vec![user])),
            }
        }
        let types = seen
            .into_iter()
            .filter_map(|(name, entries)| {
                // The definition of a name that most scopes use, if two or
                // more do (the first in catalogue order on a tie); scopes
                // whose values differ keep their own type of that name.
                let mut best: Option<Definition<'a>> = None;
                for e in entries {
                    if e.2.len() >= 2 && best.as_ref().is_none_or(|b| e.2.len() > b.2.len()) {
                        best = Some(e);
                    }
                }
                best.map(|d| (name, d))
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

    /// The items a scope emits for its enumerations (`names`: parameter
    /// index → type): each type once, its definition or a re-export of the
    /// shared one; a type several parameters of the scope share names them.
    pub fn items(&self, params: &[Param], names: &BTreeMap<usize, Ident>) -> Vec<TokenStream> {
        super::distinct(names)
            .into_iter()
            .map(|(i, name)| {
                let p = &params[i];
                if self.is_shared(name, p) {
                    return quote!(pub use crate::generated::shared::#name;);
                }
                let users: Vec<String> = names
                    .iter()
                    .filter(|(_, m)| *m == name)
                    .map(|(j, _)| format!("`<{}>`", params[*j].name))
                    .collect();
                if users.len() < 2 {
                    return enums::render(p, name);
                }
                let text = format!(
                    "One type for the value of {}.\n\n{}",
                    users.join(", "),
                    crate::emit::bindings::docs::param_doc(p)
                );
                enums::render_with_doc(p, name, &text)
            })
            .collect()
    }

    /// The `shared.rs` file.
    pub fn render(&self) -> TokenStream {
        let defs = self.types.iter().map(|(name, (_, p, users))| {
            let ident = quote::format_ident!("{}", name);
            // The type stands for each of its uses; the first one's
            // description follows.
            let text = format!(
                "One type for the value of {}.\n\n{}",
                users.join("; "),
                crate::emit::bindings::docs::param_doc(p)
            );
            enums::render_with_doc(p, &ident, &text)
        });
        quote! {
            //! Enumerations that several commands or URCs share (the same
            //! name and values): each of their modules re-exports the type
            //! defined here, so values move between them without conversion.
            #(#defs)*
        }
    }
}
