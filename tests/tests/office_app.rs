//! The office app (`meldpunt office`) as a real process against a real relay: what a page on
//! another site, another port or a rebinding DNS name gets (nothing), and the office's work
//! through it (sync, read, acknowledge, reply, close, reopen) as the reporter's CLI sees it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use meldpunt_end_to_end::browser::Browser;
use meldpunt_end_to_end::hostile::{HostileRelay, Misbehaviour};
use meldpunt_end_to_end::{binary, write_identity, Relay, RelayOptions, User};

/// A running office app, stopped when dropped.
struct OfficeApp {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    origin: String,
    /// The first address, with this launch's secret.
    first: String,
}

impl Drop for OfficeApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl OfficeApp {
    fn start(relay: &Relay, office: &User) -> OfficeApp {
        OfficeApp::start_on(relay, office, None)
    }

    /// The app with its clock set to `today` (`MELDPUNT_TODAY`), if given.
    fn start_on(relay: &Relay, office: &User, today: Option<&str>) -> OfficeApp {
        OfficeApp::start_through(relay, &relay.url, office, today)
    }

    /// The app talking to `relay` through the address `url` (a hostile relay in front of it).
    fn start_through(relay: &Relay, url: &str, office: &User, today: Option<&str>) -> OfficeApp {
        OfficeApp::start_as(relay, url, office, today, &relay.directory.demo_office)
    }

    /// The app of the member holding `member` (the demo integrity office's, or another
    /// recipient's such as the adviser's).
    fn start_as(
        relay: &Relay,
        url: &str,
        office: &User,
        today: Option<&str>,
        member: &meldpunt_crypto::IdentityKey,
    ) -> OfficeApp {
        let identity = office.path("office.key");
        write_identity(&identity, member);
        let key = relay.directory.signing_key.directory_key().to_string();
        let mut command = Command::new(binary("meldpunt-cli", "meldpunt"));
        if let Some(today) = today {
            command.env("MELDPUNT_TODAY", today);
        }
        let mut child = command
            .args(["office", "--no-open", "--sync-minutes", "0", "--identity"])
            .arg(&identity)
            .arg("--store")
            .arg(office.path("store"))
            .args(["--directory-key", &key, "--relay", url])
            .env("MELDPUNT_HOME", office.path("home"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the office app starts");
        let mut lines = BufReader::new(child.stdout.take().expect("its output")).lines();
        let first = lines
            .by_ref()
            .take(10)
            .map_while(Result::ok)
            .find_map(|line| {
                line.trim()
                    .starts_with("http://")
                    .then(|| line.trim().to_owned())
            })
            .expect("the app prints its first address");
        // Its later output is not read; it prints nothing more.
        std::thread::spawn(move || lines.for_each(drop));
        let origin = first.split("/?key=").next().expect("an origin").to_owned();
        OfficeApp {
            child,
            origin,
            first,
        }
    }
}

/// Writes a screenshot of the page the browser shows, named `name`, and requires axe-core
/// to find no violation on it.
async fn shown_and_accessible(browser: &Browser, name: &str) {
    browser.screenshot(name).await;
    let violations = browser.accessibility_violations().await;
    assert!(violations.is_empty(), "{name}: {violations:?}");
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap()
}

/// The session cookie the first address gives.
async fn cookie(app: &OfficeApp) -> String {
    let response = client().get(&app.first).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 303);
    let set = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Strict"), "{set}");
    set.split(';').next().unwrap().to_owned()
}

async fn page(app: &OfficeApp, cookie: &str, path: &str) -> (u16, String) {
    let response = client()
        .get(format!("{}{path}", app.origin))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

async fn post(app: &OfficeApp, cookie: &str, path: &str, form: &[(&str, &str)]) -> u16 {
    client()
        .post(format!("{}{path}", app.origin))
        .header("cookie", cookie)
        .header("origin", &app.origin)
        .form(form)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Posts a reply form (`multipart/form-data`, as the app's page does) with `files`.
async fn post_reply(
    app: &OfficeApp,
    cookie: &str,
    case: &str,
    fields: &[(&'static str, &'static str)],
    files: &[(&'static str, &'static [u8])],
) -> (u16, String) {
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in fields {
        form = form.text(*name, *value);
    }
    for (name, bytes) in files {
        form = form.part(
            "attachment",
            reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(*name),
        );
    }
    let response = client()
        .post(format!("{}/cases/{case}/reply", app.origin))
        .header("cookie", cookie)
        .header("origin", &app.origin)
        .multipart(form)
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_elsewhere_gets_nothing_from_the_office_app() {
    let relay = Relay::start(RelayOptions::default());
    let office = User::new();
    let app = OfficeApp::start(&relay, &office);
    assert!(
        app.origin.starts_with("http://127.0.0.1:"),
        "{}",
        app.origin
    );

    // Without the secret or the cookie: nothing.
    for path in [
        "/cases",
        "/settings",
        "/status",
        "/register",
        "/register.csv",
        "/stats",
        "/intake",
        "/cases/anything",
        "/?key=wrong",
        "/",
    ] {
        let (status, body) = page(&app, "", path).await;
        assert_eq!(status, 401, "{path}");
        assert!(!body.contains("<table"), "{path}");
    }
    let cookie = cookie(&app).await;
    let (status, _) = page(&app, &cookie, "/cases").await;
    assert_eq!(status, 200);
    // The first address works once: seen later (in a process list, a history), it opens
    // nothing.
    let again = client().get(&app.first).send().await.unwrap();
    assert_eq!(again.status().as_u16(), 401);
    assert!(again.headers().get("set-cookie").is_none());
    // Another user of this computer, even with the cookie (browsers hand it to every port
    // of 127.0.0.1), gets nothing. (Needs root to act as another user, as CI runs.)
    if std::fs::metadata("/proc/self")
        .map(|metadata| std::os::unix::fs::MetadataExt::uid(&metadata))
        .ok()
        == Some(0)
    {
        let other = Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-H",
            ])
            .arg(format!("Cookie: {cookie}"))
            .arg(format!("{}/cases", app.origin))
            .output()
            .expect("setpriv and curl run");
        assert_eq!(String::from_utf8_lossy(&other.stdout), "403");
    } else {
        eprintln!("not root: the test as another user of this computer is left out");
    }
    // Another launch's cookie name or a wrong value: nothing.
    let (name, _) = cookie.split_once('=').unwrap();
    let (status, _) = page(&app, &format!("{name}=guessed"), "/cases").await;
    assert_eq!(status, 401);

    // DNS rebinding: a name of the attacker's that points at 127.0.0.1.
    let port = app.origin.rsplit(':').next().unwrap();
    let response = client()
        .get(format!("{}/cases", app.origin))
        .header("host", format!("rebound.example:{port}"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 421);

    // Changes from another site, another port of this machine, or with no origin at all.
    // (An oral report recorded from another site would send a report in the office's name.)
    for path in ["/sync", "/intake"] {
        for origin in [
            Some("https://evil.example".to_owned()),
            Some("http://127.0.0.1:1".to_owned()),
            Some("null".to_owned()),
            None,
        ] {
            let mut request = client()
                .post(format!("{}{path}", app.origin))
                .header("cookie", &cookie)
                .form(&[
                    ("lang", "en"),
                    ("channel", "telephone"),
                    ("body", "Verslag van elders."),
                ]);
            if let Some(origin) = &origin {
                request = request.header("origin", origin);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status().as_u16(), 403, "{path} {origin:?}");
        }
    }
    assert!(relay
        .metrics()
        .contains("meldpunt_stored{kind=\"mailboxes\"} 0"));

    // Every answer: no caching, no framing, no outside resources.
    let response = client()
        .get(format!("{}/cases", app.origin))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let headers = response.headers();
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-frame-options"], "DENY");
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
}

#[test]
fn the_office_app_refuses_to_listen_beyond_loopback() {
    let relay = Relay::start(RelayOptions::default());
    let office = User::new();
    let identity = office.path("office.key");
    write_identity(&identity, &relay.directory.demo_office);
    let output = office.run(
        &relay,
        &[
            "office",
            "--no-open",
            "--listen",
            "0.0.0.0:0",
            "--identity",
            identity.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("loopback"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_works_a_case_through_the_app_and_the_reporter_sees_each_step() {
    let relay = Relay::start(RelayOptions::default());
    let reporter = User::new();
    let key = relay.directory.signing_key.directory_key().to_string();
    let evidence = reporter.path("kasboek maart.csv");
    std::fs::write(&evidence, "datum;bedrag\n2026-03-01;-4000\n").unwrap();
    let answer = reporter.json(
        &relay,
        &[
            "report",
            "--to",
            "demo",
            "--directory-key",
            &key,
            "--message-file",
            "-",
            "--attach",
            evidence.to_str().unwrap(),
        ],
        Some("Melding via de app: de kas klopt niet."),
    );
    let code = answer["receipt_code"].as_str().unwrap().to_owned();
    let code_file = reporter.path("code.txt");
    std::fs::write(&code_file, &code).unwrap();
    let check = || {
        reporter.ok(
            &relay,
            &[
                "check",
                "--receipt-file",
                code_file.to_str().unwrap(),
                "--directory-key",
                &key,
            ],
            None,
        )
    };

    let office = User::new();
    let app = OfficeApp::start(&relay, &office);
    let cookie = cookie(&app).await;
    assert_eq!(post(&app, &cookie, "/sync", &[("lang", "nl")]).await, 303);
    // What the page's script asks every minute (the count it puts in the title).
    let (status, counted) = page(&app, &cookie, "/status").await;
    assert_eq!(status, 200);
    assert_eq!(counted, r#"{"unseen":1,"sync_failed":false}"#);
    let (status, cases) = page(&app, &cookie, "/cases?lang=en").await;
    assert_eq!(status, 200);
    assert!(
        cases.contains("(1) Cases"),
        "the title counts what arrived: {cases}"
    );
    assert!(cases.contains("<script src=\"/app.js\" defer>"), "{cases}");
    let (_, counted) = page(&app, &cookie, "/status").await;
    assert_eq!(
        counted, r#"{"unseen":0,"sync_failed":false}"#,
        "seen once shown"
    );
    let case = cases
        .split("href=\"/cases/")
        .nth(1)
        .and_then(|rest| rest.split('?').next())
        .expect("a case in the list")
        .to_owned();
    let (status, thread) = page(&app, &cookie, &format!("/cases/{case}?lang=nl")).await;
    assert_eq!(status, 200);
    assert!(thread.contains("de kas klopt niet"), "{thread}");
    assert!(thread.contains("Bevestig ontvangst"), "{thread}");
    // The attachment: fetched, opened and digest-checked by the app, handed to the browser.
    let attachment_path = thread
        .split("href=\"")
        .find(|link| link.starts_with(&format!("/cases/{case}/attachments/")))
        .and_then(|link| link.split('?').next())
        .expect("a link to the attachment")
        .to_owned();
    let response = client()
        .get(format!("{}{attachment_path}", app.origin))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename*=UTF-8''kasboek%20maart.csv"
    );
    assert_eq!(
        response.bytes().await.unwrap().as_ref(),
        b"datum;bedrag\n2026-03-01;-4000\n"
    );
    for unknown in ["AAAAAAAAAAAAAAAAAAAAAA", "..%2F..%2Fkey.age"] {
        let (status, _) = page(
            &app,
            &cookie,
            &format!("/cases/{case}/attachments/{unknown}"),
        )
        .await;
        assert_eq!(status, 400, "{unknown}");
    }

    // Acknowledge (the standard text, edited), then reply with an attachment.
    let (status, _) = post_reply(
        &app,
        &cookie,
        &case,
        &[
            ("lang", "nl"),
            ("acknowledgement", "1"),
            (
                "body",
                "Ontvangen via de app; u hoort binnen drie maanden van ons.",
            ),
        ],
        &[],
    )
    .await;
    assert_eq!(status, 303);
    assert!(check().contains("Ontvangen via de app"));
    let (status, _) = post_reply(
        &app,
        &cookie,
        &case,
        &[("lang", "nl"), ("body", "Een eerste antwoord via de app.")],
        &[("vragenlijst.txt", b"Wie tekende de facturen?")],
    )
    .await;
    assert_eq!(status, 303);
    let seen = check();
    assert!(seen.contains("Een eerste antwoord via de app."), "{seen}");
    assert!(seen.contains("vragenlijst.txt"), "{seen}");
    // An empty reply is refused and sends nothing; so is one with a photo that is not one
    // (its metadata could not be removed).
    let (status, _) = post_reply(
        &app,
        &cookie,
        &case,
        &[("lang", "nl"), ("body", "   ")],
        &[],
    )
    .await;
    assert_eq!(status, 400);
    let (status, refused) = post_reply(
        &app,
        &cookie,
        &case,
        &[("lang", "en"), ("body", "Met foto.")],
        &[("foto.jpg", b"not a jpeg at all")],
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused.contains("foto.jpg"), "{refused}");
    assert!(!check().contains("Met foto."));

    // Export into a folder the office names: refused unless absolute and new or empty.
    let folder = office.path("dossier");
    assert_eq!(
        post(
            &app,
            &cookie,
            &format!("/cases/{case}/export"),
            &[("lang", "en"), ("folder", "relative/folder")],
        )
        .await,
        400
    );
    assert_eq!(
        post(
            &app,
            &cookie,
            &format!("/cases/{case}/export"),
            &[("lang", "en"), ("folder", folder.to_str().unwrap())],
        )
        .await,
        200
    );
    let manifest = std::fs::read_to_string(folder.join("manifest.json")).unwrap();
    assert!(manifest.contains("sha256"), "{manifest}");
    assert_eq!(
        post(
            &app,
            &cookie,
            &format!("/cases/{case}/export"),
            &[("lang", "en"), ("folder", folder.to_str().unwrap())],
        )
        .await,
        400,
        "a folder that is not empty is never written into"
    );

    // The team's part: status, assignee, a label and an internal note, recorded for every
    // member; a bad change is refused with its reason and records nothing.
    let own_key = relay
        .directory
        .demo_office
        .office_signing_key()
        .office_key()
        .to_string();
    for (action, value) in [
        ("status", "in-investigation"),
        ("assign", own_key.as_str()),
        ("add-label", "fraude"),
        ("note", "Interne notitie: eerst de teamleider spreken."),
    ] {
        assert_eq!(
            post(
                &app,
                &cookie,
                &format!("/cases/{case}/team"),
                &[("lang", "en"), ("action", action), ("value", value)],
            )
            .await,
            303,
            "{action}"
        );
    }
    for (action, value) in [
        ("status", "finished"),
        ("assign", "someone"),
        ("add-label", " "),
        ("shout", "x"),
    ] {
        assert_eq!(
            post(
                &app,
                &cookie,
                &format!("/cases/{case}/team"),
                &[("lang", "en"), ("action", action), ("value", value)],
            )
            .await,
            400,
            "{action} {value}"
        );
    }
    let (_, worked) = page(&app, &cookie, &format!("/cases/{case}?lang=en")).await;
    assert!(
        worked.contains("<dt>Status</dt><dd>in investigation</dd>")
            && worked.contains("Interne notitie: eerst de teamleider spreken.")
            && worked.contains(r#"<span class="label">fraude</span>"#),
        "{worked}"
    );
    assert_eq!(
        worked.matches(r#"<li><span class="meta">"#).count(),
        4,
        "four changes in the team's history: {worked}"
    );
    // A process guide, appointed through the app: only one the directory lists as such.
    assert_eq!(
        post(
            &app,
            &cookie,
            &format!("/cases/{case}/guide"),
            &[("lang", "en"), ("guide", "external-confidential-adviser")],
        )
        .await,
        400
    );
    assert_eq!(
        post(
            &app,
            &cookie,
            &format!("/cases/{case}/guide"),
            &[("lang", "en"), ("guide", "process-guide")],
        )
        .await,
        303
    );
    let (_, guided) = page(&app, &cookie, &format!("/cases/{case}?lang=en")).await;
    assert!(guided.contains("Accompanies this case: "), "{guided}");
    assert!(check().contains("Process guide Process guide now accompanies your report"));
    // The reporter's view shows none of the team's records.
    let seen = check();
    assert!(
        !seen.contains("Interne notitie") && !seen.contains("fraude"),
        "{seen}"
    );

    // Close, then reopen.
    assert_eq!(
        post(
            &app,
            &cookie,
            &format!("/cases/{case}/close"),
            &[("lang", "en")]
        )
        .await,
        303
    );
    let (_, closed) = page(&app, &cookie, &format!("/cases/{case}?lang=en")).await;
    assert!(
        closed.contains("closed") && closed.contains("Reopen"),
        "{closed}"
    );
    assert_eq!(
        post(
            &app,
            &cookie,
            &format!("/cases/{case}/reopen"),
            &[("lang", "en")]
        )
        .await,
        303
    );
    let (_, reopened) = page(&app, &cookie, &format!("/cases/{case}?lang=en")).await;
    assert!(reopened.contains("Send reply"), "{reopened}");
    // An unknown case is a clear error.
    let (status, missing) = page(&app, &cookie, "/cases/nothing?lang=en").await;
    assert_eq!(status, 400);
    assert!(missing.contains("nothing"), "{missing}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_of_the_office_app_in_both_languages_passes_axe_and_has_its_screenshot() {
    let relay = Relay::start(RelayOptions::default());
    let reporter = User::new();
    reporter.report(
        &relay,
        "Melding: bij de aanbesteding van de nieuwe kantoorinrichting kreeg steeds dezelfde leverancier de opdracht.",
    );
    let office = User::new();
    let app = OfficeApp::start(&relay, &office);
    let browser = Browser::start(true).await;
    // The first address sets the cookie and leads to the cases.
    browser.open(&app.first).await;
    browser.wait_for("form.sync button").await;
    browser.click("form.sync button").await;
    browser.wait_for("table tbody tr").await;
    let case = browser.text("table tbody tr td a").await;
    // The team's part, through its forms in the browser: assigned to this member, a label
    // and an internal note (the screenshots show them).
    browser
        .open(&format!("{}/cases/{case}?lang=en", app.origin))
        .await;
    browser.wait_for("#team-assignee").await;
    browser
        .set_value(
            "#team-assignee",
            &browser.value("#team-assignee option:nth-child(2)").await,
        )
        .await;
    browser
        .click("form[action$='/team'] input[value=assign] ~ button")
        .await;
    browser.wait_for("#team-label").await;
    browser.type_into("#team-label", "aanbesteding").await;
    browser
        .click("form[action$='/team'] input[value=add-label] ~ button")
        .await;
    browser.wait_for("span.label").await;
    browser
        .type_into("#team-note", "Eerst de inkoopstukken opvragen.")
        .await;
    browser
        .click("form[action$='/team'] input[value=note] ~ button")
        .await;
    browser.wait_for("ol.team-history li:nth-child(3)").await;
    let source = browser.source().await;
    assert!(
        source.contains("Eerst de inkoopstukken opvragen.")
            && source.contains(r#"<span class="label">aanbesteding</span>"#)
            && source.contains("(you)</option>"),
        "{source}"
    );
    for (name, path) in [
        ("cases", "/cases".to_owned()),
        ("case", format!("/cases/{case}")),
        ("settings", "/settings".to_owned()),
    ] {
        for language in ["nl", "en"] {
            browser
                .open(&format!("{}{path}?lang={language}", app.origin))
                .await;
            browser.wait_for("main h1").await;
            assert!(
                browser
                    .source()
                    .await
                    .contains(&format!("<html lang=\"{language}\"")),
                "{name} {language}"
            );
            shown_and_accessible(&browser, &format!("office-{name}-{language}")).await;
        }
    }
    // Acknowledge in the browser: the form posts with the app's own origin.
    browser
        .open(&format!("{}/cases/{case}?lang=en", app.origin))
        .await;
    browser.wait_for("#acknowledgement-text").await;
    browser
        .click("form[action$='/reply'] input[name=acknowledgement] ~ button")
        .await;
    browser.wait_for("ol.thread li:nth-child(2)").await;
    let source = browser.source().await;
    assert!(source.contains("acknowledgement)"), "{source}");
    assert!(!source.contains("id=\"acknowledgement-text\""), "{source}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overdue_cases_come_first_and_are_marked_when_the_clock_passes_their_deadlines() {
    let relay = Relay::start(RelayOptions::default());
    let reporter = User::new();
    reporter.report(&relay, "Een melding die blijft liggen.");
    let office = User::new();
    // The app's clock set past both deadlines: no waiting for them.
    let app = OfficeApp::start_on(&relay, &office, Some("2030-01-01"));
    let cookie = cookie(&app).await;
    assert_eq!(post(&app, &cookie, "/sync", &[("lang", "en")]).await, 303);
    let (status, cases) = page(&app, &cookie, "/cases?lang=en&overdue=1").await;
    assert_eq!(status, 200);
    assert!(cases.contains("class=\"overdue\""), "{cases}");
    assert!(cases.contains("OVERDUE: acknowledgement"), "{cases}");
    assert!(cases.contains("OVERDUE: feedback"), "{cases}");
    // The CLI counts the same day the same way, and refuses a day that is not one.
    let identity = office.path("office.key");
    let listed = office.run(
        &relay,
        &[
            "inbox",
            "list",
            "--overdue",
            "--json",
            "--identity",
            identity.to_str().unwrap(),
            "--store",
            office.path("store").to_str().unwrap(),
        ],
        None,
    );
    assert!(listed.status.success());
    let output = String::from_utf8_lossy(&listed.stdout).to_string();
    assert!(
        output.contains("\"cases\":[]"),
        "the real day: nothing overdue yet: {output}"
    );
    let mut wrong = Command::new(binary("meldpunt-cli", "meldpunt"));
    let refused = wrong
        .args(["inbox", "list", "--identity", identity.to_str().unwrap()])
        .env("MELDPUNT_TODAY", "2030-02-30")
        .env("MELDPUNT_HOME", office.path("home"))
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("MELDPUNT_TODAY"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_app_shows_nothing_until_it_is_unlocked() {
    let relay = Relay::start(RelayOptions::default());
    let reporter = User::new();
    reporter.report(&relay, "Een melding achter slot.");
    let office = User::new();
    let app = OfficeApp::start(&relay, &office);
    let cookie = cookie(&app).await;
    assert_eq!(post(&app, &cookie, "/sync", &[("lang", "en")]).await, 303);
    let (_, cases) = page(&app, &cookie, "/cases?lang=en").await;
    let case = cases
        .split("href=\"/cases/")
        .nth(1)
        .and_then(|rest| rest.split('?').next())
        .unwrap()
        .to_owned();
    // Locked (as the idle timer does): every page leads to the unlock page, none shows a case.
    assert_eq!(post(&app, &cookie, "/lock", &[("lang", "en")]).await, 303);
    for path in [
        "/cases?lang=en".to_owned(),
        format!("/cases/{case}?lang=en"),
        format!("/cases/{case}/attachments/0"),
        "/settings".to_owned(),
    ] {
        let response = client()
            .get(format!("{}{path}", app.origin))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 303, "{path}");
        assert!(response.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/unlock"));
        assert!(!response.text().await.unwrap().contains("achter slot"));
    }
    assert_eq!(
        post(
            &app,
            &cookie,
            &format!("/cases/{case}/close"),
            &[("lang", "en")]
        )
        .await,
        303,
        "a change while locked leads to the unlock page"
    );
    let (status, locked) = page(&app, &cookie, "/unlock?lang=en").await;
    assert_eq!(status, 200);
    assert!(locked.contains("locked"), "{locked}");
    // Unlocking (this identity has no passphrase) reads the identity again.
    assert_eq!(post(&app, &cookie, "/unlock", &[("lang", "en")]).await, 303);
    let (status, thread) = page(&app, &cookie, &format!("/cases/{case}?lang=en")).await;
    assert_eq!(status, 200);
    assert!(thread.contains("achter slot"), "{thread}");
    assert!(
        thread.contains("<dt>Status</dt><dd>new</dd>"),
        "nothing was changed while locked: {thread}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_javascript_the_title_counts_new_messages_without_a_reload() {
    let relay = Relay::start(RelayOptions::default());
    let reporter = User::new();
    reporter.report(&relay, "De eerste melding.");
    let office = User::new();
    let app = OfficeApp::start(&relay, &office);
    let browser = Browser::start(true).await;
    browser.open(&app.first).await;
    browser.wait_for("form.sync button").await;
    browser
        .open(&format!("{}/settings?lang=en", app.origin))
        .await;
    browser.wait_for("main h1").await;
    assert_eq!(browser.client.title().await.unwrap(), "Settings · Meldpunt");
    // A new report arrives and the app fetches it while this page stays open (as the
    // background sync would; posted from the page itself, so with its own origin).
    reporter.report(&relay, "Een tweede melding.");
    browser
        .client
        .execute(
            "return fetch('/sync', {method: 'POST', redirect: 'manual', body: new URLSearchParams('lang=en')}).then(function (r) { return r.type; });",
            vec![],
        )
        .await
        .unwrap();
    // The tab is shown again: the script asks and the title counts what arrived.
    browser
        .client
        .execute(
            "document.dispatchEvent(new Event('visibilitychange'));",
            vec![],
        )
        .await
        .unwrap();
    let mut title = String::new();
    for _ in 0..50 {
        title = browser.client.title().await.unwrap();
        if title.starts_with("(2)") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(title, "(2) Settings · Meldpunt");
    assert!(browser
        .text("#live-notice")
        .await
        .contains("2 new message(s) arrived"));
}

/// The attachment links on a case page, in order.
fn attachment_links(page: &str, case: &str) -> Vec<String> {
    page.split("href=\"")
        .filter(|link| link.starts_with(&format!("/cases/{case}/attachments/")))
        .filter_map(|link| link.split('?').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attachment_a_hostile_relay_swaps_is_never_handed_over_whole() {
    let relay = Relay::start(RelayOptions::default());
    let reporter = User::new();
    let key = relay.directory.signing_key.directory_key().to_string();
    let (first, second) = (reporter.path("een.txt"), reporter.path("twee.txt"));
    std::fs::write(&first, "het eerste bewijsstuk").unwrap();
    std::fs::write(&second, "een heel ander en langer tweede bewijsstuk").unwrap();
    reporter.json(
        &relay,
        &[
            "report",
            "--to",
            "demo",
            "--directory-key",
            &key,
            "--message-file",
            "-",
            "--attach",
            first.to_str().unwrap(),
            "--attach",
            second.to_str().unwrap(),
        ],
        Some("Twee bijlagen."),
    );
    // The attachments' locations, as an honest relay shows them.
    let honest_office = User::new();
    let honest = OfficeApp::start(&relay, &honest_office);
    let cookie_honest = cookie(&honest).await;
    assert_eq!(
        post(&honest, &cookie_honest, "/sync", &[("lang", "en")]).await,
        303
    );
    let (_, cases) = page(&honest, &cookie_honest, "/cases?lang=en").await;
    let case = cases
        .split("href=\"/cases/")
        .nth(1)
        .and_then(|rest| rest.split('?').next())
        .unwrap()
        .to_owned();
    let (_, thread) = page(&honest, &cookie_honest, &format!("/cases/{case}?lang=en")).await;
    let links = attachment_links(&thread, &case);
    assert_eq!(links.len(), 2, "{thread}");
    let location = |link: &str| link.rsplit('/').next().unwrap().to_owned();
    drop(honest);

    // A relay that serves the second attachment's sealed bytes for the first.
    let hostile = HostileRelay::start(
        &relay.url,
        Misbehaviour::SwapAttachment {
            asked: location(&links[0]),
            served: location(&links[1]),
        },
    )
    .await;
    let office = User::new();
    let app = OfficeApp::start_through(&relay, &hostile.url, &office, None);
    let cookie = cookie(&app).await;
    assert_eq!(post(&app, &cookie, "/sync", &[("lang", "en")]).await, 303);
    let response = client()
        .get(format!("{}{}", app.origin, links[0]))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    // Either refused outright or broken off: the browser never gets a whole file.
    if response.status().as_u16() == 200 {
        assert!(
            response.bytes().await.is_err(),
            "a swapped attachment was handed over as if whole"
        );
    }
    // The other attachment still comes, whole, and the app goes on serving.
    let response = client()
        .get(format!("{}{}", app.origin, links[1]))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.bytes().await.unwrap().as_ref(),
        b"een heel ander en langer tweede bewijsstuk"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consultations_are_listed_apart_and_a_carried_one_shows_under_its_report() {
    let relay = Relay::start(RelayOptions::default());
    let key = relay.directory.signing_key.directory_key().to_string();
    let reporter = User::new();
    let asked = reporter.json(
        &relay,
        &[
            "ask",
            "--to",
            "demo",
            "--directory-key",
            &key,
            "--message-file",
            "-",
        ],
        Some("Mijn leidinggevende vraagt me cijfers mooier te maken. Moet ik dit melden?"),
    );
    let code_file = reporter.path("consultation.txt");
    std::fs::write(&code_file, asked["receipt_code"].as_str().unwrap()).unwrap();

    // The adviser's app lists the consultation apart, without deadlines, and answers it.
    let adviser = User::new();
    let app = OfficeApp::start_as(
        &relay,
        &relay.url,
        &adviser,
        None,
        &relay.directory.demo_adviser,
    );
    let browser = Browser::start(true).await;
    browser.open(&app.first).await;
    browser.wait_for("form.sync button").await;
    browser.click("form.sync button").await;
    browser.wait_for("#consultations").await;
    let listed = browser.text("main").await;
    assert!(
        !listed.contains("Acknowledge by") && !listed.contains("Ontvangstbevestiging voor"),
        "{listed}"
    );
    let case = browser.text("table tbody tr td a").await;
    browser
        .open(&format!("{}/cases/{case}?lang=en", app.origin))
        .await;
    browser.wait_for("#reply-text").await;
    let shown = browser.source().await;
    assert!(
        shown.contains("not a report, no legal deadlines"),
        "{shown}"
    );
    assert!(!shown.contains("id=\"acknowledgement-text\""), "{shown}");
    assert!(!shown.contains("id=\"guide\""), "{shown}");
    browser
        .type_into(
            "#reply-text",
            "Dank dat u het vraagt. Schrijf op wat er gevraagd werd, en wanneer.",
        )
        .await;
    browser.click("form[action$='/reply'] button").await;
    browser.wait_for("ol.thread li:nth-child(2)").await;
    for (name, path) in [
        ("consultations", "/cases".to_owned()),
        ("consultation", format!("/cases/{case}")),
    ] {
        for language in ["nl", "en"] {
            browser
                .open(&format!("{}{path}?lang={language}", app.origin))
                .await;
            browser.wait_for("main h1").await;
            shown_and_accessible(&browser, &format!("office-{name}-{language}")).await;
        }
    }

    // The reporter carries the consultation into a report; the integrity office's app shows
    // it under the report, each message checked.
    reporter.json(
        &relay,
        &[
            "report",
            "--to",
            "demo",
            "--directory-key",
            &key,
            "--message-file",
            "-",
            "--carry-consultation",
            "--consultation-receipt-file",
            code_file.to_str().unwrap(),
        ],
        Some("Ik meld nu dat mijn leidinggevende vraagt cijfers mooier te maken."),
    );
    let office = User::new();
    let office_app = OfficeApp::start(&relay, &office);
    browser.open(&office_app.first).await;
    browser.wait_for("form.sync button").await;
    browser.click("form.sync button").await;
    browser.wait_for("table tbody tr").await;
    let listed = browser.text("main").await;
    assert!(
        !listed.contains("Adviesgesprekken") && !listed.contains("Consultations"),
        "{listed}"
    );
    let report = browser.text("table tbody tr td a").await;
    for language in ["nl", "en"] {
        browser
            .open(&format!(
                "{}/cases/{report}?lang={language}",
                office_app.origin
            ))
            .await;
        browser.wait_for("section.carried").await;
        let carried = browser.text("section.carried").await;
        assert!(
            carried.contains("Schrijf op wat er gevraagd werd"),
            "{carried}"
        );
        assert!(
            !carried.contains("NOT VERIFIED") && !carried.contains("NIET GEVERIFIEERD"),
            "{carried}"
        );
        shown_and_accessible(&browser, &format!("office-carried-{language}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_register_and_the_figures_hold_no_content_and_hide_small_counts() {
    let relay = Relay::start(RelayOptions::default());
    let reporter = User::new();
    for number in 0..6 {
        reporter.report(
            &relay,
            &format!("Melding SECRET-TEXT-{number}: er gaat iets mis."),
        );
    }
    let member = meldpunt_end_to_end::Member::new(&relay, &relay.directory.demo_office);
    member.sync(&relay);
    let cases: Vec<String> = member.list(&relay)["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|listed| listed["case"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(cases.len(), 6);
    for case in &cases[..5] {
        let (status, _, printed) = member.run_at(&relay.url, "reply", &[case, "--ack"], None);
        assert_eq!(status, Some(0), "{printed}");
    }
    for case in &cases[..2] {
        let (status, _, printed) = member.run_at(&relay.url, "label", &[case, "inkoop"], None);
        assert_eq!(status, Some(0), "{printed}");
    }
    member.sync(&relay);

    // The CLI: one line per case, deadlines standing, no text; figures with small counts hidden.
    let (status, register, printed) = member.run_at(&relay.url, "register", &[], None);
    assert_eq!(status, Some(0), "{printed}");
    let lines = register["cases"].as_array().unwrap();
    assert_eq!(lines.len(), 6);
    let met = lines
        .iter()
        .filter(|line| line["acknowledgement"] == "met")
        .count();
    assert_eq!(met, 5, "{register}");
    assert!(lines.iter().any(|line| line["acknowledgement"] == "open"));
    assert!(!register.to_string().contains("SECRET-TEXT"));
    let csv = member
        .user
        .run(&relay, &member.arguments("register", &["--csv"]), None);
    let csv = String::from_utf8(csv.stdout).unwrap();
    assert!(
        csv.starts_with("case,conversation,received_on,status,"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 7);
    assert!(!csv.contains("SECRET-TEXT"));
    let (status, figures, printed) = member.run_at(&relay.url, "stats", &[], None);
    assert_eq!(status, Some(0), "{printed}");
    assert_eq!(figures["reports"], 6, "{figures}");
    // A label on fewer than 5 reports is not named; it counts under "other labels".
    assert!(figures["per_label"].get("inkoop").is_none(), "{figures}");
    assert_eq!(
        figures["per_label"]["(other labels)"], "fewer than 5",
        "{figures}"
    );
    assert_eq!(figures["unlabelled"], "fewer than 5", "{figures}");
    assert_eq!(figures["acknowledged_in_time"]["percent"], 100, "{figures}");
    assert_eq!(figures["median_days_to_acknowledgement"], 0, "{figures}");
    assert!(figures["median_days_to_feedback"].is_null(), "{figures}");
    let (status, _, printed) = member.run_at(
        &relay.url,
        "stats",
        &["--from", "2027-01-01", "--to", "2026-01-01"],
        None,
    );
    assert_eq!(status, Some(2), "{printed}");
    let (status, _, printed) = member.run_at(&relay.url, "stats", &["--from", "gisteren"], None);
    assert_eq!(status, Some(2), "{printed}");

    // The office app: the same register and figures, with charts, in both languages.
    let office = User::new();
    let app = OfficeApp::start(&relay, &office);
    let browser = Browser::start(true).await;
    browser.open(&app.first).await;
    browser.wait_for("form.sync button").await;
    browser.click("form.sync button").await;
    browser.wait_for("table tbody tr").await;
    for (name, path) in [("register", "/register"), ("stats", "/stats")] {
        for language in ["nl", "en"] {
            browser
                .open(&format!("{}{path}?lang={language}", app.origin))
                .await;
            browser.wait_for("main h1").await;
            let source = browser.source().await;
            assert!(!source.contains("SECRET-TEXT"), "{name}");
            if name == "stats" {
                assert!(!source.contains("inkoop"), "{source}");
                assert!(source.contains("<svg"), "{source}");
                assert!(
                    source.contains("fewer than 5") || source.contains("minder dan 5"),
                    "{source}"
                );
            }
            shown_and_accessible(&browser, &format!("office-{name}-{language}")).await;
        }
    }
    browser
        .open(&format!("{}/register?lang=en", app.origin))
        .await;
    browser.click("a[href^='/register.csv']").await;
    let csv = String::from_utf8(browser.downloaded("register.csv").await).unwrap();
    assert!(csv.starts_with("case,conversation,"), "{csv}");
    assert_eq!(csv.lines().count(), 7);
    assert!(!csv.contains("SECRET-TEXT"));
    browser
        .open(&format!("{}/stats?lang=en&from=gisteren", app.origin))
        .await;
    assert!(browser.text("main").await.contains("YYYY-MM-DD"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_asks_to_purge_at_the_retention_date_and_only_with_the_box_ticked() {
    let relay = Relay::start(RelayOptions::default());
    User::new().report(
        &relay,
        "Melding PURGE-SECRET die na de bewaartermijn weg moet.",
    );
    let office = User::new();
    write_identity(&office.path("office.key"), &relay.directory.demo_office);
    let key = relay.directory.signing_key.directory_key().to_string();
    let identity = office.path("office.key").display().to_string();
    let store = office.path("store").display().to_string();
    let inbox = |command: &str, extra: &[&str]| {
        let mut arguments = vec!["inbox", command];
        arguments.extend_from_slice(extra);
        arguments.extend_from_slice(&[
            "--identity",
            &identity,
            "--store",
            &store,
            "--directory-key",
            &key,
        ]);
        office.json(&relay, &arguments, None)
    };
    inbox("sync", &[]);
    let case = inbox("list", &[])["cases"][0]["case"]
        .as_str()
        .unwrap()
        .to_owned();
    inbox("close", &[&case]);
    let today = meldpunt_crypto::Day::from(time::OffsetDateTime::now_utc().date());
    let soon = today.plus_days(5).to_string();
    let reason = office.path("reason.txt");
    std::fs::write(&reason, "Afgehandeld; niet langer nodig.").unwrap();
    inbox(
        "retention",
        &[
            &case,
            "--until",
            &soon,
            "--reason-file",
            reason.to_str().unwrap(),
        ],
    );

    // Before the date the app offers nothing; at the date it asks, and purges only with the
    // box ticked that says it cannot be undone.
    let app = OfficeApp::start(&relay, &office);
    let session = cookie(&app).await;
    let (status, shown) = page(&app, &session, &format!("/cases/{case}?lang=en")).await;
    assert_eq!(status, 200);
    assert!(shown.contains("PURGE-SECRET") && !shown.contains("Purge the content"));
    drop(app);
    let app = OfficeApp::start_on(&relay, &office, Some(&soon));
    let session = cookie(&app).await;
    let (_, shown) = page(&app, &session, &format!("/cases/{case}?lang=en")).await;
    assert!(shown.contains("Purge the content"), "{shown}");
    let path = format!("/cases/{case}/purge");
    // A page on another site cannot make the app purge, box ticked or not.
    let forged = client()
        .post(format!("{}{path}", app.origin))
        .header("cookie", &session)
        .header("origin", "https://evil.example")
        .form(&[("lang", "en"), ("confirm", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    assert_eq!(post(&app, &session, &path, &[("lang", "en")]).await, 400);
    let (_, shown) = page(&app, &session, &format!("/cases/{case}?lang=en")).await;
    assert!(shown.contains("PURGE-SECRET"));
    assert_eq!(
        post(&app, &session, &path, &[("lang", "en"), ("confirm", "1")]).await,
        303
    );
    let (_, shown) = page(&app, &session, &format!("/cases/{case}?lang=en")).await;
    assert!(!shown.contains("PURGE-SECRET"), "{shown}");
    assert!(shown.contains("content was purged on"), "{shown}");
    let (_, register) = page(&app, &session, "/register?lang=en").await;
    assert!(register.contains(&case), "{register}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_structured_report_shows_its_answers_in_the_app_and_its_categories_in_the_figures() {
    let relay = Relay::start(RelayOptions {
        structured: true,
        ..RelayOptions::default()
    });
    let key = relay.directory.signing_key.directory_key().to_string();
    let reporter = User::new();
    for (index, kind) in ["fraud", "fraud", "fraud", "fraud", "fraud", "bullying"]
        .iter()
        .enumerate()
    {
        let kind = format!("kind={kind}");
        let unit = format!("unit=Inkoop UNIT-TEXT-{index}");
        reporter.ok(
            &relay,
            &[
                "report",
                "--to",
                "demo",
                "--directory-key",
                &key,
                "--message-file",
                "-",
                "--answer",
                &kind,
                "--answer",
                "areas=money,safety",
                "--answer",
                "meeting=yes",
                "--answer",
                &unit,
            ],
            Some("Er verdwijnt geld bij inkoop."),
        );
    }
    let office = User::new();
    let app = OfficeApp::start(&relay, &office);
    let browser = Browser::start(true).await;
    browser.open(&app.first).await;
    browser.wait_for("form.sync button").await;
    browser.click("form.sync button").await;
    browser.wait_for("table tbody tr").await;
    browser.click("table tbody tr a").await;
    for language in ["nl", "en"] {
        let url = browser.current_url().await;
        let url = url.split('?').next().unwrap().to_owned();
        browser.open(&format!("{url}?lang={language}")).await;
        let answers = browser.text("dl.answers").await;
        let (question, option) = if language == "nl" {
            ("Soort misstand", "Geld, Veiligheid")
        } else {
            ("Kind of misconduct", "Money, Safety")
        };
        assert!(
            answers.contains(question) && answers.contains(option),
            "{answers}"
        );
        assert!(answers.contains("UNIT-TEXT"), "{answers}");
        shown_and_accessible(&browser, &format!("office-answers-{language}")).await;
    }
    // The figures count the choices; the short text is no category.
    browser.open(&format!("{}/stats?lang=en", app.origin)).await;
    browser.wait_for("#answer-kind-title").await;
    let source = browser.source().await;
    assert!(
        source.contains("Reports by answer: Kind of misconduct"),
        "{source}"
    );
    assert!(!source.contains("UNIT-TEXT"), "{source}");
    browser
        .open(&format!("{}/register?lang=en", app.origin))
        .await;
    let register = browser.text("main").await;
    assert!(
        register.contains("areas=money,safety; kind=fraud; meeting=yes"),
        "{register}"
    );
    assert!(!register.contains("UNIT-TEXT"), "{register}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oral_report_is_recorded_in_the_app_and_its_code_shown_once() {
    let relay = Relay::start(RelayOptions::default());
    let office = User::new();
    let app = OfficeApp::start(&relay, &office);
    let browser = Browser::start(true).await;
    browser.open(&app.first).await;
    browser.wait_for("form.sync button").await;
    for language in ["nl", "en"] {
        browser
            .open(&format!("{}/intake?lang={language}", app.origin))
            .await;
        browser.wait_for("#intake-text").await;
        shown_and_accessible(&browser, &format!("office-intake-{language}")).await;
    }
    browser.click("#channel-meeting").await;
    browser
        .type_into(
            "#intake-text",
            "Verslag van het gesprek: keuringen werden overgeslagen.",
        )
        .await;
    browser.click("main form button[type=submit]").await;
    let code = browser.text("#receipt-code").await;
    assert!(meldpunt_crypto::ReceiptCode::parse(&code).is_ok(), "{code}");
    shown_and_accessible(&browser, "office-intake-code-en").await;
    // The code is shown once: the case page does not have it.
    browser.click("main a[href^='/cases/']").await;
    let record = browser.text("#oral-record").await;
    assert!(
        record.contains("in a meeting") && record.contains("awaiting the reporter's confirmation"),
        "{record}"
    );
    assert!(!browser.source().await.contains(&code));
    shown_and_accessible(&browser, "office-oral-record-en").await;
    // The reporter reads the record with the code and confirms it.
    let reporter = User::new();
    let receipt = reporter.path("receipt.txt");
    std::fs::write(&receipt, &code).unwrap();
    let key = relay.directory.signing_key.directory_key().to_string();
    tokio::task::block_in_place(|| {
        reporter.ok(
            &relay,
            &[
                "confirm",
                "--directory-key",
                &key,
                "--receipt-file",
                receipt.to_str().unwrap(),
                "--agree",
            ],
            None,
        )
    });
    browser.open(&format!("{}/cases?lang=en", app.origin)).await;
    browser.click("form.sync button").await;
    browser.wait_for("table tbody tr").await;
    browser.click("table tbody tr a").await;
    let record = browser.text("#oral-record").await;
    assert!(
        record.contains("confirmed with the reporter's receipt code on"),
        "{record}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oral_report_recorded_in_the_app_answers_the_questionnaire_or_sends_nothing() {
    let relay = Relay::start(RelayOptions {
        structured: true,
        ..RelayOptions::default()
    });
    let office = User::new();
    let app = OfficeApp::start(&relay, &office);
    let browser = Browser::start(true).await;
    browser.open(&app.first).await;
    browser.wait_for("form.sync button").await;
    browser.click("form.sync button").await;
    browser.wait_for("main").await;
    browser
        .open(&format!("{}/intake?lang=en", app.origin))
        .await;
    browser.wait_for("#intake-questions").await;
    // Without the required kind: refused, and nothing is sent.
    browser
        .type_into("#intake-text", "Verslag: facturen dubbel betaald.")
        .await;
    browser.click("#intake-areas-money").await;
    browser.click("main form button[type=submit]").await;
    let refused = browser
        .text_once_it_holds("main", "The answers were refused")
        .await;
    assert!(
        refused.contains("The answers were refused") && refused.contains("Kind of misconduct"),
        "{refused}"
    );
    assert!(relay
        .metrics()
        .contains("meldpunt_stored{kind=\"mailboxes\"} 0"));
    // With it, recorded; the office sees the answers.
    browser
        .open(&format!("{}/intake?lang=en", app.origin))
        .await;
    browser
        .type_into("#intake-text", "Verslag: facturen dubbel betaald.")
        .await;
    browser.click("#intake-kind-fraud").await;
    browser.click("#intake-areas-money").await;
    browser.click("#intake-areas-safety").await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for("#receipt-code").await;
    browser.click("main a[href^='/cases/']").await;
    let answers = browser.text("dl.answers").await;
    assert!(
        answers.contains("Fraud") && answers.contains("Money, Safety"),
        "{answers}"
    );
}
