//! `urcs.rs`: one type per URC variant and the `Urc` enum that reads any of them.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use crate::emit::bindings::docs::doc;
use crate::emit::bindings::enum_names;
use crate::emit::bindings::shared::Shared;
use crate::emit::bindings::structs::{self, Scope};
use crate::emit::bindings::types::{self, Dir};
use crate::emit::names::snake;
use crate::emit::plan::{Plan, UrcPlan};
use crate::params::resolve;

fn variant_module(u: &UrcPlan<'_>, shared: &Shared<'_>) -> TokenStream {
    let urc = u.urc;
    let cfg = crate::emit::bindings::group_cfg(u.group);
    let ty = format_ident!("{}", u.type_name);
    let module = format_ident!("{}", snake(&u.type_name));
    let enums = enum_names(&urc.params, std::slice::from_ref(&u.type_name));
    let enum_defs = shared.items(&urc.params, &enums);
    let scope = Scope {
        params: &urc.params,
        enums: &enums,
        dir: Dir::Output,
        walks: false,
    };
    let mut d = format!("`{}`", urc.syntax);
    if let Some(desc) = &urc.description {
        d.push_str(&format!(
            "\n\n{}",
            desc.split_whitespace().collect::<Vec<_>>().join(" ")
        ));
    }
    if !urc.completes.is_empty() {
        d.push_str(&format!("\n\nCompletes: {}.", urc.completes.join(", ")));
    }
    if !urc.errata.is_empty() {
        d.push_str(&format!("\n\nErrata: {}.", urc.errata.join(", ")));
    }
    let (extra_field, extra_init) = if urc.data.is_some() {
        let fd = doc("The data block that follows the line after CR LF.");
        (
            quote!(#fd pub data: alloc::vec::Vec<u8>,),
            quote!(data: alloc::vec::Vec::new(),),
        )
    } else {
        (quote!(), quote!())
    };
    let def = structs::definitions(&scope, &ty, &d, &u.shape.items, extra_field);
    let render = structs::render(&scope, &u.type_name, &u.shape.items, &quote!(self));
    let parse = structs::parse_body(&scope, &ty, &u.shape, &urc.syntax, extra_init.clone());
    // A URC that announces a data block reads the block's length from its
    // field alone, whether or not the rest decodes.
    let decode = urc
        .data
        .as_ref()
        .and_then(|d| Some((d.length.as_deref()?, d.max_length)))
        .and_then(|(len, max)| structs::announce_of(&scope, &u.shape, len, max))
        .map(|a| {
            let body = structs::decode_body(&scope, &ty, &u.shape, &urc.syntax, extra_init, &a);
            quote!(fn decode(line: &[u8]) -> crate::command::Decoded<Self> { #body })
        });
    let prefix = &u.shape.prefix;
    let fns = match structs::inline_payload(&scope, &u.shape) {
        Ok(Some(ip)) => {
            structs::inline_payload_fns(&scope, &ty, &u.shape, &urc.syntax, quote!(), &ip)
        }
        Ok(None) => quote! {
            const INLINE_PAYLOAD: bool = false;
            fn parse(line: &str) -> Result<Self, crate::wire::DecodeError> { #parse }
            #decode
            fn render(&self) -> alloc::string::String {
                #[allow(unused_mut)]
                let mut w = crate::wire::LineWriter::new(#prefix);
                #render
                w.finish()
            }
        },
        Err(e) => {
            let e = format!("{}: {e}", urc.syntax);
            quote!(compile_error!(#e);)
        }
    };
    let md = doc(&format!("The URC `{}`.", urc.syntax));
    quote! {
        #md
        #cfg
        pub mod #module {
            #(#enum_defs)*
            #def
            impl crate::command::Line for #ty {
                const PREFIXES: &'static [&'static str] = &[#prefix];
                #fns
            }
        }
        #cfg
        pub use #module::#ty;
    }
}

/// The data-length expression of a URC value `u`, if its variant carries data.
fn data_length(u: &UrcPlan<'_>) -> Option<TokenStream> {
    let data = u.urc.data.as_ref()?;
    let Some(len) = &data.length else {
        return Some(quote!(None));
    };
    let r = resolve(&u.urc.params, len)?;
    let enums = enum_names(&u.urc.params, std::slice::from_ref(&u.type_name));
    let kind = types::kind(&u.urc.params[r.param], enums.get(&r.param));
    let field = format_ident!("{}", snake(&u.urc.params[r.param].name));
    let value = types::int_value(&kind, &quote!(u.#field))?;
    Some(quote!(usize::try_from(#value).ok()))
}

/// The `field_int` arm of a variant: its integer fields by name.
fn field_arm(u: &UrcPlan<'_>, t: &Ident) -> TokenStream {
    let enums = enum_names(&u.urc.params, std::slice::from_ref(&u.type_name));
    let scope = Scope {
        params: &u.urc.params,
        enums: &enums,
        dir: Dir::Output,
        walks: false,
    };
    let mut arms = Vec::new();
    for (i, p) in u.urc.params.iter().enumerate() {
        if let Some(e) = structs::int_of(&scope, &u.type_name, &u.shape.items, &quote!(u), i) {
            let name = &p.name;
            arms.push(quote!(#name => #e,));
        }
    }
    if arms.is_empty() {
        quote!(Self::#t(_) => { let _ = name; None })
    } else {
        quote!(Self::#t(ref u) => match name { #(#arms)* _ => None },)
    }
}

/// The `series_step` arm of a variant.
fn series_arm(u: &UrcPlan<'_>, t: &Ident) -> TokenStream {
    use crate::model::SeriesRole;
    let Some(series) = &u.urc.series else {
        return quote!(Self::#t(_) => crate::command::SeriesStep::Single,);
    };
    if let (SeriesRole::Final, Some(cond)) = (series.role, &series.part_when) {
        // A value of one field makes the URC a part of the series.
        let enums = enum_names(&u.urc.params, std::slice::from_ref(&u.type_name));
        let scope = Scope {
            params: &u.urc.params,
            enums: &enums,
            dir: Dir::Output,
            walks: false,
        };
        let field = cond
            .param
            .as_deref()
            .and_then(|c| resolve(&u.urc.params, c))
            .and_then(|r| {
                let value =
                    structs::int_of(&scope, &u.type_name, &u.shape.items, &quote!(u), r.param)?;
                Some((value, &u.urc.params[r.param]))
            });
        if let Some((value, p)) = field {
            let values: Vec<i64> = cond
                .equals
                .iter()
                .chain(cond.one_of.iter().flatten())
                .filter_map(|v| crate::params::numeric(p.ty, v))
                .collect();
            let lits: Vec<proc_macro2::Literal> = values
                .iter()
                .map(|v| proc_macro2::Literal::i64_unsuffixed(*v))
                .collect();
            return quote!(Self::#t(ref u) => if matches!(#value, Some(#(#lits)|*)) {
                crate::command::SeriesStep::Part
            } else {
                crate::command::SeriesStep::Final
            },);
        }
    }
    match series.role {
        SeriesRole::Part => quote!(Self::#t(_) => crate::command::SeriesStep::Part,),
        SeriesRole::Final => quote!(Self::#t(_) => crate::command::SeriesStep::Final,),
        SeriesRole::Head => {
            let enums = enum_names(&u.urc.params, std::slice::from_ref(&u.type_name));
            let scope = Scope {
                params: &u.urc.params,
                enums: &enums,
                dir: Dir::Output,
                walks: false,
            };
            let count = series
                .count
                .as_deref()
                .and_then(|c| resolve(&u.urc.params, c))
                .and_then(|r| {
                    structs::int_of(&scope, &u.type_name, &u.shape.items, &quote!(u), r.param)
                });
            match count {
                Some(e) => quote!(Self::#t(ref u) => crate::command::SeriesStep::Head {
                    parts: #e.and_then(|n| usize::try_from(n).ok()).unwrap_or(0),
                },),
                None => quote!(Self::#t(_) => crate::command::SeriesStep::Head { parts: 0 },),
            }
        }
    }
}

/// Renders `urcs.rs`.
pub fn render(plan: &Plan<'_>, shared: &Shared<'_>) -> TokenStream {
    let modules: Vec<TokenStream> = plan
        .urcs
        .iter()
        .map(|u| variant_module(u, shared))
        .collect();
    let mut kinds: Vec<(Ident, String)> = Vec::new();
    for u in &plan.urcs {
        let k = format_ident!("{}", u.kind_name);
        if !kinds.iter().any(|(x, _)| *x == k) {
            let label = match &u.urc.discriminator {
                Some(d) => format!("{}: \"{d}\"", u.urc.name),
                None => u.urc.name.clone(),
            };
            kinds.push((k, label));
        }
    }
    let kind_idents: Vec<&Ident> = kinds.iter().map(|(k, _)| k).collect();
    let kind_labels: Vec<&String> = kinds.iter().map(|(_, l)| l).collect();
    let kind_docs: Vec<TokenStream> = kinds.iter().map(|(_, l)| doc(&format!("`{l}`"))).collect();
    let types: Vec<Ident> = plan
        .urcs
        .iter()
        .map(|u| format_ident!("{}", u.type_name))
        .collect();
    let vdocs: Vec<TokenStream> = plan
        .urcs
        .iter()
        .map(|u| doc(&format!("`{}`", u.urc.syntax)))
        .collect();
    let prefixes: Vec<&String> = plan.urcs.iter().map(|u| &u.shape.prefix).collect();
    // Only variants with a payload inside the line continue past a CR or LF.
    let inline: Vec<&UrcPlan<'_>> = plan
        .urcs
        .iter()
        .filter(|u| {
            let enums = enum_names(&u.urc.params, std::slice::from_ref(&u.type_name));
            let scope = Scope {
                params: &u.urc.params,
                enums: &enums,
                dir: Dir::Output,
                walks: false,
            };
            matches!(structs::inline_payload(&scope, &u.shape), Ok(Some(_)))
        })
        .collect();
    let inline_prefixes: Vec<&String> = inline.iter().map(|u| &u.shape.prefix).collect();
    let inline_types: Vec<Ident> = inline
        .iter()
        .map(|u| format_ident!("{}", u.type_name))
        .collect();
    let decode_body = decode_dispatch(plan, &types);
    // Each variant is compiled with its group's feature.
    let cfgs: Vec<TokenStream> = plan
        .urcs
        .iter()
        .map(|u| crate::emit::bindings::group_cfg(u.group))
        .collect();
    let inline_cfgs: Vec<TokenStream> = inline
        .iter()
        .map(|u| crate::emit::bindings::group_cfg(u.group))
        .collect();
    let urc_kinds: Vec<Ident> = plan
        .urcs
        .iter()
        .map(|u| format_ident!("{}", u.kind_name))
        .collect();
    let data_arms: Vec<TokenStream> = plan
        .urcs
        .iter()
        .zip(&types)
        .map(|(u, t)| match data_length(u) {
            Some(expr) => quote!(Self::#t(ref u) => #expr,),
            None => quote!(Self::#t(_) => None,),
        })
        .collect();
    let carries: Vec<TokenStream> = plan
        .urcs
        .iter()
        .zip(&types)
        .map(|(u, t)| {
            if u.urc.data.is_some() {
                quote!(Self::#t(ref mut u) => { u.data = data; true })
            } else {
                quote!(Self::#t(_) => false,)
            }
        })
        .collect();
    let data_refs: Vec<TokenStream> = plan
        .urcs
        .iter()
        .zip(&types)
        .map(|(u, t)| {
            if u.urc.data.is_some() {
                quote!(Self::#t(ref u) => Some(&u.data),)
            } else {
                quote!(Self::#t(_) => None,)
            }
        })
        .collect();
    let field_arms: Vec<TokenStream> = plan
        .urcs
        .iter()
        .zip(&types)
        .map(|(u, t)| field_arm(u, t))
        .collect();
    let series_arms: Vec<TokenStream> = plan
        .urcs
        .iter()
        .zip(&types)
        .map(|(u, t)| series_arm(u, t))
        .collect();
    let tables: Vec<TokenStream> = plan
        .urcs
        .iter()
        .map(|u| {
            let ty = format_ident!("{}", u.type_name);
            let (owner, syntax, rule) = (&u.urc.name, &u.urc.syntax, &u.shape.rule);
            quote! {
                crate::command::Template {
                    owner: #owner, form: #syntax, template: #syntax, rule: #rule,
                    reencode: |l| <#ty as crate::command::Line>::parse(l).map(|v| crate::command::Line::render(&v)),
                }
            }
        })
        .collect();
    quote! {
        //! Typed URCs: one type per variant of the catalogue, and [`Urc`], which reads any of them.

        #(#modules)*

        /// Every URC variant, with a reader that decodes a line and renders it back.
        #[doc(hidden)]
        pub static URC_TEMPLATES: &[crate::command::Template] = &[#(#cfgs #tables),*];

        /// A URC family: the prefix and, for shared prefixes, the quoted literal.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize))]
        #[non_exhaustive]
        pub enum UrcKind { #(#kind_docs #kind_idents,)* }

        impl UrcKind {
            /// The family as the manual writes it (`+QIURC: "recv"`).
            pub fn label(self) -> &'static str {
                match self { #(Self::#kind_idents => #kind_labels,)* }
            }
        }

        /// Any URC of the catalogue (a new firmware's URC is not a breaking
        /// change: matching needs a wildcard arm).
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize))]
        #[non_exhaustive]
        pub enum Urc { #(#vdocs #cfgs #types(#types),)* }

        // A completion or a notice taken out as its own type
        // (`Response::completion_as::<Qiopen>()`, `Qiopen::try_from(urc)`):
        // the URC back when it is another variant.
        #(
            #cfgs
            impl TryFrom<Urc> for #types {
                type Error = Urc;
                fn try_from(urc: Urc) -> Result<Self, Urc> {
                    match urc {
                        Urc::#types(u) => Ok(u),
                        other => Err(other),
                    }
                }
            }
            #cfgs
            impl<'a> TryFrom<&'a Urc> for &'a #types {
                type Error = &'a Urc;
                fn try_from(urc: &'a Urc) -> Result<Self, &'a Urc> {
                    match urc {
                        Urc::#types(u) => Ok(u),
                        other => Err(other),
                    }
                }
            }
        )*

        impl Urc {
            /// Reads a line as a URC: `None` when no URC starts this way, else the
            /// first variant that matches or the error of the last one tried.
            pub fn parse(line: &str) -> Option<Result<Self, crate::wire::DecodeError>> {
                let mut result = None;
                #(
                    #cfgs
                    if line.starts_with(#prefixes) {
                        match <#types as crate::command::Line>::parse(line) {
                            Ok(u) => return Some(Ok(Self::#types(u))),
                            Err(e) => result = Some(Err(e)),
                        }
                    }
                )*
                result
            }
            /// Reads a line's bytes as a URC: `None` when no URC starts this
            /// way, else the first variant that reads it, or the variant whose
            /// shape it has (with the data block it announces, framed by its
            /// length even though another field is wrong), or the last error.
            pub fn decode(line: &[u8]) -> Option<crate::command::Decoded<Self>> {
                #decode_body
            }
            /// For a line not yet ended that has met a CR or LF: how many more
            /// bytes belong to it whatever they are (a payload framed by a
            /// length field of the same line).
            pub fn inline_remaining(partial: &[u8]) -> Option<usize> {
                #(
                    #inline_cfgs
                    if partial.starts_with(#inline_prefixes.as_bytes()) {
                        if let Some(n) = <#inline_types as crate::command::Line>::inline_remaining(partial) {
                            return Some(n);
                        }
                    }
                )*
                let _ = partial;
                None
            }
            /// The value of an integer field by its parameter's name
            /// (`"connectID"`), when the URC has it: what a completion is
            /// matched on.
            pub fn field_int(&self, name: &str) -> Option<i64> {
                match *self { #(#cfgs #field_arms)* }
            }
            /// Its place in a series of URCs that completes a command.
            pub fn series_step(&self) -> crate::command::SeriesStep {
                match *self { #(#cfgs #series_arms)* }
            }
            /// The URC's line as bytes (a payload need not be text).
            pub fn render_bytes(&self) -> alloc::vec::Vec<u8> {
                match *self { #(#cfgs Self::#types(ref u) => crate::command::Line::render_bytes(u),)* }
            }
            /// The URC's line (without the data block or line ending).
            pub fn render(&self) -> alloc::string::String {
                match *self { #(#cfgs Self::#types(ref u) => crate::command::Line::render(u),)* }
            }
            /// Its family.
            pub fn kind(&self) -> UrcKind {
                match *self { #(#cfgs Self::#types(_) => UrcKind::#urc_kinds,)* }
            }
            /// The length of the data block the line announces, for variants that carry one.
            pub fn data_length(&self) -> Option<usize> {
                match *self { #(#cfgs #data_arms)* }
            }
            /// Attaches the data block that followed the line; false if this variant carries none.
            pub fn set_data(&mut self, data: alloc::vec::Vec<u8>) -> bool {
                match *self { #(#cfgs #carries)* }
            }
            /// The data block, for variants that carry one.
            pub fn data(&self) -> Option<&[u8]> {
                match *self { #(#cfgs #data_refs)* }
            }
        }
    }
}

/// The body of `Urc::decode`: dispatch on the line's head (up to its first
/// `": "`) when every prefix is such a head, so a line is tried only against
/// the variants of its own prefix, in catalogue order; else every prefix in
/// turn.
fn decode_dispatch(plan: &Plan<'_>, types: &[Ident]) -> TokenStream {
    let by_head = plan
        .urcs
        .iter()
        .all(|u| u.shape.prefix.find(": ").map(|i| i + 2) == Some(u.shape.prefix.len()));
    if !by_head {
        let prefixes: Vec<&String> = plan.urcs.iter().map(|u| &u.shape.prefix).collect();
        let cfgs: Vec<TokenStream> = plan
            .urcs
            .iter()
            .map(|u| crate::emit::bindings::group_cfg(u.group))
            .collect();
        return quote! {
            #[allow(unused_mut)]
            let mut best = crate::generated::Best::new();
            #(
                #cfgs
                if line.starts_with(#prefixes.as_bytes()) {
                    if let Some(d) = best.offer(<#types as crate::command::Line>::decode(line).map(Self::#types)) {
                        return Some(d);
                    }
                }
            )*
            best.take()
        };
    }
    let mut heads: Vec<(&String, Vec<(&Ident, TokenStream)>)> = Vec::new();
    for (u, t) in plan.urcs.iter().zip(types) {
        let cfg = crate::emit::bindings::group_cfg(u.group);
        match heads.iter_mut().find(|(h, _)| *h == &u.shape.prefix) {
            Some((_, ts)) => ts.push((t, cfg)),
            None => heads.push((&u.shape.prefix, vec![(t, cfg)])),
        }
    }
    let arms = heads.iter().map(|(h, ts)| {
        let lit = proc_macro2::Literal::byte_string(h.as_bytes());
        let (ts, cfgs): (Vec<&Ident>, Vec<&TokenStream>) = ts.iter().map(|(t, c)| (*t, c)).unzip();
        quote! {
            #lit => {
                #(
                    #cfgs
                    if let Some(d) = best.offer(<#ts as crate::command::Line>::decode(line).map(Self::#ts)) {
                        return Some(d);
                    }
                )*
            }
        }
    });
    quote! {
        #[allow(unused_mut)]
        let mut best = crate::generated::Best::new();
        #[allow(clippy::collapsible_match)]
        match crate::scan::head(line) {
            #(#arms)*
            _ => {}
        }
        best.take()
    }
}
