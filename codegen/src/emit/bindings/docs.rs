//! Rustdoc text taken from the catalogue.

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::Param;

/// `#[doc = "…"]` attributes, one per line (rustdoc joins them).
pub fn doc(text: &str) -> TokenStream {
    let lines: Vec<String> = escape_markdown(text)
        .lines()
        .map(|l| format!(" {l}"))
        .collect();
    quote!(#(#[doc = #lines])*)
}

/// The manual's `<param>` notation read as Markdown would be HTML tags, and
/// its bare URLs would not be links: escape `<` and link URLs outside code.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_fence = false;
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            out.push_str(line);
            continue;
        }
        if in_fence {
            out.push_str(line);
            continue;
        }
        let mut in_code = false;
        for (j, word) in line.split(' ').enumerate() {
            if j > 0 {
                out.push(' ');
            }
            if let Some(at) = word
                .find("http")
                .filter(|_| !in_code && word.contains("://") && !word.contains('`'))
            {
                let (before, rest) = word.split_at(at);
                let url = rest.trim_end_matches(['.', ',', ')', ';']);
                out.push_str(&format!("{before}<{url}>{}", &rest[url.len()..]));
                continue;
            }
            for c in word.chars() {
                match c {
                    '`' => {
                        in_code = !in_code;
                        out.push(c);
                    }
                    '<' if !in_code => out.push_str("\\<"),
                    _ => out.push(c),
                }
            }
        }
    }
    out
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
