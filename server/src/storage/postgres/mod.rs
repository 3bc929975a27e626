//! The PostgreSQL store: the same records and promises as the redb [`super::Store`], in a
//! database that several relay processes on several hosts share (`[storage] backend =
//! "postgres"`, docs/operations.md).
//!
//! Every write is one transaction, answered only once PostgreSQL has committed it (with the
//! configured `synchronous_commit`); a refused write rolls back and changes nothing. Numbers
//! (an organisation's, a recipient's, hand-overs', case records') come from rows of
//! `counters` locked until commit, so they are committed in the order they are given and an
//! office's cursor never passes a number that commits later. Row locks are taken in one
//! order everywhere: the mailbox, then its attachment, then counters sorted by name.
//!
//! What is stored is what the redb file holds: hashed ids, day numbers, sealed bytes, and
//! the two relay keys every relay must share. This module must never store a token, an
//! address, a time of day or a plaintext, and never put the database password in an error.

use std::collections::BTreeMap;
use std::time::Duration;

mod creations;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use meldpunt_crypto::SpentStamp;
use tokio_postgres::error::SqlState;
use zeroize::Zeroizing;

use super::{
    decode, encode, AttachmentRecord, Author, BackupCounts, CaseRecordEntry, Grant, HandOverRecord,
    MailboxLimits, MailboxRecord, MessageRecord, PurgeCounts, RecipientScope, StoreCounts,
    StoreError,
};
use crate::clock::{day_number, unix_seconds};
use crate::config::StorageSettings;

/// The schema versions this relay knows, in order: each one's SQL, applied once by
/// `meldpunt-server migrate`.
const MIGRATIONS: &[(i32, &str)] = &[(1, include_str!("schema-1.sql"))];
/// The schema this relay reads and writes.
pub(crate) const SCHEMA_VERSION: i32 = 1;
/// Advisory lock keys (any two numbers no other program on the database uses).
const MIGRATION_LOCK: i64 = 0x6d65_6c64_0001;
const PURGE_LOCK: i64 = 0x6d65_6c64_0002;
/// Idle mailboxes retention deletes in one transaction.
const PURGE_ROUND: i64 = 500;
/// Most office challenges waiting at once, all relays together (as the redb store's).
const MAXIMUM_WAITING_CHALLENGES: i64 = 100_000;

/// A transaction of the pool's connection.
type Transaction<'a> = deadpool_postgres::Transaction<'a>;

/// The relay's store in PostgreSQL.
#[derive(Clone)]
pub(crate) struct PostgresStore {
    pool: Pool,
    /// New mailboxes wait here for the group-committing task ([`creations`]).
    creations: tokio::sync::mpsc::Sender<creations::Creation>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("PostgresStore")
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(error: tokio_postgres::Error) -> Self {
        match error.code() {
            Some(code) if *code == SqlState::DISK_FULL => StoreError::Full,
            Some(code)
                if code.code().starts_with("08")
                    || code.code().starts_with("57")
                    || code.code().starts_with("53")
                    || *code == SqlState::LOCK_NOT_AVAILABLE
                    || *code == SqlState::READ_ONLY_SQL_TRANSACTION
                    || *code == SqlState::T_R_DEADLOCK_DETECTED
                    || *code == SqlState::T_R_SERIALIZATION_FAILURE =>
            {
                StoreError::Unavailable(error.to_string())
            }
            Some(_) => StoreError::Failed(error.to_string()),
            // No answer from the database at all: a closed connection, a refused one.
            None if error.is_closed()
                || std::error::Error::source(&error)
                    .is_some_and(|source| source.is::<std::io::Error>()) =>
            {
                StoreError::Unavailable(error.to_string())
            }
            None => StoreError::Failed(error.to_string()),
        }
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        match error {
            deadpool_postgres::PoolError::Backend(error) => error.into(),
            other => StoreError::Unavailable(format!("no database connection: {other}")),
        }
    }
}

/// Day numbers and counts as PostgreSQL stores them.
fn int(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}
fn bigint(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
fn unsigned(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}
fn id<const N: usize>(bytes: &[u8]) -> Result<[u8; N], StoreError> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Failed("corrupt id in the database".into()))
}

/// The counter names the redb store uses too.
fn organisation_counter(organisation: &str) -> String {
    format!("next_message/{organisation}")
}
fn recipient_counter(organisation: &str, recipient: &str) -> String {
    format!("next_message/{organisation}/{recipient}")
}
fn hand_over_counter(scope: &RecipientScope) -> String {
    format!("next_hand_over/{}/{}", scope.organisation, scope.recipient)
}
fn case_record_counter(organisation: &str, recipient: &str) -> String {
    format!("next_case_record/{organisation}/{recipient}")
}

impl PostgresStore {
    /// A pool of connections to the configured database (none is opened yet), and the task
    /// that group-commits new mailboxes (on the current tokio runtime).
    pub(crate) async fn connect(settings: &StorageSettings) -> Result<PostgresStore, String> {
        let url = settings
            .url
            .as_deref()
            .ok_or("[storage] backend = \"postgres\" needs a url")?;
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|_| "[storage] url is not a PostgreSQL URL".to_owned())?;
        if let Some(path) = &settings.password_file {
            let password = Zeroizing::new(std::fs::read_to_string(path).map_err(|error| {
                format!(
                    "cannot read the database password file {}: {error}",
                    path.display()
                )
            })?);
            config.password(password.trim_end_matches(['\r', '\n']));
        }
        config.connect_timeout(Duration::from_secs(settings.connect_timeout_seconds));
        config.application_name("meldpunt-server");
        let tls = match &settings.ca_file {
            Some(path) => {
                // Never `prefer`: a man in the middle could answer "no TLS".
                if config.get_ssl_mode() == tokio_postgres::config::SslMode::Disable {
                    return Err(
                        "[storage] url says sslmode=disable, but ca_file is given: a connection with a certificate authority is always TLS (remove sslmode or set it to require)".into(),
                    );
                }
                config.ssl_mode(tokio_postgres::config::SslMode::Require);
                tls_config(path)?
            }
            None => {
                if config.get_ssl_mode() == tokio_postgres::config::SslMode::Require {
                    return Err(
                        "[storage] url asks for sslmode=require: give the database server's certificate authority in [storage] ca_file".into(),
                    );
                }
                let addresses_local = config
                    .get_hostaddrs()
                    .iter()
                    .all(|address| address.is_loopback());
                let local = addresses_local
                    && !config.get_hosts().is_empty()
                    && config.get_hosts().iter().all(|host| match host {
                        tokio_postgres::config::Host::Tcp(name) => {
                            name == "localhost"
                                || name
                                    .trim_matches(['[', ']'])
                                    .parse::<std::net::IpAddr>()
                                    .is_ok_and(|address| address.is_loopback())
                        }
                        #[cfg(unix)]
                        tokio_postgres::config::Host::Unix(_) => true,
                    });
                if !local {
                    return Err(
                        "[storage] url names a database on another host: connect to it over TLS (sslmode=require and ca_file), or through a loopback address or Unix socket".into(),
                    );
                }
                config.ssl_mode(tokio_postgres::config::SslMode::Disable);
                // Never used: the mode above keeps every connection plain.
                tokio_postgres_rustls::MakeRustlsConnect::new(empty_tls_config()?)
            }
        };
        // With a synchronous standby, a statement timeout would cut a commit's wait for it
        // short, and PostgreSQL would then only warn that the commit is not replicated: the
        // relay would acknowledge a report a failover can lose. Then only locks time out.
        let standbys = synchronous_standbys(&config, &tls).await?;
        let statement_timeout = if standbys.is_empty() && settings.synchronous_commit == "on" {
            format!(
                "-c statement_timeout={}s ",
                settings.statement_timeout_seconds
            )
        } else {
            tracing::info!(
                synchronous_standby_names = %standbys,
                "commits wait for a synchronous standby: no statement timeout, only lock waits time out"
            );
            String::new()
        };
        config.options(format!(
            "{statement_timeout}-c synchronous_commit={} -c lock_timeout={}s",
            settings.synchronous_commit, settings.statement_timeout_seconds,
        ));
        let manager = Manager::from_config(
            config,
            tls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let timeout = Some(Duration::from_secs(settings.connect_timeout_seconds));
        let pool = Pool::builder(manager)
            .max_size(settings.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(timeout)
            .create_timeout(timeout)
            .recycle_timeout(timeout)
            .build()
            .map_err(|error| format!("cannot make the database pool: {error}"))?;
        let (creations, waiting) = tokio::sync::mpsc::channel(creations::MAXIMUM_WAITING);
        tokio::spawn(creations::writer(pool.clone(), waiting));
        Ok(PostgresStore { pool, creations })
    }

    async fn client(&self) -> Result<deadpool_postgres::Client, StoreError> {
        Ok(self.pool.get().await?)
    }

    /// Brings the database to [`SCHEMA_VERSION`] (one transaction, one relay at a time);
    /// returns the versions applied. A schema newer than this relay's is refused.
    pub(crate) async fn migrate(&self) -> Result<Vec<i32>, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        transaction
            .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        transaction
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS meldpunt_schema (version integer PRIMARY KEY, applied_day integer NOT NULL)",
            )
            .await?;
        let current: Option<i32> = transaction
            .query_one("SELECT max(version) FROM meldpunt_schema", &[])
            .await?
            .get(0);
        let current = current.unwrap_or(0);
        if current > SCHEMA_VERSION {
            return Err(newer_schema(current));
        }
        let mut applied = Vec::new();
        for (version, sql) in MIGRATIONS {
            if *version <= current {
                continue;
            }
            transaction.batch_execute(sql).await?;
            transaction
                .execute(
                    "INSERT INTO meldpunt_schema (version, applied_day) VALUES ($1, $2)",
                    &[version, &int(day_number())],
                )
                .await?;
            applied.push(*version);
        }
        commit(transaction).await?;
        Ok(applied)
    }

    /// Refuses a database whose schema this relay does not know (none yet, an older one to
    /// migrate, or a newer one), with what to do.
    pub(crate) async fn check_schema(&self) -> Result<(), String> {
        let client = self
            .client()
            .await
            .map_err(|error| format!("cannot reach the database: {error}"))?;
        let exists: bool = client
            .query_one("SELECT to_regclass('meldpunt_schema') IS NOT NULL", &[])
            .await
            .map_err(|error| format!("cannot read the database: {error}"))?
            .get(0);
        let version: Option<i32> = if exists {
            client
                .query_one("SELECT max(version) FROM meldpunt_schema", &[])
                .await
                .map_err(|error| format!("cannot read the database: {error}"))?
                .get(0)
        } else {
            None
        };
        match version {
            Some(SCHEMA_VERSION) => Ok(()),
            Some(newer) if newer > SCHEMA_VERSION => Err(newer_schema(newer).to_string()),
            Some(older) => Err(format!(
                "the database has Meldpunt schema {older}, this relay needs {SCHEMA_VERSION}: run `meldpunt-server migrate --config FILE` first"
            )),
            None => Err(
                "the database has no Meldpunt schema: run `meldpunt-server migrate --config FILE` first".into(),
            ),
        }
    }

    /// The key every relay on this database shares under `name`: made by the first relay
    /// that asks, read by the others.
    pub(crate) async fn shared_key(&self, name: &str) -> Result<Zeroizing<[u8; 32]>, StoreError> {
        let mut fresh = Zeroizing::new([0u8; 32]);
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut fresh[..]);
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO relay_keys (name, key) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                &[&name, &&fresh[..]],
            )
            .await?;
        let row = client
            .query_one("SELECT key FROM relay_keys WHERE name = $1", &[&name])
            .await?;
        let stored = Zeroizing::new(row.get::<_, Vec<u8>>(0));
        let mut key = Zeroizing::new([0u8; 32]);
        if stored.len() != 32 {
            return Err(StoreError::Failed(format!(
                "the relay key {name} is not 32 bytes"
            )));
        }
        key.copy_from_slice(&stored);
        Ok(key)
    }
}

/// Commits. A connection lost while committing leaves the outcome unknown: that is said as
/// a failure (500), never as "nothing was stored" (503), since it may well have been.
/// (An error the server answers, such as a shutdown's, means the transaction was not
/// committed.)
async fn commit(transaction: Transaction<'_>) -> Result<(), StoreError> {
    transaction.commit().await.map_err(|error| {
        if error.code().is_none() {
            StoreError::Failed(format!("the commit's outcome is unknown: {error}"))
        } else {
            StoreError::from(error)
        }
    })
}

/// The primary's `synchronous_standby_names` (empty: commits do not wait for a standby),
/// read once at start over a connection of its own. Change it, and restart the relays.
async fn synchronous_standbys(
    config: &tokio_postgres::Config,
    tls: &tokio_postgres_rustls::MakeRustlsConnect,
) -> Result<String, String> {
    let (client, connection) = config
        .connect(tls.clone())
        .await
        .map_err(|error| format!("cannot reach the database: {error}"))?;
    let connection = tokio::spawn(connection);
    let standbys = client
        .query_one("SHOW synchronous_standby_names", &[])
        .await
        .map_err(|error| format!("cannot read the database's settings: {error}"))?
        .get::<_, String>(0);
    drop(client);
    let _ = connection.await;
    Ok(standbys.trim().to_owned())
}

fn newer_schema(version: i32) -> StoreError {
    StoreError::Failed(format!(
        "the database has Meldpunt schema {version}, newer than this relay's {SCHEMA_VERSION}: use a newer meldpunt-server"
    ))
}

/// rustls with the ring provider, trusting the authorities in `path`.
fn tls_config(path: &std::path::Path) -> Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
    let pem = std::fs::read(path)
        .map_err(|error| format!("cannot read [storage] ca_file {}: {error}", path.display()))?;
    let mut roots = rustls::RootCertStore::empty();
    let mut found = 0;
    for certificate in rustls::pki_types::pem::PemObject::pem_slice_iter(&pem) {
        let certificate: rustls::pki_types::CertificateDer<'static> = certificate
            .map_err(|error| format!("[storage] ca_file {} is not PEM: {error}", path.display()))?;
        roots
            .add(certificate)
            .map_err(|error| format!("[storage] ca_file {}: {error}", path.display()))?;
        found += 1;
    }
    if found == 0 {
        return Err(format!(
            "[storage] ca_file {} holds no certificate",
            path.display()
        ));
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|error| error.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

fn empty_tls_config() -> Result<rustls::ClientConfig, String> {
    Ok(
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth(),
    )
}

/// Takes `count` numbers of each counter (names sorted, so that every transaction locks
/// them in the same order); returns the first number taken of each. The rows stay locked
/// until the transaction ends.
async fn take_numbers(
    transaction: &Transaction<'_>,
    wanted: BTreeMap<String, u64>,
) -> Result<BTreeMap<String, u64>, StoreError> {
    let names: Vec<&str> = wanted.keys().map(String::as_str).collect();
    let counts: Vec<i64> = wanted.values().map(|count| bigint(*count)).collect();
    let statement = transaction
        .prepare_cached(
            "INSERT INTO counters AS c (name, next) \
             SELECT name, 1 + count FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS t(name, count, place) ORDER BY place \
             ON CONFLICT (name) DO UPDATE SET next = c.next + excluded.next - 1 \
             RETURNING name, next",
        )
        .await?;
    let mut first = BTreeMap::new();
    for row in transaction.query(&statement, &[&names, &counts]).await? {
        let name: String = row.get(0);
        let next = unsigned(row.get(1));
        let count = wanted.get(&name).copied().unwrap_or(1);
        first.insert(name, next - count);
    }
    Ok(first)
}

/// A mailbox's record, locked until the transaction ends.
async fn lock_mailbox(
    transaction: &Transaction<'_>,
    mailbox: &[u8; 32],
) -> Result<Option<MailboxRecord>, StoreError> {
    let statement = transaction
        .prepare_cached("SELECT record FROM mailboxes WHERE id = $1 FOR UPDATE")
        .await?;
    transaction
        .query_opt(&statement, &[&&mailbox[..]])
        .await?
        .map(|row| decode(row.get::<_, &[u8]>(0)))
        .transpose()
}

async fn save_mailbox(
    transaction: &Transaction<'_>,
    mailbox: &[u8; 32],
    record: &MailboxRecord,
) -> Result<(), StoreError> {
    let statement = transaction
        .prepare_cached("UPDATE mailboxes SET record = $2, last_activity = $3 WHERE id = $1")
        .await?;
    transaction
        .execute(
            &statement,
            &[&&mailbox[..], &encode(record), &int(record.last_activity)],
        )
        .await?;
    Ok(())
}

/// Stores a message at the next position of its mailbox (whose record, counted already, is
/// saved by the caller), the next number of its organisation and of each recipient.
async fn append(
    transaction: &Transaction<'_>,
    mailbox: [u8; 32],
    record: &MailboxRecord,
    author: Author,
    sealed: &[u8],
) -> Result<MessageRecord, StoreError> {
    let organisation_name = organisation_counter(&record.organisation);
    let mut wanted: BTreeMap<String, u64> = record
        .recipients
        .iter()
        .map(|recipient| (recipient_counter(&record.organisation, recipient), 1))
        .collect();
    wanted.insert(organisation_name.clone(), 1);
    let numbers = take_numbers(transaction, wanted).await?;
    let recipient_numbers: BTreeMap<String, u64> = record
        .recipients
        .iter()
        .map(|recipient| {
            let own = numbers[&recipient_counter(&record.organisation, recipient)];
            (recipient.clone(), own)
        })
        .collect();
    let message = MessageRecord {
        number: numbers[&organisation_name],
        mailbox,
        position: record.messages,
        organisation: record.organisation.clone(),
        author,
        day: record.last_activity,
        size: sealed.len() as u64,
        fetched: false,
        recipient_numbers,
    };
    let insert = transaction
        .prepare_cached(
            "INSERT INTO messages (organisation, number, mailbox, position, record, sealed) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .await?;
    transaction
        .execute(
            &insert,
            &[
                &message.organisation,
                &bigint(message.number),
                &&mailbox[..],
                &int(message.position),
                &encode(&message),
                &sealed,
            ],
        )
        .await?;
    index_for_recipients(transaction, &message, &record.recipients).await?;
    Ok(message)
}

/// Files `message` in the numbering of each of `recipients`.
async fn index_for_recipients(
    transaction: &Transaction<'_>,
    message: &MessageRecord,
    recipients: &[String],
) -> Result<(), StoreError> {
    let (names, numbers): (Vec<&str>, Vec<i64>) = recipients
        .iter()
        .filter_map(|recipient| {
            let own = message.recipient_numbers.get(recipient)?;
            Some((recipient.as_str(), bigint(*own)))
        })
        .unzip();
    let statement = transaction
        .prepare_cached(
            "INSERT INTO recipient_messages (organisation, recipient, number, organisation_number, fetched) \
             SELECT $1, recipient, number, $2, false FROM unnest($3::text[], $4::bigint[]) AS t(recipient, number)",
        )
        .await?;
    transaction
        .execute(
            &statement,
            &[
                &message.organisation,
                &bigint(message.number),
                &names,
                &numbers,
            ],
        )
        .await?;
    Ok(())
}

/// Numbered entries (hand-overs, case records) of `scope`'s recipient after `after`.
async fn list_numbered<T: serde::de::DeserializeOwned>(
    store: &PostgresStore,
    table: &str,
    scope: RecipientScope,
    after: u64,
    limit: usize,
) -> Result<Vec<(u64, T)>, StoreError> {
    let client = store.client().await?;
    let statement = client
        .prepare_cached(&format!(
            "SELECT number, record FROM {table} WHERE organisation = $1 AND recipient = $2 AND number > $3 ORDER BY number LIMIT $4"
        ))
        .await?;
    let rows = client
        .query(
            &statement,
            &[
                &scope.organisation,
                &scope.recipient,
                &bigint(after),
                &bigint(limit as u64),
            ],
        )
        .await?;
    rows.iter()
        .map(|row| Ok((unsigned(row.get(0)), decode(row.get::<_, &[u8]>(1))?)))
        .collect()
}

/// Removes an attachment and its chunks, giving its room back to its mailbox (locked by
/// the caller, or deleted with it).
async fn remove_attachment(
    transaction: &Transaction<'_>,
    attachment: &[u8; 16],
    mailbox: Option<&mut MailboxRecord>,
    incomplete_only: bool,
) -> Result<bool, StoreError> {
    let removed = transaction
        .query_opt(
            "DELETE FROM attachments WHERE id = $1 AND (NOT $2 OR NOT complete) RETURNING record",
            &[&&attachment[..], &incomplete_only],
        )
        .await?;
    if removed.is_none() && incomplete_only {
        // Completed meanwhile (on another relay): kept, chunks and all.
        return Ok(false);
    }
    transaction
        .execute(
            "DELETE FROM attachment_chunks WHERE id = $1",
            &[&&attachment[..]],
        )
        .await?;
    let Some(row) = removed else {
        return Ok(false);
    };
    let record: AttachmentRecord = decode(row.get::<_, &[u8]>(0))?;
    if let Some(mailbox) = mailbox {
        let count = mailbox.attachments_of(record.author);
        *count = count.saturating_sub(1);
        let held = if record.complete {
            record.size
        } else {
            record.reserved
        };
        mailbox.release(record.author, held);
    }
    Ok(true)
}

impl PostgresStore {
    pub(crate) async fn create_mailbox(
        &self,
        mailbox: [u8; 32],
        organisation: String,
        recipients: Vec<String>,
        sealed: Vec<u8>,
        spent_stamp: Option<SpentStamp>,
    ) -> Result<u64, StoreError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.creations
            .try_send(creations::Creation {
                mailbox,
                organisation,
                recipients,
                sealed,
                spent_stamp,
                reply,
            })
            .map_err(|error| match error {
                tokio::sync::mpsc::error::TrySendError::Full(_) => StoreError::Unavailable(
                    "as many new reports wait for the database as this relay holds".into(),
                ),
                tokio::sync::mpsc::error::TrySendError::Closed(_) => StoreError::Closed,
            })?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    pub(crate) async fn append_message(
        &self,
        mailbox: [u8; 32],
        author: Author,
        office: Option<RecipientScope>,
        sealed: Vec<u8>,
        limits: MailboxLimits,
    ) -> Result<(u32, u64), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let mut record = lock_mailbox(&transaction, &mailbox)
            .await?
            .ok_or(StoreError::MailboxNotFound)?;
        record.reachable_by(office.as_ref())?;
        record.room_for_a_message(&limits)?;
        record.take(author, sealed.len() as u64, limits.bytes)?;
        record.messages += 1;
        record.last_activity = day_number();
        save_mailbox(&transaction, &mailbox, &record).await?;
        let message = append(&transaction, mailbox, &record, author, &sealed).await?;
        commit(transaction).await?;
        let number = office
            .and_then(|scope| message.recipient_numbers.get(&scope.recipient).copied())
            .unwrap_or(message.number);
        Ok((message.position, number))
    }

    pub(crate) async fn add_recipients(
        &self,
        mailbox: [u8; 32],
        recipients: Vec<String>,
    ) -> Result<Vec<String>, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let mut record = lock_mailbox(&transaction, &mailbox)
            .await?
            .ok_or(StoreError::MailboxNotFound)?;
        let mut new: Vec<String> = Vec::new();
        for recipient in recipients {
            if !record.recipients.contains(&recipient) && !new.contains(&recipient) {
                new.push(recipient);
            }
        }
        if new.is_empty() {
            return Ok(record.recipients);
        }
        let mut messages: Vec<MessageRecord> = transaction
            .query(
                "SELECT record FROM messages WHERE mailbox = $1 ORDER BY position",
                &[&&mailbox[..]],
            )
            .await?
            .iter()
            .map(|row| decode(row.get::<_, &[u8]>(0)))
            .collect::<Result<_, _>>()?;
        let wanted = new
            .iter()
            .map(|recipient| {
                (
                    recipient_counter(&record.organisation, recipient),
                    messages.len() as u64,
                )
            })
            .collect();
        let first = take_numbers(&transaction, wanted).await?;
        for recipient in &new {
            let start = first[&recipient_counter(&record.organisation, recipient)];
            for (own, message) in (start..).zip(&mut messages) {
                message.recipient_numbers.insert(recipient.clone(), own);
            }
        }
        for message in &messages {
            index_for_recipients(&transaction, message, &new).await?;
            transaction
                .execute(
                    "UPDATE messages SET record = $3 WHERE organisation = $1 AND number = $2",
                    &[
                        &message.organisation,
                        &bigint(message.number),
                        &encode(message),
                    ],
                )
                .await?;
        }
        record.recipients.extend(new);
        save_mailbox(&transaction, &mailbox, &record).await?;
        commit(transaction).await?;
        Ok(record.recipients)
    }

    pub(crate) async fn mailbox(
        &self,
        mailbox: [u8; 32],
    ) -> Result<Option<MailboxRecord>, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached("SELECT record FROM mailboxes WHERE id = $1")
            .await?;
        client
            .query_opt(&statement, &[&&mailbox[..]])
            .await?
            .map(|row| decode(row.get::<_, &[u8]>(0)))
            .transpose()
    }

    pub(crate) async fn list_mailbox(
        &self,
        mailbox: [u8; 32],
        after: u32,
        limit: usize,
    ) -> Result<Option<Vec<MessageRecord>>, StoreError> {
        let mut client = self.client().await?;
        // One snapshot for the mailbox and its messages.
        let transaction = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        if self.mailbox_in(&transaction, &mailbox).await?.is_none() {
            return Ok(None);
        }
        let statement = transaction
            .prepare_cached(
                "SELECT record FROM messages WHERE mailbox = $1 AND position > $2 ORDER BY position LIMIT $3",
            )
            .await?;
        let rows = transaction
            .query(
                &statement,
                &[&&mailbox[..], &int(after), &bigint(limit as u64)],
            )
            .await?;
        let messages = rows
            .iter()
            .map(|row| decode(row.get::<_, &[u8]>(0)))
            .collect::<Result<Vec<MessageRecord>, _>>()?;
        commit(transaction).await?;
        Ok(Some(messages))
    }

    async fn mailbox_in(
        &self,
        transaction: &Transaction<'_>,
        mailbox: &[u8; 32],
    ) -> Result<Option<()>, StoreError> {
        let statement = transaction
            .prepare_cached("SELECT 1 FROM mailboxes WHERE id = $1")
            .await?;
        Ok(transaction
            .query_opt(&statement, &[&&mailbox[..]])
            .await?
            .map(|_| ()))
    }

    pub(crate) async fn mailbox_message(
        &self,
        mailbox: [u8; 32],
        position: u32,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached("SELECT sealed FROM messages WHERE mailbox = $1 AND position = $2")
            .await?;
        Ok(client
            .query_opt(&statement, &[&&mailbox[..], &int(position)])
            .await?
            .map(|row| row.get(0)))
    }

    pub(crate) async fn list_recipient(
        &self,
        scope: RecipientScope,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, MessageRecord)>, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "SELECT r.number, r.fetched, m.record FROM recipient_messages r \
                 JOIN messages m ON m.organisation = r.organisation AND m.number = r.organisation_number \
                 WHERE r.organisation = $1 AND r.recipient = $2 AND r.number > $3 \
                 ORDER BY r.number LIMIT $4",
            )
            .await?;
        let rows = client
            .query(
                &statement,
                &[
                    &scope.organisation,
                    &scope.recipient,
                    &bigint(after),
                    &bigint(limit as u64),
                ],
            )
            .await?;
        rows.iter()
            .map(|row| {
                let mut record: MessageRecord = decode(row.get::<_, &[u8]>(2))?;
                record.fetched = row.get(1);
                Ok((unsigned(row.get(0)), record))
            })
            .collect()
    }

    pub(crate) async fn recipient_message(
        &self,
        scope: RecipientScope,
        number: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "SELECT m.sealed FROM recipient_messages r \
                 JOIN messages m ON m.organisation = r.organisation AND m.number = r.organisation_number \
                 WHERE r.organisation = $1 AND r.recipient = $2 AND r.number = $3",
            )
            .await?;
        Ok(client
            .query_opt(
                &statement,
                &[&scope.organisation, &scope.recipient, &bigint(number)],
            )
            .await?
            .map(|row| row.get(0)))
    }

    pub(crate) async fn mark_fetched(
        &self,
        scope: RecipientScope,
        number: u64,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "UPDATE recipient_messages SET fetched = true WHERE organisation = $1 AND recipient = $2 AND number = $3",
            )
            .await?;
        let updated = client
            .execute(
                &statement,
                &[&scope.organisation, &scope.recipient, &bigint(number)],
            )
            .await?;
        if updated == 0 {
            return Err(StoreError::MessageNotFound);
        }
        Ok(())
    }

    pub(crate) async fn put_hand_over(
        &self,
        mailbox: [u8; 32],
        scope: RecipientScope,
        to: Option<String>,
        sealed: Vec<u8>,
        limits: MailboxLimits,
    ) -> Result<u64, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let mut record = lock_mailbox(&transaction, &mailbox)
            .await?
            .ok_or(StoreError::MailboxNotFound)?;
        let size = sealed.len() as u64;
        let scope = record.admit_hand_over(scope, to, size, &limits)?;
        let name = hand_over_counter(&scope);
        let number = take_numbers(&transaction, BTreeMap::from([(name.clone(), 1)])).await?[&name];
        let stored = HandOverRecord {
            mailbox,
            day: day_number(),
            size,
        };
        transaction
            .execute(
                "INSERT INTO hand_overs (organisation, recipient, number, mailbox, record, sealed) VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &scope.organisation,
                    &scope.recipient,
                    &bigint(number),
                    &&mailbox[..],
                    &encode(&stored),
                    &sealed,
                ],
            )
            .await?;
        record.hand_overs.push((scope.recipient.clone(), number));
        save_mailbox(&transaction, &mailbox, &record).await?;
        commit(transaction).await?;
        Ok(number)
    }

    pub(crate) async fn list_hand_overs(
        &self,
        scope: RecipientScope,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, HandOverRecord)>, StoreError> {
        list_numbered(self, "hand_overs", scope, after, limit).await
    }

    pub(crate) async fn list_case_records(
        &self,
        scope: RecipientScope,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, CaseRecordEntry)>, StoreError> {
        list_numbered(self, "case_records", scope, after, limit).await
    }

    pub(crate) async fn hand_over(
        &self,
        scope: RecipientScope,
        number: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let client = self.client().await?;
        Ok(client
            .query_opt(
                "SELECT sealed FROM hand_overs WHERE organisation = $1 AND recipient = $2 AND number = $3",
                &[&scope.organisation, &scope.recipient, &bigint(number)],
            )
            .await?
            .map(|row| row.get(0)))
    }

    pub(crate) async fn put_case_record(
        &self,
        mailbox: [u8; 32],
        scope: RecipientScope,
        sealed: Vec<u8>,
        limits: MailboxLimits,
    ) -> Result<u64, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let mut record = lock_mailbox(&transaction, &mailbox)
            .await?
            .ok_or(StoreError::MailboxNotFound)?;
        let size = sealed.len() as u64;
        let index = record.admit_case_record(&scope, size, &limits)?;
        let stored = CaseRecordEntry {
            mailbox,
            index,
            day: day_number(),
            size,
        };
        let wanted = record
            .recipients
            .iter()
            .map(|recipient| (case_record_counter(&record.organisation, recipient), 1))
            .collect();
        let numbers = take_numbers(&transaction, wanted).await?;
        let mut own_number = 0;
        let encoded = encode(&stored);
        for recipient in record.recipients.clone() {
            let number = numbers[&case_record_counter(&record.organisation, &recipient)];
            transaction
                .execute(
                    "INSERT INTO case_records (organisation, recipient, number, mailbox, index, record) VALUES ($1, $2, $3, $4, $5, $6)",
                    &[
                        &record.organisation,
                        &recipient,
                        &bigint(number),
                        &&mailbox[..],
                        &int(index),
                        &encoded,
                    ],
                )
                .await?;
            if recipient == scope.recipient {
                own_number = number;
            }
            record.case_record_numbers.push((recipient, number));
        }
        transaction
            .execute(
                "INSERT INTO case_record_bodies (mailbox, index, sealed) VALUES ($1, $2, $3)",
                &[&&mailbox[..], &int(index), &sealed],
            )
            .await?;
        save_mailbox(&transaction, &mailbox, &record).await?;
        commit(transaction).await?;
        Ok(own_number)
    }

    pub(crate) async fn case_record(
        &self,
        scope: RecipientScope,
        number: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let client = self.client().await?;
        Ok(client
            .query_opt(
                "SELECT b.sealed FROM case_records r JOIN case_record_bodies b \
                 ON b.mailbox = r.mailbox AND b.index = r.index \
                 WHERE r.organisation = $1 AND r.recipient = $2 AND r.number = $3",
                &[&scope.organisation, &scope.recipient, &bigint(number)],
            )
            .await?
            .map(|row| row.get(0)))
    }

    pub(crate) async fn open_session(
        &self,
        session_id: [u8; 32],
        grant: Grant,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO sessions (id, organisation, recipient, expires_at, record) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (id) DO UPDATE SET organisation = excluded.organisation, recipient = excluded.recipient, \
                 expires_at = excluded.expires_at, record = excluded.record",
                &[
                    &&session_id[..],
                    &grant.organisation,
                    &grant.recipient,
                    &bigint(grant.expires_at),
                    &encode(&grant),
                ],
            )
            .await?;
        Ok(())
    }

    pub(crate) async fn end_sessions(
        &self,
        scopes: Vec<RecipientScope>,
    ) -> Result<u64, StoreError> {
        let (organisations, recipients) = scope_columns(&scopes);
        let client = self.client().await?;
        Ok(client
            .execute(
                "DELETE FROM sessions s USING unnest($1::text[], $2::text[]) AS t(organisation, recipient) \
                 WHERE s.organisation = t.organisation AND s.recipient = t.recipient",
                &[&organisations, &recipients],
            )
            .await?)
    }

    pub(crate) async fn session(&self, session_id: [u8; 32]) -> Result<Option<Grant>, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached("SELECT record FROM sessions WHERE id = $1 AND expires_at >= $2")
            .await?;
        client
            .query_opt(&statement, &[&&session_id[..], &bigint(unix_seconds())])
            .await?
            .map(|row| decode(row.get::<_, &[u8]>(0)))
            .transpose()
    }

    pub(crate) async fn hold_challenge(
        &self,
        answer_id: [u8; 32],
        grant: Grant,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        let held = client
            .execute(
                "INSERT INTO office_challenges (id, organisation, recipient, expires_at, record) \
                 SELECT $1, $2, $3, $4, $5 \
                 WHERE (SELECT count(*) FROM (SELECT 1 FROM office_challenges WHERE expires_at >= $6 LIMIT $7) AS waiting) < $7 \
                 ON CONFLICT (id) DO NOTHING",
                &[
                    &&answer_id[..],
                    &grant.organisation,
                    &grant.recipient,
                    &bigint(grant.expires_at),
                    &encode(&grant),
                    &bigint(unix_seconds()),
                    &MAXIMUM_WAITING_CHALLENGES,
                ],
            )
            .await?;
        if held == 0 {
            return Err(StoreError::Busy("office challenges waiting on this relay"));
        }
        Ok(())
    }

    pub(crate) async fn take_challenge(
        &self,
        answer_id: [u8; 32],
    ) -> Result<Option<Grant>, StoreError> {
        let client = self.client().await?;
        // Deleted and returned in one statement: two relays given the same answer at once
        // cannot both take it.
        client
            .query_opt(
                "DELETE FROM office_challenges WHERE id = $1 RETURNING record, expires_at >= $2",
                &[&&answer_id[..], &bigint(unix_seconds())],
            )
            .await?
            .filter(|row| row.get::<_, bool>(1))
            .map(|row| decode(row.get::<_, &[u8]>(0)))
            .transpose()
    }

    pub(crate) async fn forget_challenges(
        &self,
        scopes: Vec<RecipientScope>,
    ) -> Result<(), StoreError> {
        let (organisations, recipients) = scope_columns(&scopes);
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM office_challenges c USING unnest($1::text[], $2::text[]) AS t(organisation, recipient) \
                 WHERE c.organisation = t.organisation AND c.recipient = t.recipient",
                &[&organisations, &recipients],
            )
            .await?;
        Ok(())
    }

    pub(crate) async fn spend_stamp(&self, spent: SpentStamp) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        spend(&transaction, &spent).await?;
        commit(transaction).await?;
        Ok(())
    }

    pub(crate) async fn begin_attachment(
        &self,
        attachment: [u8; 16],
        mailbox: [u8; 32],
        author: Author,
        office: Option<RecipientScope>,
        limits: MailboxLimits,
        declared: Option<u64>,
    ) -> Result<u64, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let mut record = lock_mailbox(&transaction, &mailbox)
            .await?
            .ok_or(StoreError::MailboxNotFound)?;
        record.reachable_by(office.as_ref())?;
        let exists = transaction
            .query_opt(
                "SELECT 1 FROM attachments WHERE id = $1",
                &[&&attachment[..]],
            )
            .await?
            .is_some();
        if exists {
            return Err(StoreError::AttachmentExists);
        }
        let reserved = record.reserve_attachment(author, &limits, declared)?;
        let day = day_number();
        let stored = AttachmentRecord::upload(mailbox, author, day, reserved);
        let inserted = transaction
            .execute(
                "INSERT INTO attachments (id, mailbox, complete, day, record) VALUES ($1, $2, false, $3, $4) ON CONFLICT (id) DO NOTHING",
                &[&&attachment[..], &&mailbox[..], &int(day), &encode(&stored)],
            )
            .await?;
        if inserted == 0 {
            return Err(StoreError::AttachmentExists);
        }
        save_mailbox(&transaction, &mailbox, &record).await?;
        commit(transaction).await?;
        Ok(reserved)
    }

    pub(crate) async fn put_chunk(
        &self,
        attachment: [u8; 16],
        index: u32,
        bytes: Vec<u8>,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        // Not flushed on its own: the commit that completes the upload flushes the log up
        // to it, so the chunks are durable exactly when the upload is acknowledged.
        transaction
            .batch_execute("SET LOCAL synchronous_commit = off")
            .await?;
        let statement = transaction
            .prepare_cached(
                "INSERT INTO attachment_chunks (id, index, bytes) VALUES ($1, $2, $3) \
                 ON CONFLICT (id, index) DO UPDATE SET bytes = excluded.bytes",
            )
            .await?;
        transaction
            .execute(&statement, &[&&attachment[..], &int(index), &bytes])
            .await?;
        commit(transaction).await?;
        Ok(())
    }

    /// The mailbox an attachment belongs to, read without a lock (to lock the mailbox first).
    async fn attachment_mailbox(
        &self,
        transaction: &Transaction<'_>,
        attachment: &[u8; 16],
    ) -> Result<Option<[u8; 32]>, StoreError> {
        transaction
            .query_opt(
                "SELECT mailbox FROM attachments WHERE id = $1",
                &[&&attachment[..]],
            )
            .await?
            .map(|row| id(row.get::<_, &[u8]>(0)))
            .transpose()
    }

    pub(crate) async fn finish_attachment(
        &self,
        attachment: [u8; 16],
        size: u64,
        chunks: u32,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let mailbox = self
            .attachment_mailbox(&transaction, &attachment)
            .await?
            .ok_or(StoreError::AttachmentNotFound)?;
        let mut mailbox_record = lock_mailbox(&transaction, &mailbox)
            .await?
            .ok_or(StoreError::MailboxNotFound)?;
        let mut record: AttachmentRecord = transaction
            .query_opt(
                "SELECT record FROM attachments WHERE id = $1 FOR UPDATE",
                &[&&attachment[..]],
            )
            .await?
            .map(|row| decode(row.get::<_, &[u8]>(0)))
            .transpose()?
            .ok_or(StoreError::AttachmentNotFound)?;
        if size > record.reserved {
            return Err(StoreError::MailboxFull("bytes"));
        }
        mailbox_record.release(record.author, record.reserved - size);
        mailbox_record.last_activity = day_number();
        save_mailbox(&transaction, &mailbox, &mailbox_record).await?;
        record.size = size;
        record.chunks = chunks;
        record.complete = true;
        record.reserved = 0;
        transaction
            .execute(
                "UPDATE attachments SET complete = true, record = $2 WHERE id = $1",
                &[&&attachment[..], &encode(&record)],
            )
            .await?;
        commit(transaction).await?;
        Ok(())
    }

    pub(crate) async fn abort_attachment(&self, attachment: [u8; 16]) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let Some(mailbox) = self.attachment_mailbox(&transaction, &attachment).await? else {
            // Chunks of an upload whose record retention removed meanwhile.
            transaction
                .execute(
                    "DELETE FROM attachment_chunks WHERE id = $1",
                    &[&&attachment[..]],
                )
                .await?;
            commit(transaction).await?;
            return Ok(());
        };
        let mut record = lock_mailbox(&transaction, &mailbox).await?;
        if remove_attachment(&transaction, &attachment, record.as_mut(), false).await? {
            if let Some(record) = &record {
                save_mailbox(&transaction, &mailbox, record).await?;
            }
        }
        commit(transaction).await?;
        Ok(())
    }

    pub(crate) async fn attachment(
        &self,
        attachment: [u8; 16],
    ) -> Result<Option<AttachmentRecord>, StoreError> {
        let client = self.client().await?;
        let record: Option<AttachmentRecord> = client
            .query_opt(
                "SELECT record FROM attachments WHERE id = $1 AND complete",
                &[&&attachment[..]],
            )
            .await?
            .map(|row| decode(row.get::<_, &[u8]>(0)))
            .transpose()?;
        Ok(record)
    }

    pub(crate) async fn attachment_chunk(
        &self,
        attachment: [u8; 16],
        index: u32,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached("SELECT bytes FROM attachment_chunks WHERE id = $1 AND index = $2")
            .await?;
        Ok(client
            .query_opt(&statement, &[&&attachment[..], &int(index)])
            .await?
            .map(|row| row.get(0)))
    }

    /// Deletes what retention no longer keeps, if no other relay is purging right now (an
    /// advisory lock held for the transaction); counts nothing when another one is.
    pub(crate) async fn purge(&self, retention_days: u32) -> Result<PurgeCounts, StoreError> {
        let mut counts = PurgeCounts::default();
        let mut first = true;
        // In rounds of at most PURGE_ROUND mailboxes, each its own transaction: a backlog
        // of expired mailboxes (a spam wave a year ago) is worked off, never retried whole.
        loop {
            let Some((round, more)) = self.purge_round(retention_days, first).await? else {
                break;
            };
            counts.mailboxes += round.mailboxes;
            counts.messages += round.messages;
            counts.attachments += round.attachments;
            counts.hand_overs += round.hand_overs;
            counts.case_records += round.case_records;
            counts.expired_grants += round.expired_grants;
            first = false;
            if !more {
                break;
            }
        }
        Ok(counts)
    }

    /// One round of retention: up to [`PURGE_ROUND`] idle mailboxes with all they hold and,
    /// in the first round, broken uploads and expired credentials. `None` when another relay
    /// is purging; else what it removed and whether idle mailboxes are left.
    async fn purge_round(
        &self,
        retention_days: u32,
        first: bool,
    ) -> Result<Option<(PurgeCounts, bool)>, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let mut counts = PurgeCounts::default();
        let ours: bool = transaction
            .query_one("SELECT pg_try_advisory_xact_lock($1)", &[&PURGE_LOCK])
            .await?
            .get(0);
        if !ours {
            tracing::debug!("another relay is purging; skipped");
            return Ok(None);
        }
        // A large day of expired mailboxes must not time out and be retried for ever.
        transaction
            .batch_execute("SET LOCAL statement_timeout = 0")
            .await?;
        let today = day_number();
        let now = bigint(unix_seconds());
        let expired: Vec<Vec<u8>> = transaction
            .query(
                "SELECT id FROM mailboxes WHERE last_activity < $1 ORDER BY last_activity LIMIT $2 FOR UPDATE",
                &[
                    &(int(today).saturating_sub(int(retention_days))),
                    &PURGE_ROUND,
                ],
            )
            .await?
            .iter()
            .map(|row| row.get(0))
            .collect();
        // Rows changed meanwhile are skipped by the lock: go on while a round finds any.
        let more = !expired.is_empty();
        // Incomplete uploads older than a day, in mailboxes that stay: their room goes back.
        let broken: Vec<(Vec<u8>, Vec<u8>)> = if !first {
            Vec::new()
        } else {
            transaction
            .query(
                "SELECT id, mailbox FROM attachments WHERE NOT complete AND day < $1 AND NOT (mailbox = ANY($2))",
                &[&int(today), &expired],
            )
            .await?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect()
        };
        for (attachment, mailbox) in broken {
            let (attachment, mailbox) = (id::<16>(&attachment)?, id::<32>(&mailbox)?);
            let mut record = lock_mailbox(&transaction, &mailbox).await?;
            if remove_attachment(&transaction, &attachment, record.as_mut(), true).await? {
                counts.attachments += 1;
                if let Some(record) = &record {
                    save_mailbox(&transaction, &mailbox, record).await?;
                }
            }
        }
        if !expired.is_empty() {
            transaction
                .execute(
                    "DELETE FROM attachment_chunks c USING attachments a WHERE c.id = a.id AND a.mailbox = ANY($1)",
                    &[&expired],
                )
                .await?;
            counts.attachments += transaction
                .execute(
                    "DELETE FROM attachments WHERE mailbox = ANY($1)",
                    &[&expired],
                )
                .await?;
            counts.hand_overs += transaction
                .execute(
                    "DELETE FROM hand_overs WHERE mailbox = ANY($1)",
                    &[&expired],
                )
                .await?;
            counts.case_records += transaction
                .execute(
                    "DELETE FROM case_record_bodies WHERE mailbox = ANY($1)",
                    &[&expired],
                )
                .await?;
            transaction
                .execute(
                    "DELETE FROM case_records WHERE mailbox = ANY($1)",
                    &[&expired],
                )
                .await?;
            transaction
                .execute(
                    "DELETE FROM recipient_messages r USING messages m \
                     WHERE m.organisation = r.organisation AND m.number = r.organisation_number AND m.mailbox = ANY($1)",
                    &[&expired],
                )
                .await?;
            counts.messages += transaction
                .execute("DELETE FROM messages WHERE mailbox = ANY($1)", &[&expired])
                .await?;
            counts.mailboxes += transaction
                .execute("DELETE FROM mailboxes WHERE id = ANY($1)", &[&expired])
                .await?;
        }
        if first {
            // Chunks that arrived for an upload after retention removed it.
            transaction
                .execute(
                    "DELETE FROM attachment_chunks c WHERE NOT EXISTS (SELECT 1 FROM attachments a WHERE a.id = c.id)",
                    &[],
                )
                .await?;
            for table in ["sessions", "office_challenges", "spent_stamps"] {
                counts.expired_grants += transaction
                    .execute(
                        &format!("DELETE FROM {table} WHERE expires_at < $1"),
                        &[&now],
                    )
                    .await?;
            }
        }
        commit(transaction).await?;
        Ok(Some((counts, more)))
    }

    pub(crate) async fn counts(&self) -> Result<StoreCounts, StoreError> {
        let client = self.client().await?;
        // The planner's estimates, not `count(*)`: readiness asks for this on every probe, and
        // a full count of a shared database's tables would let anyone load it.
        let row = client
            .query_one(
                "SELECT (SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'mailboxes'::regclass), \
                 (SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'messages'::regclass), \
                 (SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'attachments'::regclass)",
                &[],
            )
            .await?;
        Ok(StoreCounts {
            mailboxes: unsigned(row.get(0)),
            messages: unsigned(row.get(1)),
            attachments: unsigned(row.get(2)),
        })
    }
}

/// Records a stamp's nonce as spent; refuses one spent already (on any relay).
async fn spend(transaction: &Transaction<'_>, spent: &SpentStamp) -> Result<(), StoreError> {
    let statement = transaction
        .prepare_cached(
            "INSERT INTO spent_stamps (nonce, expires_at) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING",
        )
        .await?;
    let inserted = transaction
        .execute(&statement, &[&&spent.nonce[..], &bigint(spent.expires_at)])
        .await?;
    if inserted == 0 {
        return Err(StoreError::StampSpent);
    }
    Ok(())
}

fn scope_columns(scopes: &[RecipientScope]) -> (Vec<&str>, Vec<&str>) {
    scopes
        .iter()
        .map(|scope| (scope.organisation.as_str(), scope.recipient.as_str()))
        .unzip()
}

impl PostgresStore {
    /// The relay's own backup copies a redb file; PostgreSQL has its own tools.
    pub(crate) async fn backup(
        &self,
        _target: std::path::PathBuf,
    ) -> Result<BackupCounts, StoreError> {
        Err(StoreError::BackupRefused(
            "this relay keeps its data in PostgreSQL: back it up with pg_dump or pg_basebackup (docs/operations.md)".into(),
        ))
    }
}
