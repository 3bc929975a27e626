//! Harness for end-to-end tests: builds and starts the real `meldpunt-server` binary on a
//! free loopback port with a fresh data folder and directory, and talks to it over HTTP.
//!
//! Everything here stays on 127.0.0.1; every relay it starts is killed when dropped.

#![forbid(unsafe_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

pub mod browser;
pub mod hostile;

use meldpunt_crypto::{
    Day, Directory, DirectoryRecipient, DirectorySigningKey, IdentityKey, LocalisedName,
    MailboxToken, Organisation, ReceiptCode, Role, Stamp,
};

/// Builds a workspace binary once per test process and returns its path.
pub fn binary(package: &str, name: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    let built = BUILT.get_or_init(|| Mutex::new(Vec::new()));
    let mut built = built.lock().expect("not poisoned");
    let root = workspace_root();
    if !built.iter().any(|done| done == name) {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--package", package, "--bin", name])
            .current_dir(&root)
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building {name} failed");
        built.push(name.to_owned());
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    target.join("debug").join(name)
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_owned()
}

/// A directory for tests: organisations `demo` and `other`, each with an integrity office;
/// `demo` also has an external confidential adviser (`demo_adviser`). The demo office has
/// two members (`demo_office`, `demo_colleague`); a third (`demo_newcomer`) is listed only
/// in the directories [`TestDirectory::with_newcomer`] signs.
#[derive(Debug)]
pub struct TestDirectory {
    /// The directory signing key.
    pub signing_key: DirectorySigningKey,
    /// The demo organisation's office identity.
    pub demo_office: IdentityKey,
    /// A second member of the demo organisation's integrity office.
    pub demo_colleague: IdentityKey,
    /// A member who joins the demo integrity office later.
    pub demo_newcomer: IdentityKey,
    /// The other organisation's office identity.
    pub other_office: IdentityKey,
    /// The demo organisation's external confidential adviser (recipient
    /// `external-confidential-adviser`).
    pub demo_adviser: IdentityKey,
    /// The demo organisation's process guide (recipient `process-guide`).
    pub demo_guide: IdentityKey,
    /// An offline recovery key listed under the demo integrity office (with no office key:
    /// it reads, it never writes), in the directories [`TestDirectory::post_quantum`] makes.
    pub demo_recovery: Option<IdentityKey>,
    /// Whether the demo organisation asks the questionnaire of
    /// `crypto/testdata/questionnaire.json` (a structured report) and lists external channels.
    pub structured: bool,
}

impl TestDirectory {
    /// New keys.
    pub fn new() -> Self {
        TestDirectory {
            signing_key: DirectorySigningKey::generate(),
            demo_office: IdentityKey::generate(),
            demo_colleague: IdentityKey::generate(),
            demo_newcomer: IdentityKey::generate(),
            other_office: IdentityKey::generate(),
            demo_adviser: IdentityKey::generate(),
            demo_guide: IdentityKey::generate(),
            demo_recovery: None,
            structured: false,
        }
    }

    /// The questionnaire of the test vectors (`crypto/testdata/questionnaire.json`): a
    /// required choice `kind` (fraud, bullying, other), a multiple choice `areas` (money,
    /// safety), a date `since`, a period `period`, a short text `unit`, a yes/no `meeting`.
    pub fn questionnaire() -> Vec<meldpunt_crypto::Question> {
        let text =
            std::fs::read_to_string(workspace_root().join("crypto/testdata/questionnaire.json"))
                .expect("the questionnaire vector");
        let vector: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        serde_json::from_value(vector["questions"].clone()).expect("questions")
    }

    /// The external channels a structured test directory lists for the demo organisation.
    pub fn channels() -> Vec<meldpunt_crypto::ExternalChannel> {
        serde_json::from_value(serde_json::json!([
            {"name": {"nl": "Huis voor Klokkenluiders", "en": "Whistleblowers Authority (Huis voor Klokkenluiders)"},
             "purpose": {"nl": "Advies en extern melden van een vermoeden van een misstand.", "en": "Advice, and reporting a suspected wrongdoing externally."},
             "contact": "https://www.huisvoorklokkenluiders.nl"},
            {"name": {"nl": "Autoriteit Persoonsgegevens", "en": "Dutch Data Protection Authority"},
             "purpose": {"nl": "Bevoegde autoriteit voor schendingen van privacyregels.", "en": "Competent authority for breaches of data protection law."},
             "contact": "+31 88 1805 250"}
        ]))
        .expect("channels")
    }

    /// New keys, every one a hybrid post-quantum key (age mlkem768x25519), and a hybrid
    /// recovery key listed beside the demo integrity office's members.
    pub fn post_quantum() -> Self {
        TestDirectory {
            signing_key: DirectorySigningKey::generate(),
            demo_office: IdentityKey::generate_post_quantum(),
            demo_colleague: IdentityKey::generate_post_quantum(),
            demo_newcomer: IdentityKey::generate_post_quantum(),
            other_office: IdentityKey::generate_post_quantum(),
            demo_adviser: IdentityKey::generate_post_quantum(),
            demo_guide: IdentityKey::generate_post_quantum(),
            demo_recovery: Some(IdentityKey::generate_post_quantum()),
            structured: false,
        }
    }

    /// The signed directory's bytes as version `version`, with the newcomer added to the
    /// demo integrity office.
    pub fn with_newcomer(&self, version: u64) -> Vec<u8> {
        self.sign(
            version,
            Day::from_calendar_date(2099, 12, 31).expect("valid"),
            &self.demo_office.recipient(),
            &self.signing_key,
            true,
        )
    }

    /// The signed directory's bytes (version 1).
    pub fn signed(&self) -> Vec<u8> {
        self.signed_version(1)
    }

    /// The signed directory's bytes, as version `version`.
    pub fn signed_version(&self, version: u64) -> Vec<u8> {
        self.signed_as(
            version,
            Day::from_calendar_date(2099, 12, 31).expect("valid"),
            &self.demo_office.recipient(),
            &self.signing_key,
        )
    }

    /// A directory as a hostile relay might serve it: any version and expiry, any key for
    /// the demo office, signed by any key.
    pub fn signed_as(
        &self,
        version: u64,
        expires_on: Day,
        demo_key: &meldpunt_crypto::RecipientKey,
        signing_key: &DirectorySigningKey,
    ) -> Vec<u8> {
        self.sign(version, expires_on, demo_key, signing_key, false)
    }

    /// The signed directory's bytes as version `version` (without the newcomer), continuing
    /// `previous` (another version before it, such as [`TestDirectory::with_newcomer`]).
    pub fn signed_version_after(&self, version: u64, previous: &[u8]) -> Vec<u8> {
        let previous = meldpunt_crypto::SignedDirectory::from_bytes(previous.to_vec())
            .and_then(|signed| signed.hash())
            .expect("a signed directory");
        self.sign_continuing(
            version,
            Day::from_calendar_date(2099, 12, 31).expect("valid"),
            &self.demo_office.recipient(),
            &self.signing_key,
            false,
            Some(previous),
        )
    }

    fn sign(
        &self,
        version: u64,
        expires_on: Day,
        demo_key: &meldpunt_crypto::RecipientKey,
        signing_key: &DirectorySigningKey,
        newcomer: bool,
    ) -> Vec<u8> {
        self.sign_continuing(version, expires_on, demo_key, signing_key, newcomer, None)
    }

    fn sign_continuing(
        &self,
        version: u64,
        expires_on: Day,
        demo_key: &meldpunt_crypto::RecipientKey,
        signing_key: &DirectorySigningKey,
        newcomer: bool,
        previous: Option<meldpunt_crypto::DirectoryHash>,
    ) -> Vec<u8> {
        let today = Day::from_calendar_date(2026, 1, 1).expect("valid");
        let mut directory = Directory::new(today, expires_on);
        let mut demo_members = vec![&self.demo_office, &self.demo_colleague];
        if newcomer {
            demo_members.push(&self.demo_newcomer);
        }
        let mut demo_keys = vec![demo_key.clone()];
        demo_keys.extend(demo_members[1..].iter().map(|member| member.recipient()));
        demo_keys.extend(self.demo_recovery.iter().map(IdentityKey::recipient));
        let demo_signing_keys = demo_members
            .iter()
            .map(|member| member.office_signing_key().office_key())
            .collect();
        let other = (
            vec![self.other_office.recipient()],
            vec![self.other_office.office_signing_key().office_key()],
        );
        for (id, (keys, signing_keys)) in
            [("demo", (demo_keys, demo_signing_keys)), ("other", other)]
        {
            directory.organisations.push(Organisation {
                questions: Vec::new(),
                channels: Vec::new(),
                evaluation: Vec::new(),
                id: id.into(),
                name: LocalisedName {
                    nl: format!("Organisatie {id}"),
                    en: format!("Organisation {id}"),
                },
                recipients: vec![DirectoryRecipient {
                    id: "integrity-office".into(),
                    role: Role::IntegrityOffice,
                    name: LocalisedName {
                        nl: "Bureau Integriteit".into(),
                        en: "Integrity office".into(),
                    },
                    keys,
                    signing_keys,
                }],
            });
        }
        if self.structured {
            directory.organisations[0].questions = TestDirectory::questionnaire();
            directory.organisations[0].channels = TestDirectory::channels();
        }
        directory.organisations[0]
            .recipients
            .push(DirectoryRecipient {
                id: "external-confidential-adviser".into(),
                role: Role::ExternalConfidentialAdviser,
                name: LocalisedName {
                    nl: "Externe vertrouwenspersoon".into(),
                    en: "External confidential adviser".into(),
                },
                keys: vec![self.demo_adviser.recipient()],
                signing_keys: vec![self.demo_adviser.office_signing_key().office_key()],
            });
        directory.organisations[0]
            .recipients
            .push(DirectoryRecipient {
                id: "process-guide".into(),
                role: Role::ProcessGuide,
                name: LocalisedName {
                    nl: "Procesbegeleider".into(),
                    en: "Process guide".into(),
                },
                keys: vec![self.demo_guide.recipient()],
                signing_keys: vec![self.demo_guide.office_signing_key().office_key()],
            });
        directory.version = version - 1;
        // Each version continues the one `signed_version` signs before it, as an office's
        // `meldpunt directory sign` chains them.
        if let Some(previous) = previous {
            directory.previous = Some(previous);
        } else if version > 1 {
            let before = self.sign(
                version - 1,
                Day::from_calendar_date(2099, 12, 31).expect("valid"),
                &self.demo_office.recipient(),
                signing_key,
                false,
            );
            let before = meldpunt_crypto::SignedDirectory::from_bytes(before).expect("signed");
            directory.previous = Some(before.hash().expect("a hash"));
        }
        let (_, signed) = directory.sign(signing_key).expect("valid directory");
        signed.as_bytes().to_vec()
    }
}

impl Default for TestDirectory {
    fn default() -> Self {
        Self::new()
    }
}

/// A running relay process.
#[derive(Debug)]
pub struct Relay {
    child: Child,
    /// Its base URL, `http://127.0.0.1:PORT`.
    pub url: String,
    /// Its data folder (kept across restarts).
    pub data: PathBuf,
    /// Its configuration file.
    pub config: PathBuf,
    /// The directory file it serves.
    pub directory_file: PathBuf,
    /// Everything it wrote to stderr (its log).
    pub log: Arc<Mutex<String>>,
    /// The directory it serves.
    pub directory: Arc<TestDirectory>,
    /// Its PostgreSQL database, if it keeps its mailboxes there.
    pub database: Option<Arc<TestDatabase>>,
    /// The folder of a relay started [`Relay::beside`] another (whose folder is `_folder`).
    own_folder: Option<tempfile::TempDir>,
    _folder: Arc<tempfile::TempDir>,
}

/// Options for a test relay.
#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// Extra TOML appended to the configuration.
    pub extra_config: String,
    /// Proof-of-work base difficulty.
    pub difficulty: u8,
    /// The data folder, if not a fresh one inside the relay's temporary folder.
    pub data_dir: Option<PathBuf>,
    /// Mailbox creations a minute above which the proof-of-work difficulty rises.
    pub target_per_minute: u32,
    /// Hybrid post-quantum keys for every recipient, and a recovery key
    /// ([`TestDirectory::post_quantum`]).
    pub post_quantum: bool,
    /// A structured report: the demo organisation asks the vector questionnaire
    /// ([`TestDirectory::questionnaire`]) and lists external channels.
    pub structured: bool,
    /// Where it keeps its mailboxes.
    pub backend: Backend,
    /// A PostgreSQL database to use (for a test that starts its own cluster); a fresh one on
    /// the shared cluster if `None` and the backend is PostgreSQL.
    pub database: Option<Arc<TestDatabase>>,
}

impl Default for RelayOptions {
    fn default() -> Self {
        RelayOptions {
            extra_config: String::new(),
            difficulty: 6,
            data_dir: None,
            target_per_minute: 100_000,
            post_quantum: false,
            structured: false,
            backend: Backend::Redb,
            database: None,
        }
    }
}

impl Relay {
    /// Starts a relay with a fresh folder and directory.
    pub fn start(options: RelayOptions) -> Relay {
        let folder = Arc::new(tempfile::tempdir().expect("temporary folder"));
        let mut directory = if options.post_quantum {
            TestDirectory::post_quantum()
        } else {
            TestDirectory::new()
        };
        directory.structured = options.structured;
        let directory = Arc::new(directory);
        let data = options
            .data_dir
            .clone()
            .unwrap_or_else(|| folder.path().join("data"));
        let directory_file = folder.path().join("directory.signed.json");
        std::fs::write(&directory_file, directory.signed()).expect("write directory");
        let config = folder.path().join("meldpunt.toml");
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:0\"\ndata_dir = \"{}\"\ndirectory_file = \"{}\"\ndirectory_key = \"{}\"\n{}\n[proof_of_work]\nbase_difficulty = {}\nmax_difficulty = {}\ntarget_per_minute = {}\n",
                data.display(),
                directory_file.display(),
                directory.signing_key.directory_key(),
                // `{directory_pin}` stands for version 1 of this relay's directory and its
                // hash (`web.directory_pin`), which only exist once its keys are made.
                options.extra_config.replace(
                    "{directory_pin}",
                    &format!(
                        "1:{}",
                        meldpunt_crypto::SignedDirectory::from_bytes(directory.signed())
                            .and_then(|signed| signed.hash())
                            .expect("a signed directory")
                    )
                ),
                options.difficulty,
                options.difficulty.max(12),
                options.target_per_minute,
            ),
        )
        .expect("write config");
        let database = match (options.database, options.backend) {
            (Some(database), _) => Some(database),
            (None, Backend::Postgres) => Some(TestDatabase::create()),
            (None, Backend::Redb) => None,
        };
        if let Some(database) = &database {
            database.migrate(&config);
        }
        Self::launch(folder, data, config, directory, database)
    }

    /// A second relay process on this one's database (PostgreSQL), with its own data
    /// folder, serving the same directory: as a second host behind one onion service.
    pub fn beside(&self) -> Relay {
        let database = self
            .database
            .clone()
            .expect("several relays share a PostgreSQL database");
        let folder = tempfile::tempdir().expect("temporary folder");
        let data = folder.path().join("data");
        let config = folder.path().join("meldpunt.toml");
        let text = std::fs::read_to_string(&self.config).expect("the first relay's config");
        let text = text
            .lines()
            .map(|line| {
                if line.starts_with("data_dir = ") {
                    format!("data_dir = \"{}\"", data.display())
                } else if line.starts_with("listen = ") {
                    "listen = \"127.0.0.1:0\"".to_owned()
                } else {
                    line.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&config, text).expect("write config");
        let mut relay = Self::launch(
            Arc::clone(&self._folder),
            data,
            config,
            Arc::clone(&self.directory),
            Some(database),
        );
        relay.own_folder = Some(folder);
        relay
    }

    /// Whether what the relay stores holds `marker`: its redb file, or a `pg_dump` of its
    /// database (raw, or as bytea hex).
    pub fn stores(&self, marker: &[u8]) -> bool {
        match &self.database {
            Some(database) => holds(&database.dump(), marker),
            None => contains(
                &std::fs::read(self.data.join("meldpunt.redb")).expect("the redb file"),
                marker,
            ),
        }
    }

    fn launch(
        folder: Arc<tempfile::TempDir>,
        data: PathBuf,
        config: PathBuf,
        directory: Arc<TestDirectory>,
        database: Option<Arc<TestDatabase>>,
    ) -> Relay {
        // Under an ordinary umask (022), as a relay started by hand would be: what it creates
        // must be its owner's only all the same.
        let mut child = Command::new("sh")
            .args(["-c", "umask 022 && exec \"$0\" \"$@\""])
            .arg(binary("meldpunt-server", "meldpunt-server"))
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the relay starts");
        let stderr = child.stderr.take().expect("piped");
        let log = Arc::new(Mutex::new(String::new()));
        let (address_sender, address_receiver) = std::sync::mpsc::channel();
        let log_writer = Arc::clone(&log);
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent {
                    if let Some(address) = line.split("address=").nth(1) {
                        let _ = address_sender.send(address.trim().to_owned());
                        sent = true;
                    }
                }
                let mut log = log_writer.lock().expect("not poisoned");
                log.push_str(&line);
                log.push('\n');
            }
        });
        let address = match address_receiver.recv_timeout(Duration::from_secs(60)) {
            Ok(address) => address,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "the relay did not start: {}",
                    log.lock().expect("not poisoned")
                );
            }
        };
        let directory_file = folder.path().join("directory.signed.json");
        Relay {
            child,
            url: format!("http://{address}"),
            data,
            config,
            directory_file,
            log,
            directory,
            database,
            own_folder: None,
            _folder: folder,
        }
    }

    /// GETs `path` with an `Authorization` header value.
    pub async fn get(&self, path: &str, authorization: &str) -> reqwest::Response {
        client()
            .get(format!("{}{path}", self.url))
            .header("authorization", authorization)
            .send()
            .await
            .expect("the relay answers")
    }

    /// POSTs sealed bytes to `path` with an `Authorization` header value.
    pub async fn post_sealed(
        &self,
        path: &str,
        authorization: &str,
        sealed: Vec<u8>,
    ) -> reqwest::Response {
        client()
            .post(format!("{}{path}", self.url))
            .header("authorization", authorization)
            .header("content-type", "application/octet-stream")
            .body(sealed)
            .send()
            .await
            .expect("the relay answers")
    }

    /// A fresh form token from the web form page at `path`, as a browser would get it.
    pub async fn form_token(&self, path: &str) -> String {
        let page = client()
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .expect("the form page")
            .text()
            .await
            .expect("its text");
        form_token(&page)
    }

    /// A proof-of-work challenge from the relay for a new mailbox, if it asks for stamps.
    pub async fn challenge(&self) -> Option<meldpunt_crypto::Challenge> {
        self.challenge_at("/api/v1/challenge").await
    }

    /// A proof-of-work challenge for an office login beyond the free ones (20 bits at least).
    pub async fn office_login_challenge(&self) -> Option<meldpunt_crypto::Challenge> {
        self.challenge_at("/api/v1/challenge?purpose=office").await
    }

    async fn challenge_at(&self, path: &str) -> Option<meldpunt_crypto::Challenge> {
        let offer: meldpunt_wire::ChallengeOffer = client()
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .expect("challenge")
            .json()
            .await
            .expect("a challenge offer");
        let wire = offer.challenge.filter(|_| offer.required)?;
        Some(meldpunt_crypto::Challenge::from_wire(&wire).expect("valid challenge"))
    }

    /// The relay's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The relay's resident memory now, in KiB (from /proc).
    pub fn resident_kib(&self) -> u64 {
        self.status_kib("VmRSS:")
    }

    /// The relay's peak resident memory since it started, in KiB (VmHWM, from /proc).
    pub fn peak_kib(&self) -> u64 {
        self.status_kib("VmHWM:")
    }

    fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("the relay's /proc status");
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("a /proc status field")
    }

    /// Kills the process with SIGKILL (no chance to flush anything) and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the relay again on the same data, configuration and address.
    pub fn restart(mut self) -> Relay {
        self.kill();
        let address = self.url.trim_start_matches("http://").to_owned();
        let config = std::fs::read_to_string(&self.config).expect("config");
        let config = config.replace(
            "listen = \"127.0.0.1:0\"",
            &format!("listen = \"{address}\""),
        );
        std::fs::write(&self.config, config).expect("config");
        let folder = Arc::clone(&self._folder);
        let directory = Arc::clone(&self.directory);
        let mut relay = Self::launch(
            folder,
            self.data.clone(),
            self.config.clone(),
            directory,
            self.database.clone(),
        );
        relay.own_folder = self.own_folder.take();
        relay
    }

    /// The relay's counters, read as an operator does: `meldpunt-server metrics` over the
    /// admin socket (they are never served on the network).
    pub fn metrics(&self) -> String {
        let output = Command::new(binary("meldpunt-server", "meldpunt-server"))
            .arg("metrics")
            .arg("--data")
            .arg(&self.data)
            .output()
            .expect("meldpunt-server metrics runs");
        assert!(
            output.status.success(),
            "meldpunt-server metrics: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("text")
    }

    /// The whole log so far.
    pub fn log_text(&self) -> String {
        self.log.lock().expect("not poisoned").clone()
    }

    /// Stops the relay with SIGTERM and waits for it to exit.
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill();
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs each named test (an `async fn NAME(backend: Backend)`) against both stores, as
/// `NAME::redb` and `NAME::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn redb() {
                super::$name($crate::Backend::Redb).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::Backend::Postgres).await
            }
        }
    )*};
}

/// Which store a test relay keeps its mailboxes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded redb file in the data folder.
    Redb,
    /// A fresh database on the throwaway PostgreSQL cluster that `scripts/test` starts
    /// (`scripts/throwaway-postgres`).
    Postgres,
}

/// A PostgreSQL cluster for tests: the one `scripts/test` started (its address in
/// `MELDPUNT_TEST_POSTGRES`), or one a test starts for itself and stops when dropped.
#[derive(Debug)]
pub struct PostgresCluster {
    /// `postgres://meldpunt@127.0.0.1:PORT/postgres`.
    pub url: String,
    /// The password file (readable by the tests).
    pub password_file: PathBuf,
    /// The server binaries' folder.
    pub bin: PathBuf,
    /// The cluster's folder, when this test started it (stopped and removed on drop).
    own_folder: Option<PathBuf>,
}

impl PostgresCluster {
    /// The cluster `scripts/test` started.
    pub fn shared() -> PostgresCluster {
        let variable = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!(
                    "{name} is not set: run the tests with ./scripts/test, which starts a throwaway PostgreSQL \
                     (or `eval \"$(scripts/throwaway-postgres start)\"` before cargo test)"
                )
            })
        };
        PostgresCluster {
            url: variable("MELDPUNT_TEST_POSTGRES"),
            password_file: variable("MELDPUNT_TEST_POSTGRES_PASSWORD_FILE").into(),
            bin: variable("MELDPUNT_TEST_POSTGRES_BIN").into(),
            own_folder: None,
        }
    }

    /// A cluster of this test's own (for a test that restarts it), stopped on drop.
    pub fn own() -> PostgresCluster {
        Self::start_own(&[])
    }

    /// A cluster of this test's own that also speaks TLS with this certificate and key
    /// (PEM files), stopped on drop.
    pub fn own_with_tls(certificate: &Path, key: &Path) -> PostgresCluster {
        Self::start_own(&[
            ("MELDPUNT_TEST_POSTGRES_SSL_CERT", certificate),
            ("MELDPUNT_TEST_POSTGRES_SSL_KEY", key),
        ])
    }

    fn start_own(environment: &[(&str, &Path)]) -> PostgresCluster {
        let output = Command::new(workspace_root().join("scripts/throwaway-postgres"))
            .arg("start")
            .envs(environment.iter().copied())
            .stdin(Stdio::null())
            .output()
            .expect("scripts/throwaway-postgres runs");
        assert!(
            output.status.success(),
            "scripts/throwaway-postgres start: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8(output.stdout).expect("text");
        let value = |name: &str| -> String {
            text.lines()
                .find_map(|line| line.strip_prefix(&format!("export {name}='")))
                .and_then(|rest| rest.strip_suffix('\''))
                .unwrap_or_else(|| panic!("{name} in {text}"))
                .to_owned()
        };
        PostgresCluster {
            url: value("MELDPUNT_TEST_POSTGRES"),
            password_file: value("MELDPUNT_TEST_POSTGRES_PASSWORD_FILE").into(),
            bin: value("MELDPUNT_TEST_POSTGRES_BIN").into(),
            own_folder: Some(value("MELDPUNT_TEST_POSTGRES_DIR").into()),
        }
    }

    /// Runs one SQL command as the cluster's owner, on `database`.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let url = self.url_of(database);
        let output = Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-q",
                "-t",
                "-A",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                &url,
                "-c",
                sql,
            ])
            .env("PGPASSWORD", self.password())
            .stdin(Stdio::null())
            .output()
            .expect("psql runs");
        assert!(
            output.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    fn password(&self) -> String {
        std::fs::read_to_string(&self.password_file)
            .expect("the password file")
            .trim()
            .to_owned()
    }

    /// The URL of `database` on this cluster.
    pub fn url_of(&self, database: &str) -> String {
        let (server, _) = self.url.rsplit_once('/').expect("a database in the URL");
        format!("{server}/{database}")
    }

    /// Restarts the server (fast shutdown: connections are cut), if this test started it.
    pub fn restart(&self, pause: Duration) {
        let folder = self
            .own_folder
            .as_ref()
            .expect("a cluster of this test's own");
        self.pg_ctl(folder, &["-m", "fast", "-w", "stop"]);
        std::thread::sleep(pause);
        let port = self
            .url
            .rsplit(':')
            .next()
            .unwrap()
            .split('/')
            .next()
            .unwrap();
        self.pg_ctl(
            folder,
            &[
                "-w",
                "-l",
                &folder.join("server.log").display().to_string(),
                "-o",
                &format!(
                    "-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={} -c max_connections=300",
                    folder.display()
                ),
                "start",
            ],
        );
    }

    fn pg_ctl(&self, folder: &Path, arguments: &[&str]) {
        let pg_ctl = self.bin.join("pg_ctl");
        let data = folder.join("data");
        let mut command = if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(pg_ctl);
            command
        } else {
            Command::new(pg_ctl)
        };
        let status = command
            .arg("-D")
            .arg(data)
            .args(arguments)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .expect("pg_ctl runs");
        assert!(status.success(), "pg_ctl {arguments:?}");
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.trim_ascii() == b"0")
}

impl Drop for PostgresCluster {
    fn drop(&mut self) {
        if let Some(folder) = &self.own_folder {
            let _ = Command::new(workspace_root().join("scripts/throwaway-postgres"))
                .arg("stop")
                .arg(folder)
                .status();
        }
    }
}

/// A fresh database for one test (or for several relays of one test), dropped at the end.
#[derive(Debug)]
pub struct TestDatabase {
    /// The cluster it lives on.
    pub cluster: Arc<PostgresCluster>,
    /// Its name.
    pub name: String,
    /// The certificate authority a relay verifies the server with, when it must use TLS.
    pub tls_authority: Option<PathBuf>,
}

impl TestDatabase {
    /// A new empty database on the shared cluster.
    pub fn create() -> Arc<TestDatabase> {
        Self::create_on(Arc::new(PostgresCluster::shared()))
    }

    /// A new empty database on `cluster`.
    pub fn create_on(cluster: Arc<PostgresCluster>) -> Arc<TestDatabase> {
        let mut suffix = [0u8; 8];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut suffix);
        let name = format!(
            "test_{}",
            suffix
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect::<String>()
        );
        cluster.psql("postgres", &format!("CREATE DATABASE {name}"));
        Arc::new(TestDatabase {
            cluster,
            name,
            tls_authority: None,
        })
    }

    /// A new empty database on `cluster` (one started [`PostgresCluster::own_with_tls`]),
    /// which relays reach only over TLS, verifying the server with `authority` (PEM).
    pub fn create_on_tls(cluster: Arc<PostgresCluster>, authority: &Path) -> Arc<TestDatabase> {
        let database = Self::create_on(cluster);
        let mut database = Arc::into_inner(database).expect("not shared yet");
        database.tls_authority = Some(authority.to_owned());
        Arc::new(database)
    }

    /// Its URL (no password).
    pub fn url(&self) -> String {
        self.cluster.url_of(&self.name)
    }

    /// The `[storage]` section of a relay configuration that keeps its mailboxes here.
    pub fn storage_config(&self) -> String {
        let tls = match &self.tls_authority {
            Some(authority) => format!("ca_file = \"{}\"\n", authority.display()),
            None => String::new(),
        };
        format!(
            "\n[storage]\nbackend = \"postgres\"\nurl = \"{}{}\"\npassword_file = \"{}\"\npool_size = 8\n{tls}",
            self.url(),
            if self.tls_authority.is_some() { "?sslmode=require" } else { "" },
            self.cluster.password_file.display()
        )
    }

    /// Everything in it, as `pg_dump` writes it (what an operator's backup holds).
    pub fn dump(&self) -> Vec<u8> {
        let output = Command::new(self.cluster.bin.join("pg_dump"))
            .args(["--no-owner", "-d", &self.url()])
            .env("PGPASSWORD", self.cluster.password())
            .stdin(Stdio::null())
            .output()
            .expect("pg_dump runs");
        assert!(
            output.status.success(),
            "pg_dump: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let url = self.cluster.url_of("postgres");
        let _ = Command::new(self.cluster.bin.join("psql"))
            .args(["-X", "-q", "-d", &url, "-c"])
            .arg(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .env("PGPASSWORD", self.cluster.password())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Whether `haystack` holds `marker`, raw or as the hex that `pg_dump` writes bytea in.
pub fn holds(haystack: &[u8], marker: &[u8]) -> bool {
    let hex: String = marker.iter().map(|byte| format!("{byte:02x}")).collect();
    contains(haystack, marker) || contains(haystack, hex.as_bytes())
}

impl TestDatabase {
    /// Runs `meldpunt-server migrate` with a relay configuration that names this database
    /// (appended to it), as an operator does before the first start.
    fn migrate(&self, config: &Path) {
        let mut text = std::fs::read_to_string(config).expect("config");
        text.push_str(&self.storage_config());
        std::fs::write(config, text).expect("config");
        let output = Command::new(binary("meldpunt-server", "meldpunt-server"))
            .arg("migrate")
            .arg("--config")
            .arg(config)
            .stdin(Stdio::null())
            .output()
            .expect("meldpunt-server migrate runs");
        assert!(
            output.status.success(),
            "meldpunt-server migrate: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// An HTTP client for the tests (loopback only, bounded time).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .no_proxy()
        .build()
        .expect("client")
}

/// A reporter with a fresh receipt code.
#[derive(Debug)]
pub struct Reporter {
    /// The receipt code.
    pub code: ReceiptCode,
}

impl Reporter {
    /// A new reporter.
    pub fn new() -> Self {
        Reporter {
            code: ReceiptCode::generate(),
        }
    }

    /// The bearer header value.
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.code.mailbox_token().to_wire().as_str())
    }

    /// The mailbox token.
    pub fn token(&self) -> MailboxToken {
        self.code.mailbox_token()
    }

    /// A report to the demo organisation's integrity office, sealed as the CLI would.
    pub fn sealed_report(&self, relay: &Relay, text: &str) -> Vec<u8> {
        meldpunt_crypto::Message::report(
            &self.code,
            vec![meldpunt_crypto::RecipientAddress {
                organisation: "demo".into(),
                recipient: "integrity-office".into(),
            }],
            meldpunt_crypto::Content::text(
                Day::from_calendar_date(2026, 11, 28).expect("valid"),
                text,
            ),
        )
        .seal(&[
            relay.directory.demo_office.recipient(),
            relay.directory.demo_colleague.recipient(),
            self.code.reply_identity().recipient(),
        ])
        .expect("sealed")
        .into_bytes()
    }

    /// Fetches a challenge and solves it for this reporter's mailbox.
    pub async fn stamp(&self, relay: &Relay) -> Option<String> {
        let challenge = relay.challenge().await?;
        let id = self.token().mailbox_id();
        let stamp: Stamp = challenge.solve(&id, |_| true).expect("solved");
        Some(stamp.to_wire())
    }

    /// Creates this reporter's mailbox with `sealed` as its report.
    pub async fn create(
        &self,
        relay: &Relay,
        organisation: &str,
        sealed: Vec<u8>,
    ) -> reqwest::Response {
        let mut request = client()
            .post(format!("{}/api/v1/mailboxes", relay.url))
            .header("authorization", self.bearer())
            .header("meldpunt-organisation", organisation)
            .header("meldpunt-recipients", "integrity-office")
            .header("content-type", "application/octet-stream")
            .body(sealed);
        if let Some(stamp) = self.stamp(relay).await {
            request = request.header("meldpunt-stamp", stamp);
        }
        request.send().await.expect("request")
    }
}

impl Default for Reporter {
    fn default() -> Self {
        Self::new()
    }
}

/// Opens an office session for the integrity office of `organisation` with `identity`;
/// returns the bearer value.
pub async fn office_session(relay: &Relay, organisation: &str, identity: &IdentityKey) -> String {
    recipient_session(relay, organisation, "integrity-office", identity).await
}

/// Opens an office session for `recipient` of `organisation` with `identity`; returns the
/// bearer value.
pub async fn recipient_session(
    relay: &Relay,
    organisation: &str,
    recipient: &str,
    identity: &IdentityKey,
) -> String {
    let session = meldpunt_client::Relay::new(&relay.url, None)
        .expect("a loopback relay")
        .office_session(
            organisation,
            recipient,
            std::slice::from_ref(identity),
            || {},
        )
        .await
        .expect("an office session");
    format!("Bearer {}", session.to_wire().as_str())
}

/// A colleague with an office key of the demo organisation (or a buggy client) posts a
/// genuine, signed reply into the mailbox of `code`, sealed to the office only: the reporter
/// cannot open it.
pub async fn post_reply_the_reporter_cannot_open(relay: &Relay, code: &ReceiptCode) {
    let colleague = &relay.directory.demo_colleague;
    let signing_key = colleague.office_signing_key();
    let mut message = meldpunt_crypto::Message {
        recording: Default::default(),
        answers: Default::default(),
        purpose: Default::default(),
        mailbox: code.mailbox_token().mailbox_id(),
        sequence: 1,
        kind: meldpunt_crypto::MessageKind::Reply {
            from: meldpunt_crypto::RecipientAddress {
                organisation: "demo".into(),
                recipient: "integrity-office".into(),
            },
            signer: signing_key.office_key(),
            signature: meldpunt_crypto::MessageSignature::from_bytes([0; 64]),
            process_guide: None,
            opening: None,
        },
        written_on: Day::from_calendar_date(2026, 11, 30).expect("valid"),
        body: String::from("Alleen voor collega's.").into(),
        attachments: vec![],
    };
    signing_key.sign(&mut message).expect("a reply");
    let sealed = message
        .seal(&[
            relay.directory.demo_office.recipient(),
            colleague.recipient(),
        ])
        .expect("sealed");
    let session = office_session(relay, "demo", colleague).await;
    let path = format!(
        "/api/v1/office/mailboxes/{}/messages",
        code.mailbox_token().mailbox_id().to_wire()
    );
    let response = relay
        .post_sealed(&path, &session, sealed.into_bytes())
        .await;
    assert_eq!(response.status(), 201);
}

/// A sandbox for one CLI user: its own MELDPUNT_HOME (pins, store, config).
#[derive(Debug)]
pub struct User {
    home: tempfile::TempDir,
}

impl User {
    /// A new user with an empty home.
    #[allow(clippy::new_without_default)]
    pub fn new() -> User {
        User {
            home: tempfile::tempdir().unwrap(),
        }
    }

    /// A path inside the user's folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }

    /// Runs `meldpunt` with the arguments and optional standard input.
    pub fn run(
        &self,
        relay: &Relay,
        arguments: &[&str],
        stdin: Option<&str>,
    ) -> std::process::Output {
        self.run_at(&relay.url, arguments, stdin)
    }

    /// Runs `meldpunt` against the relay at `url` (a hostile one, say); an empty `url` gives
    /// it no relay at all.
    pub fn run_at(
        &self,
        url: &str,
        arguments: &[&str],
        stdin: Option<&str>,
    ) -> std::process::Output {
        // Under an ordinary umask (022): what the CLI creates must be its user's only anyway.
        let mut command = Command::new("sh");
        command
            .args(["-c", "umask 022 && exec \"$0\" \"$@\""])
            .arg(binary("meldpunt-cli", "meldpunt"))
            .args(arguments)
            .env("MELDPUNT_HOME", self.home.path().join("home"))
            .env("MELDPUNT_RELAY", url)
            .env_remove("MELDPUNT_DIRECTORY_KEY")
            .env_remove("EDITOR")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if url.is_empty() {
            command.env_remove("MELDPUNT_RELAY");
        }
        let mut child = command.spawn().unwrap();
        if let Some(input) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        child.wait_with_output().unwrap()
    }

    /// Runs `meldpunt` and requires success; returns standard output.
    pub fn ok(&self, relay: &Relay, arguments: &[&str], stdin: Option<&str>) -> String {
        let output = self.run(relay, arguments, stdin);
        assert!(
            output.status.success(),
            "meldpunt {arguments:?} failed ({:?}): {}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Reports `text` to the demo organisation with the CLI (directory key pinned) and
    /// returns the receipt code.
    pub fn report(&self, relay: &Relay, text: &str) -> String {
        let key = relay.directory.signing_key.directory_key().to_string();
        let answer = self.json(
            relay,
            &[
                "report",
                "--to",
                "demo",
                "--directory-key",
                &key,
                "--message-file",
                "-",
            ],
            Some(text),
        );
        answer["receipt_code"]
            .as_str()
            .expect("a receipt code")
            .to_owned()
    }

    /// Runs `meldpunt … --json` and parses the output.
    pub fn json(
        &self,
        relay: &Relay,
        arguments: &[&str],
        stdin: Option<&str>,
    ) -> serde_json::Value {
        let mut with_json = arguments.to_vec();
        with_json.push("--json");
        serde_json::from_str(&self.ok(relay, &with_json, stdin)).unwrap()
    }
}

/// An office member's CLI: its identity file and case store, in its own home.
#[derive(Debug)]
pub struct Member {
    /// The member's user (home folder).
    pub user: User,
    /// The identity file.
    pub identity: String,
    /// The case store folder.
    pub store: String,
    /// The pinned directory key.
    pub key: String,
}

impl Member {
    /// A member with `identity`, in a home of their own.
    pub fn new(relay: &Relay, identity: &meldpunt_crypto::IdentityKey) -> Member {
        let user = User::new();
        let path = user.path("office.key");
        write_identity(&path, identity);
        Member {
            identity: path.display().to_string(),
            store: user.path("store").display().to_string(),
            key: relay.directory.signing_key.directory_key().to_string(),
            user,
        }
    }

    /// `inbox COMMAND EXTRA…` with the member's identity, store and pinned key.
    pub fn arguments<'a>(&'a self, command: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
        let mut arguments = vec!["inbox", command];
        arguments.extend_from_slice(extra);
        arguments.extend_from_slice(&[
            "--identity",
            &self.identity,
            "--store",
            &self.store,
            "--directory-key",
            &self.key,
        ]);
        arguments
    }

    /// `inbox COMMAND … --json` at `url`; exit code and parsed output (or the raw text).
    pub fn run_at(
        &self,
        url: &str,
        command: &str,
        extra: &[&str],
        stdin: Option<&str>,
    ) -> (Option<i32>, serde_json::Value, String) {
        let mut arguments = self.arguments(command, extra);
        arguments.push("--json");
        let output = self.user.run_at(url, &arguments, stdin);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let printed = format!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
        (
            output.status.code(),
            serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null),
            printed,
        )
    }

    /// `inbox COMMAND EXTRA… --json` at `relay` as if it were `today` (`MELDPUNT_TODAY`, the
    /// injected clock), with no desktop to notify; exit code, parsed output and all printed.
    pub fn run_on(
        &self,
        relay: &Relay,
        today: &str,
        command: &str,
        extra: &[&str],
    ) -> (Option<i32>, serde_json::Value, String) {
        let mut arguments = self.arguments(command, extra);
        arguments.push("--json");
        let output = Command::new(binary("meldpunt-cli", "meldpunt"))
            .args(&arguments)
            .env("MELDPUNT_HOME", self.user.path("home"))
            .env("MELDPUNT_RELAY", &relay.url)
            .env("MELDPUNT_TODAY", today)
            .env(
                "DBUS_SESSION_BUS_ADDRESS",
                "unix:path=/nonexistent/meldpunt-test-bus",
            )
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            output.status.code(),
            serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null),
            format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        )
    }

    /// `inbox sync --json`, required to succeed.
    pub fn sync(&self, relay: &Relay) -> serde_json::Value {
        let (status, answer, printed) = self.run_at(&relay.url, "sync", &[], None);
        assert_eq!(status, Some(0), "{printed}");
        answer
    }

    /// `inbox list --json`, required to succeed.
    pub fn list(&self, relay: &Relay) -> serde_json::Value {
        let (status, answer, printed) = self.run_at(&relay.url, "list", &[], None);
        assert_eq!(status, Some(0), "{printed}");
        answer
    }

    /// `inbox show CASE --json`, required to succeed.
    pub fn show(&self, relay: &Relay, case: &str) -> serde_json::Value {
        let (status, answer, printed) = self.run_at(&relay.url, "show", &[case], None);
        assert_eq!(status, Some(0), "{printed}");
        answer
    }

    /// `inbox reply CASE EXTRA…`, the text from standard input when given.
    pub fn reply(&self, relay: &Relay, case: &str, extra: &[&str], text: Option<&str>) {
        let mut arguments = vec![case];
        arguments.extend_from_slice(extra);
        if text.is_some() {
            arguments.extend_from_slice(&["--message-file", "-"]);
        }
        let (status, _, printed) = self.run_at(&relay.url, "reply", &arguments, text);
        assert_eq!(status, Some(0), "{printed}");
    }
}

/// Writes an identity file as `meldpunt keygen` does.
pub fn write_identity(path: &Path, identity: &meldpunt_crypto::IdentityKey) {
    std::fs::write(
        path,
        format!("# test office\n{}\n", identity.to_secret_string().as_str()),
    )
    .unwrap();
}

/// Writes an identity file protected with `passphrase`, the way `age -p -a` (and
/// `meldpunt keygen --passphrase`) does it.
pub fn write_protected_identity(
    path: &Path,
    identity: &meldpunt_crypto::IdentityKey,
    passphrase: &str,
) {
    use std::io::Write as _;
    let text = format!("{}\n", identity.to_secret_string().as_str());
    let encryptor =
        age::Encryptor::with_user_passphrase(age::secrecy::SecretString::from(passphrase));
    let mut protected = Vec::new();
    let armor =
        age::armor::ArmoredWriter::wrap_output(&mut protected, age::armor::Format::AsciiArmor)
            .unwrap();
    let mut writer = encryptor.wrap_output(armor).unwrap();
    writer.write_all(text.as_bytes()).unwrap();
    writer.finish().unwrap().finish().unwrap();
    std::fs::write(path, protected).unwrap();
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Every file under a folder, recursively.
pub fn files_under(folder: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// A real JPEG (metadata/testdata/baseline.jpg) with an EXIF segment holding a GPS marker
/// and a comment naming someone inserted after its start.
pub fn photo_with_metadata() -> Vec<u8> {
    let picture = include_bytes!("../../metadata/testdata/baseline.jpg");
    let mut bytes = picture[..2].to_vec();
    let exif = b"Exif\0\0GPS-52.0907N-5.1214E";
    bytes.extend_from_slice(&[0xFF, 0xE1, 0x00, (exif.len() + 2) as u8]);
    bytes.extend_from_slice(exif);
    let comment = b"photo by J. Jansen";
    bytes.extend_from_slice(&[0xFF, 0xFE, 0x00, (comment.len() + 2) as u8]);
    bytes.extend_from_slice(comment);
    bytes.extend_from_slice(&picture[2..]);
    bytes
}

/// The form token of a web form page, as a browser would send it back.
pub fn form_token(html: &str) -> String {
    let start = html
        .find("name=\"form_token\" value=\"")
        .expect("a form token")
        + 25;
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}
