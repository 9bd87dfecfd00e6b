//! Settings from, in order of precedence: command-line flags, `PARLEY_*` environment variables,
//! an optional TOML file (`--config` / `PARLEY_CONFIG`), and defaults. Every setting has an
//! environment variable.

use anyhow::Context;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: String,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    /// redis://… joins this node to the others on the same database (cross-node fan-out).
    pub redis_url: Option<String>,
    pub public_url: Option<String>,
    pub max_upload_bytes: usize,
    pub session_ttl: Duration,
    pub trust_forwarded_for: bool,
    pub heartbeat_interval: Duration,
    pub idle_timeout: Duration,
    /// How often the routing jobs (reply timeouts, offline agents) run.
    pub jobs_interval: Duration,
    /// How long an agent may be disconnected before their conversations are handed on.
    pub offline_grace: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./parley-data"),
            database_url: None,
            redis_url: None,
            public_url: None,
            max_upload_bytes: 10 * 1024 * 1024,
            session_ttl: Duration::from_secs(14 * 24 * 3600),
            trust_forwarded_for: false,
            heartbeat_interval: Duration::from_secs(25),
            idle_timeout: Duration::from_secs(60),
            jobs_interval: Duration::from_secs(1),
            offline_grace: parley_core::service_routing::OFFLINE_GRACE,
        }
    }
}

/// The optional config file; same names as the flags, with underscores.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub redis_url: Option<String>,
    pub public_url: Option<String>,
    pub max_upload_bytes: Option<usize>,
    pub session_ttl_hours: Option<u64>,
    pub trust_forwarded_for: Option<bool>,
    pub log_format: Option<String>,
}

impl FileSettings {
    pub fn load(path: &std::path::Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }
}

impl Settings {
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("parley.db").display()))
    }

    /// Empty when not configured: snippets then use the address the admin reached us at.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_owned()
    }

    /// Settings for a test server: a free port on loopback and the given data directory.
    pub fn for_tests(data_dir: PathBuf, database_url: Option<String>) -> Self {
        Settings {
            listen: "127.0.0.1:0".into(),
            data_dir,
            database_url,
            ..Settings::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_file_is_parsed_strictly() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("parley.toml");
        std::fs::write(&p, "listen = \"0.0.0.0:9000\"\npublic_url = \"https://chat.example.com/\"\nsession_ttl_hours = 2\n").unwrap();
        let f = FileSettings::load(&p).unwrap();
        assert_eq!(f.listen.as_deref(), Some("0.0.0.0:9000"));
        assert_eq!(f.session_ttl_hours, Some(2));
        std::fs::write(&p, "lisen = \"typo\"\n").unwrap();
        let err = FileSettings::load(&p).unwrap_err();
        assert!(format!("{err:#}").contains("lisen"), "{err:#}");
    }

    #[test]
    fn defaults_and_derived_values() {
        let s = Settings::default();
        assert_eq!(s.listen, "127.0.0.1:8080");
        assert_eq!(s.database_url(), "sqlite://./parley-data/parley.db");
        let s = Settings {
            public_url: Some("https://chat.example.com/".into()),
            ..Settings::default()
        };
        assert_eq!(s.public_url(), "https://chat.example.com");
    }
}
