//! End-to-end tests of the web form in a real headless Chromium against the real relay
//! on loopback, with JavaScript on (sealing in the browser) and off (plain form posts, the
//! relay sealing in memory), the office on the other side using the real `meldpunt` CLI.

use std::path::Path;

use meldpunt_end_to_end::browser::{Browser, RecordingProxy};
use meldpunt_end_to_end::{
    client, contains, files_under, photo_with_metadata, write_identity, Relay, RelayOptions, User,
};
use serde_json::Value;

/// No delay before a form may be sent (the delay itself is unit-tested in the server).
const QUICK_FORMS: &str = "[web]\nminimum_form_seconds = 0\n";

/// The integrity office, working with the CLI.
struct Office {
    user: User,
    identity: String,
    store: String,
    key: String,
}

impl Office {
    fn new(relay: &Relay) -> Office {
        let user = User::new();
        let identity = user.path("office.key");
        write_identity(&identity, &relay.directory.demo_office);
        Office {
            identity: identity.display().to_string(),
            store: user.path("store").display().to_string(),
            key: relay.directory.signing_key.directory_key().to_string(),
            user,
        }
    }

    fn inbox(&self, relay: &Relay, arguments: &[&str], stdin: Option<&str>) -> Value {
        let mut all = vec!["inbox"];
        all.extend_from_slice(arguments);
        all.extend_from_slice(&[
            "--identity",
            &self.identity,
            "--store",
            &self.store,
            "--directory-key",
            &self.key,
        ]);
        self.user.json(relay, &all, stdin)
    }

    /// Syncs and returns the kinds that arrived.
    fn sync(&self, relay: &Relay) -> Vec<String> {
        self.inbox(relay, &["sync"], None)["arrived"]
            .as_array()
            .unwrap()
            .iter()
            .map(|arrived| arrived["kind"].as_str().unwrap().to_owned())
            .collect()
    }

    fn only_case(&self, relay: &Relay) -> String {
        let listed = self.inbox(relay, &["list"], None);
        assert_eq!(listed["cases"].as_array().unwrap().len(), 1);
        listed["cases"][0]["case"].as_str().unwrap().to_owned()
    }

    fn show(&self, relay: &Relay, case: &str) -> Value {
        self.inbox(relay, &["show", case], None)
    }

    fn reply(&self, relay: &Relay, case: &str, text: &str, attachment: &Path) {
        self.inbox(
            relay,
            &[
                "reply",
                case,
                "--message-file",
                "-",
                "--attach",
                attachment.to_str().unwrap(),
            ],
            Some(text),
        );
    }
}

/// Checks that the secrets — and the browser's user agent, which Chromium sends with every
/// request — are in no file of the relay's data folder and not in its log.
fn assert_nowhere_on_the_relay(relay: &Relay, secrets: &[&str]) {
    let secrets: Vec<&str> = secrets
        .iter()
        .copied()
        .chain(["HeadlessChrome", "Mozilla/5.0"])
        .collect();
    let secrets = &secrets[..];
    // Every regular file (the admin socket is not one).
    for file in files_under(&relay.data)
        .into_iter()
        .filter(|path| path.is_file())
    {
        let bytes = std::fs::read(&file).unwrap();
        for secret in secrets {
            assert!(
                !contains(&bytes, secret.as_bytes()),
                "{secret} in {}",
                file.display()
            );
        }
    }
    let log = relay.log_text();
    for secret in secrets {
        assert!(!log.contains(secret), "{secret} in the log");
    }
}

async fn stored(relay: &Relay, kind: &str) -> u64 {
    let metrics = relay.metrics();
    let prefix = format!("meldpunt_stored{{kind=\"{kind}\"}} ");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap()
        .parse()
        .unwrap()
}

/// The office's reply, with an attachment, to the one case there is; returns its file.
fn office_answers(relay: &Relay, office: &Office, folder: &Path, reply_text: &str) -> Vec<u8> {
    assert_eq!(office.sync(relay), ["report"]);
    let case = office.only_case(relay);
    let answer =
        b"Antwoord van het integriteitsbureau, met bijlage. ATTACHMENT-FROM-OFFICE".to_vec();
    let path = folder.join("antwoord.txt");
    std::fs::write(&path, &answer).unwrap();
    office.reply(relay, &case, reply_text, &path);
    answer
}

/// Opens the receipt code form at `base` (with `query`), waits until the page is in its mode
/// (with or without JavaScript) and submits `code`: the conversation opens.
async fn submit_code(browser: &Browser, base: &str, query: &str, code: &str, javascript: bool) {
    browser.open(&format!("{base}/check{query}")).await;
    let mode = if javascript { "script" } else { "no-script" };
    browser.wait_for(&format!("#mode[data-mode={mode}]")).await;
    browser.type_into("#receipt_code", code).await;
    browser.click("#check-form button[type=submit]").await;
}

/// Reads the reply in the browser, downloads its attachment and follows up, in English
/// with JavaScript and in Dutch without (so that every page has a screenshot in both).
async fn read_replies_and_follow_up(browser: &Browser, base: &str, code: &str, javascript: bool) {
    let (query, language, sent) = if javascript {
        ("?lang=en", "en", "follow-up was received")
    } else {
        ("", "nl", "aanvulling is ontvangen")
    };
    submit_code(browser, base, query, code, javascript).await;
    let mode = if javascript { "script" } else { "no-script" };
    let reply = browser.text("article.office").await;
    assert!(reply.contains("REPLY-MARKER-77"), "{reply}");
    let thread = browser.text("main").await;
    assert!(thread.contains("REPORT-MARKER-5a1f"), "{thread}");
    browser
        .screenshot(&format!("thread-{mode}-{language}"))
        .await;
    if javascript {
        let violations = browser.accessibility_violations().await;
        assert!(violations.is_empty(), "{violations:?}");
    }
    browser.click("article.office .download button").await;
    let downloaded = browser.downloaded("antwoord.txt").await;
    assert!(contains(&downloaded, b"ATTACHMENT-FROM-OFFICE"));
    browser
        .type_into("#follow-up-form #body", "Aanvulling: FOLLOW-UP-MARKER-c3")
        .await;
    browser.click("#follow-up-form button[type=submit]").await;
    let notice = browser.text(".notice").await;
    assert!(notice.contains(sent), "{notice}");
}

fn office_reads_the_follow_up(relay: &Relay, office: &Office) {
    // The office's own reply comes back in its sync too; the follow-up is last.
    let arrived = office.sync(relay);
    assert_eq!(
        arrived.last().map(String::as_str),
        Some("follow-up"),
        "{arrived:?}"
    );
    let case = office.only_case(relay);
    let shown = office.show(relay, &case);
    let last = shown["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["body"], "Aanvulling: FOLLOW-UP-MARKER-c3");
}

const REPORT_TEXT: &str =
    "Bij Inkoop worden offertes vervalst. REPORT-MARKER-5a1f\nSinds maart, elke week.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn javascript_on_seals_in_the_browser_and_the_relay_sees_only_ciphertext() {
    sealed_in_the_browser(false).await;
}

/// The same, for an office on hybrid post-quantum keys: the browser script seals everything
/// with age's `mlkem768x25519` stanzas only (its reply key is hybrid too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn javascript_on_seals_to_hybrid_post_quantum_keys() {
    sealed_in_the_browser(true).await;
}

async fn sealed_in_the_browser(post_quantum: bool) {
    let relay = Relay::start(RelayOptions {
        extra_config: QUICK_FORMS.into(),
        post_quantum,
        ..RelayOptions::default()
    });
    let proxy = RecordingProxy::start(&relay.url).await;
    let folder = tempfile::tempdir().unwrap();
    let evidence = folder.path().join("bewijs.txt");
    std::fs::write(
        &evidence,
        "Offerte 2026-114, bedrag aangepast. EVIDENCE-MARKER-9d",
    )
    .unwrap();

    let browser = Browser::start(true).await;
    browser.open(&format!("{}/report?lang=en", proxy.url)).await;
    browser.wait_for("#mode[data-mode=script]").await;
    browser.click("#organisation-demo").await;
    browser.set_value("#body", REPORT_TEXT).await;
    browser.choose_file("#attachment", &evidence).await;
    browser.click("#report-form button[type=submit]").await;
    let code = browser.text("#receipt-code").await;
    if !post_quantum {
        browser.screenshot("receipt-script-en").await;
    }
    assert_eq!(code.len(), 39, "{code}");

    // What crossed the wire to the relay: ciphertext, tokens and the stamp, never the text,
    // the attachment or the receipt code.
    let sent = proxy.received();
    assert!(contains(&sent, b"POST /api/v1/mailboxes"));
    assert!(contains(&sent, b"PUT /api/v1/mailbox/attachments/"));
    if post_quantum {
        assert!(contains(
            &sent,
            b"age-encryption.org/v1\n-> mlkem768x25519 "
        ));
        assert!(!contains(&sent, b"\n-> X25519 "));
    } else {
        assert!(contains(&sent, b"age-encryption.org/v1\n-> X25519 "));
    }
    for secret in [
        "REPORT-MARKER-5a1f",
        "EVIDENCE-MARKER-9d",
        "bewijs.txt",
        &code,
    ] {
        assert!(!contains(&sent, secret.as_bytes()), "{secret} was sent");
    }

    // The office opens it with the CLI.
    let office = Office::new(&relay);
    let answer = office_answers(&relay, &office, folder.path(), "Dank u. REPLY-MARKER-77");
    let case = office.only_case(&relay);
    let shown = office.show(&relay, &case);
    assert_eq!(shown["messages"][0]["body"], REPORT_TEXT);
    assert_eq!(shown["messages"][0]["attachments"][0]["name"], "bewijs.txt");
    assert_nowhere_on_the_relay(&relay, &["REPORT-MARKER-5a1f", "EVIDENCE-MARKER-9d"]);

    // The reporter reads the reply, downloads its attachment and follows up, in the browser.
    read_replies_and_follow_up(&browser, &proxy.url, &code, true).await;
    office_reads_the_follow_up(&relay, &office);
    let sent = proxy.received();
    if post_quantum {
        // The follow-up too: sealed by the browser to hybrid keys only.
        assert!(!contains(&sent, b"\n-> X25519 "));
    }
    for secret in [
        "FOLLOW-UP-MARKER-c3",
        "REPLY-MARKER-77",
        &code,
        &code.replace('-', ""),
    ] {
        assert!(!contains(&sent, secret.as_bytes()), "{secret} was sent");
    }
    assert!(!contains(&sent, &answer));
    assert_nowhere_on_the_relay(&relay, &["FOLLOW-UP-MARKER-c3", "REPLY-MARKER-77"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn javascript_off_works_through_plain_form_posts_sealed_on_arrival() {
    sealed_on_arrival(false).await;
}

/// The same, for an office on hybrid post-quantum keys: the relay seals the posted form
/// with `mlkem768x25519` stanzas only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn javascript_off_seals_to_hybrid_post_quantum_keys() {
    sealed_on_arrival(true).await;
}

async fn sealed_on_arrival(post_quantum: bool) {
    let relay = Relay::start(RelayOptions {
        extra_config: QUICK_FORMS.into(),
        post_quantum,
        ..RelayOptions::default()
    });
    let folder = tempfile::tempdir().unwrap();
    let evidence = folder.path().join("bewijs.txt");
    std::fs::write(
        &evidence,
        "Offerte 2026-114, bedrag aangepast. EVIDENCE-MARKER-9d",
    )
    .unwrap();

    let browser = Browser::start(false).await;
    browser.open(&format!("{}/report", relay.url)).await;
    let mode = browser.text("#mode[data-mode=no-script]").await;
    assert!(
        mode.contains("deze server versleutelt uw melding"),
        "{mode}"
    );
    browser.click("#organisation-demo").await;
    browser.type_into("#body", REPORT_TEXT).await;
    browser.choose_file("#attachment", &evidence).await;
    browser.click("#report-form button[type=submit]").await;
    let code = browser.text("#receipt-code").await;
    if !post_quantum {
        browser.screenshot("receipt-no-script-nl").await;
    }
    assert_eq!(code.len(), 39, "{code}");

    let office = Office::new(&relay);
    office_answers(&relay, &office, folder.path(), "Dank u. REPLY-MARKER-77");
    let case = office.only_case(&relay);
    let shown = office.show(&relay, &case);
    assert_eq!(shown["messages"][0]["body"], REPORT_TEXT);
    assert_eq!(shown["messages"][0]["attachments"][0]["name"], "bewijs.txt");
    assert_nowhere_on_the_relay(&relay, &["REPORT-MARKER-5a1f", "EVIDENCE-MARKER-9d"]);

    read_replies_and_follow_up(&browser, &relay.url, &code, false).await;
    office_reads_the_follow_up(&relay, &office);
    assert_nowhere_on_the_relay(&relay, &["FOLLOW-UP-MARKER-c3", "REPLY-MARKER-77", &code]);
    if post_quantum {
        // Everything the relay stored for the mailbox is sealed to hybrid keys only.
        let reporter = meldpunt_crypto::ReceiptCode::parse(&code).unwrap();
        let bearer = format!("Bearer {}", reporter.mailbox_token().to_wire().as_str());
        for position in 1..=3 {
            let response = relay
                .get(&format!("/api/v1/mailbox/messages/{position}"), &bearer)
                .await;
            assert_eq!(response.status(), 200, "message {position}");
            let sealed = response.bytes().await.unwrap();
            assert!(
                contains(&sealed, b"\n-> mlkem768x25519 "),
                "message {position}"
            );
            assert!(!contains(&sealed, b"\n-> X25519 "), "message {position}");
        }
    }
}

async fn field_error(browser: &Browser, field: &str) -> String {
    let message = browser.text(&format!("#{field}-error")).await;
    let described = browser
        .wait_for(&format!("#{field}"))
        .await
        .attr("aria-describedby")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(
        described.contains(&format!("{field}-error")),
        "the message is not tied to #{field}: {described}"
    );
    message
}

async fn bad_input_is_refused_next_to_its_field(javascript: bool) {
    let relay = Relay::start(RelayOptions {
        extra_config: format!(
            "{QUICK_FORMS}max_form_attachment_bytes = 65536\n[limits]\nmax_attachment_bytes = 65536\n"
        ),
        ..RelayOptions::default()
    });
    let mode = if javascript { "script" } else { "no-script" };
    let folder = tempfile::tempdir().unwrap();
    let large = folder.path().join("groot.bin");
    std::fs::write(&large, vec![7u8; 100 * 1024]).unwrap();
    let browser = Browser::start(javascript).await;
    let report = format!("{}/report?lang=en", relay.url);

    // An empty report.
    browser.open(&report).await;
    browser.wait_for(&format!("#mode[data-mode={mode}]")).await;
    browser.click("#organisation-demo").await;
    browser.click("#report-form button[type=submit]").await;
    let message = field_error(&browser, "body").await;
    assert!(message.contains("it is empty"), "{message}");
    assert!(browser.text("#error-summary").await.contains("it is empty"));
    browser
        .screenshot(&format!("report-errors-{mode}-en"))
        .await;
    if javascript {
        let violations = browser.accessibility_violations().await;
        assert!(violations.is_empty(), "{violations:?}");
    }

    // An attachment over the limit; the text stays in the form.
    browser.open(&report).await;
    browser.click("#organisation-demo").await;
    browser
        .type_into("#body", "Een melding met een te grote bijlage.")
        .await;
    browser.choose_file("#attachment", &large).await;
    browser.click("#report-form button[type=submit]").await;
    let message = field_error(&browser, "attachment").await;
    assert!(message.contains("larger than allowed"), "{message}");
    let kept = browser.value("#body").await;
    assert_eq!(kept, "Een melding met een te grote bijlage.");

    // A receipt code with a typo, and one that opens no mailbox.
    let check = format!("{}/check?lang=en", relay.url);
    browser.open(&check).await;
    browser
        .type_into("#receipt_code", "AHCM-W7ZG-RKYA-62DW-W8KX-HC8K-EG9D-MHCQ")
        .await;
    browser.click("#check-form button[type=submit]").await;
    let message = field_error(&browser, "receipt_code").await;
    assert!(
        message.contains("typing error") && message.contains("group 8"),
        "{message}"
    );
    browser.screenshot(&format!("check-errors-{mode}-en")).await;
    if javascript {
        let violations = browser.accessibility_violations().await;
        assert!(violations.is_empty(), "{violations:?}");
    }
    browser.open(&check).await;
    let unknown = meldpunt_crypto::ReceiptCode::generate();
    browser
        .type_into("#receipt_code", unknown.to_written_form().as_str())
        .await;
    browser.click("#check-form button[type=submit]").await;
    let message = field_error(&browser, "receipt_code").await;
    assert!(
        message.contains("No conversation belongs to this code"),
        "{message}"
    );

    assert_eq!(stored(&relay, "mailboxes").await, 0);
    assert_eq!(stored(&relay, "attachments").await, 0);

    if !javascript {
        // A form served before the relay restarted still works after it: the reporter
        // who typed while it restarted loses nothing.
        browser.open(&report).await;
        browser.click("#organisation-demo").await;
        browser
            .type_into("#body", "Geschreven voor de herstart.")
            .await;
        let relay = relay.restart();
        browser.click("#report-form button[type=submit]").await;
        browser.wait_for("#receipt-code").await;
        assert_eq!(stored(&relay, "mailboxes").await, 1);
        // A forged token is refused before the form is read, saying where the text still is.
        browser.open(&report).await;
        browser
            .set_value("input[name=form_token]", "vervalst")
            .await;
        browser.click("#organisation-demo").await;
        browser.type_into("#body", "Nog een melding.").await;
        browser.click("#report-form button[type=submit]").await;
        let message = field_error(&browser, "body").await;
        assert!(message.contains("go back in your browser"), "{message}");
        assert_eq!(stored(&relay, "mailboxes").await, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_without_javascript_is_refused_next_to_its_field_and_stores_nothing() {
    bad_input_is_refused_next_to_its_field(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_with_javascript_is_refused_next_to_its_field_and_sends_nothing() {
    bad_input_is_refused_next_to_its_field(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_in_both_languages_is_self_contained_and_has_its_screenshot() {
    let relay = Relay::start(RelayOptions {
        extra_config: format!(
            "onion_location = \"http://meldpuntexampleonionaddressxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion\"\n{QUICK_FORMS}"
        ),
        ..RelayOptions::default()
    });
    for path in [
        "/",
        "/report",
        "/ask",
        "/check",
        "/?lang=en",
        "/report?lang=en",
        "/ask?lang=en",
        "/check?lang=en",
    ] {
        let response = client()
            .get(format!("{}{path}", relay.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers().clone();
        assert!(headers.get("set-cookie").is_none(), "{path} sets a cookie");
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.starts_with("default-src 'none'; script-src 'self'; style-src 'self'"));
        assert!(!policy.contains("unsafe"), "{policy}");
        assert!(headers["onion-location"]
            .to_str()
            .unwrap()
            .ends_with(".onion"));
        let html = response.text().await.unwrap();
        for external in ["src=\"http", "href=\"http", "src=\"//", "href=\"//", "url("] {
            assert!(
                !html.contains(external),
                "{path} refers elsewhere: {external}"
            );
        }
        assert!(html.len() < 16 * 1024, "{path} is {} bytes", html.len());
        let language = if path.contains("lang=en") { "en" } else { "nl" };
        assert!(
            html.contains(&format!("<html lang=\"{language}\">")),
            "{path}"
        );
    }
    // The script, gzipped for browsers that accept it (Tor Browser does), the same bytes.
    let plain = client()
        .get(format!("{}/static/meldpunt.js", relay.url))
        .send()
        .await
        .unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.bytes().await.unwrap();
    let gzipped = client()
        .get(format!("{}/static/meldpunt.js", relay.url))
        .header("accept-encoding", "gzip, deflate, br")
        .send()
        .await
        .unwrap();
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    let gzipped = gzipped.bytes().await.unwrap();
    assert!(
        gzipped.len() * 2 < plain.len(),
        "{} of {}",
        gzipped.len(),
        plain.len()
    );
    let mut gunzip = std::process::Command::new("gzip")
        .args(["-d", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    gunzip.stdin.take().unwrap().write_all(&gzipped).unwrap();
    assert_eq!(gunzip.wait_with_output().unwrap().stdout, plain.to_vec());

    let unknown = client()
        .get(format!("{}/nergens", relay.url))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert!(unknown
        .text()
        .await
        .unwrap()
        .contains("Deze pagina bestaat niet"));

    for javascript in [true, false] {
        let mode = if javascript { "script" } else { "no-script" };
        let browser = Browser::start(javascript).await;
        for (name, path) in [
            ("start", "/"),
            ("report", "/report"),
            ("ask", "/ask"),
            ("check", "/check"),
        ] {
            for (language, query) in [("nl", ""), ("en", "?lang=en")] {
                browser.open(&format!("{}{path}{query}", relay.url)).await;
                browser.wait_for("main h1").await;
                if name != "start" {
                    browser.wait_for(&format!("#mode[data-mode={mode}]")).await;
                }
                browser
                    .screenshot(&format!("{name}-{mode}-{language}"))
                    .await;
                if javascript {
                    let violations = browser.accessibility_violations().await;
                    assert!(violations.is_empty(), "{name} ({language}): {violations:?}");
                }
            }
        }
        if javascript {
            // The check is not vacuous: a field without a label is caught.
            browser
                .client
                .execute(
                    "document.querySelector('main').append(document.createElement('input'));",
                    vec![],
                )
                .await
                .unwrap();
            let violations = browser.accessibility_violations().await;
            assert!(
                violations
                    .iter()
                    .any(|violation| violation.starts_with("label")),
                "{violations:?}"
            );
        }
    }
}

async fn fresh_token(relay: &Relay) -> String {
    relay.form_token("/report?lang=en").await
}

fn report_form(token: &str, body: &str) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("form_token", token.to_owned())
        .text("lang", "en")
        .text("organisation", "demo")
        .text("recipient", "demo/integrity-office")
        .text("body", body.to_owned())
}

async fn post_report(relay: &Relay, form: reqwest::multipart::Form) -> (u16, String) {
    let response = client()
        .post(format!("{}/report?lang=en", relay.url))
        .multipart(form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_posts_without_javascript_answer_with_their_status_and_store_nothing_when_refused() {
    let relay = Relay::start(RelayOptions {
        extra_config: "[web]\nminimum_form_seconds = 2\nno_script_submissions_per_minute = 2\nmax_form_attachment_bytes = 65536\n".into(),
        ..RelayOptions::default()
    });
    let token = fresh_token(&relay).await;

    // Sent sooner than a person could: refused, and the token stays usable.
    let (status, html) = post_report(&relay, report_form(&token, "te snel")).await;
    assert_eq!(status, 429, "{html}");
    assert!(html.contains("sent too quickly"));
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;

    let (status, html) = post_report(&relay, report_form(&token, "  \n ")).await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"body-error\""));
    let (status, _) = post_report(
        &relay,
        reqwest::multipart::Form::new()
            .text("form_token", token.clone())
            .text("lang", "en")
            .text("organisation", "nergens")
            .text("body", "tekst"),
    )
    .await;
    assert_eq!(status, 422);
    let large = reqwest::multipart::Part::bytes(vec![1u8; 100 * 1024]).file_name("groot.bin");
    let (status, html) = post_report(
        &relay,
        report_form(&token, "met bijlage").part("attachment", large),
    )
    .await;
    assert_eq!(status, 413);
    assert!(html.contains("id=\"attachment-error\"") && html.contains("met bijlage"));
    let (status, html) = post_report(&relay, report_form("vervalst", "tekst")).await;
    assert_eq!(status, 400);
    assert!(html.contains("has expired or was used already"));
    let invalid_utf8 = reqwest::multipart::Form::new()
        .text("form_token", token.clone())
        .text("lang", "en")
        .part(
            "body",
            reqwest::multipart::Part::bytes(vec![0xff, 0xfe, 0x41]),
        );
    let (status, _) = post_report(&relay, invalid_utf8).await;
    assert_eq!(status, 400);
    // A consultation goes to confidential advisers only.
    let (status, html) = post_report(
        &relay,
        report_form(&token, "een vraag").text("conversation", "consultation"),
    )
    .await;
    assert_eq!(status, 422, "{html}");
    assert!(
        html.contains("id=\"recipients-error\"") && html.contains("confidential advisers only"),
        "{html}"
    );
    let not_multipart = client()
        .post(format!("{}/report", relay.url))
        .header("content-type", "text/plain")
        .body("body=tekst")
        .send()
        .await
        .unwrap();
    assert_eq!(not_multipart.status(), 400);
    assert_eq!(stored(&relay, "mailboxes").await, 0);

    // A form whose token is not its first field is refused before the rest is read.
    let (status, html) = post_report(
        &relay,
        reqwest::multipart::Form::new()
            .text("lang", "en")
            .text("form_token", token.clone())
            .text("organisation", "demo")
            .text("body", "tekst"),
    )
    .await;
    assert_eq!(status, 400);
    assert!(html.contains("go back in your browser"), "{html}");

    // The receipt code form: it takes a form token too.
    let unknown = meldpunt_crypto::ReceiptCode::generate().to_written_form();
    let response = client()
        .post(format!("{}/check", relay.url))
        .form(&[("lang", "en"), ("receipt_code", unknown.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    for (typed, expected) in [
        ("AHCM-W7ZG-RKYA-62DW-W8KX-HC8K-EG9D-MHCQ", 422),
        ("kort", 422),
        (unknown.as_str(), 404),
    ] {
        let check_token = fresh_token(&relay).await;
        let response = client()
            .post(format!("{}/check", relay.url))
            .form(&[
                ("form_token", check_token.as_str()),
                ("lang", "en"),
                ("receipt_code", typed),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "{typed}");
        assert!(response
            .text()
            .await
            .unwrap()
            .contains("id=\"receipt_code-error\""));
    }

    // A good form is stored once; the same token again is refused; past the global rate
    // the relay says it is busy.
    let (status, html) = post_report(&relay, report_form(&token, "een echte melding")).await;
    assert_eq!(status, 201, "{html}");
    assert!(html.contains("id=\"receipt-code\""));
    let (status, _) = post_report(&relay, report_form(&token, "nog een keer")).await;
    assert_eq!(status, 400);
    let second = fresh_token(&relay).await;
    let third = fresh_token(&relay).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (status, _) = post_report(&relay, report_form(&second, "tweede melding")).await;
    assert_eq!(status, 201);
    let (status, html) = post_report(&relay, report_form(&third, "derde melding")).await;
    assert_eq!(status, 429);
    assert!(html.contains("busy") && html.contains("derde melding"));
    assert_eq!(stored(&relay, "mailboxes").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_script_follows_the_history_from_the_version_the_page_vouches_for() {
    use meldpunt_end_to_end::hostile::{HostileRelay, Misbehaviour};
    // The page vouches for version 1 (web.directory_pin); the relay serves version 3.
    let relay = Relay::start(RelayOptions {
        extra_config: format!("{QUICK_FORMS}directory_pin = \"{{directory_pin}}\"\n"),
        ..RelayOptions::default()
    });
    let report = |url: String| async move {
        let browser = Browser::start(true).await;
        browser.open(&format!("{url}/report?lang=en")).await;
        browser.wait_for("#mode[data-mode=script]").await;
        browser.wait_for("body[data-directory-version='1']").await;
        browser.click("#organisation-demo").await;
        browser
            .set_value("#body", "Een melding die de geschiedenis volgt.")
            .await;
        browser.click("#report-form button[type=submit]").await;
        browser
    };
    let swapped_second = {
        let signed =
            meldpunt_crypto::SignedDirectory::from_bytes(relay.directory.signed()).unwrap();
        let mut draft = signed
            .verify_history(&relay.directory.signing_key.directory_key())
            .unwrap();
        draft.organisations[0].recipients[0].keys[0] =
            meldpunt_crypto::IdentityKey::generate().recipient();
        let (_, forged) = draft
            .sign_after(&signed, &relay.directory.signing_key)
            .unwrap();
        forged.as_bytes().to_vec()
    };
    // A history with version 2 swapped for one with another key: refused, nothing sent.
    let hostile = HostileRelay::start(
        &relay.url,
        Misbehaviour::DirectoryHistory {
            current: relay.directory.signed_version(3),
            history: vec![
                relay.directory.signed(),
                swapped_second,
                relay.directory.signed_version(3),
            ],
        },
    )
    .await;
    let browser = report(hostile.url.clone()).await;
    let message = browser.text("#body-error").await;
    assert!(message.contains("does not name version 2"), "{message}");
    assert_eq!(stored(&relay, "mailboxes").await, 0);
    drop(browser);
    drop(hostile);
    // The honest history: the report goes.
    let honest = HostileRelay::start(
        &relay.url,
        Misbehaviour::DirectoryHistory {
            current: relay.directory.signed_version(3),
            history: vec![
                relay.directory.signed(),
                relay.directory.signed_version(2),
                relay.directory.signed_version(3),
            ],
        },
    )
    .await;
    let browser = report(honest.url.clone()).await;
    let code = browser.text("#receipt-code").await;
    assert_eq!(code.len(), 39, "{code}");
    assert_eq!(stored(&relay, "mailboxes").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_script_refuses_a_tampered_directory_and_sends_nothing() {
    use base64::Engine as _;
    use meldpunt_end_to_end::hostile::{HostileRelay, Misbehaviour};
    let relay = Relay::start(RelayOptions {
        extra_config: QUICK_FORMS.into(),
        ..RelayOptions::default()
    });
    // The relay swaps its own key in for the office's, keeping the signature.
    let base64 = base64::engine::general_purpose::STANDARD;
    let mut envelope: Value = serde_json::from_slice(&relay.directory.signed()).unwrap();
    let payload = String::from_utf8(
        base64
            .decode(envelope["payload"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap()
    .replace(
        &relay.directory.demo_office.recipient().to_string(),
        &meldpunt_crypto::IdentityKey::generate()
            .recipient()
            .to_string(),
    );
    envelope["payload"] = base64.encode(payload).into();
    let hostile = HostileRelay::start(
        &relay.url,
        Misbehaviour::Directory(envelope.to_string().into_bytes()),
    )
    .await;
    let browser = Browser::start(true).await;
    browser
        .open(&format!("{}/report?lang=en", hostile.url))
        .await;
    browser.wait_for("#mode[data-mode=script]").await;
    browser.click("#organisation-demo").await;
    browser
        .set_value("#body", "Een melding die niet mag vertrekken.")
        .await;
    browser.click("#report-form button[type=submit]").await;
    let message = browser.text("#body-error").await;
    assert!(message.contains("could not be verified"), "{message}");
    assert_eq!(stored(&relay, "mailboxes").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_script_shows_a_message_after_a_withheld_one_with_a_note() {
    use meldpunt_end_to_end::hostile::{HostileRelay, Misbehaviour};
    let relay = Relay::start(RelayOptions::default());
    let office = Office::new(&relay);
    let code = User::new().report(&relay, "Melding via de CLI.");
    let folder = tempfile::tempdir().unwrap();
    // 1 report, 2 the office's reply 1, 3 its reply 2.
    office_answers(&relay, &office, folder.path(), "Eerste antwoord.");
    let case = office.only_case(&relay);
    office.reply(
        &relay,
        &case,
        "Tweede antwoord.",
        &folder.path().join("antwoord.txt"),
    );
    let hostile = HostileRelay::start(&relay.url, Misbehaviour::Withhold { position: 2 }).await;
    let browser = Browser::start(true).await;
    browser
        .open(&format!("{}/check?lang=en", hostile.url))
        .await;
    browser.wait_for("#mode[data-mode=script]").await;
    browser.type_into("#receipt_code", &code).await;
    browser.click("#check-form button[type=submit]").await;
    let note = browser.text(".missing").await;
    assert!(
        note.contains("1 earlier message(s) from this sender are missing"),
        "{note}"
    );
    let thread = browser.text("main").await;
    assert!(
        thread.contains("Tweede antwoord.") && !thread.contains("Eerste antwoord."),
        "{thread}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_the_reporter_cannot_open_is_marked_and_the_conversation_goes_on() {
    let relay = Relay::start(RelayOptions {
        extra_config: QUICK_FORMS.into(),
        ..RelayOptions::default()
    });
    let office = Office::new(&relay);
    let code = User::new().report(&relay, REPORT_TEXT);
    let folder = tempfile::tempdir().unwrap();
    office_answers(&relay, &office, folder.path(), "Antwoord. REPLY-MARKER-77");
    meldpunt_end_to_end::post_reply_the_reporter_cannot_open(
        &relay,
        &meldpunt_crypto::ReceiptCode::parse(&code).unwrap(),
    )
    .await;
    // With JavaScript (in English) and without (in Dutch): the unreadable message is marked
    // in its place, the rest is shown, and a follow-up still goes out.
    for (javascript, query, unreadable, sent) in [
        (
            true,
            "?lang=en",
            "A message could not be read",
            "follow-up was received",
        ),
        (
            false,
            "",
            "Een bericht kon niet worden gelezen",
            "aanvulling is ontvangen",
        ),
    ] {
        let browser = Browser::start(javascript).await;
        submit_code(&browser, &relay.url, query, &code, javascript).await;
        let mode = if javascript { "script" } else { "no-script" };
        let marked = browser.text("article.unreadable").await;
        assert!(marked.contains(unreadable), "{marked}");
        assert!(!marked.contains("Alleen voor collega"), "{marked}");
        let thread = browser.text("main").await;
        assert!(
            thread.contains("REPORT-MARKER-5a1f") && thread.contains("REPLY-MARKER-77"),
            "{thread}"
        );
        browser
            .screenshot(&format!("thread-unreadable-{mode}"))
            .await;
        browser
            .type_into("#follow-up-form #body", "Aanvulling ondanks alles.")
            .await;
        browser.click("#follow-up-form button[type=submit]").await;
        let notice = browser.text(".notice").await;
        assert!(notice.contains(sent), "{notice}");
    }
    // Both follow-ups reach the office, in sequence.
    let arrived = office.sync(&relay);
    assert_eq!(
        arrived,
        ["reply", "reply", "follow-up", "follow-up"],
        "{arrived:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_identity_is_shown_to_the_reporter_with_whom_and_the_conversation_goes_on() {
    let relay = Relay::start(RelayOptions {
        extra_config: QUICK_FORMS.into(),
        ..RelayOptions::default()
    });
    let reporter = User::new();
    let key = relay.directory.signing_key.directory_key().to_string();
    let answer = reporter.json(
        &relay,
        &[
            "report",
            "--to",
            "demo",
            "--role",
            "integrity-office",
            "--role",
            "external-confidential-adviser",
            "--directory-key",
            &key,
            "--message-file",
            "-",
        ],
        Some(REPORT_TEXT),
    );
    let code = answer["receipt_code"].as_str().unwrap().to_owned();
    let code_file = reporter.path("code.txt");
    std::fs::write(&code_file, &code).unwrap();
    reporter.ok(
        &relay,
        &[
            "share-identity",
            "--receipt-file",
            code_file.to_str().unwrap(),
            "--with",
            "external-confidential-adviser",
            "--identity-file",
            "-",
            "--directory-key",
            &key,
        ],
        Some("Jan Jansen, 06-12345678"),
    );
    // With JavaScript (in English) and without (in Dutch): the follow-up says with whom the
    // identity was shared, never the identity; a follow-up still goes out after it.
    for (javascript, query, shared, sent) in [
        (
            true,
            "?lang=en",
            "your identity, shared only with",
            "follow-up was received",
        ),
        (
            false,
            "",
            "uw identiteit, alleen gedeeld met",
            "aanvulling is ontvangen",
        ),
    ] {
        let browser = Browser::start(javascript).await;
        submit_code(&browser, &relay.url, query, &code, javascript).await;
        browser.wait_for("#follow-up-form").await;
        let thread = browser.text("main").await;
        assert!(thread.contains(shared), "{thread}");
        assert!(!thread.contains("Jansen"), "{thread}");
        browser
            .type_into("#follow-up-form #body", "Nog een aanvulling.")
            .await;
        browser.click("#follow-up-form button[type=submit]").await;
        let notice = browser.text(".notice").await;
        assert!(notice.contains(sent), "{notice}");
    }
    let office = Office::new(&relay);
    assert_eq!(
        office.sync(&relay),
        ["report", "follow-up", "follow-up", "follow-up"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_guide_appointed_mid_case_is_shown_and_sealed_to_by_both_web_modes() {
    let relay = Relay::start(RelayOptions {
        extra_config: QUICK_FORMS.into(),
        ..RelayOptions::default()
    });
    let code = User::new().report(&relay, REPORT_TEXT);
    let office = meldpunt_end_to_end::Member::new(&relay, &relay.directory.demo_office);
    let guide = meldpunt_end_to_end::Member::new(&relay, &relay.directory.demo_guide);
    office.sync(&relay);
    let case = office.list(&relay)["cases"][0]["case"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, printed) = office.run_at(
        &relay.url,
        "appoint-guide",
        &[&case, "--guide", "process-guide"],
        None,
    );
    assert_eq!(status, Some(0), "{printed}");
    guide.sync(&relay);
    // With JavaScript (in English) and without (in Dutch): the notice is in the thread, and
    // the next follow-up is sealed to the guide too.
    for (javascript, query, sent, text) in [
        (
            true,
            "?lang=en",
            "follow-up was received",
            "Voor de begeleider, met script.",
        ),
        (
            false,
            "",
            "aanvulling is ontvangen",
            "Voor de begeleider, zonder script.",
        ),
    ] {
        let browser = Browser::start(javascript).await;
        submit_code(&browser, &relay.url, query, &code, javascript).await;
        browser.wait_for("#follow-up-form").await;
        let thread = browser.text("main").await;
        assert!(
            thread.contains("Process guide Process guide now accompanies your report"),
            "{thread}"
        );
        browser.type_into("#follow-up-form #body", text).await;
        browser.click("#follow-up-form button[type=submit]").await;
        let notice = browser.text(".notice").await;
        assert!(notice.contains(sent), "{notice}");
        let synced = guide.sync(&relay);
        assert_eq!(synced["arrived"][0]["kind"], "follow-up", "{synced}");
        assert_eq!(synced["arrived"][0]["unverified"], false, "{synced}");
        assert!(guide.show(&relay, &case).to_string().contains(text));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carrying_a_consultation_without_javascript_refuses_what_is_no_consultation_and_stores_nothing(
) {
    let relay = Relay::start(RelayOptions {
        extra_config: QUICK_FORMS.into(),
        ..RelayOptions::default()
    });
    let report = meldpunt_end_to_end::Reporter::new();
    let response = report
        .create(&relay, "demo", report.sealed_report(&relay, "Een melding."))
        .await;
    assert_eq!(response.status(), 201);
    let report_code = report.code.to_written_form();
    let unknown = meldpunt_crypto::ReceiptCode::generate().to_written_form();
    for (typed, expected, says) in [
        ("kort", 422, "characters"),
        (unknown.as_str(), 404, "No conversation"),
        (report_code.as_str(), 422, "belongs to a report"),
    ] {
        let token = fresh_token(&relay).await;
        let (status, html) = post_report(
            &relay,
            report_form(&token, "Nu meld ik het.")
                .text("consultation_code", typed.to_owned())
                .text("carry", "1"),
        )
        .await;
        assert_eq!(status, expected, "{typed}: {html}");
        assert!(html.contains("id=\"carry-error\""), "{html}");
        assert!(html.contains(says), "{says}: {html}");
        // The code goes on in a hidden field, never in the address.
        assert!(html.contains("name=\"consultation_code\""), "{html}");
    }
    assert_eq!(stored(&relay, "mailboxes").await, 1);
    // Unticked, the code is not even read: the report goes out without it.
    let token = fresh_token(&relay).await;
    let (status, html) = post_report(
        &relay,
        report_form(&token, "Nu meld ik het, zonder het gesprek.")
            .text("consultation_code", "kort".to_owned()),
    )
    .await;
    assert_eq!(status, 201, "{html}");
    assert_eq!(stored(&relay, "mailboxes").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consultation_from_either_web_mode_is_answered_and_carried_into_a_report() {
    let relay = Relay::start(RelayOptions {
        extra_config: QUICK_FORMS.into(),
        ..RelayOptions::default()
    });
    let adviser = meldpunt_end_to_end::Member::new(&relay, &relay.directory.demo_adviser);
    let office = meldpunt_end_to_end::Member::new(&relay, &relay.directory.demo_office);
    // With JavaScript (in English) and without (in Dutch): ask, read the adviser's answer,
    // then make a report that carries the consultation along.
    for (javascript, query, language, received, consultation_title) in [
        (
            true,
            "?lang=en",
            "en",
            "Your question was received",
            "Your consultation",
        ),
        (false, "", "nl", "Uw vraag is ontvangen", "Uw adviesgesprek"),
    ] {
        let mode = if javascript { "script" } else { "no-script" };
        let browser = Browser::start(javascript).await;
        browser.open(&format!("{}/{query}", relay.url)).await;
        browser.click("a[href^='/ask']").await;
        browser.wait_for(&format!("#mode[data-mode={mode}]")).await;
        // Only confidential advisers are offered.
        let offered = browser.text("#recipients").await;
        assert!(!offered.contains("Integrit"), "{offered}");
        browser
            .type_into(
                "#body",
                &format!("Mag ik iets vragen? QUESTION-MARKER-{mode}"),
            )
            .await;
        browser.click("#report-form button[type=submit]").await;
        let code = browser.text("#receipt-code").await;
        assert!(browser.text("main h1").await.contains(received));

        // The adviser answers; the integrity office never sees the consultation.
        adviser.sync(&relay);
        let case = adviser.list(&relay)["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|listed| listed["case"].as_str().unwrap().to_owned())
            .find(|case| {
                adviser.show(&relay, case)["messages"]
                    .as_array()
                    .unwrap()
                    .len()
                    == 1
            })
            .expect("the new consultation");
        assert_eq!(adviser.show(&relay, &case)["conversation"], "consultation");
        adviser.reply(
            &relay,
            &case,
            &[],
            Some(&format!("Vertel gerust. ANSWER-MARKER-{mode}")),
        );

        submit_code(&browser, &relay.url, query, &code, javascript).await;
        browser.wait_for("#convert").await;
        let thread = browser.text("main").await;
        assert!(thread.contains(consultation_title), "{thread}");
        assert!(
            thread.contains(&format!("ANSWER-MARKER-{mode}")),
            "{thread}"
        );
        browser
            .screenshot(&format!("consultation-{mode}-{language}"))
            .await;
        if javascript {
            browser.click("#convert-button").await;
        } else {
            browser.click("#convert-form button[type=submit]").await;
        }
        browser.wait_for("#report-form #carry-consultation").await;
        browser
            .screenshot(&format!("convert-{mode}-{language}"))
            .await;
        if javascript {
            let violations = browser.accessibility_violations().await;
            assert!(violations.is_empty(), "{violations:?}");
        }
        browser.click("#carry-consultation").await;
        browser
            .type_into("#body", &format!("Nu meld ik het. REPORT-AFTER-{mode}"))
            .await;
        browser.click("#report-form button[type=submit]").await;
        let report_code = browser.text("#receipt-code").await;
        assert_ne!(report_code, code);
    }
    // The office reads both reports, each with the consultation before it, checked.
    office.sync(&relay);
    let cases = office.list(&relay)["cases"].as_array().unwrap().clone();
    assert_eq!(cases.len(), 2, "{cases:?}");
    for listed in &cases {
        let shown = office.show(&relay, listed["case"].as_str().unwrap());
        let carried = shown["messages"][0]["carried_consultation"]["messages"]
            .as_array()
            .unwrap_or_else(|| panic!("{shown}"))
            .clone();
        assert_eq!(carried.len(), 2, "{shown}");
        assert!(
            carried.iter().all(|message| message["verified"] == true),
            "{shown}"
        );
        assert!(carried[1]["body"]
            .as_str()
            .unwrap()
            .contains("ANSWER-MARKER"));
        assert!(shown["messages"][0]["body"]
            .as_str()
            .unwrap()
            .contains("REPORT-AFTER"));
    }
    adviser.sync(&relay);
    assert_eq!(adviser.list(&relay)["cases"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_posted_without_javascript_lose_their_metadata() {
    let relay = Relay::start(RelayOptions {
        extra_config: QUICK_FORMS.into(),
        ..RelayOptions::default()
    });
    // A file named like a photo that is not one cannot be cleaned: refused at its field.
    let token = fresh_token(&relay).await;
    let fake = reqwest::multipart::Part::bytes(b"not a picture".to_vec()).file_name("foto.jpg");
    let (status, html) = post_report(
        &relay,
        report_form(&token, "met een foto").part("attachment", fake),
    )
    .await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("id=\"attachment-error\"") && html.contains("cannot be read"));

    let photo = reqwest::multipart::Part::bytes(photo_with_metadata()).file_name("foto.jpg");
    let (status, html) = post_report(
        &relay,
        report_form(&token, "met een foto").part("attachment", photo),
    )
    .await;
    assert_eq!(status, 201, "{html}");
    let office = Office::new(&relay);
    assert_eq!(office.sync(&relay), ["report"]);
    let case = office.only_case(&relay);
    let export = office.user.path("export");
    office.inbox(
        &relay,
        &["export", &case, "--out", export.to_str().unwrap()],
        None,
    );
    let cleaned = std::fs::read(export.join("attachments").join("foto.jpg")).unwrap();
    assert!(!contains(&cleaned, b"GPS") && !contains(&cleaned, b"Jansen"));
    assert!(contains(&cleaned, b"JFIF"));
}

/// Polls the page until its status line holds `expected`, and returns that line; `None` if
/// the receipt code came first (at most a minute).
async fn status_while_solving(browser: &Browser, expected: &str) -> Option<String> {
    for _ in 0..600 {
        let source = browser.source().await;
        if source.contains("id=\"receipt-code\"") {
            return None;
        }
        if let Some(line) = source
            .split("id=\"status\"")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .filter(|line| line.contains(expected))
        {
            return Some(line.to_owned());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the status line never said {expected:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_jit_a_report_is_made_at_the_default_base_difficulty_in_the_stamp_worker() {
    // Tor Browser at "Safer" runs scripts without the JIT: the proof-of-work, solved with
    // WebCrypto in the stamp worker, still passes at the relay's default base difficulty.
    let relay = Relay::start(RelayOptions {
        extra_config: QUICK_FORMS.into(),
        difficulty: 14, // meldpunt_server::config::BASE_DIFFICULTY
        ..RelayOptions::default()
    });
    let proxy = RecordingProxy::start(&relay.url).await;
    let browser = Browser::start_without_jit().await;
    browser.open(&format!("{}/report", proxy.url)).await;
    browser.wait_for("#mode[data-mode=script]").await;
    browser.click("#organisation-demo").await;
    browser.set_value("#body", REPORT_TEXT).await;
    browser.click("#report-form button[type=submit]").await;
    let code = browser.text("#receipt-code").await;
    assert_eq!(code.len(), 39, "{code}");
    let sent = proxy.received();
    assert!(contains(&sent, b"GET /static/meldpunt-stamp.js"));
    assert!(contains(&sent, b"POST /api/v1/mailboxes"));
    assert_eq!(stored(&relay, "mailboxes").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_progress_and_an_honest_estimate_while_it_solves() {
    // At the ceiling a flood can push the relay to, the work takes seconds: the page says
    // how long it takes on this device on average, and how long it has run, in its language.
    let relay = Relay::start(RelayOptions {
        extra_config: QUICK_FORMS.into(),
        difficulty: 18, // meldpunt_server::config::REPORTER_CEILING
        ..RelayOptions::default()
    });
    for (language, average, attempts) in [
        ("en", "on average", "attempts"),
        ("nl", "gemiddeld", "pogingen"),
    ] {
        let browser = Browser::start(true).await;
        // A solution found within the first batch (one time in 256 at this difficulty)
        // leaves nothing to show: then the report is made again.
        let mut shown = None;
        for _ in 0..3 {
            browser
                .open(&format!("{}/report?lang={language}", relay.url))
                .await;
            browser.wait_for("#mode[data-mode=script]").await;
            browser.click("#organisation-demo").await;
            browser.set_value("#body", REPORT_TEXT).await;
            browser.click("#report-form button[type=submit]").await;
            shown = status_while_solving(&browser, average).await;
            if shown.is_some() {
                break;
            }
        }
        let line = shown.expect("the page showed its progress");
        assert!(line.contains(attempts), "{line}");
        browser
            .screenshot(&format!("stamp-progress-{language}"))
            .await;
        let code = browser.text("#receipt-code").await;
        assert_eq!(code.len(), 39, "{code}");
    }
}

/// A structured report in the browser: the directory's questions on the form, bad answers
/// refused next to their question (nothing stored), good ones sealed with the report, read
/// by the office and shown back to the reporter; the start page lists where else to go.
async fn structured_report_in_the_browser(javascript: bool) {
    let relay = Relay::start(RelayOptions {
        extra_config: QUICK_FORMS.into(),
        structured: true,
        ..RelayOptions::default()
    });
    let mode = if javascript { "script" } else { "no-script" };
    let (query, language) = if javascript {
        ("?lang=en", "en")
    } else {
        ("", "nl")
    };
    let browser = Browser::start(javascript).await;

    browser.open(&format!("{}/{query}", relay.url)).await;
    let channels = browser.text("#channels").await;
    assert!(channels.contains("Huis voor Klokkenluiders"), "{channels}");
    assert!(channels.contains("+31 88 1805 250"), "{channels}");
    browser
        .screenshot(&format!("start-channels-{mode}-{language}"))
        .await;

    browser.open(&format!("{}/report{query}", relay.url)).await;
    browser.wait_for(&format!("#mode[data-mode={mode}]")).await;
    browser.click("#organisation-demo").await;
    browser
        .type_into("#body", "Er verdwijnt geld bij inkoop WEB-STRUCTURED.")
        .await;
    // No kind (required), a period that ends before it starts, a short text too long.
    browser
        .set_value("#answer-demo-period-from", "2026-03-01")
        .await;
    browser
        .set_value("#answer-demo-period-to", "2026-02-01")
        .await;
    browser
        .set_value("#answer-demo-unit", &"x".repeat(1001))
        .await;
    browser.click("#report-form button[type=submit]").await;
    let required = field_error(&browser, "answer-demo-kind").await;
    let reversed = field_error(&browser, "answer-demo-period").await;
    let long = field_error(&browser, "answer-demo-unit").await;
    if javascript {
        assert!(required.contains("Answer this question"), "{required}");
        assert!(reversed.contains("ends before it starts"), "{reversed}");
        assert!(long.contains("longer than 1000"), "{long}");
    } else {
        assert!(required.contains("Beantwoord deze vraag"), "{required}");
        assert!(reversed.contains("eindigt voordat"), "{reversed}");
        assert!(long.contains("langer dan 1000"), "{long}");
        // The text and the answers typed so far are kept.
        assert_eq!(
            browser.value("#body").await,
            "Er verdwijnt geld bij inkoop WEB-STRUCTURED."
        );
        assert_eq!(
            browser.value("#answer-demo-period-from").await,
            "2026-03-01"
        );
    }
    browser
        .screenshot(&format!("report-questions-errors-{mode}-{language}"))
        .await;
    if javascript {
        let violations = browser.accessibility_violations().await;
        assert!(violations.is_empty(), "{violations:?}");
    }
    assert_eq!(stored(&relay, "mailboxes").await, 0);

    browser.click("#answer-demo-kind-fraud").await;
    browser.click("#answer-demo-areas-money").await;
    browser.click("#answer-demo-areas-safety").await;
    browser.click("#answer-demo-meeting-yes").await;
    browser
        .set_value("#answer-demo-period-to", "2026-04-30")
        .await;
    browser.set_value("#answer-demo-unit", "Inkoop Noord").await;
    browser
        .screenshot(&format!("report-questions-{mode}-{language}"))
        .await;
    browser.click("#report-form button[type=submit]").await;
    let code = browser.text("#receipt-code").await;
    assert_eq!(stored(&relay, "mailboxes").await, 1);

    let office = Office::new(&relay);
    assert_eq!(office.sync(&relay), ["report"]);
    let case = office.only_case(&relay);
    let shown = office.inbox(&relay, &["show", &case], None);
    assert_eq!(
        shown["messages"][0]["answers"],
        serde_json::json!({"areas": "money,safety", "kind": "fraud", "meeting": "yes",
            "period": "2026-03-01/2026-04-30", "unit": "Inkoop Noord"}),
        "{shown}"
    );

    submit_code(&browser, &relay.url, query, &code, javascript).await;
    browser.wait_for("dl.answers").await;
    let answers = browser.text("dl.answers").await;
    if javascript {
        assert!(
            answers.contains("Kind of misconduct") && answers.contains("Fraud"),
            "{answers}"
        );
        assert!(answers.contains("Money, Safety"), "{answers}");
    } else {
        assert!(
            answers.contains("Soort misstand") && answers.contains("Fraude"),
            "{answers}"
        );
        assert!(answers.contains("Geld, Veiligheid"), "{answers}");
    }
    browser
        .screenshot(&format!("thread-answers-{mode}-{language}"))
        .await;
    // Before closing, nothing to evaluate.
    assert!(!browser.source().await.contains("evaluation-form"));

    // The office closes the case; the reporter is invited to evaluate.
    office.inbox(&relay, &["reply", &case, "--ack"], None);
    office.inbox(&relay, &["close", &case], None);
    submit_code(&browser, &relay.url, query, &code, javascript).await;
    browser.wait_for("#evaluation-form").await;
    // An empty evaluation is refused next to its text, and nothing is sent.
    let before = stored(&relay, "messages").await;
    browser.click("#evaluation-form button[type=submit]").await;
    let empty = field_error(&browser, "evaluation-body").await;
    assert!(
        empty.contains("Answer at least one question") || empty.contains("Beantwoord minstens"),
        "{empty}"
    );
    assert_eq!(stored(&relay, "messages").await, before);
    browser.click("#answer-demo-safe-partly").await;
    browser.click("#answer-demo-informed-yes").await;
    browser.click("#answer-demo-timely-no").await;
    browser
        .type_into(
            "#evaluation-body",
            "Het duurde lang, maar ik werd serieus genomen.",
        )
        .await;
    browser
        .screenshot(&format!("thread-evaluation-{mode}-{language}"))
        .await;
    if javascript {
        let violations = browser.accessibility_violations().await;
        assert!(violations.is_empty(), "{violations:?}");
    }
    browser.click("#evaluation-form button[type=submit]").await;
    let notice = browser.text(".notice[role=status]").await;
    assert!(
        notice.contains("evaluation was sent") || notice.contains("beoordeling is verstuurd"),
        "{notice}"
    );
    office.sync(&relay);
    let shown = office.inbox(&relay, &["show", &case], None);
    let evaluation = shown["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|message| message["purpose"] == "evaluation")
        .unwrap_or_else(|| panic!("no evaluation in {shown}"));
    assert_eq!(
        evaluation["answers"],
        serde_json::json!({"informed": "yes", "safe": "partly", "timely": "no"})
    );
    assert_eq!(
        evaluation["body"],
        "Het duurde lang, maar ik werd serieus genomen."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_structured_report_without_javascript_is_checked_on_arrival_and_read_back() {
    structured_report_in_the_browser(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_structured_report_with_javascript_is_checked_and_sealed_in_the_browser() {
    structured_report_in_the_browser(true).await;
}

/// An oral report the office recorded: the reporter reads the record in the browser with the
/// code on paper and corrects it (an empty correction is refused next to its field).
async fn oral_record_in_the_browser(javascript: bool) {
    let relay = Relay::start(RelayOptions {
        extra_config: QUICK_FORMS.into(),
        ..RelayOptions::default()
    });
    let mode = if javascript { "script" } else { "no-script" };
    let (query, language) = if javascript {
        ("?lang=en", "en")
    } else {
        ("", "nl")
    };
    let office = Office::new(&relay);
    let recorded = office.inbox(
        &relay,
        &["intake", "--channel", "meeting", "--message-file", "-"],
        Some("Verslag van het gesprek: de melder zag dat keuringen werden overgeslagen."),
    );
    let code = recorded["receipt_code"].as_str().unwrap().to_owned();
    let browser = Browser::start(javascript).await;
    submit_code(&browser, &relay.url, query, &code, javascript).await;
    let record = browser.text("#record").await;
    assert!(
        record.contains("Integrity office (in a meeting)")
            || record.contains("Bureau Integriteit (in een gesprek)"),
        "{record}"
    );
    browser.click("#record-correction").await;
    let before = stored(&relay, "messages").await;
    browser.click("#record-form button[type=submit]").await;
    let empty = field_error(&browser, "record-body").await;
    assert!(
        empty.contains("Write what should be different")
            || empty.contains("Schrijf wat er anders moet"),
        "{empty}"
    );
    assert_eq!(stored(&relay, "messages").await, before);
    browser.click("#record-correction").await;
    browser
        .type_into(
            "#record-body",
            "Het ging om keuringen van liften, niet van trappen.",
        )
        .await;
    browser
        .screenshot(&format!("record-{mode}-{language}"))
        .await;
    if javascript {
        let violations = browser.accessibility_violations().await;
        assert!(violations.is_empty(), "{violations:?}");
    }
    browser.click("#record-form button[type=submit]").await;
    let notice = browser.text(".notice[role=status]").await;
    assert!(
        notice.contains("corrections were sent") || notice.contains("verbeteringen zijn verstuurd"),
        "{notice}"
    );
    office.sync(&relay);
    let case = office.only_case(&relay);
    let shown = office.inbox(&relay, &["show", &case], None);
    assert!(
        shown["oral_record"]["standing"]
            .as_str()
            .unwrap()
            .starts_with("corrected with the reporter's receipt code"),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oral_record_is_corrected_without_javascript() {
    oral_record_in_the_browser(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oral_record_is_corrected_with_javascript() {
    oral_record_in_the_browser(true).await;
}
