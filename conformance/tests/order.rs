//! Order independence: a case's verdict does not depend on the cases run
//! before it. The whole suite in catalogue order, in two shuffled orders,
//! and group by group gives the same verdict for every case.

use std::collections::BTreeMap;

use fcm242d_conformance::outcome::RunReport;
use fcm242d_conformance::runner::{Options, Quiet};
use fcm242d_conformance::session;
use fcm242d_conformance::target::Target;

const GROUPS: &[&str] = &[
    "general",
    "wifi",
    "ble",
    "tcpip",
    "ssl",
    "mqtt",
    "http",
    "network",
    "filesystem",
    "scenarios",
];

fn run(options: &Options) -> RunReport {
    session::run(
        &Target::Sim { world: None },
        options,
        true,
        &mut Quiet,
        None,
    )
    .expect("the run starts")
}

/// Case id → verdict name (and the reason, so a case failing for another
/// reason counts as a difference too).
fn verdicts(r: &RunReport) -> BTreeMap<String, String> {
    r.cases
        .iter()
        .map(|c| {
            (
                c.id.clone(),
                format!(
                    "{} {}",
                    c.verdict.name(),
                    c.verdict.reason().unwrap_or_default()
                ),
            )
        })
        .collect()
}

fn differences(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    for (id, v) in a {
        match b.get(id) {
            Some(w) if w == v => {}
            Some(w) => out.push(format!("{id}: `{v}` vs `{w}`")),
            None => out.push(format!("{id}: missing")),
        }
    }
    for id in b.keys().filter(|id| !a.contains_key(*id)) {
        out.push(format!("{id}: only in the second run"));
    }
    out
}

#[test]
fn shuffled_and_single_group_runs_give_the_same_verdicts() {
    let default = verdicts(&run(&Options::default()));
    assert!(default.len() > 1000, "{} cases", default.len());
    for seed in [1, 0xC0FFEE] {
        let shuffled = run(&Options {
            shuffle: Some(seed),
            ..Options::default()
        });
        // The order really changed.
        let first: Vec<&str> = shuffled
            .cases
            .iter()
            .take(5)
            .map(|c| c.id.as_str())
            .collect();
        assert_ne!(
            first,
            default
                .keys()
                .take(5)
                .map(String::as_str)
                .collect::<Vec<_>>()
        );
        let d = differences(&default, &verdicts(&shuffled));
        assert!(d.is_empty(), "seed {seed}:\n{}", d.join("\n"));
    }
    let mut by_group = BTreeMap::new();
    for g in GROUPS {
        by_group.extend(verdicts(&run(&Options {
            groups: vec![g.to_string()],
            ..Options::default()
        })));
    }
    let d = differences(&default, &by_group);
    assert!(d.is_empty(), "group by group:\n{}", d.join("\n"));
}

#[test]
fn a_shuffle_is_a_permutation_fixed_by_its_seed() {
    let mut a: Vec<u32> = (0..100).collect();
    let mut b = a.clone();
    fcm242d_conformance::runner::shuffle(&mut a, 7);
    fcm242d_conformance::runner::shuffle(&mut b, 7);
    assert_eq!(a, b);
    let mut sorted = a.clone();
    sorted.sort();
    assert_eq!(sorted, (0..100).collect::<Vec<_>>());
    assert_ne!(a, (0..100).collect::<Vec<_>>());
}
