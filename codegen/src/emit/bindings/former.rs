//! `former.rs`: the names generated code had before information lines and
//! repeated enumerations got curated names, kept (hidden from the docs) so
//! that code written against them still builds while it moves to the new
//! ones: `WriteLine0` for `WriteScanWithoutAdvDataLine`, the constructor
//! `WriteLine::L0(…)` for `WriteLine::ScanWithoutAdvData(…)`,
//! `StoreStatus0` for the shared `StoreStatus`. Remove this module once no
//! crate of the workspace uses a former name.

use std::collections::BTreeMap;

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use crate::emit::names::{camel, PRELUDE};
use crate::emit::plan::FormPlan;
use crate::model::Param;

/// Former names of a form's several information lines: `{form}Line{i}` for
/// each line type and `L{i}` constructors on the enumeration of the lines.
pub fn line_items(f: &FormPlan<'_>) -> TokenStream {
    if f.lines.len() < 2 {
        return quote!();
    }
    let et = format_ident!("{}Line", f.type_name);
    let mut aliases = Vec::new();
    let mut constructors = Vec::new();
    for (i, l) in f.lines.iter().enumerate() {
        let old = format_ident!("{}Line{}", f.type_name, i);
        let new = format_ident!("{}", l.type_name);
        let variant = format_ident!("{}", l.name);
        let ctor = format_ident!("L{}", i);
        aliases.push(quote! {
            #[doc(hidden)]
            pub type #old = #new;
        });
        constructors.push(quote! {
            #[doc(hidden)]
            #[allow(non_snake_case)]
            pub const fn #ctor(line: #new) -> Self { Self::#variant(line) }
        });
    }
    quote! {
        #(#aliases)*
        impl #et { #(#constructors)* }
    }
}

/// Former names of enumerations that now have a shared or curated name:
/// each parameter's own CamelCase name (`StoreStatus0` for the shared
/// `StoreStatus`, `KaliveOnoff` for `Enable`), where it differs from its
/// type's and no type of the scope (`taken`: forms, lines, enumerations)
/// takes it or differs from it only by case.
pub fn enum_aliases(
    params: &[Param],
    enums: &BTreeMap<usize, Ident>,
    taken: &[String],
) -> TokenStream {
    let mut used: Vec<String> = taken
        .iter()
        .cloned()
        .chain(enums.values().map(|n| n.to_string()))
        .chain(PRELUDE.iter().map(|n| n.to_string()))
        .map(|n| n.to_ascii_lowercase())
        .collect();
    let mut items = Vec::new();
    for (i, n) in enums {
        let own = camel(&params[*i].name);
        if used.contains(&own.to_ascii_lowercase()) {
            continue;
        }
        used.push(own.to_ascii_lowercase());
        let own = format_ident!("{}", own);
        items.push(quote! {
            #[doc(hidden)]
            pub type #own = #n;
        });
    }
    quote!(#(#items)*)
}
