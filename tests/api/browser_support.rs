//! The web console's browser harness: Debian's headless Chromium driven over WebDriver
//! (fantoccini) through a chromedriver started on a free port for each test. Without
//! chromium or chromedriver the browser tests skip with a printed reason, except in CI
//! (`CI=true`) where that fails them. A failing test leaves a screenshot and the page's
//! HTML under `target/console-failures/` (the paths are printed).

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use futures::FutureExt as _;
use serde_json::{json, Value};
use tokio::process::{Child, Command};

use crate::helpers::TestApp;

/// One browser test at a time: two cores do not run several Chromiums well.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const CHROMIUM: &str = "/usr/bin/chromium";

/// A headless Chromium session and the chromedriver behind it.
pub struct Browser {
    pub client: Client,
    driver_url: String,
    _driver: Child,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// Why the browser tests cannot run here, if they cannot.
fn missing() -> Option<String> {
    if !Path::new(CHROMIUM).is_file() {
        return Some(format!(
            "{CHROMIUM} is not installed (apt-get install chromium)"
        ));
    }
    if on_path("chromedriver").is_none() {
        return Some("chromedriver is not on PATH (apt-get install chromium-driver)".into());
    }
    None
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Browser {
    /// Starts chromedriver and a headless Chromium; `None` (after saying why) when they
    /// are not installed outside CI.
    pub async fn start() -> Option<Browser> {
        Self::start_with(&[]).await
    }

    /// As [`Browser::start`], with extra Chromium flags.
    pub async fn start_with(extra: &[&str]) -> Option<Browser> {
        if let Some(why) = missing() {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("browser tests cannot run in CI: {why}");
            }
            eprintln!("skipping the browser test: {why}");
            return None;
        }
        let turn = ONE_AT_A_TIME.lock().await;
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let driver_url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let mut ready = false;
        for _ in 0..200 {
            if http
                .get(format!("{driver_url}/status"))
                .send()
                .await
                .is_ok()
            {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(ready, "chromedriver did not answer on {driver_url}");
        let mut args = vec![
            "--headless=new",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1280,1000",
        ];
        // Chromium's sandbox refuses to run as root.
        let root = std::fs::metadata("/proc/self").is_ok_and(|m| {
            use std::os::unix::fs::MetadataExt as _;
            m.uid() == 0
        });
        if root {
            args.push("--no-sandbox");
        }
        args.extend_from_slice(extra);
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let caps = caps.as_object().expect("object").clone();
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&driver_url)
            .await
            .expect("a Chromium session");
        Some(Browser {
            client,
            driver_url,
            _driver: driver,
            _turn: turn,
        })
    }

    /// The browser console's entries (chromedriver's log endpoint), drained.
    pub async fn console(&self) -> Vec<Value> {
        let id = self
            .client
            .session_id()
            .await
            .expect("session id")
            .expect("a session");
        let resp: Value = reqwest::Client::new()
            .post(format!("{}/session/{id}/se/log", self.driver_url))
            .json(&json!({"type": "browser"}))
            .send()
            .await
            .expect("log endpoint")
            .json()
            .await
            .expect("log JSON");
        resp["value"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("chromedriver's log endpoint answered {resp}"))
    }

    /// Runs a test body; on failure saves a screenshot and the page's HTML, then fails.
    /// Either way the browser console must hold no error.
    pub async fn run<F>(&self, name: &str, body: F)
    where
        F: std::future::Future<Output = ()>,
    {
        let outcome = AssertUnwindSafe(body).catch_unwind().await;
        let errors: Vec<Value> = self
            .console()
            .await
            .into_iter()
            .filter(|e| e["level"] == "SEVERE")
            .collect();
        if outcome.is_err() || !errors.is_empty() {
            self.keep_evidence(name).await;
        }
        let _ = self.client.clone().close().await;
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
        assert!(errors.is_empty(), "browser console errors: {errors:#?}");
    }

    async fn keep_evidence(&self, name: &str) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/console-failures");
        let _ = std::fs::create_dir_all(&dir);
        if let Ok(png) = self.client.screenshot().await {
            let path = dir.join(format!("{name}.png"));
            if std::fs::write(&path, png).is_ok() {
                eprintln!("screenshot of the failing page: {}", path.display());
            }
        }
        if let Ok(html) = self.client.source().await {
            let path = dir.join(format!("{name}.html"));
            if std::fs::write(&path, html).is_ok() {
                eprintln!("HTML of the failing page: {}", path.display());
            }
        }
    }

    /// Waits up to `secs` for an element matching `css`.
    pub async fn wait_css(&self, css: &str, secs: u64) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(secs))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css} within {secs}s: {e}"))
    }

    /// Waits up to `secs` for `script` (a JS expression) to be truthy.
    pub async fn wait_js(&self, script: &str, secs: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let v = self.js(&format!("return !!({script});")).await;
            if v == Value::Bool(true) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "`{script}` did not hold within {secs}s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs `script` (a function body) in the page and returns its value.
    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Opens a console page of `app`.
    pub async fn open(&self, app: &TestApp, path: &str) {
        self.client.goto(&app.url(path)).await.expect("page opens");
        // The script has wired the page (it sets this last).
        self.wait_js("document.body.dataset.ready === 'true'", 10)
            .await;
    }

    /// Imports `app`'s client key on the key page and waits until it is stored.
    pub async fn import_key(&self, app: &TestApp, pem: &str, client_id: &str) {
        self.open(app, "/ui/keys").await;
        self.wait_css("textarea[name=key]", 10).await;
        // Typing a PEM key by key is slow; set the field's value directly.
        self.client
            .execute(
                "document.querySelector('textarea[name=key]').value = arguments[0];",
                vec![json!(pem)],
            )
            .await
            .expect("key pasted");
        self.client
            .find(Locator::Css("[data-action=save-key]"))
            .await
            .expect("save button")
            .click()
            .await
            .expect("save clicked");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let status = self
                .js("const s = document.querySelector('#key-status'); \
                     return [s.dataset.clientId || '', s.textContent];")
                .await;
            if status[0] == client_id {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the key was not imported: {}",
                status[1]
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
