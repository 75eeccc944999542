//! The broker's shared state: sessions, subscriptions and retained
//! messages, and the routing of a publication to the sessions it matches.
//! Every connection thread goes through these functions; each holds the
//! lock briefly and never while it does I/O.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::activity::Activity;
use crate::mqtt::topic;
use crate::mqtt::{ConnectReturnCode, QoS, SubAckReturn};

/// The most messages a persistent session keeps while its client is away;
/// later ones are dropped.
pub const MAX_QUEUED: usize = 10_000;

/// The topic of the retained message the broker starts with.
pub const EXAMPLE_TOPIC: &str = "topic/example";
/// Its payload (36 bytes), as in the manual's "MQTT Operation Without SSL".
pub const EXAMPLE_PAYLOAD: &str = "This is the payload related to topic";

/// An application message on its way to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The topic name.
    pub topic: String,
    /// The payload.
    pub payload: Vec<u8>,
    /// The QoS it is delivered (or was published) at.
    pub qos: QoS,
    /// Whether it is (or is to be) a retained message.
    pub retain: bool,
}

/// What the registry tells a connection thread.
#[derive(Debug)]
pub(super) enum Event {
    /// A message for the connection's client.
    Deliver(Message),
    /// Another connection took the session over: close without the will.
    TakenOver,
}

/// The connection a session is bound to.
struct Online {
    connection: u64,
    events: Sender<Event>,
}

/// A client's session.
#[derive(Default)]
struct Session {
    /// Topic filters and the QoS granted for each.
    subscriptions: BTreeMap<String, QoS>,
    /// Kept after the connection ends (clean session 0).
    persistent: bool,
    online: Option<Online>,
    /// Messages that arrived while the client was away.
    queued: VecDeque<Message>,
}

impl Session {
    fn owned_by(&self, connection: u64) -> bool {
        self.online
            .as_ref()
            .is_some_and(|o| o.connection == connection)
    }

    /// Hands `m` to the connected client, or keeps it for a persistent
    /// session's return (QoS 1 and 2 only).
    fn deliver(&mut self, m: Message, activity: &Activity) {
        let m = match &self.online {
            Some(o) => {
                // Counted before it is sent, so that it is never taken
                // before it counts.
                activity.queued();
                match o.events.send(Event::Deliver(m)) {
                    Ok(()) => return,
                    Err(mpsc::SendError(Event::Deliver(m))) => {
                        activity.taken();
                        m
                    }
                    Err(_) => {
                        activity.taken();
                        return;
                    }
                }
            }
            None => m,
        };
        if self.persistent && m.qos != QoS::AtMostOnce && self.queued.len() < MAX_QUEUED {
            self.queued.push_back(m);
        }
    }
}

struct Registry {
    sessions: HashMap<String, Session>,
    /// Retained messages by topic: QoS and payload.
    retained: BTreeMap<String, (QoS, Vec<u8>)>,
    next_connection: u64,
    next_generated_id: u64,
}

impl Registry {
    /// The registry a broker starts with: no session, the manual's
    /// retained message.
    fn fresh() -> Registry {
        let mut retained = BTreeMap::new();
        retained.insert(
            EXAMPLE_TOPIC.to_string(),
            (QoS::AtMostOnce, EXAMPLE_PAYLOAD.as_bytes().to_vec()),
        );
        Registry {
            sessions: HashMap::new(),
            retained,
            next_connection: 1,
            next_generated_id: 1,
        }
    }
}

/// The shared state of one broker (every endpoint of one world that runs
/// the embedded broker reaches the same one).
pub struct Broker {
    registry: Mutex<Registry>,
    activity: Arc<Activity>,
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broker").finish_non_exhaustive()
    }
}

impl Broker {
    /// A broker as it starts (see [`super`]), in the world of `activity`.
    pub fn new(activity: Arc<Activity>) -> Broker {
        Broker {
            registry: Mutex::new(Registry::fresh()),
            activity,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Back to how it started: no session, no retained message but the
    /// manual's (the connections are cut by the caller).
    pub fn reset(&self) {
        let mut r = self.lock();
        let next_connection = r.next_connection;
        *r = Registry::fresh();
        // Connections still winding down never match a new one.
        r.next_connection = next_connection;
    }

    /// The world's activity (a message handed to a connection is work).
    pub(super) fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }

    /// The retained message of `topic`, if any: QoS and payload.
    pub fn retained(&self, topic: &str) -> Option<(QoS, Vec<u8>)> {
        self.lock().retained.get(topic).cloned()
    }

    /// A number that tells this connection from every other.
    pub(super) fn new_connection(&self) -> u64 {
        let mut r = self.lock();
        let n = r.next_connection;
        r.next_connection += 1;
        n
    }

    /// Binds `client_id`'s session to `connection` (a CONNECT was accepted),
    /// taking it over from an older connection.
    pub(super) fn connect(
        &self,
        client_id: &str,
        clean: bool,
        connection: u64,
    ) -> Result<Joined, ConnectReturnCode> {
        let mut r = self.lock();
        let client_id = if client_id.is_empty() {
            if !clean {
                return Err(ConnectReturnCode::IdentifierRejected);
            }
            let n = r.next_generated_id;
            r.next_generated_id += 1;
            format!("fcm242d-sim-auto-{n}")
        } else {
            client_id.to_string()
        };
        let (tx, rx) = mpsc::channel();
        let existing = r.sessions.remove(&client_id);
        if let Some(old) = existing.as_ref().and_then(|s| s.online.as_ref()) {
            self.activity.queued();
            if old.events.send(Event::TakenOver).is_err() {
                self.activity.taken();
            }
        }
        let (mut session, session_present) = match existing {
            Some(s) if !clean => (s, true),
            _ => (Session::default(), false),
        };
        session.persistent = !clean;
        session.online = Some(Online {
            connection,
            events: tx,
        });
        let queued = session.queued.drain(..).collect();
        r.sessions.insert(client_id.clone(), session);
        Ok(Joined {
            client_id,
            session_present,
            events: rx,
            queued,
        })
    }

    /// Routes a publication to every matching session and keeps it if it is
    /// retained.
    pub(super) fn publish(&self, m: &Message) {
        let mut r = self.lock();
        if m.retain {
            if m.payload.is_empty() {
                r.retained.remove(&m.topic);
            } else {
                r.retained
                    .insert(m.topic.clone(), (m.qos, m.payload.clone()));
            }
        }
        for session in r.sessions.values_mut() {
            let best = session
                .subscriptions
                .iter()
                .filter(|(filter, _)| topic::matches(filter, &m.topic))
                .map(|(_, q)| *q)
                .max();
            if let Some(granted) = best {
                session.deliver(
                    Message {
                        topic: m.topic.clone(),
                        payload: m.payload.clone(),
                        qos: m.qos.min(granted),
                        // A forwarded publication is not a retained message.
                        retain: false,
                    },
                    &self.activity,
                );
            }
        }
    }

    /// Adds `filters` to the session of `client_id` (if `connection` owns it):
    /// the SUBACK codes, and the retained messages the new filters match.
    pub(super) fn subscribe(
        &self,
        client_id: &str,
        connection: u64,
        filters: &[(String, QoS)],
    ) -> (Vec<SubAckReturn>, Vec<Message>) {
        let mut r = self.lock();
        let Registry {
            sessions, retained, ..
        } = &mut *r;
        let session = sessions
            .get_mut(client_id)
            .filter(|s| s.owned_by(connection));
        let mut codes = Vec::new();
        let mut messages = Vec::new();
        let Some(session) = session else {
            return (vec![SubAckReturn::Failure; filters.len()], messages);
        };
        for (filter, qos) in filters {
            if !topic::valid_filter(filter) {
                codes.push(SubAckReturn::Failure);
                continue;
            }
            session.subscriptions.insert(filter.clone(), *qos);
            codes.push(SubAckReturn::Granted(*qos));
            for (t, (retained_qos, payload)) in retained.iter() {
                if topic::matches(filter, t) {
                    messages.push(Message {
                        topic: t.clone(),
                        payload: payload.clone(),
                        qos: (*retained_qos).min(*qos),
                        retain: true,
                    });
                }
            }
        }
        (codes, messages)
    }

    /// Removes `filters` from the session of `client_id` (if `connection` owns it).
    pub(super) fn unsubscribe(&self, client_id: &str, connection: u64, filters: &[String]) {
        let mut r = self.lock();
        if let Some(s) = r
            .sessions
            .get_mut(client_id)
            .filter(|s| s.owned_by(connection))
        {
            for f in filters {
                s.subscriptions.remove(f);
            }
        }
    }

    /// The end of `connection`: a clean session ends; a persistent one waits
    /// for its client, keeping `unacked` (messages sent but not acknowledged)
    /// for the next connection. A session another connection took over is
    /// left alone, except that `unacked` goes to that connection.
    pub(super) fn leave(&self, client_id: &str, connection: u64, unacked: Vec<Message>) {
        let mut r = self.lock();
        let Some(session) = r.sessions.get_mut(client_id) else {
            return;
        };
        if session.owned_by(connection) {
            if !session.persistent {
                r.sessions.remove(client_id);
                return;
            }
            session.online = None;
            for m in unacked.into_iter().rev() {
                session.queued.push_front(m);
            }
            session.queued.truncate(MAX_QUEUED);
        } else if session.persistent {
            for m in unacked {
                session.deliver(m, &self.activity);
            }
        }
    }
}

/// A session bound to a connection.
pub(super) struct Joined {
    /// The client identifier (generated for an empty one).
    pub client_id: String,
    /// Whether a session was kept from an earlier connection.
    pub session_present: bool,
    /// Messages and notices for the connection.
    pub events: Receiver<Event>,
    /// Messages queued while the client was away, oldest first.
    pub queued: Vec<Message>,
}

/// The retained message of `topic` on the broker of the process's shared
/// world ([`crate::services::Services::shared`]), if any: QoS and payload.
pub fn retained(topic: &str) -> Option<(QoS, Vec<u8>)> {
    crate::services::Services::shared().broker().retained(topic)
}
