//! The test databases: a SQLite file in a temporary directory, or a fresh
//! PostgreSQL database created through the admin URL in
//! `ROUTEC_TEST_POSTGRES` and dropped afterwards, so tests run in parallel.

use std::collections::BTreeMap;

use jiff::Timestamp;
use routec_store::{NewDecision, NewOutboxItem, Store, StoreOptions};
use serde_json::json;
use sqlx::Connection as _;

pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite:{}", dir.path().join("routec.db").display());
        TestDb { url, _dir: Some(dir), postgres: None }
    }

    /// A fresh database on the server of `ROUTEC_TEST_POSTGRES`; `None` when
    /// it is unset outside CI (in CI, where `CI=true`, that is a failure).
    pub async fn postgres() -> Option<TestDb> {
        let Ok(admin) = std::env::var("ROUTEC_TEST_POSTGRES") else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but ROUTEC_TEST_POSTGRES is unset: .ci/run must start PostgreSQL"
            );
            eprintln!("ROUTEC_TEST_POSTGRES unset: PostgreSQL variant not run");
            return None;
        };
        let name = format!("routec_test_{:016x}", rand_u64());
        let mut conn = sqlx::PgConnection::connect(&admin).await.expect("the admin URL connects");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("a test database is created");
        conn.close().await.expect("the admin connection closes");
        let url = with_database(&admin, &name);
        Some(TestDb { url, _dir: None, postgres: Some((admin, name)) })
    }

    /// A store on this database (each call is another "replica").
    pub async fn open(&self) -> Store {
        Store::open(&self.url, StoreOptions::default()).await.expect("the store opens")
    }

    pub async fn finish(self) {
        if let Some((admin, name)) = &self.postgres {
            let mut conn = sqlx::PgConnection::connect(admin).await.expect("admin connects");
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await
                .expect("the test database is dropped");
        }
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

/// `postgres://user@host:port/db?x` with `db` replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..].find('/').map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

pub fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(1_780_000_000 + seconds).expect("a valid time")
}

/// A decision of `ticket` to `destination`, keyed by ticket and `content`.
pub fn decision(ticket: Option<&str>, content: &str, destination: Option<&str>) -> NewDecision {
    let key = format!("{}:{content}", ticket.unwrap_or("-"));
    NewDecision {
        ticket_id: ticket.map(str::to_owned),
        dedup_key: key.clone(),
        content_hash: format!("sha256:{content}"),
        policy_hash: "p1".to_owned(),
        policy_name: "support".to_owned(),
        policy_version: 3,
        decided_at: at(0),
        destination: destination.map(str::to_owned),
        priority: "normal".to_owned(),
        escalation: None,
        decision: json!({"destination": destination, "key": key}),
        shadow: None,
        ticket: json!({"id": ticket, "body": content}),
        outbox: Vec::new(),
    }
}

pub fn outbox_item(kind: &str) -> NewOutboxItem {
    NewOutboxItem {
        kind: kind.to_owned(),
        target: "zendesk".to_owned(),
        payload: json!({"kind": kind}),
        idempotency_key: Some(format!("idem-{kind}")),
    }
}

pub fn loads(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
    pairs.iter().map(|(name, count)| ((*name).to_owned(), *count)).collect()
}

#[test]
fn database_name_is_replaced_in_the_url() {
    assert_eq!(with_database("postgres://u:p@h:5/postgres", "x"), "postgres://u:p@h:5/x");
    assert_eq!(with_database("postgres://u@h/d?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
    assert_eq!(with_database("postgres://u@h:5", "x"), "postgres://u@h:5/x");
}
