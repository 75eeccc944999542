//! The real catalogue in `spec/` loads, validates, covers the manual, and
//! expresses every construct DESIGN.md lists.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use fcm242d_codegen::model::{
    Command, ControlByte, FinalResult, FormKind, Mode, ParamType, Prompt, ResponseTime, Rule,
    Safety, Saved,
};
use fcm242d_codegen::template::{self, Node};
use fcm242d_codegen::Catalog;

fn catalog() -> Catalog {
    Catalog::load(Path::new("../spec")).unwrap_or_else(|e| panic!("the spec is invalid:\n{e}"))
}

/// The environment variable that names the manual's text file.
const MANUAL_VAR: &str = "FCM242D_MANUAL";
/// Set to `1` (as `.ci/run` does) to make a missing manual fail the
/// cross-checks instead of leaving them out.
const REQUIRE_VAR: &str = "FCM242D_REQUIRE_MANUAL";

/// Where the manual is looked for: `$FCM242D_MANUAL`, else beside the
/// repository (`../shared/reference/`).
fn manual_path() -> PathBuf {
    match std::env::var_os(MANUAL_VAR) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/reference/fcm242d-fgm842d-at-commands-manual.txt"),
    }
}

/// The manual is the catalogue's source of truth; it lives outside the
/// repository. The cross-checks against it run when it is found; on a
/// fresh clone without it they say so on stderr and check nothing, unless
/// `FCM242D_REQUIRE_MANUAL=1` (`.ci/run` sets it, so the cross-checks cannot
/// silently stop running there).
fn manual() -> Option<String> {
    let path = manual_path();
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) => {
            let required = std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1");
            assert!(
                !required,
                "{REQUIRE_VAR}=1 but the manual is not readable at {} ({e}); \
                 set {MANUAL_VAR} to its path",
                path.display()
            );
            eprintln!(
                "note: manual cross-check not run: no manual at {} ({e}); \
                 set {MANUAL_VAR} to its path",
                path.display()
            );
            None
        }
    }
}

fn command<'a>(c: &'a Catalog, name: &str) -> &'a Command {
    c.command(name)
        .unwrap_or_else(|| panic!("{name} missing"))
        .command
}

fn write_trees(cmd: &Command) -> Vec<Vec<Node>> {
    cmd.forms
        .iter()
        .filter(|f| f.kind == FormKind::Write)
        .map(|f| template::parse_command(&f.syntax).expect("parses").args)
        .collect()
}

fn any_node(nodes: &[Node], pred: &dyn Fn(&Node) -> bool) -> bool {
    nodes.iter().any(|n| {
        pred(n)
            || match n {
                Node::Optional { nodes, .. } => any_node(nodes, pred),
                _ => false,
            }
    })
}

#[test]
fn every_command_heading_of_the_manual_is_in_the_catalogue_and_nothing_else() {
    let c = catalog();
    let Some(manual) = manual() else { return };
    let in_manual: BTreeSet<String> = manual
        .lines()
        .map(str::trim_end)
        .filter(|l| {
            l.starts_with("AT+Q")
                && l[4..]
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        })
        .map(str::to_string)
        .collect();
    let in_catalog: BTreeSet<String> = c
        .commands()
        .map(|r| r.command.name.clone())
        .filter(|n| n.starts_with("AT+Q"))
        .collect();
    assert_eq!(in_manual.len(), 87, "the manual documents 87 AT+Q commands");
    let missing: Vec<_> = in_manual.difference(&in_catalog).collect();
    let extra: Vec<_> = in_catalog.difference(&in_manual).collect();
    assert!(
        missing.is_empty(),
        "commands of the manual missing from spec/: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "commands in spec/ that the manual does not document: {extra:?}"
    );
    for basic in ["AT", "ATO", "+++"] {
        assert!(c.command(basic).is_some(), "{basic} missing");
    }
    assert_eq!(c.commands().count(), 90);
}

#[test]
fn every_urc_of_the_urc_chapter_is_in_the_catalogue() {
    let c = catalog();
    let Some(manual) = manual() else { return };
    let start = manual.find("\nDescription of URCs\n").expect("URC chapter");
    let end = manual[start..]
        .find("\nExamples\n")
        .map(|e| start + e)
        .expect("Examples chapter");
    let mut headings = Vec::new();
    for line in manual[start..end].lines() {
        let line = line.trim_end();
        let Some(rest) = line.strip_prefix('+') else {
            continue;
        };
        let (name, disc) = match rest.split_once(": \"") {
            Some((n, d)) => (format!("+{n}"), Some(d.trim_end_matches('"').to_string())),
            None => (line.to_string(), None),
        };
        let clean_disc = disc.as_deref().is_none_or(|d| !d.contains('"'));
        if name[1..].chars().all(|c| c.is_ascii_uppercase()) && clean_disc {
            headings.push((name, disc));
        }
    }
    assert!(
        headings.len() >= 20,
        "found only {} URC headings",
        headings.len()
    );
    for (name, disc) in headings {
        let found = c
            .urcs()
            .any(|(_, u)| u.value.name == name && u.value.discriminator == disc);
        assert!(
            found,
            "URC {name} {disc:?} of the manual is missing from spec/urcs.yaml"
        );
    }
}

#[test]
fn the_result_code_tables_match_the_manual_row_by_row() {
    let c = catalog();
    let Some(manual) = manual() else { return };
    let start = manual
        .find("TCP/UDP/SSL Result Codes:")
        .expect("result codes");
    let end = manual.find("Appendix References").expect("appendix");
    let mut table = "";
    let mut rows = 0;
    for line in manual[start..end].lines() {
        if line.starts_with("TCP/UDP/SSL Result Codes") {
            table = "tcpip";
        } else if line.starts_with("HTTP(S) Result Codes") {
            table = "http";
        }
        let Some((code, desc)) = line.split_once(' ') else {
            continue;
        };
        let Ok(code) = code.parse::<i64>() else {
            continue;
        };
        rows += 1;
        let found = c.result_tables().any(|(_, t)| {
            format!("{:?}", t.value.table).to_lowercase() == table
                && t.value
                    .codes
                    .iter()
                    .any(|r| r.code == code && r.description == desc.trim())
        });
        assert!(
            found,
            "result code {code} `{desc}` of table {table} missing or different"
        );
    }
    assert_eq!(rows, 47);
    let total: usize = c.result_tables().map(|(_, t)| t.value.codes.len()).sum();
    assert_eq!(total, 47, "no rows beyond the manual's");
}

/// Every integer range of a command appears in that command's section of the
/// manual (as `a--b`, `a-b` or `a to b`), or an erratum on the parameter explains it.
#[test]
fn every_integer_range_is_found_in_its_section_or_explained_by_an_erratum() {
    let c = catalog();
    let Some(manual) = manual() else { return };
    let lines: Vec<&str> = manual.lines().collect();
    let heading = |name: &str| lines.iter().position(|l| l.trim_end() == name);
    let mut failures = Vec::new();
    for r in c.commands() {
        let cmd = r.command;
        let Some(start) = heading(&cmd.name) else {
            continue;
        };
        let end = lines[start + 1..]
            .iter()
            .position(|l| {
                let l = l.trim_end();
                (l.starts_with("AT+Q")
                    && l[4..]
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                    && l != cmd.name)
                    || l == "Description of URCs"
            })
            .map(|e| start + 1 + e)
            .unwrap_or(lines.len());
        let section = lines[start..end].join("\n");
        for p in &cmd.params {
            if p.ty != ParamType::Integer || !p.errata.is_empty() {
                continue;
            }
            let Some(range) = &p.range else { continue };
            let (min, max) = (range.min.to_string(), range.max.to_string());
            if min == max {
                // A single allowed value ("can only be set to 0 currently").
                if !section.contains(&format!("set to {min}")) {
                    failures.push(format!("{} <{}> only {min}", cmd.name, p.name));
                }
                continue;
            }
            let spellings = [
                format!("{min}--{max}"),
                format!("{min}-{max}"),
                format!("{min} to {max}"),
                format!("({min}-{max})"),
            ];
            if !spellings.iter().any(|s| section.contains(s.as_str())) {
                failures.push(format!("{} <{}> {min}..{max}", cmd.name, p.name));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "ranges not found in the manual's section: {failures:#?}"
    );
}

#[test]
fn the_catalogue_expresses_every_construct_of_the_design() {
    let c = catalog();
    let commands: Vec<&Command> = c.commands().map(|r| r.command).collect();
    let forms = || commands.iter().flat_map(|c| c.forms.iter());

    // 1. Forms.
    for kind in [
        FormKind::Test,
        FormKind::Read,
        FormKind::Write,
        FormKind::Execute,
    ] {
        assert!(forms().any(|f| f.kind == kind), "{kind:?}");
    }
    // 2. Nested optionals; 3. alternatives.
    let qiopen = write_trees(command(&c, "AT+QIOPEN"));
    assert!(qiopen.iter().any(|t| any_node(t, &|n| matches!(n, Node::Optional { nodes, .. } if nodes.iter().any(|x| matches!(x, Node::Optional { .. }))))));
    assert!(qiopen.iter().any(|t| t
        .iter()
        .any(|n| matches!(n, Node::Alternatives(a) if a == &["IP_address", "domain_name"]))));
    // 4. Repeated groups.
    for name in ["AT+QMTSUB", "AT+QMTUNS"] {
        assert!(
            write_trees(command(&c, name))
                .iter()
                .any(|t| any_node(t, &|n| matches!(n, Node::Optional { repeat: true, .. }))),
            "{name}"
        );
    }
    // 5. Sub-commands.
    for name in [
        "AT+QICFG",
        "AT+QSSLCFG",
        "AT+QMTCFG",
        "AT+QHTTPCFG",
        "AT+QCFG",
    ] {
        assert!(
            command(&c, name)
                .forms
                .iter()
                .any(|f| f.subcommand.is_some()),
            "{name}"
        );
    }
    // 6. Several write forms by arity or literal.
    assert_eq!(
        command(&c, "AT+QISEND")
            .forms
            .iter()
            .filter(|f| f.kind == FormKind::Write)
            .count(),
        4
    );
    assert!(
        command(&c, "AT+QIRD")
            .forms
            .iter()
            .filter(|f| f.kind == FormKind::Write)
            .count()
            >= 3
    );
    assert!(command(&c, "AT+QSSLSTATE")
        .forms
        .iter()
        .any(|f| f.kind == FormKind::Write));
    // 7. Parameter types.
    let types: BTreeSet<String> = commands
        .iter()
        .flat_map(|c| &c.params)
        .map(|p| format!("{:?}", p.ty))
        .collect();
    for t in [
        "Integer",
        "HexInteger",
        "String",
        "Ipv4",
        "Host",
        "Uuid",
        "BleAddress",
        "Mac",
        "Time",
        "KeyValue",
        "Data",
        "ResultCode",
    ] {
        assert!(types.contains(t), "no parameter of type {t}");
    }
    assert!(commands
        .iter()
        .flat_map(|c| &c.params)
        .any(|p| p.length.is_some()));
    assert!(commands.iter().flat_map(|c| &c.params).any(|p| p.secret));
    // 8. Cross-parameter rules.
    let rules: Vec<&Rule> = commands.iter().flat_map(|c| &c.rules).collect();
    assert!(rules.iter().any(|r| matches!(r, Rule::Compare { left, right, .. } if left == &["scan_window"] && right == &["scan_interval"])));
    assert!(command(&c, "AT+QBLESCAN")
        .rules
        .iter()
        .any(|r| matches!(r, Rule::RequiredIf { params, .. } if params == &["timeout"])));
    assert!(command(&c, "AT+QIOPEN")
        .rules
        .iter()
        .any(|r| matches!(r, Rule::ForbiddenValuesIf { param, .. } if param == "access_mode")));
    assert!(command(&c, "AT+QIOPEN")
        .rules
        .iter()
        .any(|r| matches!(r, Rule::RequiredIf { params, .. } if params == &["local_port"])));
    assert!(command(&c, "AT+QMTCFG")
        .rules
        .iter()
        .any(|r| matches!(r, Rule::RequiredIf { .. })));
    // 9. Final results.
    let results: BTreeSet<String> = forms()
        .flat_map(|f| &f.responses)
        .map(|r| format!("{:?}", r.result))
        .collect();
    for r in [
        FinalResult::Ok,
        FinalResult::Error,
        FinalResult::CmeError,
        FinalResult::SendOk,
        FinalResult::SendFail,
        FinalResult::Connect,
        FinalResult::ConnectN,
        FinalResult::NoCarrier,
    ] {
        assert!(results.contains(&format!("{r:?}")), "{r:?}");
    }
    assert!(forms()
        .flat_map(|f| &f.responses)
        .flat_map(|r| &r.lines)
        .any(|l| l.repeated()));
    // 10. Data phases and data blocks.
    assert!(forms()
        .filter_map(|f| f.data_phase.as_ref())
        .any(|d| d.prompt == Prompt::Greater
            && d.terminator == Some(ControlByte::CtrlZ)
            && d.cancel == Some(ControlByte::Esc)));
    assert!(forms()
        .filter_map(|f| f.data_phase.as_ref())
        .any(|d| d.prompt == Prompt::Connect && d.length.is_some()));
    assert!(forms()
        .flat_map(|f| &f.responses)
        .flat_map(|r| &r.lines)
        .any(|l| l.data().is_some()));
    // 11. Transparent mode.
    for name in [
        "AT+QIOPEN",
        "AT+QSSLOPEN",
        "AT+QISWTMD",
        "ATO",
        "AT+QBLETRANMODE",
    ] {
        assert!(
            command(&c, name)
                .forms
                .iter()
                .flat_map(|f| &f.responses)
                .any(|r| r.enters == Some(Mode::Transparent)),
            "{name}"
        );
    }
    assert!(command(&c, "ATO")
        .forms
        .iter()
        .flat_map(|f| &f.responses)
        .any(|r| r.result == FinalResult::NoCarrier));
    // 12. Deferred completions.
    for (name, urc) in [
        ("AT+QIOPEN", "+QIOPEN"),
        ("AT+QMTCONN", "+QMTCONN"),
        ("AT+QHTTPGET", "+QHTTPGET"),
        ("AT+QIDNSGIP", "+QIURC"),
        ("AT+QPING", "+QPING"),
        ("AT+QNTP", "+QNTP"),
    ] {
        assert!(
            command(&c, name)
                .forms
                .iter()
                .flat_map(|f| &f.responses)
                .any(|r| r.completion.as_ref().is_some_and(|x| x.urc == urc)),
            "{name}"
        );
    }
    // 13. URC families.
    let qiurc: BTreeSet<Option<String>> = c
        .urcs()
        .filter(|(_, u)| u.value.name == "+QIURC")
        .map(|(_, u)| u.value.discriminator.clone())
        .collect();
    for d in ["recv", "closed", "incoming", "incoming full", "dnsgip"] {
        assert!(qiurc.contains(&Some(d.to_string())), "+QIURC {d}");
    }
    assert!(
        c.urcs()
            .filter(|(_, u)| u.value.name == "+QIURC"
                && u.value.discriminator.as_deref() == Some("recv"))
            .count()
            >= 3
    );
    assert!(c.urcs().any(|(_, u)| u.value.data.is_some()));
    // 14. Time limits of every kind.
    let times: Vec<&ResponseTime> = commands.iter().map(|c| &c.max_response_time).collect();
    assert!(times
        .iter()
        .any(|t| matches!(t, ResponseTime::Fixed { .. })));
    assert!(matches!(
        command(&c, "AT+QSOFTAP").max_response_time,
        ResponseTime::Conditional { .. }
    ));
    assert!(
        matches!(&command(&c, "AT+QICLOSE").max_response_time, ResponseTime::Param { param, .. } if param == "timeout")
    );
    assert!(
        matches!(&command(&c, "AT+QMTSUB").max_response_time, ResponseTime::Config { factors, .. } if factors.len() == 2)
    );
    assert!(matches!(
        command(&c, "AT+QIOPEN").max_response_time,
        ResponseTime::Network { ms: 150_000, .. }
    ));
    assert!(times
        .iter()
        .any(|t| matches!(t, ResponseTime::NotGiven { .. })));
    // 15. Per-command result enums with remedies.
    let qmtstat = c
        .urcs()
        .find(|(_, u)| u.value.name == "+QMTSTAT")
        .expect("+QMTSTAT");
    let err_code = qmtstat
        .1
        .value
        .params
        .iter()
        .find(|p| p.name == "err_code")
        .expect("err_code");
    assert_eq!(err_code.values.len(), 8);
    assert!(err_code.values.iter().all(|v| v.remedy.is_some()));
    assert!(command(&c, "AT+QMTOPEN")
        .params
        .iter()
        .any(|p| p.name == "result" && p.values.len() == 9));
    // 16. Preconditions and what a command leaves behind.
    assert!(command(&c, "AT+QBLEGATTSCHAR")
        .preconditions
        .iter()
        .any(|p| p.state.is_some()));
    assert!(command(&c, "AT+QISEND")
        .preconditions
        .iter()
        .any(|p| p.state.is_some()));
    assert_eq!(
        command(&c, "AT+QSTAAPINFODEF").characteristics.saved,
        Saved::SavedAutomatically
    );
    assert_eq!(
        command(&c, "AT+QSETBAND").characteristics.saved,
        Saved::ByParam
    );
    // Safety classes.
    assert_eq!(command(&c, "AT+QWLANOTA").safety, Safety::Destructive);
    assert_eq!(command(&c, "AT+QRST").safety, Safety::Disruptive);
    assert_eq!(command(&c, "AT+QSTAAPINFODEF").safety, Safety::Persistent);
    // 17. Scenarios.
    assert!(c.scenarios().count() >= 15);
}

#[test]
fn errata_cover_the_traps_of_the_design() {
    let c = catalog();
    let kinds: BTreeSet<String> = c
        .errata()
        .map(|(_, e)| format!("{:?}", e.value.kind))
        .collect();
    for k in [
        "EnumOffset",
        "MultiplicationSign",
        "ConflictingRange",
        "LostBrackets",
        "NameMismatch",
        "MissingSyntax",
    ] {
        assert!(kinds.contains(k), "no erratum of kind {k}");
    }
    // The shifted value lists that the examples prove.
    let role = command(&c, "AT+QBLEINIT")
        .params
        .iter()
        .find(|p| p.name == "role")
        .unwrap();
    assert_eq!(
        role.values.first().map(|v| v.value.to_string()),
        Some("0".into())
    );
    let ssl = command(&c, "AT+QMTCFG")
        .params
        .iter()
        .find(|p| p.name == "SSL_enable")
        .unwrap();
    assert_eq!(
        ssl.values
            .iter()
            .map(|v| v.value.to_string())
            .collect::<Vec<_>>(),
        ["0", "1"]
    );
    // Every erratum that names a parameter is cited by that parameter or its owner.
    for (_, e) in c.errata() {
        let e = &e.value;
        let (Some(cmd), Some(param)) = (&e.command, &e.param) else {
            continue;
        };
        let cmd = command(&c, cmd);
        let by_scenario = c.scenarios().any(|(_, s)| s.value.errata.contains(&e.id));
        let cited = by_scenario
            || cmd.errata.contains(&e.id)
            || cmd.forms.iter().any(|f| f.errata.contains(&e.id))
            || cmd.params.iter().any(|p| {
                (p.name == *param || p.aliases.contains(param)) && p.errata.contains(&e.id)
            });
        assert!(
            cited,
            "erratum {} is not cited by {} or <{param}>",
            e.id, cmd.name
        );
    }
}

#[test]
fn every_scenario_step_sends_a_catalogue_command() {
    let c = catalog();
    let names: Vec<String> = c.commands().map(|r| r.command.name.clone()).collect();
    for (_, s) in c.scenarios() {
        for step in &s.value.steps {
            if let Some(line) = &step.send {
                let upper = line.to_ascii_uppercase();
                assert!(
                    names
                        .iter()
                        .any(|n| upper.starts_with(&n.to_ascii_uppercase())),
                    "scenario {} sends `{line}`",
                    s.value.name
                );
            }
        }
    }
}

/// Every command's documentation shows an exchange: some scenario that runs
/// (not skipped) sends it, so the bindings' rustdoc has an "Example".
#[test]
fn every_command_has_an_example_scenario() {
    let c = catalog();
    let examples = fcm242d_codegen::emit::bindings::examples::by_command(&c);
    let missing: Vec<&str> = c
        .commands()
        .map(|r| r.command.name.as_str())
        .filter(|n| !examples.contains_key(*n))
        .collect();
    assert!(
        missing.is_empty(),
        "no scenario of spec/ sends {} (add one to spec/scenarios.yaml)",
        missing.join(", ")
    );
    // The picking prefers the manual's examples to composed ones.
    assert_eq!(
        examples.get("AT+QSTAAPINFO").map(|s| s.source),
        Some(fcm242d_codegen::model::ScenarioSource::Manual)
    );
}
