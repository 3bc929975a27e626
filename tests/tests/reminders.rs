//! `meldpunt inbox remind`, the reminder a timer runs while the office app is closed: a real
//! relay, the real CLI, a real D-Bus session bus (`dbus-daemon`) and, on it, a notification
//! service that records what it is asked to show.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use meldpunt_end_to_end::{write_identity, write_protected_identity, Relay, RelayOptions, User};

/// A private session bus, stopped when dropped.
struct SessionBus {
    daemon: Child,
    /// `unix:path=…`, for `DBUS_SESSION_BUS_ADDRESS`.
    address: String,
    _folder: tempfile::TempDir,
}

impl SessionBus {
    fn start() -> SessionBus {
        let folder = tempfile::tempdir().unwrap();
        let socket = folder.path().join("bus");
        let address = format!("unix:path={}", socket.display());
        let daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile"])
            .arg(format!("--address={address}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (Debian package dbus-daemon) starts");
        // Listening, not only bound: the socket file appears before the daemon accepts, and a
        // client that came in between was refused (seen on a busy machine).
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            assert!(Instant::now() < deadline, "the session bus did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        SessionBus {
            daemon,
            address,
            _folder: folder,
        }
    }
}

impl Drop for SessionBus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// The freedesktop notification service, as a desktop runs it, recording each notification.
#[derive(Clone, Default)]
struct Notifications {
    /// Application name, summary, body.
    shown: Arc<Mutex<Vec<(String, String, String)>>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Notifications {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        _hints: HashMap<String, zbus::OwnedVariant>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut shown = self.shown.lock().unwrap();
        shown.push((app_name, summary, body));
        u32::try_from(shown.len()).unwrap()
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".to_owned()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "meldpunt-test".to_owned(),
            "meldpunt".to_owned(),
            "1".to_owned(),
            "1.2".to_owned(),
        )
    }
}

/// `meldpunt inbox remind` with `arguments`, on the day `today`, with the session bus at
/// `bus`.
fn remind(
    relay: &Relay,
    office: &User,
    identity: &Path,
    today: &str,
    bus: &str,
    arguments: &[&str],
) -> Output {
    let mut command = Command::new(meldpunt_end_to_end::binary("meldpunt-cli", "meldpunt"));
    command
        .args(["inbox", "remind", "--identity"])
        .arg(identity)
        .arg("--store")
        .arg(office.path("store"))
        .args([
            "--directory-key",
            &relay.directory.signing_key.directory_key().to_string(),
        ])
        .args(arguments)
        .env("MELDPUNT_HOME", office.path("home"))
        .env("MELDPUNT_RELAY", &relay.url)
        .env("MELDPUNT_TODAY", today)
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .stdin(Stdio::null());
    command.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The office's identity file, as `meldpunt keygen` writes it.
fn office_identity(relay: &Relay, office: &User) -> PathBuf {
    let identity = office.path("office.key");
    write_identity(&identity, &relay.directory.demo_office);
    identity
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_without_a_passphrase_fetches_and_raises_one_notification_for_what_is_due() {
    let relay = Relay::start(RelayOptions::default());
    let reporter = User::new();
    reporter.report(&relay, "Een melding die blijft liggen.");
    let office = User::new();
    let identity = office_identity(&relay, &office);
    let bus = SessionBus::start();
    let notifications = Notifications::default();
    let _service = zbus::connection::Builder::address(bus.address.as_str())
        .name("org.freedesktop.Notifications")
        .serve_at("/org/freedesktop/Notifications", notifications.clone())
        .build()
        .await
        .expect("the notification service joins the bus");

    // Today: the report just arrived; nothing is due within two days, one message is new.
    let today = meldpunt_crypto::Day::from(time::OffsetDateTime::now_utc().date()).to_string();
    let address = bus.address.clone();
    let first = blocking(|| remind(&relay, &office, &identity, &today, &address, &[]));
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout).contains("1 new message(s)"),
        "{}",
        text(&first.stdout)
    );
    {
        let shown = notifications.shown.lock().unwrap();
        assert_eq!(shown.len(), 1, "one notification: {shown:?}");
        assert_eq!(shown[0].0, "Meldpunt");
        assert!(shown[0].2.contains("1 new message(s)"), "{shown:?}");
        assert!(shown[0].2.contains("meldpunt office"), "{shown:?}");
    }

    // Again the same day: nothing new, nothing due: no notification at all.
    let quiet = blocking(|| remind(&relay, &office, &identity, &today, &address, &[]));
    assert!(quiet.status.success(), "{}", text(&quiet.stderr));
    assert!(text(&quiet.stdout).contains("Nothing overdue"));
    assert_eq!(notifications.shown.lock().unwrap().len(), 1);

    // Five days later both deadlines are open and the acknowledgement falls due within
    // the two days looked ahead; long after, both are overdue.
    let soon = blocking(|| {
        remind(
            &relay,
            &office,
            &identity,
            &shifted(&today, 6),
            &address,
            &["--json"],
        )
    });
    let answer: serde_json::Value = serde_json::from_slice(&soon.stdout).unwrap();
    assert_eq!(answer["due_soon"], 1, "{answer}");
    assert_eq!(answer["overdue"], 0, "{answer}");
    assert_eq!(answer["notified"], true, "{answer}");
    let late = blocking(|| remind(&relay, &office, &identity, "2030-01-01", &address, &[]));
    assert!(late.status.success());
    let shown = notifications.shown.lock().unwrap().clone();
    assert_eq!(shown.len(), 3, "{shown:?}");
    assert!(
        shown[2].2.contains("2 deadline(s) overdue"),
        "{}",
        shown[2].2
    );
    assert!(
        shown[2].2.contains("2 termijn(en) verstreken"),
        "{}",
        shown[2].2
    );
}

/// `today` plus `days`.
fn shifted(today: &str, days: i64) -> String {
    today
        .parse::<meldpunt_crypto::Day>()
        .unwrap()
        .plus_days(days)
        .to_string()
}

/// Runs a CLI process without holding up the runtime that serves the notification
/// service, so that the service can answer it.
fn blocking<T>(work: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(work)
}

#[test]
fn a_passphrase_protected_identity_is_reminded_from_days_and_counts_only() {
    let relay = Relay::start(RelayOptions::default());
    let reporter = User::new();
    reporter.report(
        &relay,
        "Geheime inhoud die nergens onversleuteld mag staan.",
    );
    let office = User::new();
    // Synced once by hand (the passphrase asked in the terminal) …
    let identity = office.path("office.key.age");
    write_protected_identity(&identity, &relay.directory.demo_office, "lange wachtzin 42");
    let synced = office.json(
        &relay,
        &[
            "inbox",
            "sync",
            "--identity",
            identity.to_str().unwrap(),
            "--store",
            office.path("store").to_str().unwrap(),
            "--directory-key",
            &relay.directory.signing_key.directory_key().to_string(),
        ],
        Some("lange wachtzin 42\n"),
    );
    let case = synced["arrived"][0]["case"].as_str().unwrap().to_owned();

    // … then the timer, which cannot ask: no passphrase read, no relay asked, the deadlines
    // from the summary the sync left. No session bus: the reminder is printed instead.
    let output = remind(
        &relay,
        &office,
        &identity,
        "2030-01-01",
        "unix:path=/nonexistent/meldpunt-test-bus",
        &[],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("2 deadline(s) overdue"));
    assert!(text(&output.stderr).contains("has a passphrase"));
    assert!(text(&output.stderr).contains("No desktop notification"));

    // The summary holds days and counts: no case id, no content; private to its owner.
    let summary_path = office.path("store").join("deadlines.json");
    let summary = std::fs::read_to_string(&summary_path).unwrap();
    assert!(!summary.contains(&case), "{summary}");
    assert!(!summary.contains("Geheime"), "{summary}");
    let parsed: serde_json::Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(
        parsed.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["due", "written_on"]
    );
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&summary_path)
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );

    // A summary someone altered is refused with what to do, and left as it is.
    std::fs::write(&summary_path, br#"{"written_on":"2026-12-01","due":7}"#).unwrap();
    let refused = remind(
        &relay,
        &office,
        &identity,
        "2030-01-01",
        "unix:path=/nonexistent/meldpunt-test-bus",
        &["--print"],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("is not a deadline summary"),
        "{}",
        text(&refused.stderr)
    );
    assert!(text(&refused.stderr).contains("meldpunt inbox sync"));
    assert_eq!(
        std::fs::read(&summary_path).unwrap(),
        br#"{"written_on":"2026-12-01","due":7}"#
    );

    // Looking ahead further than the legal three months is refused.
    let too_far = remind(
        &relay,
        &office,
        &identity,
        "2030-01-01",
        "unix:path=/nonexistent/meldpunt-test-bus",
        &["--within-days", "400"],
    );
    assert_eq!(too_far.status.code(), Some(2));
}

#[test]
fn a_closed_case_is_due_for_aftercare_and_a_check_in_message_marks_it_done() {
    let relay = Relay::start(RelayOptions::default());
    User::new().report(&relay, "Een melding die wordt afgesloten.");
    let member = meldpunt_end_to_end::Member::new(&relay, &relay.directory.demo_office);
    member.sync(&relay);
    let case = member.list(&relay)["cases"][0]["case"]
        .as_str()
        .unwrap()
        .to_owned();
    let today = meldpunt_crypto::Day::from(time::OffsetDateTime::now_utc().date()).to_string();
    let later = shifted(&today, 100);
    for (command, extra) in [
        ("reply", vec![case.as_str(), "--ack"]),
        ("close", vec![case.as_str()]),
    ] {
        let (status, _, printed) = member.run_on(&relay, &today, command, &extra);
        assert_eq!(status, Some(0), "{command}: {printed}");
    }
    // Closed: the legal deadlines lapse; the aftercare check-in, 3 months on, is due.
    let (_, listed, printed) = member.run_on(&relay, &later, "list", &[]);
    let due = listed["cases"][0]["aftercare_due"]
        .as_str()
        .unwrap_or_else(|| panic!("{printed}"))
        .to_owned();
    assert!(due > today && due < later, "{due}");
    assert!(listed["cases"][0]["aftercare_done"].is_null());
    assert_eq!(listed["cases"][0]["overdue"], serde_json::json!([]));
    let (status, reminded, printed) = member.run_on(&relay, &later, "remind", &[]);
    assert_eq!(status, Some(0), "{printed}");
    assert_eq!(reminded["overdue"], 1, "{reminded}");

    // A closed case takes no message; in aftercare it does, and the check-in marks it done.
    let check_in = shifted(&today, 10);
    let (status, _, printed) = member.run_on(
        &relay,
        &check_in,
        "reply",
        &[&case, "--message-file", "/dev/null"],
    );
    assert_eq!(status, Some(2), "{printed}");
    assert!(printed.contains("aftercare"), "{printed}");
    // Aftercare begins the day the office writes: the check-in that day counts, and the
    // due day stays 3 months after closing.
    let (status, _, printed) = member.run_on(&relay, &check_in, "status", &[&case, "aftercare"]);
    assert_eq!(status, Some(0), "{printed}");
    let (_, listed, _) = member.run_on(&relay, &later, "list", &[]);
    assert_eq!(
        listed["cases"][0]["aftercare_due"],
        due.as_str(),
        "{listed}"
    );
    let note = member.user.path("check-in.txt");
    std::fs::write(&note, "Hoe gaat het nu met u, drie maanden later?").unwrap();
    let (status, _, printed) = member.run_on(
        &relay,
        &check_in,
        "reply",
        &[&case, "--message-file", note.to_str().unwrap()],
    );
    assert_eq!(status, Some(0), "{printed}");
    member.run_on(&relay, &check_in, "sync", &[]);
    let (_, listed, _) = member.run_on(&relay, &later, "list", &[]);
    assert_eq!(
        listed["cases"][0]["aftercare_done"],
        check_in.as_str(),
        "{listed}"
    );
    let (_, reminded, _) = member.run_on(&relay, &later, "remind", &[]);
    assert_eq!(reminded["overdue"], 0, "{reminded}");
}

#[test]
fn a_case_is_purged_only_at_its_retention_date_never_under_a_hold_and_its_register_line_stays() {
    let relay = Relay::start(RelayOptions::default());
    let reporter = User::new();
    reporter.report(&relay, "Melding RETENTION-SECRET die ooit weg moet.");
    let member = meldpunt_end_to_end::Member::new(&relay, &relay.directory.demo_office);
    member.sync(&relay);
    let case = member.list(&relay)["cases"][0]["case"]
        .as_str()
        .unwrap()
        .to_owned();
    let today = meldpunt_crypto::Day::from(time::OffsetDateTime::now_utc().date()).to_string();
    let soon = shifted(&today, 10);
    let ok = |day: &str, command: &str, extra: &[&str]| {
        let (status, answer, printed) = member.run_on(&relay, day, command, extra);
        assert_eq!(status, Some(0), "{command} {extra:?}: {printed}");
        answer
    };
    let refused = |day: &str, command: &str, extra: &[&str]| {
        let (status, _, printed) = member.run_on(&relay, day, command, extra);
        assert_eq!(status, Some(2), "{command} {extra:?}: {printed}");
        printed
    };
    // Open, the case is kept; the relay's own retention is named, so the office is warned
    // before it deletes a mailbox still worked on.
    let listed = ok(&today, "list", &[]);
    assert!(listed["cases"][0]["retention_until"].is_null(), "{listed}");
    assert!(
        !listed["cases"][0]["relay_deletes_on"].is_null(),
        "{listed}"
    );
    assert!(refused(&today, "purge", &[&case]).contains("open"));
    ok(&today, "reply", &[&case, "--ack"]);
    ok(&today, "close", &[&case]);
    // Closed: kept 60 months by default; an earlier date needs a reason.
    let listed = ok(&today, "list", &[]);
    assert_eq!(
        listed["cases"][0]["retention_until"],
        shifted(&today, 0)
            .parse::<meldpunt_crypto::Day>()
            .unwrap()
            .plus_months(60)
            .to_string()
    );
    assert!(listed["cases"][0]["relay_deletes_on"].is_null(), "{listed}");
    assert!(refused(&today, "purge", &[&case]).contains("kept until"));
    let reason = member.user.path("reason.txt");
    std::fs::write(&reason, "Afgerond zonder vervolg; niet langer nodig.").unwrap();
    let reason = reason.to_str().unwrap();
    ok(
        &today,
        "retention",
        &[&case, "--until", &soon, "--reason-file", reason],
    );
    refused(
        &today,
        "retention",
        &[&case, "--until", "morgen", "--reason-file", reason],
    );
    assert!(refused(&today, "purge", &[&case]).contains(&soon));
    // A legal hold keeps it past the date; released, the date applies.
    ok(&today, "hold", &[&case, "--reason-file", reason]);
    assert!(refused(&soon, "purge", &[&case]).contains("legal hold"));
    assert_eq!(ok(&soon, "list", &[])["cases"][0]["purge_due"], false);
    ok(&today, "hold", &[&case, "--release"]);
    assert_eq!(ok(&soon, "list", &[])["cases"][0]["purge_due"], true);
    ok(&soon, "sync", &[]);
    ok(&soon, "purge", &[&case]);

    // The content is gone from the store; the register line stays, with what it had.
    let shown = ok(&soon, "show", &[&case]);
    assert_eq!(shown["messages"], serde_json::json!([]), "{shown}");
    let register = ok(&soon, "register", &[]);
    let line = &register["cases"][0];
    assert_eq!(line["purged_on"], soon.as_str(), "{register}");
    assert_eq!(line["status"], "closed", "{register}");
    assert_eq!(line["acknowledgement"], "met", "{register}");
    let originals = std::path::Path::new(&member.store).join("originals");
    assert_eq!(std::fs::read_dir(&originals).unwrap().count(), 0);
    // A sync afterwards brings nothing of it back; nothing is sent or recorded from it.
    ok(&soon, "sync", &[]);
    assert_eq!(
        ok(&soon, "show", &[&case])["messages"],
        serde_json::json!([])
    );
    assert!(refused(&soon, "purge", &[&case]).contains("purged already"));
    refused(&soon, "note", &[&case, "--message-file", reason]);
    refused(&soon, "reply", &[&case, "--message-file", reason]);
    // Nor can an open case be given a date to purge it early.
    reporter.report(&relay, "Een tweede melding, nog open.");
    ok(&soon, "sync", &[]);
    let open = ok(&soon, "list", &[])["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|listed| listed["case"] != case.as_str())
        .unwrap()["case"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(refused(
        &soon,
        "retention",
        &[&open, "--until", "2000-01-01", "--reason-file", reason]
    )
    .contains("open"));
    assert!(refused(&soon, "purge", &[&open]).contains("open"));
    // The timer reminds of the relay deleting the open case's mailbox, days before.
    let deletes_on = ok(&soon, "list", &[])["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|listed| listed["case"] == open.as_str())
        .unwrap()["relay_deletes_on"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = shifted(&deletes_on, -3);
    let reminded = ok(&before, "remind", &["--within-days", "7"]);
    assert_eq!(reminded["due_soon"], 1, "{reminded}");
    // (A year on, its acknowledgement and feedback are overdue too.)
    assert_eq!(reminded["overdue"], 2, "{reminded}");
}
