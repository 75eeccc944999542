//! The catalogue, embedded: the simulator answers test commands from the
//! catalogue's own ranges, and knows which commands report errors as
//! `+CME ERROR`.

use std::path::PathBuf;
use std::sync::OnceLock;

use fcm242d_codegen::load::load_text;
use fcm242d_codegen::model::{FinalResult, FormKind, Param, ParamType};
use fcm242d_codegen::params::{numeric, resolve};
use fcm242d_codegen::Catalog;

const FILES: &[(&str, &str)] = &[
    ("ble.yaml", include_str!("../../spec/ble.yaml")),
    ("errata.yaml", include_str!("../../spec/errata.yaml")),
    (
        "filesystem.yaml",
        include_str!("../../spec/filesystem.yaml"),
    ),
    ("general.yaml", include_str!("../../spec/general.yaml")),
    ("http.yaml", include_str!("../../spec/http.yaml")),
    ("mqtt.yaml", include_str!("../../spec/mqtt.yaml")),
    ("network.yaml", include_str!("../../spec/network.yaml")),
    (
        "provocations.yaml",
        include_str!("../../spec/provocations.yaml"),
    ),
    (
        "result_codes.yaml",
        include_str!("../../spec/result_codes.yaml"),
    ),
    ("scenarios.yaml", include_str!("../../spec/scenarios.yaml")),
    ("ssl.yaml", include_str!("../../spec/ssl.yaml")),
    ("states.yaml", include_str!("../../spec/states.yaml")),
    ("tcpip.yaml", include_str!("../../spec/tcpip.yaml")),
    ("urcs.yaml", include_str!("../../spec/urcs.yaml")),
    ("wifi.yaml", include_str!("../../spec/wifi.yaml")),
];

/// Names of the embedded spec files (a test checks they are all of `spec/`).
pub fn embedded_files() -> impl Iterator<Item = &'static str> {
    FILES.iter().map(|(name, _)| *name)
}

/// The embedded catalogue (validated once).
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let mut diags = Vec::new();
        let files = FILES
            .iter()
            .map(|(name, text)| {
                load_text(
                    PathBuf::from(format!("spec/{name}")),
                    text.to_string(),
                    &mut diags,
                )
            })
            .collect();
        match Catalog::from_files(files, diags) {
            Ok(c) => c,
            // The same files pass `cargo xtask check` in CI; a broken build is a bug.
            Err(e) => panic!("the embedded catalogue is invalid:\n{e}"),
        }
    })
}

/// The name of the command a line invokes (longest catalogue name that prefixes it).
pub fn command_name(line: &str) -> Option<&'static str> {
    let upper = line.to_ascii_uppercase();
    catalog()
        .commands()
        .map(|c| c.command.name.as_str())
        .filter(|n| {
            upper
                .strip_prefix(&n.to_ascii_uppercase())
                .is_some_and(|rest| {
                    rest.is_empty() || rest.starts_with('=') || rest.starts_with('?')
                })
        })
        .max_by_key(|n| n.len())
}

/// Whether the command reports errors as `+CME ERROR: <err>`.
pub fn uses_cme(name: &str) -> bool {
    catalog().command(name).is_some_and(|c| {
        c.command
            .forms
            .iter()
            .flat_map(|f| &f.responses)
            .any(|r| r.result == FinalResult::CmeError)
    })
}

/// The code of the HTTP(S) table whose description is "Invalid parameter".
pub fn invalid_parameter_code() -> i64 {
    catalog()
        .result_tables()
        .flat_map(|(_, t)| t.value.codes.iter())
        .find(|c| c.description.eq_ignore_ascii_case("Invalid parameter"))
        .map(|c| c.code)
        .unwrap_or(0)
}

fn listing(p: &Param) -> String {
    if !p.values.is_empty() {
        let items: Vec<String> = p
            .values
            .iter()
            .map(|v| match numeric(p.ty, &v.value) {
                // Hex integers as the manual writes them (`0x0035`).
                Some(_) if p.ty == ParamType::HexInteger => v.value.to_string(),
                Some(n) if p.ty.is_numeric() => n.to_string(),
                _ => format!("\"{}\"", v.value),
            })
            .collect();
        // The manual writes three or more consecutive integers as a range:
        // `+QMTSUB: (0-5),(0-65535),<topic>,(0-2)`, but `(0,1)` for two.
        let numbers: Vec<i64> = items.iter().filter_map(|i| i.parse().ok()).collect();
        if numbers.len() == items.len()
            && numbers.len() >= 3
            && numbers.windows(2).all(|w| w[1] == w[0] + 1)
        {
            return format!("({}-{})", numbers[0], numbers[numbers.len() - 1]);
        }
        return format!("({})", items.join(","));
    }
    match &p.range {
        Some(r) => format!("({}-{})", r.min, r.max),
        None => format!("<{}>", p.name),
    }
}

/// The information lines of the command's test form, with every
/// `(list of supported <x>s)` replaced by `<x>`'s range from the catalogue.
pub fn test_lines(name: &str) -> Option<Vec<String>> {
    let c = catalog().command(name)?.command;
    let form = c.forms.iter().find(|f| f.kind == FormKind::Test)?;
    let mut out = Vec::new();
    for r in &form.responses {
        for l in &r.lines {
            let mut text = l.template().to_string();
            while let Some(start) = text.find("(list of supported <") {
                let rest = &text[start + "(list of supported <".len()..];
                let Some(end) = rest.find(">s)") else { break };
                let pname = rest[..end].to_string();
                let value = resolve(&c.params, &pname)
                    .map(|r| listing(&c.params[r.param]))
                    .unwrap_or_else(|| format!("<{pname}>"));
                text.replace_range(
                    start..start + "(list of supported <".len() + end + ">s)".len(),
                    &value,
                );
            }
            // The module prints the optional parts too.
            out.push(text.replace(['[', ']'], ""));
        }
    }
    Some(out)
}
