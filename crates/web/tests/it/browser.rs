//! The pages in a real browser: Debian's chromium, driven through
//! chromedriver with fantoccini, against the whole application served on a
//! port of 127.0.0.1. SQLite only: the storage is tested on both engines
//! elsewhere; here it is the pages, forms, cookies, redirects and uploads as
//! a browser sends them.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's
//! `chromium` and `chromium-driver`; `.ci/run` installs them). Without them
//! these tests fail and say so: they do not pass quietly.
//!
//! Screenshots of every step go to
//! `$CARGO_TARGET_DIR/browser-screenshots/<test>/<step>.png` (else
//! `target/…` of the workspace); where a test failed, `failed.png` and
//! `failed.html` show the page it failed on.
//!
//! Elements are found by ids, `name`s, form `action`s and `data-*`
//! attributes, never by their text: the pages are in two languages.

use crate::harness::{Cred, TestApp, ADMIN_PASSWORD};
use bihuan_domain::hazard::HazardState;
use bihuan_domain::role::Role;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// How long to wait for an element, a page or chromedriver.
const WAIT: Duration = Duration::from_secs(20);

/// One browser at a time: each test starts its own chromedriver (on a port
/// of its own) and chromium, and the other tests of the suite run beside it
/// on two cores.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[derive(Clone, Copy)]
struct Screen {
    width: u32,
    height: u32,
    /// Emulate a phone: touch, the viewport meta tag honoured, 2× pixels.
    phone: bool,
}

const DESKTOP: Screen = Screen { width: 1280, height: 800, phone: false };
const PHONE: Screen = Screen { width: 375, height: 812, phone: true };

// ------------------------------------------------------------ the machinery

/// Where the screenshots of `test` go: `<target>/browser-screenshots/<test>`.
fn screenshot_dir(test: &str) -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) if Path::new(&t).is_absolute() => PathBuf::from(t),
        Some(t) => workspace.join(t),
        None => workspace.join("target"),
    };
    target.join("browser-screenshots").join(test)
}

/// chromedriver, in a process group of its own with the chromium it
/// starts; killed with the group when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    async fn start(log: &Path) -> Driver {
        if !Path::new(CHROMEDRIVER).exists() || !Path::new(CHROMIUM).exists() {
            panic!(
                "browser tests need {CHROMIUM} and {CHROMEDRIVER}: install Debian's packages \
                 (`apt-get install chromium chromium-driver`) or run `.ci/run`, which installs them"
            );
        }
        // A free port can be taken between asking and binding: try again on another.
        for _ in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
            let child = std::os::unix::process::CommandExt::process_group(
                Command::new(CHROMEDRIVER).arg(format!("--port={port}")).arg(format!("--log-path={}", log.display())),
                0,
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {CHROMEDRIVER}: {e}"));
            let mut driver = Driver { child, port };
            if driver.ready().await {
                return driver;
            }
        }
        panic!("{CHROMEDRIVER} did not answer on three ports; its log: {}", log.display())
    }

    /// Waits until `/status` says ready; false when chromedriver exits or never does.
    async fn ready(&mut self) -> bool {
        let started = Instant::now();
        while started.elapsed() < WAIT {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return false;
            }
            if status_ready(self.port).await {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }
}

async fn status_ready(port: u16) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else { return false };
    let req = format!("GET /status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).await.is_err() {
        return false;
    }
    // chromedriver keeps the connection open: read until the answer is in.
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(Ok(n @ 1..)) = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await {
        out.extend_from_slice(buf.get(..n).unwrap_or_default());
        if String::from_utf8_lossy(&out).replace(' ', "").contains("\"ready\":true") {
            return true;
        }
    }
    false
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group: chromedriver and, should its session not have been
        // closed, the chromium it started.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stdout(Stdio::null()).stderr(Stdio::null()).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Serves the test application's router on a port of 127.0.0.1, with the
/// peer address the login throttle reads. The task ends with the test's runtime.
async fn serve(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let service = app.router.clone().into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, service).await {
            eprintln!("the test server stopped: {e}");
        }
    });
    format!("http://{addr}")
}

async fn connect(driver: &Driver, screen: Screen, profile: &Path) -> Client {
    let args = [
        "--headless=new".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--no-first-run".into(),
        format!("--window-size={},{}", screen.width, screen.height),
        format!("--user-data-dir={}", profile.display()),
    ];
    let mut options = json!({ "binary": CHROMIUM, "args": args });
    if screen.phone {
        options["mobileEmulation"] = json!({
            "deviceMetrics": { "width": screen.width, "height": screen.height, "pixelRatio": 2.0, "mobile": true, "touch": true }
        });
    }
    let caps = json!({ "browserName": "chrome", "goog:chromeOptions": options });
    let caps = caps.as_object().cloned().unwrap_or_default();
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .unwrap_or_else(|e| panic!("chromedriver could not start {CHROMIUM}: {e}"));
    let timeouts = fantoccini::wd::TimeoutConfiguration::new(Some(Duration::from_secs(30)), Some(WAIT), Some(Duration::ZERO));
    client.update_timeouts(timeouts).await.expect("set timeouts");
    if !screen.phone {
        // --window-size is the window's, a little more than the page's: grow it by the difference.
        let inner = client.execute("return [window.innerWidth, window.innerHeight]", vec![]).await.expect("viewport");
        let (iw, ih) = (inner[0].as_u64().unwrap_or(0) as u32, inner[1].as_u64().unwrap_or(0) as u32);
        let (w, h) = (2 * screen.width - iw.min(screen.width), 2 * screen.height - ih.min(screen.height));
        client.set_window_size(w, h).await.expect("window size");
        let inner = client.execute("return [window.innerWidth, window.innerHeight]", vec![]).await.expect("viewport");
        assert_eq!(inner, json!([screen.width, screen.height]), "the page's viewport");
    }
    // (A phone's viewport is its size only on a page that asks for the device width.)
    client
}

/// Runs `scenario` in a browser of `screen` size on `app` served on a real
/// port. A failing scenario leaves `failed.png`; the browser is closed and
/// chromedriver ended either way, then the failure goes on.
async fn in_browser<F, Fut>(test: &'static str, screen: Screen, app: TestApp, scenario: F)
where
    F: FnOnce(TestApp, Browser) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = screenshot_dir(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    let base = serve(&app).await;
    let started = Instant::now();
    let driver = Driver::start(&dir.join("chromedriver.log")).await;
    let profile = tempfile::tempdir().expect("a profile directory");
    let client = tokio::time::timeout(WAIT, connect(&driver, screen, profile.path())).await.expect("chromium started in time");
    eprintln!("{test}: chromium ready in {:.1} s", started.elapsed().as_secs_f64());
    let b = Browser { c: client.clone(), base, phone: screen.phone, shots: dir.clone(), step: Arc::new(AtomicUsize::new(0)) };
    let outcome = tokio::spawn(scenario(app, b.clone())).await;
    if outcome.is_err() && !dir.join("failed.png").exists() {
        b.keep_failed().await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
    drop(driver);
    eprintln!("{test}: {:.1} s in the browser; screenshots in {}", started.elapsed().as_secs_f64(), dir.display());
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(p) => std::panic::resume_unwind(p),
            Err(e) => panic!("{test}: {e}"),
        }
    }
}

/// A DevTools command with its parameters, sent through chromedriver's
/// `goog/cdp/execute`.
#[derive(Debug)]
struct Cdp(&'static str, Value);

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/goog/cdp/execute", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (axum::http::Method::POST, Some(json!({ "cmd": self.0, "params": self.1 }).to_string()))
    }
}

/// A browser session with helpers that find things by stable attributes.
#[derive(Clone)]
struct Browser {
    c: Client,
    base: String,
    phone: bool,
    shots: PathBuf,
    step: Arc<AtomicUsize>,
}

impl Browser {
    async fn goto(&self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// The path of the page shown (no query).
    async fn path(&self) -> String {
        self.c.current_url().await.expect("current URL").path().to_string()
    }

    /// The element at `css`, waiting for it to appear.
    async fn find(&self, css: &str) -> Element {
        match self.c.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
            Ok(e) => e,
            Err(e) => panic!("{}", self.failure(&format!("no element {css} on {}: {e}", self.path().await)).await),
        }
    }

    /// Whether `css` is on the page now.
    async fn has(&self, css: &str) -> bool {
        self.c.find(Locator::Css(css)).await.is_ok()
    }

    async fn attr(&self, css: &str, name: &str) -> String {
        self.find(css).await.attr(name).await.ok().flatten().unwrap_or_default()
    }

    /// Types `text` into the field at `css`, replacing what is there.
    async fn fill(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        e.clear().await.unwrap_or_else(|err| panic!("clear {css}: {err}"));
        e.send_keys(text).await.unwrap_or_else(|err| panic!("type into {css}: {err}"));
    }

    async fn choose(&self, css: &str, value: &str) {
        self.find(css).await.select_by_value(value).await.unwrap_or_else(|e| panic!("choose {value} in {css}: {e}"));
    }

    /// Gives the file input at `css` a file, as a person picking a photo does.
    async fn attach(&self, css: &str, file: &Path) {
        self.find(css).await.send_keys(&file.display().to_string()).await.unwrap_or_else(|e| panic!("attach to {css}: {e}"));
    }

    /// Clicks the button at `css` and waits for the page its form brings.
    async fn submit(&self, css: &str) {
        let old = self.find("html").await;
        let button = self.find(css).await;
        button.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
        let started = Instant::now();
        // The old page's root goes stale when the new page replaces it.
        while old.tag_name().await.is_ok() {
            if started.elapsed() > WAIT {
                panic!("{}", self.failure(&format!("clicking {css} brought no new page")).await);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        while self.js("return document.readyState").await != json!("complete") {
            if started.elapsed() > WAIT {
                panic!("{}", self.failure(&format!("the page after clicking {css} did not finish loading")).await);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves a screenshot of the page as `NN-<step>.png`. On a phone, the
    /// page must fit its width: nothing to scroll sideways.
    async fn shot(&self, step: &str) {
        let n = self.step.fetch_add(1, Ordering::SeqCst) + 1;
        self.shot_as(&format!("{n:02}-{step}")).await;
        if self.phone {
            let widths = self.js("return [document.documentElement.scrollWidth, document.documentElement.clientWidth]").await;
            self.check(widths[0].as_u64() <= widths[1].as_u64(), &format!("{step}: the page is wider than the phone (scroll and client width {widths})")).await;
        }
    }

    async fn shot_as(&self, name: &str) {
        let png = self.full_page_png().await.unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
        let file = self.shots.join(format!("{name}.png"));
        std::fs::write(&file, png).unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
    }

    /// The whole page, not only the viewport (WebDriver's screenshot): the
    /// DevTools command through chromedriver, as wide as the screen and as
    /// long as the page (at most 8000 CSS pixels).
    async fn full_page_png(&self) -> Result<Vec<u8>, String> {
        use base64::Engine;
        let size = self.c.issue_cmd(Cdp("Page.getLayoutMetrics", json!({}))).await.map_err(|e| e.to_string())?;
        let (w, h) = (&size["cssContentSize"]["width"], &size["cssContentSize"]["height"]);
        let (w, h) = (w.as_f64().unwrap_or(800.0).ceil(), h.as_f64().unwrap_or(600.0).ceil().min(8000.0));
        let clip = json!({ "x": 0, "y": 0, "width": w, "height": h, "scale": 1 });
        let shot = self
            .c
            .issue_cmd(Cdp("Page.captureScreenshot", json!({ "format": "png", "captureBeyondViewport": true, "clip": clip })))
            .await
            .map_err(|e| e.to_string())?;
        base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().unwrap_or_default()).map_err(|e| e.to_string())
    }

    /// Keeps what the browser shows (`failed.png`, `failed.html`), for `msg` to panic with.
    async fn failure(&self, msg: &str) -> String {
        self.keep_failed().await;
        msg.to_string()
    }

    async fn keep_failed(&self) {
        let _ = tokio::time::timeout(Duration::from_secs(10), self.shot_as("failed")).await;
        if let Ok(Ok(html)) = tokio::time::timeout(Duration::from_secs(10), self.c.source()).await {
            let _ = std::fs::write(self.shots.join("failed.html"), html);
        }
    }

    /// Panics with `msg` (after a screenshot) unless `ok`.
    async fn check(&self, ok: bool, msg: &str) {
        if !ok {
            panic!("{}", self.failure(msg).await);
        }
    }

    async fn js(&self, script: &str) -> Value {
        self.c.execute(script, vec![]).await.unwrap_or_else(|e| panic!("script {script}: {e}"))
    }

    /// Logs in through the login form; lands on the workbench (`/`).
    async fn login(&self, username: &str, password: &str) {
        self.goto("/login").await;
        self.fill("#username", username).await;
        self.fill("#password", password).await;
        self.submit("form[action='/login'] button[type=submit]").await;
        let path = self.path().await;
        self.check(path == "/", &format!("{username} logged in and landed on {path}, not /")).await;
        self.find("header.top nav a[data-nav='workbench']").await;
    }

    /// Logs out with the header's button; lands on the login form.
    async fn logout(&self) {
        self.submit("header.top form[action='/logout'] button").await;
        let path = self.path().await;
        self.check(path == "/login", &format!("logged out onto {path}, not /login")).await;
        self.find("form[action='/login']").await;
    }

    /// The `data-nav` of each link in the header's navigation.
    async fn nav(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for a in self.c.find_all(Locator::Css("header.top [data-nav]")).await.expect("nav links") {
            out.insert(a.attr("data-nav").await.ok().flatten().unwrap_or_default());
        }
        out
    }
}

// ------------------------------------------------------------ the demo town

/// The demo town (`bihuan serve --demo`): its accounts and their passwords,
/// and the administrator.
async fn demo_accounts(app: &TestApp) -> HashMap<String, (Role, String)> {
    let mut out: HashMap<String, (Role, String)> =
        app.svc.load_demo().await.expect("load the demo town").into_iter().map(|a| (a.username, (a.role, a.password))).collect();
    out.insert("admin".into(), (Role::Admin, ADMIN_PASSWORD.into()));
    out
}

/// What each role finds in the header: every link (warnings, circulars and
/// the inbox included) but the cockpit (enterprises, experts), users (those
/// who manage users) and the audit log (admin).
fn expected_nav(role: Role) -> BTreeSet<String> {
    let mut nav: BTreeSet<String> =
        ["workbench", "hazards", "warnings", "circulars", "measures", "campaign", "units", "inbox", "account"].map(String::from).into();
    if !matches!(role, Role::Enterprise | Role::Expert) {
        nav.insert("cockpit".into());
    }
    if matches!(role, Role::Admin | Role::Office | Role::Locality | Role::Enterprise) {
        nav.insert("users".into());
    }
    if role == Role::Admin {
        nav.insert("audit".into());
    }
    nav
}

// ------------------------------------------------------------------- tests

/// Every role's demo user logs in through the form at desktop size, lands on
/// the workbench with the header its role gets, and logs out.
async fn login_each_role(app: TestApp, b: Browser) {
    let accounts = demo_accounts(&app).await;
    b.goto("/").await;
    let path = b.path().await;
    b.check(path == "/login", &format!("an anonymous visit to / shows {path}, not the login form")).await;
    b.shot("login-form").await;
    let roles: BTreeSet<&str> = accounts.values().map(|(r, _)| r.as_str()).collect();
    assert_eq!(roles, Role::ALL.iter().map(|r| r.as_str()).collect(), "a demo user for every role");
    let mut names: Vec<&String> = accounts.keys().collect();
    names.sort_by_key(|n| Role::ALL.iter().position(|r| *r == accounts[*n].0));
    for username in names {
        let (role, password) = &accounts[username];
        let role = role.as_str();
        b.login(username, password).await;
        let nav = b.nav().await;
        let want = expected_nav(accounts[username].0);
        b.check(nav == want, &format!("{username} ({role}) sees the header links {nav:?}, expected {want:?}")).await;
        let current = b.attr("header.top nav a[aria-current='page']", "data-nav").await;
        b.check(current == "workbench", &format!("{username}: the workbench is not marked current ({current})")).await;
        b.shot(&format!("{role}-workbench")).await;
        b.logout().await;
        // The session is over: the workbench asks for a login again.
        b.goto("/").await;
        let path = b.path().await;
        b.check(path == "/login", &format!("after {username} logged out, / shows {path}")).await;
    }
    b.shot("logged-out").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_browser_login_each_role() {
    let _one = ONE_BROWSER.lock().await;
    crate::harness::on_sqlite(|app| in_browser("login_each_role", DESKTOP, app, login_each_role)).await
}

/// The hazard's state as its page shows it, and as the JSON API says it.
async fn state_on_page(b: &Browser) -> String {
    b.attr(".status-line[data-state]", "data-state").await
}

async fn api_hazard(app: &TestApp, token: &str, id: &str) -> Value {
    let r = app.get(&format!("/api/v1/hazards/{id}"), Cred::Bearer(token)).await;
    assert_eq!(r.status, axum::http::StatusCode::OK, "{}", r.text());
    r.json()
}

/// After an action: the page says it was done, shows no errors, and shows
/// the state the API reports.
async fn expect_state(app: &TestApp, b: &Browser, token: &str, id: &str, want: HazardState, step: &str) {
    b.check(!b.has(".error-summary").await, &format!("{step}: the page shows errors")).await;
    b.check(b.has(".flash.ok").await, &format!("{step}: the page does not confirm it")).await;
    let page = state_on_page(b).await;
    b.check(page == want.as_str(), &format!("{step}: the page shows the state {page}, expected {}", want.as_str())).await;
    let api = api_hazard(app, token, id).await;
    let state = api["hazard"]["state"].as_str().unwrap_or_default().to_string();
    b.check(state == want.as_str(), &format!("{step}: the API says {state}, expected {}", want.as_str())).await;
    b.shot(step).await;
}

/// Waits until the page's galleries show `want` photos, loaded (they load
/// lazily: scrolled into view first).
async fn photos_shown(b: &Browser, want: usize) {
    let count = "return Array.from(document.querySelectorAll('.gallery img')).filter(i => i.complete && i.naturalWidth > 0).length";
    b.js("document.querySelector('.gallery')?.scrollIntoView({block: 'center'}); return null").await;
    let started = Instant::now();
    let mut shown = b.js(count).await;
    while shown != json!(want) && started.elapsed() < WAIT {
        tokio::time::sleep(Duration::from_millis(100)).await;
        shown = b.js(count).await;
    }
    b.check(shown == json!(want), &format!("the hazard shows {shown} loaded photos, expected {want}")).await;
}

/// The action form for `action` on the hazard's page (by the hidden field
/// the server reads), opened if it sits in a closed `<details>`.
async fn action_form(b: &Browser, action: &str) -> String {
    let form = format!("form:has(input[name='action'][value='{action}'])");
    b.find(&form).await;
    let closed = format!("details:not([open]):has(> {form}) > summary");
    if b.has(&closed).await {
        b.find(&closed).await.click().await.expect("open the form");
    }
    form
}

/// The whole loop at phone size, through the pages: the grid inspector
/// reports with a photo, the village assigns, the enterprise plans, starts
/// and submits with a photo after, the inspector sends it back, the
/// enterprise submits again, the inspector accepts and closes it.
async fn hazard_loop_on_a_phone(app: TestApp, b: Browser) {
    let accounts = demo_accounts(&app).await;
    let pw = |u: &str| accounts[u].1.clone();
    let firm = app.svc.user_by_name("demo-enterprise").await.unwrap().unwrap().unit_id.to_string();
    let office = app.svc.user_by_name("demo-office").await.unwrap().unwrap().id;
    let token = crate::world::token(&app, office).await;
    let photos = tempfile::tempdir().unwrap();
    let photo = |name: &str| {
        let p = photos.path().join(name);
        std::fs::write(&p, crate::matrix_png()).unwrap();
        p
    };
    let (before, after1, after2) = (photo("before.png"), photo("after-1.png"), photo("after-2.png"));

    // The inspector reports.
    b.login("demo-inspector", &pw("demo-inspector")).await;
    let viewport = b.js("return [window.innerWidth, window.innerHeight]").await;
    b.check(viewport == json!([PHONE.width, PHONE.height]), &format!("the phone's viewport is {viewport}")).await;
    b.shot("inspector-workbench").await;
    b.goto("/hazards/new").await;
    b.shot("report-form").await;
    b.choose("#unit", &firm).await;
    b.fill("#name", "二号车间消防通道堵塞").await;
    b.fill("#description", "东侧消防通道堆放托盘，通道宽度不足一米").await;
    b.attach("#before", &before).await;
    b.fill("#location", "二号车间东侧").await;
    b.choose("#hazard_type", "fire").await;
    b.find("input[name='level'][value='general']").await.click().await.unwrap();
    b.find("input[name='manage_type'][value='deadline']").await.click().await.unwrap();
    b.shot("report-form-filled").await;
    b.submit("#hazard-form button[type=submit]").await;
    let path = b.path().await;
    let id = path.strip_prefix("/hazards/").unwrap_or_default().to_string();
    b.check(!id.is_empty() && !id.contains('/'), &format!("reporting landed on {path}, not the hazard")).await;
    photos_shown(&b, 1).await;
    expect_state(&app, &b, &token, &id, HazardState::Reported, "reported").await;
    let h = api_hazard(&app, &token, &id).await;
    assert_eq!(h["hazard"]["unit"]["id"], firm, "{h}");
    assert_eq!(h["hazard"]["name"], "二号车间消防通道堵塞");
    assert_eq!(h["hazard"]["hazard_type"], "fire");
    b.logout().await;

    // The village assigns: the enterprise, its safety officer, 10 working days.
    b.login("demo-locality", &pw("demo-locality")).await;
    b.goto(&format!("/hazards/{id}")).await;
    let form = action_form(&b, "assign").await;
    b.fill(&format!("{form} [name='responsible_person']"), "王安全").await;
    b.fill(&format!("{form} [name='responsible_phone']"), "13900001111").await;
    b.fill(&format!("{form} [name='deadline_days']"), "10").await;
    b.choose(&format!("{form} [name='deadline_basis']"), "working").await;
    b.fill(&format!("{form} [name='comment']"), "请立即清理通道").await;
    b.shot("assign-form-filled").await;
    b.submit(&format!("{form} button")).await;
    expect_state(&app, &b, &token, &id, HazardState::Assigned, "assigned").await;
    let h = api_hazard(&app, &token, &id).await["hazard"].clone();
    // 10 working days from Saturday 1 May 2021, across the May Day holiday.
    assert_eq!((h["responsible_unit"]["id"].as_str(), h["responsible_person"].as_str()), (Some(firm.as_str()), Some("王安全")), "{h}");
    assert_eq!(h["deadline"], "2021-05-18", "{h}");
    b.logout().await;

    // The enterprise fills in the five-in-place, starts, and submits with a photo.
    b.login("demo-enterprise", &pw("demo-enterprise")).await;
    b.goto(&format!("/hazards/{id}")).await;
    b.shot("enterprise-sees-assigned").await;
    let plan = format!("form[action='/hazards/{id}/plan']");
    b.find(&plan).await;
    b.fill(&format!("{plan} [name='measures']"), "清理托盘，划定通道标线").await;
    b.fill(&format!("{plan} [name='funds']"), "0.2").await;
    b.fill(&format!("{plan} [name='contingency']"), "清理前专人值守").await;
    b.submit(&format!("{plan} button")).await;
    expect_state(&app, &b, &token, &id, HazardState::Assigned, "planned").await;
    let form = action_form(&b, "start").await;
    b.submit(&format!("{form} button")).await;
    expect_state(&app, &b, &token, &id, HazardState::Rectifying, "started").await;
    let form = action_form(&b, "submit").await;
    b.fill(&format!("{form} [name='rectification']"), "托盘已移走，通道已清空").await;
    b.attach(&format!("{form} input[type=file][name='after']"), &after1).await;
    b.shot("submit-form-filled").await;
    b.submit(&format!("{form} button")).await;
    photos_shown(&b, 2).await;
    expect_state(&app, &b, &token, &id, HazardState::Submitted, "submitted").await;
    b.logout().await;

    // The inspector sends it back.
    b.login("demo-inspector", &pw("demo-inspector")).await;
    b.goto(&format!("/hazards/{id}")).await;
    b.shot("inspector-sees-submitted").await;
    let form = action_form(&b, "reject").await;
    b.fill(&format!("{form} [name='reason']"), "通道标线未划").await;
    b.submit(&format!("{form} button")).await;
    expect_state(&app, &b, &token, &id, HazardState::Rectifying, "sent-back").await;
    b.logout().await;

    // The enterprise sees why it was sent back, and submits again.
    b.login("demo-enterprise", &pw("demo-enterprise")).await;
    b.goto(&format!("/hazards/{id}")).await;
    let banner = b.find(".sent-back").await.text().await.unwrap_or_default();
    b.check(banner.contains("通道标线未划"), &format!("the sent-back banner reads {banner:?}")).await;
    let form = action_form(&b, "submit").await;
    b.fill(&format!("{form} [name='rectification']"), "托盘已移走，通道标线已划").await;
    b.attach(&format!("{form} input[type=file][name='after']"), &after2).await;
    b.submit(&format!("{form} button")).await;
    expect_state(&app, &b, &token, &id, HazardState::Submitted, "submitted-again").await;
    b.logout().await;

    // The inspector accepts and closes it.
    b.login("demo-inspector", &pw("demo-inspector")).await;
    b.goto(&format!("/hazards/{id}")).await;
    let form = action_form(&b, "accept").await;
    b.fill(&format!("{form} [name='comment']"), "复查合格").await;
    b.submit(&format!("{form} button")).await;
    photos_shown(&b, 3).await;
    expect_state(&app, &b, &token, &id, HazardState::Closed, "closed").await;
    let d = api_hazard(&app, &token, &id).await;
    let actions: Vec<&str> = d["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap_or_default()).collect();
    assert_eq!(actions.iter().filter(|a| **a != "attach").copied().collect::<Vec<_>>(), ["create", "assign", "plan", "start", "submit", "reject", "submit", "accept"], "{d}");
    assert_eq!(d["hazard"]["accepted_by"], "演示网格员", "{d}");
    let files = app.get(&format!("/api/v1/hazards/{id}/attachments"), Cred::Bearer(&token)).await.json();
    let roles: Vec<&str> = files.as_array().unwrap().iter().map(|a| a["role"].as_str().unwrap_or_default()).collect();
    assert_eq!(roles, ["before", "after", "after"], "{files}");
    b.logout().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_browser_hazard_loop_on_a_phone() {
    let _one = ONE_BROWSER.lock().await;
    crate::harness::on_sqlite(|app| in_browser("hazard_loop_on_a_phone", PHONE, app, hazard_loop_on_a_phone)).await
}

/// Waits until `script` returns true.
async fn until(b: &Browser, script: &str, what: &str) {
    let started = Instant::now();
    while b.js(script).await != json!(true) {
        if started.elapsed() > WAIT {
            panic!("{}", b.failure(&format!("waited in vain: {what}")).await);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn network(b: &Browser, online: bool) {
    b.c.issue_cmd(Cdp("Network.enable", json!({}))).await.expect("Network.enable");
    b.c.issue_cmd(Cdp(
        "Network.emulateNetworkConditions",
        json!({ "offline": !online, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 }),
    ))
    .await
    .expect("network conditions");
}

/// A report drafted in a workshop without network: the draft survives
/// leaving the page; sending it while offline keeps it, photo and all, on
/// the phone; when the network returns it is sent, once.
async fn offline_report_on_a_phone(app: TestApp, b: Browser) {
    let accounts = demo_accounts(&app).await;
    let firm = app.svc.user_by_name("demo-enterprise").await.unwrap().unwrap().unit_id.to_string();
    let office = app.svc.user_by_name("demo-office").await.unwrap().unwrap().id;
    let token = crate::world::token(&app, office).await;
    let photos = tempfile::tempdir().unwrap();
    let photo = photos.path().join("before.png");
    std::fs::write(&photo, crate::matrix_png()).unwrap();
    let named = |app: TestApp, token: String| async move {
        let r = app.get("/api/v1/hazards?q=%E6%B0%A8%E6%B0%94&limit=50", Cred::Bearer(&token)).await.json();
        r["items"].as_array().unwrap().iter().filter(|h| h["name"] == "液氨储罐区氨气报警仪失灵").cloned().collect::<Vec<Value>>()
    };

    b.login("demo-inspector", &accounts["demo-inspector"].1).await;
    b.goto("/hazards/new").await;
    // Sent empty: each missing field says so under itself, and the first takes the focus.
    b.find("#hazard-form button[type=submit]").await.click().await.unwrap();
    b.find("#name-inline-error").await;
    b.check(b.js("return document.activeElement && document.activeElement.id").await == json!("unit"), "the first missing field has the focus").await;
    b.check(b.attr("#name", "aria-invalid").await == "true", "the name is marked invalid").await;
    b.check(b.attr("#name", "aria-describedby").await.contains("name-inline-error"), "the message describes the field").await;
    b.shot("inline-messages").await;
    b.fill("#name", "x").await;
    b.check(!b.has("#name-inline-error").await, "the name's message went once it was filled").await;
    b.choose("#unit", &firm).await;
    b.fill("#name", "液氨储罐区氨气报警仪失灵").await;
    b.fill("#description", "报警仪测试无响应").await;
    // Leaving the page and coming back brings the draft back.
    b.goto("/").await;
    b.goto("/hazards/new").await;
    b.find("[data-draft-notice]:not([hidden])").await;
    let name = b.find("#name").await.prop("value").await.unwrap().unwrap_or_default();
    b.check(name == "液氨储罐区氨气报警仪失灵", &format!("the draft's name came back as {name:?}")).await;
    b.shot("draft-restored").await;

    // The network drops; the report is kept on the phone.
    network(&b, false).await;
    until(&b, "return navigator.onLine === false", "the page to know it is offline").await;
    b.attach("#before", &photo).await;
    b.find("#hazard-form button[type=submit]").await.click().await.unwrap();
    until(&b, "return !document.querySelector('[data-outbox]').hidden && document.querySelector('[data-outbox-count]').textContent === '1'", "the report in the outbox").await;
    b.check(b.js("return document.querySelector('#name').value").await == json!(""), "the form is empty for the next report").await;
    b.shot("kept-offline").await;
    assert!(named(app.clone(), token.clone()).await.is_empty(), "nothing reached the server while offline");

    // The network returns: the report is sent, once, with its photo.
    network(&b, true).await;
    until(&b, "return document.querySelector('[data-outbox]').hidden", "the outbox to empty").await;
    b.shot("sent-when-online").await;
    let found = named(app.clone(), token.clone()).await;
    assert_eq!(found.len(), 1, "{found:?}");
    let id = found[0]["id"].as_str().unwrap().to_string();
    let files = app.get(&format!("/api/v1/hazards/{id}/attachments"), Cred::Bearer(&token)).await.json();
    assert_eq!(files.as_array().map(Vec::len), Some(1), "the photo went with it: {files}");
    // Another page load sends nothing again.
    b.goto("/").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(named(app.clone(), token.clone()).await.len(), 1);
    b.logout().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_browser_offline_report_on_a_phone() {
    let _one = ONE_BROWSER.lock().await;
    crate::harness::on_sqlite(|app| in_browser("offline_report_on_a_phone", PHONE, app, offline_report_on_a_phone)).await
}

/// The cockpit's figures as the page shows them: label → (number, link).
async fn cockpit_tiles(b: &Browser) -> Value {
    b.js(
        "var out = {}; document.querySelectorAll('.tiles > div').forEach(function (d) { \
           var a = d.querySelector('dd a'); \
           out[d.querySelector('dt').textContent.trim()] = [parseInt(a.textContent.replace(/,/g, ''), 10), a.getAttribute('href')]; }); \
         return out;",
    )
    .await
}

/// The leader opens the cockpit: its figures are the API's, a figure leads
/// to a list of as many hazards, and the page switches to English and back.
async fn cockpit_and_languages(app: TestApp, b: Browser) {
    let accounts = demo_accounts(&app).await;
    let leader = app.svc.user_by_name("demo-leader").await.unwrap().unwrap().id;
    let token = crate::world::token(&app, leader).await;
    b.login("demo-leader", &accounts["demo-leader"].1).await;
    b.goto("/cockpit").await;
    b.shot("cockpit").await;
    let tiles = cockpit_tiles(&b).await;
    let api = app.get("/api/v1/hazards/stats", Cred::Bearer(&token)).await.json();
    for (label, field) in [("隐患总数", "total"), ("已销号", "closed"), ("未销号", "open"), ("逾期未整改", "overdue"), ("重大隐患", "major"), ("挂牌督办", "listed")] {
        b.check(tiles[label][0] == api["total"][field], &format!("cockpit {label} {} but the API's {field} is {}", tiles[label][0], api["total"][field])).await;
    }
    let rate = api["total"]["rectification_rate"].as_str().unwrap_or("—").to_string();
    let svg_text = b.js("return document.querySelector('.gauges').textContent").await;
    b.check(svg_text.as_str().unwrap_or_default().contains(&rate), &format!("the rectification rate {rate} is not on the gauge: {svg_text}")).await;
    // The open figure leads to the open hazards, as many as it says.
    let open = tiles["未销号"][0].as_i64().unwrap_or(-1);
    b.find(".tiles a[href*='state=open']").await.click().await.unwrap();
    until(&b, "return location.pathname === '/hazards' && document.readyState === 'complete'", "the list behind the open figure").await;
    let rows = b.js("return document.querySelectorAll('table.hazards tbody tr').length").await.as_i64().unwrap_or(-1);
    b.check(rows == open, &format!("the open figure says {open}, its list shows {rows} rows")).await;
    b.shot("open-hazards").await;

    // To English and back, from the header.
    b.goto("/cockpit").await;
    b.submit("header.top form.lang button").await;
    b.check(b.js("return document.documentElement.lang").await == json!("en-US"), "English after the switch").await;
    b.check(b.path().await == "/cockpit", "the switch comes back to the same page").await;
    let nav = b.js("return document.querySelector('header.top nav').textContent").await;
    let nav = nav.as_str().unwrap_or_default().to_string();
    b.check(nav.contains("Cockpit") && !nav.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), &format!("the English header reads {nav:?}")).await;
    let heading = b.js("return document.querySelector('h1').textContent").await;
    b.check(heading.as_str().unwrap_or_default().starts_with("Cockpit"), &format!("the English heading is {heading}")).await;
    b.shot("cockpit-in-english").await;
    let en_tiles = cockpit_tiles(&b).await;
    b.check(en_tiles["Overdue"][0] == tiles["逾期未整改"][0], "the same figures in English").await;
    // The choice is the user's: a new login keeps it.
    b.logout().await;
    b.login("demo-leader", &accounts["demo-leader"].1).await;
    b.check(b.js("return document.documentElement.lang").await == json!("en-US"), "English again after logging in").await;
    b.submit("header.top form.lang button").await;
    b.check(b.js("return document.documentElement.lang").await == json!("zh-CN"), "Chinese after switching back").await;
    b.shot("back-in-chinese").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_browser_cockpit_and_languages() {
    let _one = ONE_BROWSER.lock().await;
    crate::harness::on_sqlite(|app| in_browser("cockpit_and_languages", DESKTOP, app, cockpit_and_languages)).await
}

/// A month after the demo town was loaded: the enterprise's phone shows
/// unread messages; one leads to its warning, which it acknowledges.
async fn warning_from_the_inbox_on_a_phone(app: TestApp, b: Browser) {
    let accounts = demo_accounts(&app).await;
    let sys = bihuan_service::Ctx::system("t");
    // Today's first run of each rule is quiet (one summary); a month on, the overdue warning escalates.
    app.svc.evaluate_warnings(&sys, None, &Default::default()).await.unwrap();
    app.clock.advance(time::Duration::days(30));
    let report = app.svc.evaluate_warnings(&sys, None, &Default::default()).await.unwrap();
    b.check(report.notifications > 0, &format!("a month on, warnings reach people: {:?}", report.counts)).await;
    b.login("demo-enterprise", &accounts["demo-enterprise"].1).await;
    let badge = b.js("return (document.querySelector('header.top .inbox .badge') || {}).textContent || ''").await;
    let unread: i64 = badge.as_str().unwrap_or_default().trim().parse().unwrap_or(0);
    b.check(unread > 0, &format!("the header shows unread messages: {badge}")).await;
    b.goto("/inbox").await;
    b.shot("inbox").await;
    b.find(".inbox-list li.unread a").await.click().await.unwrap();
    until(&b, "return location.pathname.startsWith('/warnings/') && document.readyState === 'complete'", "the warning behind the message").await;
    b.shot("warning").await;
    let id = b.path().await.trim_start_matches("/warnings/").to_string();
    b.fill("#comment", "已安排停产整改，本周内完成").await;
    b.submit("form[action$='/acknowledge'] button").await;
    until(&b, "return document.querySelector('.flash.ok') !== null", "the acknowledgement is confirmed").await;
    b.shot("acknowledged").await;
    let me = app.svc.user_by_name("demo-enterprise").await.unwrap().unwrap().id;
    let token = crate::world::token(&app, me).await;
    let w = app.get(&format!("/api/v1/warnings/{id}"), Cred::Bearer(&token)).await.json();
    b.check(w["warning"]["state"] == json!("acknowledged"), &format!("the API says {}", w["warning"]["state"])).await;
    b.check(w["events"].as_array().is_some_and(|e| e.iter().any(|e| e["comment"] == json!("已安排停产整改，本周内完成"))), "the comment is in the history").await;
    let after = b.js("return (document.querySelector('header.top .inbox .badge') || {}).textContent || '0'").await;
    let after: i64 = after.as_str().unwrap_or("0").trim().parse().unwrap_or(0);
    b.check(after == unread - 1, &format!("one message read: {unread} → {after}")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_browser_warning_from_the_inbox_on_a_phone() {
    let _one = ONE_BROWSER.lock().await;
    crate::harness::on_sqlite(|app| in_browser("warning_from_the_inbox_on_a_phone", PHONE, app, warning_from_the_inbox_on_a_phone)).await
}
