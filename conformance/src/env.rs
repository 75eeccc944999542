//! What the module needs from the outside world for set-ups and scenarios:
//! an access point, servers, a BLE peer, as named values (the keys of
//! [`fcm242d_sim::environment`]: `wifi_ssid`, `tcp_echo`, `mqtt_broker`,
//! `http_url`, `ble_peer`, ...).
//!
//! Against the built-in simulator the values are read from the simulator's
//! own world ([`fcm242d_sim::world::World::environment`]), so they never
//! drift from what it does. Against a module they come from an environment
//! file (YAML, a flat map; `placeholders:` may hold scenario values):
//!
//! ```yaml
//! wifi_ssid: lab-ap
//! wifi_key: secret-key
//! tcp_echo: 192.168.1.10:7
//! tls_echo: 192.168.1.10:8010
//! mqtt_broker: 192.168.1.10:1883
//! http_url: http://192.168.1.10/
//! ble_peer: 58d391010203
//! ble_peer_type: 0
//! placeholders: {ca_cert_pem: "..."}
//! ```
//!
//! A set-up that needs a key the environment lacks is an `error` of the
//! case, naming the key.

use std::collections::BTreeMap;

use fcm242d_sim::world::World;

/// The environment of a run: named values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Env {
    values: BTreeMap<String, String>,
}

impl Default for Env {
    /// The embedded world's environment (the built-in simulator's).
    fn default() -> Self {
        Env::from_map(World::default().environment())
    }
}

/// Keys whose values are secrets (masked in reports).
const SECRET_KEYS: &[&str] = &["wifi_key", "mqtt_password", "key_password"];

impl Env {
    /// An environment of these values.
    pub fn from_map(values: BTreeMap<String, String>) -> Env {
        Env { values }
    }

    /// No values at all (a module with an environment file adds them).
    pub fn empty() -> Env {
        Env {
            values: BTreeMap::new(),
        }
    }

    /// Reads an environment file: a flat map of keys to scalars, and
    /// optionally `placeholders:` (a map merged in).
    pub fn load(path: &std::path::Path) -> Result<Env, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Env::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Reads an environment file's text (see [`Env::load`]).
    pub fn parse(text: &str) -> Result<Env, String> {
        let raw: BTreeMap<String, serde_norway::Value> =
            serde_norway::from_str(text).map_err(|e| e.to_string())?;
        let mut values = BTreeMap::new();
        for (k, v) in raw {
            if k == "placeholders" {
                let serde_norway::Value::Mapping(m) = v else {
                    return Err("`placeholders` must be a map".into());
                };
                for (pk, pv) in m {
                    let pk = scalar(&pk).ok_or("a placeholder's name must be a scalar")?;
                    let pv = scalar(&pv)
                        .ok_or_else(|| format!("placeholder `{pk}`: expected a scalar value"))?;
                    values.insert(pk, pv);
                }
                continue;
            }
            let v = scalar(&v).ok_or_else(|| format!("`{k}`: expected a scalar value"))?;
            values.insert(k, v);
        }
        Ok(Env { values })
    }

    /// These values over `base` (a file's values over the simulator's world).
    pub fn over(&self, base: &BTreeMap<String, String>) -> Env {
        let mut values = base.clone();
        values.extend(self.values.clone());
        Env { values }
    }

    /// The value of `key`.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// The value of `key`, or an error naming it.
    pub fn need(&self, key: &str) -> Result<&str, String> {
        self.value(key)
            .ok_or_else(|| format!("the environment has no `{key}`"))
    }

    /// Every value.
    pub fn values(&self) -> &BTreeMap<String, String> {
        &self.values
    }

    /// `host` and `port` of a `host:port` setting.
    pub fn split(addr: &str) -> (String, String) {
        match addr.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.to_string()),
            None => (addr.to_string(), String::new()),
        }
    }

    /// Values that must never appear in a report.
    pub fn secrets(&self) -> Vec<String> {
        SECRET_KEYS
            .iter()
            .filter_map(|k| self.value(k))
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect()
    }
}

fn scalar(v: &serde_norway::Value) -> Option<String> {
    Some(match v {
        serde_norway::Value::String(s) => s.clone(),
        serde_norway::Value::Number(n) => n.to_string(),
        serde_norway::Value::Bool(b) => b.to_string(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_embedded_world() {
        let env = Env::default();
        assert_eq!(env.value("wifi_ssid"), Some("sim-ap"));
        assert_eq!(
            env.value("tcp_echo"),
            World::default()
                .environment()
                .get("tcp_echo")
                .map(String::as_str)
        );
        assert!(env.secrets().contains(&"sim-password".to_string()));
    }

    #[test]
    fn a_file_is_a_flat_map_with_placeholders() {
        let env = Env::parse("wifi_ssid: lab\nble_peer_type: 1\nplaceholders: {x: 2}\n").unwrap();
        assert_eq!(env.value("wifi_ssid"), Some("lab"));
        assert_eq!(env.value("ble_peer_type"), Some("1"));
        assert_eq!(env.value("x"), Some("2"));
        assert!(env.need("tcp_echo").unwrap_err().contains("tcp_echo"));
        assert!(Env::parse("a: [1]").is_err());
        assert!(Env::parse("- x").is_err());
    }
}
