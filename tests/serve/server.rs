//! The harness of the `routec serve` end-to-end tests: a copy of the
//! example policy in a temporary directory, a fresh decision log (SQLite
//! beside the policy, or a new PostgreSQL database created through
//! `ROUTEC_TEST_POSTGRES`), the real binary on a free loopback port, and a
//! small blocking HTTP client. Every wait is bounded; the server is killed
//! when the test ends, passed or failed.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// The token every test client uses (`ROUTEC_TOKEN`: every route, admin included).
pub const TOKEN: &str = "e2e-admin-token";
/// A named client of the test config that may only route.
pub const ROUTE_ONLY_TOKEN: &str = "e2e-route-only-token";
/// Request bodies over this many bytes get 413 in these tests.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Longest wait for the server to announce itself, and for one request.
const START_TIMEOUT: Duration = Duration::from_secs(30);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// Which store a test runs against.
#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    /// The server URL from `ROUTEC_TEST_POSTGRES`; each test creates its own database in it.
    Postgres(String),
}

/// The PostgreSQL server to test against, if one is configured. Under CI
/// (`CI=true`) one must be: `.ci/run` starts it.
pub fn postgres() -> Option<Backend> {
    match std::env::var("ROUTEC_TEST_POSTGRES") {
        Ok(url) if !url.trim().is_empty() => Some(Backend::Postgres(url)),
        _ => None,
    }
}

/// A directory with the example policy (and its classifier model), and the
/// decision log's URL; kept across restarts of the server.
pub struct Site {
    dir: tempfile::TempDir,
    pub db: String,
    /// The PostgreSQL database to drop at the end, with the URL to drop it through.
    dropper: Option<(String, String)>,
}

impl Site {
    pub fn new(backend: &Backend) -> Site {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/saas-b2b");
        std::fs::copy(example.join("policy.route"), dir.path().join("policy.route")).expect("copy the policy");
        std::fs::create_dir(dir.path().join("models")).expect("models directory");
        std::fs::copy(example.join("models/intent.model"), dir.path().join("models/intent.model"))
            .expect("copy the model");
        let config = format!(
            "[clients.helpdesk]\ntoken = \"{ROUTE_ONLY_TOKEN}\"\nroutes = [\"route\"]\n\n[limits]\nmax_body_bytes = {MAX_BODY_BYTES}\n"
        );
        std::fs::write(dir.path().join("routec.toml"), config).expect("write the config");
        let (db, dropper) = match backend {
            Backend::Sqlite => (format!("sqlite:{}", dir.path().join("routec.db").display()), None),
            Backend::Postgres(server) => {
                let (db, name) = fresh_postgres_database(server);
                (db, Some((server.clone(), name)))
            }
        };
        Site { dir, db, dropper }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn policy(&self) -> PathBuf {
        self.dir.path().join("policy.route")
    }

    /// Replace the policy's text (written to a temporary file and renamed
    /// over it, as editors do).
    pub fn write_policy(&self, text: &str) {
        let tmp = self.dir.path().join(".policy.route.tmp");
        std::fs::write(&tmp, text).expect("write the new version");
        std::fs::rename(&tmp, self.policy()).expect("rename it over the policy");
    }

    pub fn read_policy(&self) -> String {
        std::fs::read_to_string(self.policy()).expect("read the policy")
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        if let Some((server, name)) = self.dropper.take() {
            // Best effort: a leftover test database is harmless.
            let _ = postgres_admin(&server, &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
        }
    }
}

/// A new, empty database on the PostgreSQL server at `server`: its URL and name.
fn fresh_postgres_database(server: &str) -> (String, String) {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let name = format!("routec_e2e_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
    postgres_admin(server, &format!("CREATE DATABASE \"{name}\"")).expect("create a test database");
    (with_database(server, &name), name)
}

/// `url` with its database replaced by `name` (query parameters kept).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

fn postgres_admin(server: &str, statement: &str) -> Result<(), String> {
    use sqlx::Connection as _;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let mut conn = sqlx::PgConnection::connect(server).await.map_err(|e| format!("connect to {server}: {e}"))?;
        sqlx::raw_sql(statement).execute(&mut conn).await.map_err(|e| format!("{statement}: {e}"))?;
        conn.close().await.map_err(|e| e.to_string())
    })
}

/// A running `routec serve`.
pub struct Server {
    child: Child,
    pub base: String,
    agent: ureq::Agent,
    log: Arc<Mutex<String>>,
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(REQUEST_TIMEOUT))
        .max_idle_connections_per_host(4)
        .build()
        .into()
}

impl Server {
    /// Start `routec serve` on the site, on a free loopback port, and wait for its start line.
    pub fn start(site: &Site) -> Server {
        Server::start_with(site, &[])
    }

    pub fn start_with(site: &Site, env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_routec"));
        cmd.arg("serve")
            .arg(site.policy())
            .args(["--listen", "127.0.0.1:0", "--db", &site.db, "--config"])
            .arg(site.path().join("routec.toml"))
            .current_dir(site.path())
            .env("ROUTEC_TOKEN", TOKEN)
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("routec serve starts");
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("stderr is piped");
        let stderr_log = log.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stderr);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                if let Ok(mut log) = stderr_log.lock() {
                    log.push_str(&line);
                }
                line.clear();
            }
        });
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                let _ = sender.send(std::mem::take(&mut line));
            }
        });
        let mut server = Server { child, base: String::new(), agent: agent(), log };
        let deadline = Instant::now() + START_TIMEOUT;
        while server.base.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(at) = line.find("http://127.0.0.1:") {
                        let rest = &line[at..];
                        server.base = rest.split_whitespace().next().unwrap_or(rest).to_string();
                    }
                }
                Err(_) => {
                    panic!("routec serve printed no address within {START_TIMEOUT:?}; its log:\n{}", server.log())
                }
            }
        }
        server
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server wrote to standard error so far.
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Reply {
        send(&self.agent, &self.base, method, path, token, body, headers)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}; the server's log:\n{}", self.log()))
    }

    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, Some(TOKEN), None, &[])
    }

    pub fn post(&self, path: &str, body: &str) -> Reply {
        self.request("POST", path, Some(TOKEN), Some(body), &[])
    }

    /// Announce a `POST` body of `length` bytes with `Expect: 100-continue`
    /// and send it only if the server asks for it: the status and body of
    /// the server's final answer. (A server that refuses a body by its
    /// declared length answers before reading it; a client that wrote the
    /// body anyway would see the connection reset instead of the answer.)
    pub fn post_declared_length(&self, path: &str, length: usize) -> Reply {
        use std::io::Write as _;
        let addr = self.base.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(REQUEST_TIMEOUT)).expect("a read timeout");
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {TOKEN}\r\ncontent-type: application/json\r\ncontent-length: {length}\r\nexpect: 100-continue\r\nconnection: close\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).expect("send the head");
        let mut reader = BufReader::new(stream.try_clone().expect("a second handle"));
        loop {
            let mut status_line = String::new();
            reader.read_line(&mut status_line).expect("a status line");
            let status: u16 = status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
            let mut headers = Vec::new();
            let mut line = String::new();
            while reader.read_line(&mut line).expect("a header") > 0 && !line.trim().is_empty() {
                if let Some((n, v)) = line.trim_end().split_once(':') {
                    headers.push((n.trim().to_string(), v.trim().to_string()));
                }
                line.clear();
            }
            if status == 100 {
                // The server wants the body after all.
                stream.write_all(&vec![b' '; length]).expect("send the body");
                continue;
            }
            let mut text = String::new();
            let _ = reader.read_to_string(&mut text);
            return Reply { status, headers, text };
        }
    }

    /// Send a signal by name (`HUP`, `TERM`, `KILL`) through kill(1).
    pub fn signal(&self, name: &str) {
        let status =
            Command::new("kill").arg(format!("-{name}")).arg(self.pid().to_string()).status().expect("kill runs");
        assert!(status.success(), "kill -{name} {} failed", self.pid());
    }

    /// SIGKILL, and wait until the process is gone.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Wait (bounded) for the process to exit; its exit code.
    pub fn wait_exit(&mut self, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Poll `GET path` until `done` holds for its JSON (at most `within`); the last answer.
    pub fn poll(&self, path: &str, within: Duration, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let reply = self.get(path);
            let value = reply.json();
            if done(&value) || Instant::now() >= deadline {
                return value;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request with `agent`; transport errors (refused, reset) are `Err`.
pub fn send(
    agent: &ureq::Agent,
    base: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Result<Reply, ureq::Error> {
    let url = format!("{base}{path}");
    let bearer = token.map(|t| format!("Bearer {t}"));
    let bearer = bearer.as_deref();
    let mut response = match (method, body) {
        ("GET", None) => with_headers(agent.get(&url), bearer, headers).call()?,
        ("POST", Some(body)) => {
            with_headers(agent.post(&url).content_type("application/json"), bearer, headers).send(body)?
        }
        ("PUT", Some(body)) => {
            with_headers(agent.put(&url).content_type("application/json"), bearer, headers).send(body)?
        }
        (method, body) => panic!("the test client does not send {method} with body {body:?}"),
    };
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let mut text = String::new();
    response.body_mut().as_reader().read_to_string(&mut text).map_err(ureq::Error::Io)?;
    Ok(Reply { status, headers, text })
}

fn with_headers<B>(
    mut request: ureq::RequestBuilder<B>,
    bearer: Option<&str>,
    headers: &[(&str, &str)],
) -> ureq::RequestBuilder<B> {
    if let Some(b) = bearer {
        request = request.header("authorization", b);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
}

/// The example's tickets, as JSON objects.
pub fn example_tickets() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/saas-b2b/tickets.jsonl");
    std::fs::read_to_string(path)
        .expect("the example tickets")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("an example ticket is JSON"))
        .collect()
}

/// An example ticket with another id.
pub fn ticket_with_id(n: usize, id: &str) -> Value {
    let tickets = example_tickets();
    let mut t = tickets[n % tickets.len()].clone();
    t["id"] = Value::from(id);
    t
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_urls() {
        assert_eq!(with_database("postgres://u:p@127.0.0.1:5432/postgres", "x"), "postgres://u:p@127.0.0.1:5432/x");
        assert_eq!(with_database("postgres://127.0.0.1", "x"), "postgres://127.0.0.1/x");
        assert_eq!(with_database("postgres://h/db?sslmode=disable", "x"), "postgres://h/x?sslmode=disable");
    }
}
