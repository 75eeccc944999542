//! Set-up and tear-down of the catalogue's preconditions, driven by the
//! recipes of `spec/states.yaml` ([`crate::generated::cases::STATES`]): for
//! each state the lines that reach it (with the states it requires first)
//! and those that leave it, filled in from the run's [`Env`]. A state
//! without a recipe, or a recipe naming a value the environment lacks, is
//! an `error` of the case, never a pass or a skip.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::case::{ConnectData, RecipeStep, StateRecipe};
use crate::env::Env;
use crate::generated::cases::STATES;
use crate::link::Link;

/// One step of a set-up, filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The command line (`None`: only wait for `then_urc`).
    pub line: Option<String>,
    /// Bytes sent after the `>` prompt.
    pub payload: Option<String>,
    /// The start of a URC (or `CONNECT`) that must follow.
    pub then_urc: Option<String>,
    /// The module chooses the object's id and reports it in the answer's
    /// information line (`+QFOPEN: <filehandle>`).
    pub yields_id: bool,
}

/// Guard time around a `+++` of a set-up.
const GUARD: Duration = Duration::from_millis(1100);

/// The recipe for `state` among the states a case needs: the one whose
/// `when` states the case needs too, the most specific first.
fn pick(state: &str, needed: &[&str]) -> Option<&'static StateRecipe> {
    STATES
        .iter()
        .filter(|r| r.state == state && r.when.iter().all(|w| needed.contains(w)))
        .max_by_key(|r| r.when.len())
}

fn fill(text: &str, id: &str, env: &Env) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let key = &rest[start + 2..start + len];
        out.push_str(&rest[..start]);
        if key == "id" {
            out.push_str(id);
        } else if key == "handle" {
            // Filled in when the step runs.
            out.push_str("${handle}");
        } else {
            out.push_str(env.need(key)?);
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn fill_steps(steps: &[RecipeStep], id: &str, env: &Env) -> Result<Vec<Step>, String> {
    steps
        .iter()
        .map(|s| {
            Ok(Step {
                line: s.send.map(|l| fill(l, id, env)).transpose()?,
                payload: s.payload.map(|p| fill(p, id, env)).transpose()?,
                then_urc: s.until.map(|u| fill(u, id, env)).transpose()?,
                yields_id: s.yields_id,
            })
        })
        .collect()
}

/// The objects the environment provides for `state`'s parameter (a
/// peer's characteristics), filled in; empty when the recipe names none.
pub fn objects(state: &str, needed: &[&str], env: &Env) -> Result<Vec<String>, String> {
    let Some(recipe) = pick(state, needed) else {
        return Ok(Vec::new());
    };
    recipe
        .objects
        .iter()
        .map(|o| {
            fill(o, "", env).map_err(|e| format!("objects of `{state}` (spec/states.yaml): {e}"))
        })
        .collect()
}

/// The steps that reach `state` for the object `value` names and the steps
/// that leave it, for a case that needs the states `needed`; the states it
/// requires come first, except those in `reached` (which it extends).
/// `Err` names a state without a recipe or a value the environment lacks.
pub fn reach(
    state: &str,
    value: Option<&str>,
    needed: &[&str],
    reached: &mut BTreeSet<String>,
    env: &Env,
) -> Result<(Vec<Step>, Vec<Step>), String> {
    if !reached.insert(state.to_string()) {
        return Ok((Vec::new(), Vec::new()));
    }
    let id = value.unwrap_or("0");
    let recipe = pick(state, needed).ok_or_else(|| {
        format!("precondition `{state}` has no set-up recipe in spec/states.yaml")
    })?;
    let mut up = Vec::new();
    let mut down = Vec::new();
    for r in recipe.requires {
        let (u, d) = reach(r, value, needed, reached, env)
            .map_err(|e| format!("`{state}` requires `{r}`: {e}"))?;
        up.extend(u);
        down.splice(0..0, d);
    }
    up.extend(
        fill_steps(recipe.steps, id, env)
            .map_err(|e| format!("recipe of `{state}` (spec/states.yaml): {e}"))?,
    );
    down.splice(
        0..0,
        fill_steps(recipe.undo, id, env)
            .map_err(|e| format!("recipe of `{state}` (spec/states.yaml): {e}"))?,
    );
    Ok((up, down))
}

/// The steps that reach `state` alone (what it requires included) and
/// leave it; `None` when the catalogue has no recipe or the environment
/// lacks a value.
pub fn recipe(state: &str, value: Option<&str>, env: &Env) -> Option<(Vec<Step>, Vec<Step>)> {
    reach(state, value, &[state], &mut BTreeSet::new(), env).ok()
}

/// The steps that leave `state` for the object `id` (its recipe's own
/// `undo`, not that of the states it requires): how the runner closes what
/// a case left open on a module.
pub fn undo_steps(state: &str, id: &str, env: &Env) -> Result<Vec<Step>, String> {
    let recipe = pick(state, &[state])
        .ok_or_else(|| format!("state `{state}` has no recipe in spec/states.yaml"))?;
    if recipe.undo.is_empty() {
        return Err(format!("state `{state}` has no undo in spec/states.yaml"));
    }
    fill_steps(recipe.undo, id, env)
        .map_err(|e| format!("undo of `{state}` (spec/states.yaml): {e}"))
}

/// Runs `steps`; `Err` names the step that failed. Returns the id the
/// module chose, when a step reports one.
pub fn run(link: &mut Link, steps: &[Step]) -> Result<Option<String>, String> {
    let mut obtained = None;
    let mut handle = String::new();
    for s in steps {
        let mut early: Vec<String> = Vec::new();
        let line = s.line.as_ref().map(|l| l.replace("${handle}", &handle));
        if let Some(line) = &line {
            if line == "+++" {
                link.escape(GUARD);
                let a = link.answer(link.now() + Duration::from_secs(5));
                match a.result.as_deref() {
                    Some("OK") => continue,
                    other => return Err(format!("`+++` answered {other:?}")),
                }
            }
            let transparent = s.then_urc.as_deref() == Some("CONNECT");
            let connect = if transparent {
                ConnectData::Transparent
            } else {
                ConnectData::None
            };
            link.send_line(line, connect, s.payload.is_some());
            let mut a = link.answer(link.now() + Duration::from_secs(20));
            if let Some(p) = &s.payload {
                // `>` or `CONNECT` opens the data phase.
                if !a.prompt && a.result.as_deref() != Some("CONNECT") {
                    return Err(format!(
                        "`{line}` answered {} instead of the `>` prompt",
                        a.result.as_deref().unwrap_or("nothing")
                    ));
                }
                link.send_raw(p.as_bytes());
                let after = link.answer(link.now() + Duration::from_secs(20));
                a.lines.extend(after.lines);
                a.urcs.extend(after.urcs);
                a.result = after.result;
            }
            match a.result.as_deref() {
                Some("CONNECT") if transparent => continue,
                Some("OK") => {
                    let value = a
                        .lines
                        .iter()
                        .find_map(|l| l.split_once(": ").map(|(_, v)| v.trim().to_string()));
                    // A single value (`+QFOPEN: 1`), not a report
                    // (`+QFWRITE: 10,10`).
                    if let Some(v) = value.as_ref().filter(|v| !v.contains(',')) {
                        handle = v.clone();
                    }
                    if s.yields_id {
                        obtained = value;
                    }
                }
                Some(other) => return Err(format!("`{line}` answered {other}")),
                None => return Err(format!("`{line}` got no final result")),
            }
            early = a.urcs;
        }
        if let Some(urc) = &s.then_urc {
            let mut others = Vec::new();
            // The URC may already be among the answer's URCs.
            let got = match early.iter().find(|u| u.starts_with(urc.as_str())) {
                Some(u) => Some(u.clone()),
                None => wait_for(link, urc, &mut others),
            };
            if got.is_none() {
                let what = line.as_deref().map_or_else(
                    || "waiting".to_string(),
                    |l| format!("{MISSING_URC}`{l}` answered OK but"),
                );
                return Err(format!("{what} no `{urc}` followed"));
            }
        }
    }
    Ok(obtained)
}

/// Waits for a line starting with `start` (a URC with its result field:
/// `+QIOPEN: 0,0`), up to the set-up's limit.
fn wait_for(link: &mut Link, start: &str, others: &mut Vec<String>) -> Option<String> {
    let deadline = link.now() + Duration::from_secs(30);
    // A completion reporting another result is not waited out.
    let family = start.split(':').next().unwrap_or(start).to_string();
    while let Some(l) = link.wait_urc(&family, deadline, others) {
        if l.starts_with(start) {
            return Some(l);
        }
        if start.contains(": ") && !start.contains('"') && l.starts_with(&family) {
            // Same family, another result (`+QIOPEN: 0,565`).
            others.push(l);
            return None;
        }
        others.push(l);
    }
    None
}

/// Marks a set-up failure that is the module's fault whatever the
/// environment: a command accepted without the URC the manual promises.
pub const MISSING_URC: &str = "missing URC: ";

/// Runs tear-down steps, ignoring their results (best effort).
pub fn undo(link: &mut Link, steps: &[Step]) {
    for s in steps {
        let Some(line) = &s.line else { continue };
        link.send_line(line, ConnectData::None, false);
        let a = link.answer(link.now() + Duration::from_secs(10));
        if a.result.as_deref() != Some("OK") {
            continue;
        }
        if let Some(urc) = &s.then_urc {
            let _ = link.wait_urc(urc, link.now() + Duration::from_secs(5), &mut Vec::new());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_precondition_of_the_suite_has_a_recipe_the_world_fills_in() {
        let env = Env::default();
        for c in crate::generated::cases::CASES {
            let needed: Vec<&str> = c.preconditions.iter().map(|p| p.state).collect();
            let mut reached = BTreeSet::new();
            for p in c.preconditions {
                reach(p.state, p.value, &needed, &mut reached, &env)
                    .unwrap_or_else(|e| panic!("{}: {e}", c.id));
            }
        }
    }

    #[test]
    fn a_missing_value_names_its_key() {
        let e = reach(
            "socket_open",
            None,
            &[],
            &mut BTreeSet::new(),
            &Env::empty(),
        )
        .unwrap_err();
        assert!(e.contains("wifi_ssid"), "{e}");
    }

    #[test]
    fn roles_pick_their_recipe() {
        let env = Env::default();
        let (up, _) = reach(
            "ble_connected",
            None,
            &["ble_peripheral", "ble_connected"],
            &mut BTreeSet::new(),
            &env,
        )
        .unwrap();
        assert!(up
            .iter()
            .any(|s| s.line.as_deref() == Some("AT+QBLEADVSTART")));
        let (up, _) = reach(
            "ble_connected",
            None,
            &["ble_connected"],
            &mut BTreeSet::new(),
            &env,
        )
        .unwrap();
        assert!(up
            .iter()
            .any(|s| s.line.as_deref() == Some("AT+QBLEINIT=1")));
    }
}
