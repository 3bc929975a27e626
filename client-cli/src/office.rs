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
pub fn keygen(out: &Path, passphrase: bool, post_quantum: bool, json_output: bool) -> Result<()> {
    let (identity, kind) = if post_quantum {
        (
            IdentityKey::generate_post_quantum(),
            "age mlkem768x25519, hybrid post-quantum; opens with age 1.3 or later",
        )
    } else {
        (IdentityKey::generate(), "age X25519")
    };
    let public = identity.recipient().to_string();
    let office_key = identity.office_signing_key().office_key().to_string();
    let text = zeroize::Zeroizing::new(format!(
        "# Meldpunt office identity ({kind}). Keep this file secret.\n# public key: {public}\n# office key: {office_key}\n{}\n",
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
            json!({ "public_key": public, "office_key": office_key, "identity_file": out, "passphrase": passphrase, "post_quantum": post_quantum })
        );
    } else {
        eprintln!(
            "Wrote a new identity to {}. Keep it secret and backed up.\n\
             Give both keys below to whoever keeps the directory: \
             meldpunt directory add-member … --key {public} --signing-key {office_key} \
             (or add-recipient … for a new recipient)",
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
    let (keys, signing_keys) = parse_keys(&new.keys, &new.signing_keys)?;
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
                questions: Vec::new(),
                channels: Vec::new(),
                evaluation: Vec::new(),
                id: new.organisation.clone(),
                name: LocalisedName { nl, en },
                recipients: vec![],
            });
            directory.organisations.last_mut().expect("just pushed")
        }
    };
    if let Some(existing) = organisation
        .recipients
        .iter()
        .find(|r| r.id == new.recipient)
    {
        return Err(CliError::Usage(format!(
            "{} already has a recipient {} ({}, \"{}\"); nothing changed. Add a member's keys \
             with meldpunt directory add-member; change its names or role with meldpunt \
             directory change-recipient",
            new.organisation,
            existing.id,
            existing.role.as_str(),
            existing.name.en
        )));
    }
    organisation.recipients.push(DirectoryRecipient {
        id: new.recipient.clone(),
        role: new.role,
        name: LocalisedName {
            nl: new.name.0,
            en: new.name.1,
        },
        keys,
        signing_keys,
    });
    save_checked(draft, &directory)?;
    eprintln!(
        "Added {} to {} in {}. Sign it to publish: meldpunt directory sign",
        new.recipient,
        new.organisation,
        draft.display()
    );
    Ok(())
}

/// Age keys and office keys as given on the command line.
fn parse_keys(
    keys: &[String],
    signing_keys: &[String],
) -> Result<(Vec<RecipientKey>, Vec<OfficeKey>)> {
    let keys = keys
        .iter()
        .map(|key| {
            key.parse()
                .map_err(|_| CliError::Usage(format!("{key} is not an age public key (age1…)")))
        })
        .collect::<Result<_>>()?;
    let signing_keys = signing_keys
        .iter()
        .map(|key| {
            key.parse().map_err(|_| {
                CliError::Usage(format!(
                    "{key} is not an office key (mpok1…, printed by meldpunt keygen)"
                ))
            })
        })
        .collect::<Result<_>>()?;
    Ok((keys, signing_keys))
}

/// Refuses a directory in which one key (age or office) belongs to two recipients: a member
/// of one would read, or sign as, the other.
fn check_keys_unique(directory: &Directory) -> Result<()> {
    let mut owners: std::collections::HashMap<String, String> = Default::default();
    for organisation in &directory.organisations {
        for recipient in &organisation.recipients {
            let owner = format!("{}/{}", organisation.id, recipient.id);
            let keys = recipient.keys.iter().map(ToString::to_string);
            let office_keys = recipient.signing_keys.iter().map(ToString::to_string);
            for key in keys.chain(office_keys) {
                if let Some(other) = owners.insert(key.clone(), owner.clone()) {
                    if other != owner {
                        return Err(CliError::Usage(format!(
                            "{key} belongs to {other} already and cannot belong to {owner} too: \
                             each person needs their own identity per recipient (meldpunt keygen)"
                        )));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Checks a changed draft as signing will (and its keys unique), then writes it.
fn save_checked(draft: &Path, directory: &Directory) -> Result<()> {
    check_keys_unique(directory)?;
    let mut check = directory.clone();
    check.version = check.version.saturating_add(1);
    check.check()?;
    write_draft(draft, directory)
}

/// The recipient `recipient` of `organisation` in a draft.
fn recipient_mut<'a>(
    directory: &'a mut Directory,
    organisation: &str,
    recipient: &str,
) -> Result<&'a mut DirectoryRecipient> {
    directory
        .organisations
        .iter_mut()
        .find(|o| o.id == organisation)
        .ok_or_else(|| CliError::Usage(format!("no organisation {organisation} in the draft")))?
        .recipients
        .iter_mut()
        .find(|r| r.id == recipient)
        .ok_or_else(|| {
            CliError::Usage(format!(
                "no recipient {recipient} in {organisation}; add it with meldpunt directory add-recipient"
            ))
        })
}

/// Adds `keys` to the ones `listed` under `place`; refuses one listed there already.
fn put_in<T: PartialEq + std::fmt::Display>(
    listed: &mut Vec<T>,
    keys: Vec<T>,
    place: &str,
) -> Result<()> {
    for key in keys {
        if listed.contains(&key) {
            return Err(CliError::Usage(format!(
                "{key} is listed under {place} already; nothing changed"
            )));
        }
        listed.push(key);
    }
    Ok(())
}

/// Takes `keys` out of the ones `listed` under `place`; refuses one not listed there.
fn take_out<T: PartialEq + std::fmt::Display>(
    listed: &mut Vec<T>,
    keys: &[T],
    place: &str,
) -> Result<()> {
    for key in keys {
        let before = listed.len();
        listed.retain(|other| other != key);
        if listed.len() == before {
            return Err(CliError::Usage(format!(
                "{key} is not listed under {place}; nothing changed"
            )));
        }
    }
    Ok(())
}

/// `meldpunt directory add-member`: a new person's keys for an existing recipient.
pub fn add_member(
    draft: &Path,
    organisation: &str,
    recipient: &str,
    keys: &[String],
    signing_keys: &[String],
) -> Result<()> {
    let mut directory = read_draft(draft)?;
    let (keys, signing_keys) = parse_keys(keys, signing_keys)?;
    let found = recipient_mut(&mut directory, organisation, recipient)?;
    let place = format!("{organisation}/{recipient}");
    put_in(&mut found.keys, keys, &place)?;
    put_in(&mut found.signing_keys, signing_keys, &place)?;
    let members = found.keys.len();
    save_checked(draft, &directory)?;
    eprintln!(
        "Added the member to {organisation}/{recipient} ({members} age key(s) now). They receive \
         what is sealed after the signed directory reaches the relay; a colleague hands them the \
         earlier cases with meldpunt inbox hand-over --to THEIR-AGE-KEY --open. Sign it to publish: \
         meldpunt directory sign"
    );
    Ok(())
}

/// `meldpunt directory add-recovery-key`: an offline key every report to the recipient is
/// also sealed to, with no office key (it reads, it never answers).
pub fn add_recovery_key(
    draft: &Path,
    organisation: &str,
    recipient: &str,
    key: &str,
) -> Result<()> {
    let mut directory = read_draft(draft)?;
    let (keys, _) = parse_keys(&[key.to_owned()], &[])?;
    let post_quantum = keys.iter().all(RecipientKey::is_post_quantum);
    let found = recipient_mut(&mut directory, organisation, recipient)?;
    let place = format!("{organisation}/{recipient}");
    put_in(&mut found.keys, keys, &place)?;
    save_checked(draft, &directory)?;
    if !post_quantum {
        eprintln!(
            "Warning: this is a classic X25519 key. A recovery key is kept for decades: make it a hybrid post-quantum one (meldpunt keygen --pq), or every report sealed to it can be opened by whoever breaks X25519."
        );
    }
    eprintln!(
        "Added the recovery key to {place}. Once the signed directory reaches the relay, everything for {place} is sealed to it too. Keep its identity offline (paper or a hardware token); to recover: meldpunt inbox sync --identity THAT-FILE. Retire it with meldpunt directory retire-member --key. Sign it to publish: meldpunt directory sign"
    );
    Ok(())
}

/// `meldpunt directory retire-member`: a person's keys leave a recipient.
pub fn retire_member(
    draft: &Path,
    organisation: &str,
    recipient: &str,
    keys: &[String],
    signing_keys: &[String],
) -> Result<()> {
    let mut directory = read_draft(draft)?;
    let (keys, signing_keys) = parse_keys(keys, signing_keys)?;
    let found = recipient_mut(&mut directory, organisation, recipient)?;
    let place = format!("{organisation}/{recipient}");
    take_out(&mut found.keys, &keys, &place)?;
    take_out(&mut found.signing_keys, &signing_keys, &place)?;
    if found.keys.is_empty() || found.signing_keys.is_empty() {
        return Err(CliError::Usage(format!(
            "that would leave {organisation}/{recipient} without a member; remove the recipient \
             with meldpunt directory remove-recipient instead; nothing changed"
        )));
    }
    save_checked(draft, &directory)?;
    eprintln!(
        "Retired the key(s) from {organisation}/{recipient}. Once the signed directory reaches \
         the relay nothing new is sealed to them and they cannot log in{}. Sign it to publish: \
         meldpunt directory sign",
        if signing_keys.is_empty() {
            "; their office key stays listed, so their earlier replies still verify"
        } else {
            "; their earlier replies now show as not verified"
        }
    );
    Ok(())
}

/// `meldpunt directory change-recipient`: new names or a new role for a recipient.
pub fn change_recipient(
    draft: &Path,
    organisation: &str,
    recipient: &str,
    role: Option<Role>,
    name: (Option<String>, Option<String>),
) -> Result<()> {
    if role.is_none() && name.0.is_none() && name.1.is_none() {
        return Err(CliError::Usage(
            "give what to change: --role, --name-nl and/or --name-en".into(),
        ));
    }
    let mut directory = read_draft(draft)?;
    let found = recipient_mut(&mut directory, organisation, recipient)?;
    let mut changes = Vec::new();
    if let Some(role) = role {
        changes.push(format!("role {} → {}", found.role.as_str(), role.as_str()));
        found.role = role;
    }
    if let Some(nl) = name.0 {
        changes.push(format!("Dutch name \"{}\" → \"{nl}\"", found.name.nl));
        found.name.nl = nl;
    }
    if let Some(en) = name.1 {
        changes.push(format!("English name \"{}\" → \"{en}\"", found.name.en));
        found.name.en = en;
    }
    save_checked(draft, &directory)?;
    eprintln!(
        "Changed {organisation}/{recipient}: {}. Sign it to publish: meldpunt directory sign",
        changes.join(", ")
    );
    Ok(())
}

/// What changed from `before` (the directory signed last) to `after`, a line each.
fn changes(before: &Directory, after: &Directory) -> Vec<String> {
    let mut lines = Vec::new();
    let index = |directory: &Directory| {
        directory
            .organisations
            .iter()
            .flat_map(|organisation| {
                organisation.recipients.iter().map(move |recipient| {
                    (
                        format!("{}/{}", organisation.id, recipient.id),
                        recipient.clone(),
                    )
                })
            })
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let (old, new) = (index(before), index(after));
    for (id, recipient) in &new {
        match old.get(id) {
            None => lines.push(format!(
                "+ recipient {id} ({}, \"{}\"), {} member key(s)",
                recipient.role.as_str(),
                recipient.name.en,
                recipient.keys.len()
            )),
            Some(previous) => {
                if previous.role != recipient.role {
                    lines.push(format!(
                        "~ {id}: role {} → {}",
                        previous.role.as_str(),
                        recipient.role.as_str()
                    ));
                }
                if previous.name != recipient.name {
                    lines.push(format!(
                        "~ {id}: names \"{}\" / \"{}\" → \"{}\" / \"{}\"",
                        previous.name.nl, previous.name.en, recipient.name.nl, recipient.name.en
                    ));
                }
                let mut differences = |what: &str, before: &[String], after: &[String]| {
                    for key in after.iter().filter(|key| !before.contains(key)) {
                        lines.push(format!("+ {id}: {what} {key}"));
                    }
                    for key in before.iter().filter(|key| !after.contains(key)) {
                        lines.push(format!("- {id}: {what} {key}"));
                    }
                };
                let texts = |keys: &[RecipientKey]| {
                    keys.iter().map(ToString::to_string).collect::<Vec<_>>()
                };
                let office_texts =
                    |keys: &[OfficeKey]| keys.iter().map(ToString::to_string).collect::<Vec<_>>();
                differences("key", &texts(&previous.keys), &texts(&recipient.keys));
                differences(
                    "office key",
                    &office_texts(&previous.signing_keys),
                    &office_texts(&recipient.signing_keys),
                );
            }
        }
    }
    for id in old.keys().filter(|id| !new.contains_key(*id)) {
        lines.push(format!("- recipient {id}"));
    }
    lines
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

/// What `meldpunt directory questions` and `meldpunt directory channels` set.
#[derive(Debug, Clone, Copy)]
pub enum OrganisationPart {
    /// The questionnaire of a structured report.
    Questions,
    /// The external reporting channels.
    Channels,
}

/// `meldpunt directory questions` and `meldpunt directory channels`: sets an organisation's
/// questionnaire or external channels from a JSON file (an array, as `directory show
/// --json` prints them), or clears them (`file` `None`). Checked as signing checks it.
pub fn set_organisation_part(
    draft: &Path,
    organisation: &str,
    part: OrganisationPart,
    file: Option<&Path>,
) -> Result<()> {
    let mut directory = read_draft(draft)?;
    let found = directory
        .organisations
        .iter_mut()
        .find(|o| o.id == organisation)
        .ok_or_else(|| {
            CliError::Usage(format!(
                "no organisation {organisation} in {}; add a recipient to it first",
                draft.display()
            ))
        })?;
    let text = match file {
        Some(path) => std::fs::read_to_string(path).map_err(|error| CliError::file(path, error))?,
        None => "[]".to_owned(),
    };
    let refused = |error: serde_json::Error| {
        CliError::Usage(format!(
            "{} is not a JSON array of {}: {error}",
            file.map_or_else(String::new, |path| path.display().to_string()),
            match part {
                OrganisationPart::Questions =>
                    "questions (id, label {nl, en}, kind, options, required)",
                OrganisationPart::Channels => "channels (name {nl, en}, purpose {nl, en}, contact)",
            }
        ))
    };
    let count = match part {
        OrganisationPart::Questions => {
            found.questions = serde_json::from_str(&text).map_err(refused)?;
            found.questions.len()
        }
        OrganisationPart::Channels => {
            found.channels = serde_json::from_str(&text).map_err(refused)?;
            found.channels.len()
        }
    };
    directory
        .check()
        .map_err(|error| CliError::Usage(format!("refused, the draft is unchanged: {error}")))?;
    write_draft(draft, &directory)?;
    eprintln!(
        "{organisation} now has {count} {}. Sign it to publish: meldpunt directory sign",
        match part {
            OrganisationPart::Questions => "question(s)",
            OrganisationPart::Channels => "external channel(s)",
        }
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
    check_keys_unique(&directory)?;
    let key = read_signing_key(signing_key)?;
    // The change is shown before it is signed: against the file signed last, if it is there
    // and signed by this key.
    let previous = std::fs::read(out).ok().and_then(|bytes| {
        SignedDirectory::from_bytes(bytes)
            .ok()?
            .verify(
                &key.directory_key(),
                meldpunt_crypto::Day::from(time::Date::MIN),
                None,
            )
            .ok()
    });
    if let Some(previous) = &previous {
        let lines = changes(previous, &directory);
        if lines.is_empty() {
            eprintln!(
                "No change to recipients or keys since version {} ({}); signing new dates.",
                previous.version,
                out.display()
            );
        } else {
            eprintln!(
                "Changes since version {} ({}):",
                previous.version,
                out.display()
            );
            for line in &lines {
                eprintln!("  {line}");
            }
        }
    }
    let today = today();
    directory.issued_on = today;
    directory.expires_on = today.plus_days(valid_days);
    // Each version names the one signed before it, so that clients can follow the history:
    // that one must be at `out` (the file signed last), unless this is the first.
    let last_signed = std::fs::read(out)
        .ok()
        .and_then(|bytes| SignedDirectory::from_bytes(bytes).ok());
    let (signed_directory, signed) = match (&previous, &last_signed) {
        (Some(previous), Some(last_signed)) if previous.version == directory.version => {
            directory.sign_after(last_signed, &key)?
        }
        // A first version, unless it would replace a later one signed by this key.
        _ if directory.version == 0 && previous.is_none() => directory.sign(&key)?,
        _ => {
            return Err(CliError::Usage(format!(
                "{} is not version {} of this directory, signed by this key: each version names the \
                 one signed before it, so that clients can check the history. Give --out the file \
                 signed last (or copy it there from the history folder beside it); nothing was signed",
                out.display(),
                directory.version
            )))
        }
    };
    write_private(out, signed.as_bytes()).map_err(|error| CliError::file(out, error))?;
    write_draft(draft, &signed_directory)?;
    // Every version is kept beside it: the relay must serve each one it has not served yet
    // (docs/operations.md, "The directory's history").
    let history = history_folder(out);
    std::fs::create_dir_all(&history).map_err(|error| CliError::file(&history, error))?;
    let kept = history.join(format!("{}.json", signed_directory.version));
    write_private(&kept, signed.as_bytes()).map_err(|error| CliError::file(&kept, error))?;
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

/// `meldpunt directory history`: every version the relay kept, from its first, each checked
/// (signature by the pinned key, and the link to the one before), with what changed.
pub fn history(common: &crate::reporter::Common) -> Result<()> {
    // The current directory, checked against the pinned key and history as always; the
    // history is checked against the same key and must end with the same directory.
    let (current, key, signed) =
        crate::pins::verified_signed_directory(&common.relay, common.directory_key.as_deref())?;
    let versions: Vec<SignedDirectory> = common
        .relay
        .directory_history(0, 10_000)?
        .into_iter()
        .map(SignedDirectory::from_bytes)
        .collect::<std::result::Result<_, _>>()?;
    // One line from the first version kept to the directory verified above: the crate's
    // own check (signatures by the pinned key, consecutive versions, each naming the last).
    let first = versions.first().ok_or_else(|| {
        meldpunt_crypto::Error::DirectoryChain("the relay kept no history".into())
    })?;
    meldpunt_crypto::verify_continuation(
        &key,
        first.verify_history(&key)?.version,
        first.hash()?,
        &versions[1..],
        &signed,
    )?;
    let mut lines = Vec::new();
    let mut before: Option<Directory> = None;
    for version in &versions {
        let directory = version.verify_history(&key)?;
        if directory.version > current.version {
            break;
        }
        let changed = match &before {
            None => vec!["(the first version this relay kept)".to_owned()],
            Some(previous) => changes(previous, &directory),
        };
        lines.push((
            directory.version,
            directory.issued_on,
            version.hash()?,
            changed,
        ));
        before = Some(directory);
    }
    if common.json {
        let versions: Vec<_> = lines
            .iter()
            .map(|(version, issued_on, hash, changed)| {
                json!({ "version": version, "issued_on": issued_on.to_string(), "hash": hash.to_wire(), "changes": changed })
            })
            .collect();
        println!("{}", json!({ "versions": versions }));
    } else {
        for (version, issued_on, hash, changed) in &lines {
            println!("Version {version}, signed {issued_on} (hash {hash}):");
            if changed.is_empty() {
                println!("  no change to recipients or keys (new dates)");
            }
            for line in changed {
                println!("  {line}");
            }
        }
        println!("Each version continues the one before it, signed by {key}.");
    }
    Ok(())
}

/// The folder beside the signed file where every signed version is kept:
/// `directory.signed.json` → `directory.signed.history/`.
fn history_folder(out: &Path) -> std::path::PathBuf {
    let stem = out
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| "directory".into());
    out.with_file_name(format!("{stem}.history"))
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
            let hybrid = recipient
                .keys
                .iter()
                .filter(|key| key.is_post_quantum())
                .count();
            println!(
                "    {} key(s), {hybrid} hybrid post-quantum{}",
                recipient.keys.len(),
                if hybrid == recipient.keys.len() {
                    ": reports to it stay closed for a quantum computer"
                } else if hybrid > 0 {
                    ": one classic key is enough to expose reports to a quantum computer"
                } else {
                    ""
                }
            );
            for key in &recipient.keys {
                let kind = if key.is_post_quantum() {
                    "hybrid "
                } else {
                    "classic"
                };
                println!("    [{kind}] {key}");
            }
        }
        if !organisation.questions.is_empty() {
            println!("  Questions with a report (* required):");
        }
        for question in &organisation.questions {
            println!(
                "    {}{} [{}] {} / {}",
                question.id,
                if question.required { " *" } else { "" },
                question.kind.as_str(),
                question.label.nl,
                question.label.en
            );
            for option in &question.options {
                println!(
                    "      {} — {} / {}",
                    option.id, option.label.nl, option.label.en
                );
            }
        }
        if !organisation.channels.is_empty() {
            println!("  Where else to go:");
        }
        for channel in &organisation.channels {
            println!(
                "    {} / {} — {}\n      {}\n      {}",
                channel.name.nl,
                channel.name.en,
                channel.contact,
                channel.purpose.nl,
                channel.purpose.en
            );
        }
    }
    Ok(())
}
