//! End-to-end tests of `routec serve`: the real binary on a free loopback
//! port, spoken to over HTTP, on both stores. Each scenario runs against
//! SQLite and, when `ROUTEC_TEST_POSTGRES` names a PostgreSQL server (CI
//! starts one), against a fresh database on it.
//!
//! What they show: routing one ticket and a batch with a bad line,
//! idempotent retries, auth refused (401/403), 413, hot reload of a good and
//! of a broken version (the old one keeps serving), SIGHUP and API reloads,
//! a graceful SIGTERM, and `kill -9` under load with every answered decision
//! still in the log. Request loops are bounded in count and time.

pub(crate) mod server;

use serde_json::{json, Value};
use server::{Backend, Reply, Server, Site, MAX_BODY_BYTES, ROUTE_ONLY_TOKEN, TOKEN};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest wait for a reload to be noticed.
const RELOAD_WAIT: Duration = Duration::from_secs(20);

fn route(server: &Server, ticket: &Value) -> Reply {
    server.post("/v1/route", &ticket.to_string())
}

fn ok(reply: Reply) -> Value {
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()
}

fn policy_hash(server: &Server) -> String {
    ok(server.get("/v1/policy"))["hash"].as_str().expect("a hash").to_string()
}

fn route_one_ticket(backend: &Backend) {
    let site = Site::new(backend);
    let server = Server::start(&site);
    let ticket = server::ticket_with_id(0, "E2E-1");
    let decision = ok(route(&server, &ticket));
    let id = decision["decision_id"].as_str().expect("a decision id").to_string();
    assert!(id.starts_with("dec_"), "{id}");
    assert_eq!(decision["policy_hash"].as_str(), Some(policy_hash(&server).as_str()));
    assert_eq!(decision["ticket_id"], json!("E2E-1"));
    assert_eq!(decision["destination"]["name"], json!("billing"), "{decision:#}");
    assert!(decision.get("trace").is_none(), "the trace only comes with ?explain=true");

    // The audit trail gives back what was decided.
    let stored = ok(server.get(&format!("/v1/decisions/{id}")));
    assert_eq!(stored["decision_id"], json!(id));
    assert_eq!(stored["destination"], json!("billing"));
    assert_eq!(stored["decision"]["priority"], decision["priority"]);

    let explained = ok(server.post("/v1/route?explain=true", &server::ticket_with_id(0, "E2E-2").to_string()));
    assert!(explained["trace"].as_array().is_some_and(|t| !t.is_empty()), "{explained:#}");

    // A malformed ticket: 400 with the field path.
    let mut bad = server::ticket_with_id(0, "E2E-3");
    bad["customer"]["tier"] = json!("platinum");
    let refused = route(&server, &bad);
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert_eq!(refused.json()["error"]["path"], json!("customer.tier"), "{}", refused.text);
}

fn batch_with_a_bad_line(backend: &Backend) {
    let site = Site::new(backend);
    let server = Server::start(&site);
    let mut bad = server::ticket_with_id(1, "BATCH-2");
    bad.as_object_mut().expect("an object").remove("subject");
    let body = [server::ticket_with_id(0, "BATCH-1"), bad, server::ticket_with_id(2, "BATCH-3")]
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    let answer = ok(server.post("/v1/route/batch", &body));
    assert_eq!(answer["decided"], json!(2), "{answer:#}");
    assert_eq!(answer["rejected"], json!(1), "{answer:#}");
    let lines: Vec<&Value> = answer["decisions"].as_array().expect("decisions").iter().map(|d| &d["line"]).collect();
    assert_eq!(lines, [&json!(1), &json!(3)]);
    assert_eq!(answer["errors"][0]["line"], json!(2));
    assert_eq!(answer["errors"][0]["error"]["path"], json!("subject"), "{answer:#}");
    for d in answer["decisions"].as_array().expect("decisions") {
        let id = d["decision_id"].as_str().expect("an id");
        assert_eq!(server.get(&format!("/v1/decisions/{id}")).status, 200);
    }
    let none = ok(server.get("/v1/tickets/BATCH-2/decisions"));
    assert_eq!(none["decisions"], json!([]), "the bad line was not recorded");
}

fn idempotent_retry(backend: &Backend) {
    let site = Site::new(backend);
    let server = Server::start(&site);
    let ticket = server::ticket_with_id(3, "RETRY-1");
    let first = route(&server, &ticket);
    assert_eq!(first.header("idempotent-replayed"), Some("false"));
    let second = route(&server, &ticket);
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(ok(first)["decision_id"], ok(second)["decision_id"]);
    let log = ok(server.get("/v1/tickets/RETRY-1/decisions"));
    assert_eq!(log["decisions"].as_array().map(Vec::len), Some(1), "{log:#}");

    // The ticket changed: a new decision.
    let mut changed = ticket.clone();
    changed["subject"] = json!("Actually, a different question");
    let third = ok(route(&server, &changed));
    let log = ok(server.get("/v1/tickets/RETRY-1/decisions"));
    assert_eq!(log["decisions"].as_array().map(Vec::len), Some(2), "{log:#}");

    // An Idempotency-Key: the same delivery retried is answered from the log;
    // the key used again for another ticket is refused.
    let delivery = server::ticket_with_id(4, "RETRY-2").to_string();
    let key = [("Idempotency-Key", "webhook-delivery-7")];
    let a = ok(server.request("POST", "/v1/route", Some(TOKEN), Some(&delivery), &key));
    let b = ok(server.request("POST", "/v1/route", Some(TOKEN), Some(&delivery), &key));
    assert_eq!(a["decision_id"], b["decision_id"]);
    assert_ne!(a["decision_id"], third["decision_id"]);
    let other = server::ticket_with_id(5, "RETRY-3").to_string();
    let reused = server.request("POST", "/v1/route", Some(TOKEN), Some(&other), &key);
    assert_eq!(reused.status, 422, "{}", reused.text);
}

fn auth_refused(backend: &Backend) {
    let site = Site::new(backend);
    let server = Server::start(&site);
    let body = server::ticket_with_id(0, "AUTH-1").to_string();
    let none = server.request("POST", "/v1/route", None, Some(&body), &[]);
    assert_eq!(none.status, 401, "{}", none.text);
    let wrong = server.request("POST", "/v1/route", Some("not-a-token"), Some(&body), &[]);
    assert_eq!(wrong.status, 401, "{}", wrong.text);
    let routed = server.request("POST", "/v1/route", Some(ROUTE_ONLY_TOKEN), Some(&body), &[]);
    assert_eq!(routed.status, 200, "{}", routed.text);
    let admin = server.request("POST", "/v1/admin/reload", Some(ROUTE_ONLY_TOKEN), Some(""), &[]);
    assert_eq!(admin.status, 403, "{}", admin.text);
    let audit = server.request("GET", "/v1/tickets/AUTH-1/decisions", Some(ROUTE_ONLY_TOKEN), None, &[]);
    assert_eq!(audit.status, 403, "{}", audit.text);
    assert_eq!(server.request("GET", "/healthz", None, None, &[]).status, 200);
    assert!(!server.log().contains(TOKEN), "a token reached the log:\n{}", server.log());
}

fn body_too_large(backend: &Backend) {
    let site = Site::new(backend);
    let server = Server::start(&site);
    let reply = server.post_declared_length("/v1/route", 2 * MAX_BODY_BYTES);
    assert_eq!(reply.status, 413, "{}", reply.text);
    assert_eq!(reply.json()["error"]["code"], json!("body_too_large"));
    // A body within the limit is still read, and the server is fine afterwards.
    let reply = server.post_declared_length("/v1/route", MAX_BODY_BYTES / 2);
    assert_eq!(reply.status, 400, "a body of spaces is not a ticket: {}", reply.text);
    ok(route(&server, &server::ticket_with_id(0, "BIG-2")));
}

fn stored_tickets_are_redacted(backend: &Backend) {
    let site = Site::new(backend);
    let server = Server::start_with(&site, &[("ROUTEC_REDACT", "customer.email"), ("ROUTEC_REDACT_EMAILS", "true")]);
    let mut ticket = server::ticket_with_id(0, "PRIVATE-1");
    ticket["body"] = json!("Please send the invoice to maria.lopez@northwind.example today.");
    let decision = ok(route(&server, &ticket));
    let id = decision["decision_id"].as_str().expect("an id");
    let stored = ok(server.get(&format!("/v1/decisions/{id}")));
    assert_eq!(stored["ticket"]["customer"]["email"], json!("[redacted]"), "{stored:#}");
    assert_eq!(stored["ticket"]["body"], json!("Please send the invoice to [email] today."));
    assert_eq!(stored["ticket"]["customer"]["name"], ticket["customer"]["name"]);
    assert!(!stored.to_string().contains("northwind.example"), "{stored:#}");
}

fn hot_reload_good_then_broken(backend: &Backend) {
    let site = Site::new(backend);
    let server = Server::start(&site);
    let original = site.read_policy();
    let first_hash = policy_hash(&server);

    // A good version: noticed on disk, compiled, swapped in.
    let next = original.replacen("policy \"saas-b2b\" version 3", "policy \"saas-b2b\" version 4", 1);
    assert_ne!(next, original, "the example's policy line changed; update this test");
    site.write_policy(&next);
    let info = server.poll("/v1/policy", RELOAD_WAIT, |p| p["hash"].as_str() != Some(first_hash.as_str()));
    assert_eq!(info["version"], json!(4), "the new version was not loaded: {info:#}\n{}", server.log());
    assert_eq!(info["trigger"], json!("file"));
    assert_eq!(info["last_reload_error"], Value::Null);
    let second_hash = info["hash"].as_str().expect("a hash").to_string();
    let decision = ok(route(&server, &server::ticket_with_id(0, "RELOAD-1")));
    assert_eq!(decision["policy_hash"], json!(second_hash));

    // A broken version: refused, the good one keeps serving, the error is shown.
    site.write_policy(&format!("{next}\nrule broken when no_such_field > 3 -> nowhere\n"));
    let info = server.poll("/v1/policy", RELOAD_WAIT, |p| !p["last_reload_error"].is_null());
    let error = &info["last_reload_error"];
    assert!(error["message"].as_str().is_some_and(|m| m.contains("does not compile")), "{info:#}");
    assert!(error["diagnostics"].as_array().is_some_and(|d| !d.is_empty()), "{info:#}");
    assert_eq!(info["hash"], json!(second_hash), "the broken version must not be served");
    let decision = ok(route(&server, &server::ticket_with_id(0, "RELOAD-2")));
    assert_eq!(decision["policy_hash"], json!(second_hash));
    let ready = ok(server.get("/readyz"));
    assert!(!ready["policy"]["last_reload_error"].is_null(), "{ready:#}");
    let metrics = server.get("/metrics").text;
    assert!(metrics.contains(r#"routec_policy_reloads_total{result="failure"} 1"#), "{metrics}");

    // Fixed again: served, and the error is cleared.
    site.write_policy(&original);
    let info = server.poll("/v1/policy", RELOAD_WAIT, |p| p["last_reload_error"].is_null());
    assert_eq!(info["hash"], json!(first_hash), "{info:#}");
}

fn sighup_and_api_reload(backend: &Backend) {
    let site = Site::new(backend);
    let server = Server::start(&site);
    let before = ok(server.get("/v1/policy"));
    assert_eq!(before["reloads"], json!(0));
    server.signal("HUP");
    let info = server.poll("/v1/policy", RELOAD_WAIT, |p| p["reloads"] == json!(1));
    assert_eq!(info["reloads"], json!(1), "SIGHUP did not reload: {info:#}\n{}", server.log());
    assert_eq!(info["trigger"], json!("signal"));
    assert_ne!(info["loaded_at"], before["loaded_at"]);
    // Still serving after the signal.
    ok(route(&server, &server::ticket_with_id(0, "HUP-1")));

    let reloaded = ok(server.post("/v1/admin/reload", ""));
    assert_eq!(reloaded["trigger"], json!("api"), "{reloaded:#}");
    assert_eq!(reloaded["reloads"], json!(2));
}

fn sigterm_drains_and_exits_zero(backend: &Backend) {
    let site = Site::new(backend);
    let mut server = Server::start(&site);
    let decided = ok(route(&server, &server::ticket_with_id(0, "TERM-1")));
    server.signal("TERM");
    let code = server.wait_exit(Duration::from_secs(30));
    assert_eq!(code, Some(0), "routec serve did not exit 0 after SIGTERM; its log:\n{}", server.log());
    let server = Server::start(&site);
    let id = decided["decision_id"].as_str().expect("an id");
    assert_eq!(server.get(&format!("/v1/decisions/{id}")).status, 200);
}

/// Several clients post distinct tickets; the server is killed with SIGKILL
/// mid-way. Every decision that was answered 200 must be in the log when
/// the server is started again on the same store.
fn kill_9_under_load(backend: &Backend) {
    const CLIENTS: usize = 4;
    const LOAD_FOR: Duration = Duration::from_secs(2);
    const KILL_AFTER: Duration = Duration::from_millis(1000);
    const MAX_PER_CLIENT: usize = 50_000;
    let site = Site::new(backend);
    let mut server = Server::start(&site);
    let base = server.base.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let base = base.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let agent = server::agent();
                let mut answered = Vec::new();
                let mut refused_after_kill = 0usize;
                for n in 0..MAX_PER_CLIENT {
                    if stop.load(Ordering::Relaxed) || started.elapsed() > LOAD_FOR {
                        break;
                    }
                    let ticket = server::ticket_with_id(n, &format!("LOAD-{c}-{n}"));
                    match server::send(&agent, &base, "POST", "/v1/route", Some(TOKEN), Some(&ticket.to_string()), &[])
                    {
                        Ok(reply) if reply.status == 200 => {
                            let id = reply.json()["decision_id"].as_str().expect("an id").to_string();
                            answered.push(id);
                        }
                        Ok(reply) => panic!("client {c}: {} {}", reply.status, reply.text),
                        // The server is gone: every later request fails the same way.
                        Err(_) => {
                            refused_after_kill += 1;
                            break;
                        }
                    }
                }
                (answered, refused_after_kill)
            })
        })
        .collect();
    std::thread::sleep(KILL_AFTER);
    server.kill9();
    let killed_at = started.elapsed();
    let mut answered = Vec::new();
    let mut cut_off = 0;
    for client in clients {
        let (ids, refused) = client.join().expect("a client thread");
        answered.extend(ids);
        cut_off += refused;
    }
    stop.store(true, Ordering::Relaxed);
    assert!(!answered.is_empty(), "no request was answered before the kill");
    assert!(cut_off > 0, "the kill at {killed_at:?} came after the load ended; no request was cut off");

    eprintln!("kill -9 at {killed_at:?}: {} decisions answered 200, {cut_off} requests cut off", answered.len());
    let server = Server::start(&site);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut missing = Vec::new();
    for id in &answered {
        assert!(Instant::now() < deadline, "checking {} decisions took too long", answered.len());
        let reply = server.get(&format!("/v1/decisions/{id}"));
        if reply.status != 200 {
            missing.push((id.clone(), reply.status));
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} answered decisions are not in the log after kill -9: {:?}",
        missing.len(),
        answered.len(),
        &missing[..missing.len().min(10)]
    );
}

/// Each scenario once per store: `sqlite::NAME` always, `postgres::NAME`
/// when `ROUTEC_TEST_POSTGRES` is set.
macro_rules! on_both_stores {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $scenario() { super::$scenario(&super::Backend::Sqlite) })*
        }
        mod postgres {
            $(#[test] fn $scenario() {
                match super::server::postgres() {
                    Some(backend) => super::$scenario(&backend),
                    None => eprintln!("ROUTEC_TEST_POSTGRES is not set: {} not run on PostgreSQL", stringify!($scenario)),
                }
            })*
        }
    };
}

on_both_stores!(
    route_one_ticket,
    batch_with_a_bad_line,
    idempotent_retry,
    auth_refused,
    body_too_large,
    stored_tickets_are_redacted,
    hot_reload_good_then_broken,
    sighup_and_api_reload,
    sigterm_drains_and_exits_zero,
    kill_9_under_load,
);

#[test]
fn postgres_is_configured_under_ci() {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !ci || server::postgres().is_some(),
        "CI=true but ROUTEC_TEST_POSTGRES is not set: the PostgreSQL half of tests/serve.rs would not run"
    );
}
