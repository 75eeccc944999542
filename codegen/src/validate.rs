//! Semantic checks of the loaded catalogue. Every check reports into one list
//! so that a run shows all faults at once, each at its `file:line:col`.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::catalog::Catalog;
use crate::diagnostic::{did_you_mean, Diagnostic, Location};
use crate::load::LoadedFile;
use crate::locate::NodePath;
use crate::model::{
    Command, Condition, DataBlock, FinalResult, Form, FormKind, Line, Param, ParamType,
    ResponseTime, Rule, Saved, Scalar, Scenario, Urc,
};
use crate::params::{byte_len, numeric, resolve, same_value};
use crate::template::{self, Node, Piece};

mod names;

/// Runs every check and appends what it finds to `diags`.
pub fn validate(catalog: &Catalog, diags: &mut Vec<Diagnostic>) {
    let mut v = Validator {
        catalog,
        diags,
        errata_ids: HashSet::new(),
    };
    v.errata_ids = catalog.errata().map(|(_, e)| e.value.id.clone()).collect();
    for f in &catalog.files {
        v.errata_ids.extend(
            f.broken_names
                .iter()
                .filter(|(k, _)| k == "errata")
                .map(|(_, n)| n.clone()),
        );
    }
    v.check_duplicates();
    for (fi, file) in catalog.files.iter().enumerate() {
        if !file.commands.is_empty() && file.group.is_none() {
            let path = NodePath::root().key("commands");
            v.report(
                fi,
                &path,
                true,
                "missing-group",
                "a file with `commands` needs a `group`".into(),
                String::new(),
                "add `group: <general|wifi|ble|tcpip|ssl|mqtt|http|network|filesystem>` at the top"
                    .into(),
            );
        }
        for e in &file.commands {
            let path = NodePath::root().key("commands").index(e.index);
            v.check_command(fi, &path, &e.value);
        }
        for e in &file.urcs {
            let path = NodePath::root().key("urcs").index(e.index);
            v.check_urc(fi, &path, &e.value);
        }
        for e in &file.scenarios {
            let path = NodePath::root().key("scenarios").index(e.index);
            v.check_scenario(fi, &path, &e.value);
        }
        for e in &file.result_tables {
            let path = NodePath::root().key("result_tables").index(e.index);
            v.check_code_ids(fi, &path, &e.value);
            let mut seen = HashSet::new();
            for (ci, code) in e.value.codes.iter().enumerate() {
                if !seen.insert(code.code) {
                    v.report(
                        fi,
                        &path.key("codes").index(ci).key("code"),
                        false,
                        "duplicate-code",
                        format!(
                            "result code {} appears twice in table `{}`",
                            code.code,
                            serde_name(&e.value.table)
                        ),
                        code.code.to_string(),
                        "remove or correct the second row".into(),
                    );
                }
            }
        }
        for e in &file.errata {
            let path = NodePath::root().key("errata").index(e.index);
            v.check_erratum(fi, &path, &e.value);
        }
    }
}

struct Validator<'a, 'd> {
    catalog: &'a Catalog,
    diags: &'d mut Vec<Diagnostic>,
    errata_ids: HashSet<String>,
}

/// What a command or URC's templates, rules and limits refer to.
#[derive(Default)]
struct Usage {
    used: BTreeSet<usize>,
    /// Something the entry refers to is missing (an unknown completion URC), so
    /// which parameters it uses cannot be known: do not report unused ones.
    incomplete: bool,
}

impl Validator<'_, '_> {
    fn file(&self, fi: usize) -> &LoadedFile {
        &self.catalog.files[fi]
    }

    /// Reports at `path` (its key when `at_key`), narrowing the underline to
    /// `offending` when that text occurs on the reported line.
    #[allow(clippy::too_many_arguments)]
    fn report(
        &mut self,
        fi: usize,
        path: &NodePath,
        at_key: bool,
        code: &'static str,
        message: String,
        offending: String,
        hint: String,
    ) {
        let source = &self.file(fi).source;
        let mut location = if at_key {
            source.index.key(path)
        } else {
            source.index.value(path)
        };
        narrow(&source.text, &mut location, &offending);
        self.diags.push(Diagnostic {
            file: source.path.clone(),
            location,
            code,
            message,
            offending,
            hint,
        });
    }

    /// Reports a range, conditional range or length whose min exceeds its max.
    fn report_empty(
        &mut self,
        fi: usize,
        path: &NodePath,
        what: &str,
        name: &str,
        min: &dyn std::fmt::Display,
        max: &dyn std::fmt::Display,
    ) {
        self.report(
            fi,
            path,
            false,
            "empty-range",
            format!("{what} of <{name}> is empty: min {min} > max {max}"),
            format!("{min}..{max}"),
            "swap min and max, or fix the typo".into(),
        );
    }

    fn check_duplicates(&mut self) {
        let c = self.catalog;
        let commands = c
            .commands()
            .map(|r| (r.file, r.path().key("name"), r.command.name.clone()))
            .collect();
        self.report_duplicates(
            commands,
            "duplicate-command",
            "command",
            "merge the two entries: a command is defined once, with all of its forms",
        );
        let urcs = c
            .urcs()
            .map(|(fi, e)| {
                (
                    fi,
                    NodePath::root().key("urcs").index(e.index).key("name"),
                    urc_label(&e.value),
                )
            })
            .collect();
        self.report_duplicates(
            urcs,
            "duplicate-urc",
            "URC",
            "give each variant a distinct `variant:` label, or remove the copy",
        );
        let errata = c
            .errata()
            .map(|(fi, e)| {
                (
                    fi,
                    NodePath::root().key("errata").index(e.index).key("id"),
                    e.value.id.clone(),
                )
            })
            .collect();
        self.report_duplicates(
            errata,
            "duplicate-erratum",
            "erratum id",
            "give the erratum a new id",
        );
        let tables = c
            .result_tables()
            .map(|(fi, e)| {
                (
                    fi,
                    NodePath::root()
                        .key("result_tables")
                        .index(e.index)
                        .key("table"),
                    serde_name(&e.value.table),
                )
            })
            .collect();
        self.report_duplicates(
            tables,
            "duplicate-table",
            "result table",
            "merge the two tables",
        );
        let scenarios = c
            .scenarios()
            .map(|(fi, e)| {
                (
                    fi,
                    NodePath::root().key("scenarios").index(e.index).key("name"),
                    e.value.name.clone(),
                )
            })
            .collect();
        self.report_duplicates(
            scenarios,
            "duplicate-scenario",
            "scenario",
            "rename one of them",
        );
    }

    /// Reports every item whose key was already seen, at the later definition.
    fn report_duplicates(
        &mut self,
        items: Vec<(usize, NodePath, String)>,
        code: &'static str,
        what: &str,
        hint: &str,
    ) {
        let mut seen = HashSet::new();
        for (fi, path, key) in items {
            if !seen.insert(key.clone()) {
                self.report(
                    fi,
                    &path,
                    false,
                    code,
                    format!("{what} `{key}` is defined twice"),
                    key,
                    hint.into(),
                );
            }
        }
    }

    fn check_errata_refs(&mut self, fi: usize, path: &NodePath, ids: &[String]) {
        for (i, id) in ids.iter().enumerate() {
            if !self.errata_ids.contains(id) {
                let known: Vec<String> = self.errata_ids.iter().cloned().collect();
                let hint = match did_you_mean(id, known.iter().map(String::as_str)) {
                    Some(s) => {
                        format!("did you mean `{s}`? Errata are defined in spec/errata.yaml")
                    }
                    None => "define the erratum in spec/errata.yaml, or correct the id".into(),
                };
                self.report(
                    fi,
                    &path.key("errata").index(i),
                    false,
                    "unknown-erratum",
                    format!("erratum `{id}` does not exist"),
                    id.clone(),
                    hint,
                );
            }
        }
    }

    // ----- commands ---------------------------------------------------------

    fn check_command(&mut self, fi: usize, path: &NodePath, cmd: &Command) {
        let valid_name = cmd.name == "AT"
            || cmd.name == "ATO"
            || cmd.name == "+++"
            || (cmd.name.starts_with("AT+Q")
                && cmd.name.len() > 4
                && cmd.name[4..]
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
        if !valid_name {
            self.report(
                fi,
                &path.key("name"),
                false,
                "bad-name",
                format!("`{}` is not a command name of this module", cmd.name),
                cmd.name.clone(),
                "commands are named `AT+Q…` in upper case, or `AT`, `ATO`, `+++`".into(),
            );
        }
        self.check_errata_refs(fi, path, &cmd.errata);
        self.check_params(fi, path, &cmd.params);
        self.check_command_types(fi, path, cmd);
        let mut usage = Usage::default();
        if cmd.forms.is_empty() {
            self.report(
                fi,
                &path.key("forms"),
                true,
                "no-forms",
                format!("`{}` has no forms", cmd.name),
                String::new(),
                "list every form the manual gives under `forms`".into(),
            );
        }
        let mut seen_forms = HashSet::new();
        for (i, form) in cmd.forms.iter().enumerate() {
            let fpath = path.key("forms").index(i);
            if !seen_forms.insert(form.syntax.clone()) {
                self.report(
                    fi,
                    &fpath.key("syntax"),
                    false,
                    "duplicate-form",
                    format!("the form `{}` is listed twice", form.syntax),
                    form.syntax.clone(),
                    "each form appears once; put every response variant under that one form".into(),
                );
            }
            self.check_form(fi, &fpath, cmd, form, &mut usage);
        }
        self.check_time(
            fi,
            &path.key("max_response_time"),
            &cmd.params,
            &cmd.max_response_time,
            &mut usage,
        );
        let ch = &cmd.characteristics;
        match (&ch.saved, &ch.save_param) {
            (Saved::ByParam, None) => self.report(
                fi,
                &path.key("characteristics").key("saved"),
                false,
                "missing-save-param",
                "`saved: by_param` needs `save_param`".into(),
                "by_param".into(),
                "name the parameter that decides whether the setting is saved".into(),
            ),
            (Saved::ByParam, Some(p)) => {
                let p = p.clone();
                self.use_param(
                    fi,
                    &path.key("characteristics").key("save_param"),
                    &cmd.params,
                    &p,
                    &mut usage,
                );
            }
            (_, Some(p)) => self.report(
                fi,
                &path.key("characteristics").key("save_param"),
                false,
                "stray-save-param",
                "`save_param` only goes with `saved: by_param`".into(),
                p.clone(),
                "set `saved: by_param` or remove `save_param`".into(),
            ),
            _ => {}
        }
        for (i, pre) in cmd.preconditions.iter().enumerate() {
            let ppath = path.key("preconditions").index(i);
            if let Some(p) = &pre.param {
                self.use_param(fi, &ppath.key("param"), &cmd.params, p, &mut usage);
            }
            if let Some(c) = &pre.command {
                self.check_command_exists(fi, &ppath.key("command"), c);
            }
            if pre.state.is_none() && pre.command.is_none() {
                self.report(fi, &ppath, false, "empty-precondition", "a precondition needs a `state` or a `command`".into(), String::new(), "say which state must hold (see spec/README.md \"States\") or which command must have succeeded".into());
            }
        }
        for (i, rule) in cmd.rules.iter().enumerate() {
            self.check_rule(
                fi,
                &path.key("rules").index(i),
                &cmd.params,
                rule,
                &mut usage,
            );
        }
        if command_has_data(cmd) {
            mark_data_params(&cmd.params, &mut usage);
        }
        self.check_usage(fi, path, &cmd.params, &usage, &format!("`{}`", cmd.name));
    }

    fn check_command_exists(&mut self, fi: usize, path: &NodePath, name: &str) {
        if self.catalog.command(name).is_none() && !self.catalog.is_broken("commands", name) {
            let names: Vec<String> = self
                .catalog
                .commands()
                .map(|c| c.command.name.clone())
                .collect();
            let hint = match did_you_mean(name, names.iter().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "name a command defined in spec/".into(),
            };
            self.report(
                fi,
                path,
                false,
                "unknown-command",
                format!("command `{name}` is not in the catalogue"),
                name.to_string(),
                hint,
            );
        }
    }

    fn check_form(
        &mut self,
        fi: usize,
        path: &NodePath,
        cmd: &Command,
        form: &Form,
        usage: &mut Usage,
    ) {
        self.check_errata_refs(fi, path, &form.errata);
        match template::parse_command(&form.syntax) {
            Err(e) => {
                let shown: String = form.syntax.chars().skip(e.offset).take(12).collect();
                self.report(fi, &path.key("syntax"), false, "bad-syntax", format!("cannot parse the syntax: {}", e.message), shown, "write the syntax in the manual's notation: <param>, [,optional], <a>/<b>, \"key\", [,..] (spec/README.md)".into());
            }
            Ok(syntax) => {
                if syntax.name != cmd.name {
                    self.report(
                        fi,
                        &path.key("syntax"),
                        false,
                        "syntax-name",
                        format!(
                            "the syntax is for `{}`, but the command is `{}`",
                            syntax.name, cmd.name
                        ),
                        syntax.name.clone(),
                        "a form's syntax starts with its own command's name".into(),
                    );
                }
                if syntax.kind != form.kind {
                    self.report(
                        fi,
                        &path.key("kind"),
                        false,
                        "kind-mismatch",
                        format!(
                            "the syntax `{}` spells a {} form, but `kind` says {}",
                            form.syntax,
                            serde_name(&syntax.kind),
                            serde_name(&form.kind)
                        ),
                        serde_name(&form.kind),
                        "=? is test, ? is read, =… is write, nothing is execute".into(),
                    );
                }
                let key = match syntax.args.first() {
                    Some(Node::Field(pieces)) => match pieces.as_slice() {
                        [Piece::Literal { text, quoted: true }] => Some(text.clone()),
                        _ => None,
                    },
                    _ => None,
                };
                match (&form.subcommand, &key) {
                    (Some(sub), Some(k)) if sub != k => self.report(fi, &path.key("subcommand"), false, "subcommand-mismatch", format!("`subcommand: {sub}` but the syntax's key is \"{k}\""), sub.clone(), "the sub-command is the quoted first parameter of the syntax".into()),
                    (Some(sub), None) => self.report(fi, &path.key("subcommand"), false, "subcommand-mismatch", format!("`subcommand: {sub}` but the syntax does not start with a quoted key"), sub.clone(), format!("write the syntax as {}=\"{sub}\"…", cmd.name)),
                    (None, Some(k)) => self.report(fi, &path.key("syntax"), false, "missing-subcommand", format!("the syntax starts with the sub-command key \"{k}\" but the form has no `subcommand`"), format!("\"{k}\""), format!("add `subcommand: {k}`")),
                    _ => {}
                }
                self.use_template_names(
                    fi,
                    &path.key("syntax"),
                    &cmd.params,
                    &template::names(&syntax.args),
                    usage,
                );
            }
        }
        if form.responses.is_empty() {
            self.report(
                fi,
                &path.key("responses"),
                true,
                "no-responses",
                "a form needs at least one response".into(),
                String::new(),
                "list what the module answers, ending with its final result (OK, ERROR, …)".into(),
            );
        }
        for (ri, resp) in form.responses.iter().enumerate() {
            let rpath = path.key("responses").index(ri);
            for (li, line) in resp.lines.iter().enumerate() {
                self.check_line(fi, &rpath.key("lines").index(li), &cmd.params, line, usage);
            }
            if let Some(after) = &resp.after_result {
                let apath = rpath.key("after_result");
                for (li, line) in after.lines.iter().enumerate() {
                    self.check_line(fi, &apath.key("lines").index(li), &cmd.params, line, usage);
                }
                if let Some(data) = &after.data {
                    self.check_data_block(fi, &apath.key("data"), &cmd.params, data, usage);
                }
                if after.data.is_none() && after.lines.is_empty() && after.result.is_none() {
                    self.report(
                        fi,
                        &apath,
                        true,
                        "empty-after-result",
                        "`after_result` says nothing".into(),
                        String::new(),
                        "give its `data`, `lines` or `result`, or remove it".into(),
                    );
                }
            }
            if let Some(when) = &resp.when {
                self.check_condition(fi, &rpath.key("when"), &cmd.params, when, usage);
            }
            match (resp.result, &resp.result_param) {
                (FinalResult::CmeError | FinalResult::ConnectN, None) => self.report(
                    fi,
                    &rpath.key("result"),
                    false,
                    "missing-result-param",
                    format!(
                        "`{}` carries a value: name its parameter in `result_param`",
                        result_text(resp.result)
                    ),
                    result_text(resp.result).into(),
                    "e.g. `result_param: err`".into(),
                ),
                (FinalResult::CmeError | FinalResult::ConnectN, Some(p)) => {
                    let p = p.clone();
                    self.use_param(fi, &rpath.key("result_param"), &cmd.params, &p, usage);
                }
                (_, Some(p)) => self.report(
                    fi,
                    &rpath.key("result_param"),
                    false,
                    "stray-result-param",
                    format!("`{}` carries no value", result_text(resp.result)),
                    p.clone(),
                    "`result_param` only goes with CME_ERROR and CONNECT_N".into(),
                ),
                _ => {}
            }
            if let Some(c) = &resp.completion {
                let cpath = rpath.key("completion");
                let exists = self.catalog.urcs().any(|(_, e)| {
                    e.value.name == c.urc
                        && (c.discriminator.is_none() || e.value.discriminator == c.discriminator)
                });
                if !exists {
                    usage.incomplete = true;
                }
                if !exists && !self.catalog.is_broken("urcs", &c.urc) {
                    let label = match &c.discriminator {
                        Some(d) => format!("{}: \"{d}\"", c.urc),
                        None => c.urc.clone(),
                    };
                    self.report(fi, &cpath.key("urc"), false, "unknown-urc", format!("completion URC {label} is not defined"), c.urc.clone(), "define it in spec/urcs.yaml (source: command for URCs described only in a command's section)".into());
                }
                if let Some(t) = &c.timeout {
                    self.check_time(fi, &cpath.key("timeout"), &cmd.params, t, usage);
                }
                // The fields a completion is matched on: the command's
                // parameters, repeated by the URC under the same name.
                for (i, m) in c.match_params.iter().enumerate() {
                    let in_command = resolve(&cmd.params, m).is_some();
                    let in_urc = self.catalog.urcs().any(|(_, e)| {
                        e.value.name == c.urc
                            && (c.discriminator.is_none()
                                || e.value.discriminator == c.discriminator)
                            && resolve(&e.value.params, m).is_some()
                    });
                    if !(in_command && in_urc) && exists {
                        self.report(
                            fi,
                            &cpath.key("match").index(i),
                            false,
                            "unknown-match-field",
                            format!("<{m}> is not a parameter of both the command and its completion URC"),
                            m.clone(),
                            "name a parameter the URC repeats from the command (connectID, client_idx, msgID)".into(),
                        );
                    }
                }
                // Parameters the manual lists for the command but that only the
                // completion URC carries (`<err>` of `+QIOPEN: <connectID>,<err>`).
                for (_, e) in self.catalog.urcs() {
                    if e.value.name == c.urc
                        && (c.discriminator.is_none() || e.value.discriminator == c.discriminator)
                    {
                        for up in &e.value.params {
                            for n in std::iter::once(&up.name).chain(&up.aliases) {
                                if let Some(r) = resolve(&cmd.params, n) {
                                    usage.used.insert(r.param);
                                }
                            }
                        }
                    }
                }
            }
        }
        if let Some(dp) = &form.data_phase {
            let dpath = path.key("data_phase");
            if let Some(l) = &dp.length {
                self.use_param(fi, &dpath.key("length"), &cmd.params, l, usage);
            }
            if dp.length.is_none() && dp.terminator.is_none() {
                self.report(
                    fi,
                    &dpath,
                    true,
                    "endless-data-phase",
                    "the payload has neither a length nor a terminator".into(),
                    String::new(),
                    "set `length: <param>` or `terminator: ctrl_z`".into(),
                );
            }
            if let Some(t) = &dp.timeout {
                self.check_time(fi, &dpath.key("timeout"), &cmd.params, t, usage);
            }
        }
    }

    fn check_line(
        &mut self,
        fi: usize,
        path: &NodePath,
        params: &[Param],
        line: &Line,
        usage: &mut Usage,
    ) {
        let tpath = match line {
            Line::Template(_) => path.clone(),
            Line::Detailed(_) => path.key("template"),
        };
        match template::parse_line(line.template()) {
            Err(e) => {
                let shown: String = line.template().chars().skip(e.offset).take(12).collect();
                self.report(
                    fi,
                    &tpath,
                    false,
                    "bad-template",
                    format!("cannot parse the line template: {}", e.message),
                    shown,
                    "write the line in the manual's notation: +PREFIX: <a>,<b>[,<c>]".into(),
                );
            }
            Ok(l) => self.use_template_names(fi, &tpath, params, &template::names(&l.args), usage),
        }
        if let Some(data) = line.data() {
            self.check_data_block(fi, &path.key("data"), params, data, usage);
        }
    }

    fn check_data_block(
        &mut self,
        fi: usize,
        path: &NodePath,
        params: &[Param],
        data: &DataBlock,
        usage: &mut Usage,
    ) {
        if let Some(l) = &data.length {
            self.use_param(fi, &path.key("length"), params, l, usage);
        } else if data.until.is_none() {
            self.report(
                fi,
                path,
                true,
                "endless-data",
                "a data block needs `length` or `until`".into(),
                String::new(),
                "name the parameter that gives its length, or what ends it".into(),
            );
        }
    }

    fn check_time(
        &mut self,
        fi: usize,
        path: &NodePath,
        params: &[Param],
        t: &ResponseTime,
        usage: &mut Usage,
    ) {
        match t {
            ResponseTime::Param { param, .. } | ResponseTime::NetworkPlusParam { param, .. } => {
                self.use_param(fi, &path.key("param"), params, param, usage);
            }
            ResponseTime::Config { factors, .. } => {
                for (i, f) in factors.iter().enumerate() {
                    self.use_param(fi, &path.key("factors").index(i), params, f, usage);
                }
            }
            ResponseTime::Conditional { cases, .. } => {
                if cases.is_empty() {
                    self.report(
                        fi,
                        &path.key("cases"),
                        true,
                        "no-cases",
                        "a conditional time limit needs cases".into(),
                        String::new(),
                        "list each situation with its limit".into(),
                    );
                }
                for (i, c) in cases.iter().enumerate() {
                    if let Some(w) = &c.when {
                        self.check_condition(
                            fi,
                            &path.key("cases").index(i).key("when"),
                            params,
                            w,
                            usage,
                        );
                    }
                }
            }
            ResponseTime::Fixed { .. }
            | ResponseTime::Network { .. }
            | ResponseTime::NotGiven { .. } => {}
        }
    }

    fn check_rule(
        &mut self,
        fi: usize,
        path: &NodePath,
        params: &[Param],
        rule: &Rule,
        usage: &mut Usage,
    ) {
        match rule {
            Rule::Compare { left, right, .. } => {
                for (side, names) in [("left", left), ("right", right)] {
                    if names.is_empty() {
                        self.report(
                            fi,
                            &path.key(side),
                            true,
                            "empty-rule",
                            format!("the {side} side of the comparison is empty"),
                            String::new(),
                            "name at least one parameter".into(),
                        );
                    }
                    for (i, n) in names.iter().enumerate() {
                        self.use_param(fi, &path.key(side).index(i), params, n, usage);
                    }
                }
            }
            Rule::RequiredIf {
                params: names,
                when,
                ..
            } => {
                for (i, n) in names.iter().enumerate() {
                    self.use_param(fi, &path.key("params").index(i), params, n, usage);
                }
                self.check_condition(fi, &path.key("when"), params, when, usage);
            }
            Rule::ForbiddenValuesIf {
                param,
                values,
                when,
                ..
            } => {
                if let Some(pi) = self.use_param(fi, &path.key("param"), params, param, usage) {
                    for (i, v) in values.iter().enumerate() {
                        self.check_value_fits(fi, &path.key("values").index(i), &params[pi], v);
                    }
                }
                self.check_condition(fi, &path.key("when"), params, when, usage);
            }
            Rule::ValueIf {
                param, value, when, ..
            } => {
                if let Some(pi) = self.use_param(fi, &path.key("param"), params, param, usage) {
                    self.check_value_fits(fi, &path.key("value"), &params[pi], value);
                }
                self.check_condition(fi, &path.key("when"), params, when, usage);
            }
            Rule::ExactlyOne { params: names, .. } => {
                if names.len() < 2 {
                    self.report(
                        fi,
                        &path.key("params"),
                        true,
                        "short-rule",
                        "`exactly_one` needs two or more parameters".into(),
                        String::new(),
                        "list the alternatives".into(),
                    );
                }
                for (i, n) in names.iter().enumerate() {
                    self.use_param(fi, &path.key("params").index(i), params, n, usage);
                }
            }
            Rule::MaxLengthFrom { param, .. } => {
                self.use_param(fi, &path.key("param"), params, param, usage);
            }
        }
    }

    fn check_condition(
        &mut self,
        fi: usize,
        path: &NodePath,
        params: &[Param],
        c: &Condition,
        usage: &mut Usage,
    ) {
        let tests = [c.equals.is_some(), c.one_of.is_some(), c.present.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        let forms = usize::from(c.param.is_some())
            + usize::from(c.omitted.is_some())
            + usize::from(c.all.is_some());
        if forms != 1 || (c.param.is_some() && tests != 1) || (c.param.is_none() && tests != 0) {
            self.report(
                fi,
                path,
                false,
                "bad-condition",
                "a condition is one of {param, equals|in|present}, {omitted}, {all}".into(),
                String::new(),
                "e.g. `{param: scan, equals: 2}` or `{omitted: transpktsize}`".into(),
            );
        }
        if let Some(p) = &c.param {
            if let Some(pi) = self.use_param(fi, &path.key("param"), params, p, usage) {
                if let Some(v) = &c.equals {
                    self.check_value_fits(fi, &path.key("equals"), &params[pi], v);
                }
                for (i, v) in c.one_of.iter().flatten().enumerate() {
                    self.check_value_fits(fi, &path.key("in").index(i), &params[pi], v);
                }
            }
        }
        if let Some(p) = &c.omitted {
            self.use_param(fi, &path.key("omitted"), params, p, usage);
        }
        for (i, sub) in c.all.iter().flatten().enumerate() {
            self.check_condition(fi, &path.key("all").index(i), params, sub, usage);
        }
    }

    /// Marks template names used, reporting the ones that resolve to nothing.
    fn use_template_names(
        &mut self,
        fi: usize,
        path: &NodePath,
        params: &[Param],
        names: &[&str],
        usage: &mut Usage,
    ) {
        for name in names {
            match resolve(params, name) {
                Some(r) => {
                    usage.used.insert(r.param);
                }
                None => {
                    let hint = match did_you_mean(name, params.iter().map(|p| p.name.as_str())) {
                        Some(s) => format!("did you mean <{s}>? Otherwise define <{name}> under `params` (or add it to a parameter's `aliases`)"),
                        None => format!("define <{name}> under `params`, or add it to the `aliases` of the parameter the manual means"),
                    };
                    self.report(
                        fi,
                        path,
                        false,
                        "undefined-param",
                        format!("<{name}> is used in a template but is not a parameter here"),
                        format!("<{name}>"),
                        hint,
                    );
                }
            }
        }
    }

    /// Marks a parameter named by a rule, limit or data block as used; reports unknown names.
    fn use_param(
        &mut self,
        fi: usize,
        path: &NodePath,
        params: &[Param],
        name: &str,
        usage: &mut Usage,
    ) -> Option<usize> {
        match resolve(params, name) {
            Some(r) => {
                usage.used.insert(r.param);
                Some(r.param)
            }
            None => {
                let hint = match did_you_mean(name, params.iter().map(|p| p.name.as_str())) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "name one of the entry's `params`".into(),
                };
                self.report(
                    fi,
                    path,
                    false,
                    "unknown-param",
                    format!("`{name}` is not a parameter here"),
                    name.to_string(),
                    hint,
                );
                None
            }
        }
    }

    fn check_usage(
        &mut self,
        fi: usize,
        path: &NodePath,
        params: &[Param],
        usage: &Usage,
        owner: &str,
    ) {
        for (i, p) in params.iter().enumerate() {
            let ppath = path.key("params").index(i);
            let used = usage.used.contains(&i);
            if p.unused && used {
                self.report(
                    fi,
                    &ppath.key("unused"),
                    false,
                    "not-unused",
                    format!("<{}> is marked `unused` but {owner} uses it", p.name),
                    p.name.clone(),
                    "remove `unused: true`".into(),
                );
            } else if p.unused && p.errata.is_empty() {
                self.report(
                    fi,
                    &ppath.key("unused"),
                    false,
                    "unused-without-erratum",
                    format!("<{}> is marked `unused` without an erratum", p.name),
                    p.name.clone(),
                    "cite the erratum that records why the manual defines it without using it"
                        .into(),
                );
            } else if !p.unused && !used && !usage.incomplete {
                self.report(fi, &ppath.key("name"), false, "unused-param", format!("<{}> is defined but {owner} never uses it", p.name), p.name.clone(), "use it in a syntax or response template, rule or time limit; or set `unused: true` and cite an erratum".into());
            }
        }
    }

    fn check_params(&mut self, fi: usize, path: &NodePath, params: &[Param]) {
        let mut names: HashMap<&str, usize> = HashMap::new();
        for (i, p) in params.iter().enumerate() {
            let ppath = path.key("params").index(i);
            for (k, n) in std::iter::once(&p.name).chain(&p.aliases).enumerate() {
                if let Some(first) = names.insert(n.as_str(), i) {
                    let at = if k == 0 {
                        ppath.key("name")
                    } else {
                        ppath.key("aliases").index(k - 1)
                    };
                    self.report(
                        fi,
                        &at,
                        false,
                        "duplicate-param",
                        format!(
                            "parameter name <{n}> is used twice (first by parameter #{})",
                            first + 1
                        ),
                        n.clone(),
                        "a name or alias names one parameter; merge or rename".into(),
                    );
                }
            }
            self.check_errata_refs(fi, &ppath, &p.errata);
            self.check_param(fi, &ppath, p);
            self.check_value_ids(fi, &ppath, p);
        }
        // A payload framed by a length field: bytes, counted by an integer
        // parameter of the same entry.
        for (i, p) in params.iter().enumerate() {
            let Some(len) = &p.length_from else { continue };
            let at = path.key("params").index(i).key("length_from");
            if p.ty != ParamType::Data {
                self.report(
                    fi,
                    &at,
                    true,
                    "framed-not-data",
                    format!(
                        "<{}> is framed by a length but is of type {}",
                        p.name,
                        serde_name(&p.ty)
                    ),
                    len.clone(),
                    "a value framed by a length field is bytes: `type: data`".into(),
                );
            }
            let counts = crate::params::resolve(params, len)
                .map(|r| &params[r.param])
                .filter(|q| q.ty == ParamType::Integer);
            if counts.is_none() {
                self.report(
                    fi,
                    &at,
                    false,
                    "unknown-length-param",
                    format!("<{len}> is not an integer parameter of this entry"),
                    len.clone(),
                    "name the integer parameter that gives the byte count".into(),
                );
            }
        }
    }

    fn check_param(&mut self, fi: usize, path: &NodePath, p: &Param) {
        let numeric_type = p.ty.is_numeric();
        if let Some(r) = &p.range {
            if !numeric_type {
                self.report(
                    fi,
                    &path.key("range"),
                    true,
                    "range-on-string",
                    format!(
                        "<{}> is of type {} but has a value `range`",
                        p.name,
                        serde_name(&p.ty)
                    ),
                    String::new(),
                    "byte-length limits of strings go in `length: {min, max}`".into(),
                );
            } else {
                let min = numeric(p.ty, &r.min);
                let max = numeric(p.ty, &r.max);
                for (k, v, parsed) in [("min", &r.min, min), ("max", &r.max, max)] {
                    if parsed.is_none() {
                        self.report(
                            fi,
                            &path.key("range").key(k),
                            false,
                            "bad-bound",
                            format!(
                                "`{v}` is not a number, but <{}> is of type {}",
                                p.name,
                                serde_name(&p.ty)
                            ),
                            v.to_string(),
                            "write integers as numbers; hex integers as \"0x1F\" or \"1F\"".into(),
                        );
                    }
                }
                if let (Some(a), Some(b)) = (min, max) {
                    if a > b {
                        self.report_empty(fi, &path.key("range"), "range", &p.name, &r.min, &r.max);
                    }
                }
            }
        }
        for (i, r) in p.ranges_when.iter().enumerate() {
            if let (Some(a), Some(b)) = (numeric(p.ty, &r.min), numeric(p.ty, &r.max)) {
                if a > b {
                    let at = path.key("ranges_when").index(i);
                    self.report_empty(fi, &at, "conditional range", &p.name, &r.min, &r.max);
                }
            } else {
                self.report(
                    fi,
                    &path.key("ranges_when").index(i),
                    false,
                    "bad-bound",
                    "conditional range bounds must be numbers".into(),
                    String::new(),
                    "write integers as numbers".into(),
                );
            }
        }
        for (i, r) in p.reserved.iter().enumerate() {
            match (numeric(p.ty, &r.min), numeric(p.ty, &r.max)) {
                (Some(a), Some(b)) if a <= b => {}
                _ => self.report(
                    fi,
                    &path.key("reserved").index(i),
                    false,
                    "empty-range",
                    format!(
                        "reserved range {}..{} of <{}> is not a valid range",
                        r.min, r.max, p.name
                    ),
                    format!("{}..{}", r.min, r.max),
                    "write min <= max as numbers".into(),
                ),
            }
        }
        if let Some(l) = &p.length {
            if numeric_type {
                self.report(
                    fi,
                    &path.key("length"),
                    true,
                    "length-on-number",
                    format!("<{}> is a number but has a byte `length`", p.name),
                    String::new(),
                    "value limits of numbers go in `range`".into(),
                );
            }
            if l.min > l.max {
                self.report_empty(fi, &path.key("length"), "length", &p.name, &l.min, &l.max);
            }
        }
        if p.lengths.contains(&0) {
            self.report(
                fi,
                &path.key("lengths"),
                false,
                "bad-length",
                "an allowed length of 0".into(),
                "0".into(),
                "list positive byte lengths".into(),
            );
        }
        match (p.ty, p.table) {
            (ParamType::ResultCode, None) => self.report(
                fi,
                &path.key("type"),
                false,
                "missing-table",
                format!("result code <{}> does not say which table", p.name),
                "result_code".into(),
                "add `table: tcpip` or `table: http`".into(),
            ),
            (t, Some(_)) if t != ParamType::ResultCode => self.report(
                fi,
                &path.key("table"),
                true,
                "stray-table",
                "`table` only goes with `type: result_code`".into(),
                String::new(),
                "remove `table` or change the type".into(),
            ),
            _ => {}
        }
        if p.prefix.is_some() && p.ty != ParamType::HexInteger {
            self.report(
                fi,
                &path.key("prefix"),
                true,
                "stray-prefix",
                "`prefix` only goes with `type: hex_integer`".into(),
                String::new(),
                "remove `prefix`".into(),
            );
        }
        let mut seen: Vec<&Scalar> = Vec::new();
        for (i, v) in p.values.iter().enumerate() {
            let vpath = path.key("values").index(i).key("value");
            if seen.iter().any(|s| same_value(p.ty, s, &v.value)) {
                self.report(fi, &vpath, false, "duplicate-value", format!("enumeration value `{}` of <{}> appears twice", v.value, p.name), v.value.to_string(), "each wire value appears once; check for the \"1. 2.\" renumbering trap (spec/errata.yaml)".into());
            }
            seen.push(&v.value);
            if numeric_type && numeric(p.ty, &v.value).is_none() {
                self.report(
                    fi,
                    &vpath,
                    false,
                    "bad-value-type",
                    format!(
                        "`{}` is not a number, but <{}> is of type {}",
                        v.value,
                        p.name,
                        serde_name(&p.ty)
                    ),
                    v.value.to_string(),
                    "write the wire value as a number".into(),
                );
            } else {
                self.check_in_range_and_length(fi, &vpath, p, &v.value, "enumeration value");
            }
        }
        if let Some(d) = &p.default {
            self.check_value_fits(fi, &path.key("default"), p, d);
        }
        for (i, e) in p.examples.iter().enumerate() {
            self.check_value_fits(fi, &path.key("examples").index(i), p, e);
        }
        if let Some(s) = &p.sample {
            self.check_value_fits(fi, &path.key("sample"), p, s);
        }
    }

    /// A default, example or condition value must be a possible value of the parameter.
    fn check_value_fits(&mut self, fi: usize, path: &NodePath, p: &Param, v: &Scalar) {
        if p.ty.is_numeric() && numeric(p.ty, v).is_none() {
            self.report(
                fi,
                path,
                false,
                "bad-value-type",
                format!(
                    "`{v}` is not a number, but <{}> is of type {}",
                    p.name,
                    serde_name(&p.ty)
                ),
                v.to_string(),
                "write a number".into(),
            );
            return;
        }
        if !p.values.is_empty()
            && p.open_values.is_none()
            && !p.values.iter().any(|x| same_value(p.ty, &x.value, v))
        {
            let listed: Vec<String> = p.values.iter().map(|x| x.value.to_string()).collect();
            self.report(
                fi,
                path,
                false,
                "not-a-value",
                format!("`{v}` is not one of the values of <{}>", p.name),
                v.to_string(),
                format!("the enumeration allows: {}", listed.join(", ")),
            );
            return;
        }
        self.check_in_range_and_length(fi, path, p, v, "value");
    }

    fn check_in_range_and_length(
        &mut self,
        fi: usize,
        path: &NodePath,
        p: &Param,
        v: &Scalar,
        what: &str,
    ) {
        if let (Some(r), Some(x)) = (&p.range, numeric(p.ty, v)) {
            let widest_min = p
                .ranges_when
                .iter()
                .filter_map(|c| numeric(p.ty, &c.min))
                .chain(numeric(p.ty, &r.min))
                .min();
            let widest_max = p
                .ranges_when
                .iter()
                .filter_map(|c| numeric(p.ty, &c.max))
                .chain(numeric(p.ty, &r.max))
                .max();
            if let (Some(lo), Some(hi)) = (widest_min, widest_max) {
                if x < lo || x > hi {
                    self.report(fi, path, false, "out-of-range", format!("{what} `{v}` lies outside the range {}..{} of <{}>", r.min, r.max, p.name), v.to_string(), "correct the value or the range; if the manual itself disagrees, record an erratum".into());
                }
            }
        }
        if !p.ty.is_numeric() {
            let n = byte_len(v) as u64;
            if let Some(l) = &p.length {
                if n < l.min || n > l.max {
                    self.report(
                        fi,
                        path,
                        false,
                        "bad-length",
                        format!(
                            "{what} `{v}` is {n} bytes, outside the length {}..{} of <{}>",
                            l.min, l.max, p.name
                        ),
                        v.to_string(),
                        "correct the value or the length limits".into(),
                    );
                }
            }
            if !p.lengths.is_empty() && !p.lengths.contains(&n) {
                self.report(
                    fi,
                    path,
                    false,
                    "bad-length",
                    format!(
                        "{what} `{v}` is {n} bytes; <{}> allows only {:?}",
                        p.name, p.lengths
                    ),
                    v.to_string(),
                    "correct the value or `lengths`".into(),
                );
            }
        }
    }

    // ----- URCs -------------------------------------------------------------

    fn check_urc(&mut self, fi: usize, path: &NodePath, urc: &Urc) {
        let valid_name = urc.name.starts_with('+')
            && urc.name.len() > 1
            && urc.name[1..].chars().all(|c| c.is_ascii_alphanumeric());
        if !valid_name {
            self.report(
                fi,
                &path.key("name"),
                false,
                "bad-name",
                format!("`{}` is not a URC prefix", urc.name),
                urc.name.clone(),
                "URC names are the prefix before the colon: `+QIURC`".into(),
            );
        }
        self.check_errata_refs(fi, path, &urc.errata);
        self.check_params(fi, path, &urc.params);
        self.check_urc_types(fi, path, urc);
        for (i, c) in urc.completes.iter().enumerate() {
            self.check_command_exists(fi, &path.key("completes").index(i), c);
        }
        if let Some(series) = &urc.series {
            let spath = path.key("series");
            if urc.completes.is_empty() {
                self.report(
                    fi,
                    &spath,
                    true,
                    "series-without-command",
                    "a URC in a series completes a command, but `completes` is empty".into(),
                    String::new(),
                    "name the command in `completes`".into(),
                );
            }
            let counted = series.count.as_deref().map(|n| {
                resolve(&urc.params, n)
                    .is_some_and(|r| urc.params[r.param].ty == ParamType::Integer)
            });
            match (series.role, counted) {
                (crate::model::SeriesRole::Head, Some(true)) => {}
                (crate::model::SeriesRole::Head, _) => self.report(
                    fi,
                    &spath.key("count"),
                    false,
                    "bad-series-count",
                    "the head of a series needs `count`: an integer parameter of the URC".into(),
                    series.count.clone().unwrap_or_default(),
                    "name the parameter that says how many lines follow (IP_count)".into(),
                ),
                (_, Some(_)) => self.report(
                    fi,
                    &spath.key("count"),
                    true,
                    "stray-series-count",
                    "only the head of a series has `count`".into(),
                    String::new(),
                    "remove `count`".into(),
                ),
                _ => {}
            }
            if let Some(c) = &series.part_when {
                let known = c
                    .param
                    .as_deref()
                    .is_some_and(|p| resolve(&urc.params, p).is_some());
                if !known || (c.equals.is_none() && c.one_of.is_none()) {
                    self.report(
                        fi,
                        &spath.key("part_when"),
                        false,
                        "bad-part-when",
                        "`part_when` tests one of the URC's own parameters with `equals` or `in`"
                            .into(),
                        String::new(),
                        "write {param: result, equals: 1}".into(),
                    );
                }
            }
        }
        let mut usage = Usage::default();
        match template::parse_line(&urc.syntax) {
            Err(e) => {
                let shown: String = urc.syntax.chars().skip(e.offset).take(12).collect();
                self.report(
                    fi,
                    &path.key("syntax"),
                    false,
                    "bad-template",
                    format!("cannot parse the URC syntax: {}", e.message),
                    shown,
                    "write the URC as in the manual: +PREFIX: \"literal\",<a>[,<b>]".into(),
                );
            }
            Ok(line) => {
                if line.prefix.as_deref() != Some(urc.name.as_str()) {
                    self.report(
                        fi,
                        &path.key("syntax"),
                        false,
                        "syntax-name",
                        format!("the syntax does not start with `{}:`", urc.name),
                        urc.syntax.clone(),
                        "a URC's syntax starts with its name and a colon".into(),
                    );
                }
                let first_literal = match line.args.first() {
                    Some(Node::Field(pieces)) => match pieces.as_slice() {
                        [Piece::Literal { text, quoted: true }] => Some(text.clone()),
                        _ => None,
                    },
                    _ => None,
                };
                match (&urc.discriminator, &first_literal) {
                    (Some(d), Some(l)) if d != l => self.report(
                        fi,
                        &path.key("discriminator"),
                        false,
                        "discriminator-mismatch",
                        format!("`discriminator: {d}` but the syntax's first literal is \"{l}\""),
                        d.clone(),
                        "the discriminator is the quoted literal after the colon".into(),
                    ),
                    (Some(d), None) => self.report(
                        fi,
                        &path.key("discriminator"),
                        false,
                        "discriminator-mismatch",
                        format!("`discriminator: {d}` but the syntax has no quoted first literal"),
                        d.clone(),
                        format!("write the syntax as {}: \"{d}\",…", urc.name),
                    ),
                    (None, Some(l)) => self.report(
                        fi,
                        &path.key("syntax"),
                        false,
                        "missing-discriminator",
                        format!(
                            "the URC starts with the literal \"{l}\" but has no `discriminator`"
                        ),
                        format!("\"{l}\""),
                        format!("add `discriminator: {l}`"),
                    ),
                    _ => {}
                }
                self.use_template_names(
                    fi,
                    &path.key("syntax"),
                    &urc.params,
                    &template::names(&line.args),
                    &mut usage,
                );
            }
        }
        if let Some(d) = &urc.data {
            self.check_data_block(fi, &path.key("data"), &urc.params, d, &mut usage);
        }
        if urc.data.is_some() {
            mark_data_params(&urc.params, &mut usage);
        }
        self.check_usage(
            fi,
            path,
            &urc.params,
            &usage,
            &format!("URC {}", urc_label(urc)),
        );
    }

    // ----- scenarios --------------------------------------------------------

    fn check_scenario(&mut self, fi: usize, path: &NodePath, s: &Scenario) {
        self.check_errata_refs(fi, path, &s.errata);
        let mut used_placeholders = BTreeSet::new();
        if s.steps.is_empty() {
            self.report(
                fi,
                &path.key("steps"),
                true,
                "no-steps",
                format!("scenario `{}` has no steps", s.name),
                String::new(),
                "list the example's send / expect steps".into(),
            );
        }
        for (i, step) in s.steps.iter().enumerate() {
            let spath = path.key("steps").index(i);
            let actions = [
                ("send", &step.send),
                ("expect", &step.expect),
                ("expect_urc", &step.expect_urc),
                ("expect_prompt", &step.expect_prompt),
                ("send_data", &step.send_data),
                ("expect_data", &step.expect_data),
            ];
            let present: Vec<(&str, &String)> = actions
                .iter()
                .filter_map(|(k, v)| v.as_ref().map(|v| (*k, v)))
                .collect();
            if present.len() > 1 || (present.is_empty() && step.note.is_none()) {
                self.report(fi, &spath, false, "bad-step", "a step has exactly one action (send, expect, expect_urc, expect_prompt, send_data, expect_data), or only a note".into(), String::new(), "split it into several steps".into());
            }
            if step.end.is_some() && step.send_data.is_none() {
                self.report(
                    fi,
                    &spath.key("end"),
                    true,
                    "stray-end",
                    "`end` only goes with `send_data`".into(),
                    String::new(),
                    "remove `end`".into(),
                );
            }
            let note = step.note.as_ref().map(|n| ("note", n));
            for (k, v) in present.iter().copied().chain(note) {
                for name in placeholders_in(v) {
                    if !s.placeholders.contains_key(&name) {
                        self.report(
                            fi,
                            &spath.key(k),
                            false,
                            "unknown-placeholder",
                            format!("placeholder ${{{name}}} has no value in `placeholders`"),
                            format!("${{{name}}}"),
                            format!("add `{name}: <the manual's value>` under `placeholders`"),
                        );
                    }
                    used_placeholders.insert(name);
                }
            }
            if let Some(line) = &step.send {
                if self.command_for_line(line).is_none()
                    && !self.catalog.files.iter().any(|f| {
                        f.broken_names.iter().any(|(k, n)| {
                            k == "commands"
                                && line
                                    .to_ascii_uppercase()
                                    .starts_with(&n.to_ascii_uppercase())
                        })
                    })
                {
                    self.report(fi, &spath.key("send"), false, "unknown-command", format!("`{line}` sends no command of the catalogue"), line.clone(), "scenarios may only send commands defined in spec/ (check spelling and case)".into());
                }
            }
        }
        for name in s.placeholders.keys() {
            if !used_placeholders.contains(name) {
                self.report(
                    fi,
                    &path.key("placeholders").key(name),
                    true,
                    "unused-placeholder",
                    format!("placeholder `{name}` is never used in the steps"),
                    name.clone(),
                    "remove it, or use ${name} in a step".into(),
                );
            }
        }
    }

    /// The catalogue command a command line invokes (longest name that prefixes it).
    fn command_for_line(&self, line: &str) -> Option<&Command> {
        let upper = line.trim().to_ascii_uppercase();
        self.catalog
            .commands()
            .map(|c| c.command)
            .filter(|c| {
                let name = c.name.to_ascii_uppercase();
                upper.strip_prefix(&name).is_some_and(|rest| {
                    rest.is_empty() || rest.starts_with('=') || rest.starts_with('?')
                })
            })
            .max_by_key(|c| c.name.len())
    }

    // ----- errata -----------------------------------------------------------

    fn check_erratum(&mut self, fi: usize, path: &NodePath, e: &crate::model::Erratum) {
        let targets = usize::from(e.command.is_some())
            + usize::from(e.urc.is_some())
            + usize::from(e.scenario.is_some());
        if targets != 1 {
            self.report(
                fi,
                &path.key("id"),
                false,
                "erratum-target",
                format!(
                    "erratum `{}` must name exactly one of `command`, `urc`, `scenario`",
                    e.id
                ),
                e.id.clone(),
                "say which entry the erratum concerns".into(),
            );
        }
        if let Some(c) = &e.command {
            match self.catalog.command(c) {
                None => self.check_command_exists(fi, &path.key("command"), c),
                Some(cr) => {
                    if let Some(p) = &e.param {
                        if resolve(&cr.command.params, p).is_none() {
                            let names: Vec<&str> =
                                cr.command.params.iter().map(|p| p.name.as_str()).collect();
                            let hint = match did_you_mean(p, names.iter().copied()) {
                                Some(s) => format!("did you mean `{s}`?"),
                                None => format!("{c} has: {}", names.join(", ")),
                            };
                            self.report(
                                fi,
                                &path.key("param"),
                                false,
                                "unknown-param",
                                format!("`{p}` is not a parameter of {c}"),
                                p.clone(),
                                hint,
                            );
                        }
                    }
                }
            }
        }
        if let Some(u) = &e.urc {
            let urcs: Vec<&Urc> = self
                .catalog
                .urcs()
                .filter(|(_, x)| x.value.name == *u)
                .map(|(_, x)| &x.value)
                .collect();
            if urcs.is_empty() && self.catalog.is_broken("urcs", u) {
                // Reported where the URC itself is broken.
            } else if urcs.is_empty() {
                self.report(
                    fi,
                    &path.key("urc"),
                    false,
                    "unknown-urc",
                    format!("URC `{u}` is not defined"),
                    u.clone(),
                    "name a URC of spec/urcs.yaml by its prefix".into(),
                );
            } else if let Some(p) = &e.param {
                if !urcs.iter().any(|x| resolve(&x.params, p).is_some()) {
                    self.report(
                        fi,
                        &path.key("param"),
                        false,
                        "unknown-param",
                        format!("`{p}` is not a parameter of URC {u}"),
                        p.clone(),
                        "name one of the URC's parameters".into(),
                    );
                }
            }
        }
        if let Some(s) = &e.scenario {
            if !self.catalog.scenarios().any(|(_, x)| x.value.name == *s)
                && !self.catalog.is_broken("scenarios", s)
            {
                self.report(
                    fi,
                    &path.key("scenario"),
                    false,
                    "unknown-scenario",
                    format!("scenario `{s}` is not defined"),
                    s.clone(),
                    "name a scenario of spec/ (scenarios.yaml, provocations.yaml)".into(),
                );
            }
        }
    }
}

/// Whether any form of the command moves raw bytes (data phase or data block).
fn command_has_data(cmd: &Command) -> bool {
    cmd.forms.iter().any(|f| {
        f.data_phase.is_some()
            || f.responses.iter().any(|r| {
                r.lines.iter().any(|l| l.data().is_some())
                    || r.after_result.as_ref().is_some_and(|a| {
                        a.data.is_some() || a.lines.iter().any(|l| l.data().is_some())
                    })
            })
    })
}

/// The bytes of a data phase or data block are the entry's `data`-typed parameters.
fn mark_data_params(params: &[Param], usage: &mut Usage) {
    for (i, p) in params.iter().enumerate() {
        if p.ty == ParamType::Data {
            usage.used.insert(i);
        }
    }
}

/// The name serde uses for a unit enum value (`hex_integer`, `tcpip`).
fn serde_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// `${name}` placeholders in a step's text.
pub fn placeholders_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                out.push(after[..end].to_string());
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// `+QIURC: "recv" (buffer)` — how diagnostics name a URC variant.
pub fn urc_label(u: &Urc) -> String {
    let mut s = u.name.clone();
    if let Some(d) = &u.discriminator {
        s.push_str(&format!(": \"{d}\""));
    }
    if let Some(v) = &u.variant {
        s.push_str(&format!(" ({v})"));
    }
    s
}

fn result_text(r: FinalResult) -> &'static str {
    match r {
        FinalResult::Ok => "OK",
        FinalResult::Error => "ERROR",
        FinalResult::CmeError => "+CME ERROR: <err>",
        FinalResult::SendOk => "SEND OK",
        FinalResult::SendFail => "SEND FAIL",
        FinalResult::Connect => "CONNECT",
        FinalResult::ConnectN => "CONNECT <n>",
        FinalResult::NoCarrier => "NO CARRIER",
        FinalResult::None => "(none)",
    }
}

/// Narrows `loc` to where `needle` occurs on its line at or after its column.
fn narrow(text: &str, loc: &mut Location, needle: &str) {
    if needle.is_empty() {
        return;
    }
    let Some(line) = text.lines().nth(loc.line.saturating_sub(1)) else {
        return;
    };
    let chars: Vec<char> = line.chars().collect();
    let needle_chars: Vec<char> = needle.chars().collect();
    let start = loc.col.saturating_sub(1);
    if needle_chars.len() > chars.len() {
        return;
    }
    for i in start..=chars.len() - needle_chars.len() {
        if chars[i..i + needle_chars.len()] == needle_chars[..] {
            loc.col = i + 1;
            loc.len = needle_chars.len();
            return;
        }
    }
}

// Keep FormKind in scope for readers of the kind checks above.
#[allow(dead_code)]
fn _kinds(_: FormKind) {}
