//! One Rust enumeration per parameter that has enumerated values.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use crate::emit::bindings::docs::{doc, param_doc};
use crate::emit::names::camel;
use crate::model::{Param, ParamType};
use crate::params::numeric;

/// The enumeration's variant names, in value order: the CamelCase form of
/// each value's catalogue `id` (the validator makes ids present and unique),
/// falling back to the wire value for a catalogue without ids.
fn variant_names(p: &Param) -> Vec<Ident> {
    let mut names: Vec<String> = Vec::new();
    for v in &p.values {
        let wire = v.value.to_string();
        let base = match &v.id {
            Some(id) => camel(id),
            None if p.ty.is_numeric() => camel(&format!("v {wire}")),
            None => camel(&wire),
        };
        let mut name = base.clone();
        let mut n = 2;
        while names.contains(&name) || name == "Other" {
            name = format!("{base}{n}");
            n += 1;
        }
        names.push(name);
    }
    names.into_iter().map(|n| format_ident!("{}", n)).collect()
}

/// The enumeration for parameter `p`, named `name`.
pub fn render(p: &Param, name: &Ident) -> TokenStream {
    render_with_doc(p, name, &param_doc(p))
}

/// The enumeration for parameter `p`, named `name`, documented by `text`.
pub fn render_with_doc(p: &Param, name: &Ident, text: &str) -> TokenStream {
    let variants = variant_names(p);
    let open = p.open_values.is_some();
    let string = !p.ty.is_numeric();
    let hex = p.ty == ParamType::HexInteger;
    let docs = doc(text);
    let variant_docs: Vec<TokenStream> = p
        .values
        .iter()
        .map(|v| {
            let mut d = format!("`{}`: {}", v.value, v.meaning);
            if let Some(r) = &v.remedy {
                d.push_str(&format!("\n\nRemedy: {r}"));
            }
            doc(&d)
        })
        .collect();
    let meanings: Vec<&str> = p.values.iter().map(|v| v.meaning.as_str()).collect();
    let (other_variant, other_doc) = if open {
        let ty = if string {
            quote!(alloc::string::String)
        } else {
            quote!(i64)
        };
        let d = doc(&format!(
            "Any other value: {}",
            p.open_values.as_deref().unwrap_or("")
        ));
        (quote!(#d Other(#ty),), true)
    } else {
        (quote!(), false)
    };
    let derive_copy = if open && string {
        quote!()
    } else {
        quote!(Copy,)
    };
    let other_meaning = if other_doc {
        let m = p.open_values.clone().unwrap_or_default();
        quote!(Self::Other(_) => #m,)
    } else {
        quote!()
    };
    let all_doc = doc("Every listed value, in the catalogue's order.");
    let meaning_doc = doc("The value's meaning, in the manual's words.");
    let from_doc = doc("Reads a wire value (without quotes).");
    let name_str = name.to_string();
    let (wire_fn, from_fn, write_fn) = if string {
        let wires: Vec<String> = p.values.iter().map(|v| v.value.to_string()).collect();
        let other_wire = if open {
            quote!(Self::Other(s) => s,)
        } else {
            quote!()
        };
        let other_from = if open {
            // An open value is still a string field: the same bytes are refused.
            quote!(other => crate::value::Text::<0, { crate::value::UNBOUNDED }>::new(other).map(|t| Self::Other(alloc::string::String::from(t.as_str()))),)
        } else {
            quote!(_ => Err(crate::value::ValueError::UnknownValue { of: #name_str }),)
        };
        let wire_doc = doc("The value as written on the wire (without quotes).");
        (
            quote! {
                #wire_doc
                pub fn wire(&self) -> &str {
                    match self { #(Self::#variants => #wires,)* #other_wire }
                }
            },
            quote! {
                #from_doc
                pub fn from_wire(s: &str) -> Result<Self, crate::value::ValueError> {
                    match s { #(#wires => Ok(Self::#variants),)* #other_from }
                }
            },
            quote!(),
        )
    } else {
        let wires_abs: Vec<TokenStream> = p
            .values
            .iter()
            .map(|v| {
                let n = numeric(p.ty, &v.value).unwrap_or_default();
                let l = Literal::i64_unsuffixed(n.abs());
                if n < 0 {
                    quote!(-#l)
                } else {
                    quote!(#l)
                }
            })
            .collect();
        let other_wire = if open {
            quote!(Self::Other(n) => *n,)
        } else {
            quote!()
        };
        let parse = if hex {
            quote!(crate::value::parse_hex(s)?)
        } else {
            quote!(crate::value::parse_int(s)?)
        };
        let other_from = if open {
            quote!(other => Ok(Self::Other(other)),)
        } else {
            quote!(_ => Err(crate::value::ValueError::UnknownValue { of: #name_str }),)
        };
        let width = Literal::usize_unsuffixed(
            format!(
                "{:X}",
                p.values
                    .iter()
                    .filter_map(|v| numeric(p.ty, &v.value))
                    .max()
                    .unwrap_or(0)
            )
            .len(),
        );
        let prefix = p.prefix.unwrap_or(false);
        let write_body = if hex {
            quote!(w.hex(self.wire(), #prefix, #width);)
        } else {
            quote!(w.int(self.wire());)
        };
        let wire_doc = doc("The value as written on the wire.");
        let write_doc = doc("Writes the wire value into a line.");
        let from_int_doc = doc("The value with this wire number.");
        (
            quote! {
                #wire_doc
                pub fn wire(&self) -> i64 {
                    match self { #(Self::#variants => #wires_abs,)* #other_wire }
                }
            },
            quote! {
                #from_doc
                pub fn from_wire(s: &str) -> Result<Self, crate::value::ValueError> {
                    Self::from_int(#parse)
                }
                #from_int_doc
                pub fn from_int(n: i64) -> Result<Self, crate::value::ValueError> {
                    match n { #(#wires_abs => Ok(Self::#variants),)* #other_from }
                }
            },
            quote! {
                #write_doc
                pub fn write_wire<W: crate::wire::LineOut>(&self, w: &mut crate::wire::LineWriter<W>) {
                    #write_body
                }
            },
        )
    };
    // Result enumerations (QMTOPEN `<result>`, QMTSTAT `<err_code>`, ...) are errors too.
    let lname = p.name.to_ascii_lowercase();
    let is_result =
        lname.contains("result") || lname.contains("retcode") || lname.starts_with("err");
    // A result enumeration grows with the firmware: matching it needs a
    // wildcard arm, so a new code is not a breaking change.
    let non_exhaustive = if is_result {
        quote!(#[non_exhaustive])
    } else {
        quote!()
    };
    let error_impl = if is_result {
        quote! {
            #[cfg(feature = "std")]
            impl std::error::Error for #name {}
        }
    } else {
        quote!()
    };
    quote! {
        #docs
        #[derive(Debug, Clone, #derive_copy PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize))]
        #non_exhaustive
        pub enum #name {
            #(#variant_docs #variants,)*
            #other_variant
        }

        impl #name {
            #all_doc
            pub const ALL: &'static [#name] = &[#(#name::#variants),*];
            #wire_fn
            #from_fn
            #write_fn
            #meaning_doc
            pub fn meaning(&self) -> &'static str {
                match self { #(Self::#variants => #meanings,)* #other_meaning }
            }
        }

        impl core::fmt::Display for #name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, "{} ({})", self.meaning(), self.wire())
            }
        }

        #error_impl
    }
}
