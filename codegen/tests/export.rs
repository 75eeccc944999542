//! `cargo xtask export`'s JSON round-trips: export → parse → the same counts as the model.

use std::path::Path;

use fcm242d_codegen::export::{self, Export};
use fcm242d_codegen::Catalog;

#[test]
fn export_round_trips_with_the_models_counts() {
    let catalog = Catalog::load(Path::new("../spec")).unwrap_or_else(|e| panic!("{e}"));
    let json = export::to_json(&catalog);
    let parsed: Export = serde_json::from_str(&json).expect("the export parses back");
    assert_eq!(parsed, export::export(&catalog));
    assert_eq!(parsed.commands.len(), catalog.commands().count());
    assert_eq!(parsed.urcs.len(), catalog.urcs().count());
    assert_eq!(parsed.scenarios.len(), catalog.scenarios().count());
    assert_eq!(parsed.errata.len(), catalog.errata().count());
    let rows: usize = catalog
        .result_tables()
        .map(|(_, t)| t.value.codes.len())
        .sum();
    assert_eq!(parsed.result_codes.len(), rows);
    let params: usize = catalog.commands().map(|c| c.command.params.len()).sum();
    assert_eq!(
        parsed
            .commands
            .iter()
            .map(|c| c.params.len())
            .sum::<usize>(),
        params
    );
    let forms: usize = catalog.commands().map(|c| c.command.forms.len()).sum();
    assert_eq!(
        parsed.commands.iter().map(|c| c.forms.len()).sum::<usize>(),
        forms
    );
}

#[test]
fn export_has_the_documented_keys() {
    let catalog = Catalog::load(Path::new("../spec")).unwrap_or_else(|e| panic!("{e}"));
    let value: serde_json::Value = serde_json::from_str(&export::to_json(&catalog)).unwrap();
    let qiopen = value["commands"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "AT+QIOPEN")
        .expect("AT+QIOPEN");
    for key in [
        "name",
        "group",
        "safety",
        "max_response_time_ms",
        "forms",
        "params",
    ] {
        assert!(qiopen.get(key).is_some(), "command key {key}");
    }
    assert_eq!(qiopen["group"], "tcpip");
    assert_eq!(qiopen["max_response_time_ms"], 150000);
    let form = &qiopen["forms"][0];
    for key in ["kind", "syntax", "subcommand", "syntax_tree"] {
        assert!(form.get(key).is_some(), "form key {key}");
    }
    let connect_id = qiopen["params"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "connectID")
        .unwrap();
    assert_eq!(connect_id["min"], 0);
    assert_eq!(connect_id["max"], 11);
    assert_eq!(connect_id["optional"], false);
    for key in [
        "type", "default", "min_len", "max_len", "values", "optional",
    ] {
        assert!(connect_id.get(key).is_some(), "param key {key}");
    }
    let local_port = qiopen["params"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "local_port")
        .unwrap();
    assert_eq!(local_port["optional"], true);
    // Sub-command parameters appear in their command with their key.
    let qicfg = value["commands"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "AT+QICFG")
        .unwrap();
    let tps = qicfg["params"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "transpktsize")
        .unwrap();
    assert_eq!(tps["min"], 1);
    assert_eq!(tps["max"], 1460);
    assert_eq!(tps["subcommands"][0], "transpktsize");
    let urc = value["urcs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "+QIURC" && u["discriminator"] == "recv")
        .unwrap();
    assert!(urc.get("params").is_some());
    let code = value["result_codes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == 564)
        .unwrap();
    assert_eq!(code["table"], "tcpip");
    assert_eq!(code["description"], "Socket connect failed");
    let erratum = &value["errata"][0];
    for key in ["command", "param", "decision", "evidence"] {
        assert!(
            erratum.get(key).is_some() || key == "param",
            "erratum key {key}"
        );
    }
}
