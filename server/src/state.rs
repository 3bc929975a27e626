//! What every handler shares: settings, storage, the served directory, the stamp key and
//! the anti-abuse and metrics counters.

use std::path::Path;
use std::sync::Arc;

use meldpunt_crypto::{Directory, DirectoryKey, SignedDirectory, StampKey};

use crate::abuse::{Difficulty, PendingChallenges, SessionLimiter};
use crate::config::Settings;
use crate::metrics::Metrics;
use crate::storage::{Storage, Store};

/// The signed directory the relay serves, verified at start.
#[derive(Debug)]
pub struct ServedDirectory {
    /// The exact bytes to serve.
    pub signed: Vec<u8>,
    /// What they say (used to seal office challenges).
    pub directory: Directory,
}

impl ServedDirectory {
    /// Loads and verifies the directory file against the configured key. An expired
    /// directory is still loaded (clients refuse it and say why), with a warning.
    pub fn load(path: &Path, key: &str) -> Result<ServedDirectory, String> {
        let key: DirectoryKey = key
            .parse()
            .map_err(|_| "directory_key is not a Meldpunt directory key (mpdk1…)".to_owned())?;
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
        })
    }
}

/// Shared state of the relay.
#[derive(Debug)]
pub struct AppState {
    /// Settings.
    pub settings: Settings,
    /// Storage.
    pub(crate) store: Arc<dyn Storage>,
    /// The served directory.
    pub directory: ServedDirectory,
    /// Signs proof-of-work challenges (new at every start: outstanding challenges die with
    /// the process, and clients simply ask again).
    pub stamp_key: StampKey,
    /// Proof-of-work difficulty.
    pub difficulty: Difficulty,
    /// Office request limits.
    pub office_limiter: SessionLimiter,
    /// Office challenges waiting for their answer.
    pub office_challenges: PendingChallenges,
    /// Counters.
    pub metrics: Metrics,
    /// Form tokens and the global rate of the web form without JavaScript.
    pub form_guard: crate::web::guard::FormGuard,
    /// Slots for form posts without JavaScript running at once.
    pub form_slots: tokio::sync::Semaphore,
}

impl AppState {
    /// Addresses mailboxes from before walls between recipients (store format 2) to the
    /// recipients their organisation has in the directory, so that the offices that saw
    /// them still do; once, at the first start after the upgrade.
    pub async fn address_earlier_mailboxes(&self) -> Result<(), String> {
        let recipients = self
            .directory
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
        let addressed = self
            .store
            .address_earlier_mailboxes(recipients)
            .await
            .map_err(|error| {
                format!("cannot address the mailboxes from before format 3: {error}")
            })?;
        if addressed > 0 {
            tracing::info!(
                mailboxes = addressed,
                "mailboxes from before walls between recipients addressed to every recipient of their organisation"
            );
        }
        Ok(())
    }

    /// Opens storage and the directory as the settings say.
    pub fn open(settings: Settings) -> Result<Arc<AppState>, String> {
        crate::files::create_private_dir(&settings.data_dir).map_err(|error| {
            format!(
                "cannot create the data folder {}: {error}",
                settings.data_dir.display()
            )
        })?;
        let store = Store::open(&settings.data_dir.join("meldpunt.redb")).map_err(|error| {
            format!(
                "cannot open {}: {}",
                settings.data_dir.join("meldpunt.redb").display(),
                error
            )
        })?;
        let directory = ServedDirectory::load(&settings.directory_file, &settings.directory_key)?;
        let key_path = settings.data_dir.join("form-token.key");
        let form_guard = crate::web::guard::FormGuard::kept_in(settings.web.clone(), &key_path)
            .map_err(|error| format!("cannot use {}: {error}", key_path.display()))?;
        Ok(Arc::new(AppState {
            difficulty: Difficulty::new(settings.proof_of_work.clone()),
            office_limiter: SessionLimiter::new(settings.limits.office_requests_per_minute),
            office_challenges: PendingChallenges::new(settings.limits.office_challenges_per_minute),
            stamp_key: StampKey::generate(),
            metrics: Metrics::default(),
            form_guard,
            form_slots: tokio::sync::Semaphore::new(settings.web.concurrent_posts),
            store: Arc::new(store),
            directory,
            settings,
        }))
    }
}
