//! The office app with a large store: how long the case list and a long case take to render
//! (the median of repeated requests over loopback, store decryption included), and the app's
//! peak memory. `meldpunt-bench --office-app-cases 10000 --case-messages 1000`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use meldpunt_cli::store::{Case, Store, StoredMessage};
use meldpunt_crypto::{Content, Day, IdentityKey, Message, ReceiptCode, RecipientAddress};

/// Requests timed per page.
const SAMPLES: usize = 15;

fn address() -> RecipientAddress {
    RecipientAddress {
        organisation: "demo".into(),
        recipient: "integrity-office".into(),
    }
}

/// A stored message as a sync files it: `text` as the report or a follow-up of `code`.
fn stored(code: &ReceiptCode, position: u32, day: Day, text: String) -> StoredMessage {
    let content = Content::text(day, text);
    let message = if position == 1 {
        Message::report(code, vec![address()], content)
    } else {
        Message::follow_up_signed(
            &code.follow_up_signing_key(),
            code.mailbox_token().mailbox_id(),
            position,
            content,
        )
    };
    StoredMessage {
        number: u64::from(position),
        position,
        author: "reporter".into(),
        stored_on: day.to_string(),
        message_json: String::from_utf8(message.encode().expect("encodes").to_vec()).expect("JSON"),
        unverified: false,
        missing_before: 0,
        handed_over_by: None,
        hand_over: None,
        attachment_copies: Default::default(),
    }
}

/// A store of `cases` cases of one report each, and one more case of `messages` messages.
/// Returns the long case's id.
fn fill(folder: &Path, office: &IdentityKey, cases: usize, messages: u32) -> String {
    let mut store = Store::open(folder, std::slice::from_ref(office)).expect("a store");
    let day = Day::from_calendar_date(2026, 11, 2).expect("a day");
    let mut add = |index: usize, count: u32| {
        let code = ReceiptCode::generate();
        let mailbox = code.mailbox_token().mailbox_id();
        let id = format!("case{index:06}");
        let mut case = Case::new(
            id.clone(),
            mailbox,
            day,
            false,
            Vec::new(),
            &meldpunt_cli::store::Roles::default(),
        );
        case.reply_key = Some(code.reply_identity().recipient());
        case.recipients = vec![address()];
        case.messages = (1..=count)
            .map(|position| {
                stored(
                    &code,
                    position,
                    day,
                    format!("Bericht {position}: {}", "melding ".repeat(40)),
                )
            })
            .collect();
        store.state.cases.insert(id.clone(), case);
        id
    };
    for index in 0..cases {
        add(index, 1);
    }
    let long = add(cases, messages);
    store.save().expect("saved");
    long
}

/// Runs the benchmark and prints its table.
pub(crate) fn run(work: &Path, cases: usize, messages: u32) {
    let office = IdentityKey::generate();
    let identity = work.join("office.key");
    std::fs::write(
        &identity,
        format!("{}\n", office.to_secret_string().as_str()),
    )
    .expect("identity");
    let store = work.join("store");
    eprintln!("filling a store with {cases} cases and one of {messages} messages…");
    let long = fill(&store, &office, cases, messages);
    let store_size = std::fs::metadata(store.join("cases.sealed"))
        .map(|metadata| metadata.len())
        .unwrap_or(0);
    let cli = std::env::current_exe()
        .expect("own path")
        .with_file_name("meldpunt");
    assert!(
        cli.exists(),
        "build the CLI first: cargo build --release -p meldpunt-cli"
    );
    let mut child = Command::new(&cli)
        .args(["office", "--no-open", "--sync-minutes", "0", "--identity"])
        .arg(&identity)
        .arg("--store")
        .arg(&store)
        // No relay is asked: the app only syncs when told to.
        .args(["--relay", "http://127.0.0.1:9", "--directory-key", "unused"])
        .env("MELDPUNT_HOME", work.join("home"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the office app starts");
    let mut lines = BufReader::new(child.stdout.take().expect("output")).lines();
    let first = lines
        .by_ref()
        .take(10)
        .map_while(Result::ok)
        .find_map(|line| {
            let line = line.trim();
            line.starts_with("http://").then(|| line.to_owned())
        })
        .expect("the app's address");
    // The rest of what it prints is read and dropped (a closed pipe would stop it).
    std::thread::spawn(move || lines.for_each(drop));
    let origin = first.split("/?key=").next().expect("origin").to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");
    let (list, case, sizes) = runtime.block_on(async {
        let response = client.get(&first).send().await.expect("first page");
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .expect("cookie")
            .split(';')
            .next()
            .expect("cookie")
            .to_owned();
        let time = |path: String| {
            let client = client.clone();
            let cookie = cookie.clone();
            let origin = origin.clone();
            async move {
                let mut samples = Vec::new();
                let mut size = 0;
                for _ in 0..SAMPLES {
                    let started = Instant::now();
                    let response = client
                        .get(format!("{origin}{path}"))
                        .header("cookie", &cookie)
                        .send()
                        .await
                        .expect("a page");
                    assert_eq!(response.status().as_u16(), 200, "{path}");
                    size = response.bytes().await.expect("its body").len();
                    samples.push(started.elapsed());
                }
                samples.sort();
                (samples[samples.len() / 2], size)
            }
        };
        let (list, list_size) = time("/cases?lang=en".into()).await;
        let (case, case_size) = time(format!("/cases/{long}?lang=en")).await;
        (list, case, (list_size, case_size))
    });
    let peak = crate::peak_memory_kib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    println!(
        "## Office app with {cases} cases (store {:.1} MiB encrypted)\n",
        store_size as f64 / f64::from(1 << 20)
    );
    println!("| page | median ms ({SAMPLES} requests) | page KiB |");
    println!("|---|---|---|");
    println!(
        "| case list ({} cases) | {:.0} | {} |",
        cases + 1,
        list.as_secs_f64() * 1000.0,
        sizes.0 / 1024
    );
    println!(
        "| one case of {messages} messages | {:.0} | {} |",
        case.as_secs_f64() * 1000.0,
        sizes.1 / 1024
    );
    println!(
        "\nApp peak memory (VmHWM): {:.1} MiB.",
        peak as f64 / 1024.0
    );
}
