//! What every handler shares: settings, storage, the served directory, the stamp key and
//! the anti-abuse and metrics counters.

use std::path::Path;
use std::sync::{Arc, RwLock};

use meldpunt_crypto::{Directory, DirectoryKey, SignedDirectory, StampKey};

use crate::abuse::{Difficulty, OfficeChallengeLimiter, SessionLimiter};
use crate::config::Backend;
use crate::config::Settings;
use crate::metrics::Metrics;
use crate::storage::{PostgresStore, Storage, Store};

/// The signed directory the relay serves, verified at start.
#[derive(Debug)]
pub struct ServedDirectory {
    /// The exact bytes to serve.
    pub signed: Vec<u8>,
    /// What they say (used to seal office challenges).
    pub directory: Directory,
    /// Every version this relay has served, by version, up to this one: the history clients
    /// check the current one against (`data_dir/directories/`).
    pub history: std::collections::BTreeMap<u64, Arc<str>>,
}

impl ServedDirectory {
    /// Loads and verifies the directory file against the configured key. An expired
    /// directory is still loaded (clients refuse it and say why), with a warning.
    pub fn load(path: &Path, key: &str) -> Result<ServedDirectory, String> {
        if key.trim().is_empty() {
            return Err(
                "directory_key is empty in the configuration: set it to the directory key (mpdk1…) \
                 that `meldpunt directory init` printed when the directory was made"
                    .to_owned(),
            );
        }
        let key: DirectoryKey = key.parse().map_err(|_| {
            format!(
                "directory_key \"{}\" is not a Meldpunt directory key: it starts with mpdk1, as \
                 `meldpunt directory init` printed it",
                key.chars().take(80).collect::<String>()
            )
        })?;
        let bytes = std::fs::read(path)
            .map_err(|error| format!("cannot read the directory {}: {error}", path.display()))?;
        let signed = SignedDirectory::from_bytes(bytes.clone())
            .map_err(|error| format!("{}: {error}", path.display()))?;
        let today = meldpunt_crypto::Day::from(time::OffsetDateTime::now_utc().date());
        let directory = match signed.verify(&key, today, None) {
            Ok(directory) => directory,
            Err(meldpunt_crypto::Error::DirectoryExpired { expired_on }) => {
                tracing::warn!(%expired_on, "the served directory has expired; clients will refuse it until it is re-signed");
                signed
                    .verify(&key, meldpunt_crypto::Day::from(time::Date::MIN), None)
                    .map_err(|error| format!("{}: {error}", path.display()))?
            }
            Err(error) => return Err(format!("{}: {error}", path.display())),
        };
        Ok(ServedDirectory {
            signed: bytes,
            directory,
            history: Default::default(),
        })
    }

    /// Reads the history this relay keeps in `data_dir/directories/` (one file per version it
    /// served, signed by `key`), up to this version. A file that is not a directory signed by
    /// the key is left out, with a warning: clients then see a gap and refuse, rather than
    /// trust a history the relay cannot vouch for.
    fn read_history(&mut self, data_dir: &Path, key: &str) {
        let Ok(key) = key.parse::<DirectoryKey>() else {
            return;
        };
        let folder = data_dir.join(HISTORY_FOLDER);
        let Ok(entries) = std::fs::read_dir(&folder) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let accepted = std::fs::read(&path)
                .ok()
                .and_then(|bytes| {
                    let signed = SignedDirectory::from_bytes(bytes.clone()).ok()?;
                    let directory = signed.verify_history(&key).ok()?;
                    let text = String::from_utf8(bytes).ok()?;
                    Some((directory.version, text))
                })
                .filter(|(version, _)| *version <= self.directory.version);
            match accepted {
                Some((version, text)) => {
                    self.history.insert(version, Arc::from(text));
                }
                None => tracing::warn!(
                    file = %path.display(),
                    "a file in the directory history is not a directory signed by directory_key; it is not served"
                ),
            }
        }
    }

    /// Days from `today` until the last day it is valid (negative once it has expired).
    pub fn days_left(&self, today: meldpunt_crypto::Day) -> i64 {
        (self.directory.expires_on.date() - today.date()).whole_days()
    }
}

/// The recipients of `before` that `after` lists with fewer keys, or not at all.
fn recipients_that_lost_keys(
    before: &Directory,
    after: &Directory,
) -> Vec<crate::storage::RecipientScope> {
    let mut changed = Vec::new();
    for organisation in &before.organisations {
        for recipient in &organisation.recipients {
            let address = meldpunt_crypto::RecipientAddress {
                organisation: organisation.id.clone(),
                recipient: recipient.id.clone(),
            };
            let kept = after.recipient(&address).ok();
            let lost = match kept {
                None => true,
                Some(kept) => recipient.keys.iter().any(|key| !kept.keys.contains(key)),
            };
            if lost {
                changed.push(crate::storage::RecipientScope {
                    organisation: address.organisation,
                    recipient: address.recipient,
                });
            }
        }
    }
    changed
}

/// The file in the data folder that remembers the newest directory version the relay has
/// served: it never serves an older one (a client that pinned the newer would refuse it, and
/// an older directory may list keys that were retired).
const SERVED_VERSION_FILE: &str = "directory-version";

/// The folder in the data folder where the relay keeps every directory version it served
/// (`<version>.json`), the history it serves at `/api/v1/directory/history`.
const HISTORY_FOLDER: &str = "directories";

/// Refuses `directory` if this relay has served a newer version before; else remembers its
/// version as served, keeps it in the history folder and reads that history.
fn check_and_record_version(
    data_dir: &Path,
    path: &Path,
    key: &str,
    directory: &mut ServedDirectory,
) -> Result<(), String> {
    let folder = data_dir.join(HISTORY_FOLDER);
    crate::files::create_private_dir(&folder)
        .map_err(|error| format!("cannot create {}: {error}", folder.display()))?;
    let version = directory.directory.version;
    let file = folder.join(format!("{version}.json"));
    let kept = std::fs::read(&file).ok();
    if kept.as_ref().is_some_and(|kept| *kept != directory.signed) {
        return Err(format!(
            "{} is another directory version {version} than the one this relay served before \
             ({}): clients that saw that one would refuse it as a fork; sign a new version \
             (meldpunt directory sign) instead",
            path.display(),
            file.display()
        ));
    }
    // It must continue the version before, if this relay served that one.
    let before = folder.join(format!("{}.json", version.saturating_sub(1)));
    match (
        std::fs::read(&before)
            .ok()
            .and_then(|bytes| SignedDirectory::from_bytes(bytes).ok())
            .and_then(|signed| signed.hash().ok()),
        directory.directory.previous,
    ) {
        (Some(hash), Some(previous)) if hash != previous => {
            return Err(format!(
                "{} (version {version}) does not continue version {} this relay served: its \
                 `previous` names another directory, and clients would refuse it; sign it with \
                 meldpunt directory sign from the file signed last",
                path.display(),
                version - 1
            ))
        }
        (None, Some(_)) if version > 1 => tracing::warn!(
            version,
            "this relay never served the version before this one: clients that pinned it see a gap and refuse; copy its file from directory.signed.history/ into the data folder's directories/"
        ),
        (Some(_), None) => tracing::warn!(
            version,
            "this directory names no previous version: clients that pinned an earlier one refuse it; sign it with a current meldpunt directory sign"
        ),
        _ => {}
    }
    // Only a directory that passed every check is recorded as served.
    check_version(data_dir, path, directory)?;
    if kept.is_none() {
        crate::files::replace_private(&file, &directory.signed)
            .map_err(|error| format!("cannot write {}: {error}", file.display()))?;
    }
    directory.read_history(data_dir, key);
    Ok(())
}

/// Refuses `directory` if this relay has served a newer version before; else remembers its
/// version as served.
fn check_version(data_dir: &Path, path: &Path, directory: &ServedDirectory) -> Result<(), String> {
    let record = data_dir.join(SERVED_VERSION_FILE);
    let served = match std::fs::read_to_string(&record) {
        Ok(text) => text.trim().parse::<u64>().map_err(|_| {
            format!(
                "{} is damaged (it should hold the newest directory version served); delete it to accept the directory as it is",
                record.display()
            )
        })?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => 0,
        Err(error) => return Err(format!("cannot read {}: {error}", record.display())),
    };
    let version = directory.directory.version;
    if version < served {
        return Err(format!(
            "{} is directory version {version}, older than version {served} this relay has served: \
             sign a new version (meldpunt directory sign) instead of going back",
            path.display()
        ));
    }
    if version > served {
        crate::files::replace_private(&record, version.to_string().as_bytes())
            .map_err(|error| format!("cannot write {}: {error}", record.display()))?;
    }
    Ok(())
}

/// The TLS acceptor the settings ask for, if any; an error names the file and what is wrong.
fn tls_acceptor(settings: &Settings) -> Result<Option<tokio_rustls::TlsAcceptor>, String> {
    settings
        .tls
        .as_ref()
        .map(|tls| {
            crate::admin::tls_acceptor(tls)
                .map_err(|error| format!("cannot use the TLS certificate or key: {error}"))
        })
        .transpose()
}

/// Shared state of the relay.
pub struct AppState {
    /// Settings.
    pub settings: Settings,
    /// Storage.
    pub(crate) store: Arc<dyn Storage>,
    /// The served directory: replaced whole when a new one is loaded (SIGHUP).
    directory: RwLock<Arc<ServedDirectory>>,
    /// The TLS acceptor, if TLS is configured: replaced whole when the certificate is
    /// reloaded (SIGHUP); connections already open keep theirs.
    tls: RwLock<Option<tokio_rustls::TlsAcceptor>>,
    /// Signs proof-of-work challenges. With redb, new at every start (outstanding challenges
    /// die with the process, and clients simply ask again); with PostgreSQL, shared by every
    /// relay on the database.
    pub stamp_key: StampKey,
    /// Proof-of-work difficulty.
    pub difficulty: Difficulty,
    /// Office request limits.
    pub office_limiter: SessionLimiter,
    /// Who may ask for office challenges (the store keeps the waiting ones).
    pub office_challenges: OfficeChallengeLimiter,
    /// Counters.
    pub metrics: Metrics,
    /// Form tokens and the global rate of the web form without JavaScript.
    pub form_guard: crate::web::guard::FormGuard,
    /// Slots for form posts without JavaScript running at once.
    pub form_slots: tokio::sync::Semaphore,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AppState")
            .field("settings", &self.settings)
            .field("directory_version", &self.directory().directory.version)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// The directory served now.
    pub fn directory(&self) -> Arc<ServedDirectory> {
        Arc::clone(
            &self
                .directory
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    /// The TLS acceptor for a new connection, if TLS is configured.
    pub fn tls_acceptor(&self) -> Option<tokio_rustls::TlsAcceptor> {
        self.tls
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Reads the directory and the TLS certificate and key again (SIGHUP, `systemctl reload`)
    /// and serves them from the next request and connection on; nothing open is dropped.
    /// A file that does not load — or a directory older than one served before — is refused
    /// with the reason, and what was served stays. Other settings need a restart.
    /// Office sessions and waiting challenges of a recipient that lost a key (a retired or
    /// stolen one) end: its members log in again, and the retired key cannot.
    pub async fn reload(&self) -> Result<String, String> {
        let settings = &self.settings;
        let mut directory =
            ServedDirectory::load(&settings.directory_file, &settings.directory_key)?;
        let tls = tls_acceptor(settings)?;
        check_and_record_version(
            &settings.data_dir,
            &settings.directory_file,
            &settings.directory_key,
            &mut directory,
        )?;
        let version = directory.directory.version;
        let changed = recipients_that_lost_keys(&self.directory().directory, &directory.directory);
        *self
            .directory
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(directory);
        let ended = if changed.is_empty() {
            0
        } else {
            self.store
                .forget_challenges(changed.clone())
                .await
                .map_err(|error| format!("the new directory is served, but forgetting the challenges of recipients that lost a key failed: {error}"))?;
            self.store
                .end_sessions(changed)
                .await
                .map_err(|error| format!("the new directory is served, but ending the sessions of recipients that lost a key failed: {error}"))?
        };
        if ended > 0 {
            tracing::info!(
                sessions = ended,
                "office sessions of recipients that lost a key ended"
            );
        }
        if tls.is_some() {
            *self
                .tls
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = tls;
        }
        Ok(format!(
            "directory version {version}{}",
            if settings.tls.is_some() {
                " and the TLS certificate"
            } else {
                ""
            }
        ))
    }

    /// Everything is checked before anything listens: the directory key and directory, the
    /// TLS files, then the data folder and database; each error names its file. A
    /// PostgreSQL database must have this relay's schema (`meldpunt-server migrate`).
    pub async fn open(settings: Settings) -> Result<Arc<AppState>, String> {
        let mut directory =
            ServedDirectory::load(&settings.directory_file, &settings.directory_key)?;
        let tls = tls_acceptor(&settings)?;
        crate::files::create_private_dir(&settings.data_dir).map_err(|error| {
            format!(
                "cannot create the data folder {}: {error}",
                settings.data_dir.display()
            )
        })?;
        let (store, stamp_key, form_key): (Arc<dyn Storage>, _, _) = match settings.storage.backend
        {
            Backend::Redb => {
                let store = open_redb(&settings, &directory)?;
                (Arc::new(store), StampKey::generate(), None)
            }
            Backend::Postgres => {
                let store = PostgresStore::connect(&settings.storage).await?;
                store.check_schema().await?;
                let key = |name: &'static str| {
                    let store = store.clone();
                    async move {
                        store.shared_key(name).await.map_err(|error| {
                            format!("cannot read the shared {name} key from the database: {error}")
                        })
                    }
                };
                let stamp_key = StampKey::from_bytes(key("proof-of-work").await?);
                let form_key = key("form-token").await?;
                (Arc::new(store), stamp_key, Some(form_key))
            }
        };
        check_and_record_version(
            &settings.data_dir,
            &settings.directory_file,
            &settings.directory_key,
            &mut directory,
        )?;
        let form_guard = match form_key {
            Some(key) => crate::web::guard::FormGuard::with_key(settings.web.clone(), key),
            None => {
                let key_path = settings.data_dir.join("form-token.key");
                crate::web::guard::FormGuard::kept_in(settings.web.clone(), &key_path)
                    .map_err(|error| format!("cannot use {}: {error}", key_path.display()))?
            }
        };
        Ok(Arc::new(AppState {
            difficulty: Difficulty::new(settings.proof_of_work.clone()),
            office_limiter: SessionLimiter::new(settings.limits.office_requests_per_minute),
            office_challenges: OfficeChallengeLimiter::new(
                settings.limits.office_challenges_per_minute,
            ),
            stamp_key,
            metrics: Metrics::default(),
            form_guard,
            form_slots: tokio::sync::Semaphore::new(settings.web.concurrent_posts),
            store,
            directory: RwLock::new(Arc::new(directory)),
            tls: RwLock::new(tls),
            settings,
        }))
    }
}

/// Opens the redb file in the data folder. Mailboxes from before walls between recipients
/// (store format 2) are addressed to the recipients their organisation has in the
/// directory, before anything is served.
fn open_redb(settings: &Settings, directory: &ServedDirectory) -> Result<Store, String> {
    let recipients: std::collections::BTreeMap<String, Vec<String>> = directory
        .directory
        .organisations
        .iter()
        .map(|organisation| {
            let ids = organisation
                .recipients
                .iter()
                .map(|recipient| recipient.id.clone())
                .collect();
            (organisation.id.clone(), ids)
        })
        .collect();
    let database = settings.data_dir.join("meldpunt.redb");
    let (store, earlier) = Store::open_addressing(&database, Some(&recipients))
        .map_err(|error| format!("cannot open {}: {error}", database.display()))?;
    if earlier.addressed > 0 {
        tracing::info!(
        mailboxes = earlier.addressed,
        "mailboxes from before walls between recipients addressed to every recipient of their organisation"
        );
    }
    if earlier.unaddressed > 0 {
        tracing::warn!(
        mailboxes = earlier.unaddressed,
        "mailboxes from before walls between recipients whose organisation the directory does not list: no office sees them until it does (tried again at every start)"
        );
    }
    // Snapshots a backup left behind when the relay stopped while streaming it.
    if let Ok(entries) = std::fs::read_dir(&settings.data_dir) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(".backup-") && name.ends_with(".redb") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    Ok(store)
}
