//! What the CLI keeps on disk: pins that no concurrent command loses and no damage silently
//! drops, and files holding plaintext or keys that only their owner can read — written only
//! once every option is checked, and removed again when a command fails halfway.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use meldpunt_end_to_end::hostile::{HostileRelay, Misbehaviour};
use meldpunt_end_to_end::{binary, photo_with_metadata, write_identity, Relay, RelayOptions, User};
use serde_json::Value;

/// The permission bits of everything under `root` (itself included) that is wrong: folders
/// must be 0700, files 0600.
fn not_private(root: &Path) -> Vec<String> {
    let mut wrong = Vec::new();
    let mode = std::fs::metadata(root).unwrap().permissions().mode() & 0o777;
    if root.is_dir() {
        if mode != 0o700 {
            wrong.push(format!("{} {mode:o}", root.display()));
        }
        for entry in std::fs::read_dir(root).unwrap() {
            wrong.extend(not_private(&entry.unwrap().path()));
        }
    } else if mode != 0o600 {
        wrong.push(format!("{} {mode:o}", root.display()));
    }
    wrong
}

/// An office member's `inbox` arguments.
fn inbox<'a>(
    command: &'a str,
    extra: &[&'a str],
    identity: &'a str,
    store: &'a str,
) -> Vec<&'a str> {
    let mut arguments = vec!["inbox", command];
    arguments.extend_from_slice(extra);
    arguments.extend_from_slice(&["--identity", identity, "--store", store]);
    arguments
}

/// Everything the CLI and the relay create is their owner's only — folders 0700, files (and
/// the relay's admin socket) 0600 — though both run under the ordinary umask 022 here (the
/// test harness starts every relay and CLI command so).
#[test]
fn every_file_the_cli_writes_with_plaintext_or_keys_is_private() {
    let relay = Relay::start(RelayOptions::default());
    let key = relay.directory.signing_key.directory_key().to_string();
    // Keys: a new office identity, a directory draft and its signing key.
    let administrator = User::new();
    let keys = administrator.path("keys");
    std::fs::create_dir(&keys).unwrap();
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o700)).unwrap();
    let generated = administrator.json(
        &relay,
        &["keygen", "--out", keys.join("office.key").to_str().unwrap()],
        None,
    );
    assert!(generated["office_key"]
        .as_str()
        .unwrap()
        .starts_with("mpok1"));
    administrator.ok(
        &relay,
        &[
            "directory",
            "init",
            "--file",
            keys.join("directory.json").to_str().unwrap(),
            "--signing-key",
            keys.join("directory.key").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(not_private(&keys), Vec::<String>::new());

    // A report with a photo (pins), an office that syncs, replies with an attachment and
    // exports (store, export folder), a reporter who saves the office's attachment.
    let reporter = User::new();
    let photo = reporter.path("foto.jpg");
    std::fs::write(&photo, photo_with_metadata()).unwrap();
    let answer = reporter.json(
        &relay,
        &[
            "report",
            "--to",
            "demo",
            "--directory-key",
            &key,
            "--attach",
            photo.to_str().unwrap(),
            "--message-file",
            "-",
        ],
        Some("Een melding met een foto."),
    );
    let code_file = reporter.path("code.txt");
    std::fs::write(&code_file, answer["receipt_code"].as_str().unwrap()).unwrap();
    let office = User::new();
    let identity = office.path("office.key");
    write_identity(&identity, &relay.directory.demo_office);
    let identity = identity.to_str().unwrap();
    let store = office.path("store");
    let store = store.to_str().unwrap();
    let synced = office.json(
        &relay,
        &inbox("sync", &["--directory-key", &key], identity, store),
        None,
    );
    let case = synced["arrived"][0]["case"].as_str().unwrap().to_owned();
    let letter = office.path("brief.txt");
    std::fs::write(&letter, "Een brief voor de melder.").unwrap();
    office.ok(
        &relay,
        &inbox(
            "reply",
            &[
                &case,
                "--message-file",
                "-",
                "--attach",
                letter.to_str().unwrap(),
            ],
            identity,
            store,
        ),
        Some("Zie de bijlage."),
    );
    office.ok(&relay, &inbox("sync", &[], identity, store), None);
    let export = office.path("export");
    office.ok(
        &relay,
        &inbox(
            "export",
            &[&case, "--out", export.to_str().unwrap()],
            identity,
            store,
        ),
        None,
    );
    let saved = reporter.path("saved");
    reporter.ok(
        &relay,
        &[
            "check",
            "--receipt-file",
            code_file.to_str().unwrap(),
            "--save-attachments",
            saved.to_str().unwrap(),
        ],
        None,
    );
    assert!(saved.join("brief.txt").exists());
    let mut wrong = Vec::new();
    for root in [
        reporter.path("home"),
        office.path("home"),
        Path::new(store).to_owned(),
        export,
        saved,
        relay.data.clone(),
    ] {
        wrong.extend(not_private(&root));
    }
    assert_eq!(wrong, Vec::<String>::new());
    assert!(relay.data.join("meldpunt.redb").exists());
    assert!(relay.data.join("admin.sock").exists());
}

#[test]
fn a_damaged_pins_file_is_an_error_that_says_how_to_recover() {
    let relay = Relay::start(RelayOptions::default());
    let reporter = User::new();
    reporter.report(&relay, "Eerste melding: de pin wordt gezet.");
    let pins = reporter.path("home").join("config").join("pins.json");
    assert!(std::fs::read_to_string(&pins).unwrap().contains(&relay.url));
    std::fs::write(&pins, "{\"relays\": {\"http://127.0.0.1:1\": ").unwrap();
    let output = reporter.run(
        &relay,
        &["report", "--to", "demo", "--message-file", "-"],
        Some("Tweede melding."),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("pins.json is damaged") && stderr.contains("delete it"),
        "{stderr}"
    );
    assert!(!String::from_utf8_lossy(&output.stdout).contains("receipt code"));
}

#[test]
fn sixteen_commands_at_once_never_fail_or_lose_a_pin() {
    // Two relays and one configuration folder: sixteen reports at once, half to each, all
    // trusting on first use. Every one succeeds and both relays end up pinned.
    let first = Relay::start(RelayOptions::default());
    let second = Relay::start(RelayOptions::default());
    let reporter = User::new();
    let home = reporter.path("home");
    let children: Vec<_> = (0..16)
        .map(|index| {
            let relay = if index % 2 == 0 { &first } else { &second };
            let mut child = Command::new(binary("meldpunt-cli", "meldpunt"))
                .args(["report", "--to", "demo", "--message-file", "-", "--json"])
                .env("MELDPUNT_HOME", &home)
                .env("MELDPUNT_RELAY", &relay.url)
                .env_remove("MELDPUNT_DIRECTORY_KEY")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write as _;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(format!("Melding {index}.").as_bytes())
                .unwrap();
            child
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert!(answer["receipt_code"].is_string());
    }
    let pins: Value =
        serde_json::from_slice(&std::fs::read(home.join("config").join("pins.json")).unwrap())
            .unwrap();
    for relay in [&first, &second] {
        assert_eq!(
            pins["relays"][&relay.url]["directory_key"],
            relay.directory.signing_key.directory_key().to_string(),
            "{pins}"
        );
    }
    // No temporary file is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(home.join("config"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_checks_its_options_first_and_removes_what_it_wrote_when_it_fails() {
    let relay = Relay::start(RelayOptions::default());
    let key = relay.directory.signing_key.directory_key().to_string();
    let reporter = User::new();
    let attachment = reporter.path("bijlage.txt");
    std::fs::write(&attachment, "een bijlage").unwrap();
    reporter.ok(
        &relay,
        &[
            "report",
            "--to",
            "demo",
            "--directory-key",
            &key,
            "--attach",
            attachment.to_str().unwrap(),
            "--message-file",
            "-",
        ],
        Some("Melding met bijlage."),
    );
    let office = User::new();
    let identity = office.path("office.key");
    write_identity(&identity, &relay.directory.demo_office);
    let identity = identity.to_str().unwrap();
    let store = office.path("store");
    let store = store.to_str().unwrap();
    let synced = office.json(
        &relay,
        &inbox("sync", &["--directory-key", &key], identity, store),
        None,
    );
    let case = synced["arrived"][0]["case"].as_str().unwrap().to_owned();

    // Without a relay, the attachments cannot be fetched: refused before anything is written.
    let export = office.path("export");
    let output = office.run_at(
        "",
        &inbox(
            "export",
            &[&case, "--out", export.to_str().unwrap()],
            identity,
            store,
        ),
        None,
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--relay"), "{stderr}");
    assert!(!export.exists(), "a partial export was left");

    // A relay that serves a wrong attachment makes it fail halfway: what was written goes.
    let reply_path = office.path("antwoord.txt");
    std::fs::write(&reply_path, "een antwoord").unwrap();
    office.ok(
        &relay,
        &inbox(
            "reply",
            &[
                &case,
                "--message-file",
                "-",
                "--attach",
                reply_path.to_str().unwrap(),
            ],
            identity,
            store,
        ),
        Some("Met bijlage."),
    );
    office.ok(&relay, &inbox("sync", &[], identity, store), None);
    let shown = office.json(&relay, &inbox("show", &[&case], identity, store), None);
    let ids: Vec<String> = shown["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|message| message["attachments"].as_array().unwrap().clone())
        .map(|attachment| attachment["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2, "{shown}");
    let hostile = HostileRelay::start(
        &relay.url,
        Misbehaviour::SwapAttachment {
            asked: ids[1].clone(),
            served: ids[0].clone(),
        },
    )
    .await;
    let output = office.run_at(
        &hostile.url,
        &inbox(
            "export",
            &[
                &case,
                "--out",
                export.to_str().unwrap(),
                "--directory-key",
                &key,
            ],
            identity,
            store,
        ),
        None,
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(!export.exists(), "a partial export was left: {stderr}");
    // An empty folder given by the user stays, emptied again.
    std::fs::create_dir(&export).unwrap();
    let output = office.run_at(
        &hostile.url,
        &inbox(
            "export",
            &[
                &case,
                "--out",
                export.to_str().unwrap(),
                "--directory-key",
                &key,
            ],
            identity,
            store,
        ),
        None,
    );
    assert_eq!(output.status.code(), Some(5));
    assert_eq!(std::fs::read_dir(&export).unwrap().count(), 0);
    // Through the honest relay it works.
    office.ok(
        &relay,
        &inbox(
            "export",
            &[&case, "--out", export.to_str().unwrap()],
            identity,
            store,
        ),
        None,
    );
    assert!(export.join("manifest.json").exists());
}

#[test]
fn a_command_that_waits_for_a_busy_store_says_so() {
    let relay = Relay::start(RelayOptions::default());
    let office = User::new();
    let identity = office.path("office.key");
    write_identity(&identity, &relay.directory.demo_office);
    let identity = identity.to_str().unwrap();
    let store = office.path("store");
    office.ok(
        &relay,
        &inbox("list", &[], identity, store.to_str().unwrap()),
        None,
    );
    // Another command holds the store (here: this test, for a second).
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(store.join("lock"))
        .unwrap();
    lock.lock().unwrap();
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(1));
        drop(lock);
    });
    let output = office.run(
        &relay,
        &inbox("list", &[], identity, store.to_str().unwrap()),
        None,
    );
    releaser.join().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("Waiting for another meldpunt command"),
        "{stderr}"
    );
}
