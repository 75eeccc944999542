//! Constructors for forms whose generated shape is awkward to fill in by
//! hand: the typed fields mirror the manual's nested `[…]` groups, which is
//! exact but reads poorly where each nesting level means a different
//! operation. These say the operation instead; they build the same generated
//! values (nothing here encodes or decodes by itself).

use crate::generated::commands::qmtcfg::{
    Will, WillFlag, WillWillFlagGroup, WillWillFlagGroupWillQosGroup,
};
use crate::generated::shared::{Qos, Retain};
use crate::value::{Int, Text};

impl Will {
    /// `AT+QMTCFG="will",<client_idx>`: asks for the client's will
    /// configuration (answered by `+QMTCFG: "will",…`).
    pub fn query(client_idx: Int<0, 5>) -> Self {
        Will {
            client_idx,
            will_flag_group: None,
        }
    }

    /// `AT+QMTCFG="will",<client_idx>,0`: the client connects without a will.
    pub fn clear(client_idx: Int<0, 5>) -> Self {
        Will {
            client_idx,
            will_flag_group: Some(WillWillFlagGroup {
                will_flag: WillFlag::Ignore,
                will_qos_group: None,
            }),
        }
    }

    /// `AT+QMTCFG="will",<client_idx>,1,<will_qos>,<will_retain>,<will_topic>,<will_message>`:
    /// the broker publishes `message` on `topic` when the client goes away
    /// without disconnecting.
    pub fn set(
        client_idx: Int<0, 5>,
        qos: Qos,
        retain: Retain,
        topic: Text<1, 256>,
        message: Text<0, 256>,
    ) -> Self {
        Will {
            client_idx,
            will_flag_group: Some(WillWillFlagGroup {
                will_flag: WillFlag::Set,
                will_qos_group: Some(WillWillFlagGroupWillQosGroup {
                    will_qos: qos,
                    will_retain: retain,
                    will_topic: topic,
                    will_message: message,
                }),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::AtCommand;

    fn idx() -> Int<0, 5> {
        Int::new(1).unwrap()
    }

    #[test]
    fn the_three_will_operations_encode_as_the_manual_writes_them() {
        assert_eq!(Will::query(idx()).encode(), "AT+QMTCFG=\"will\",1");
        assert_eq!(Will::clear(idx()).encode(), "AT+QMTCFG=\"will\",1,0");
        let set = Will::set(
            idx(),
            Qos::AtLeastOnce,
            Retain::Retain,
            Text::new("status/dev1").unwrap(),
            Text::new("offline").unwrap(),
        );
        assert_eq!(
            set.encode(),
            "AT+QMTCFG=\"will\",1,1,1,1,\"status/dev1\",\"offline\""
        );
    }
}
