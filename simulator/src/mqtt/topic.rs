//! Topic names and topic filters (MQTT 3.1.1 section 4.7).
//!
//! ```
//! use fcm242d_sim::mqtt::topic::{matches, valid_filter, valid_name};
//!
//! assert!(valid_name("sport/tennis/player1"));
//! assert!(!valid_name("sport/+"));
//! assert!(valid_filter("sport/+/player1") && valid_filter("sport/#"));
//! assert!(!valid_filter("sport/tennis#") && !valid_filter("sport/#/ranking"));
//! assert!(matches("sport/#", "sport") && matches("sport/+", "sport/"));
//! assert!(!matches("#", "$SYS/uptime") && matches("$SYS/#", "$SYS/uptime"));
//! ```

/// Whether `topic` can name a PUBLISH: at least one byte, at most 65 535,
/// no wildcard and no U+0000.
pub fn valid_name(topic: &str) -> bool {
    !topic.is_empty() && topic.len() <= usize::from(u16::MAX) && !topic.contains(['+', '#', '\0'])
}

/// Whether `filter` is a topic filter: at least one byte, at most 65 535,
/// no U+0000, `+` only as a whole level and `#` only as the whole last level.
pub fn valid_filter(filter: &str) -> bool {
    if filter.is_empty() || filter.len() > usize::from(u16::MAX) || filter.contains('\0') {
        return false;
    }
    let levels: Vec<&str> = filter.split('/').collect();
    let last = levels.len().saturating_sub(1);
    levels.iter().enumerate().all(|(i, level)| match *level {
        "+" => true,
        "#" => i == last,
        l => !l.contains(['+', '#']),
    })
}

/// Whether the topic filter `filter` matches the topic name `topic`. A
/// filter that starts with a wildcard does not match a topic that starts
/// with `$` (those are the server's own topics).
pub fn matches(filter: &str, topic: &str) -> bool {
    if topic.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let mut f = filter.split('/');
    let mut t = topic.split('/');
    loop {
        match (f.next(), t.next()) {
            // `#` matches its parent level too ("sport/#" matches "sport").
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}
