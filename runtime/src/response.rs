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

impl<L> Response<L> {
    /// The completion URC as its own type, when it is one (`None` when the
    /// command had no completion or it was another URC):
    ///
    /// ```
    /// # use fcm242d::response::Response;
    /// # use fcm242d::generated::urcs::Qiopen;
    /// # fn f(open: Response<()>) {
    /// if let Some(done) = open.completion_as::<Qiopen>() {
    ///     println!("socket {}: {}", done.connect_id, done.err);
    /// }
    /// # }
    /// ```
    pub fn completion_as<'a, T>(&'a self) -> Option<&'a T>
    where
        &'a T: TryFrom<&'a Urc>,
    {
        self.completion
            .as_ref()
            .and_then(|u| <&T>::try_from(u).ok())
    }
}
