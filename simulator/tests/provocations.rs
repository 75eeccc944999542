//! The provocation scenarios of `spec/provocations.yaml`, each played
//! against a fresh in-process simulator with the values of its world's
//! environment: every scenario provokes what it says, and its placeholders
//! are the environment's keys with the embedded world's values.

use std::collections::BTreeMap;
use std::time::Duration;

use fcm242d::transport::Transport;
use fcm242d_codegen::model::{DataEnd, Scenario, ScenarioSource, Step};
use fcm242d_sim::sim::{SimOptions, Simulated};
use fcm242d_sim::world::World;

/// How long one expectation may wait, on the module's clock.
const STEP_LIMIT: Duration = Duration::from_secs(400);

fn provocations() -> Vec<&'static Scenario> {
    fcm242d_sim::catalog::catalog()
        .scenarios()
        .map(|(_, e)| &e.value)
        .filter(|s| s.source == ScenarioSource::Provocation)
        .collect()
}

/// The placeholders `text` uses.
fn used(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        out.push(rest[start + 2..start + len].to_string());
        rest = &rest[start + len + 1..];
    }
    out
}

fn sent(s: &Scenario) -> String {
    s.steps
        .iter()
        .filter_map(|st| st.send.clone().or_else(|| st.send_data.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A placeholder's value, or `None` when it matches any text (no `send`
/// step uses it and the environment does not know it).
fn values(s: &Scenario, env: &BTreeMap<String, String>) -> BTreeMap<String, Option<String>> {
    let sent = sent(s);
    s.placeholders
        .iter()
        .map(|(k, v)| {
            let value = match env.get(k) {
                Some(e) => Some(e.clone()),
                None if !used(&sent).contains(k) => None,
                None => Some(v.clone()),
            };
            (k.clone(), value)
        })
        .collect()
}

fn fill(text: &str, values: &BTreeMap<String, Option<String>>) -> String {
    let mut out = text.to_string();
    for (k, v) in values {
        if let Some(v) = v {
            out = out.replace(&format!("${{{k}}}"), v);
        }
    }
    out
}

/// Whether `text` matches `pattern`, whose wild placeholders match any text.
fn matches(pattern: &str, text: &str, values: &BTreeMap<String, Option<String>>) -> bool {
    let filled = fill(pattern, values);
    let mut pieces: Vec<&str> = Vec::new();
    let mut rest = filled.as_str();
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        pieces.push(&rest[..start]);
        rest = &rest[start + len + 1..];
    }
    pieces.push(rest);
    fn go(pieces: &[&str], text: &str) -> bool {
        match pieces.split_first() {
            None => text.is_empty(),
            Some((first, [])) => text == *first,
            Some((first, more)) => {
                let Some(t) = text.strip_prefix(first) else {
                    return false;
                };
                (0..=t.len())
                    .filter(|i| t.is_char_boundary(*i))
                    .any(|i| go(more, &t[i..]))
            }
        }
    }
    go(&pieces, text)
}

/// What the module printed and no step took yet.
struct Heard {
    text: String,
}

impl Heard {
    /// The first whole line (between CR LF) matching `pattern`, taken out.
    fn take_line(&mut self, pattern: &str, values: &BTreeMap<String, Option<String>>) -> bool {
        let mut at = 0;
        for line in self.text.split("\r\n") {
            if !line.is_empty() && matches(pattern, line, values) {
                let end = at + line.len();
                self.text.replace_range(at..end, "");
                return true;
            }
            at += line.len() + 2;
        }
        false
    }

    /// Data whose pattern may hold placeholders that match any text: its
    /// literal pieces, in order (as a runner matches a data block).
    fn take_data(&mut self, pattern: &str) -> bool {
        let mut pieces = Vec::new();
        let mut rest = pattern;
        while let Some(start) = rest.find("${") {
            let Some(len) = rest[start..].find('}') else {
                break;
            };
            pieces.push(&rest[..start]);
            rest = &rest[start + len + 1..];
        }
        pieces.push(rest);
        let mut at = 0;
        for p in pieces.iter().filter(|p| !p.is_empty()) {
            match self.text[at..].find(p) {
                Some(i) => at += i + p.len(),
                None => return false,
            }
        }
        if at == 0 && !self.text.trim().is_empty() {
            // Only "any text": whatever came.
            at = self.text.len();
        }
        if at == 0 {
            return false;
        }
        self.text.replace_range(..at, "");
        true
    }

    fn take_text(&mut self, text: &str) -> bool {
        match self.text.find(text) {
            Some(i) => {
                self.text.replace_range(i..i + text.len(), "");
                true
            }
            None => false,
        }
    }
}

fn play(s: &Scenario) -> Result<(), String> {
    let mut sim = Simulated::start(World::default(), SimOptions::default());
    play_on(&mut sim, s)
}

fn play_on(sim: &mut Simulated, s: &Scenario) -> Result<(), String> {
    let env = sim.world().environment();
    let values = values(s, &env);
    let mut heard = Heard {
        text: String::new(),
    };
    let mut buf = [0u8; 8192];
    for (n, step) in s.steps.iter().enumerate() {
        let Step {
            send,
            expect,
            expect_urc,
            expect_prompt,
            send_data,
            end,
            expect_data,
            ..
        } = step;
        if let Some(line) = send {
            if line == "+++" {
                // The escape, with the guard time's silence around it.
                let guard = Duration::from_millis(sim.world().guard_time_ms + 100);
                sim.pass(guard);
                sim.write_all(b"+++").unwrap();
                sim.pass(guard);
                continue;
            }
            sim.write_all(format!("{}\r\n", fill(line, &values)).as_bytes())
                .unwrap();
            continue;
        }
        if let Some(data) = send_data {
            let mut bytes = fill(data, &values).into_bytes();
            match end {
                Some(DataEnd::CtrlZ) => bytes.push(0x1A),
                Some(DataEnd::Esc) => bytes.push(0x1B),
                _ => {}
            }
            sim.write_all(&bytes).unwrap();
            continue;
        }
        let until = sim.now() + STEP_LIMIT;
        loop {
            let found = if let Some(p) = expect.as_ref().or(expect_urc.as_ref()) {
                heard.take_line(p, &values)
            } else if let Some(p) = expect_prompt {
                heard.take_text(p)
            } else if let Some(d) = expect_data {
                heard.take_data(&fill(d, &values))
            } else {
                true
            };
            if found {
                break;
            }
            let now = sim.now();
            if now >= until {
                return Err(format!(
                    "step {} ({step:?}): not found in {:?}",
                    n + 1,
                    heard.text
                ));
            }
            let got = sim.read(&mut buf, until - now).unwrap();
            heard.text.push_str(&String::from_utf8_lossy(&buf[..got]));
        }
    }
    Ok(())
}

/// Whether the manual's value of a placeholder describes the text rather
/// than giving it (`<Received data>`, `......`): it matches any text.
fn describes(v: &str) -> bool {
    (v.starts_with('<') && v.ends_with('>')) || v.chars().all(|c| c == '.')
}

/// The manual's examples assume a module on the network, and build on
/// each other (the BLE ones are steps of one story; the HTTPS ones use the
/// SSL context an earlier one configured): they play in order on one
/// module.
#[test]
fn the_manuals_examples_play_on_the_simulator() {
    let mut sim = Simulated::start(World::default(), SimOptions::default());
    let join = Scenario {
        name: "join".into(),
        title: String::new(),
        description: None,
        requires: Vec::new(),
        placeholders: Default::default(),
        steps: vec![
            Step {
                send: Some("AT+QSTAAPINFO=\"sim-ap\",\"sim-password\"".into()),
                ..Step::default()
            },
            Step {
                expect_urc: Some("+QSTASTAT: \"GOT_IP\"".into()),
                ..Step::default()
            },
        ],
        errata: Vec::new(),
        skip: None,
        source: ScenarioSource::Manual,
    };
    play_on(&mut sim, &join).unwrap();
    let failures: Vec<String> = fcm242d_sim::catalog::catalog()
        .scenarios()
        .map(|(_, e)| &e.value)
        .filter(|s| s.source == ScenarioSource::Manual && s.skip.is_none() && !s.steps.is_empty())
        .filter_map(|s| {
            let mut s = s.clone();
            // Described values match any text (as a runner reads them).
            s.placeholders.retain(|_, v| !describes(v));
            let sent = sent(&s);
            let described: Vec<String> = used(&sent)
                .into_iter()
                .filter(|k| !s.placeholders.contains_key(k))
                .collect();
            for k in described {
                s.placeholders.insert(k, "conformance".into());
            }
            // A fresh module for each example, except for the steps of one
            // story: the BLE examples, and the HTTPS PUT example that uses
            // the certificates the POST example configured.
            let continues = s.name.starts_with("ble_") && s.name != "ble_peripheral_setup"
                || s.name == "https_put";
            if !continues {
                sim.reset();
                play_on(&mut sim, &join).unwrap();
            }
            play_on(&mut sim, &s)
                .err()
                .map(|e| format!("{}: {e}", s.name))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn there_are_provocations() {
    assert!(provocations().len() >= 20, "{}", provocations().len());
}

#[test]
fn every_provocation_provokes_what_it_says_on_the_simulator() {
    let failures: Vec<String> = provocations()
        .into_iter()
        .filter_map(|s| play(s).err().map(|e| format!("{}: {e}", s.name)))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn placeholders_are_environment_keys_with_the_worlds_values() {
    let env = World::default().environment();
    for s in provocations() {
        let sent = sent(s);
        for (k, v) in &s.placeholders {
            match env.get(k) {
                Some(e) => assert_eq!(e, v, "{}: ${{{k}}} is {e:?} in the world", s.name),
                // A value of the scenario's own (a topic, a port it
                // chooses) or one it matches as any text.
                None => assert!(
                    !v.contains("192.0.2.") || !used(&sent).contains(k),
                    "{}: ${{{k}}} = {v} looks like a world value but the environment has no such key",
                    s.name
                ),
            }
        }
    }
}
