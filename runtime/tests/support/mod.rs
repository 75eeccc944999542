//! Shared by the engine's stream tests: scripts of commands and module
//! output, fed whole, byte by byte, at every two-way split and at random
//! splits, and the events they give. And by the client tests: a scripted
//! module ([`scripted`]).

#![allow(dead_code)]

pub mod scripted;

use fcm242d::command::AtCommand;
use fcm242d::engine::{Engine, Event};
use fcm242d::generated::commands::qiopen;
use fcm242d::value::Int;

/// `AT+QIOPEN=0,"TCP","192.0.2.2",8009,0,<mode>`, as in the manual's example.
pub fn tcp_open(mode: qiopen::AccessMode) -> qiopen::Write {
    qiopen::Write {
        connect_id: Int::new(0).unwrap(),
        service_type: qiopen::ServiceType::Tcp,
        ip_address_or_domain_name: qiopen::WriteIpAddressOrDomainName::IpAddress(
            "192.0.2.2".parse().unwrap(),
        ),
        remote_port: Int::new(8009).unwrap(),
        local_port_group: Some(qiopen::WriteLocalPortGroup {
            local_port: Int::new(0).unwrap(),
            access_mode: Some(mode),
            ap_priority: None,
        }),
    }
}

/// Starts a command on an engine.
pub type Starter = Box<dyn Fn(&mut Engine)>;

/// One step of a script: the host sends a command (its bytes are not
/// checked here), then the module's bytes arrive.
pub struct Step {
    /// Starts the command on the engine.
    pub command: Option<Starter>,
    /// What the module sends before the host's next command.
    pub bytes: Vec<u8>,
}

/// A step that sends `cmd`, then receives `bytes`.
pub fn send<C: AtCommand + Clone + 'static>(cmd: C, bytes: &[u8]) -> Step {
    Step {
        command: Some(Box::new(move |e: &mut Engine| {
            let _ = e.command(&cmd);
        })),
        bytes: bytes.to_vec(),
    }
}

/// A step that only receives `bytes`.
pub fn recv(bytes: &[u8]) -> Step {
    Step {
        command: None,
        bytes: bytes.to_vec(),
    }
}

/// Joins adjacent raw events: only their boundaries may depend on the split.
pub fn normalize(events: Vec<Event>) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::new();
    for e in events {
        match (out.last_mut(), e) {
            (Some(Event::Raw(prev)), Event::Raw(more)) => prev.extend(more),
            (_, e) => out.push(e),
        }
    }
    out
}

/// Runs the script, each step's bytes cut into the pieces `split` makes.
pub fn run(script: &[Step], split: &mut dyn FnMut(&[u8]) -> Vec<Vec<u8>>) -> Vec<Event> {
    let mut engine = Engine::new();
    let mut events = Vec::new();
    for step in script {
        if let Some(c) = &step.command {
            c(&mut engine);
        }
        for piece in split(&step.bytes) {
            engine.feed(&piece);
            while let Some(e) = engine.poll() {
                events.push(e);
            }
        }
    }
    normalize(events)
}

/// The events of the script fed whole.
pub fn whole(script: &[Step]) -> Vec<Event> {
    run(script, &mut |b| vec![b.to_vec()])
}

/// The events fed one byte at a time.
pub fn bytewise(script: &[Step]) -> Vec<Event> {
    run(script, &mut |b| b.iter().map(|x| vec![*x]).collect())
}

/// Cuts `bytes` at the given points (taken modulo the length).
pub fn cut(bytes: &[u8], points: &[usize]) -> Vec<Vec<u8>> {
    let mut ps: Vec<usize> = points.iter().map(|p| p % (bytes.len() + 1)).collect();
    ps.sort_unstable();
    ps.dedup();
    let mut out = Vec::new();
    let mut start = 0;
    for p in ps {
        out.push(bytes[start..p].to_vec());
        start = p;
    }
    out.push(bytes[start..].to_vec());
    out
}

/// Asserts that every two-way split of every step, and byte-by-byte
/// feeding, give the events of the whole stream; returns them.
pub fn split_invariant(script: &[Step]) -> Vec<Event> {
    let reference = whole(script);
    assert_eq!(bytewise(script), reference, "byte by byte");
    for (i, step) in script.iter().enumerate() {
        for k in 0..=step.bytes.len() {
            let got = run(script, &mut |b| {
                if std::ptr::eq(b.as_ptr(), step.bytes.as_ptr()) && b.len() == step.bytes.len() {
                    cut(b, &[k])
                } else {
                    vec![b.to_vec()]
                }
            });
            assert_eq!(got, reference, "step {i} split at {k}");
        }
    }
    reference
}

/// The events with the script's bytes cut at `points` (one list per step).
pub fn split_at(script: &[Step], points: &[Vec<usize>]) -> Vec<Event> {
    let mut i = 0;
    run(script, &mut |b| {
        let p = points.get(i).cloned().unwrap_or_default();
        i += 1;
        cut(b, &p)
    })
}
