//! A real headless Chromium, driven over WebDriver (Debian's `chromium` and
//! `chromium-driver`, which `scripts/test` and `.ci/run` install), and a recording proxy
//! that keeps every byte the browser sends to the relay.
//!
//! Chromium runs with a fresh profile, no background networking and no first-run or sync
//! traffic, so the only connections it opens are to the loopback addresses a test gives.
//! Each browser and its driver are killed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Where Debian puts Chromium and its driver.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A headless Chromium session.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    driver: Child,
    /// Where downloads land.
    pub downloads: PathBuf,
    _profile: tempfile::TempDir,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Browser")
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}

impl Browser {
    /// Starts Chromium, with JavaScript on or off (as Tor Browser's "Safest" level has it).
    pub async fn start(javascript: bool) -> Browser {
        Browser::start_with(javascript, false).await
    }

    /// Starts Chromium with JavaScript on but without its JIT (`--js-flags=--jitless`), as
    /// Tor Browser's "Safer" level runs scripts.
    pub async fn start_without_jit() -> Browser {
        Browser::start_with(true, true).await
    }

    async fn start_with(javascript: bool, jitless: bool) -> Browser {
        assert!(
            Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists(),
            "the browser tests need Debian's chromium and chromium-driver: \
             apt-get install chromium chromium-driver (scripts/test does this)"
        );
        let profile = tempfile::tempdir().expect("profile folder");
        let downloads = profile.path().join("downloads");
        std::fs::create_dir_all(&downloads).expect("downloads folder");
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut options = serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-default-apps", "--disable-extensions",
                "--window-size=1000,1300", "--lang=nl",
                format!("--user-data-dir={}", profile.path().join("chromium").display()),
            ],
            "prefs": {
                "download.default_directory": downloads.display().to_string(),
                "download.prompt_for_download": false,
                "safebrowsing.enabled": false,
            },
        });
        if !javascript {
            options["prefs"]["profile.managed_default_content_settings.javascript"] =
                serde_json::json!(2);
        }
        if jitless {
            options["args"]
                .as_array_mut()
                .expect("a list")
                .push("--js-flags=--jitless".into());
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&url)
            .await
            .expect("a WebDriver session with Chromium");
        Browser {
            client,
            driver,
            downloads,
            _profile: profile,
        }
    }

    /// The address the browser shows now.
    pub async fn current_url(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("an address")
            .to_string()
    }

    /// Opens a URL.
    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("the page loads");
    }

    /// Waits (up to a minute) for an element and returns it.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(Duration::from_secs(60))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(error) => {
                let url = self.client.current_url().await.map(|url| url.to_string());
                let text = match self.client.find(Locator::Css("body")).await {
                    Ok(body) => body.text().await.unwrap_or_default(),
                    Err(_) => String::new(),
                };
                panic!("no element {css} ({error}) on {url:?}, which shows:\n{text}")
            }
        }
    }

    /// The text of an element (found again if the page was replaced meanwhile).
    pub async fn text(&self, css: &str) -> String {
        for _ in 0..50 {
            match self.wait_for(css).await.text().await {
                Ok(text) => return text,
                Err(fantoccini::error::CmdError::Standard(error))
                    if error.error == fantoccini::error::ErrorStatus::StaleElementReference =>
                {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(error) => panic!("the text of {css}: {error}"),
            }
        }
        panic!("{css} kept being replaced")
    }

    /// The text of an element once it holds `needle` (a page that a click replaces is
    /// waited for), up to a minute; the last text seen if it never does.
    pub async fn text_once_it_holds(&self, css: &str, needle: &str) -> String {
        let mut text = String::new();
        for _ in 0..300 {
            text = self.text(css).await;
            if text.contains(needle) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        text
    }

    /// What a field holds now.
    pub async fn value(&self, css: &str) -> String {
        self.wait_for(css)
            .await
            .prop("value")
            .await
            .expect("a value")
            .unwrap_or_default()
    }

    /// Types into a field (after clearing it).
    pub async fn type_into(&self, css: &str, text: &str) {
        let field = self.wait_for(css).await;
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("typing");
    }

    /// Sets a textarea's or input's value at once (long texts would take long to type).
    pub async fn set_value(&self, css: &str, text: &str) {
        self.wait_for(css).await;
        self.client
            .execute(
                "document.querySelector(arguments[0]).value = arguments[1];",
                vec![serde_json::json!(css), serde_json::json!(text)],
            )
            .await
            .expect("set value");
    }

    /// Clicks an element.
    pub async fn click(&self, css: &str) {
        self.wait_for(css).await.click().await.expect("click");
    }

    /// Chooses a file in a file input.
    pub async fn choose_file(&self, css: &str, path: &Path) {
        self.wait_for(css)
            .await
            .send_keys(&path.display().to_string())
            .await
            .expect("choosing a file");
    }

    /// The page's HTML as the browser has it now.
    pub async fn source(&self) -> String {
        self.client.source().await.expect("page source")
    }

    /// Runs axe-core (from `web/node_modules`, installed by `npm ci` in `scripts/test`) on
    /// the page for the WCAG 2.1 A and AA rules; returns each violation as `rule: nodes`.
    pub async fn accessibility_violations(&self) -> Vec<String> {
        let axe = crate::workspace_root()
            .join("web")
            .join("node_modules")
            .join("axe-core")
            .join("axe.min.js");
        let source = std::fs::read_to_string(&axe).unwrap_or_else(|error| {
            panic!(
                "{}: {error}; run `npm ci` in web/ (scripts/test does)",
                axe.display()
            )
        });
        self.client
            .execute(&source, vec![])
            .await
            .expect("axe-core loads");
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })\
                   .then((result) => done(result.violations.map((v) => v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).join(', '))))\
                   .catch((error) => done(['axe failed: ' + error]));",
                vec![],
            )
            .await
            .expect("axe-core runs");
        serde_json::from_value(result).expect("a list of violations")
    }

    /// Writes a screenshot of the page to `target/web-screenshots/NAME.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let folder = crate::workspace_root()
            .join("target")
            .join("web-screenshots");
        std::fs::create_dir_all(&folder).expect("screenshot folder");
        let path = folder.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Waits (up to a minute) for a downloaded file with this name and returns its bytes.
    pub async fn downloaded(&self, name: &str) -> Vec<u8> {
        let path = self.downloads.join(name);
        // Complete once it has content and no partial download (`.crdownload`) is left
        // beside it: a busy machine may show the file before Chromium has written it.
        let in_progress = |folder: &Path| {
            std::fs::read_dir(folder).is_ok_and(|entries| {
                entries
                    .flatten()
                    .any(|entry| entry.file_name().to_string_lossy().ends_with(".crdownload"))
            })
        };
        for _ in 0..600 {
            if let Ok(bytes) = std::fs::read(&path) {
                if !bytes.is_empty() && !in_progress(&self.downloads) {
                    return bytes;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{name} was not downloaded");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // chromedriver's Chromium children exit when their driver is gone; make sure.
        let _ = Command::new("pkill")
            .arg("-f")
            .arg(self._profile.path().display().to_string())
            .status();
    }
}

/// A TCP proxy on loopback in front of the relay that records every byte clients send.
#[derive(Debug)]
pub struct RecordingProxy {
    /// The proxy's URL, to give the browser instead of the relay's.
    pub url: String,
    received: Arc<Mutex<Vec<u8>>>,
    task: tokio::task::JoinHandle<()>,
}

impl RecordingProxy {
    /// Starts a proxy forwarding to `target` (`http://127.0.0.1:PORT`).
    pub async fn start(target: &str) -> RecordingProxy {
        let target = target.trim_start_matches("http://").to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("proxy listens");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let received = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&received);
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let target = target.clone();
                let recorded = Arc::clone(&recorded);
                tokio::spawn(async move {
                    let Ok(mut relay) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    let (mut client_read, mut client_write) = client.split();
                    let (mut relay_read, mut relay_write) = relay.split();
                    let upstream = async {
                        let mut buffer = vec![0u8; 64 * 1024];
                        loop {
                            let read = match client_read.read(&mut buffer).await {
                                Ok(0) | Err(_) => break,
                                Ok(read) => read,
                            };
                            recorded
                                .lock()
                                .expect("not poisoned")
                                .extend_from_slice(&buffer[..read]);
                            if relay_write.write_all(&buffer[..read]).await.is_err() {
                                break;
                            }
                        }
                        let _ = relay_write.shutdown().await;
                    };
                    let downstream = async {
                        let _ = tokio::io::copy(&mut relay_read, &mut client_write).await;
                        let _ = client_write.shutdown().await;
                    };
                    tokio::join!(upstream, downstream);
                });
            }
        });
        RecordingProxy {
            url,
            received,
            task,
        }
    }

    /// Everything clients have sent so far.
    pub fn received(&self) -> Vec<u8> {
        self.received.lock().expect("not poisoned").clone()
    }
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
