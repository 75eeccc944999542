//! `results.rs`: the result-code tables as enums.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::catalog::Catalog;
use crate::emit::bindings::docs::doc;
use crate::emit::bindings::types::code_type;
use crate::emit::names::camel;

/// Renders `results.rs`.
pub fn render(catalog: &Catalog) -> TokenStream {
    let mut items = Vec::new();
    for (_, e) in catalog.result_tables() {
        let t = &e.value;
        let name = code_type(t.table);
        let mut variants = Vec::new();
        for c in &t.codes {
            // The code's catalogue id names it (the validator requires one).
            let base = match &c.id {
                Some(id) => camel(id),
                None => camel(&format!("code {}", c.code)),
            };
            let mut v = base.clone();
            while variants
                .iter()
                .any(|(x, _, _): &(String, i64, String)| *x == v)
                || v == "Other"
            {
                v = format!("{base}{}", c.code);
            }
            variants.push((v, c.code, c.description.clone()));
        }
        let idents: Vec<_> = variants
            .iter()
            .map(|(v, _, _)| format_ident!("{}", v))
            .collect();
        let codes: Vec<Literal> = variants
            .iter()
            .map(|(_, c, _)| Literal::i64_unsuffixed(*c))
            .collect();
        let descs: Vec<&String> = variants.iter().map(|(_, _, d)| d).collect();
        let vdocs: Vec<TokenStream> = variants
            .iter()
            .map(|(_, c, d)| doc(&format!("{c}: {d}")))
            .collect();
        let d = doc(&format!(
            "{} (the manual's \"Summary of Result Codes\").",
            t.title
        ));
        items.push(quote! {
            #d
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
            #[cfg_attr(feature = "serde", derive(serde::Serialize))]
            #[non_exhaustive]
            pub enum #name {
                #(#vdocs #idents,)*
                /// A code the table does not list.
                Other(i64),
            }

            impl #name {
                /// Every listed code, in the table's order.
                pub const ALL: &'static [#name] = &[#(#name::#idents),*];
                /// The numeric code.
                pub fn code(&self) -> i64 {
                    match self { #(Self::#idents => #codes,)* Self::Other(c) => *c }
                }
                /// The code's value for a number.
                pub fn from_code(code: i64) -> Self {
                    match code { #(#codes => Self::#idents,)* other => Self::Other(other) }
                }
                /// The table's description ("unknown result code" for unlisted codes).
                pub fn description(&self) -> &'static str {
                    match self { #(Self::#idents => #descs,)* Self::Other(_) => "unknown result code" }
                }
                /// Whether this is the success code (0).
                pub fn is_success(&self) -> bool {
                    self.code() == 0
                }
            }

            impl core::fmt::Display for #name {
                fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                    write!(f, "{} ({})", self.description(), self.code())
                }
            }

            #[cfg(feature = "std")]
            impl std::error::Error for #name {}
        });
    }
    quote! {
        //! The result-code tables of the catalogue.
        #(#items)*
    }
}
