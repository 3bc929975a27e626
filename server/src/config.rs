//! The relay's settings: built-in defaults, then a TOML file, then `MELDPUNT_` environment
//! variables. Loading settings never writes a file.
//!
//! This module must never log or print a secret; `Settings` holds none (keys live in files
//! that the settings only name).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The example configuration, also in `docs/meldpunt.example.toml`.
pub const EXAMPLE_CONFIG: &str = include_str!("../../docs/meldpunt.example.toml");

/// Every setting of the relay.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Folder holding `meldpunt.redb` and the relay's keys.
    pub data_dir: PathBuf,
    /// The signed directory file to serve (made with `meldpunt directory sign`).
    pub directory_file: PathBuf,
    /// The pinned directory key (`mpdk1…`); the relay refuses to serve a directory not signed by it.
    pub directory_key: String,
    /// TLS certificate chain and key (PEM). Without them, the relay serves plain HTTP and
    /// only on a loopback address (behind a Tor onion service).
    pub tls: Option<TlsSettings>,
    /// An `Onion-Location` header value to send, if any.
    pub onion_location: Option<String>,
    /// Whether every connection starts with the Tor circuit line that the onion service's
    /// `HiddenServiceExportCircuitID haproxy` sends (connections without one are closed).
    /// The form without JavaScript then gives each circuit its own share (see `circuit`).
    pub tor_circuit_ids: bool,
    /// Size and time limits.
    pub limits: Limits,
    /// Proof-of-work settings.
    pub proof_of_work: ProofOfWork,
    /// Days after the last activity at which a mailbox and everything in it is deleted.
    pub retention_days: u32,
    /// Minutes an office session lasts.
    pub session_minutes: u32,
    /// The web form.
    pub web: WebSettings,
    /// Where mailboxes are stored: the embedded redb file (the default), or PostgreSQL for
    /// several relays on several hosts.
    pub storage: StorageSettings,
}

/// Which store the relay keeps its mailboxes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// One redb file in the data folder: one relay process.
    #[default]
    Redb,
    /// A PostgreSQL database that several relay processes share.
    Postgres,
}

/// `[storage]`: the backend and, for PostgreSQL, how to reach it.
///
/// The URL must hold no password (these settings are printed in debug output and errors):
/// the password lives in `password_file`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageSettings {
    /// `redb` or `postgres`.
    pub backend: Backend,
    /// For PostgreSQL: `postgres://USER@HOST:PORT/DATABASE?sslmode=require`, without a
    /// password.
    pub url: Option<String>,
    /// A file holding the database user's password (one line), if it has one.
    pub password_file: Option<PathBuf>,
    /// PEM certificates of the authorities the database server's certificate must chain to:
    /// with it, the connection is TLS (rustls); without it, only a loopback or Unix-socket
    /// database is accepted.
    pub ca_file: Option<PathBuf>,
    /// Connections each relay process keeps open.
    pub pool_size: usize,
    /// Seconds one statement may run before the database cancels it (when commits wait for
    /// no synchronous standby; with one, only lock waits time out, so that no commit's wait
    /// for the standby is cut short).
    pub statement_timeout_seconds: u64,
    /// Seconds to wait for a connection (to open one, or for a free one) before a request
    /// is answered with "storage unavailable".
    pub connect_timeout_seconds: u64,
    /// PostgreSQL's `synchronous_commit` for the relay's transactions: `on` (the default:
    /// acknowledged once on the primary's disk), `remote_write` or `remote_apply` (also on a
    /// synchronous standby, when one is configured). `local` and `off` are refused: see
    /// docs/operations.md for what each means for acknowledged reports on failover.
    pub synchronous_commit: String,
}

impl Default for StorageSettings {
    fn default() -> Self {
        StorageSettings {
            backend: Backend::Redb,
            url: None,
            password_file: None,
            ca_file: None,
            pool_size: 16,
            statement_timeout_seconds: 10,
            connect_timeout_seconds: 5,
            synchronous_commit: "on".into(),
        }
    }
}

impl StorageSettings {
    /// Checks what can be checked without connecting.
    fn check(&self) -> Result<(), ConfigError> {
        if self.backend == Backend::Redb {
            return Ok(());
        }
        let Some(url) = self.url.as_deref() else {
            return Err(ConfigError::Invalid(
                "[storage] backend = \"postgres\" needs url = \"postgres://USER@HOST:PORT/DATABASE\"".into(),
            ));
        };
        let config: tokio_postgres::Config = url.parse().map_err(|_| {
            ConfigError::Invalid(
                "[storage] url is not a PostgreSQL URL (postgres://USER@HOST:PORT/DATABASE)".into(),
            )
        })?;
        if config.get_password().is_some() {
            return Err(ConfigError::Invalid(
                "[storage] url holds a password: put it in password_file instead (the URL is printed in logs and errors)".into(),
            ));
        }
        if self.pool_size == 0 || self.pool_size > 1024 {
            return Err(ConfigError::Invalid(
                "[storage] pool_size must be between 1 and 1024".into(),
            ));
        }
        if self.statement_timeout_seconds == 0 || self.connect_timeout_seconds == 0 {
            return Err(ConfigError::Invalid(
                "[storage] statement_timeout_seconds and connect_timeout_seconds must be at least 1".into(),
            ));
        }
        if !matches!(
            self.synchronous_commit.as_str(),
            "on" | "remote_write" | "remote_apply"
        ) {
            return Err(ConfigError::Invalid(format!(
                "[storage] synchronous_commit = {:?} would acknowledge reports before they are on disk: use on, remote_write or remote_apply",
                self.synchronous_commit
            )));
        }
        Ok(())
    }
}

/// The web form served at `/`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebSettings {
    /// Whether the relay serves the web form at all (the API is always served).
    pub enabled: bool,
    /// Minutes a served form stays valid (its form token).
    pub form_token_minutes: u32,
    /// Seconds that must pass between serving a form and accepting it without JavaScript.
    pub minimum_form_seconds: u64,
    /// Submissions a minute, from everyone together, that the relay seals for browsers
    /// without JavaScript.
    pub no_script_submissions_per_minute: u32,
    /// Of those, how many one Tor circuit may send a minute (with `tor_circuit_ids`).
    pub no_script_submissions_per_circuit: u32,
    /// Largest attachment accepted without JavaScript (held in memory while sealed), bytes.
    pub max_form_attachment_bytes: usize,
    /// Receipt-code reads without JavaScript (opening a conversation, downloading an
    /// attachment) a minute, from everyone together.
    pub no_script_reads_per_minute: u32,
    /// Of those, how many one Tor circuit may make a minute (with `tor_circuit_ids`).
    pub no_script_reads_per_circuit: u32,
    /// Form posts without JavaScript handled at once; one more is told the service is busy
    /// (its form stays usable), so that a few slow or heavy posts cannot take all memory.
    pub concurrent_posts: usize,
    /// Seconds a form post without JavaScript may take, upload included.
    pub form_timeout_seconds: u64,
    /// Messages shown on one page of a conversation without JavaScript (older ones on the
    /// next page).
    pub thread_messages: usize,
    /// Most sealed bytes opened for one page of a conversation without JavaScript (besides
    /// the report and the reporter's last message, which are always opened).
    pub thread_bytes: u64,
    /// A directory version the office vouches for, `VERSION:HASH` (as `meldpunt directory
    /// history --json` prints them), written into every page: the browser script checks
    /// that the directory it is served continues that one (docs/operations.md).
    pub directory_pin: Option<String>,
}

impl WebSettings {
    /// The pinned version and hash, if one is configured (checked at start).
    pub fn directory_pin(&self) -> Option<(u64, meldpunt_crypto::DirectoryHash)> {
        let (version, hash) = self.directory_pin.as_deref()?.split_once(':')?;
        Some((
            version.parse().ok()?,
            meldpunt_crypto::DirectoryHash::from_wire(hash).ok()?,
        ))
    }
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            enabled: true,
            form_token_minutes: 240,
            minimum_form_seconds: 3,
            no_script_submissions_per_minute: 30,
            no_script_submissions_per_circuit: 3,
            max_form_attachment_bytes: 16 << 20,
            no_script_reads_per_minute: 120,
            no_script_reads_per_circuit: 20,
            concurrent_posts: 8,
            form_timeout_seconds: 300,
            thread_messages: 20,
            thread_bytes: 2 << 20,
            directory_pin: None,
        }
    }
}

/// TLS certificate files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// PEM certificate chain.
    pub certificate_chain: PathBuf,
    /// PEM private key.
    pub private_key: PathBuf,
}

/// Limits on what clients may send.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest sealed message (report, follow-up, reply), bytes.
    pub max_message_bytes: usize,
    /// Largest sealed attachment, bytes.
    pub max_attachment_bytes: u64,
    /// Most attachments per mailbox.
    pub max_attachments_per_mailbox: u32,
    /// Most messages per mailbox.
    pub max_messages_per_mailbox: u32,
    /// Most sealed bytes (messages and attachments) each side — the reporter, the office —
    /// may store in one mailbox. Proof-of-work is paid once per mailbox, so this bounds what
    /// one stamp can make the relay store.
    pub max_mailbox_bytes: u64,
    /// Seconds a client may take to send request headers (slowloris).
    pub header_timeout_seconds: u64,
    /// Seconds a whole request may take (attachments have their own).
    pub request_timeout_seconds: u64,
    /// Seconds an attachment upload or download may take.
    pub attachment_timeout_seconds: u64,
    /// Most open connections at once.
    pub max_connections: usize,
    /// Seconds a client may leave the relay's answer unread before the connection is cut
    /// (slow readers would otherwise hold a connection forever).
    pub write_stall_seconds: u64,
    /// Requests per minute one office session may make.
    pub office_requests_per_minute: u32,
    /// Office challenges per minute one organisation may be asked for (each costs the relay
    /// a few X25519 operations; nothing is stored until one is answered).
    pub office_challenges_per_minute: u32,
}

/// The difficulty asked for at rest: a browser without the JIT (Tor Browser at "Safer") at a
/// quarter of this machine's speed (a cheap phone) solves it within 5 s at the 95th
/// percentile (measured in docs/web-form.md).
pub const BASE_DIFFICULTY: u8 = 14;
/// The most a relay asks of a reporter's browser, however high the load: what that same
/// browser solves within 60 s at the 95th percentile (docs/web-form.md). Beyond it, load is
/// shed by means that do not punish the slowest honest reporter (docs/operations.md).
pub const REPORTER_CEILING: u8 = 18;

/// Proof-of-work for mailbox creation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProofOfWork {
    /// Whether creating a mailbox needs a stamp. Only benchmarks turn this off.
    pub enabled: bool,
    /// Leading zero bits asked for at rest (2^n hashes expected).
    pub base_difficulty: u8,
    /// The most ever asked for.
    pub max_difficulty: u8,
    /// Mailbox creations per minute above which the difficulty rises (one bit per doubling).
    pub target_per_minute: u32,
    /// Seconds a challenge stays valid.
    pub challenge_seconds: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("meldpunt-data"),
            directory_file: PathBuf::from("directory.signed.json"),
            directory_key: String::new(),
            tls: None,
            onion_location: None,
            tor_circuit_ids: false,
            limits: Limits::default(),
            proof_of_work: ProofOfWork::default(),
            retention_days: 365,
            session_minutes: 15,
            web: WebSettings::default(),
            storage: StorageSettings::default(),
        }
    }
}

impl Limits {
    /// What one mailbox may hold.
    pub fn mailbox(&self) -> crate::storage::MailboxLimits {
        crate::storage::MailboxLimits {
            messages: self.max_messages_per_mailbox,
            attachments: self.max_attachments_per_mailbox,
            bytes: self.max_mailbox_bytes,
            attachment_bytes: self.max_attachment_bytes,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 2 << 20,
            max_attachment_bytes: 256 << 20,
            max_attachments_per_mailbox: 64,
            max_messages_per_mailbox: 1000,
            max_mailbox_bytes: 1 << 30,
            header_timeout_seconds: 10,
            request_timeout_seconds: 30,
            attachment_timeout_seconds: 1800,
            max_connections: 1024,
            write_stall_seconds: 60,
            office_requests_per_minute: 6000,
            office_challenges_per_minute: 60,
        }
    }
}

impl Default for ProofOfWork {
    fn default() -> Self {
        ProofOfWork {
            enabled: true,
            base_difficulty: BASE_DIFFICULTY,
            max_difficulty: REPORTER_CEILING,
            target_per_minute: 60,
            challenge_seconds: 600,
        }
    }
}

/// Errors while loading settings.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("the configuration file {path} is not valid: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An environment variable is not valid.
    #[error("the environment variable {name} is not valid: {message}")]
    Environment {
        /// The variable.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// The settings contradict each other or the rules.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Settings {
    /// Loads the file, then applies `MELDPUNT_*` environment variables, then checks.
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut settings: Settings = toml::from_str(&text).map_err(|error| ConfigError::Parse {
            path: path.to_owned(),
            message: error.message().to_owned(),
        })?;
        settings.apply_environment(std::env::vars())?;
        settings.check()?;
        Ok(settings)
    }

    /// Applies `MELDPUNT_LISTEN`, `MELDPUNT_DATA_DIR`, `MELDPUNT_RETENTION_DAYS`,
    /// `MELDPUNT_ONION_LOCATION` from the given variables.
    pub fn apply_environment(
        &mut self,
        variables: impl Iterator<Item = (String, String)>,
    ) -> Result<(), ConfigError> {
        for (name, value) in variables {
            let invalid = |message: &str| ConfigError::Environment {
                name: name.clone(),
                message: message.to_owned(),
            };
            match name.as_str() {
                "MELDPUNT_LISTEN" => {
                    self.listen = value
                        .parse()
                        .map_err(|_| invalid("expected an address such as 127.0.0.1:8080"))?
                }
                "MELDPUNT_DATA_DIR" => self.data_dir = PathBuf::from(value),
                "MELDPUNT_RETENTION_DAYS" => {
                    self.retention_days = value
                        .parse()
                        .map_err(|_| invalid("expected a whole number of days"))?
                }
                "MELDPUNT_ONION_LOCATION" => self.onion_location = Some(value),
                _ => {}
            }
        }
        Ok(())
    }

    /// Checks the rules settings must follow.
    pub fn check(&self) -> Result<(), ConfigError> {
        self.storage.check()?;
        if self.tls.is_none() && !self.listen.ip().is_loopback() {
            return Err(ConfigError::Invalid(format!(
                "plain HTTP is only allowed on a loopback address (behind a Tor onion service); \
                 {} is not loopback: configure [tls] or listen on 127.0.0.1",
                self.listen
            )));
        }
        if self.tor_circuit_ids && !self.listen.ip().is_loopback() {
            return Err(ConfigError::Invalid(format!(
                "tor_circuit_ids trusts the first line of every connection, which only the local \
                 Tor onion service may send: listen on a loopback address, not {}",
                self.listen
            )));
        }
        if self.web.directory_pin.is_some() && self.web.directory_pin().is_none() {
            return Err(ConfigError::Invalid(
                "web.directory_pin is VERSION:HASH, the version and hash of a directory the office \
                 vouches for (meldpunt directory history --json prints them)"
                    .into(),
            ));
        }
        if self.retention_days == 0 {
            return Err(ConfigError::Invalid(
                "retention_days must be at least 1".into(),
            ));
        }
        let pow = &self.proof_of_work;
        if pow.base_difficulty > pow.max_difficulty {
            return Err(ConfigError::Invalid(
                "proof_of_work: base_difficulty ≤ max_difficulty is required".into(),
            ));
        }
        if pow.max_difficulty > REPORTER_CEILING {
            return Err(ConfigError::Invalid(format!(
                "proof_of_work.max_difficulty is at most {REPORTER_CEILING}: above it a reporter's \
                 browser without the JIT, on a slow phone, needs more than a minute (docs/web-form.md); \
                 shed load beyond it with Tor's own proof-of-work (docs/operations.md)"
            )));
        }
        if self.limits.max_message_bytes < 8192 {
            return Err(ConfigError::Invalid(
                "limits.max_message_bytes must be at least 8192".into(),
            ));
        }
        if self.limits.max_mailbox_bytes < self.limits.max_message_bytes as u64 {
            return Err(ConfigError::Invalid(
                "limits.max_mailbox_bytes must be at least limits.max_message_bytes".into(),
            ));
        }
        if self.web.form_token_minutes == 0
            || self.web.no_script_submissions_per_minute == 0
            || self.web.no_script_reads_per_minute == 0
            || self.web.no_script_submissions_per_circuit == 0
            || self.web.no_script_reads_per_circuit == 0
            || self.web.concurrent_posts == 0
            || self.web.form_timeout_seconds == 0
            || self.web.thread_messages == 0
        {
            return Err(ConfigError::Invalid(
                "web.form_token_minutes, no_script_submissions_per_minute, no_script_reads_per_minute, no_script_submissions_per_circuit, no_script_reads_per_circuit, concurrent_posts, form_timeout_seconds and thread_messages must be at least 1"
                    .into(),
            ));
        }
        if self.session_minutes == 0 {
            return Err(ConfigError::Invalid(
                "session_minutes must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_is_valid() {
        let settings: Settings = toml::from_str(EXAMPLE_CONFIG).unwrap();
        settings.check().unwrap();
    }

    #[test]
    fn plain_http_on_a_public_address_is_refused() {
        let settings = Settings {
            listen: "0.0.0.0:8080".parse().unwrap(),
            ..Settings::default()
        };
        let message = settings.check().unwrap_err().to_string();
        assert!(message.contains("loopback"), "{message}");
    }

    #[test]
    fn tor_circuit_ids_are_trusted_only_on_a_loopback_listener() {
        let settings = Settings {
            listen: "0.0.0.0:8443".parse().unwrap(),
            tor_circuit_ids: true,
            tls: Some(TlsSettings {
                certificate_chain: "chain.pem".into(),
                private_key: "key.pem".into(),
            }),
            ..Settings::default()
        };
        let message = settings.check().unwrap_err().to_string();
        assert!(message.contains("tor_circuit_ids"), "{message}");
        let behind_tor = Settings {
            tor_circuit_ids: true,
            ..Settings::default()
        };
        behind_tor.check().unwrap();
    }

    #[test]
    fn environment_overrides_and_is_checked() {
        let mut settings = Settings::default();
        settings
            .apply_environment(
                [("MELDPUNT_RETENTION_DAYS".to_owned(), "30".to_owned())].into_iter(),
            )
            .unwrap();
        assert_eq!(settings.retention_days, 30);
        assert!(settings
            .apply_environment([("MELDPUNT_LISTEN".to_owned(), "nope".to_owned())].into_iter())
            .is_err());
    }

    #[test]
    fn no_relay_asks_more_of_a_reporter_than_the_ceiling() {
        for (base, max, refused) in [
            (14, 18, false),
            (14, 19, true),
            (19, 19, true),
            (18, 14, true),
        ] {
            let settings = Settings {
                proof_of_work: ProofOfWork {
                    base_difficulty: base,
                    max_difficulty: max,
                    ..ProofOfWork::default()
                },
                ..Settings::default()
            };
            assert_eq!(settings.check().is_err(), refused, "{base} {max}");
        }
        let message = Settings {
            proof_of_work: ProofOfWork {
                max_difficulty: REPORTER_CEILING + 1,
                ..ProofOfWork::default()
            },
            ..Settings::default()
        }
        .check()
        .unwrap_err()
        .to_string();
        assert!(message.contains("more than a minute"), "{message}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<Settings>("listen_port = 80").is_err());
    }
}
