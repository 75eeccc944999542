//! How a catalogue parameter becomes a Rust type, and how a value of that
//! type is written to and read from the wire.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use crate::model::{Param, ParamType, TableId};
use crate::params::numeric;

/// Which side of the link produces the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Host → module (command lines): strings are fully checked types.
    Input,
    /// Module → host (responses, URCs): strings are kept as received, length-checked.
    Output,
}

/// How a parameter is represented.
#[derive(Debug, Clone)]
pub enum Kind {
    /// An enumeration generated for the parameter.
    Enum {
        /// Its type name.
        name: Ident,
        /// Whether its wire values are strings.
        string: bool,
    },
    /// A bounded integer.
    Int {
        /// Smallest.
        min: i64,
        /// Largest.
        max: i64,
        /// Hex on the wire: (`0x` prefix, digits).
        hex: Option<(bool, usize)>,
    },
    /// An unbounded integer.
    AnyInt {
        /// Hex on the wire.
        hex: Option<(bool, usize)>,
    },
    /// A result code of a table.
    Code(TableId),
    /// A string with byte-length limits.
    Str {
        /// Fewest bytes.
        min: usize,
        /// Most bytes (`None`: unbounded).
        max: Option<usize>,
    },
    /// Hex digits.
    HexStr {
        /// Fewest.
        min: usize,
        /// Most.
        max: Option<usize>,
    },
    /// 12 hex digits.
    Addr,
    /// 4 or 32 hex digits.
    Uuid,
    /// IP address or domain name.
    Host,
    /// Dotted IPv4.
    Ipv4,
    /// Raw text (`(list of supported …)`, data lines).
    Raw,
    /// Bytes printed inside a line, framed by a length field of the line
    /// (`length_from`): any byte values.
    Bytes,
}

fn hex_width(p: &Param) -> usize {
    let max = p
        .range
        .as_ref()
        .and_then(|r| numeric(p.ty, &r.max))
        .or_else(|| {
            p.values
                .iter()
                .filter_map(|v| numeric(p.ty, &v.value))
                .max()
        })
        .unwrap_or(0);
    format!("{max:X}").len().max(1)
}

/// The representation of parameter `p`; `enum_name` is its enumeration's type
/// name when it has values.
pub fn kind(p: &Param, enum_name: Option<&Ident>) -> Kind {
    let hex = (p.ty == ParamType::HexInteger).then(|| (p.prefix.unwrap_or(false), hex_width(p)));
    if let Some(name) = enum_name {
        return Kind::Enum {
            name: name.clone(),
            string: !p.ty.is_numeric(),
        };
    }
    let len = || {
        let min = p.length.as_ref().map(|l| l.min as usize).unwrap_or(0);
        let max = p.length.as_ref().map(|l| l.max as usize);
        (min, max)
    };
    match p.ty {
        ParamType::Integer | ParamType::HexInteger => match &p.range {
            Some(r) => match (numeric(p.ty, &r.min), numeric(p.ty, &r.max)) {
                (Some(min), Some(max)) => {
                    // Conditional ranges widen what the type accepts; the rule that
                    // picks one applies at run time.
                    let lo = p
                        .ranges_when
                        .iter()
                        .filter_map(|c| numeric(p.ty, &c.min))
                        .fold(min, i64::min);
                    let hi = p
                        .ranges_when
                        .iter()
                        .filter_map(|c| numeric(p.ty, &c.max))
                        .fold(max, i64::max);
                    Kind::Int {
                        min: lo,
                        max: hi,
                        hex,
                    }
                }
                _ => Kind::AnyInt { hex },
            },
            None => Kind::AnyInt { hex },
        },
        ParamType::ResultCode => Kind::Code(p.table.unwrap_or(TableId::Tcpip)),
        ParamType::HexString => {
            let (min, max) = len();
            Kind::HexStr { min, max }
        }
        ParamType::Mac | ParamType::BleAddress => Kind::Addr,
        ParamType::Uuid => Kind::Uuid,
        ParamType::Host => Kind::Host,
        ParamType::Ipv4 => Kind::Ipv4,
        ParamType::Data if p.length_from.is_some() => Kind::Bytes,
        ParamType::Data => Kind::Raw,
        ParamType::String
        | ParamType::Time
        | ParamType::KeyValue
        | ParamType::Path
        | ParamType::Url => {
            let (min, max) = len();
            Kind::Str { min, max }
        }
    }
}

fn usize_lit(v: usize) -> Literal {
    Literal::usize_unsuffixed(v)
}

fn i64_lit(v: i64) -> TokenStream {
    if v == i64::MIN {
        quote!(i64::MIN)
    } else if v == i64::MAX {
        quote!(i64::MAX)
    } else {
        let l = Literal::i64_unsuffixed(v);
        quote!(#l)
    }
}

/// The largest length as a const generic argument.
fn max_tokens(max: Option<usize>) -> TokenStream {
    match max {
        Some(m) => {
            let l = usize_lit(m);
            quote!(#l)
        }
        None => quote!({ crate::value::UNBOUNDED }),
    }
}

/// The largest length as an expression.
fn max_expr(max: Option<usize>) -> TokenStream {
    match max {
        Some(m) => {
            let l = usize_lit(m);
            quote!(#l)
        }
        None => quote!(crate::value::UNBOUNDED),
    }
}

/// The code-table type of a result-code parameter.
pub fn code_type(t: TableId) -> Ident {
    match t {
        TableId::Tcpip => format_ident!("TcpipCode"),
        TableId::Http => format_ident!("HttpCode"),
    }
}

/// The Rust type of a value of this kind.
pub fn rust_type(kind: &Kind, quoted: bool, dir: Dir) -> TokenStream {
    match kind {
        Kind::Enum { name, .. } => quote!(#name),
        Kind::Int { min, max, .. } => {
            let (a, b) = (i64_lit(*min), i64_lit(*max));
            quote!(crate::value::Int<#a, #b>)
        }
        Kind::AnyInt { .. } => quote!(i64),
        Kind::Code(t) => {
            let t = code_type(*t);
            quote!(crate::generated::results::#t)
        }
        Kind::Str { min, max } if dir == Dir::Input => {
            let (a, b) = (usize_lit(*min), max_tokens(*max));
            if quoted {
                quote!(crate::value::Text<#a, #b>)
            } else {
                quote!(crate::value::Bare<#a, #b>)
            }
        }
        Kind::HexStr { min, max } if dir == Dir::Input => {
            let (a, b) = (usize_lit(*min), max_tokens(*max));
            quote!(crate::value::HexText<#a, #b>)
        }
        Kind::Host if dir == Dir::Input => quote!(crate::value::Host),
        Kind::Str { .. } | Kind::HexStr { .. } | Kind::Host | Kind::Raw => {
            quote!(alloc::string::String)
        }
        Kind::Addr => quote!(crate::value::HexAddr),
        Kind::Uuid => quote!(crate::value::Uuid),
        Kind::Ipv4 => quote!(core::net::Ipv4Addr),
        Kind::Bytes => quote!(alloc::vec::Vec<u8>),
    }
}

/// A statement writing the value `v` (a reference) into the `LineWriter` `w`
/// (the field's comma is already written).
pub fn encode(kind: &Kind, quoted: bool, v: &TokenStream) -> TokenStream {
    let hexed = |hex: &Option<(bool, usize)>, value: TokenStream| match hex {
        Some((prefix, width)) => {
            let w = usize_lit(*width);
            quote!(w.hex(#value, #prefix, #w);)
        }
        None => quote!(w.int(#value);),
    };
    let text = |s: TokenStream| {
        if quoted {
            quote!(w.quoted(#s);)
        } else {
            quote!(w.raw(#s);)
        }
    };
    match kind {
        Kind::Enum { string: true, .. } => text(quote!(#v.wire())),
        Kind::Enum {
            name: _,
            string: false,
        } => quote!(#v.write_wire(&mut w);),
        Kind::Int { hex, .. } => hexed(hex, quote!(#v.get())),
        Kind::AnyInt { hex } => hexed(hex, quote!(*#v)),
        Kind::Code(_) => quote!(w.int(#v.code());),
        Kind::Ipv4 => {
            if quoted {
                quote!(w.quoted_ipv4(#v);)
            } else {
                quote!(w.ipv4(#v);)
            }
        }
        Kind::Str { .. }
        | Kind::HexStr { .. }
        | Kind::Host
        | Kind::Addr
        | Kind::Uuid
        | Kind::Raw => text(quote!(#v.as_str())),
        // The bytes go in by `render_bytes`, in place of the empty value
        // written here (the field is the line's last).
        Kind::Bytes => {
            if quoted {
                quote!(let _ = #v; w.raw("\"\"");)
            } else {
                quote!(let _ = #v;)
            }
        }
    }
}

/// An expression of type `Result<T, DecodeError>` reading the captured text
/// `s` (a `&str`) as this kind; errors name `field`.
pub fn decode(kind: &Kind, quoted: bool, dir: Dir, s: &TokenStream, field: &str) -> TokenStream {
    let err = quote!(.map_err(|e| crate::wire::DecodeError::value(#field, e)));
    let int = |hex: &Option<(bool, usize)>| match hex {
        Some(_) => quote!(crate::value::parse_hex(#s)),
        None => quote!(crate::value::parse_int(#s)),
    };
    let unq = quote!(crate::wire::unquote(#s));
    match kind {
        Kind::Enum { name, .. } => quote!(#name::from_wire(#unq)#err),
        Kind::Int { hex, .. } => {
            let n = int(hex);
            quote!(#n.and_then(crate::value::Int::new)#err)
        }
        Kind::AnyInt { hex } => {
            let n = int(hex);
            quote!(#n #err)
        }
        Kind::Code(t) => {
            let t = code_type(*t);
            quote!(crate::value::parse_int(#s).map(crate::generated::results::#t::from_code)#err)
        }
        Kind::Ipv4 => quote!(crate::value::parse_ipv4(#unq)#err),
        Kind::Addr => quote!(crate::value::HexAddr::new(#unq)#err),
        Kind::Uuid => quote!(crate::value::Uuid::new(#unq)#err),
        Kind::Host if dir == Dir::Input => quote!(crate::value::Host::new(#unq)#err),
        Kind::Str { .. } if dir == Dir::Input && quoted => {
            quote!(crate::value::Text::new(#unq)#err)
        }
        Kind::Str { .. } if dir == Dir::Input => quote!(crate::value::Bare::new(#s)#err),
        Kind::HexStr { .. } if dir == Dir::Input => quote!(crate::value::HexText::new(#unq)#err),
        Kind::Str { min, max } | Kind::HexStr { min, max } => {
            let (a, b) = (usize_lit(*min), max_expr(*max));
            quote!(crate::wire::text(#s, #a, #b)#err)
        }
        Kind::Host | Kind::Raw => {
            quote!(Ok::<_, crate::wire::DecodeError>(alloc::string::String::from(#unq)))
        }
        // Framed by its length field, not read from the captured text: the
        // decoder split it off the line as `payload`.
        Kind::Bytes => {
            quote!({ let _ = #s; Ok::<_, crate::wire::DecodeError>(payload.to_vec()) })
        }
    }
}

/// An expression of type `Result<T, DecodeError>` for an integer or an
/// IPv4 address that a straight-line walk read (`nv`, an `Option<i64>`: see
/// `scan::Cursor::int` and `scan::Cursor::ipv4`), the same as [`decode`] of
/// its text; `None` for the kinds not read that way (hex, strings).
pub fn decode_scanned(kind: &Kind, nv: &TokenStream, field: &str) -> Option<TokenStream> {
    let err = quote!(.map_err(|e| crate::wire::DecodeError::value(#field, e)));
    let n = quote!(crate::value::scanned_int(#nv));
    Some(match kind {
        Kind::Int { hex: None, .. } => quote!(#n.and_then(crate::value::Int::new)#err),
        Kind::AnyInt { hex: None } => quote!(#n #err),
        Kind::Code(t) => {
            let t = code_type(*t);
            quote!(#n.map(crate::generated::results::#t::from_code)#err)
        }
        Kind::Enum {
            name,
            string: false,
        } => quote!(#n.and_then(#name::from_int)#err),
        Kind::Ipv4 => quote!(crate::value::scanned_ipv4(#nv)#err),
        _ => return None,
    })
}

/// An `i64` expression for the value `v` (a place or value, not a reference;
/// for time limits and lengths), or `None` for non-integer kinds.
pub fn int_value(kind: &Kind, v: &TokenStream) -> Option<TokenStream> {
    match kind {
        Kind::Int { .. } => Some(quote!(#v.get())),
        Kind::AnyInt { .. } => Some(quote!(#v)),
        Kind::Enum { string: false, .. } => Some(quote!(#v.wire())),
        _ => None,
    }
}
