//! Rustdoc text taken from the catalogue.

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::Param;

/// `#[doc = "…"]` attributes, one per line (rustdoc joins them).
pub fn doc(text: &str) -> TokenStream {
    let lines: Vec<String> = text.lines().map(|l| format!(" {l}")).collect();
    quote!(#(#[doc = #lines])*)
}

/// A parameter's documentation: description, range, length, unit, default, errata.
pub fn param_doc(p: &Param) -> String {
    let mut parts = vec![format!(
        "`<{}>`: {}",
        p.name,
        p.description
            .as_deref()
            .unwrap_or("(no description in the manual)")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    )];
    let mut facts = Vec::new();
    if let Some(r) = &p.range {
        facts.push(format!("range {}..={}", r.min, r.max));
    }
    for r in &p.ranges_when {
        facts.push(format!("range {}..={} when {}", r.min, r.max, r.when_text));
    }
    if let Some(l) = &p.length {
        facts.push(format!("length {}..={} bytes", l.min, l.max));
    }
    if !p.lengths.is_empty() {
        facts.push(format!(
            "length {} bytes",
            p.lengths
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" or ")
        ));
    }
    if let Some(u) = &p.unit {
        facts.push(format!("unit: {u}"));
    }
    if let Some(d) = &p.default {
        facts.push(format!("default: {d}"));
    }
    if p.secret {
        facts.push("secret: masked in logs".into());
    }
    if !p.errata.is_empty() {
        facts.push(format!("errata: {}", p.errata.join(", ")));
    }
    if !facts.is_empty() {
        parts.push(format!("({})", facts.join("; ")));
    }
    parts.join("\n\n")
}
