//! Constructors for forms whose generated shape is awkward to fill in by
//! hand: the typed fields mirror the manual's nested `[…]` groups, which is
//! exact but reads poorly where each nesting level means a different
//! operation, and some fields (lengths, a fixed index) are not the caller's
//! business at all. These say the operation instead; they build the same
//! generated values (nothing here encodes or decodes by itself).
//!
//! Each group's shortcuts are compiled with its feature.

#[cfg(feature = "mqtt")]
mod mqtt {
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

    use crate::generated::commands::{qmtconn, qmtsub};
    use crate::generated::urcs::qmtsub::Qmtsub;

    impl qmtsub::Write {
        /// `AT+QMTSUB=<client_idx>,<msgID>,<topic>,<qos>`: subscribes to one
        /// topic; [`and`](Self::and) adds more to the same SUBSCRIBE.
        pub fn new(
            client_idx: Int<0, 5>,
            msg_id: Int<0, 65535>,
            topic: Text<0, { crate::value::UNBOUNDED }>,
            qos: Qos,
        ) -> Self {
            qmtsub::Write {
                client_idx,
                msg_id,
                topic,
                qos,
                more_topic: alloc::vec::Vec::new(),
            }
        }

        /// The same SUBSCRIBE with one more topic (`,<topicN>,<qosN>`). The
        /// completion `+QMTSUB` then carries one granted QoS per topic, in
        /// this order ([`Qmtsub::granted`]).
        #[must_use]
        pub fn and(mut self, topic: Text<0, { crate::value::UNBOUNDED }>, qos: Qos) -> Self {
            self.more_topic.push(qmtsub::WriteTopicItem { topic, qos });
            self
        }
    }

    impl Qmtsub {
        /// The QoS the server granted for each topic of the SUBSCRIBE, in the
        /// command's order (the `<value>` list); `None` where it refused the
        /// topic (`128`) or printed a value that is no QoS.
        pub fn granted(&self) -> alloc::vec::Vec<Option<Qos>> {
            self.value
                .iter()
                .map(|v| Qos::ALL.iter().copied().find(|q| q.wire() == *v))
                .collect()
        }
    }

    impl qmtconn::Write {
        /// `AT+QMTCONN=<client_idx>,<clientID>`: connects without a user name.
        pub fn new(client_idx: Int<0, 5>, client_id: Text<0, 127>) -> Self {
            qmtconn::Write {
                client_idx,
                client_id,
                username_group: None,
            }
        }

        /// The same connection with a user name and password.
        #[must_use]
        pub fn login(mut self, username: Text<0, 127>, password: Text<0, 512>) -> Self {
            self.username_group = Some(qmtconn::WriteUsernameGroup { username, password });
            self
        }
    }
}

#[cfg(feature = "tcpip")]
mod tcpip {
    use crate::generated::commands::{qiopen, qisend};
    use crate::value::{Host, Int, ValueError};

    impl qiopen::WriteIpAddressOrDomainName {
        /// `<IP_address>` when `remote` is a dotted-decimal IPv4 address,
        /// else `<domain_name>`.
        pub fn new(remote: &str) -> Result<Self, ValueError> {
            match remote.parse() {
                Ok(ip) => Ok(Self::IpAddress(ip)),
                Err(_) => Ok(Self::DomainName(Host::new(remote)?)),
            }
        }
    }

    impl qiopen::Write {
        /// `AT+QIOPEN=<connectID>,<service_type>,<remote>,<remote_port>`:
        /// the module's defaults for the rest (any local port, buffer access
        /// mode). `remote` is an address or a domain name (see
        /// [`WriteIpAddressOrDomainName::new`](qiopen::WriteIpAddressOrDomainName::new)).
        pub fn new(
            connect_id: Int<0, 11>,
            service_type: qiopen::ServiceType,
            remote: &str,
            remote_port: Int<0, 65535>,
        ) -> Result<Self, ValueError> {
            Ok(qiopen::Write {
                connect_id,
                service_type,
                ip_address_or_domain_name: qiopen::WriteIpAddressOrDomainName::new(remote)?,
                remote_port,
                local_port_group: None,
            })
        }

        /// The same socket in another data access mode (`,0,<access_mode>`:
        /// any local port).
        #[must_use]
        pub fn access_mode(mut self, mode: qiopen::AccessMode) -> Self {
            let group = self
                .local_port_group
                .get_or_insert(qiopen::WriteLocalPortGroup {
                    local_port: Int::lit::<0>(),
                    access_mode: None,
                    ap_priority: None,
                });
            group.access_mode = Some(mode);
            self
        }
    }

    impl qisend::WriteConnectIdSendLength {
        /// `AT+QISEND=<connectID>,<send_length>` for
        /// [`send_payload`](crate::client::Client::send_payload), which sets
        /// `<send_length>` from the payload it is given.
        pub fn to(connect_id: Int<0, 11>) -> Self {
            qisend::WriteConnectIdSendLength {
                connect_id,
                send_length: Int::lit::<0>(),
            }
        }
    }
}

#[cfg(feature = "http")]
mod http {
    use crate::generated::commands::{qhttpcfg, qhttppost};
    use crate::generated::urcs::qhttppost::Qhttppost;
    use crate::value::{Int, Text, ValueError};

    impl qhttpcfg::Url {
        /// `AT+QHTTPCFG="url",<URL_string>`: the URL of the next request.
        pub fn set(url: &str) -> Result<Self, ValueError> {
            Ok(qhttpcfg::Url {
                url_string: Some(Text::new(url)?),
            })
        }

        /// `AT+QHTTPCFG="url"`: asks for the URL (`+QHTTPCFG: "url",…`).
        pub fn query() -> Self {
            qhttpcfg::Url { url_string: None }
        }
    }

    impl qhttppost::Write {
        /// `AT+QHTTPPOST=<data_length>` for
        /// [`send_payload`](crate::client::Client::send_payload), which sets
        /// `<data_length>` from the body it is given.
        pub fn body() -> Self {
            qhttppost::Write {
                data_length: Int::lit::<1>(),
                input_time_group: None,
            }
        }

        /// The same request with `<input_time>` (to send the body) and
        /// `<rsptime>` (for the server's answer), in seconds.
        #[must_use]
        pub fn within(mut self, input_time: Int<1, 65535>, rsptime: Int<1, 65535>) -> Self {
            self.input_time_group = Some(qhttppost::WriteInputTimeGroup {
                input_time,
                rsptime,
            });
            self
        }
    }

    impl Qhttppost {
        /// The server's HTTP status code (`<httprspcode>`), when the request
        /// got an answer.
        pub fn status(&self) -> Option<i64> {
            self.httprspcode_group.as_ref().map(|g| g.httprspcode)
        }

        /// The answer's `Content-Length` (`<content_length>`), when it had one.
        pub fn content_length(&self) -> Option<i64> {
            self.httprspcode_group
                .as_ref()
                .and_then(|g| g.content_length)
        }
    }
}

#[cfg(feature = "ble")]
mod ble {
    use alloc::string::String;
    use core::fmt::Write as _;

    use crate::generated::commands::qblegattsntfy;
    use crate::value::{Int, Text, Uuid, ValueError};

    impl qblegattsntfy::Write {
        /// `AT+QBLEGATTSNTFY=0,<UUID>,<data>`: notifies the connected central
        /// of `text` on the module's characteristic `uuid` (`<conn_idx>` can
        /// only be 0).
        pub fn text(uuid: Uuid, text: &str) -> Result<Self, ValueError> {
            Ok(qblegattsntfy::Write {
                conn_idx: Int::lit::<0>(),
                uuid,
                hex_length: None,
                data: Text::new(text)?,
            })
        }

        /// `AT+QBLEGATTSNTFY=0,<UUID>,<hex_length>,<data>`: notifies any
        /// bytes, written as hex digits with their count in `<hex_length>`.
        pub fn bytes(uuid: Uuid, bytes: &[u8]) -> Result<Self, ValueError> {
            let mut hex = String::with_capacity(bytes.len() * 2);
            for b in bytes {
                // Writing to a String cannot fail.
                let _ = write!(hex, "{b:02X}");
            }
            Ok(qblegattsntfy::Write {
                conn_idx: Int::lit::<0>(),
                uuid,
                hex_length: Some(i64::try_from(bytes.len()).unwrap_or(i64::MAX)),
                data: Text::new(hex)?,
            })
        }
    }
}

#[cfg(feature = "network")]
mod network {
    use crate::generated::commands::qping;
    use crate::value::{Host, Int};

    impl qping::Write {
        /// `AT+QPING=<host>`: the module's defaults (4 requests, 4 s each).
        pub fn new(host: Host) -> Self {
            qping::Write {
                host,
                timeout_group: None,
            }
        }

        /// The same ping with `count` requests of at most `timeout` seconds each.
        #[must_use]
        pub fn times(mut self, count: Int<1, 10>, timeout: Int<1, 255>) -> Self {
            self.timeout_group = Some(qping::WriteTimeoutGroup {
                timeout,
                pingnum: Some(count),
            });
            self
        }
    }
}

// The tests use every group's shortcuts.
#[cfg(all(
    test,
    feature = "mqtt",
    feature = "tcpip",
    feature = "http",
    feature = "ble",
    feature = "network"
))]
mod tests {
    use crate::command::AtCommand;
    use crate::generated::commands::qmtcfg::{Retain, Will};
    use crate::generated::commands::{
        qblegattsntfy, qfwrite, qhttpcfg, qhttppost, qiopen, qisend, qmtconn, qmtpub, qmtsub, qping,
    };
    use crate::generated::shared::Qos;
    use crate::generated::urcs::Urc;
    use crate::value::{Host, Int, Text, Uuid};

    fn idx() -> Int<0, 5> {
        Int::lit::<1>()
    }

    fn text<const MIN: usize, const MAX: usize>(s: &str) -> Text<MIN, MAX> {
        Text::new(s).unwrap()
    }

    #[test]
    fn the_three_will_operations_encode_as_the_manual_writes_them() {
        assert_eq!(Will::query(idx()).encode(), "AT+QMTCFG=\"will\",1");
        assert_eq!(Will::clear(idx()).encode(), "AT+QMTCFG=\"will\",1,0");
        let set = Will::set(
            idx(),
            Qos::AtLeastOnce,
            Retain::Retain,
            text("status/dev1"),
            text("offline"),
        );
        assert_eq!(
            set.encode(),
            "AT+QMTCFG=\"will\",1,1,1,1,\"status/dev1\",\"offline\""
        );
    }

    #[test]
    fn a_subscribe_lists_its_topics_in_order() {
        let one = qmtsub::Write::new(idx(), Int::lit::<7>(), text("a/b"), Qos::ExactlyOnce);
        assert_eq!(one.encode(), "AT+QMTSUB=1,7,\"a/b\",2");
        let two = one.and(text("c"), Qos::AtMostOnce);
        assert_eq!(two.encode(), "AT+QMTSUB=1,7,\"a/b\",2,\"c\",0");
    }

    #[test]
    fn the_granted_qos_are_read_per_topic_and_a_refusal_is_none() {
        let Some(Ok(Urc::Qmtsub(sub))) = Urc::parse("+QMTSUB: 0,1,0,2,128,1") else {
            panic!("+QMTSUB does not decode");
        };
        assert_eq!(
            sub.granted(),
            [Some(Qos::ExactlyOnce), None, Some(Qos::AtLeastOnce)]
        );
    }

    #[test]
    fn a_connection_logs_in_only_when_asked_to() {
        let anonymous = qmtconn::Write::new(idx(), text("dev1"));
        assert_eq!(anonymous.encode(), "AT+QMTCONN=1,\"dev1\"");
        let login = anonymous.login(text("user"), text("secret"));
        assert_eq!(login.encode(), "AT+QMTCONN=1,\"dev1\",\"user\",\"secret\"");
    }

    #[test]
    fn a_socket_goes_to_an_address_or_a_name() {
        let by_ip = qiopen::Write::new(
            Int::lit::<1>(),
            qiopen::ServiceType::Tcp,
            "192.0.2.2",
            Int::lit::<7>(),
        )
        .unwrap();
        assert_eq!(by_ip.encode(), "AT+QIOPEN=1,\"TCP\",\"192.0.2.2\",7");
        let by_name = qiopen::Write::new(
            Int::lit::<2>(),
            qiopen::ServiceType::Udp,
            "www.example.com",
            Int::lit::<53>(),
        )
        .unwrap()
        .access_mode(qiopen::AccessMode::DirectPush);
        assert_eq!(
            by_name.encode(),
            "AT+QIOPEN=2,\"UDP\",\"www.example.com\",53,0,1"
        );
        assert!(qiopen::WriteIpAddressOrDomainName::new("").is_err());
    }

    #[test]
    fn the_lengths_left_to_send_payload_are_filled_in_from_the_payload() {
        let send = qisend::WriteConnectIdSendLength::to(Int::lit::<3>());
        assert_eq!(
            send.with_payload_length(5).unwrap().encode(),
            "AT+QISEND=3,5"
        );
        let post = qhttppost::Write::body().within(Int::lit::<80>(), Int::lit::<90>());
        assert_eq!(
            post.with_payload_length(20).unwrap().encode(),
            "AT+QHTTPPOST=20,80,90"
        );
        // QFWRITE's data phase ends at <length> only (no terminator byte):
        // a length left out is put in, in its optional group, so the
        // module does not wait for 10240 bytes or its time-out.
        let write = qfwrite::Write {
            filehandle: 1,
            length_group: None,
        };
        assert_eq!(
            write.with_payload_length(5).unwrap().encode(),
            "AT+QFWRITE=1,5"
        );
        let with_timeout = qfwrite::Write {
            filehandle: 1,
            length_group: Some(qfwrite::WriteLengthGroup {
                length: Int::lit::<9>(),
                timeout: Some(Int::lit::<7>()),
            }),
        };
        assert_eq!(
            with_timeout.with_payload_length(5).unwrap().encode(),
            "AT+QFWRITE=1,5,7"
        );
        assert!(write.with_payload_length(65536).is_none());
        // QMTPUB's payload can end with Ctrl+Z: a length left out stays out.
        let publish = qmtpub::Write {
            client_idx: Int::lit::<0>(),
            msg_id: Int::lit::<0>(),
            qos: Qos::AtMostOnce,
            retain: Retain::NoRetain,
            topic: Text::new("t").unwrap(),
            length: None,
        };
        assert_eq!(
            publish.with_payload_length(5).unwrap().encode(),
            "AT+QMTPUB=0,0,0,0,\"t\""
        );
    }

    #[test]
    fn the_url_is_set_or_asked_for() {
        let set = qhttpcfg::Url::set("http://example.com/").unwrap();
        assert_eq!(set.encode(), "AT+QHTTPCFG=\"url\",\"http://example.com/\"");
        assert_eq!(qhttpcfg::Url::query().encode(), "AT+QHTTPCFG=\"url\"");
        assert!(qhttpcfg::Url::set("http://x/\r\nAT+QRST").is_err());
    }

    #[test]
    fn the_post_answer_gives_its_status_and_length_when_it_has_them() {
        let Some(Ok(Urc::Qhttppost(full))) = Urc::parse("+QHTTPPOST: 0,200,177") else {
            panic!("+QHTTPPOST does not decode");
        };
        assert_eq!(
            (full.status(), full.content_length()),
            (Some(200), Some(177))
        );
        let Some(Ok(Urc::Qhttppost(failed))) = Urc::parse("+QHTTPPOST: 702") else {
            panic!("+QHTTPPOST does not decode");
        };
        assert_eq!((failed.status(), failed.content_length()), (None, None));
    }

    #[test]
    fn a_notification_is_text_or_bytes_as_hex_digits() {
        let uuid = || Uuid::new("FFF2").unwrap();
        let text = qblegattsntfy::Write::text(uuid(), "123456789").unwrap();
        assert_eq!(text.encode(), "AT+QBLEGATTSNTFY=0,\"FFF2\",\"123456789\"");
        let bytes = qblegattsntfy::Write::bytes(uuid(), &[0x12, 0x34, 0xab]).unwrap();
        assert_eq!(bytes.encode(), "AT+QBLEGATTSNTFY=0,\"FFF2\",3,\"1234AB\"");
        assert!(qblegattsntfy::Write::text(uuid(), "a\"b").is_err());
    }

    #[test]
    fn a_ping_takes_the_defaults_or_a_count() {
        let host = || Host::new("www.example.com").unwrap();
        assert_eq!(
            qping::Write::new(host()).encode(),
            "AT+QPING=\"www.example.com\""
        );
        let counted = qping::Write::new(host()).times(Int::lit::<3>(), Int::lit::<2>());
        assert_eq!(counted.encode(), "AT+QPING=\"www.example.com\",2,3");
    }
}
