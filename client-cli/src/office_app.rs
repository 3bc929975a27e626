//! `meldpunt office`: the integrity office's local web app. The CLI process holds the
//! identity (asked for once) and reaches the encrypted case store; a browser on the same
//! workstation shows the pages this process renders. Nothing decrypted leaves the
//! workstation: the pages go over loopback to the browser and nowhere else.
//!
//! What a page on another site, or another user of the machine, gets: nothing. The app
//! listens on loopback only; every request needs this launch's random secret (in the first
//! address, traded for a `HttpOnly; SameSite=Strict` cookie); a request whose `Host` is not
//! the address served (DNS rebinding) is refused, and so is a state-changing request whose
//! `Origin` is not this app's own (another site, or another port of this machine). Pages are
//! sent with a strict CSP, no framing, no referrer beyond the app and `Cache-Control: no-store`.
//!
//! This module must never listen beyond loopback, log a message's text, or write one
//! anywhere but the encrypted store and the page it answers with; it logs nothing at all,
//! and of a connection it reads only the other end's port (to look up its user), never
//! keeping it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Form, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use maud::{html, Markup, DOCTYPE};
use meldpunt_crypto::{
    CaseChange, CaseStatus, Day, IdentityKey, Message, MessageKind, OfficeKey, RecipientAddress,
};
use rand_core::{OsRng, RngCore};
use serde::Deserialize;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::clock::today;
use crate::error::{CliError, Result};
use crate::inbox::{Inbox, SyncSummary, ACKNOWLEDGEMENT_TEXT};
use crate::register::{Count, DeadlineStanding, RegisterLine, Statistics};
use crate::store::Case;
use crate::team;

/// How the app is started.
#[derive(Debug, Clone)]
pub struct AppOptions {
    /// The loopback address to listen on (port 0: any free port).
    pub listen: SocketAddr,
    /// Whether to open the address in the default browser.
    pub open: bool,
    /// Minutes between background syncs with the relay (0: only when asked).
    pub sync_minutes: u64,
    /// Minutes without a request after which the app locks: it forgets the identity and
    /// what it read, and asks for the passphrase again (0: never).
    pub idle_minutes: u64,
}

/// What every request handler shares.
struct App {
    inbox: Inbox,
    /// The identity while unlocked; `None` once locked.
    identities: Mutex<Option<Arc<Vec<IdentityKey>>>>,
    /// When the last request came.
    last_request: Mutex<std::time::Instant>,
    /// The secret of the first address, until it is used (once).
    secret: Mutex<Option<Zeroizing<String>>>,
    /// The cookie it is traded for.
    cookie: Zeroizing<String>,
    /// The cookie's name (with the port: one launch's cookie is not another's).
    cookie_name: String,
    /// `127.0.0.1:PORT`, the only `Host` answered.
    host: String,
    /// The port served.
    port: u16,
    /// `http://127.0.0.1:PORT`, the only `Origin` a change is accepted from.
    origin: String,
    sync: Mutex<SyncState>,
    /// The store as last read, with the version it was read at: read again only when a
    /// command (this app's sync or reply, or the CLI) has written it since.
    cache: Mutex<Option<Cached>>,
}

/// The store's content as read at one version.
struct Cached {
    version: Option<[u8; 24]>,
    state: Arc<crate::store::State>,
}

/// The store as `identities` opens it now, with its version.
fn read_store(inbox: &Inbox, identities: &[IdentityKey]) -> Result<Cached> {
    let version = crate::store::Store::version(&inbox.store);
    let state = Arc::new(inbox.state(identities)?);
    Ok(Cached { version, state })
}

impl App {
    /// The identity, unless the app is locked.
    fn identities(&self) -> Result<Arc<Vec<IdentityKey>>> {
        locked(&self.identities)
            .clone()
            .ok_or_else(|| CliError::Usage("the office app is locked; unlock it first".into()))
    }

    fn is_locked(&self) -> bool {
        locked(&self.identities).is_none()
    }

    /// Forgets the identity and everything read with it.
    fn lock(&self) {
        *locked(&self.identities) = None;
        *locked(&self.cache) = None;
    }

    /// The store's content, read again only if it changed.
    fn state(&self) -> Result<Arc<crate::store::State>> {
        let version = crate::store::Store::version(&self.inbox.store);
        {
            let mut cache = locked(&self.cache);
            if let Some(cached) = cache.as_ref().filter(|cached| cached.version == version) {
                return Ok(Arc::clone(&cached.state));
            }
            // Forgotten first: two copies of a large store are never held at once.
            *cache = None;
        }
        // Read without holding the cache: the store's own lock may make this wait.
        let read = read_store(&self.inbox, &self.identities()?)?;
        let state = Arc::clone(&read.state);
        if !self.is_locked() {
            *locked(&self.cache) = Some(read);
        }
        Ok(state)
    }
}

/// What the last sync did.
#[derive(Debug, Default, Clone)]
struct SyncState {
    /// The day of the last sync that worked, and what it brought.
    last: Option<(Day, SyncSummary)>,
    /// New messages since the cases page was last shown.
    unseen: usize,
    /// Why the last sync failed, if it did.
    error: Option<String>,
}

/// A mutex's guard; one poisoned by a panic elsewhere is still used (what it guards stays
/// consistent: every holder only reads or replaces it whole).
fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Starts the app and serves until the terminal process is stopped.
pub fn run(inbox: Inbox, options: AppOptions) -> Result<()> {
    if !options.listen.ip().is_loopback() {
        return Err(CliError::Usage(format!(
            "the office app listens on this machine only: give a loopback address (127.0.0.1 or ::1), not {}",
            options.listen.ip()
        )));
    }
    let identities = crate::input::identities(&inbox.identity)?;
    // The store must open with this identity before anything is served; what it holds is
    // what the first page shows.
    let read = read_store(&inbox, &identities)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| CliError::Local(format!("cannot start the app: {error}")))?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(options.listen))
        .map_err(|error| {
            CliError::Local(format!("cannot listen on {}: {error}", options.listen))
        })?;
    let address = listener
        .local_addr()
        .map_err(|error| CliError::Local(error.to_string()))?;
    // The address bound, as browsers write it in `Host` (`127.0.0.1:PORT`, `[::1]:PORT`).
    let host = address.to_string();
    let app = Arc::new(App {
        inbox,
        identities: Mutex::new(Some(Arc::new(identities))),
        last_request: Mutex::new(std::time::Instant::now()),
        secret: Mutex::new(Some(random_secret())),
        cookie: random_secret(),
        cookie_name: format!("meldpunt_office_{}", address.port()),
        origin: format!("http://{host}"),
        host,
        port: address.port(),
        sync: Mutex::new(SyncState::default()),
        cache: Mutex::new(Some(read)),
    });
    let first = format!(
        "{}/?key={}",
        app.origin,
        locked(&app.secret)
            .as_deref()
            .map(String::as_str)
            .unwrap_or_default()
    );
    println!(
        "The office app runs at {}/ on this computer only.",
        app.origin
    );
    println!(
        "Open it with this address (it holds this launch's key, which works once; do not share it):\n  {first}"
    );
    println!("Stop it with Ctrl-C: it then forgets the identity.");
    if options.open {
        open_in_browser(&first);
    }
    let served = runtime.block_on(serve(Arc::clone(&app), listener, &options));
    // The runtime goes before the app: the app's relay client owns a runtime of its own,
    // which may not be dropped inside another. Work still under way gets a moment.
    runtime.shutdown_timeout(Duration::from_secs(2));
    drop(app);
    served
}

async fn serve(
    app: Arc<App>,
    listener: tokio::net::TcpListener,
    options: &AppOptions,
) -> Result<()> {
    let sync_minutes = options.sync_minutes;
    let idle = Duration::from_secs(options.idle_minutes * 60);
    let watching = Arc::clone(&app);
    let idle_lock = tokio::spawn(async move {
        if idle.is_zero() {
            return;
        }
        let mut interval = tokio::time::interval(Duration::from_secs(15));
        loop {
            interval.tick().await;
            let quiet = locked(&watching.last_request).elapsed();
            if quiet >= idle && !watching.is_locked() {
                watching.lock();
            }
        }
    });
    let syncing = Arc::clone(&app);
    let background = tokio::spawn(async move {
        if sync_minutes == 0 {
            return;
        }
        let mut interval = tokio::time::interval(Duration::from_secs(sync_minutes * 60));
        loop {
            interval.tick().await;
            if !syncing.is_locked() {
                sync_now(&syncing).await;
            }
        }
    });
    let router = router(Arc::clone(&app));
    let serving = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    // Ctrl-C stops it: requests under way get two seconds (a download the browser paused
    // does not keep the identity alive).
    let outcome = tokio::select! {
        served = serving => served
            .map_err(|error| CliError::Local(format!("the office app stopped: {error}"))),
        () = async {
            let _ = tokio::signal::ctrl_c().await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        } => Ok(()),
    };
    background.abort();
    idle_lock.abort();
    outcome
}

fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(start))
        .route("/cases", get(cases))
        .route("/cases/{id}", get(case))
        .route(
            "/cases/{id}/reply",
            post(reply).layer(axum::extract::DefaultBodyLimit::max(
                MOST_ATTACHMENT_BYTES + (1 << 20),
            )),
        )
        .route("/cases/{id}/attachments/{location}", get(attachment))
        .route("/cases/{id}/close", post(close))
        .route("/cases/{id}/export", post(export))
        .route("/cases/{id}/reopen", post(reopen))
        .route("/cases/{id}/team", post(team_change))
        .route("/cases/{id}/guide", post(appoint_guide))
        .route("/cases/{id}/purge", post(purge))
        .route("/sync", post(sync))
        .route("/settings", get(settings))
        .route("/intake", get(intake_page).post(intake))
        .route("/register", get(register))
        .route("/register.csv", get(register_csv))
        .route("/stats", get(stats))
        .route("/lock", post(lock))
        .route("/unlock", get(unlock_page).post(unlock))
        .route("/app.css", get(stylesheet))
        .route("/app.js", get(script))
        .route("/status", get(status))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            guard,
        ))
        .with_state(app)
}

fn random_secret() -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(&mut *bytes);
    Zeroizing::new(URL_SAFE_NO_PAD.encode(*bytes))
}

fn open_in_browser(address: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(target_os = "windows") {
        "explorer"
    } else {
        "xdg-open"
    };
    let started = std::process::Command::new(opener)
        .arg(address)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if started.is_err() {
        println!("(No browser could be opened here: open the address above yourself.)");
    }
}

/// Every request: the right `Host`, this launch's cookie (or secret, on the first page),
/// changes from this app's own pages only; every answer with the app's headers.
async fn guard(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    // Only the other end's port is read (to look up its user); the address is neither kept
    // nor logged: it is always this machine's loopback anyway.
    let peer_port = request
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|info| info.0.port());
    let mut response = if !peer_port.is_some_and(|peer_port| peer_is_this_user(peer_port, app.port))
    {
        refusal(
            StatusCode::FORBIDDEN,
            "The office app answers only its own user on this computer.",
        )
    } else if host != app.host {
        refusal(
            StatusCode::MISDIRECTED_REQUEST,
            "This address is not the office app's. Open the address printed in the terminal.",
        )
    } else if request.method() != Method::GET && !same_origin(headers, &app.origin) {
        refusal(
            StatusCode::FORBIDDEN,
            "This request came from another site or page and was not carried out.",
        )
    } else if request.uri().path() != "/" && !has_cookie(headers, &app) {
        refusal(
            StatusCode::UNAUTHORIZED,
            "Open the office app with the address printed in the terminal where it was started.",
        )
    } else if app.is_locked() && !["/unlock", "/app.css"].contains(&request.uri().path()) {
        let language = if request
            .uri()
            .query()
            .unwrap_or_default()
            .contains("lang=en")
        {
            "en"
        } else {
            "nl"
        };
        Redirect::to(&format!("/unlock?lang={language}")).into_response()
    } else {
        // The page's own polling is not use: it must not keep the app from locking.
        if request.uri().path() != "/status" {
            *locked(&app.last_request) = std::time::Instant::now();
        }
        next.run(request).await
    };
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::CACHE_CONTROL, "no-store"),
        // Not `no-referrer`: with it, browsers send `Origin: null` with the app's own forms,
        // which could not be told from a sandboxed page elsewhere.
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Whether the other end of a loopback connection to `port` belongs to a process of the user
/// running the app. Browsers send the app's cookie to every port of 127.0.0.1, so another
/// user's server could be handed it; this keeps that user out even with the cookie. Read
/// from the kernel's socket tables (`/proc/net/tcp`, `tcp6`: Linux); where there are none,
/// not known, and allowed.
fn peer_is_this_user(peer_port: u16, port: u16) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let Ok(own) = std::fs::metadata("/proc/self").map(|metadata| metadata.uid()) else {
            return true;
        };
        let tables: Vec<String> = ["/proc/net/tcp", "/proc/net/tcp6"]
            .iter()
            .filter_map(|path| std::fs::read_to_string(path).ok())
            .collect();
        if tables.is_empty() {
            return true;
        }
        let wanted_local = format!(":{peer_port:04X}");
        let wanted_remote = format!(":{port:04X}");
        tables
            .iter()
            .flat_map(|table| table.lines().skip(1))
            .filter_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let (local, remote, uid) = (fields.get(1)?, fields.get(2)?, fields.get(7)?);
                (local.ends_with(&wanted_local) && remote.ends_with(&wanted_remote))
                    .then(|| uid.parse::<u32>().ok())
                    .flatten()
            })
            .any(|uid| uid == own)
    }
    #[cfg(not(unix))]
    {
        let _ = (peer_port, port);
        true
    }
}

/// Whether a change comes from this app's own pages: its `Origin` (every current browser
/// sends one with a form post), else `Sec-Fetch-Site: same-origin`.
fn same_origin(headers: &HeaderMap, origin: &str) -> bool {
    match headers.get(header::ORIGIN) {
        Some(value) => value.as_bytes() == origin.as_bytes(),
        None => headers
            .get("sec-fetch-site")
            .is_some_and(|value| value.as_bytes() == b"same-origin"),
    }
}

fn has_cookie(headers: &HeaderMap, app: &App) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .any(|(name, value)| {
            name == app.cookie_name && bool::from(value.as_bytes().ct_eq(app.cookie.as_bytes()))
        })
}

fn refusal(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

/// The language of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Language {
    #[default]
    Dutch,
    English,
}

impl Language {
    fn from_query(code: Option<&str>) -> Language {
        match code {
            Some("en") => Language::English,
            _ => Language::Dutch,
        }
    }

    fn code(self) -> &'static str {
        match self {
            Language::Dutch => "nl",
            Language::English => "en",
        }
    }

    /// The Dutch or the English text.
    fn pick(self, dutch: &'static str, english: &'static str) -> &'static str {
        match self {
            Language::Dutch => dutch,
            Language::English => english,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    lang: Option<String>,
    key: Option<String>,
    status: Option<String>,
    overdue: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

#[derive(Debug, Deserialize)]
struct LanguageForm {
    lang: Option<String>,
}

/// The close form: whether to tell the reporter, and the closing message.
#[derive(Debug, Deserialize)]
struct CloseForm {
    lang: Option<String>,
    tell: Option<String>,
    body: Option<String>,
}

/// `POST /cases/{id}/purge`: only with the box ticked that says it cannot be undone.
#[derive(Debug, Deserialize)]
struct PurgeForm {
    lang: Option<String>,
    confirm: Option<String>,
}

/// `POST /cases/{id}/team`: one change to the case's shared state. No `Debug`: a note's
/// text must never reach a log or an error.
#[derive(Deserialize)]
struct TeamForm {
    lang: Option<String>,
    /// `status`, `assign`, `add-label`, `remove-label` or `note`.
    action: String,
    /// The status, the assignee's office key (empty: nobody), the label or the note.
    #[serde(default)]
    value: Zeroizing<String>,
}

#[derive(Debug, Deserialize)]
struct ExportForm {
    lang: Option<String>,
    folder: String,
}

/// Most a reply's attachments may hold together, in the app (they are read into memory,
/// then sealed): larger files go with `meldpunt inbox reply --attach`, which streams.
const MOST_ATTACHMENT_BYTES: usize = 256 << 20;

/// `GET /`: the first address trades its secret for the cookie; then on to the cases.
async fn start(State(app): State<Arc<App>>, Query(query): Query<PageQuery>) -> Response {
    let language = Language::from_query(query.lang.as_deref());
    let cases = format!("/cases?lang={}", language.code());
    let offered = query.key.unwrap_or_default();
    // The key works once: an address seen elsewhere afterwards (in a process list, a
    // browser's history) opens nothing.
    let accepted = {
        let mut secret = locked(&app.secret);
        let matches = secret
            .as_ref()
            .is_some_and(|secret| bool::from(offered.as_bytes().ct_eq(secret.as_bytes())));
        if matches {
            *secret = None;
        }
        matches
    };
    if accepted {
        let cookie = format!(
            "{}={}; HttpOnly; SameSite=Strict; Path=/",
            app.cookie_name,
            app.cookie.as_str()
        );
        let mut response = Redirect::to(&cases).into_response();
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
        return response;
    }
    refusal(
        StatusCode::UNAUTHORIZED,
        "Open the office app with the address printed in the terminal where it was started. \
         That address works once: to open the app in another browser, stop it and start it again.",
    )
}

/// Runs a blocking inbox operation off the async threads.
async fn blocking<T: Send + 'static>(
    app: &Arc<App>,
    work: impl FnOnce(&App) -> Result<T> + Send + 'static,
) -> Result<T> {
    let app = Arc::clone(app);
    tokio::task::spawn_blocking(move || work(&app))
        .await
        .map_err(|_| CliError::Local("the operation failed".into()))?
}

async fn sync_now(app: &Arc<App>) {
    let outcome = blocking(app, |app| app.inbox.sync_with(&app.identities()?)).await;
    let mut state = locked(&app.sync);
    match outcome {
        Ok(summary) => {
            state.unseen += summary.arrived;
            state.last = Some((today(), summary));
            state.error = None;
        }
        Err(error) => state.error = Some(error.to_string()),
    }
}

/// `GET /cases`: every case, overdue ones first and marked; filters by status and overdue.
async fn cases(State(app): State<Arc<App>>, Query(query): Query<PageQuery>) -> Response {
    let language = Language::from_query(query.lang.as_deref());
    let sync = {
        let mut state = locked(&app.sync);
        let shown = state.clone();
        state.unseen = 0;
        shown
    };
    let shown = sync.clone();
    let rendered = blocking(&app, move |app| {
        let state = app.state()?;
        Ok(cases_body(
            language,
            state.cases.values(),
            state.aftercare_months,
            &query,
            &shown,
        ))
    })
    .await;
    match rendered {
        Ok(body) => page(
            language,
            "/cases",
            language.pick("Meldingen", "Cases"),
            &sync,
            body,
        ),
        Err(error) => failure(language, &error),
    }
}

fn cases_body<'a>(
    language: Language,
    cases: impl Iterator<Item = &'a Case>,
    aftercare_months: u32,
    query: &PageQuery,
    sync: &SyncState,
) -> Markup {
    let today = today();
    let status_filter = query.status.as_deref().filter(|status| !status.is_empty());
    let overdue_only = query.overdue.is_some();
    let mut cases: Vec<(usize, &Case)> = cases
        .map(|case| (case.overdue(today).len(), case))
        .filter(|(overdue, case)| {
            status_filter.is_none_or(|status| case.current_status().as_str() == status)
                && (!overdue_only || *overdue > 0)
        })
        .collect();
    cases.sort_by(|(first_overdue, first), (second_overdue, second)| {
        second_overdue
            .cmp(first_overdue)
            .then(second.last_activity.cmp(&first.last_activity))
    });
    let lang = language.code();
    html! {
        form method="post" action="/sync" class="sync" {
            input type="hidden" name="lang" value=(lang);
            button type="submit" { (language.pick("Nu ophalen", "Sync now")) }
            @if let Some((day, summary)) = &sync.last {
                " " span { (language.pick("Laatst opgehaald", "Last synced")) " " (day) ": " (summary.arrived) " " (language.pick("nieuw", "new")) }
            }
        }
        form method="get" action="/cases" class="filters" {
            input type="hidden" name="lang" value=(lang);
            label for="status" { (language.pick("Status", "Status")) }
            select id="status" name="status" {
                option value="" { (language.pick("alle", "all")) }
                @for status in CaseStatus::ALL {
                    option value=(status.as_str()) selected[status_filter == Some(status.as_str())] { (status_label(language, status)) }
                }
            }
            label { input type="checkbox" name="overdue" value="1" checked[overdue_only]; " " (language.pick("alleen te laat", "overdue only")) }
            button type="submit" { (language.pick("Toon", "Show")) }
        }
        @if cases.is_empty() {
            p { (language.pick("Geen meldingen.", "No cases.")) }
        } @else {
            @let (consultations, reports): (Vec<&Case>, Vec<&Case>) =
                cases.iter().map(|(_, case)| *case).partition(|case| case.is_consultation());
            @if !reports.is_empty() {
                (cases_table(language, language.pick("Meldingen, te late eerst", "Cases, overdue first"), &reports, Some(aftercare_months)))
            }
            @if !consultations.is_empty() {
                h2 id="consultations" { (language.pick("Adviesgesprekken", "Consultations")) }
                p class="hint" { (language.pick(
                    "Gesprekken met een vertrouwenspersoon: geen melding, geen wettelijke termijnen. Alleen de gekozen vertrouwenspersonen lezen ze.",
                    "Conversations with a confidential adviser: not reports, no legal deadlines. Only the advisers chosen read them."
                )) }
                (cases_table(language, language.pick("Adviesgesprekken, laatste eerst", "Consultations, latest first"), &consultations, None))
            }
        }
    }
}

/// One table of cases; `aftercare_months`, for reports, adds the legal deadlines and the
/// aftercare check-in (never a consultation's).
fn cases_table(
    language: Language,
    caption: &str,
    cases: &[&Case],
    aftercare_months: Option<u32>,
) -> Markup {
    let deadlines = aftercare_months.is_some();
    let today = today();
    let lang = language.code();
    html! {
        table {
            caption { (caption) }
            thead { tr {
                th scope="col" { (language.pick("Melding", "Case")) }
                th scope="col" { (language.pick("Status", "Status")) }
                th scope="col" { (language.pick("Toegewezen aan", "Assigned to")) }
                th scope="col" { (language.pick("Labels", "Labels")) }
                th scope="col" { (language.pick("Ontvangen", "Received")) }
                th scope="col" { (language.pick("Laatste bericht", "Last activity")) }
                @if deadlines {
                    th scope="col" { (language.pick("Ontvangstbevestiging voor", "Acknowledge by")) }
                    th scope="col" { (language.pick("Terugkoppeling voor", "Feedback by")) }
                }
                th scope="col" { (language.pick("Let op", "Attention")) }
            } }
            tbody {
                @for case in cases {
                    @let overdue = case.overdue(today);
                    tr class=[(!overdue.is_empty()).then_some("overdue")] {
                        td { a href={ "/cases/" (case.id) "?lang=" (lang) } { (case.id) } }
                        td { (status_label(language, case.current_status())) }
                        td { @if let Some(key) = &case.team.assignee { span class="key" title=(key.to_string()) { (crate::inbox::short_key(key)) } } }
                        td { (case.team.labels.join(", ")) }
                        td { (case.received_on) }
                        td { (case.last_activity) }
                        @if deadlines {
                            td { @if case.acknowledged_on.is_some() { (language.pick("gedaan", "done")) } @else { (case.acknowledgement_due()) } }
                            td { @if case.feedback_on.is_some() { (language.pick("gedaan", "done")) } @else { (case.feedback_due()) } }
                        }
                        td {
                            @for what in &overdue {
                                strong { (language.pick("TE LAAT: ", "OVERDUE: ")) (overdue_label(language, what)) } " "
                            }
                            @if let Some((due, None)) = aftercare_months.and_then(|months| case.aftercare(months)) {
                                @if today > due {
                                    strong { (language.pick("TE LAAT: nazorg", "OVERDUE: aftercare")) } " "
                                } @else {
                                    span { (language.pick("nazorg voor ", "aftercare by ")) (due) } " "
                                }
                            }
                            @if !case.quarantined.is_empty() {
                                span { (case.quarantined.len()) " " (language.pick("apart gezet", "quarantined")) }
                            }
                            @if case.is_partial() { " " span { (language.pick("gedeeltelijk", "partial")) } }
                        }
                    }
                }
            }
        }
    }
}

fn status_label(language: Language, status: CaseStatus) -> &'static str {
    match status {
        CaseStatus::New => language.pick("nieuw", "new"),
        CaseStatus::Acknowledged => language.pick("ontvangst bevestigd", "acknowledged"),
        CaseStatus::InInvestigation => language.pick("in onderzoek", "in investigation"),
        CaseStatus::FeedbackGiven => language.pick("terugkoppeling gegeven", "feedback given"),
        CaseStatus::Closed => language.pick("gesloten", "closed"),
        CaseStatus::Aftercare => language.pick("nazorg", "aftercare"),
    }
}

/// A team history line's change, in the page's language (a note's text included).
fn change_label(language: Language, change: &CaseChange) -> String {
    match change {
        CaseChange::Status(status) => format!(
            "{} {}",
            language.pick("status:", "status:"),
            status_label(language, *status)
        ),
        CaseChange::Assignee(Some(key)) => format!(
            "{} {}",
            language.pick("toegewezen aan", "assigned to"),
            crate::inbox::short_key(key)
        ),
        CaseChange::Assignee(None) => language
            .pick("aan niemand toegewezen", "assigned to nobody")
            .to_owned(),
        CaseChange::AddLabel(label) => {
            format!("{} {label}", language.pick("label erbij:", "label added:"))
        }
        CaseChange::RemoveLabel(label) => {
            format!("{} {label}", language.pick("label eraf:", "label removed:"))
        }
        CaseChange::Note(text) => {
            format!("{} {}", language.pick("notitie:", "note:"), text.as_str())
        }
    }
}

/// The team part of a case's page: status, assignee, labels, notes and who changed what.
fn team_section(
    language: Language,
    case: &Case,
    signers: &[(RecipientAddress, OfficeKey)],
    own: &OfficeKey,
    own_address: Option<&RecipientAddress>,
    process_guides: &[RecipientAddress],
) -> Markup {
    let lang = language.code();
    let history = team::history(case, signers, own_address);
    let action = format!("/cases/{}/team", case.id);
    let colleagues: Vec<&OfficeKey> = signers
        .iter()
        .filter(|(address, _)| case.recipients.is_empty() || case.recipients.contains(address))
        .map(|(_, key)| key)
        .collect();
    html! {
        h2 { (language.pick("Team", "Team")) }
        p class="meta" { (language.pick(
            "Alleen voor het team: de melder ziet status, toewijzing, labels en notities nooit.",
            "For the team only: the reporter never sees status, assignment, labels or notes.")) }
        div class="team" {
            form method="post" action=(action) {
                input type="hidden" name="lang" value=(lang);
                input type="hidden" name="action" value="status";
                label for="team-status" { (language.pick("Status", "Status")) }
                select id="team-status" name="value" {
                    @for status in CaseStatus::ALL {
                        option value=(status.as_str()) selected[case.current_status() == status] { (status_label(language, status)) }
                    }
                }
                button type="submit" { (language.pick("Zet status", "Set status")) }
            }
            form method="post" action=(action) {
                input type="hidden" name="lang" value=(lang);
                input type="hidden" name="action" value="assign";
                label for="team-assignee" { (language.pick("Toegewezen aan", "Assigned to")) }
                select id="team-assignee" name="value" {
                    option value="" selected[case.team.assignee.is_none()] { (language.pick("niemand", "nobody")) }
                    @for key in &colleagues {
                        option value=(key.to_string()) selected[case.team.assignee.as_ref() == Some(*key)] {
                            (crate::inbox::short_key(key))
                            @if *key == own { " " (language.pick("(u)", "(you)")) }
                        }
                    }
                }
                button type="submit" { (language.pick("Wijs toe", "Assign")) }
            }
            form method="post" action=(action) {
                input type="hidden" name="lang" value=(lang);
                input type="hidden" name="action" value="add-label";
                label for="team-label" { (language.pick("Label", "Label")) }
                input type="text" id="team-label" name="value" maxlength="40" required;
                button type="submit" { (language.pick("Voeg toe", "Add")) }
            }
            @if !case.team.labels.is_empty() {
                p { (language.pick("Labels: ", "Labels: "))
                    @for label in &case.team.labels {
                        form method="post" action=(action) class="inline" {
                            input type="hidden" name="lang" value=(lang);
                            input type="hidden" name="action" value="remove-label";
                            input type="hidden" name="value" value=(label);
                            span class="label" { (label) } " "
                            button type="submit" aria-label={ (language.pick("Verwijder label ", "Remove label ")) (label) } { "×" }
                        }
                    }
                }
            }
            form method="post" action=(action) {
                input type="hidden" name="lang" value=(lang);
                input type="hidden" name="action" value="note";
                label for="team-note" { (language.pick("Interne notitie", "Internal note")) }
                textarea id="team-note" name="value" rows="3" required {}
                button type="submit" { (language.pick("Voeg notitie toe", "Add note")) }
            }
        }
        @if case.has_report() && !case.is_consultation() && !process_guides.is_empty() {
            h3 { (language.pick("Procesbegeleider", "Process guide")) }
            @if !case.check.guides().is_empty() {
                p { (language.pick("Begeleidt deze melding: ", "Accompanies this case: "))
                    @for guide in case.check.guides() {
                        form method="post" action={ "/cases/" (case.id) "/guide" } class="inline" {
                            input type="hidden" name="lang" value=(lang);
                            input type="hidden" name="guide" value=(guide.recipient);
                            input type="hidden" name="remove" value="1";
                            span class="label" { (guide.recipient) } " "
                            button type="submit" class="secondary" { (language.pick("Beëindig begeleiding", "End guidance")) }
                        }
                    }
                }
            }
            form method="post" action={ "/cases/" (case.id) "/guide" } {
                input type="hidden" name="lang" value=(lang);
                label for="guide" { (language.pick(
                    "Wijs een procesbegeleider aan (de melder hoort het, de geschiedenis wordt aan de begeleider overgedragen)",
                    "Appoint a process guide (the reporter is told; the history is handed over to the guide)")) }
                select id="guide" name="guide" {
                    @for guide in process_guides {
                        option value=(guide.recipient) { (guide.recipient) }
                    }
                }
                button type="submit" { (language.pick("Wijs aan", "Appoint")) }
            }
        }
        @if !history.is_empty() {
            h3 { (language.pick("Wie wat veranderde", "Who changed what")) }
            ol class="team-history" {
                @for entry in &history {
                    li class=[entry.standing.is_some().then_some("not-counted")] {
                        span class="meta" { (entry.written_on) " · " (entry.from) " · " span class="key" title=(entry.signer.to_string()) { (crate::inbox::short_key(&entry.signer)) } }
                        " " span class="change" {
                            @if entry.standing.is_some() && matches!(entry.change, CaseChange::Note(_)) {
                                (language.pick("notitie (niet getoond)", "note (not shown)"))
                            } @else {
                                (change_label(language, &entry.change))
                            }
                        }
                        @if let Some(why) = &entry.standing {
                            " " strong { (language.pick("telt niet: ", "does not count: ")) (why) }
                        }
                    }
                }
            }
        }
        @if case.team.missing > 0 {
            p class="notice" role="alert" { (case.team.missing) " " (language.pick(
                "teamregistratie(s) ontbreken vóór latere (achtergehouden door de relay?).",
                "of the team's records are missing before later ones (withheld by the relay?).")) }
        }
    }
}

fn overdue_label(language: Language, what: &str) -> &'static str {
    match what {
        "acknowledgement" => language.pick("ontvangstbevestiging", "acknowledgement"),
        _ => language.pick("terugkoppeling", "feedback"),
    }
}

/// `GET /cases/{id}`: the whole thread, and what the office can do.
async fn case(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
) -> Response {
    let language = Language::from_query(query.lang.as_deref());
    let wanted = id.clone();
    let rendered = blocking(&app, move |app| {
        let identities = app.identities()?;
        let state = app.state()?;
        Ok(state
            .cases
            .get(&wanted)
            .map(|case| case_body(language, case, &state, &identities)))
    })
    .await;
    let sync = locked(&app.sync).clone();
    match rendered {
        Ok(Some(body)) => page(
            language,
            &format!("/cases/{id}"),
            &format!("{} {id}", language.pick("Melding", "Case")),
            &sync,
            body,
        ),
        Ok(None) => failure(
            language,
            &CliError::Usage(format!("no case {id} in this store")),
        ),
        Err(error) => failure(language, &error),
    }
}

fn author_label(language: Language, message: &Message) -> String {
    match &message.kind {
        MessageKind::Report {
            conversation: meldpunt_crypto::Conversation::Consultation,
            ..
        } => language
            .pick("melder (vraag)", "reporter (question)")
            .into(),
        MessageKind::Report { .. } if message.recording.is_some() => language
            .pick(
                "verslag van een mondelinge melding",
                "record of an oral report",
            )
            .into(),
        MessageKind::Report { .. } => language
            .pick("melder (melding)", "reporter (report)")
            .into(),
        MessageKind::FollowUp { .. } if message.purpose == meldpunt_crypto::Purpose::Evaluation => {
            language
                .pick(
                    "melder (beoordeling van het proces)",
                    "reporter (evaluation of the process)",
                )
                .into()
        }
        MessageKind::FollowUp { .. }
            if message.purpose == meldpunt_crypto::Purpose::Confirmation =>
        {
            language
                .pick(
                    "melder (bevestigt het verslag)",
                    "reporter (confirms the record)",
                )
                .into()
        }
        MessageKind::FollowUp { .. } if message.purpose == meldpunt_crypto::Purpose::Correction => {
            language
                .pick(
                    "melder (corrigeert het verslag)",
                    "reporter (corrects the record)",
                )
                .into()
        }
        MessageKind::FollowUp { .. } => language
            .pick("melder (aanvulling)", "reporter (follow-up)")
            .into(),
        MessageKind::Reply { from, .. } if message.purpose == meldpunt_crypto::Purpose::Closing => {
            format!(
                "{} ({})",
                from.recipient,
                language.pick("afsluitend bericht", "closing message")
            )
        }
        MessageKind::Reply { from, .. } => format!(
            "{} ({})",
            from.recipient,
            language.pick("antwoord", "reply")
        ),
        MessageKind::Acknowledgement { from, .. } => format!(
            "{} ({})",
            from.recipient,
            language.pick("ontvangstbevestiging", "acknowledgement")
        ),
    }
}

fn case_body(
    language: Language,
    case: &Case,
    state: &crate::store::State,
    identities: &[IdentityKey],
) -> Markup {
    let signers = &state.office_signers[..];
    let own_address = state.address();
    let own_address = own_address.as_ref();
    let process_guides = &state.roles.process_guides[..];
    let aftercare_months = state.aftercare_months;
    let own = &identities[0].office_signing_key().office_key();
    let lang = language.code();
    let today = today();
    let overdue = case.overdue(today);
    html! {
        p { a href={ "/cases?lang=" (lang) } { (language.pick("← Alle meldingen", "← All cases")) } }
        dl class="facts" {
            dt { (language.pick("Status", "Status")) } dd { (status_label(language, case.current_status())) }
            dt { (language.pick("Toegewezen aan", "Assigned to")) }
            dd { @if let Some(key) = &case.team.assignee { span class="key" title=(key.to_string()) { (crate::inbox::short_key(key)) } } @else { (language.pick("niemand", "nobody")) } }
            dt { (language.pick("Ontvangen", "Received")) } dd { (case.received_on) }
            @if let Some(record) = case.record() {
                dt { (language.pick("Mondelinge melding", "Oral report")) }
                dd id="oral-record" {
                    (match record.channel {
                        meldpunt_crypto::Channel::Telephone => language.pick("telefonisch", "by telephone"),
                        meldpunt_crypto::Channel::Meeting => language.pick("in een gesprek", "in a meeting"),
                    })
                    ", " (language.pick("vastgelegd door ", "recorded by ")) (record.by.recipient)
                    @if !record.verified { " " strong { (language.pick("(NIET TE CONTROLEREN: de sleutel staat niet in de lijst)", "(NOT VERIFIED: the key is not in the directory)")) } }
                    " — "
                    @match record.standing {
                        crate::store::RecordStanding::Awaiting => strong { (language.pick("wacht op bevestiging door de melder", "awaiting the reporter's confirmation")) },
                        crate::store::RecordStanding::Confirmed(day) => { (language.pick("bevestigd met de ontvangstcode van de melder op ", "confirmed with the reporter's receipt code on ")) (day) },
                        crate::store::RecordStanding::Corrected(day) => strong { (language.pick("GECORRIGEERD met de ontvangstcode van de melder op ", "CORRECTED with the reporter's receipt code on ")) (day) (language.pick(": pas het verslag aan", ": amend the record")) },
                    }
                }
            }
            dt { (language.pick("Bewaren tot", "Kept until")) }
            dd {
                @if let Some(day) = case.purged_on {
                    (language.pick("inhoud verwijderd op ", "content purged on ")) (day)
                } @else if let Some(hold) = &case.legal_hold {
                    strong { (language.pick("juridische bewaarplicht", "legal hold")) } " (" (language.pick("sinds ", "since ")) (hold.decided_on) "): " (hold.reason.as_str())
                } @else {
                    @match case.retention_until(state.retention_months) {
                        Some(until) => { (until) }
                        None => { (language.pick("zolang de melding open is", "while the case is open")) }
                    }
                    @if let Some(decision) = &case.retention {
                        " (" (language.pick("gewijzigd op ", "changed on ")) (decision.decided_on) ": " (decision.reason.as_str()) ")"
                    }
                }
            }
            @if let Some(deletion) = case.relay_deletion(state.relay_retention_days) {
                dt { (language.pick("De relay verwijdert de brievenbus op", "The relay deletes the mailbox on")) }
                dd { @if deletion <= today.plus_days(30) { strong { (deletion) } " " (language.pick("— schrijf de melder of exporteer de zaak", "— write to the reporter or export the case")) } @else { (deletion) } }
            }
            @if let Some((due, done)) = case.aftercare(aftercare_months) {
                dt { (language.pick("Nazorg: contact met de melder", "Aftercare check-in")) }
                dd { @match done {
                    Some(day) => { (language.pick("gedaan op ", "done on ")) (day) }
                    None if today > due => { strong { (language.pick("TE LAAT: ", "OVERDUE: ")) } (due) }
                    None => { (language.pick("voor ", "by ")) (due) }
                } }
            }
            @if case.is_consultation() {
                dt { (language.pick("Soort", "Kind")) }
                dd { (language.pick(
                    "adviesgesprek met een vertrouwenspersoon: geen melding, geen wettelijke termijnen",
                    "consultation with a confidential adviser: not a report, no legal deadlines")) }
            } @else {
                dt { (language.pick("Ontvangstbevestiging voor", "Acknowledge by")) }
                dd { @if let Some(day) = case.acknowledged_on { (language.pick("gedaan op ", "done on ")) (day) } @else { (case.acknowledgement_due()) } }
                dt { (language.pick("Terugkoppeling voor", "Feedback by")) }
                dd { @if let Some(day) = case.feedback_on { (language.pick("gedaan op ", "done on ")) (day) } @else { (case.feedback_due()) } }
            }
        }
        @for what in &overdue {
            p class="notice" role="alert" { strong { (language.pick("TE LAAT: ", "OVERDUE: ")) (overdue_label(language, what)) } }
        }
        @if case.is_partial() {
            p class="notice" { (language.pick(
                "Gedeeltelijk: het begin van dit gesprek werd versleuteld voordat uw sleutel in de lijst stond. Een collega die de zaak heeft, draagt die aan u over met meldpunt inbox hand-over.",
                "Partial: the beginning of this conversation was sealed before your key was in the directory. A colleague who holds the case hands it over to you with meldpunt inbox hand-over.")) }
        }
        h2 { (language.pick("Gesprek", "Conversation")) }
        ol class="thread" {
            @for stored in &case.messages {
                li {
                    @match stored.message() {
                        Ok(message) => {
                            p class="meta" {
                                strong { (author_label(language, &message)) } " · " (stored.stored_on)
                                @if stored.unverified { " · " (language.pick("niet geverifieerd", "not verified")) }
                                @if let Some(key) = &stored.handed_over_by {
                                    " · " span title=(key.to_string()) { (language.pick("overgedragen door een collega", "handed over by a colleague")) }
                                }
                                @if stored.missing_before > 0 {
                                    " · " strong { (stored.missing_before) " " (language.pick("eerdere bericht(en) ontbreken", "earlier message(s) missing")) }
                                }
                            }
                            pre class="body" { (message.body.as_str()) }
                            @if !message.answers.is_empty() {
                                dl class="answers" aria-label=(language.pick("Antwoorden op de vragen", "Answers to the questions")) {
                                    @for described in meldpunt_crypto::describe_answers(state.questions_for(&message), &message.answers) {
                                        dt {
                                            @match &described.label {
                                                Some(label) => { (if language == Language::Dutch { &label.nl } else { &label.en }) }
                                                None => { (described.question) " " span class="meta" { (language.pick("(niet meer in de vragenlijst)", "(no longer in the questionnaire)")) } }
                                            }
                                        }
                                        dd { (described.value.iter().map(|part| part.in_language(language == Language::Dutch)).collect::<Vec<_>>().join(", ")) }
                                    }
                                }
                            }
                            @if let Some(with) = crate::reporter::shared_with(&message) {
                                @match crate::inbox::shared_identity(&message, identities) {
                                    Some(identity) => {
                                        p class="notice" { strong { (language.pick("Identiteit van de melder, alleen met u gedeeld", "The reporter's identity, shared with you only")) } " (" (with) ")" }
                                        pre class="body identity" { (identity.as_str()) }
                                    }
                                    None => p class="meta" { (language.pick("De melder deelde zijn of haar identiteit alleen met ", "The reporter shared their identity with ")) (with) (language.pick("; u kunt die niet lezen.", " only; you cannot read it.")) }
                                }
                            }
                            @if !message.attachments.is_empty() {
                                p { (language.pick("Bijlagen: ", "Attachments: "))
                                    @for attachment in &message.attachments {
                                        a class="attachment" download href={ "/cases/" (case.id) "/attachments/" (attachment.location) "?lang=" (lang) } {
                                            (attachment.name) " (" (attachment.size) " bytes)"
                                        } " "
                                    }
                                }
                            }
                            (carried_section(language, &message, signers))
                        }
                        Err(_) => p { (language.pick("Dit bericht kan niet worden gelezen.", "This message cannot be read.")) }
                    }
                }
            }
        }
        @if !case.quarantined.is_empty() {
            h2 { (language.pick("Apart gezet", "Quarantined")) }
            ul {
                @for message in &case.quarantined {
                    li { (message.position) " · " (message.author) " · " (message.stored_on) ": " (message.reason) }
                }
            }
        }
        @if let Some(day) = case.purged_on {
            p class="notice" { (language.pick(
                "De inhoud van deze melding is verwijderd op ",
                "This case's content was purged on ")) (day) (language.pick(
                " (bewaartermijn verstreken). De regel in het register blijft.",
                " (its retention date had come). Its line in the register stays.")) }
        } @else {
        (team_section(language, case, signers, own, own_address, process_guides))
        }
        @if case.purged_on.is_some() {
        } @else if case.current_status() == CaseStatus::Closed {
            form method="post" action={ "/cases/" (case.id) "/reopen" } {
                input type="hidden" name="lang" value=(lang);
                button type="submit" { (language.pick("Heropen", "Reopen")) }
            }
        } @else if case.has_report() {
            @if case.acknowledged_on.is_none() && !case.is_consultation() {
                h2 { (language.pick("Ontvangst bevestigen", "Acknowledge receipt")) }
                form method="post" enctype="multipart/form-data" action={ "/cases/" (case.id) "/reply" } {
                    input type="hidden" name="lang" value=(lang);
                    input type="hidden" name="acknowledgement" value="1";
                    label for="acknowledgement-text" { (language.pick("Tekst (aan te passen)", "Text (you may edit it)")) }
                    textarea id="acknowledgement-text" name="body" rows="6" { (ACKNOWLEDGEMENT_TEXT) }
                    button type="submit" { (language.pick("Bevestig ontvangst", "Acknowledge")) }
                }
            }
            h2 { (language.pick("Antwoorden", "Reply")) }
            form method="post" enctype="multipart/form-data" action={ "/cases/" (case.id) "/reply" } {
                input type="hidden" name="lang" value=(lang);
                label for="reply-text" { (language.pick("Uw antwoord aan de melder", "Your reply to the reporter")) }
                textarea id="reply-text" name="body" rows="8" required {}
                label for="reply-attachments" { (language.pick("Bijlagen (foto's verliezen hun metadata)", "Attachments (photos lose their metadata)")) }
                input type="file" id="reply-attachments" name="attachment" multiple;
                button type="submit" { (language.pick("Verstuur antwoord", "Send reply")) }
            }
            form method="post" action={ "/cases/" (case.id) "/close" } class="close" {
                input type="hidden" name="lang" value=(lang);
                @if case.has_report() && !case.is_consultation() {
                    div class="choice" {
                        input type="checkbox" id="close-tell" name="tell" value="1" checked;
                        label for="close-tell" { (language.pick("Laat het de melder weten, met een uitnodiging het proces te beoordelen", "Tell the reporter, with an invitation to evaluate the process")) }
                    }
                    label for="close-text" { (language.pick("Afsluitend bericht", "Closing message")) }
                    textarea id="close-text" name="body" rows="6" { (crate::inbox::CLOSING_TEXT) }
                }
                button type="submit" { (language.pick("Sluit de melding", "Close the case")) }
            }
        }
        @if case.purge_due(state.retention_months, today) {
            h2 { (language.pick("Bewaartermijn verstreken", "Retention date reached")) }
            form method="post" action={ "/cases/" (case.id) "/purge" } {
                input type="hidden" name="lang" value=(lang);
                p { (language.pick(
                    "De bewaartermijn van deze melding is verstreken. Verwijder de inhoud uit deze map (berichten, originelen, notities); de regel in het register blijft.",
                    "This case's retention date has come. Remove its content from this store (messages, originals, notes); its line in the register stays.")) }
                div class="choice" {
                    input type="checkbox" id="purge-confirm" name="confirm" value="1" required;
                    label for="purge-confirm" { (language.pick(
                        "Ik begrijp dat dit niet ongedaan kan worden gemaakt (eerder geëxporteerde mappen blijven bestaan).",
                        "I understand this cannot be undone (folders exported earlier stay).")) }
                }
                button type="submit" { (language.pick("Verwijder de inhoud", "Purge the content")) }
            }
        }
        h2 { (language.pick("Exporteren", "Export")) }
        form method="post" action={ "/cases/" (case.id) "/export" } {
            input type="hidden" name="lang" value=(lang);
            label for="export-folder" { (language.pick(
                "Map voor het onderzoeksdossier (nieuw of leeg, volledig pad)",
                "Folder for the investigation file (new or empty, full path)")) }
            input type="text" id="export-folder" name="folder" required;
            button type="submit" { (language.pick("Exporteer", "Export")) }
        }
    }
}

/// The consultation a report carries, shown under the report: each message with its author
/// and whether it checked out; nothing of it when the reporter's signature over it fails.
fn carried_section(
    language: Language,
    message: &meldpunt_crypto::Message,
    signers: &[(RecipientAddress, OfficeKey)],
) -> Markup {
    html! {
        @match crate::consultation::carried(message, signers) {
            None => {}
            Some(Err(why)) => p class="notice" role="alert" {
                strong { (language.pick("Meegestuurd adviesgesprek NIET getoond: ", "Carried consultation NOT SHOWN: ")) }
                (why)
            }
            Some(Ok(entries)) => section class="carried" aria-labelledby="carried-heading" {
                h3 id="carried-heading" { (language.pick(
                    "Het adviesgesprek vóór deze melding, door de melder meegestuurd",
                    "The consultation before this report, carried along by the reporter")) }
                ol class="thread" {
                    @for entry in &entries {
                        li {
                            p class="meta" {
                                strong { @if entry.from_adviser { (entry.author) } @else { (language.pick("melder", "reporter")) } }
                                " · " (entry.written_on)
                                @if let Some(why) = &entry.not_verified {
                                    " · " strong { (language.pick("NIET GEVERIFIEERD: ", "NOT VERIFIED: ")) (why) }
                                }
                                @if entry.missing_before > 0 {
                                    " · " (entry.missing_before) " " (language.pick("eerdere bericht(en) niet meegestuurd", "earlier message(s) not carried"))
                                }
                            }
                            pre class="body" { (entry.body.as_str()) }
                            @for name in &entry.attachments {
                                p class="meta" { (name) " " (language.pick("(bleef bij het adviesgesprek)", "(stayed with the consultation)")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /cases/{id}/attachments/{index}`: an attachment fetched from the relay, opened here
/// and handed to the browser as it arrives; its size and digest are checked at the end, and
/// a mismatch breaks the download off (the browser marks it failed).
async fn attachment(
    State(app): State<Arc<App>>,
    Path((id, location)): Path<(String, String)>,
    Query(query): Query<PageQuery>,
) -> Response {
    let language = Language::from_query(query.lang.as_deref());
    let (known, described) = tokio::sync::oneshot::channel::<(String, u64)>();
    let (sender, receiver) = tokio::sync::mpsc::channel::<std::io::Result<bytes::Bytes>>(4);
    let worker = Arc::clone(&app);
    let opening = tokio::task::spawn_blocking(move || {
        let failed = sender.clone();
        let declared = std::rc::Rc::new(std::cell::Cell::new(0));
        let mut writer = ChannelWriter {
            sender,
            declared: std::rc::Rc::clone(&declared),
            forwarded: 0,
            held: Vec::new(),
        };
        let outcome = worker.identities().and_then(|identities| {
            worker.inbox.open_attachment(
                &identities,
                &id,
                &location,
                |reference| {
                    declared.set(reference.size);
                    let _ = known.send((reference.name.clone(), reference.size));
                },
                &mut writer,
            )
        });
        match &outcome {
            // Verified: its last byte may go now.
            Ok(()) => {
                let _ = writer.finish();
            }
            Err(error) => {
                let _ = failed.blocking_send(Err(std::io::Error::other(error.to_string())));
            }
        }
        outcome
    });
    let Ok((name, size)) = described.await else {
        return match opening.await {
            Ok(Err(error)) => failure(language, &error),
            _ => failure(
                language,
                &CliError::Local("the attachment could not be opened".into()),
            ),
        };
    };
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    });
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_LENGTH, size.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename*=UTF-8''{}", encode_file_name(&name)),
            ),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}

/// Hands what is written to the answer's body, a piece at a time, but never the declared
/// size's last byte before the digest is checked ([`ChannelWriter::finish`]): the answer's
/// `Content-Length` is that size, so a body that reached it would look whole to the browser
/// even when the check then fails.
struct ChannelWriter {
    sender: tokio::sync::mpsc::Sender<std::io::Result<bytes::Bytes>>,
    /// The size the message declares (set once the reference is known).
    declared: std::rc::Rc<std::cell::Cell<u64>>,
    /// Bytes handed on.
    forwarded: u64,
    /// Bytes held back.
    held: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self, count: usize) -> std::io::Result<()> {
        let piece: Vec<u8> = self.held.drain(..count).collect();
        self.forwarded += piece.len() as u64;
        self.sender
            .blocking_send(Ok(bytes::Bytes::from(piece)))
            .map_err(|_| std::io::Error::other("the browser stopped the download"))
    }

    /// Hands on what was held back (after the digest checked out).
    fn finish(mut self) -> std::io::Result<()> {
        let count = self.held.len();
        if count == 0 {
            return Ok(());
        }
        self.send(count)
    }
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
        self.held.extend_from_slice(buffer);
        let room = self
            .declared
            .get()
            .saturating_sub(1)
            .saturating_sub(self.forwarded);
        let count = self
            .held
            .len()
            .min(usize::try_from(room).unwrap_or(usize::MAX));
        if count > 0 {
            self.send(count)?;
        }
        Ok(buffer.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A file name for `Content-Disposition` (RFC 5987): letters, digits and `-._` as they are,
/// every other byte of its UTF-8 as `%XX`, so that no name can break the header.
fn encode_file_name(name: &str) -> String {
    name.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._".contains(&byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// What a reply form holds.
#[derive(Default)]
struct ReplyForm {
    lang: Option<String>,
    body: Zeroizing<String>,
    acknowledgement: bool,
    files: Vec<(String, Zeroizing<Vec<u8>>)>,
}

/// Reads a reply form (`multipart/form-data`: its files come with it).
async fn read_reply_form(mut multipart: axum::extract::Multipart) -> Result<ReplyForm> {
    let malformed = |_| CliError::Usage("the form could not be read".into());
    let mut form = ReplyForm::default();
    let mut total = 0;
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        match field.name().unwrap_or_default() {
            "lang" => form.lang = Some(field.text().await.map_err(malformed)?),
            "body" => form.body = Zeroizing::new(field.text().await.map_err(malformed)?),
            "acknowledgement" => form.acknowledgement = true,
            "attachment" => {
                // Only the name's last part: a browser may send a path.
                let name = field
                    .file_name()
                    .unwrap_or_default()
                    .rsplit(['/', '\\'])
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let bytes = Zeroizing::new(field.bytes().await.map_err(malformed)?.to_vec());
                if name.is_empty() && bytes.is_empty() {
                    continue; // no file chosen
                }
                total += bytes.len();
                if total > MOST_ATTACHMENT_BYTES {
                    return Err(CliError::Usage(format!(
                        "the attachments hold more than {} MiB together; send large files with meldpunt inbox reply --attach",
                        MOST_ATTACHMENT_BYTES >> 20
                    )));
                }
                form.files.push((name, bytes));
            }
            _ => {}
        }
    }
    Ok(form)
}

/// `POST /cases/{id}/reply`: an acknowledgement or a reply, with its attachments, sealed
/// here and sent.
async fn reply(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    multipart: axum::extract::Multipart,
) -> Response {
    let form = match read_reply_form(multipart).await {
        Ok(form) => form,
        Err(error) => return failure(Language::Dutch, &error),
    };
    let language = Language::from_query(form.lang.as_deref());
    let body = form.body;
    if body.trim().is_empty() {
        return failure(
            language,
            &CliError::Usage(
                language
                    .pick("Het bericht is leeg.", "The message is empty.")
                    .into(),
            ),
        );
    }
    let acknowledgement = form.acknowledgement;
    let files = form.files;
    let case_id = id.clone();
    let sent = blocking(&app, move |app| {
        let planned = files
            .into_iter()
            .map(|(name, bytes)| crate::attachments::plan_bytes(&name, bytes, false))
            .collect::<Result<Vec<_>>>()?;
        app.inbox.send(
            &app.identities()?,
            &case_id,
            acknowledgement,
            meldpunt_crypto::Purpose::Message,
            &body,
            planned,
        )
    })
    .await;
    match sent {
        Ok(_) => {
            // Fetched back at once, so that the thread shows what was just sent.
            sync_now(&app).await;
            to_case(&id, language)
        }
        Err(error) => failure(language, &error),
    }
}

/// Back to a case's page.
fn to_case(id: &str, language: Language) -> Response {
    Redirect::to(&format!("/cases/{id}?lang={}", language.code())).into_response()
}

/// `POST /cases/{id}/close`: closes the case; a report's reporter is told (unless the box
/// is unticked) with the closing message, which invites them to evaluate.
async fn close(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Form(form): Form<CloseForm>,
) -> Response {
    let language = Language::from_query(form.lang.as_deref());
    let silently = form.tell.as_deref() != Some("1");
    let body = Zeroizing::new(form.body.unwrap_or_default());
    if !silently && body.trim().is_empty() {
        return failure(
            language,
            &CliError::Usage(
                language
                    .pick(
                        "Het afsluitende bericht is leeg.",
                        "The closing message is empty.",
                    )
                    .into(),
            ),
        );
    }
    let case_id = id.clone();
    let done = blocking(&app, move |app| {
        app.inbox
            .close_telling(&app.identities()?, &case_id, silently, || Ok(body))
            .map(drop)
    })
    .await;
    match done {
        Ok(()) => {
            sync_now(&app).await;
            to_case(&id, language)
        }
        Err(error) => failure(language, &error),
    }
}

/// `POST /cases/{id}/purge`: the content goes at its retention date, the register line stays.
async fn purge(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Form(form): Form<PurgeForm>,
) -> Response {
    let language = Language::from_query(form.lang.as_deref());
    if form.confirm.as_deref() != Some("1") {
        return failure(
            language,
            &CliError::Usage(
                language
                    .pick(
                        "Bevestig eerst dat de inhoud weg mag: dat kan niet ongedaan worden gemaakt.",
                        "Confirm first that the content may go: it cannot be undone.",
                    )
                    .into(),
            ),
        );
    }
    let case_id = id.clone();
    let done = blocking(&app, move |app| {
        let mut store = crate::store::Store::open(&app.inbox.store, &app.identities()?)?;
        store.state.retention_months = app.inbox.retention_months;
        store.purge(&case_id, today()).map(drop)
    })
    .await;
    match done {
        Ok(()) => to_case(&id, language),
        Err(error) => failure(language, &error),
    }
}

async fn reopen(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Form(form): Form<LanguageForm>,
) -> Response {
    set_closed(app, id, form, false).await
}

async fn set_closed(app: Arc<App>, id: String, form: LanguageForm, closed: bool) -> Response {
    let language = Language::from_query(form.lang.as_deref());
    let case_id = id.clone();
    let done = blocking(&app, move |app| {
        app.inbox
            .set_closed(&app.identities()?, &case_id, closed)
            .map(drop)
    })
    .await;
    match done {
        Ok(()) => to_case(&id, language),
        Err(error) => failure(language, &error),
    }
}

/// `POST /cases/{id}/team`: records one change to the case's shared state for the team.
async fn team_change(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Form(form): Form<TeamForm>,
) -> Response {
    let language = Language::from_query(form.lang.as_deref());
    let value = form.value.trim().to_owned();
    let change = match form.action.as_str() {
        "status" => value.parse().map(CaseChange::Status).map_err(|_| {
            CliError::Usage(format!(
                "the statuses are {}",
                CaseStatus::ALL.map(CaseStatus::as_str).join(", ")
            ))
        }),
        "assign" if value.is_empty() => Ok(CaseChange::Assignee(None)),
        "assign" => value
            .parse()
            .map(|key| CaseChange::Assignee(Some(key)))
            .map_err(|_| CliError::Usage("an assignee is an office key (mpok1…)".into())),
        "add-label" => Ok(CaseChange::AddLabel(value)),
        "remove-label" => Ok(CaseChange::RemoveLabel(value)),
        "note" => Ok(CaseChange::Note(Zeroizing::new(value))),
        _ => Err(CliError::Usage(
            "the action is status, assign, add-label, remove-label or note".into(),
        )),
    };
    let change = match change {
        Ok(change) => change,
        Err(error) => return failure(language, &error),
    };
    let case_id = id.clone();
    let done = blocking(&app, move |app| {
        app.inbox
            .record_change(&app.identities()?, &case_id, change)
            .map(drop)
    })
    .await;
    match done {
        Ok(()) => to_case(&id, language),
        Err(error) => failure(language, &error),
    }
}

/// `POST /cases/{id}/guide`: appoints a process guide to the case (or, with `remove`,
/// releases them), as `meldpunt inbox appoint-guide` does.
#[derive(Deserialize)]
struct GuideForm {
    lang: Option<String>,
    guide: String,
    #[serde(default)]
    remove: Option<String>,
}

async fn appoint_guide(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Form(form): Form<GuideForm>,
) -> Response {
    let language = Language::from_query(form.lang.as_deref());
    let case_id = id.clone();
    let remove = form.remove.is_some();
    let done = blocking(&app, move |app| {
        app.inbox
            .appoint_guide_with(&app.identities()?, &case_id, &form.guide, remove)
            .map(drop)
    })
    .await;
    match done {
        Ok(()) => to_case(&id, language),
        Err(error) => failure(language, &error),
    }
}

/// `POST /cases/{id}/export`: the same export as `meldpunt inbox export`, into a folder on
/// this workstation that the office names (absolute, new or empty).
async fn export(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Form(form): Form<ExportForm>,
) -> Response {
    let language = Language::from_query(form.lang.as_deref());
    let folder = std::path::PathBuf::from(form.folder.trim());
    if !folder.is_absolute() {
        return failure(
            language,
            &CliError::Usage(
                language
                    .pick(
                        "Geef het volledige pad van de map, zoals /home/u/dossier-2026-17.",
                        "Give the folder's full path, such as /home/you/file-2026-17.",
                    )
                    .into(),
            ),
        );
    }
    let case_id = id.clone();
    let target = folder.clone();
    let exported = blocking(&app, move |app| {
        app.inbox.export_with(&app.identities()?, &case_id, &target)
    })
    .await;
    let sync = locked(&app.sync).clone();
    match exported {
        Ok((_, files)) => page(
            language,
            &format!("/cases/{id}"),
            language.pick("Geëxporteerd", "Exported"),
            &sync,
            html! {
                p role="status" { (files) " " (language.pick("bestanden geschreven in", "files written to")) " " code { (folder.display()) } ": "
                    (language.pick(
                        "de verzegelde originelen, de geopende teksten, de bijlagen en manifest.json met de SHA-256 van elk bestand.",
                        "the sealed originals, the opened texts, the attachments, and manifest.json with the SHA-256 of every file.")) }
                p class="notice" { strong { (language.pick(
                    "Deze map bevat de melding leesbaar: bewaar haar in de beveiligde opslag van het onderzoeksdossier.",
                    "This folder holds the report in plaintext: keep it in the investigation file's protected storage.")) } }
                p { a href={ "/cases/" (id) "?lang=" (language.code()) } { (language.pick("Terug naar de melding", "Back to the case")) } }
            },
        ),
        Err(error) => failure(language, &error),
    }
}

#[derive(Deserialize)]
struct UnlockForm {
    lang: Option<String>,
    #[serde(default)]
    passphrase: Zeroizing<String>,
}

/// `POST /lock`: forgets the identity and what was read with it, now.
async fn lock(State(app): State<Arc<App>>, Form(form): Form<LanguageForm>) -> Response {
    app.lock();
    let language = Language::from_query(form.lang.as_deref());
    Redirect::to(&format!("/unlock?lang={}", language.code())).into_response()
}

/// `GET /unlock`: the locked app asks for the identity's passphrase again.
async fn unlock_page(State(app): State<Arc<App>>, Query(query): Query<PageQuery>) -> Response {
    let language = Language::from_query(query.lang.as_deref());
    if !app.is_locked() {
        return Redirect::to(&format!("/cases?lang={}", language.code())).into_response();
    }
    unlock_form(&app, language, None)
}

fn unlock_form(app: &App, language: Language, error: Option<&str>) -> Response {
    let protected = crate::input::identity_is_protected(&app.inbox.identity).unwrap_or(true);
    let lang = language.code();
    let mut response = page(
        language,
        "/unlock",
        language.pick("Vergrendeld", "Locked"),
        &SyncState::default(),
        html! {
            p { (language.pick(
                "De app is vergrendeld: hij is de identiteit en alles wat hij ermee las vergeten.",
                "The app is locked: it has forgotten the identity and everything it read with it.")) }
            @if let Some(error) = error {
                p class="notice" role="alert" { (error) }
            }
            form method="post" action="/unlock" {
                input type="hidden" name="lang" value=(lang);
                @if protected {
                    label for="passphrase" { (language.pick("Wachtwoordzin van ", "Passphrase of ")) (app.inbox.identity.display()) }
                    input type="password" id="passphrase" name="passphrase" autocomplete="current-password" required;
                } @else {
                    p class="notice" { (language.pick(
                        "Let op: deze identiteit heeft geen wachtwoordzin, dus iedereen aan deze computer kan de app ontgrendelen. Maak er een met meldpunt keygen --passphrase.",
                        "Note: this identity has no passphrase, so anyone at this computer can unlock the app. Make one with meldpunt keygen --passphrase.")) }
                }
                button type="submit" { (language.pick("Ontgrendel", "Unlock")) }
            }
        },
    );
    if error.is_some() {
        *response.status_mut() = StatusCode::UNAUTHORIZED;
    }
    response
}

/// `POST /unlock`: reads the identity again with the passphrase given.
async fn unlock(State(app): State<Arc<App>>, Form(form): Form<UnlockForm>) -> Response {
    let language = Language::from_query(form.lang.as_deref());
    let passphrase = form.passphrase;
    let opened = blocking(&app, move |app| {
        let identities = crate::input::identities_with(&app.inbox.identity, || Ok(passphrase))?;
        let read = read_store(&app.inbox, &identities)?;
        Ok((identities, read))
    })
    .await;
    match opened {
        Ok((identities, read)) => {
            *locked(&app.cache) = Some(read);
            *locked(&app.identities) = Some(Arc::new(identities));
            Redirect::to(&format!("/cases?lang={}", language.code())).into_response()
        }
        Err(error) => unlock_form(&app, language, Some(&error.to_string())),
    }
}

/// `POST /sync`: syncs now, then back to the cases.
async fn sync(State(app): State<Arc<App>>, Form(form): Form<LanguageForm>) -> Response {
    let language = Language::from_query(form.lang.as_deref());
    sync_now(&app).await;
    Redirect::to(&format!("/cases?lang={}", language.code())).into_response()
}

/// `GET /settings`: the configuration in use (the same as the CLI's).
/// `GET /intake`: the form to record an oral report (a telephone call or a meeting).
async fn intake_page(State(app): State<Arc<App>>, Query(query): Query<PageQuery>) -> Response {
    let language = Language::from_query(query.lang.as_deref());
    let questions = match blocking(&app, |app| Ok(app.state()?.questions.clone())).await {
        Ok(questions) => questions,
        Err(error) => return failure(language, &error),
    };
    let sync = locked(&app.sync).clone();
    let lang = language.code();
    let body = html! {
        p { (language.pick(
            "Leg hier een melding vast die u per telefoon of in een gesprek ontving. Uw verslag wordt een nieuwe melding, ondertekend als door u vastgelegd. U krijgt één keer een ontvangstcode: schrijf die voor de melder op papier. Met die code leest de melder uw verslag, bevestigt of corrigeert het, en praat verder. De code wordt nergens bewaard.",
            "Record a report you received by telephone or in a meeting. Your record becomes a new report, signed as recorded by you. You get a receipt code once: write it down on paper for the reporter. With it the reporter reads your record, confirms or corrects it, and keeps talking with you. The code is kept nowhere.")) }
        form method="post" action="/intake" {
            input type="hidden" name="lang" value=(lang);
            fieldset {
                legend { (language.pick("Hoe kwam de melding binnen?", "How was the report made?")) }
                div class="choice" {
                    input type="radio" id="channel-telephone" name="channel" value="telephone" checked;
                    label for="channel-telephone" { (language.pick("Telefonisch", "By telephone")) }
                }
                div class="choice" {
                    input type="radio" id="channel-meeting" name="channel" value="meeting";
                    label for="channel-meeting" { (language.pick("In een gesprek", "In a meeting")) }
                }
            }
            label for="intake-text" { (language.pick("Verslag of transcript", "Record or transcript")) }
            textarea id="intake-text" name="body" rows="14" required {}
            @if !questions.is_empty() {
                fieldset id="intake-questions" {
                    legend { (language.pick("De vragen van de organisatie (* verplicht)", "The organisation's questions (* required)")) }
                    @for question in &questions {
                        (intake_question(language, question))
                    }
                }
            }
            button type="submit" { (language.pick("Versleutel en leg vast", "Encrypt and record")) }
        }
    };
    page(
        language,
        "/intake",
        language.pick("Mondelinge melding vastleggen", "Record an oral report"),
        &sync,
        body,
    )
}

/// One question of the questionnaire on the intake form (fields `answer:ID`, a period's
/// `answer:ID:from` and `answer:ID:to`).
fn intake_question(language: Language, question: &meldpunt_crypto::Question) -> Markup {
    let name = format!("answer:{}", question.id);
    let id = format!("intake-{}", question.id);
    let label = format!(
        "{}{}",
        localised_label(language, &question.label),
        if question.required { " *" } else { "" }
    );
    let options: Vec<(String, String)> = match question.kind {
        meldpunt_crypto::QuestionKind::YesNo => vec![
            ("yes".into(), language.pick("ja", "yes").into()),
            ("no".into(), language.pick("nee", "no").into()),
        ],
        _ => question
            .options
            .iter()
            .map(|option| {
                (
                    option.id.clone(),
                    localised_label(language, &option.label).to_owned(),
                )
            })
            .collect(),
    };
    match question.kind {
        meldpunt_crypto::QuestionKind::Choice
        | meldpunt_crypto::QuestionKind::MultipleChoice
        | meldpunt_crypto::QuestionKind::YesNo => {
            let kind = if question.kind == meldpunt_crypto::QuestionKind::MultipleChoice {
                "checkbox"
            } else {
                "radio"
            };
            html! {
                fieldset id=(id) {
                    legend { (label) }
                    @for (value, option) in &options {
                        div class="choice" {
                            input type=(kind) id={ (id) "-" (value) } name=(name) value=(value);
                            label for={ (id) "-" (value) } { (option) }
                        }
                    }
                }
            }
        }
        meldpunt_crypto::QuestionKind::Period => html! {
            fieldset id=(id) {
                legend { (label) }
                label for={ (id) "-from" } { (language.pick("Van", "From")) }
                input type="date" id={ (id) "-from" } name={ (name) ":from" };
                label for={ (id) "-to" } { (language.pick("Tot en met", "To")) }
                input type="date" id={ (id) "-to" } name={ (name) ":to" };
            }
        },
        meldpunt_crypto::QuestionKind::Date => html! {
            label for=(id) { (label) }
            input type="date" id=(id) name=(name);
        },
        meldpunt_crypto::QuestionKind::Text => html! {
            label for=(id) { (label) }
            input type="text" id=(id) name=(name) maxlength="1000";
        },
    }
}

/// `POST /intake`: records the oral report and shows its receipt code, once. Its answers are
/// checked against the organisation's questionnaire before anything is sent.
async fn intake(
    State(app): State<Arc<App>>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let fields = Zeroizing::new(fields);
    let field = |name: &str| {
        fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.clone())
    };
    let language = Language::from_query(field("lang").as_deref());
    let channel_name = field("channel").unwrap_or_default();
    let body = Zeroizing::new(field("body").unwrap_or_default());
    let form_fields: Vec<(String, String)> = fields.to_vec();
    let channel = match channel_name.as_str() {
        "telephone" => meldpunt_crypto::Channel::Telephone,
        "meeting" => meldpunt_crypto::Channel::Meeting,
        _ => {
            return failure(
                language,
                &CliError::Usage(
                    language
                        .pick(
                            "Kies telefonisch of in een gesprek.",
                            "Choose by telephone or in a meeting.",
                        )
                        .into(),
                ),
            )
        }
    };
    let recorded = blocking(&app, move |app| {
        let form_fields = Zeroizing::new(form_fields);
        app.inbox
            .record_oral_report(&app.identities()?, channel, today(), body, |organisation| {
                let values = |name: &str| -> Vec<&str> {
                    form_fields
                        .iter()
                        .filter(|(field, _)| field == name)
                        .map(|(_, value)| value.as_str())
                        .collect()
                };
                let typed = Zeroizing::new(meldpunt_crypto::typed_from_fields(
                    &organisation.questions,
                    "answer:",
                    values,
                ));
                organisation.answers(&typed).map_err(|problems| {
                    CliError::Usage(format!(
                        "{} {}",
                        language.pick(
                            "De antwoorden zijn geweigerd; er is niets verstuurd:",
                            "The answers were refused; nothing was sent:"
                        ),
                        problems
                            .iter()
                            .map(|problem| {
                                let label = organisation
                                    .questions
                                    .iter()
                                    .find(|question| question.id == problem.question)
                                    .map_or(problem.question.as_str(), |question| {
                                        localised_label(language, &question.label)
                                    });
                                format!("{label}: {}", problem.problem.describe())
                            })
                            .collect::<Vec<_>>()
                            .join("; ")
                    ))
                })
            })
    })
    .await;
    let recorded = match recorded {
        Ok(recorded) => recorded,
        Err(error) => return failure(language, &error),
    };
    sync_now(&app).await;
    let sync = locked(&app.sync).clone();
    let lang = language.code();
    let body = html! {
        p { (language.pick("Vastgelegd als melding ", "Recorded as case ")) a href={ "/cases/" (recorded.case) "?lang=" (lang) } { (recorded.case) } "." }
        p { strong { (language.pick(
            "Ontvangstcode voor de melder — schrijf hem nu op papier. Hij wordt maar één keer getoond en nergens bewaard:",
            "Receipt code for the reporter — write it down on paper now. It is shown only this once and kept nowhere:")) } }
        p class="receipt-code" id="receipt-code" { (recorded.receipt_code.as_str()) }
        p { (language.pick(
            "Met deze code leest de melder uw verslag (meldpunt check of het webformulier), bevestigt of corrigeert het, en praat verder. Bewaar geen kopie: wie de code heeft, leest de antwoorden en schrijft als de melder.",
            "With this code the reporter reads your record (meldpunt check or the web form), confirms or corrects it, and keeps talking with you. Keep no copy: whoever holds the code reads the replies and writes as the reporter.")) }
    };
    page(
        language,
        "/intake",
        language.pick("Mondelinge melding vastgelegd", "Oral report recorded"),
        &sync,
        body,
    )
}

async fn settings(State(app): State<Arc<App>>, Query(query): Query<PageQuery>) -> Response {
    let language = Language::from_query(query.lang.as_deref());
    let sync = locked(&app.sync).clone();
    let relay = app
        .inbox
        .relay
        .as_ref()
        .map(|relay| relay.url().to_owned())
        .unwrap_or_else(|| language.pick("(geen)", "(none)").into());
    let body = html! {
        p { (language.pick(
            "Deze instellingen komen uit de opdrachtregel en het configuratiebestand van meldpunt (docs/cli.md); wijzig ze daar en start de app opnieuw.",
            "These settings come from meldpunt's command line and configuration file (docs/cli.md); change them there and start the app again.")) }
        dl class="facts" {
            dt { (language.pick("Relay", "Relay")) } dd { (relay) }
            dt { (language.pick("Sleutel van de lijst", "Directory key")) } dd { (app.inbox.directory_key.as_deref().unwrap_or("-")) }
            dt { (language.pick("Identiteitsbestand", "Identity file")) } dd { (app.inbox.identity.display()) }
            dt { (language.pick("Map met meldingen (versleuteld)", "Case store (encrypted)")) } dd { (app.inbox.store.display()) }
        }
    };
    page(
        language,
        "/settings",
        language.pick("Instellingen", "Settings"),
        &sync,
        body,
    )
}

fn standing_label(language: Language, standing: DeadlineStanding) -> &'static str {
    match standing {
        DeadlineStanding::Met => language.pick("gehaald", "met"),
        DeadlineStanding::Missed => language.pick("NIET gehaald", "MISSED"),
        DeadlineStanding::Open => language.pick("loopt", "open"),
        DeadlineStanding::Closed => language.pick("vervallen (gesloten)", "lapsed (closed)"),
        DeadlineStanding::None => language.pick("geen (adviesgesprek)", "none (consultation)"),
    }
}

/// A label from the directory in the page's language.
fn localised_label(language: Language, label: &meldpunt_crypto::LocalisedName) -> &str {
    match language {
        Language::Dutch => &label.nl,
        Language::English => &label.en,
    }
}

/// An option of a question as the page shows it (yes/no in words; an option the
/// questionnaire no longer has by its id).
fn answer_label(
    language: Language,
    question: Option<&meldpunt_crypto::Question>,
    option: &str,
) -> String {
    match (question.map(|question| question.kind), option) {
        (Some(meldpunt_crypto::QuestionKind::YesNo), "yes") => language.pick("ja", "yes").into(),
        (Some(meldpunt_crypto::QuestionKind::YesNo), "no") => language.pick("nee", "no").into(),
        _ => question
            .and_then(|question| question.option(option))
            .map_or_else(
                || option.to_owned(),
                |found| localised_label(language, &found.label).to_owned(),
            ),
    }
}

/// The register lines of every case in the store.
fn register_lines(app: &App) -> Result<Vec<RegisterLine>> {
    let state = app.state()?;
    let today = today();
    Ok(state
        .cases
        .values()
        .filter(|case| (case.has_report() || case.is_partial()) && !case.is_consultation())
        .map(|case| RegisterLine::of(case, today, state.retention_months, &state.questions))
        .collect())
}

/// `GET /register`: one line per case — dates, status, deadlines met or missed, labels;
/// never a report's text or the reporter's identity (EU Directive 2019/1937, art. 18).
async fn register(State(app): State<Arc<App>>, Query(query): Query<PageQuery>) -> Response {
    let language = Language::from_query(query.lang.as_deref());
    let sync = locked(&app.sync).clone();
    let lines = match blocking(&app, register_lines).await {
        Ok(lines) => lines,
        Err(error) => return failure(language, &error),
    };
    let lang = language.code();
    let body = html! {
        p { (language.pick(
            "Eén regel per melding: data, status, termijnen en labels. Nooit de tekst van een melding of wie meldde. Berekend op deze computer, uit de versleutelde map.",
            "One line per case: dates, status, deadlines and labels. Never a report's text or who reported. Computed on this computer, from the encrypted store.")) }
        p { a href={ "/register.csv?lang=" (lang) } download="register.csv" { (language.pick("Download als CSV", "Download as CSV")) } }
        table {
            caption { (language.pick("Register van meldingen", "Register of reports")) }
            thead { tr {
                th scope="col" { (language.pick("Melding", "Case")) }
                th scope="col" { (language.pick("Soort", "Kind")) }
                th scope="col" { (language.pick("Ontvangen", "Received")) }
                th scope="col" { (language.pick("Status", "Status")) }
                th scope="col" { (language.pick("Ontvangstbevestiging", "Acknowledgement")) }
                th scope="col" { (language.pick("Terugkoppeling", "Feedback")) }
                th scope="col" { (language.pick("Gesloten", "Closed")) }
                th scope="col" { (language.pick("Labels", "Labels")) }
                th scope="col" { (language.pick("Antwoorden", "Answers")) }
            } }
            tbody {
                @for line in &lines {
                    tr class=[(line.acknowledgement == DeadlineStanding::Missed || line.feedback == DeadlineStanding::Missed).then_some("overdue")] {
                        td { a href={ "/cases/" (line.case) "?lang=" (lang) } { (line.case) } }
                        td { @if line.conversation == "consultation" { (language.pick("adviesgesprek", "consultation")) } @else { (language.pick("melding", "report")) } }
                        td { (line.received_on) }
                        td { (status_label(language, line.status)) }
                        td { (standing_label(language, line.acknowledgement)) @if let Some(day) = line.acknowledged_on { " (" (day) ")" } }
                        td { (standing_label(language, line.feedback)) @if let Some(day) = line.feedback_on { " (" (day) ")" } }
                        td { @if let Some(day) = line.closed_on { (day) } }
                        td { (line.labels.join(", ")) }
                        td { (line.answers_text()) }
                    }
                }
            }
        }
    };
    page(
        language,
        "/register",
        language.pick("Register", "Register"),
        &sync,
        body,
    )
}

/// `GET /register.csv`: the register as CSV (formulas defused).
async fn register_csv(State(app): State<Arc<App>>, Query(query): Query<PageQuery>) -> Response {
    let language = Language::from_query(query.lang.as_deref());
    match blocking(&app, register_lines).await {
        Ok(lines) => {
            let mut csv = String::from(RegisterLine::CSV_HEADER);
            for line in &lines {
                csv.push('\n');
                csv.push_str(&line.to_csv());
            }
            csv.push('\n');
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"register.csv\"",
                    ),
                ],
                csv,
            )
                .into_response()
        }
        Err(error) => failure(language, &error),
    }
}

/// `GET /stats`: the monitoring figures of a period, with charts (SVG made here).
async fn stats(State(app): State<Arc<App>>, Query(query): Query<PageQuery>) -> Response {
    let language = Language::from_query(query.lang.as_deref());
    let sync = locked(&app.sync).clone();
    let day = |text: &Option<String>| {
        text.as_deref()
            .filter(|text| !text.is_empty())
            .map(|text| text.parse::<meldpunt_crypto::Day>())
            .transpose()
    };
    let (Ok(from), Ok(to)) = (day(&query.from), day(&query.to)) else {
        return failure(
            language,
            &CliError::Usage(
                language
                    .pick(
                        "Schrijf een dag als JJJJ-MM-DD.",
                        "Write a day as YYYY-MM-DD.",
                    )
                    .into(),
            ),
        );
    };
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            return failure(
                language,
                &CliError::Usage(
                    language
                        .pick(
                            "De periode begint na haar einde.",
                            "The period starts after it ends.",
                        )
                        .into(),
                ),
            );
        }
    }
    let (figures, (questions, evaluation_questions)) = match blocking(&app, move |app| {
        let state = app.state()?;
        Ok((
            Statistics::of(
                state.cases.values(),
                &state.questions,
                &state.evaluation_questions,
                from,
                to,
                today(),
            ),
            (state.questions.clone(), state.evaluation_questions.clone()),
        ))
    })
    .await
    {
        Ok(found) => found,
        Err(error) => return failure(language, &error),
    };
    let lang = language.code();
    let bars = |map: &std::collections::BTreeMap<String, Count>| -> Vec<(String, Count)> {
        map.iter()
            .map(|(key, count)| (key.clone(), *count))
            .collect()
    };
    let ages: Vec<(String, Count)> = crate::register::AGE_GROUPS
        .iter()
        .map(|group| {
            (
                age_label(language, group).to_owned(),
                figures
                    .open_by_age
                    .get(group)
                    .copied()
                    .unwrap_or(Count::of(0)),
            )
        })
        .collect();
    let share = |share: &crate::register::Share| match share.percent {
        Some(percent) => format!(
            "{percent}% ({} {})",
            language.pick("van", "of"),
            share.of.text()
        ),
        None if share.of.is_zero() => language
            .pick(
                "nog geen melding waarvoor dit gold",
                "no report it applied to yet",
            )
            .to_owned(),
        None => format!(
            "{} ({} {})",
            language.pick("niet getoond", "not shown"),
            language.pick("over", "over"),
            share.of.text()
        ),
    };
    let days = |median: Option<i64>| match median {
        Some(days) => format!("{days} {}", language.pick("dagen", "days")),
        None => language
            .pick("niet getoond (minder dan 5)", "not shown (fewer than 5)")
            .to_owned(),
    };
    let body = html! {
        p { (language.pick(
            "Berekend op deze computer uit de versleutelde map, nooit op de relay. Aantallen onder de 5 staan er als \"minder dan 5\", zodat niemand uit de cijfers te herleiden is.",
            "Computed on this computer from the encrypted store, never on the relay. Counts under 5 show as \"fewer than 5\", so that the figures cannot single anyone out.")) }
        form method="get" action="/stats" class="filters" {
            input type="hidden" name="lang" value=(lang);
            label for="from" { (language.pick("Van", "From")) }
            input type="date" id="from" name="from" value=[figures.from.map(|day| day.to_string())];
            label for="to" { (language.pick("Tot en met", "To")) }
            input type="date" id="to" name="to" value=[figures.to.map(|day| day.to_string())];
            button type="submit" { (language.pick("Toon", "Show")) }
        }
        dl class="facts" {
            dt { (language.pick("Meldingen", "Reports")) } dd { (count_text(language, figures.reports)) }
            dt { (language.pick("Adviesgesprekken", "Consultations")) } dd { (count_text(language, figures.consultations)) }
            dt { (language.pick("Meldingen zonder label", "Reports without a label")) } dd { (count_text(language, figures.unlabelled)) }
            dt { (language.pick("Meldingen waarvan de melder het proces beoordeelde", "Reports whose reporter evaluated the process")) } dd { (count_text(language, figures.evaluated)) }
            dt { (language.pick("Ontvangst bevestigd binnen 7 dagen", "Acknowledged within 7 days")) } dd { (share(&figures.acknowledged_in_time)) }
            dt { (language.pick("Teruggekoppeld binnen 3 maanden", "Fed back within 3 months")) } dd { (share(&figures.fed_back_in_time)) }
            dt { (language.pick("Mediaan tot ontvangstbevestiging", "Median time to acknowledgement")) } dd { (days(figures.median_days_to_acknowledgement)) }
            dt { (language.pick("Mediaan tot terugkoppeling", "Median time to feedback")) } dd { (days(figures.median_days_to_feedback)) }
        }
        (crate::charts::bar_chart("per-month", language.pick("Meldingen per maand", "Reports per month"), &bars(&figures.per_month)))
        (crate::charts::bar_chart("per-label", language.pick("Meldingen per label", "Reports per label"), &bars(&figures.per_label)))
        (crate::charts::bar_chart("open-by-age", language.pick("Open meldingen naar leeftijd", "Open reports by age"), &ages))
        @for (prefix, heading, answers, known) in [
            ("answer", language.pick("Meldingen naar antwoord:", "Reports by answer:"), &figures.per_answer, &questions),
            ("evaluation", language.pick("Beoordelingen van het proces:", "Evaluations of the process:"), &figures.evaluation, &evaluation_questions),
        ] {
            @for (question_id, options) in answers {
                @let question = known.iter().find(|question| &question.id == question_id);
                @let title = question.map_or(question_id.clone(), |question| localised_label(language, &question.label).to_owned());
                @let bars: Vec<(String, Count)> = options.iter().map(|(option, count)| (answer_label(language, question, option), *count)).collect();
                (crate::charts::bar_chart(&format!("{prefix}-{question_id}"), &format!("{heading} {title}"), &bars))
            }
        }
        table {
            caption { (language.pick("De cijfers in de grafieken", "The figures in the charts")) }
            thead { tr {
                th scope="col" { (language.pick("Cijfer", "Figure")) }
                th scope="col" { (language.pick("Waarvan", "Of")) }
                th scope="col" { (language.pick("Aantal", "Count")) }
            } }
            tbody {
                @for (month, count) in &figures.per_month {
                    tr { td { (language.pick("per maand", "per month")) } td { (month) } td { (count_text(language, *count)) } }
                }
                @for (label, count) in &figures.per_label {
                    tr { td { (language.pick("per label", "per label")) } td { (label) } td { (count_text(language, *count)) } }
                }
                @for (group, count) in &ages {
                    tr { td { (language.pick("open, naar leeftijd", "open, by age")) } td { (group) } td { (count_text(language, *count)) } }
                }
                @for (question_id, options) in figures.per_answer.iter().chain(&figures.evaluation) {
                    @let question = questions.iter().chain(&evaluation_questions).find(|question| &question.id == question_id);
                    @for (option, count) in options {
                        tr {
                            td { (question.map_or(question_id.as_str(), |question| localised_label(language, &question.label))) }
                            td { (answer_label(language, question, option)) }
                            td { (count_text(language, *count)) }
                        }
                    }
                }
            }
        }
    };
    page(
        language,
        "/stats",
        language.pick("Cijfers", "Figures"),
        &sync,
        body,
    )
}

fn count_text(language: Language, count: Count) -> String {
    match count {
        Count::Exact(count) => count.to_string(),
        Count::FewerThanFive => language.pick("minder dan 5", "fewer than 5").to_owned(),
        Count::Withheld => language
            .pick(
                "niet getoond (beschermt een klein aantal)",
                "withheld (protects a small count)",
            )
            .to_owned(),
    }
}

fn age_label(language: Language, group: &str) -> &'static str {
    match group {
        "under 1 month" => language.pick("korter dan 1 maand", "under 1 month"),
        "1 to 3 months" => language.pick("1 tot 3 maanden", "1 to 3 months"),
        "3 to 6 months" => language.pick("3 tot 6 maanden", "3 to 6 months"),
        "6 to 12 months" => language.pick("6 tot 12 maanden", "6 to 12 months"),
        _ => language.pick("een jaar of langer", "a year or more"),
    }
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("office_app.js"),
    )
        .into_response()
}

/// `GET /status`: how many new messages the background sync brought (for the script).
async fn status(State(app): State<Arc<App>>) -> Response {
    let state = locked(&app.sync).clone();
    (
        [(header::CONTENT_TYPE, "application/json")],
        format!(
            "{{\"unseen\":{},\"sync_failed\":{}}}",
            state.unseen,
            state.error.is_some()
        ),
    )
        .into_response()
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        concat!(
            include_str!("../../server/src/web/static/meldpunt.css"),
            include_str!("office_app.css")
        ),
    )
        .into_response()
}

/// A whole page: title with the count of new messages, navigation, notices, the body.
fn page(language: Language, path: &str, title: &str, sync: &SyncState, body: Markup) -> Response {
    let lang = language.code();
    let other = match language {
        Language::Dutch => ("en", "English"),
        Language::English => ("nl", "Nederlands"),
    };
    let counted = if sync.unseen > 0 {
        format!("({}) {title} · Meldpunt", sync.unseen)
    } else {
        format!("{title} · Meldpunt")
    };
    let markup = html! {
        (DOCTYPE)
        html lang=(lang) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (counted) }
                link rel="stylesheet" href="/app.css";
                script src="/app.js" defer {}
            }
            body {
                header {
                    p class="brand" { "Meldpunt · " (language.pick("integriteitsbureau", "integrity office")) }
                    nav aria-label=(language.pick("Hoofdmenu", "Main menu")) {
                        a href={ "/cases?lang=" (lang) } { (language.pick("Meldingen", "Cases")) } " "
                        a href={ "/register?lang=" (lang) } { (language.pick("Register", "Register")) } " "
                        a href={ "/stats?lang=" (lang) } { (language.pick("Cijfers", "Figures")) } " "
                        a href={ "/intake?lang=" (lang) } { (language.pick("Mondelinge melding", "Oral report")) } " "
                        a href={ "/settings?lang=" (lang) } { (language.pick("Instellingen", "Settings")) } " "
                        a href={ (path) "?lang=" (other.0) } lang=(other.0) hreflang=(other.0) { (other.1) }
                    }
                    @if path != "/unlock" {
                        form method="post" action="/lock" class="lock" {
                            input type="hidden" name="lang" value=(lang);
                            button type="submit" class="secondary" { (language.pick("Vergrendel", "Lock")) }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    p id="live-notice" class="live" role="status" data-template=(language.pick(
                        "{count} nieuw(e) bericht(en) opgehaald; open de meldingen om ze te zien.",
                        "{count} new message(s) arrived; open the cases to see them.")) {}
                    @if sync.unseen > 0 {
                        p class="notice" role="status" { (sync.unseen) " " (language.pick("nieuw(e) bericht(en) opgehaald.", "new message(s) arrived.")) }
                    }
                    @if let Some(error) = &sync.error {
                        p class="notice" role="alert" { (language.pick("Ophalen mislukt: ", "Sync failed: ")) (error) }
                    }
                    (body)
                }
            }
        }
    };
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

fn failure(language: Language, error: &CliError) -> Response {
    let status = match error {
        CliError::Usage(_) => StatusCode::BAD_REQUEST,
        CliError::Unreachable { .. } | CliError::Refused { .. } => StatusCode::BAD_GATEWAY,
        CliError::Verification(_) => StatusCode::UNPROCESSABLE_ENTITY,
        CliError::Local(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let mut response = page(
        language,
        "/cases",
        language.pick("Dat lukte niet", "That did not work"),
        &SyncState::default(),
        html! {
            p role="alert" { (error.to_string()) }
            p { a href={ "/cases?lang=" (language.code()) } { (language.pick("Terug naar de meldingen", "Back to the cases")) } }
        },
    );
    *response.status_mut() = status;
    response
}
