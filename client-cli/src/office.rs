//! The office's key and directory commands: `keygen` and `directory init|add-recipient|
//! remove-recipient|sign|show`.
//!
//! The directory is kept as an unsigned draft (JSON) beside its signing key; `sign` writes
//! the signed file the relay serves, with the version raised by one and a fresh expiry.

use std::path::Path;

use meldpunt_crypto::{
    Directory, DirectoryRecipient, DirectorySigningKey, IdentityKey, LocalisedName, OfficeKey,
    Organisation, RecipientKey, Role, SignedDirectory,
};
use serde_json::json;

use crate::clock::today;
use crate::error::{CliError, Result};
use crate::input;
use crate::paths::write_private;

fn create_private(path: &Path, contents: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::AlreadyExists => CliError::Usage(format!(
            "{} exists already; not overwriting it",
            path.display()
        )),
        _ => CliError::file(path, error),
    })?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|error| CliError::file(path, error))
}

/// `meldpunt keygen`.
pub fn keygen(out: &Path, passphrase: bool, json_output: bool) -> Result<()> {
    let identity = IdentityKey::generate();
    let public = identity.recipient().to_string();
    let office_key = identity.office_signing_key().office_key().to_string();
    let text = zeroize::Zeroizing::new(format!(
        "# Meldpunt office identity (age X25519). Keep this file secret.\n# public key: {public}\n# office key: {office_key}\n{}\n",
        identity.to_secret_string().as_str()
    ));
    let contents = if passphrase {
        let first = input::secret_line("New passphrase: ")?;
        if first.chars().count() < 8 {
            return Err(CliError::Usage(
                "choose a passphrase of at least 8 characters".into(),
            ));
        }
        if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
            let second = input::secret_line("Repeat the passphrase: ")?;
            if *first != *second {
                return Err(CliError::Usage(
                    "the passphrases differ; nothing was written".into(),
                ));
            }
        }
        input::encrypt_with_passphrase(&text, &first)?
    } else {
        text.as_bytes().to_vec()
    };
    create_private(out, &contents)?;
    if json_output {
        println!(
            "{}",
            json!({ "public_key": public, "office_key": office_key, "identity_file": out, "passphrase": passphrase })
        );
    } else {
        eprintln!(
            "Wrote a new identity to {}. Keep it secret and backed up.\n\
             Give both keys below to whoever keeps the directory: \
             meldpunt directory add-recipient … --key {public} --signing-key {office_key}",
            out.display()
        );
        println!("public key: {public}");
        println!("office key: {office_key}");
    }
    Ok(())
}

fn read_draft(path: &Path) -> Result<Directory> {
    let bytes = std::fs::read(path).map_err(|error| CliError::file(path, error))?;
    serde_json::from_slice(&bytes).map_err(|error| {
        CliError::Usage(format!(
            "{} is not a directory draft: {error}",
            path.display()
        ))
    })
}

fn write_draft(path: &Path, directory: &Directory) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(directory).expect("serialisable");
    write_private(path, &bytes).map_err(|error| CliError::file(path, error))
}

fn read_signing_key(path: &Path) -> Result<DirectorySigningKey> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path).map_err(|error| CliError::file(path, error))?,
    );
    let line = text
        .lines()
        .find(|line| line.starts_with("MELDPUNT-DIRECTORY-SECRET-KEY-"))
        .ok_or_else(|| {
            CliError::Usage(format!("{} holds no directory signing key", path.display()))
        })?;
    Ok(DirectorySigningKey::parse(line)?)
}

/// `meldpunt directory init`.
pub fn init(draft: &Path, signing_key: &Path, json_output: bool) -> Result<()> {
    if draft.exists() {
        return Err(CliError::Usage(format!(
            "{} exists already; not overwriting it",
            draft.display()
        )));
    }
    let key = DirectorySigningKey::generate();
    create_private(
        signing_key,
        format!(
            "# Meldpunt directory signing key. Keep it offline and secret.\n{}\n",
            key.to_secret_string().as_str()
        )
        .as_bytes(),
    )?;
    let today = today();
    write_draft(draft, &Directory::new(today, today.plus_months(12)))?;
    if json_output {
        println!(
            "{}",
            json!({ "directory_key": key.directory_key().to_string() })
        );
    } else {
        println!("{}", key.directory_key());
        eprintln!(
            "Created {} and the signing key {}.\nPublish the directory key above where reporters can check it: they pin it with --directory-key.",
            draft.display(),
            signing_key.display()
        );
    }
    Ok(())
}

/// What `add-recipient` adds.
#[derive(Debug)]
pub struct NewRecipient {
    /// Organisation id.
    pub organisation: String,
    /// Organisation names, needed when the organisation is new.
    pub organisation_name: Option<(String, String)>,
    /// Recipient id.
    pub recipient: String,
    /// Role.
    pub role: Role,
    /// Names (Dutch, English).
    pub name: (String, String),
    /// Keys to add.
    pub keys: Vec<String>,
    /// Office keys (`mpok1…`) to add.
    pub signing_keys: Vec<String>,
}

/// `meldpunt directory add-recipient`.
pub fn add_recipient(draft: &Path, new: NewRecipient) -> Result<()> {
    let mut directory = read_draft(draft)?;
    let keys: Vec<RecipientKey> = new
        .keys
        .iter()
        .map(|key| {
            key.parse()
                .map_err(|_| CliError::Usage(format!("{key} is not an age public key (age1…)")))
        })
        .collect::<Result<_>>()?;
    let signing_keys: Vec<OfficeKey> = new
        .signing_keys
        .iter()
        .map(|key| {
            key.parse().map_err(|_| {
                CliError::Usage(format!(
                    "{key} is not an office key (mpok1…, printed by meldpunt keygen)"
                ))
            })
        })
        .collect::<Result<_>>()?;
    let organisation = match directory
        .organisations
        .iter_mut()
        .position(|o| o.id == new.organisation)
    {
        Some(index) => &mut directory.organisations[index],
        None => {
            let (nl, en) = new.organisation_name.clone().ok_or_else(|| {
                CliError::Usage(format!(
                    "organisation {} is new: give its names with --organisation-name-nl and --organisation-name-en",
                    new.organisation
                ))
            })?;
            directory.organisations.push(Organisation {
                id: new.organisation.clone(),
                name: LocalisedName { nl, en },
                recipients: vec![],
            });
            directory.organisations.last_mut().expect("just pushed")
        }
    };
    match organisation
        .recipients
        .iter_mut()
        .find(|r| r.id == new.recipient)
    {
        Some(existing) => {
            for key in keys {
                if !existing.keys.contains(&key) {
                    existing.keys.push(key);
                }
            }
            for key in signing_keys {
                if !existing.signing_keys.contains(&key) {
                    existing.signing_keys.push(key);
                }
            }
        }
        None => organisation.recipients.push(DirectoryRecipient {
            id: new.recipient.clone(),
            role: new.role,
            name: LocalisedName {
                nl: new.name.0,
                en: new.name.1,
            },
            keys,
            signing_keys,
        }),
    }
    let mut check = directory.clone();
    check.version = check.version.saturating_add(1);
    check.check()?;
    write_draft(draft, &directory)?;
    eprintln!(
        "Added {} to {} in {}. Sign it to publish: meldpunt directory sign",
        new.recipient,
        new.organisation,
        draft.display()
    );
    Ok(())
}

/// `meldpunt directory remove-recipient`.
pub fn remove_recipient(draft: &Path, organisation: &str, recipient: &str) -> Result<()> {
    let mut directory = read_draft(draft)?;
    let found = directory
        .organisations
        .iter_mut()
        .find(|o| o.id == organisation)
        .ok_or_else(|| {
            CliError::Usage(format!(
                "no organisation {organisation} in {}",
                draft.display()
            ))
        })?;
    let before = found.recipients.len();
    found.recipients.retain(|r| r.id != recipient);
    if found.recipients.len() == before {
        return Err(CliError::Usage(format!(
            "no recipient {recipient} in {organisation}"
        )));
    }
    directory.organisations.retain(|o| !o.recipients.is_empty());
    write_draft(draft, &directory)?;
    eprintln!(
        "Removed {recipient} from {organisation}. Sign it to publish: meldpunt directory sign"
    );
    Ok(())
}

/// The longest a signed directory may stay valid, in days.
const MOST_VALID_DAYS: i64 = 400;
/// Above this many days, signing warns.
const WARNED_VALID_DAYS: i64 = 180;

/// `meldpunt directory sign`.
pub fn sign(
    draft: &Path,
    signing_key: &Path,
    out: &Path,
    valid_days: i64,
    json_output: bool,
) -> Result<()> {
    if !(1..=MOST_VALID_DAYS).contains(&valid_days) {
        return Err(CliError::Usage(format!(
            "--valid-days {valid_days} is not between 1 and {MOST_VALID_DAYS}: a directory must be \
             signed again at least every {MOST_VALID_DAYS} days, so that retired keys drop out of it"
        )));
    }
    if valid_days > WARNED_VALID_DAYS {
        eprintln!(
            "Warning: valid for {valid_days} days. A retired or lost key stays listed until the \
             directory expires; {WARNED_VALID_DAYS} days or fewer is advised."
        );
    }
    let mut directory = read_draft(draft)?;
    let key = read_signing_key(signing_key)?;
    let today = today();
    directory.issued_on = today;
    directory.expires_on = today.plus_days(valid_days);
    let (signed_directory, signed) = directory.sign(&key)?;
    write_private(out, signed.as_bytes()).map_err(|error| CliError::file(out, error))?;
    write_draft(draft, &signed_directory)?;
    if json_output {
        println!(
            "{}",
            json!({ "version": signed_directory.version, "expires_on": signed_directory.expires_on.to_string(), "file": out })
        );
    } else {
        println!(
            "Signed version {} (valid until {}) into {}. Copy it to the relay's directory_file and restart the relay.",
            signed_directory.version,
            signed_directory.expires_on,
            out.display()
        );
    }
    Ok(())
}

/// `meldpunt directory show`: a signed file (verified if a key is given) or a draft.
pub fn show(file: &Path, directory_key: Option<&str>, json_output: bool) -> Result<()> {
    let bytes = std::fs::read(file).map_err(|error| CliError::file(file, error))?;
    let (directory, verified) = match SignedDirectory::from_bytes(bytes.clone()) {
        Ok(signed) => {
            let key = match directory_key {
                Some(text) => text.parse().map_err(|_| {
                    CliError::Usage("--directory-key is not a directory key".into())
                })?,
                None => signed.claimed_signing_key()?,
            };
            (signed.verify(&key, today(), None)?, directory_key.is_some())
        }
        Err(_) => (read_draft(file)?, false),
    };
    if json_output {
        println!(
            "{}",
            json!({ "verified_against_pinned_key": verified, "directory": directory })
        );
        return Ok(());
    }
    println!(
        "Directory version {}, issued {}, valid until {}{}",
        directory.version,
        directory.issued_on,
        directory.expires_on,
        if verified {
            " (signature verified against the given key)"
        } else {
            ""
        }
    );
    for organisation in &directory.organisations {
        println!(
            "{} — {} / {}",
            organisation.id, organisation.name.nl, organisation.name.en
        );
        for recipient in &organisation.recipients {
            println!(
                "  {} [{}] {} / {}",
                recipient.id,
                recipient.role.as_str(),
                recipient.name.nl,
                recipient.name.en
            );
            for key in &recipient.keys {
                println!("    {key}");
            }
        }
    }
    Ok(())
}
