//! Replaying the host side of a log to a target, and comparing answers.
//!
//! Each command of the log (see [`super::check::walk`]) is sent, with its
//! payload when the target prompts for one; the target's answer is read up
//! to its final result within a time limit (never longer), then, if the log
//! recorded URCs after that command, until as many URCs of the same
//! templates have come (within the same limit).
//!
//! Answers are compared template by template: the final result, the
//! information lines in order, the data blocks, and the URCs as a multiset
//! (their timing varies: one that comes during another command than in the
//! log still matches). A command *differs* when its final result, or the
//! template of a line or URC, differs, or a line is missing or extra; values
//! that differ while the template matches (a local port, a time) are listed
//! as *changed values* and do not make it differ.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io;
use std::time::{Duration, Instant};

use fcm242d::engine::{Final, MAX_LINE};
use fcm242d::framer::{DataOracle, Follow, Frame, Framer};
use fcm242d::generated::urcs::Urc;
use fcm242d::transport::Transport;
use serde::{Deserialize, Serialize};

use super::catalogue::{self, Form, Prompt};
use super::check::{printable, walk, Exchange};
use super::parse::Transcript;
use crate::case::ConnectData;

/// How a replay runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayOptions {
    /// The longest wait for a command's final result (and for the URCs the
    /// log recorded after it). Every wait is capped at one hour.
    pub command_timeout: Duration,
    /// The silence kept before `+++` (leaving transparent mode).
    pub guard_time: Duration,
    /// How long to collect what the target prints after a command's
    /// answer, before the next command.
    pub quiet: Duration,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            command_timeout: Duration::from_secs(10),
            guard_time: Duration::from_secs(1),
            quiet: Duration::from_millis(100),
        }
    }
}

/// How a command's answer compares with the log's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The same text.
    Match,
    /// The same templates, some values different.
    ChangedValues,
    /// A different final result or template, or lines missing or extra.
    Differs,
}

impl Verdict {
    /// A short name.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Match => "match",
            Verdict::ChangedValues => "changed values",
            Verdict::Differs => "differs",
        }
    }
}

/// A value that differs while its template matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedValue {
    /// The template (`+QIOPEN` `+QIOPEN: <connectID>,<err>`, or `data block`).
    pub template: String,
    /// The log's text.
    pub recorded: String,
    /// The target's text.
    pub received: String,
}

/// The replay of one command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandReplay {
    /// The line of the command in the log.
    pub line: usize,
    /// The command line.
    pub command: String,
    /// The comparison.
    pub verdict: Verdict,
    /// Why it differs.
    pub differences: Vec<String>,
    /// Values that changed.
    pub changed: Vec<ChangedValue>,
    /// The target's answer (lines, final result, URCs), in order.
    pub answer: Vec<String>,
    /// How long the command took.
    pub duration_ms: u64,
}

/// The result of a replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayReport {
    /// The log.
    pub source: String,
    /// The target (`Transport::describe`).
    pub target: String,
    /// Each command replayed, in order.
    pub commands: Vec<CommandReplay>,
    /// Commands of the log not replayed (the link failed).
    pub not_replayed: usize,
    /// Why the replay stopped early, if it did.
    pub aborted: Option<String>,
}

impl ReplayReport {
    /// Whether every command answered as in the log (changed values allowed).
    pub fn is_clean(&self) -> bool {
        self.aborted.is_none() && self.commands.iter().all(|c| c.verdict != Verdict::Differs)
    }

    /// How many commands have each verdict: (match, changed values, differs).
    pub fn counts(&self) -> (usize, usize, usize) {
        let count = |v| self.commands.iter().filter(|c| c.verdict == v).count();
        (
            count(Verdict::Match),
            count(Verdict::ChangedValues),
            count(Verdict::Differs),
        )
    }

    /// The report for a terminal.
    pub fn render(&self) -> String {
        let (m, c, d) = self.counts();
        let mut s = format!(
            "replay of {} against {}: {} command(s): {m} match, {c} with changed values, {d} differ\n",
            self.source,
            self.target,
            self.commands.len()
        );
        for r in &self.commands {
            let _ = writeln!(
                s,
                "{}:{}: `{}`: {}",
                self.source,
                r.line,
                r.command,
                r.verdict.name()
            );
            for d in &r.differences {
                let _ = writeln!(s, "    differs: {d}");
            }
            for v in &r.changed {
                let _ = writeln!(
                    s,
                    "    changed: {}: log `{}`, target `{}`",
                    v.template, v.recorded, v.received
                );
            }
            if r.verdict == Verdict::Differs {
                let _ = writeln!(s, "    target answered: {}", r.answer.join(" | "));
            }
        }
        if let Some(a) = &self.aborted {
            let _ = writeln!(
                s,
                "replay stopped: {a} ({} command(s) not replayed)",
                self.not_replayed
            );
        }
        s
    }
}

/// Replays the host side of `transcript` to `link`; `source` names the log.
pub fn replay(
    source: &str,
    transcript: &Transcript,
    link: &mut dyn Transport,
    options: &ReplayOptions,
) -> ReplayReport {
    let exchanges = walk(transcript).exchanges;
    let mut r = Replayer {
        link,
        options: *options,
        framer: Framer::new(MAX_LINE),
        buf: vec![0u8; 4096],
    };
    let mut answers = Vec::new();
    let mut aborted = None;
    for x in &exchanges {
        match r.run(x) {
            Ok(a) => answers.push(a),
            Err(e) => {
                aborted = Some(e.to_string());
                break;
            }
        }
    }
    let mut commands: Vec<CommandReplay> = exchanges
        .iter()
        .zip(&answers)
        .map(|(x, a)| compare(x, a))
        .collect();
    reconcile_urcs(&exchanges, &answers, &mut commands);
    for c in &mut commands {
        c.verdict = if !c.differences.is_empty() {
            Verdict::Differs
        } else if !c.changed.is_empty() {
            Verdict::ChangedValues
        } else {
            Verdict::Match
        };
    }
    ReplayReport {
        source: source.to_string(),
        target: r.link.describe(),
        not_replayed: exchanges.len() - answers.len(),
        commands,
        aborted,
    }
}

/// What the target answered to one command.
#[derive(Debug, Default)]
struct Answer {
    /// Everything, in order, for the report.
    shown: Vec<String>,
    prompt: bool,
    lines: Vec<String>,
    data: Vec<Vec<u8>>,
    final_result: Option<String>,
    urcs: Vec<String>,
    timed_out: bool,
    duration: Duration,
}

/// What the reader knows about the command in flight.
struct Flight<'a> {
    x: &'a Exchange,
    echo_seen: bool,
    prompt_done: bool,
    /// A URC announced a data block: the next block is its.
    urc_data: bool,
}

/// The oracle: which of the target's lines announce data.
struct Oracle<'a> {
    form: Option<&'a Form>,
    pending: bool,
    prompt_done: bool,
}

impl DataOracle for Oracle<'_> {
    fn data_length(&self, line: &[u8]) -> Option<usize> {
        match self.follow(line) {
            Follow::Data(n) => Some(n),
            _ => None,
        }
    }

    fn follow(&self, line: &[u8]) -> Follow {
        let Ok(text) = std::str::from_utf8(line) else {
            return Follow::Lines;
        };
        let t = text.trim();
        if let (true, Some(form)) = (self.pending, self.form) {
            if let Some(f @ (Final::Connect | Final::ConnectN(_))) = Final::parse(t) {
                if form.prompt == Some(Prompt::Connect) && !self.prompt_done {
                    return Follow::Lines;
                }
                return match (form.connect, f) {
                    (ConnectData::Length, Final::ConnectN(n)) => Follow::Data(n),
                    (ConnectData::UntilOk, Final::Connect) => {
                        Follow::DataUntil(b"\r\nOK\r\n".to_vec())
                    }
                    (ConnectData::Transparent, Final::Connect) => Follow::Transparent,
                    _ => Follow::Lines,
                };
            }
            if let Some(tpl) = catalogue::line_template(form.command, Some(form.syntax), t) {
                return match catalogue::announced_length(tpl, t) {
                    Some(n) => Follow::Data(n),
                    None => Follow::Lines,
                };
            }
        }
        match Urc::parse(t) {
            Some(Ok(u)) => match u.data_length() {
                Some(n) => Follow::Data(n),
                None => Follow::Lines,
            },
            _ => Follow::Lines,
        }
    }
}

struct Replayer<'l> {
    link: &'l mut dyn Transport,
    options: ReplayOptions,
    framer: Framer,
    buf: Vec<u8>,
}

impl Replayer<'_> {
    fn run(&mut self, x: &Exchange) -> io::Result<Answer> {
        let started = Instant::now();
        let mut a = Answer::default();
        let mut f = Flight {
            x,
            echo_seen: false,
            prompt_done: false,
            urc_data: false,
        };
        let form = x.form.as_ref();
        let is_escape = x.command.trim() == "+++";
        let mut limit = self.options.command_timeout;
        if is_escape {
            // `+++` needs silence before it; the module answers after the
            // same silence after it.
            self.collect_for(self.options.guard_time, &mut f, &mut a)?;
            self.framer.set_transparent(false);
            self.link.write_all(b"+++")?;
            limit = limit.saturating_add(self.options.guard_time);
        } else {
            self.framer
                .expect_prompt(form.and_then(|f| f.prompt) == Some(Prompt::Greater));
            let mut line = x.command.clone().into_bytes();
            line.extend_from_slice(b"\r\n");
            self.link.write_all(&line)?;
        }
        let deadline = deadline_after(limit);
        while a.final_result.is_none() {
            if !self.step(deadline, &mut f, &mut a)? {
                a.timed_out = true;
                break;
            }
        }
        if a.timed_out
            && a.prompt
            && x.payload.is_none()
            && form.and_then(|f| f.prompt) == Some(Prompt::Greater)
        {
            // Leave the data phase the log gave no payload for (Esc cancels
            // a `>` payload; a `CONNECT` one ends by its length or time).
            self.link.write_all(&[0x1B])?;
        }
        if !a.timed_out {
            if !x.transparent.is_empty() && self.framer.is_transparent() {
                self.link.write_all(&x.transparent)?;
            }
            // The URCs the log recorded after this command.
            let wanted: Vec<String> = x.urcs.iter().map(|u| urc_key(&u.text)).collect();
            while !covers(&a.urcs, &wanted) {
                if !self.step(deadline, &mut f, &mut a)? {
                    break;
                }
            }
            self.collect_for(self.options.quiet, &mut f, &mut a)?;
        }
        a.duration = started.elapsed();
        Ok(a)
    }

    /// Reads and handles the target's output for `span`.
    fn collect_for(&mut self, span: Duration, f: &mut Flight, a: &mut Answer) -> io::Result<()> {
        let deadline = deadline_after(span);
        while self.step(deadline, f, a)? {}
        Ok(())
    }

    /// One read (at most 50 ms, never past `deadline`); false once the
    /// deadline has passed.
    fn step(&mut self, deadline: Instant, f: &mut Flight, a: &mut Answer) -> io::Result<bool> {
        let now = Instant::now();
        if now >= deadline {
            return Ok(false);
        }
        let wait = (deadline - now).min(Duration::from_millis(50));
        let n = self.link.read(&mut self.buf, wait)?;
        if n == 0 {
            return Ok(true);
        }
        let bytes = self.buf.get(..n).unwrap_or_default().to_vec();
        let mut frames = VecDeque::new();
        {
            let oracle = Oracle {
                form: f.x.form.as_ref(),
                pending: a.final_result.is_none(),
                prompt_done: f.prompt_done,
            };
            self.framer
                .feed(&bytes, &oracle, &mut |fr| frames.push_back(fr));
        }
        for fr in frames {
            self.frame(fr, f, a)?;
        }
        Ok(true)
    }

    fn frame(&mut self, frame: Frame, f: &mut Flight, a: &mut Answer) -> io::Result<()> {
        match frame {
            Frame::Line(bytes) => self.line(&String::from_utf8_lossy(&bytes), f, a),
            Frame::Prompt => {
                a.shown.push(">".to_string());
                self.prompt(f, a)
            }
            Frame::Data(d) => {
                a.shown.push(format!("<{} data bytes>", d.len()));
                if std::mem::take(&mut f.urc_data) {
                    return Ok(());
                }
                a.data.push(d);
                Ok(())
            }
            Frame::Raw(r) => {
                a.shown.push(format!("<{} transparent bytes>", r.len()));
                Ok(())
            }
            Frame::Overflow { discarded } => {
                let text = format!("<line longer than {} bytes>", discarded.saturating_sub(1));
                a.shown.push(text.clone());
                a.lines.push(text);
                Ok(())
            }
        }
    }

    fn prompt(&mut self, f: &mut Flight, a: &mut Answer) -> io::Result<()> {
        f.prompt_done = true;
        a.prompt = true;
        if let Some(p) = &f.x.payload {
            self.link.write_all(p)?;
        }
        Ok(())
    }

    fn line(&mut self, text: &str, f: &mut Flight, a: &mut Answer) -> io::Result<()> {
        let t = text.trim();
        if t.is_empty() {
            return Ok(());
        }
        if !f.echo_seen && t.eq_ignore_ascii_case(f.x.command.trim()) {
            f.echo_seen = true;
            return Ok(());
        }
        a.shown.push(printable(t.as_bytes()));
        let pending = a.final_result.is_none();
        let form = f.x.form.as_ref();
        if let (true, Some(fin)) = (pending, Final::parse(t)) {
            let connect = form.map(|f| f.connect).unwrap_or(ConnectData::None);
            match fin {
                Final::Connect | Final::ConnectN(_)
                    if form.and_then(|f| f.prompt) == Some(Prompt::Connect) && !f.prompt_done =>
                {
                    return self.prompt(f, a);
                }
                Final::ConnectN(_) if connect == ConnectData::Length => a.lines.push(t.to_string()),
                Final::Connect if connect == ConnectData::UntilOk => a.lines.push(t.to_string()),
                _ => a.final_result = Some(t.to_string()),
            }
            return Ok(());
        }
        if pending {
            let name = form
                .map(|f| f.command)
                .or_else(|| catalogue::command_name(&f.x.command));
            if let Some(name) = name {
                if catalogue::line_template(name, form.map(|f| f.syntax), t).is_some() {
                    a.lines.push(t.to_string());
                    return Ok(());
                }
            }
        }
        if let Some(u) = Urc::parse(t) {
            if let Ok(u) = u {
                f.urc_data = u.data_length().is_some_and(|n| n > 0);
            }
            a.urcs.push(t.to_string());
            return Ok(());
        }
        if !pending && form.is_some_and(|f| f.lines_after_result) {
            a.lines.push(t.to_string());
            return Ok(());
        }
        // Not explained: compared as a line (it differs from the log's).
        a.lines.push(t.to_string());
        Ok(())
    }
}

/// The longest wait the replay ever makes, whatever the options say.
const MAX_WAIT: Duration = Duration::from_secs(3600);

/// The instant `wait` from now (at most [`MAX_WAIT`]).
fn deadline_after(wait: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(wait.min(MAX_WAIT)).unwrap_or(now)
}

/// The template a response line matches, for comparison (the text itself
/// when none does).
fn line_key(x: &Exchange, t: &str) -> String {
    if let Some(Final::ConnectN(_)) = Final::parse(t) {
        return "CONNECT <n>".to_string();
    }
    let form = x.form.as_ref();
    let name = form
        .map(|f| f.command)
        .or_else(|| catalogue::command_name(&x.command));
    name.and_then(|n| catalogue::line_template(n, form.map(|f| f.syntax), t))
        .map(|tpl| format!("{} `{}`", tpl.owner, tpl.template))
        .unwrap_or_else(|| t.to_string())
}

fn urc_key(t: &str) -> String {
    catalogue::urc_template(t)
        .map(|tpl| format!("{} `{}`", tpl.owner, tpl.template))
        .unwrap_or_else(|| t.to_string())
}

/// Whether `got` holds (as a multiset of URC templates) every one of `wanted`.
fn covers(got: &[String], wanted: &[String]) -> bool {
    let mut keys: Vec<String> = got.iter().map(|u| urc_key(u)).collect();
    wanted
        .iter()
        .all(|w| match keys.iter().position(|k| k == w) {
            Some(i) => {
                keys.swap_remove(i);
                true
            }
            None => false,
        })
}

fn short(bytes: &[u8]) -> String {
    let mut s = printable(bytes.get(..80).unwrap_or(bytes));
    if bytes.len() > 80 {
        let _ = write!(s, "… ({} bytes)", bytes.len());
    }
    s
}

/// Compares everything but the URCs (see [`reconcile_urcs`]).
fn compare(x: &Exchange, a: &Answer) -> CommandReplay {
    let mut differences = Vec::new();
    let mut changed = Vec::new();
    if x.prompt && !a.prompt {
        differences.push("the log shows a data prompt; the target gave none".to_string());
    } else if a.prompt && !x.prompt {
        differences.push("the target gave a data prompt; the log shows none".to_string());
    }
    match (&x.final_result, &a.final_result) {
        (Some(r), Some(g)) => {
            if Final::parse(&r.text) != Final::parse(g) {
                differences.push(format!("final result: log `{}`, target `{g}`", r.text));
            }
        }
        (Some(r), None) => differences.push(format!(
            "no final result within {} ms (log: `{}`)",
            a.duration.as_millis(),
            r.text
        )),
        (None, Some(g)) => {
            differences.push(format!("final result: the log has none, target `{g}`"))
        }
        (None, None) => {}
    }
    let n = x.lines.len().max(a.lines.len());
    for i in 0..n {
        match (x.lines.get(i), a.lines.get(i)) {
            (Some(r), Some(g)) => {
                let (kr, kg) = (line_key(x, &r.text), line_key(x, g));
                if kr != kg {
                    differences.push(format!(
                        "line {}: log `{}` ({kr}), target `{g}` ({kg})",
                        r.line, r.text
                    ));
                } else if r.text != *g {
                    changed.push(ChangedValue {
                        template: kr,
                        recorded: r.text.clone(),
                        received: g.clone(),
                    });
                }
            }
            (Some(r), None) => differences.push(format!(
                "line {}: `{}` missing from the target",
                r.line, r.text
            )),
            (None, Some(g)) => differences.push(format!("extra line from the target: `{g}`")),
            (None, None) => {}
        }
    }
    let n = x.data.len().max(a.data.len());
    for i in 0..n {
        match (x.data.get(i), a.data.get(i)) {
            (Some(r), Some(g)) if r != g => changed.push(ChangedValue {
                template: "data block".to_string(),
                recorded: short(r),
                received: short(g),
            }),
            (Some(r), None) => differences.push(format!(
                "data block of {} bytes missing from the target",
                r.len()
            )),
            (None, Some(g)) => differences.push(format!(
                "extra data block of {} bytes from the target",
                g.len()
            )),
            _ => {}
        }
    }
    CommandReplay {
        line: x.line,
        command: x.command.clone(),
        verdict: Verdict::Match,
        differences,
        changed,
        answer: a.shown.clone(),
        duration_ms: u64::try_from(a.duration.as_millis()).unwrap_or(u64::MAX),
    }
}

/// Compares the URCs as a multiset: first within each command (same text,
/// then same template), then across commands (a URC that came during
/// another command than in the log).
fn reconcile_urcs(exchanges: &[Exchange], answers: &[Answer], commands: &mut [CommandReplay]) {
    // Per command: the log's URCs not matched, the target's not matched.
    let mut missing: Vec<Vec<String>> = Vec::new();
    let mut extra: Vec<Vec<String>> = Vec::new();
    for (i, (x, a)) in exchanges.iter().zip(answers).enumerate() {
        let mut rec: Vec<String> = x.urcs.iter().map(|u| u.text.clone()).collect();
        let mut got: Vec<String> = a.urcs.clone();
        // Same text.
        rec.retain(|r| match got.iter().position(|g| g == r) {
            Some(j) => {
                got.remove(j);
                false
            }
            None => true,
        });
        // Same template.
        let mut still = Vec::new();
        for r in rec {
            let k = urc_key(&r);
            match got.iter().position(|g| urc_key(g) == k) {
                Some(j) => {
                    let g = got.remove(j);
                    if let Some(c) = commands.get_mut(i) {
                        c.changed.push(ChangedValue {
                            template: k,
                            recorded: r,
                            received: g,
                        });
                    }
                }
                None => still.push(r),
            }
        }
        missing.push(still);
        extra.push(got);
    }
    // Across commands, nearest first.
    for (i, list) in missing.iter_mut().enumerate() {
        let mut k = 0;
        while k < list.len() {
            let key = urc_key(&list[k]);
            let found = (1..extra.len())
                .flat_map(|d| [i.checked_sub(d), i.checked_add(d)])
                .flatten()
                .filter(|&j| j < extra.len())
                .find_map(|j| {
                    extra[j]
                        .iter()
                        .position(|g| urc_key(g) == key)
                        .map(|p| (j, p))
                });
            match found {
                Some((j, p)) => {
                    let g = extra[j].remove(p);
                    let r = list.remove(k);
                    if r != g {
                        if let Some(c) = commands.get_mut(i) {
                            c.changed.push(ChangedValue {
                                template: key,
                                recorded: r,
                                received: g,
                            });
                        }
                    }
                }
                None => k += 1,
            }
        }
    }
    for (i, c) in commands.iter_mut().enumerate() {
        for r in missing.get(i).into_iter().flatten() {
            c.differences
                .push(format!("URC `{r}` ({}) not received", urc_key(r)));
        }
        for g in extra.get(i).into_iter().flatten() {
            c.differences
                .push(format!("URC `{g}` ({}) not in the log", urc_key(g)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::check::Recorded;

    fn exchange(command: &str, urcs: &[&str]) -> Exchange {
        Exchange {
            line: 1,
            command: command.to_string(),
            form: catalogue::form_of(command).ok(),
            prompt: false,
            payload: None,
            lines: Vec::new(),
            data: Vec::new(),
            final_result: Some(Recorded {
                line: 2,
                text: "OK".to_string(),
            }),
            urcs: urcs
                .iter()
                .map(|u| Recorded {
                    line: 3,
                    text: u.to_string(),
                })
                .collect(),
            transparent: Vec::new(),
        }
    }

    fn answer(urcs: &[&str]) -> Answer {
        Answer {
            final_result: Some("OK".to_string()),
            urcs: urcs.iter().map(|u| u.to_string()).collect(),
            ..Answer::default()
        }
    }

    #[test]
    fn urcs_are_a_multiset_across_commands() {
        // The log has the URC after the first command; the target sent it
        // during the second, with another value.
        let xs = [
            exchange("AT", &["+QIURC: \"closed\",1"]),
            exchange("AT+QVERSION", &[]),
        ];
        let answers = [answer(&[]), answer(&["+QIURC: \"closed\",2"])];
        let mut commands: Vec<CommandReplay> = xs
            .iter()
            .zip(&answers)
            .map(|(x, a)| compare(x, a))
            .collect();
        reconcile_urcs(&xs, &answers, &mut commands);
        assert!(
            commands.iter().all(|c| c.differences.is_empty()),
            "{commands:?}"
        );
        assert_eq!(commands[0].changed.len(), 1);
        assert_eq!(commands[0].changed[0].received, "+QIURC: \"closed\",2");

        // A URC of another template is a difference, on both sides.
        let answers = [answer(&["+QSTASTAT: \"WLAN_DISCONNECTED\""]), answer(&[])];
        let mut commands: Vec<CommandReplay> = xs
            .iter()
            .zip(&answers)
            .map(|(x, a)| compare(x, a))
            .collect();
        reconcile_urcs(&xs, &answers, &mut commands);
        assert_eq!(commands[0].differences.len(), 2, "{commands:?}");
    }

    #[test]
    fn covers_counts_templates() {
        let got = vec!["+QIURC: \"closed\",1".to_string()];
        assert!(covers(&got, &[urc_key("+QIURC: \"closed\",3")]));
        assert!(!covers(
            &got,
            &[
                urc_key("+QIURC: \"closed\",3"),
                urc_key("+QIURC: \"closed\",4")
            ]
        ));
    }
}
