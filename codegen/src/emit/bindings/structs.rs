//! A struct for one line template (command form, response line or URC), with
//! the code that writes it and reads it. Optional groups become `Option`s,
//! repeated groups `Vec`s and alternatives enums, nested exactly as the
//! template nests them.

use std::collections::BTreeMap;

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use crate::emit::bindings::docs::{doc, param_doc};
use crate::emit::bindings::types::{self, Dir, Kind};
use crate::emit::names::{camel, snake};
use crate::emit::shape::{Item, Occ, PieceShape, Shape};
use crate::model::Param;

/// What the struct generator needs to know about the scope.
pub struct Scope<'a> {
    /// The parameters of the command or URC.
    pub params: &'a [Param],
    /// Enumeration type names by parameter index.
    pub enums: &'a BTreeMap<usize, Ident>,
    /// Which side produces the values.
    pub dir: Dir,
    /// Whether rules without optional groups or repetition are read by
    /// their straight-line walk (`decode::walk_<rule>`; command forms and
    /// response lines) rather than by the table's interpreter (URCs).
    pub walks: bool,
}

impl Scope<'_> {
    fn kind(&self, occ: &Occ, range_list: bool) -> Kind {
        if range_list {
            return Kind::Raw;
        }
        let p = &self.params[occ.param];
        types::kind(p, self.enums.get(&occ.param))
    }

    fn quoted(&self, occ: &Occ) -> bool {
        self.params[occ.param].is_quoted() || occ.quoted_in_template
    }

    fn name(&self, occ: &Occ) -> &str {
        &self.params[occ.param].name
    }
}

/// A generated struct's field.
enum Field {
    /// One value (required, or `Option` when `optional`).
    Value {
        ident: Ident,
        occ: Occ,
        range_list: bool,
        optional: bool,
    },
    /// `<a>/<b>`.
    Alt {
        ident: Ident,
        ty: Ident,
        a: (Ident, Occ),
        b: (Ident, Occ),
        optional: bool,
    },
    /// An optional group of several items.
    Group {
        ident: Ident,
        ty: Ident,
        items: Vec<Item>,
        group: usize,
    },
    /// A literal-only optional group (placeholders of a test response): present or not.
    Flag { ident: Ident, group: usize },
    /// A repeated group.
    Repeat {
        ident: Ident,
        ty: Option<Ident>,
        items: Vec<Item>,
    },
}

impl Field {
    /// For a single value (not a range list) of parameter `param`: its
    /// field, its occurrence, and whether it is optional.
    fn value_of(&self, param: usize) -> Option<(&Ident, &Occ, bool)> {
        match self {
            Field::Value {
                ident,
                occ,
                range_list: false,
                optional,
            } if occ.param == param => Some((ident, occ, *optional)),
            _ => None,
        }
    }
}

fn first_name(scope: &Scope<'_>, items: &[Item]) -> String {
    items
        .iter()
        .flat_map(Item::occurrences)
        .next()
        .map(|o| scope.name(o).to_string())
        .unwrap_or_else(|| "group".into())
}

/// The single value of a group that holds exactly one parameter and nothing else.
fn single_value(items: &[Item]) -> Option<(&Occ, bool)> {
    match items {
        [Item::Field(pieces)] => match pieces.as_slice() {
            [PieceShape::Param(o)] => Some((o, false)),
            [PieceShape::RangeList(o)] => Some((o, true)),
            _ => None,
        },
        _ => None,
    }
}

/// The items of `all` other than `item` (compared by address).
fn items_outside<'a>(all: &'a [Item], item: &'a Item) -> impl Iterator<Item = &'a Item> {
    all.iter().filter(move |i| !std::ptr::eq(*i, item))
}

fn fields(scope: &Scope<'_>, owner: &str, items: &[Item], optional: bool) -> Vec<Field> {
    let all = items;
    let mut out = Vec::new();
    for item in items {
        match item {
            Item::Field(pieces) => {
                for p in pieces {
                    if let PieceShape::Param(o) | PieceShape::RangeList(o) = p {
                        out.push(Field::Value {
                            ident: format_ident!("{}", snake(scope.name(o))),
                            occ: o.clone(),
                            range_list: matches!(p, PieceShape::RangeList(_)),
                            optional,
                        });
                    }
                }
            }
            Item::Alt(a, b) => {
                let (na, nb) = (scope.name(a), scope.name(b));
                out.push(Field::Alt {
                    ident: format_ident!("{}_or_{}", snake(na), snake(nb)),
                    ty: format_ident!("{owner}{}Or{}", camel(na), camel(nb)),
                    a: (format_ident!("{}", camel(na)), a.clone()),
                    b: (format_ident!("{}", camel(nb)), b.clone()),
                    optional,
                });
            }
            Item::Optional {
                items,
                repeat: false,
                ..
            } => match single_value(items) {
                Some((o, range_list)) => out.push(Field::Value {
                    ident: format_ident!("{}", snake(scope.name(o))),
                    occ: o.clone(),
                    range_list,
                    optional: true,
                }),
                None if items.iter().all(|i| i.occurrences().is_empty()) => {
                    // Placeholders printed literally (test responses): only presence.
                    let Item::Optional { group, .. } = item else {
                        continue;
                    };
                    out.push(Field::Flag {
                        ident: format_ident!("with_group{}", group),
                        group: *group,
                    });
                }
                None => {
                    let first = first_name(scope, items);
                    out.push(Field::Group {
                        ident: format_ident!("{}_group", snake(&first)),
                        ty: format_ident!("{owner}{}Group", camel(&first)),
                        items: items.clone(),
                        group: match item {
                            Item::Optional { group, .. } => *group,
                            _ => 0,
                        },
                    });
                }
            },
            Item::Optional {
                items,
                repeat: true,
                ..
            } => {
                let first = first_name(scope, items);
                // `<topic1>,<qos1>[,<topic2>,<qos2>[,..]]`: the further
                // repetitions; `[,<value>[,..]]` alone: every value.
                let inside: Vec<usize> = items
                    .iter()
                    .flat_map(Item::occurrences)
                    .map(|o| o.param)
                    .collect();
                let elsewhere = items_outside(all, item)
                    .flat_map(Item::occurrences)
                    .any(|o| inside.contains(&o.param));
                let ident = if elsewhere {
                    format_ident!("more_{}", snake(&first))
                } else {
                    format_ident!("{}", snake(&first))
                };
                out.push(Field::Repeat {
                    ident,
                    ty: single_value(items)
                        .is_none()
                        .then(|| format_ident!("{owner}{}Item", camel(&first))),
                    items: items.clone(),
                });
            }
        }
    }
    // Field names must be unique within a struct.
    let mut seen: Vec<String> = Vec::new();
    for f in &mut out {
        let ident = match f {
            Field::Value { ident, .. }
            | Field::Alt { ident, .. }
            | Field::Group { ident, .. }
            | Field::Flag { ident, .. }
            | Field::Repeat { ident, .. } => ident,
        };
        let mut name = ident.to_string();
        while seen.contains(&name) {
            name.push('_');
        }
        *ident = format_ident!("{}", name);
        seen.push(name);
    }
    out
}

/// The struct definition and its helper types (groups, alternatives).
pub fn definitions(
    scope: &Scope<'_>,
    owner: &Ident,
    docs: &str,
    items: &[Item],
    extra: TokenStream,
) -> TokenStream {
    let owner_s = owner.to_string();
    let fs = fields(scope, &owner_s, items, false);
    let mut helpers = Vec::new();
    let mut field_defs = Vec::new();
    for f in &fs {
        match f {
            Field::Value {
                ident,
                occ,
                range_list,
                optional,
            } => {
                let ty =
                    types::rust_type(&scope.kind(occ, *range_list), scope.quoted(occ), scope.dir);
                let ty = if *optional { quote!(Option<#ty>) } else { ty };
                let d = doc(&if *range_list {
                    format!(
                        "The listed values of `<{}>`, as printed (`(list of supported …)`).",
                        scope.name(occ)
                    )
                } else {
                    param_doc(&scope.params[occ.param])
                });
                field_defs.push(quote!(#d pub #ident: #ty,));
            }
            Field::Alt {
                ident,
                ty,
                a,
                b,
                optional,
            } => {
                let (va, oa) = a;
                let (vb, ob) = b;
                let ta = types::rust_type(&scope.kind(oa, false), scope.quoted(oa), scope.dir);
                let tb = types::rust_type(&scope.kind(ob, false), scope.quoted(ob), scope.dir);
                let da = doc(&param_doc(&scope.params[oa.param]));
                let db = doc(&param_doc(&scope.params[ob.param]));
                let d = doc(&format!(
                    "`<{}>/<{}>`: either one, never both.",
                    scope.name(oa),
                    scope.name(ob)
                ));
                helpers.push(quote! {
                    #d
                    #[derive(Debug, Clone, PartialEq, Eq)]
                    #[cfg_attr(feature = "serde", derive(serde::Serialize))]
                    pub enum #ty { #da #va(#ta), #db #vb(#tb) }
                });
                let fty = if *optional {
                    quote!(Option<#ty>)
                } else {
                    quote!(#ty)
                };
                field_defs.push(quote!(#d pub #ident: #fty,));
            }
            Field::Group {
                ident, ty, items, ..
            } => {
                let d = format!(
                    "An optional group of `{owner_s}` (`[…]` in the syntax): all of it or none."
                );
                helpers.push(definitions(scope, ty, &d, items, quote!()));
                let fd = doc(&d);
                field_defs.push(quote!(#fd pub #ident: Option<#ty>,));
            }
            Field::Flag { ident, .. } => {
                let fd =
                    doc("Whether the optional part printed as placeholders (`[,<…>]`) is there.");
                field_defs.push(quote!(#fd pub #ident: bool,));
            }
            Field::Repeat { ident, ty, items } => {
                let d = if ident.to_string().starts_with("more_") {
                    "Further repetitions of the repeated group (`[,..]` in the syntax), in order."
                } else {
                    "Every value of the repeated group (`[,..]` in the syntax), in order: none, one or more."
                };
                let fd = doc(d);
                match (ty, single_value(items)) {
                    (None, Some((o, rl))) => {
                        let t = types::rust_type(&scope.kind(o, rl), scope.quoted(o), scope.dir);
                        field_defs.push(quote!(#fd pub #ident: alloc::vec::Vec<#t>,));
                    }
                    (Some(t), _) => {
                        helpers.push(definitions(
                            scope,
                            t,
                            "One repetition of a repeated group.",
                            items,
                            quote!(),
                        ));
                        field_defs.push(quote!(#fd pub #ident: alloc::vec::Vec<#t>,));
                    }
                    (None, None) => {}
                }
            }
        }
    }
    let d = doc(docs);
    quote! {
        #d
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize))]
        pub struct #owner { #(#field_defs)* #extra }
        #(#helpers)*
    }
}

/// Statements that write the fields of `base` (an expression of the struct type) into `w`.
pub fn render(scope: &Scope<'_>, owner: &str, items: &[Item], base: &TokenStream) -> TokenStream {
    let fs = fields(scope, owner, items, false);
    let mut field_iter = fs.iter();
    let mut out = Vec::new();
    for item in items {
        match item {
            Item::Field(pieces) => {
                let mut stmts = vec![quote!(w.field();)];
                for p in pieces {
                    match p {
                        PieceShape::Lit { text, quoted } => {
                            let t = if *quoted {
                                format!("\"{text}\"")
                            } else {
                                text.clone()
                            };
                            stmts.push(quote!(w.raw(#t);));
                        }
                        PieceShape::Param(o) | PieceShape::RangeList(o) => {
                            let Some(Field::Value {
                                ident, range_list, ..
                            }) = field_iter.next()
                            else {
                                continue;
                            };
                            let e = types::encode(
                                &scope.kind(o, *range_list),
                                scope.quoted(o) && !*range_list,
                                &quote!(v),
                            );
                            stmts.push(quote!({ let v = &#base.#ident; #e }));
                        }
                    }
                }
                out.push(quote!(#(#stmts)*));
            }
            Item::Alt(..) => {
                let Some(Field::Alt {
                    ident, ty, a, b, ..
                }) = field_iter.next()
                else {
                    continue;
                };
                let (va, oa) = a;
                let (vb, ob) = b;
                let ea = types::encode(&scope.kind(oa, false), scope.quoted(oa), &quote!(v));
                let eb = types::encode(&scope.kind(ob, false), scope.quoted(ob), &quote!(v));
                out.push(quote! {
                    w.field();
                    match &#base.#ident { #ty::#va(v) => { #ea } #ty::#vb(v) => { #eb } }
                });
            }
            Item::Optional {
                items: inner,
                repeat: false,
                ..
            } if inner.iter().all(|i| i.occurrences().is_empty()) => {
                let Some(Field::Flag { ident, .. }) = field_iter.next() else {
                    continue;
                };
                let body = render(scope, owner, inner, base);
                out.push(quote!(if #base.#ident { #body }));
            }
            Item::Optional {
                items: inner,
                repeat: false,
                ..
            } => match field_iter.next() {
                Some(Field::Value {
                    ident,
                    occ,
                    range_list,
                    ..
                }) => {
                    let e = types::encode(
                        &scope.kind(occ, *range_list),
                        scope.quoted(occ) && !*range_list,
                        &quote!(v),
                    );
                    out.push(quote!(if let Some(v) = &#base.#ident { w.field(); #e }));
                }
                Some(Field::Group { ident, ty, .. }) => {
                    let body = render(scope, &ty.to_string(), inner, &quote!(g));
                    out.push(quote!(if let Some(g) = &#base.#ident { #body }));
                }
                _ => {}
            },
            Item::Optional {
                items: inner,
                repeat: true,
                ..
            } => {
                let Some(Field::Repeat { ident, ty, .. }) = field_iter.next() else {
                    continue;
                };
                match (ty, single_value(inner)) {
                    (None, Some((o, rl))) => {
                        let e =
                            types::encode(&scope.kind(o, rl), scope.quoted(o) && !rl, &quote!(v));
                        out.push(quote!(for v in &#base.#ident { w.field(); #e }));
                    }
                    (Some(t), _) => {
                        let body = render(scope, &t.to_string(), inner, &quote!(g));
                        out.push(quote!(for g in &#base.#ident { #body }));
                    }
                    (None, None) => {}
                }
            }
        }
    }
    quote!(#(#out)*)
}

/// How the parse code reaches captured occurrences.
struct Captured {
    /// Occurrence index → position in the repeated group's item array, per repeated group.
    repeated: Vec<(usize, Vec<usize>)>,
    /// The occurrences whose integer value the straight-line walk read
    /// (`n[i]`, see `scan::Cursor::int`).
    scanned: Vec<usize>,
}

fn occ_var(occ: &Occ, item_var: Option<(&TokenStream, &[usize])>) -> TokenStream {
    match item_var {
        Some((it, positions)) => {
            let k = Literal::usize_unsuffixed(
                positions.iter().position(|p| *p == occ.index).unwrap_or(0),
            );
            quote!(#it[#k])
        }
        None => {
            let i = Literal::usize_unsuffixed(occ.index);
            quote!(v[#i])
        }
    }
}

/// An expression building the struct `owner` from captured values.
fn build(
    scope: &Scope<'_>,
    owner: &Ident,
    items: &[Item],
    cap: &Captured,
    item_var: Option<(&TokenStream, &[usize])>,
) -> TokenStream {
    let owner_s = owner.to_string();
    let fs = fields(scope, &owner_s, items, false);
    let mut inits = Vec::new();
    for f in &fs {
        match f {
            Field::Value {
                ident,
                occ,
                range_list,
                optional,
            } => {
                let var = occ_var(occ, item_var);
                let name = scope.name(occ).to_string();
                let kind = scope.kind(occ, *range_list);
                // An integer the walk read as it matched it: its value,
                // not its text parsed again.
                let scanned =
                    (!*optional && item_var.is_none() && cap.scanned.contains(&occ.index))
                        .then(|| {
                            let i = Literal::usize_unsuffixed(occ.index);
                            types::decode_scanned(&kind, &quote!(n[#i]), &name)
                        })
                        .flatten();
                if let Some(dec) = scanned {
                    inits.push(quote!(#ident: { crate::wire::req(#var, #name)?; #dec? },));
                    continue;
                }
                let dec = types::decode(&kind, scope.quoted(occ), scope.dir, &quote!(s), &name);
                inits.push(if *optional {
                    quote!(#ident: #var.map(|s| #dec).transpose()?,)
                } else {
                    quote!(#ident: { let s = crate::wire::req(#var, #name)?; #dec? },)
                });
            }
            Field::Alt {
                ident,
                ty,
                a,
                b,
                optional,
            } => {
                let (va, oa) = a;
                let (vb, ob) = b;
                let (xa, xb) = (occ_var(oa, item_var), occ_var(ob, item_var));
                let da = types::decode(
                    &scope.kind(oa, false),
                    scope.quoted(oa),
                    scope.dir,
                    &quote!(s),
                    scope.name(oa),
                );
                let db = types::decode(
                    &scope.kind(ob, false),
                    scope.quoted(ob),
                    scope.dir,
                    &quote!(s),
                    scope.name(ob),
                );
                let both = format!("{}/{}", scope.name(oa), scope.name(ob));
                let none = if *optional {
                    quote!(None)
                } else {
                    quote!(return Err(crate::wire::DecodeError::Missing { field: #both }))
                };
                let wrap = |e: TokenStream| if *optional { quote!(Some(#e)) } else { e };
                let sa = wrap(quote!(#ty::#va(#da?)));
                let sb = wrap(quote!(#ty::#vb(#db?)));
                inits.push(quote!(#ident: match (#xa, #xb) { (Some(s), _) => #sa, (None, Some(s)) => #sb, (None, None) => #none },));
            }
            Field::Flag { ident, group } => {
                let flag = format_ident!("flag{}", group);
                inits.push(quote!(#ident: #flag,));
            }
            Field::Group {
                ident,
                ty,
                items: inner,
                group,
            } => {
                let flag = format_ident!("flag{}", group);
                let body = build(scope, ty, inner, cap, item_var);
                inits.push(quote!(#ident: if #flag { Some(#body) } else { None },));
            }
            Field::Repeat {
                ident,
                ty,
                items: inner,
            } => {
                let first = inner
                    .iter()
                    .flat_map(Item::occurrences)
                    .next()
                    .map(|o| o.index)
                    .unwrap_or(0);
                let Some((gi, positions)) = cap
                    .repeated
                    .iter()
                    .enumerate()
                    .find(|(_, (f, _))| *f == first)
                    .map(|(i, (_, p))| (i, p))
                else {
                    continue;
                };
                let rv = format_ident!("rep{}", gi);
                let it = quote!(it);
                let elem = match (ty, single_value(inner)) {
                    (None, Some((o, rl))) => {
                        let name = scope.name(o).to_string();
                        let var = occ_var(o, Some((&it, positions)));
                        let dec = types::decode(
                            &scope.kind(o, rl),
                            scope.quoted(o),
                            scope.dir,
                            &quote!(s),
                            &name,
                        );
                        quote!({ let s = crate::wire::req(#var, #name)?; #dec })
                    }
                    (Some(t), _) => {
                        let body = build(scope, t, inner, cap, Some((&it, positions)));
                        quote!(Ok(#body))
                    }
                    (None, None) => {
                        quote!(Err(crate::wire::DecodeError::Missing { field: "group" }))
                    }
                };
                inits.push(quote! {
                    #ident: #rv.iter().map(|it| -> Result<_, crate::wire::DecodeError> { #elem }).collect::<Result<alloc::vec::Vec<_>, _>>()?,
                });
            }
        }
    }
    quote!(#owner { #(#inits)* })
}

/// Group numbers of the optional (non-repeated) groups: each has a presence flag.
fn flag_groups(items: &[Item], out: &mut Vec<usize>) {
    for item in items {
        if let Item::Optional {
            items,
            repeat: false,
            group,
        } = item
        {
            // A group of one value is an `Option` of that value: no flag needed.
            if single_value(items).is_none() {
                out.push(*group);
            }
            flag_groups(items, out);
        }
    }
}

fn repeated_groups(items: &[Item], out: &mut Vec<(usize, Vec<usize>)>) {
    for item in items {
        if let Item::Optional { items, repeat, .. } = item {
            if *repeat {
                let positions: Vec<usize> = items
                    .iter()
                    .flat_map(Item::occurrences)
                    .map(|o| o.index)
                    .collect();
                if let Some(first) = positions.first() {
                    out.push((*first, positions));
                }
            } else {
                repeated_groups(items, out);
            }
        }
    }
}

/// The capture id of parameter occurrence `index` (see `fcm242d::scan`).
fn occ_id(index: usize) -> TokenStream {
    let id = Literal::u16_unsuffixed(u16::try_from(index).unwrap_or(0x7fff));
    quote!(#id)
}

/// The pieces of a decoder for `shape`: declarations of `v` (and `rep<n>`,
/// `g`), an expression that runs the grammar rule over `line` (a `&str`) and
/// gathers the captured text into them, statements after it (`flag<n>`),
/// and the expression that builds the value from them.
struct Reader {
    /// Declarations before the run.
    decls: TokenStream,
    /// A `Result<(), DecodeError>` expression: matches and gathers.
    run: TokenStream,
    /// Statements after a successful run.
    gather: TokenStream,
    /// Builds `Owner { … }` (uses `?`).
    assemble: TokenStream,
}

fn reader(
    scope: &Scope<'_>,
    owner: &Ident,
    shape: &Shape,
    template: &str,
    extra_init: TokenStream,
) -> Reader {
    let rule = format_ident!("{}", shape.rule);
    let matcher = quote!(crate::generated::decode::#rule);
    let mut repeated = Vec::new();
    repeated_groups(&shape.items, &mut repeated);
    let in_repeat: Vec<usize> = repeated.iter().flat_map(|(_, p)| p.clone()).collect();
    let n = Literal::usize_unsuffixed(shape.occurrences);
    let mut arms = Vec::new();
    for item in &shape.items {
        for o in item.occurrences() {
            if let Some((gi, (first, positions))) = repeated
                .iter()
                .enumerate()
                .find(|(_, (_, p))| p.contains(&o.index))
            {
                let rv = format_ident!("rep{}", gi);
                let k = Literal::usize_unsuffixed(
                    positions.iter().position(|p| *p == o.index).unwrap_or(0),
                );
                let m = Literal::usize_unsuffixed(positions.len());
                let r = occ_id(o.index);
                if o.index == *first {
                    arms.push((r, quote!(let mut a: [Option<&str>; #m] = [None; #m]; a[#k] = Some(text); #rv.push(a);)));
                } else {
                    arms.push((
                        r,
                        quote!(if let Some(a) = #rv.last_mut() { a[#k] = Some(text); }),
                    ));
                }
            } else if !in_repeat.contains(&o.index) {
                let i = Literal::usize_unsuffixed(o.index);
                arms.push((occ_id(o.index), quote!(v[#i] = Some(text);)));
            }
        }
    }
    let mut flags = Vec::new();
    flag_groups(&shape.items, &mut flags);
    for g in &flags {
        let flag = format_ident!("flag{}", g);
        let r = Literal::u16_unsuffixed(0x8000 | u16::try_from(*g).unwrap_or(0x7fff));
        arms.push((quote!(#r), quote!(#flag = true;)));
    }
    let flag_decls: Vec<TokenStream> = flags
        .iter()
        .map(|g| {
            let flag = format_ident!("flag{}", g);
            quote!(let mut #flag = false;)
        })
        .collect();
    let rep_decls: Vec<TokenStream> = repeated
        .iter()
        .enumerate()
        .map(|(gi, (_, p))| {
            let rv = format_ident!("rep{}", gi);
            let m = Literal::usize_unsuffixed(p.len());
            quote!(let mut #rv: alloc::vec::Vec<[Option<&str>; #m]> = alloc::vec::Vec::new();)
        })
        .collect();
    // A rule without optional groups or repetition is walked by its
    // straight-line code; the others by the table's interpreter.
    let walk = scope
        .walks
        .then(|| crate::emit::decoder::walk_name(shape))
        .flatten()
        .map(|w| {
            let w = format_ident!("{}", w);
            quote!(crate::generated::decode::#w)
        });
    let scanned = if walk.is_some() {
        crate::emit::decoder::scanned_ints(shape, scope.params)
    } else {
        Vec::new()
    };
    let cap = Captured { repeated, scanned };
    let built = build(scope, owner, &shape.items, &cap, None);
    // `extra_init` adds fields that are not part of the line (a URC's data block).
    if shape.occurrences == 0 && flags.is_empty() {
        let run = match &walk {
            Some(w) => quote!(crate::scan::walk(line, #template, &mut [], #w)),
            None => quote!(crate::scan::fields(line, #template, #matcher, &mut [], &mut [])),
        };
        return Reader {
            decls: quote!(),
            run,
            gather: quote!(),
            assemble: quote!(#owner { #extra_init }),
        };
    }
    let assemble = match built_fields(&built) {
        Some(fields) => quote!(#owner { #fields #extra_init }),
        None => built,
    };
    let dispatch = if arms.len() == 1 {
        let (rule, body) = &arms[0];
        quote!(if rule == #rule { #body })
    } else {
        let rules = arms.iter().map(|(r, _)| r);
        let bodies = arms.iter().map(|(_, b)| b);
        quote!(match rule { #(#rules => { #bodies })* _ => {} })
    };
    let values = if shape.occurrences > 0 {
        quote!(let mut v: [Option<&str>; #n] = [None; #n];)
    } else {
        quote!()
    };
    let text_unused = if shape.occurrences == 0 {
        quote!(let _ = text;)
    } else {
        quote!()
    };
    if cap.repeated.is_empty() {
        // No repetition: the runtime's one shared `scan::fields` matches and
        // gathers, so no decoder carries its own loop or its own copy of the
        // captures (size: a firmware links a decoder per URC variant).
        let v = if shape.occurrences > 0 {
            quote!(&mut v)
        } else {
            quote!(&mut [])
        };
        let (g_decl, g) = match flags.iter().max() {
            Some(m) => {
                let len = Literal::usize_unsuffixed(m + 1);
                (quote!(let mut g = [false; #len];), quote!(&mut g))
            }
            None => (quote!(), quote!(&mut [])),
        };
        let flag_reads = flags.iter().map(|i| {
            let flag = format_ident!("flag{}", i);
            let k = Literal::usize_unsuffixed(*i);
            quote!(let #flag = g[#k];)
        });
        let run = match &walk {
            Some(w) if flags.is_empty() && !cap.scanned.is_empty() => {
                quote!(crate::scan::walk_numbers(line, #template, #v, &mut n, #w))
            }
            Some(w) if flags.is_empty() => quote!(crate::scan::walk(line, #template, #v, #w)),
            _ => quote!(crate::scan::fields(line, #template, #matcher, #v, #g)),
        };
        let numbers = if walk.is_some() && flags.is_empty() && !cap.scanned.is_empty() {
            quote!(let mut n: [Option<i64>; #n] = [None; #n];)
        } else {
            quote!()
        };
        return Reader {
            decls: quote!(#values #numbers #g_decl),
            run,
            gather: quote!(#(#flag_reads)*),
            assemble,
        };
    }
    Reader {
        decls: quote! {
            #values
            #(#rep_decls)*
            #(#flag_decls)*
        },
        run: quote! {
            crate::scan::run(line, #template, #matcher).map(|caps| {
                for (rule, text) in caps.iter() {
                    #text_unused
                    #dispatch
                }
            })
        },
        gather: quote!(),
        assemble,
    }
}

/// The body of a `parse(line: &str) -> Result<Self, DecodeError>` function for `shape`.
pub fn parse_body(
    scope: &Scope<'_>,
    owner: &Ident,
    shape: &Shape,
    template: &str,
    extra_init: TokenStream,
) -> TokenStream {
    let r = reader(scope, owner, shape, template, extra_init);
    let (decls, run, gather, assemble) = (r.decls, r.run, r.gather, r.assemble);
    quote! {
        #decls
        #run?;
        #gather
        Ok(#assemble)
    }
}

/// A data block a template announces: the occurrence of its length field,
/// the field's name, and the catalogue's largest length (an expression).
pub struct Announce {
    /// The occurrence of the length parameter in the template.
    pub occ: usize,
    /// The parameter's name.
    pub field: String,
    /// The largest length the catalogue allows (`usize` expression).
    pub max: TokenStream,
}

/// The data block parameter `name` announces in `shape`, with the largest
/// length: `max` when the catalogue gives one, else the parameter's range.
pub fn announce_of(
    scope: &Scope<'_>,
    shape: &Shape,
    name: &str,
    max: Option<u64>,
) -> Option<Announce> {
    let r = crate::params::resolve(scope.params, name)?;
    let occ = shape
        .items
        .iter()
        .flat_map(Item::occurrences)
        .find(|o| o.param == r.param)?;
    let p = &scope.params[r.param];
    let range_max = p
        .range
        .as_ref()
        .and_then(|r| crate::params::numeric(p.ty, &r.max))
        .and_then(|m| u64::try_from(m).ok());
    let max = match max.or(range_max) {
        Some(m) => {
            let m = Literal::usize_unsuffixed(usize::try_from(m).unwrap_or(usize::MAX));
            quote!(#m)
        }
        None => quote!(crate::value::UNBOUNDED),
    };
    Some(Announce {
        occ: occ.index,
        field: p.name.clone(),
        max,
    })
}

/// A template whose last field is a payload framed by a length field of the
/// same line (`length_from`): the `InlineFraming` constant that finds it.
pub struct InlinePayload {
    /// A `crate::wire::InlineFraming` expression.
    pub framing: TokenStream,
}

/// The in-line payload of `shape`, if its last field is one. `Err` names
/// what the generator cannot frame (the validator's checks keep the
/// catalogue from getting there).
pub fn inline_payload(scope: &Scope<'_>, shape: &Shape) -> Result<Option<InlinePayload>, String> {
    let occs: Vec<&Occ> = shape.items.iter().flat_map(Item::occurrences).collect();
    let Some(framed) = occs
        .iter()
        .find(|o| scope.params[o.param].length_from.is_some())
    else {
        return Ok(None);
    };
    let p = &scope.params[framed.param];
    let len_name = p.length_from.clone().unwrap_or_default();
    let last_ok = matches!(shape.items.last(), Some(Item::Field(ps)) if matches!(ps.as_slice(), [PieceShape::Param(o)] if o.index == framed.index));
    if !last_ok {
        return Err(format!(
            "<{}> is framed by <{len_name}> but is not the line's last field",
            p.name
        ));
    }
    let r = crate::params::resolve(scope.params, &len_name)
        .ok_or_else(|| format!("<{len_name}> is not a parameter"))?;
    // The length field: a plain field, or an optional group of it alone,
    // after plain fields only.
    let mut before = 0usize;
    let mut optional = None;
    for item in &shape.items {
        match item {
            Item::Field(ps)
                if ps
                    .iter()
                    .any(|x| matches!(x, PieceShape::Param(o) if o.param == r.param)) =>
            {
                optional = Some(false);
                break;
            }
            Item::Optional {
                items,
                repeat: false,
                ..
            } if matches!(single_value(items), Some((o, false)) if o.param == r.param) => {
                optional = Some(true);
                break;
            }
            Item::Field(_) => before += 1,
            _ => return Err(format!("only plain fields may come before <{len_name}>")),
        }
    }
    let optional =
        optional.ok_or_else(|| format!("<{len_name}> does not come before <{}>", p.name))?;
    let lp = &scope.params[r.param];
    let max = lp
        .range
        .as_ref()
        .and_then(|r| crate::params::numeric(lp.ty, &r.max))
        .and_then(|m| usize::try_from(m).ok());
    let max = match max {
        Some(m) => {
            let m = Literal::usize_unsuffixed(m);
            quote!(#m)
        }
        None => quote!(crate::value::UNBOUNDED),
    };
    let prefix = &shape.prefix;
    let before = Literal::usize_unsuffixed(before);
    let quoted = scope.quoted(framed);
    Ok(Some(InlinePayload {
        framing: quote!(crate::wire::InlineFraming { prefix: #prefix, before: #before, length_optional: #optional, max: #max, quoted: #quoted }),
    }))
}

/// The `Line` functions of a template with an in-line payload: `decode`
/// splits the payload off by its length and reads the rest with the
/// grammar; `parse` is `decode` of the text; `render_bytes` puts the
/// payload's bytes back.
pub fn inline_payload_fns(
    scope: &Scope<'_>,
    owner: &Ident,
    shape: &Shape,
    template: &str,
    extra_init: TokenStream,
    payload: &InlinePayload,
) -> TokenStream {
    let r = reader(scope, owner, shape, template, extra_init);
    let (decls, run, gather, assemble) = (r.decls, r.run, r.gather, r.assemble);
    let framing = &payload.framing;
    let render = render(scope, &owner.to_string(), &shape.items, &quote!(self));
    let prefix = &shape.prefix;
    let payload_field = shape
        .items
        .iter()
        .flat_map(Item::occurrences)
        .find(|o| scope.params[o.param].length_from.is_some())
        .map(|o| format_ident!("{}", snake(scope.name(o))));
    quote! {
        fn parse(line: &str) -> Result<Self, crate::wire::DecodeError> {
            <Self as crate::command::Line>::decode(line.as_bytes()).value
        }
        fn decode(line: &[u8]) -> crate::command::Decoded<Self> {
            const FRAMING: crate::wire::InlineFraming = #framing;
            let framed = match FRAMING.split(line) {
                Ok(f) => f,
                Err(e) => return crate::command::Decoded::plain(Err(e)),
            };
            let payload = framed.payload;
            let line = framed.head;
            #decls
            if let Err(e) = #run {
                return crate::command::Decoded::plain(Err(e));
            }
            #gather
            #[allow(clippy::redundant_closure_call)]
            let value = (|| -> Result<#owner, crate::wire::DecodeError> { Ok(#assemble) })();
            crate::command::Decoded::plain(value)
        }
        const INLINE_PAYLOAD: bool = true;
        fn inline_remaining(partial: &[u8]) -> Option<usize> {
            const FRAMING: crate::wire::InlineFraming = #framing;
            FRAMING.remaining(partial)
        }
        fn render(&self) -> alloc::string::String {
            alloc::string::String::from_utf8_lossy(&crate::command::Line::render_bytes(self)).into_owned()
        }
        fn render_bytes(&self) -> alloc::vec::Vec<u8> {
            const FRAMING: crate::wire::InlineFraming = #framing;
            #[allow(unused_mut)]
            let mut w = crate::wire::LineWriter::new(#prefix);
            #render
            FRAMING.splice(w.finish(), &self.#payload_field)
        }
    }
}

/// The body of a `decode(line: &[u8]) -> Decoded<Self>` function for a
/// template that announces a data block: the block's length is read from
/// its field whether or not the rest of the line decodes.
pub fn decode_body(
    scope: &Scope<'_>,
    owner: &Ident,
    shape: &Shape,
    template: &str,
    extra_init: TokenStream,
    announce: &Announce,
) -> TokenStream {
    let r = reader(scope, owner, shape, template, extra_init);
    let (decls, run, gather, assemble) = (r.decls, r.run, r.gather, r.assemble);
    let k = Literal::usize_unsuffixed(announce.occ);
    let (field, max) = (&announce.field, &announce.max);
    quote! {
        let Ok(line) = core::str::from_utf8(line) else {
            return crate::command::Decoded::plain(Err(crate::command::not_text(line)));
        };
        #decls
        if let Err(e) = #run {
            return crate::command::Decoded::plain(Err(e));
        }
        #gather
        let data = v[#k].map(|s| crate::command::Announced { field: #field, length: crate::wire::announced(s, #max) });
        #[allow(clippy::redundant_closure_call)]
        let value = (|| -> Result<#owner, crate::wire::DecodeError> { Ok(#assemble) })();
        crate::command::Decoded { value, data }
    }
}

/// The field initialisers inside `Owner { … }`.
fn built_fields(built: &TokenStream) -> Option<TokenStream> {
    let mut iter = built.clone().into_iter();
    let _owner = iter.next()?;
    match iter.next()? {
        proc_macro2::TokenTree::Group(g) => Some(g.stream()),
        _ => None,
    }
}

/// An `Option<i64>` expression reading integer parameter `param` (an index
/// into the scope's parameters) from `base`, wherever the template nests it.
pub fn int_of(
    scope: &Scope<'_>,
    owner: &str,
    items: &[Item],
    base: &TokenStream,
    param: usize,
) -> Option<TokenStream> {
    match int_at(scope, owner, items, base, param)? {
        (e, true) => Some(e),
        (e, false) => Some(quote!(Some(#e))),
    }
}

/// A statement that sets the integer field of parameter `param` of `cmd`
/// from `n: usize` (returning `None` from the enclosing function when `n`
/// is out of its range); `None` when the parameter is not such a field (in
/// an alternative or a repetition, not an integer).
///
/// The field may be top-level or the required first value of an optional
/// group (`[,<length>[,<timeout>]]`). `fill_absent`: the payload has no
/// other end than its length (no terminator byte), so a length the caller
/// left out is put in (the group created with its other values left out);
/// otherwise a length left out stays out (the payload is ended another
/// way, Ctrl+Z). With the statement: whether it always sets the length
/// (`false`: only when the caller gave one).
pub fn set_int_of(
    scope: &Scope<'_>,
    owner: &str,
    items: &[Item],
    param: usize,
    fill_absent: bool,
) -> Option<(TokenStream, bool)> {
    for f in fields(scope, owner, items, false) {
        if let Some((ident, occ, optional)) = f.value_of(param) {
            let value = int_from_n(scope, occ)?;
            return Some(match (optional, fill_absent) {
                (false, _) => (quote!(cmd.#ident = #value;), true),
                (true, true) => (quote!(cmd.#ident = Some(#value);), true),
                (true, false) => (
                    quote!(if cmd.#ident.is_some() { cmd.#ident = Some(#value); }),
                    false,
                ),
            });
        }
        let Field::Group {
            ident, ty, items, ..
        } = f
        else {
            continue;
        };
        let inner = fields(scope, &ty.to_string(), &items, false);
        // The group's required value of the parameter.
        let Some((field, occ, _)) = inner
            .iter()
            .find_map(|f| f.value_of(param).filter(|(_, _, optional)| !optional))
        else {
            continue;
        };
        let value = int_from_n(scope, occ)?;
        // The group's other values, left out when it is created;
        // `None` when one of them cannot be.
        let others: Option<Vec<TokenStream>> = inner
            .iter()
            .filter_map(|f| match f {
                Field::Value { ident, .. } if ident == field => None,
                Field::Value {
                    ident,
                    optional: true,
                    ..
                }
                | Field::Alt {
                    ident,
                    optional: true,
                    ..
                }
                | Field::Group { ident, .. } => Some(Some(quote!(#ident: None))),
                _ => Some(None),
            })
            .collect();
        let (absent, always) = match others {
            Some(others) if fill_absent => (
                quote!(None => cmd.#ident = Some(#ty { #field: filled, #(#others),* }),),
                true,
            ),
            _ => (quote!(None => {}), false),
        };
        let set = quote! {
            let filled = #value;
            match cmd.#ident.as_mut() {
                Some(g) => g.#field = filled,
                #absent
            }
        };
        return Some((set, always));
    }
    None
}

/// The value of integer occurrence `occ` from `n: usize` (`?` when out of
/// its range); `None` when it is not an integer.
fn int_from_n(scope: &Scope<'_>, occ: &Occ) -> Option<TokenStream> {
    match scope.kind(occ, false) {
        Kind::Int { .. } => Some(quote!(crate::value::Int::new(i64::try_from(n).ok()?).ok()?)),
        Kind::AnyInt { .. } => Some(quote!(i64::try_from(n).ok()?)),
        _ => None,
    }
}

/// The expression and whether it is an `Option<i64>` (else an `i64`).
fn int_at(
    scope: &Scope<'_>,
    owner: &str,
    items: &[Item],
    base: &TokenStream,
    param: usize,
) -> Option<(TokenStream, bool)> {
    for f in fields(scope, owner, items, false) {
        if let Some((ident, occ, optional)) = f.value_of(param) {
            let kind = scope.kind(occ, false);
            return if optional {
                let g = types::int_value(&kind, &quote!(v))?;
                if matches!(kind, Kind::AnyInt { .. }) {
                    // Already an `Option<i64>`.
                    return Some((quote!(#base.#ident), true));
                }
                Some((quote!(#base.#ident.map(|v| #g)), true))
            } else {
                Some((types::int_value(&kind, &quote!(#base.#ident))?, false))
            };
        }
        let Field::Group {
            ident, ty, items, ..
        } = f
        else {
            continue;
        };
        if let Some((inner, optional)) = int_at(scope, &ty.to_string(), &items, &quote!(g), param) {
            return Some(if optional {
                (quote!(#base.#ident.as_ref().and_then(|g| #inner)), true)
            } else {
                (quote!(#base.#ident.as_ref().map(|g| #inner)), true)
            });
        }
    }
    None
}
