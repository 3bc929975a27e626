//! Reading what a person gives the CLI: a receipt code (hidden prompt or file, never argv or
//! environment), a message (file, standard input, an editor or a prompt), an identity file
//! (plain, or protected with a passphrase as age does it), and passphrases.
//!
//! Secrets read here live in zeroizing buffers and are never echoed.

use std::io::{BufRead, IsTerminal, Read};
use std::path::Path;

use meldpunt_crypto::{IdentityKey, ReceiptCode};
use zeroize::Zeroizing;

use crate::error::{CliError, Result};

/// Reads one line from standard input, or from a hidden prompt on a terminal.
pub fn secret_line(prompt: &str) -> Result<Zeroizing<String>> {
    if std::io::stdin().is_terminal() {
        rpassword::prompt_password(prompt)
            .map(Zeroizing::new)
            .map_err(|error| CliError::Local(format!("cannot read from the terminal: {error}")))
    } else {
        let mut line = Zeroizing::new(String::new());
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|error| CliError::Local(format!("cannot read standard input: {error}")))?;
        let trimmed = Zeroizing::new(line.trim().to_owned());
        Ok(trimmed)
    }
}

/// The receipt code, from a file or a hidden prompt.
pub fn receipt_code(file: Option<&Path>) -> Result<ReceiptCode> {
    receipt_code_asking(file, "Receipt code (typing is hidden): ")
}

/// A receipt code from `--…receipt-file FILE`, or asked for with `prompt`, hidden.
pub fn receipt_code_asking(file: Option<&Path>, prompt: &str) -> Result<ReceiptCode> {
    let text = match file {
        Some(path) => Zeroizing::new(
            std::fs::read_to_string(path).map_err(|error| CliError::file(path, error))?,
        ),
        None => secret_line(prompt)?,
    };
    Ok(ReceiptCode::parse(&text)?)
}

/// A message text: from `--message-file FILE`, `-` for standard input, else `$EDITOR` (on a
/// memory-backed file, wiped afterwards) or a prompt.
pub fn message(file: Option<&Path>, what: &str) -> Result<Zeroizing<String>> {
    let text = match file {
        Some(path) if path == Path::new("-") => {
            let mut text = Zeroizing::new(String::new());
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|error| CliError::Local(format!("cannot read standard input: {error}")))?;
            text
        }
        Some(path) => Zeroizing::new(
            std::fs::read_to_string(path).map_err(|error| CliError::file(path, error))?,
        ),
        None => interactive_message(what)?,
    };
    if text.trim().is_empty() {
        return Err(CliError::Usage(format!(
            "the {what} is empty; nothing was sent"
        )));
    }
    Ok(text)
}

fn interactive_message(what: &str) -> Result<Zeroizing<String>> {
    let editor = std::env::var("EDITOR")
        .ok()
        .filter(|editor| !editor.trim().is_empty());
    let memory = Path::new("/dev/shm");
    if let (Some(editor), true, true) = (editor, std::io::stdin().is_terminal(), memory.is_dir()) {
        // A file in memory, never on disk; overwritten and removed afterwards.
        let file = tempfile::Builder::new()
            .prefix("meldpunt-")
            .tempfile_in(memory)
            .map_err(|error| {
                CliError::Local(format!("cannot create a file in /dev/shm: {error}"))
            })?;
        let status = std::process::Command::new(editor.trim())
            .arg(file.path())
            .status()
            .map_err(|error| {
                CliError::Local(format!("cannot start the editor {editor}: {error}"))
            })?;
        let text = Zeroizing::new(std::fs::read_to_string(file.path()).unwrap_or_default());
        let _ = std::fs::write(file.path(), vec![0u8; text.len()]);
        if !status.success() {
            return Err(CliError::Usage(
                "the editor failed; nothing was sent".into(),
            ));
        }
        return Ok(text);
    }
    eprintln!("Type your {what}. End with Ctrl-D on a line of its own.");
    let mut text = Zeroizing::new(String::new());
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|error| CliError::Local(format!("cannot read standard input: {error}")))?;
    Ok(text)
}

/// Whether identity-file bytes are passphrase-protected (an age file, binary or armored).
fn is_encrypted(bytes: &[u8]) -> bool {
    bytes.starts_with(b"age-encryption.org/v1")
        || bytes.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
}

/// Loads the identities in an identity file, asking for its passphrase if it has one.
pub fn identities(path: &Path) -> Result<Vec<IdentityKey>> {
    identities_with(path, || {
        secret_line(&format!("Passphrase for {}: ", path.display()))
    })
}

/// Whether the identity file at `path` is protected with a passphrase.
pub fn identity_is_protected(path: &Path) -> Result<bool> {
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|error| CliError::file(path, error))?);
    Ok(is_encrypted(&bytes))
}

/// The identities in `path`, asking `passphrase` for its passphrase if it has one (the office
/// app asks in its own page).
pub fn identities_with(
    path: &Path,
    passphrase: impl FnOnce() -> Result<Zeroizing<String>>,
) -> Result<Vec<IdentityKey>> {
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|error| CliError::file(path, error))?);
    let text = if is_encrypted(&bytes) {
        let passphrase = passphrase()?;
        decrypt_with_passphrase(&bytes, &passphrase).map_err(|()| {
            CliError::Usage(format!(
                "the passphrase for {} is wrong (or the file is damaged)",
                path.display()
            ))
        })?
    } else {
        Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned())
    };
    let identities: Vec<IdentityKey> = text
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("AGE-SECRET-KEY-"))
        .map(IdentityKey::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| {
            CliError::Usage(format!("{} holds a malformed age identity", path.display()))
        })?;
    if identities.is_empty() {
        return Err(CliError::Usage(format!(
            "{} holds no age identity (a line starting with AGE-SECRET-KEY-1)",
            path.display()
        )));
    }
    Ok(identities)
}

fn decrypt_with_passphrase(
    bytes: &[u8],
    passphrase: &str,
) -> std::result::Result<Zeroizing<String>, ()> {
    let armored = age::armor::ArmoredReader::new(bytes);
    let decryptor = age::Decryptor::new(armored).map_err(|_| ())?;
    let identity =
        age::scrypt::Identity::new(age::secrecy::SecretString::from(passphrase.to_owned()));
    let mut reader = decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|_| ())?;
    let mut text = Zeroizing::new(String::new());
    reader.read_to_string(&mut text).map_err(|_| ())?;
    Ok(text)
}

/// Encrypts identity-file text with a passphrase, armored, as `age -p -a` would.
pub fn encrypt_with_passphrase(text: &str, passphrase: &str) -> Result<Vec<u8>> {
    use std::io::Write;
    let encryptor = age::Encryptor::with_user_passphrase(age::secrecy::SecretString::from(
        passphrase.to_owned(),
    ));
    let mut output = Vec::new();
    let armor = age::armor::ArmoredWriter::wrap_output(&mut output, age::armor::Format::AsciiArmor)
        .map_err(|error| CliError::Local(error.to_string()))?;
    let mut writer = encryptor
        .wrap_output(armor)
        .map_err(|error| CliError::Local(error.to_string()))?;
    writer
        .write_all(text.as_bytes())
        .map_err(|error| CliError::Local(error.to_string()))?;
    writer
        .finish()
        .and_then(|armor| armor.finish())
        .map_err(|error| CliError::Local(error.to_string()))?;
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passphrase_protection_round_trips_and_refuses_a_wrong_passphrase() {
        let identity = IdentityKey::generate();
        let text = format!("# test\n{}\n", identity.to_secret_string().as_str());
        let sealed = encrypt_with_passphrase(&text, "correct horse").unwrap();
        assert!(is_encrypted(&sealed));
        assert_eq!(
            decrypt_with_passphrase(&sealed, "correct horse")
                .unwrap()
                .as_str(),
            text
        );
        assert!(decrypt_with_passphrase(&sealed, "wrong").is_err());
    }
}
