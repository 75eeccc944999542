//! What a command returns to the caller of either client: the session's
//! [`Reply`](crate::session::Reply) with its lines typed.

use alloc::string::String;
use alloc::vec::Vec;

use crate::engine::Final;
use crate::generated::urcs::Urc;

/// What the module answered to a command.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Response<L> {
    /// The information lines, typed.
    pub lines: Vec<L>,
    /// Data blocks of the response (`+QIRD: <n>` data, QFREAD's file content, an HTTP body).
    pub data: Vec<Vec<u8>>,
    /// The final result.
    pub result: Final,
    /// The URC that completed the command after its final result, if it has
    /// one (the last of a series).
    pub completion: Option<Urc>,
    /// Every URC of the completion, in order: QPING's replies then its final
    /// line; QIDNSGIP's result then its addresses; else just the completion.
    pub series: Vec<Urc>,
    /// Lines with the shape of the command's information lines that do not decode.
    pub unexpected: Vec<String>,
}
