//! Fault injection for reliability tests: what a bad UART, a busy module
//! and a flaky network do to a host, reproducible from a seed.
//!
//! A [`Faults`] is read from a spec such as
//! `delay=0..200ms,fragment=1..8,drop=0.001,garble=0.001,urc=0.05,reboot=0.0005,linkdrop=0.001,seed=7`
//! (`--faults` on the command line, or `faults:` in a world file). An
//! [`Injector`] applies it to the bytes between host and module; the serve
//! loop ([`crate::serve::Session`]) puts it around the module.
//!
//! | key          | value                  | effect                                                             |
//! |--------------|------------------------|--------------------------------------------------------------------|
//! | `seed`       | integer                | seeds every random choice (default 0)                              |
//! | `delay`      | `A..B` or `A` (ms, s)  | each piece of output waits a time drawn from the range             |
//! | `fragment`   | `A..B` or `A` (bytes)  | output is written in pieces of a size drawn from the range         |
//! | `drop`       | probability            | a byte is lost, both directions (`drop-in`, `drop-out`: one)       |
//! | `garble`     | probability            | a byte is changed, both directions (`garble-in`, `garble-out`)     |
//! | `urc`        | probability            | a harmless URC is put at each worst moment (see below)             |
//! | `reboot`     | probability            | the module reboots before taking a host byte (as after `AT+QRST`)  |
//! | `linkdrop`   | probability            | every link of the simulated network is cut before taking a host byte |
//!
//! A probability is a number from 0 to 1 or a percentage (`5%`). `none`
//! (or an empty spec) is no fault at all.
//!
//! # Reproducibility
//!
//! Every choice comes from its own stream of a seeded PRNG and is taken in
//! the order of the bytes (host bytes for `drop-in`, `garble-in`, `reboot`,
//! `linkdrop`; module bytes for `drop-out`, `garble-out`; pieces of output
//! for `delay`, `fragment` and `urc`), never from wall-clock time: with the
//! same seed and the same exchange, the module writes the same bytes.
//! Timing stays reproducible with a [`crate::clock::VirtualClock`].
//!
//! # Worst moments for a spurious URC
//!
//! In an answer: right before its first line (between the command and its
//! result), right before its final result code (also between `>` and `SEND
//! OK`, and after a data block such as `+QIRD`'s or QFREAD's), and right
//! after a `>` prompt. In output the network caused (URCs, pushed data
//! blocks): before and after it. Never while the UART is in transparent
//! mode, where every byte is data.
//!
//! The URCs are ones that change no state and that a host can meet at any
//! time: `+QSTASTAT: "SCAN_NO_AP"` (the module's background scan found no
//! access point) and, for an open socket in buffer access mode,
//! `+QIURC: "recv",<connectID>` (reading then gives `+QIRD: 0`, which the
//! manual allows: "+QIRD: 0" means no data in the buffer).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use fcm242d::command::Line;
use fcm242d::generated::commands::qistate;
use fcm242d::generated::urcs::{qstastat, QiurcRecvBuffer, Qstastat};
use fcm242d::value::Int;

use crate::state::State;

/// The faults to inject, and the seed of their random choices.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Seeds every random choice.
    pub seed: u64,
    /// Each piece of output waits a time drawn from this range (inclusive).
    pub delay: Option<(Duration, Duration)>,
    /// Output is written in pieces of a size drawn from this range (bytes, inclusive, at least 1).
    pub fragment: Option<(usize, usize)>,
    /// Probability that a byte from the host is lost.
    pub drop_in: f64,
    /// Probability that a byte to the host is lost.
    pub drop_out: f64,
    /// Probability that a byte from the host is changed.
    pub garble_in: f64,
    /// Probability that a byte to the host is changed.
    pub garble_out: f64,
    /// Probability of a spurious URC at each worst moment.
    pub urc: f64,
    /// Probability, before each host byte, that the module reboots.
    pub reboot: f64,
    /// Probability, before each host byte, that every link of the simulated network is cut.
    pub linkdrop: f64,
}

/// A fault spec that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// The offending item (`key=value`).
    pub item: String,
    /// What is wrong with it.
    pub why: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "fault spec item `{}`: {} (expected e.g. `delay=0..200ms,fragment=1..8,drop=0.001,\
             garble=0.001,urc=0.05,reboot=0.0005,linkdrop=0.001,seed=7`)",
            self.item, self.why
        )
    }
}

impl std::error::Error for SpecError {}

impl Faults {
    /// No fault at all.
    pub fn none() -> Faults {
        Faults::default()
    }

    /// Whether any fault is on.
    pub fn any(&self) -> bool {
        self.delay.is_some_and(|(_, hi)| !hi.is_zero())
            || self.fragment.is_some()
            || [
                self.drop_in,
                self.drop_out,
                self.garble_in,
                self.garble_out,
                self.urc,
                self.reboot,
                self.linkdrop,
            ]
            .iter()
            .any(|p| *p > 0.0)
    }

    /// The same faults with another seed.
    pub fn with_seed(mut self, seed: u64) -> Faults {
        self.seed = seed;
        self
    }
}

impl FromStr for Faults {
    type Err = SpecError;

    fn from_str(spec: &str) -> Result<Faults, SpecError> {
        let mut f = Faults::none();
        let spec = spec.trim();
        if spec.is_empty() || spec.eq_ignore_ascii_case("none") {
            return Ok(f);
        }
        for item in spec.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let err = |why: &str| SpecError {
                item: item.to_string(),
                why: why.to_string(),
            };
            let (key, value) = item.split_once('=').ok_or_else(|| err("not `key=value`"))?;
            let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
            let p = || probability(value).ok_or_else(|| err("not a probability (0..1 or N%)"));
            match key.as_str() {
                "seed" => f.seed = value.parse().map_err(|_| err("not a whole number"))?,
                "delay" => f.delay = Some(duration_range(value).ok_or_else(|| err("not a time range such as 0..200ms"))?),
                "fragment" => {
                    let (lo, hi) = size_range(value).ok_or_else(|| err("not a size range such as 1..8 (at least 1)"))?;
                    f.fragment = Some((lo, hi));
                }
                "drop" => (f.drop_in, f.drop_out) = (p()?, p()?),
                "drop-in" | "drop_in" => f.drop_in = p()?,
                "drop-out" | "drop_out" => f.drop_out = p()?,
                "garble" => (f.garble_in, f.garble_out) = (p()?, p()?),
                "garble-in" | "garble_in" => f.garble_in = p()?,
                "garble-out" | "garble_out" => f.garble_out = p()?,
                "urc" => f.urc = p()?,
                "reboot" => f.reboot = p()?,
                "linkdrop" | "link-drop" | "link_drop" => f.linkdrop = p()?,
                _ => return Err(err("unknown key (seed, delay, fragment, drop, drop-in, drop-out, garble, garble-in, garble-out, urc, reboot, linkdrop)")),
            }
        }
        Ok(f)
    }
}

impl fmt::Display for Faults {
    /// The spec that reads back as these faults.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items = vec![format!("seed={}", self.seed)];
        if let Some((lo, hi)) = self.delay {
            items.push(format!("delay={}..{}ms", lo.as_millis(), hi.as_millis()));
        }
        if let Some((lo, hi)) = self.fragment {
            items.push(format!("fragment={lo}..{hi}"));
        }
        for (key, p) in [
            ("drop-in", self.drop_in),
            ("drop-out", self.drop_out),
            ("garble-in", self.garble_in),
            ("garble-out", self.garble_out),
            ("urc", self.urc),
            ("reboot", self.reboot),
            ("linkdrop", self.linkdrop),
        ] {
            if p > 0.0 {
                items.push(format!("{key}={p}"));
            }
        }
        f.write_str(&items.join(","))
    }
}

/// A fault spec as a world file writes it (`faults: "drop=0.001,seed=7"`):
/// checked when the file is read, so a bad spec is reported with its place.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct FaultSpec(String);

impl FaultSpec {
    /// The faults it names.
    pub fn faults(&self) -> Faults {
        self.0.parse().unwrap_or_default()
    }

    /// The spec's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for FaultSpec {
    type Error = SpecError;

    fn try_from(text: String) -> Result<FaultSpec, SpecError> {
        text.parse::<Faults>()?;
        Ok(FaultSpec(text))
    }
}

fn probability(text: &str) -> Option<f64> {
    let p = match text.strip_suffix('%') {
        Some(pct) => pct.trim().parse::<f64>().ok()? / 100.0,
        None => text.parse::<f64>().ok()?,
    };
    (0.0..=1.0).contains(&p).then_some(p)
}

/// `A..B` (or `A`), each optionally with a unit (`ms`, `s`; the unit of `B`
/// applies to `A` when `A` has none; no unit means ms).
fn duration_range(text: &str) -> Option<(Duration, Duration)> {
    let (lo, hi) = text.split_once("..").unwrap_or((text, text));
    let unit_of = |t: &str| {
        if t.ends_with("ms") {
            Some("ms")
        } else if t.ends_with('s') {
            Some("s")
        } else {
            None
        }
    };
    let default_unit = unit_of(hi.trim()).unwrap_or("ms");
    let parse = |t: &str| -> Option<Duration> {
        let t = t.trim();
        let unit = unit_of(t).unwrap_or(default_unit);
        let number = t.strip_suffix(unit).unwrap_or(t).trim();
        let value: f64 = number.parse().ok()?;
        if !value.is_finite() || value < 0.0 {
            return None;
        }
        let ms = if unit == "s" { value * 1000.0 } else { value };
        Duration::try_from_secs_f64(ms / 1000.0).ok()
    };
    let (lo, hi) = (parse(lo)?, parse(hi)?);
    (lo <= hi).then_some((lo, hi))
}

fn size_range(text: &str) -> Option<(usize, usize)> {
    let (lo, hi) = text.split_once("..").unwrap_or((text, text));
    let (lo, hi): (usize, usize) = (lo.trim().parse().ok()?, hi.trim().parse().ok()?);
    (lo >= 1 && lo <= hi).then_some((lo, hi))
}

/// A small seeded PRNG (SplitMix64): the same seed gives the same numbers
/// on every machine.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0.0..1.0`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `true` with probability `p` (no number is drawn when `p` is 0).
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        let span = hi - lo;
        match span.checked_add(1) {
            Some(n) => lo + self.next_u64() % n,
            None => self.next_u64(),
        }
    }
}

/// What a host byte stream becomes on its way into the module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostEvent {
    /// Bytes the module receives.
    Bytes(Vec<u8>),
    /// The module reboots (before the bytes that follow).
    Reboot,
    /// Every link of the simulated network is cut.
    LinkDrop,
}

/// Where a piece of module output came from, for the choice of the worst
/// moments to put a URC at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The module's answer to host bytes ([`crate::module::Module::input`]).
    Answer,
    /// Output the module printed by itself ([`crate::module::Module::poll`]).
    Unsolicited,
}

/// Applies [`Faults`] to the bytes between host and module.
#[derive(Debug, Clone)]
pub struct Injector {
    faults: Faults,
    host: Rng,
    module: Rng,
    shape: Rng,
    urcs: Rng,
}

impl Injector {
    /// An injector for `faults`, its random streams seeded from `faults.seed`.
    pub fn new(faults: &Faults) -> Injector {
        // One stream per kind of choice, so that turning one fault on does
        // not change the choices of another.
        let mut seeds = Rng::new(faults.seed);
        Injector {
            faults: faults.clone(),
            host: Rng::new(seeds.next_u64()),
            module: Rng::new(seeds.next_u64()),
            shape: Rng::new(seeds.next_u64()),
            urcs: Rng::new(seeds.next_u64()),
        }
    }

    /// The faults applied.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Host bytes on their way in: lost or changed bytes, and reboots and
    /// link drops between them.
    pub fn host_bytes(&mut self, bytes: &[u8]) -> Vec<HostEvent> {
        let f = &self.faults;
        if f.drop_in <= 0.0 && f.garble_in <= 0.0 && f.reboot <= 0.0 && f.linkdrop <= 0.0 {
            return vec![HostEvent::Bytes(bytes.to_vec())];
        }
        let mut events = Vec::new();
        let mut run = Vec::new();
        for &b in bytes {
            let reboot = self.host.chance(f.reboot);
            let linkdrop = self.host.chance(f.linkdrop);
            if reboot || linkdrop {
                if !run.is_empty() {
                    events.push(HostEvent::Bytes(std::mem::take(&mut run)));
                }
                if linkdrop {
                    events.push(HostEvent::LinkDrop);
                }
                if reboot {
                    // A rebooting module misses the byte.
                    events.push(HostEvent::Reboot);
                    continue;
                }
            }
            if self.host.chance(f.drop_in) {
                continue;
            }
            run.push(if self.host.chance(f.garble_in) {
                garble(b, &mut self.host)
            } else {
                b
            });
        }
        if !run.is_empty() {
            events.push(HostEvent::Bytes(run));
        }
        events
    }

    /// Module output on its way out: spurious URCs at the worst moments
    /// (`urc_ok`: the UART is in command mode or a data phase, not
    /// transparent), then lost and changed bytes.
    pub fn module_bytes(
        &mut self,
        out: &[u8],
        origin: Origin,
        urc_ok: bool,
        state: &State,
    ) -> Vec<u8> {
        let with_urcs = if urc_ok && self.faults.urc > 0.0 {
            self.inject(out, origin, state)
        } else {
            out.to_vec()
        };
        let f = &self.faults;
        if f.drop_out <= 0.0 && f.garble_out <= 0.0 {
            return with_urcs;
        }
        let mut kept = Vec::with_capacity(with_urcs.len());
        for b in with_urcs {
            if self.module.chance(f.drop_out) {
                continue;
            }
            kept.push(if self.module.chance(f.garble_out) {
                garble(b, &mut self.module)
            } else {
                b
            });
        }
        kept
    }

    /// How long the next piece of output waits.
    pub fn delay(&mut self) -> Duration {
        let Some((lo, hi)) = self.faults.delay else {
            return Duration::ZERO;
        };
        let lo_us = u64::try_from(lo.as_micros()).unwrap_or(u64::MAX);
        let hi_us = u64::try_from(hi.as_micros()).unwrap_or(u64::MAX);
        Duration::from_micros(self.shape.between(lo_us, hi_us))
    }

    /// The sizes of the writes `len` bytes of output are split into.
    pub fn fragments(&mut self, len: usize) -> Vec<usize> {
        let Some((lo, hi)) = self.faults.fragment else {
            return vec![len];
        };
        let mut sizes = Vec::new();
        let mut left = len;
        while left > 0 {
            let n = usize::try_from(self.shape.between(lo as u64, hi as u64))
                .unwrap_or(usize::MAX)
                .clamp(1, left);
            sizes.push(n);
            left -= n;
        }
        sizes
    }

    fn inject(&mut self, out: &[u8], origin: Origin, state: &State) -> Vec<u8> {
        let at = moments(out, origin);
        let mut result = Vec::with_capacity(out.len() + 64);
        let mut from = 0;
        for i in at {
            if !self.urcs.chance(self.faults.urc) {
                continue;
            }
            result.extend_from_slice(out.get(from..i).unwrap_or_default());
            from = i;
            result.extend_from_slice(b"\r\n");
            result.extend_from_slice(self.harmless_urc(state).as_bytes());
            result.extend_from_slice(b"\r\n");
        }
        result.extend_from_slice(out.get(from..).unwrap_or_default());
        result
    }

    /// A URC that changes nothing and may come at any time (see the module
    /// documentation).
    fn harmless_urc(&mut self, state: &State) -> String {
        let buffered: Vec<i64> = state
            .tcpip
            .sockets
            .iter()
            .filter(|(_, s)| {
                s.access_mode == qistate::AccessMode::Buffer
                    && s.state == qistate::SocketState::Connected
            })
            .map(|(id, _)| *id)
            .collect();
        let pick = self.urcs.between(0, buffered.len() as u64);
        match usize::try_from(pick)
            .ok()
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| buffered.get(i))
            .and_then(|id| Int::new(*id).ok())
        {
            Some(connect_id) => QiurcRecvBuffer { connect_id }.render(),
            None => Qstastat {
                event: qstastat::Event::NoApFound,
            }
            .render(),
        }
    }
}

/// A byte changed into another one.
fn garble(b: u8, rng: &mut Rng) -> u8 {
    // 1..=255: never 0, so the byte always changes.
    b ^ (rng.between(1, 255) as u8)
}

/// The final result codes (see `reply::Final`).
pub fn is_final(line: &[u8]) -> bool {
    matches!(
        line,
        b"OK" | b"ERROR" | b"SEND OK" | b"SEND FAIL" | b"NO CARRIER" | b"CONNECT"
    ) || line.starts_with(b"+CME ERROR:")
        || line
            .strip_prefix(b"CONNECT ")
            .is_some_and(|n| !n.is_empty() && n.iter().all(u8::is_ascii_digit))
}

/// Whether `out` holds a final result code line (CR LF framed) or a `>` prompt.
pub fn holds_final(out: &[u8]) -> bool {
    if out.windows(4).any(|w| w == b"\r\n> ") {
        return true;
    }
    let mut start = 0;
    while let Some(i) = find(out.get(start..).unwrap_or_default(), b"\r\n") {
        let end = start + i;
        if start > 0 && is_final(out.get(start..end).unwrap_or_default()) {
            return true;
        }
        start = end + 2;
    }
    false
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// The offsets in `out` where a URC may go (see the module documentation).
fn moments(out: &[u8], origin: Origin) -> Vec<usize> {
    let mut at = Vec::new();
    match origin {
        Origin::Answer => {
            // Before the answer's first line (after the echo, if any).
            if let Some(i) = find(out, b"\r\n") {
                at.push(i);
            }
            // Before the final result code that ends the answer (a trailing
            // LF is the echo of the host's CR LF).
            let body = out
                .strip_suffix(b"\n")
                .filter(|b| b.ends_with(b"\r\n"))
                .unwrap_or(out);
            if let Some(last) = body.strip_suffix(b"\r\n") {
                if let Some(i) = rfind(last, b"\r\n") {
                    if is_final(last.get(i + 2..).unwrap_or_default()) {
                        at.push(i);
                    }
                }
            }
            // After a `>` prompt.
            if out.ends_with(b"\r\n> ") {
                at.push(out.len());
            }
        }
        Origin::Unsolicited => {
            if out.starts_with(b"\r\n") {
                at.push(0);
                if out.ends_with(b"\r\n") {
                    at.push(out.len());
                }
            }
        }
    }
    at.sort_unstable();
    at.dedup();
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_spec_and_writes_it_back() {
        let f: Faults = "delay=0..200ms,fragment=1..8,drop=0.001,garble=0.1%,urc=0.05,reboot=0.0005,linkdrop=0.001,seed=7"
            .parse()
            .unwrap();
        assert_eq!(f.delay, Some((Duration::ZERO, Duration::from_millis(200))));
        assert_eq!(f.fragment, Some((1, 8)));
        assert_eq!((f.drop_in, f.drop_out), (0.001, 0.001));
        assert!((f.garble_in - 0.001).abs() < 1e-12);
        assert_eq!(f.seed, 7);
        assert_eq!(f.to_string().parse::<Faults>().unwrap(), f);
        assert_eq!(
            "delay=1s".parse::<Faults>().unwrap().delay.unwrap().1,
            Duration::from_secs(1)
        );
        for bad in [
            "drop=2",
            "delay=5..1ms",
            "fragment=0..3",
            "nonsense=1",
            "drop",
        ] {
            assert!(bad.parse::<Faults>().is_err(), "{bad}");
        }
        assert!(!"none".parse::<Faults>().unwrap().any());
    }

    #[test]
    fn finds_the_worst_moments() {
        let answer = b"AT+QVERSION\r\r\n+QVERSION: X\r\n\r\nOK\r\n";
        assert_eq!(moments(answer, Origin::Answer), vec![12, 28]);
        assert_eq!(moments(b"\r\n> ", Origin::Answer), vec![0, 4]);
        assert_eq!(moments(b"\r\nSEND OK\r\n", Origin::Answer), vec![0]);
        assert!(holds_final(b"AT\r\r\nOK\r\n"));
        assert!(holds_final(b"\r\n+CME ERROR: 724\r\n"));
        assert!(!holds_final(b"\r\n+QIURC: \"closed\",0\r\n"));
    }
}
