//! Checks of the names the generator takes from the catalogue: the `id` that
//! every enumeration value and result code must have, and the enumeration types of a
//! module (`type_name`). A generated name is the CamelCase form of an id, so an
//! id must be a snake_case identifier whose CamelCase form is no keyword and
//! differs from its siblings' by more than case.

use std::collections::HashMap;

use crate::emit::bindings::shared::same_values;
use crate::emit::names::{camel, is_keyword, is_snake_id, PRELUDE};
use crate::emit::plan::{
    form_type_names, line_names, line_templates, line_type_name, urc_type_names,
};
use crate::locate::NodePath;
use crate::model::{Command, Param, ResultTable, Urc};

use super::{serde_name, Validator};

/// The catch-all variant of open enumerations and of result-code enums.
const OTHER: &str = "Other";

/// One named entry of an enumeration or table.
struct Named<'a> {
    /// The entry's node (`values[2]`, `codes[5]`).
    path: NodePath,
    /// Its id, when given.
    id: Option<&'a str>,
    /// The key that holds the wire value (`value`, `code`), where a missing id is reported.
    wire_key: &'static str,
    /// The wire value or code, for messages.
    wire: String,
}

/// What takes a type name of a module: its description for messages, and
/// for an enumeration its exact name and the parameter that defines it (a
/// parameter with the same name and values shares that type).
type Holder<'p> = (String, Option<(String, &'p Param)>);

impl Validator<'_, '_> {
    /// The ids of a parameter's enumeration values (`path` is the parameter's node).
    pub(super) fn check_value_ids(&mut self, fi: usize, path: &NodePath, p: &Param) {
        let entries = p
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| Named {
                path: path.key("values").index(i),
                id: v.id.as_deref(),
                wire_key: "value",
                wire: v.value.to_string(),
            })
            .collect();
        let owner = format!("<{}>", p.name);
        self.check_ids(fi, entries, &owner, p.open_values.is_some());
    }

    /// The ids of a result-code table's rows (`path` is the table's node).
    pub(super) fn check_code_ids(&mut self, fi: usize, path: &NodePath, t: &ResultTable) {
        let entries = t
            .codes
            .iter()
            .enumerate()
            .map(|(i, c)| Named {
                path: path.key("codes").index(i),
                id: c.id.as_deref(),
                wire_key: "code",
                wire: c.code.to_string(),
            })
            .collect();
        let owner = format!("result table `{}`", serde_name(&t.table));
        // Every result-code enum has a catch-all for unlisted codes.
        self.check_ids(fi, entries, &owner, true);
    }

    fn check_ids(&mut self, fi: usize, entries: Vec<Named<'_>>, owner: &str, open: bool) {
        // CamelCase name (lower-cased) -> (id, wire) of the first entry that takes it.
        let mut taken: HashMap<String, (String, String)> = HashMap::new();
        for e in entries {
            let Some(id) = e.id else {
                self.report(
                    fi,
                    &e.path.key(e.wire_key),
                    true,
                    "missing-id",
                    format!("{} {} of {owner} has no `id`", e.wire_key, e.wire),
                    String::new(),
                    format!("add `id: <snake_case name of what it means>` after the {} (see spec/README.md, \"Names\")", e.wire_key),
                );
                continue;
            };
            let at = e.path.key("id");
            if !self.check_identifier(fi, &at, id, "id", owner) {
                continue;
            }
            let name = camel(id);
            if open && name == OTHER {
                self.report(
                    fi,
                    &at,
                    false,
                    "reserved-id",
                    format!("id `{id}` of {owner} would be the variant `{OTHER}`, which holds the values the catalogue does not list"),
                    id.to_string(),
                    "name the value by its meaning".into(),
                );
                continue;
            }
            match taken.get(&name.to_ascii_lowercase()) {
                Some((first, first_wire)) if first == id => self.report(
                    fi,
                    &at,
                    false,
                    "duplicate-id",
                    format!("id `{id}` of {owner} is used twice (value {first_wire} and {})", e.wire),
                    id.to_string(),
                    "each value of an enumeration needs an id of its own; name what sets this one apart".into(),
                ),
                Some((first, first_wire)) => self.report(
                    fi,
                    &at,
                    false,
                    "id-clash",
                    format!(
                        "id `{id}` of {owner} gives the name `{name}`, which differs only by case or underscores from `{}` of `{first}` (value {first_wire})",
                        camel(first)
                    ),
                    id.to_string(),
                    "generated names of one type must differ by more than case; choose another word".into(),
                ),
                None => {
                    taken.insert(name.to_ascii_lowercase(), (id.to_string(), e.wire));
                }
            }
        }
    }

    /// Reports an `id` or `type_name` that is not a snake_case identifier whose
    /// CamelCase form is no keyword; returns whether it is one.
    fn check_identifier(
        &mut self,
        fi: usize,
        at: &NodePath,
        id: &str,
        key: &str,
        owner: &str,
    ) -> bool {
        let problem = if !is_snake_id(id) {
            Some((
                "is not a snake_case identifier",
                "write 1 to 3 lower-case ASCII words joined by `_` (`at_most_once`, `tls1_2`), starting with a letter",
            ))
        } else if is_keyword(id) || is_keyword(&camel(id)) {
            Some((
                "is a Rust keyword once converted",
                "choose a word that is not a Rust keyword in snake_case or CamelCase form",
            ))
        } else {
            None
        };
        if let Some((problem, hint)) = problem {
            self.report(
                fi,
                at,
                false,
                if key == "id" {
                    "bad-id"
                } else {
                    "bad-type-name"
                },
                format!("{key} `{id}` of {owner} {problem}"),
                id.to_string(),
                hint.into(),
            );
        }
        problem.is_none()
    }

    /// The enumeration types of a command's module: each `type_name` is an
    /// identifier and only goes with values; no enumeration type takes (or
    /// differs only by case from) a form or line type, a prelude name, or
    /// another enumeration's name.
    pub(super) fn check_command_types(&mut self, fi: usize, path: &NodePath, cmd: &Command) {
        let mut others: Vec<String> = Vec::new();
        for (fi_, (form, name)) in cmd.forms.iter().zip(form_type_names(cmd)).enumerate() {
            let templates = line_templates(form);
            if templates.len() > 1 {
                match line_names(form) {
                    Some(lines) => others
                        .extend(lines.iter().map(|l| line_type_name(&name, Some(l)))),
                    None => self.report(
                        fi,
                        &path.key("forms").index(fi_).key("responses"),
                        false,
                        "unnamed-lines",
                        format!(
                            "the {} information-line templates of `{}` get no names: they start with no distinct quoted key, and not each is printed by one response with its own `case`",
                            templates.len(),
                            form.syntax
                        ),
                        String::new(),
                        "give each response that prints a line a distinct `case` label".into(),
                    ),
                }
                // The enum of a form's several line types.
                others.push(format!("{name}Line"));
            } else {
                others.push(line_type_name(&name, None));
            }
            others.push(name);
        }
        self.check_enum_types(fi, path, &cmd.params, &others, &format!("`{}`", cmd.name));
    }

    /// As [`Self::check_command_types`], for the module of one URC variant.
    pub(super) fn check_urc_types(&mut self, fi: usize, path: &NodePath, urc: &Urc) {
        let (type_name, _) = urc_type_names(urc);
        self.check_enum_types(
            fi,
            path,
            &urc.params,
            &[type_name],
            &format!("`{}`", urc.name),
        );
    }

    fn check_enum_types(
        &mut self,
        fi: usize,
        path: &NodePath,
        params: &[Param],
        others: &[String],
        module: &str,
    ) {
        // Lower-cased type name -> what takes it, and the enumeration that
        // defines it (a parameter of the same module may share that type).
        let mut taken: HashMap<String, Holder<'_>> = others
            .iter()
            .map(|n| {
                (
                    n.to_ascii_lowercase(),
                    (format!("the form or line type `{n}`"), None),
                )
            })
            .collect();
        for n in PRELUDE {
            taken.insert(
                n.to_ascii_lowercase(),
                (format!("`{n}` of the prelude"), None),
            );
        }
        for (i, p) in params.iter().enumerate() {
            let ppath = path.key("params").index(i);
            let owner = format!("<{}>", p.name);
            if let Some(t) = &p.type_name {
                let at = ppath.key("type_name");
                if p.values.is_empty() {
                    self.report(
                        fi,
                        &at,
                        true,
                        "stray-type-name",
                        format!(
                            "{owner} has a `type_name` but no `values`, so no enumeration type"
                        ),
                        String::new(),
                        "remove `type_name`".into(),
                    );
                    continue;
                }
                if !self.check_identifier(fi, &at, t, "type_name", &owner) {
                    continue;
                }
            }
            if p.values.is_empty() {
                continue;
            }
            let name = camel(p.type_name.as_deref().unwrap_or(&p.name));
            let key = name.to_ascii_lowercase();
            if let Some((holder, defined)) = taken.get(&key) {
                // The same name and the same values: one shared type (the
                // manual's repeated `<store_status0>` … `<store_status4>`).
                if defined
                    .as_ref()
                    .is_some_and(|(n, q)| *n == name && same_values(q, p))
                {
                    continue;
                }
                let (at, hint) = match &p.type_name {
                    Some(_) => (ppath.key("type_name"), "choose another `type_name:`, one that says what the values are"),
                    None => (ppath.key("name"), "give the parameter a `type_name:` that says what its values are (`recv_data_format`, `security_level`)"),
                };
                let offending = p.type_name.clone().unwrap_or_else(|| p.name.clone());
                self.report(
                    fi,
                    &at,
                    false,
                    "type-name-clash",
                    format!(
                        "the enumeration type of {owner} would be `{name}`, which clashes with {holder} in the module of {module}"
                    ),
                    offending,
                    hint.into(),
                );
                continue;
            }
            taken.insert(
                key,
                (format!("the enumeration type of {owner}"), Some((name, p))),
            );
        }
    }
}
