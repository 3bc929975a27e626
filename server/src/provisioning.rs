//! First-start provisioning of the development relay: the demo organisation's office
//! identity (`office.key`), the directory signing key (`directory.key`), its public key
//! (`directory.pub`) and the signed directory (`directory.signed.json`).
//!
//! A second start reuses what the first created; it re-signs the directory only when it
//! is about to expire. Secret files are created with mode 0600 and never printed.

use std::fs;
use std::path::{Path, PathBuf};

use meldpunt_crypto::{
    Day, Directory, DirectoryKey, DirectoryRecipient, DirectorySigningKey, IdentityKey,
    LocalisedName, Organisation, RecipientKey, Role, SignedDirectory,
};

/// What provisioning left on disk.
#[derive(Debug)]
pub struct DevSetup {
    pub directory_key: DirectoryKey,
    pub office_recipient: RecipientKey,
    pub directory_version: u64,
    pub reused: bool,
}

/// Errors of provisioning, each naming the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum ProvisioningError {
    #[error("cannot use {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid: {source}")]
    Invalid {
        path: PathBuf,
        source: meldpunt_crypto::Error,
    },
}

use crate::clock::today;

fn file_error(path: &Path) -> impl FnOnce(std::io::Error) -> ProvisioningError + '_ {
    move |source| ProvisioningError::File {
        path: path.to_owned(),
        source,
    }
}

fn write_secret(path: &Path, contents: &str) -> Result<(), ProvisioningError> {
    crate::files::write_new_private(path, contents.as_bytes()).map_err(file_error(path))
}

/// A file others may be given (the signed directory, the configuration): still written
/// 0600, as everything the relay creates; its owner hands it out.
fn write_public(path: &Path, contents: &[u8]) -> Result<(), ProvisioningError> {
    crate::files::replace_private(path, contents).map_err(file_error(path))
}

fn secret_line(path: &Path, prefix: &str) -> Result<Option<String>, ProvisioningError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(text
            .lines()
            .find(|line| line.starts_with(prefix))
            .map(str::to_owned)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(file_error(path)(error)),
    }
}

fn invalid(path: &Path) -> impl FnOnce(meldpunt_crypto::Error) -> ProvisioningError + '_ {
    move |source| ProvisioningError::Invalid {
        path: path.to_owned(),
        source,
    }
}

/// Creates (or reuses) the development setup under `data`.
pub fn provision_dev(data: &Path) -> Result<DevSetup, ProvisioningError> {
    crate::files::create_private_dir(data).map_err(file_error(data))?;
    let mut reused = true;

    let office_path = data.join("office.key");
    let office = match secret_line(&office_path, "AGE-SECRET-KEY-")? {
        Some(line) => IdentityKey::parse(&line).map_err(invalid(&office_path))?,
        None => {
            reused = false;
            let identity = IdentityKey::generate();
            write_secret(
                &office_path,
                &format!(
                    "# Meldpunt development office identity (demo organisation)\n# public key: {}\n{}\n",
                    identity.recipient(),
                    identity.to_secret_string().as_str()
                ),
            )?;
            identity
        }
    };

    let signing_path = data.join("directory.key");
    let signing_key = match secret_line(&signing_path, "MELDPUNT-DIRECTORY-SECRET-KEY-")? {
        Some(line) => DirectorySigningKey::parse(&line).map_err(invalid(&signing_path))?,
        None => {
            reused = false;
            let key = DirectorySigningKey::generate();
            write_secret(
                &signing_path,
                &format!(
                    "# Meldpunt development directory signing key\n{}\n",
                    key.to_secret_string().as_str()
                ),
            )?;
            key
        }
    };
    let directory_key = signing_key.directory_key();
    write_public(
        &data.join("directory.pub"),
        format!("{directory_key}\n").as_bytes(),
    )?;

    let signed_path = data.join("directory.signed.json");
    let today = today();
    let existing = match fs::read(&signed_path) {
        Ok(bytes) => SignedDirectory::from_bytes(bytes)
            .and_then(|signed| signed.verify(&directory_key, today, None))
            .ok(),
        Err(_) => None,
    };
    let office_recipient = office.recipient();
    let current = existing.filter(|directory| {
        directory.expires_on > today.plus_days(30)
            && directory.organisation("demo").is_some_and(|demo| {
                demo.recipients.iter().any(|r| {
                    r.keys.contains(&office_recipient)
                        && r.signing_keys
                            .contains(&office.office_signing_key().office_key())
                })
            })
    });
    let directory_version = match current {
        Some(directory) => directory.version,
        None => {
            reused = false;
            let mut directory = Directory::new(today, today.plus_months(12));
            directory.organisations.push(demo_organisation(&office));
            let previous_version = fs::read(&signed_path)
                .ok()
                .and_then(|bytes| SignedDirectory::from_bytes(bytes).ok())
                .and_then(|signed| {
                    signed
                        .verify(&directory_key, Day::from(time::Date::MIN), None)
                        .ok()
                })
                .map_or(0, |old| old.version);
            directory.version = previous_version;
            let (signed_directory, signed) = directory
                .sign(&signing_key)
                .map_err(invalid(&signed_path))?;
            write_public(&signed_path, signed.as_bytes())?;
            signed_directory.version
        }
    };
    Ok(DevSetup {
        directory_key,
        office_recipient,
        directory_version,
        reused,
    })
}

/// The demo organisation: its integrity office (the office identity), a short questionnaire
/// with no required question, and where else to go, so that a first look shows them all.
fn demo_organisation(office: &IdentityKey) -> Organisation {
    let questions = serde_json::from_value(serde_json::json!([
        {"id": "kind", "label": {"nl": "Soort misstand", "en": "Kind of wrongdoing"}, "kind": "choice",
         "options": [
            {"id": "fraud", "label": {"nl": "Fraude of corruptie", "en": "Fraud or corruption"}},
            {"id": "safety", "label": {"nl": "Gevaar voor gezondheid of veiligheid", "en": "Danger to health or safety"}},
            {"id": "conduct", "label": {"nl": "Ongewenst gedrag", "en": "Unwanted behaviour"}},
            {"id": "other", "label": {"nl": "Anders", "en": "Other"}}]},
        {"id": "since", "label": {"nl": "Sinds wanneer?", "en": "Since when?"}, "kind": "date"},
        {"id": "meeting", "label": {"nl": "Wilt u een gesprek?", "en": "Would you like a meeting?"}, "kind": "yes-no"}
    ]))
    .expect("the demo questionnaire");
    let channels = serde_json::from_value(serde_json::json!([
        {"name": {"nl": "Huis voor Klokkenluiders", "en": "Whistleblowers Authority (Huis voor Klokkenluiders)"},
         "purpose": {"nl": "Advies, en extern melden van een vermoeden van een misstand.", "en": "Advice, and reporting a suspected wrongdoing externally."},
         "contact": "https://www.huisvoorklokkenluiders.nl"}
    ]))
    .expect("the demo channels");
    Organisation {
        questions,
        channels,
        evaluation: Vec::new(),
        id: "demo".into(),
        name: LocalisedName {
            nl: "Demo-organisatie".into(),
            en: "Demo organisation".into(),
        },
        recipients: vec![DirectoryRecipient {
            id: "integrity-office".into(),
            role: Role::IntegrityOffice,
            name: LocalisedName {
                nl: "Bureau Integriteit (demo)".into(),
                en: "Integrity office (demo)".into(),
            },
            keys: vec![office.recipient()],
            signing_keys: vec![office.office_signing_key().office_key()],
        }],
    }
}

impl DevSetup {
    /// What to tell the person who started the development relay.
    pub fn describe(&self, data: &Path) -> String {
        format!(
            "{} development setup in {}:\n  office identity:   {}/office.key (public key {})\n  directory key:     {} (in {}/directory.pub)\n  signed directory:  {}/directory.signed.json, version {}",
            if self.reused { "Reusing the" } else { "Created the" },
            data.display(),
            data.display(),
            self.office_recipient,
            self.directory_key,
            data.display(),
            data.display(),
            self.directory_version,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_start_creates_and_second_start_reuses() {
        let data = tempfile::tempdir().unwrap();
        let first = provision_dev(data.path()).unwrap();
        assert!(!first.reused);
        assert_eq!(first.directory_version, 1);
        let office_file = fs::read_to_string(data.path().join("office.key")).unwrap();
        let second = provision_dev(data.path()).unwrap();
        assert!(second.reused);
        assert_eq!(second.directory_key, first.directory_key);
        assert_eq!(
            fs::read_to_string(data.path().join("office.key")).unwrap(),
            office_file
        );

        let signed = SignedDirectory::from_bytes(
            fs::read(data.path().join("directory.signed.json")).unwrap(),
        )
        .unwrap();
        let pinned: DirectoryKey = fs::read_to_string(data.path().join("directory.pub"))
            .unwrap()
            .parse()
            .unwrap();
        let directory = signed.verify(&pinned, today(), None).unwrap();
        let office = IdentityKey::parse(office_file.lines().last().unwrap()).unwrap();
        assert_eq!(
            directory.organisations[0].recipients[0].keys,
            vec![office.recipient()]
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(data.path().join("directory.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_damaged_key_file_is_reported_not_replaced() {
        let data = tempfile::tempdir().unwrap();
        fs::write(data.path().join("office.key"), "AGE-SECRET-KEY-1BROKEN\n").unwrap();
        let error = provision_dev(data.path()).unwrap_err().to_string();
        assert!(error.contains("office.key"), "{error}");
        assert!(!error.contains("BROKEN"), "{error}");
        assert_eq!(
            fs::read_to_string(data.path().join("office.key")).unwrap(),
            "AGE-SECRET-KEY-1BROKEN\n"
        );
    }
}
