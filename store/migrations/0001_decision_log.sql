-- The decision log, version 1. Portable SQL: it runs unchanged on SQLite and
-- PostgreSQL. Ids are TEXT, times BIGINT milliseconds since the Unix epoch,
-- JSON documents TEXT, flags BIGINT 0 or 1 (sqlx's Any driver reads no
-- SQLite BOOLEAN). The crate documentation (store/src/lib.rs) describes
-- every column.

CREATE TABLE decisions (
    id             TEXT PRIMARY KEY,
    dedup_key      TEXT NOT NULL UNIQUE,
    ticket_id      TEXT,
    content_hash   TEXT NOT NULL,
    policy_hash    TEXT NOT NULL,
    policy_name    TEXT NOT NULL,
    policy_version BIGINT NOT NULL,
    decided_at     BIGINT NOT NULL,
    destination    TEXT,
    priority       TEXT NOT NULL,
    escalation     TEXT,
    decision       TEXT NOT NULL,
    shadow         TEXT,
    ticket         TEXT NOT NULL
);
CREATE INDEX decisions_by_ticket ON decisions (ticket_id, decided_at);
CREATE INDEX decisions_by_time ON decisions (decided_at);

CREATE TABLE outcomes (
    id                TEXT PRIMARY KEY,
    ticket_id         TEXT NOT NULL,
    decision_id       TEXT REFERENCES decisions (id) ON DELETE SET NULL,
    final_destination TEXT,
    reassignments     BIGINT,
    first_assigned_at BIGINT,
    first_response_at BIGINT,
    resolved_at       BIGINT,
    resolved          BIGINT NOT NULL CHECK (resolved IN (0, 1)),
    recorded_at       BIGINT NOT NULL,
    source            TEXT NOT NULL
);
CREATE INDEX outcomes_by_ticket ON outcomes (ticket_id, recorded_at);
CREATE INDEX outcomes_by_time ON outcomes (recorded_at);
CREATE INDEX outcomes_by_decision ON outcomes (decision_id);

CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    decision_id     TEXT NOT NULL REFERENCES decisions (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    target          TEXT NOT NULL,
    payload         TEXT NOT NULL,
    idempotency_key TEXT,
    attempts        BIGINT NOT NULL,
    next_try_at     BIGINT NOT NULL,
    state           TEXT NOT NULL,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (state, next_try_at);
CREATE INDEX outbox_by_decision ON outbox (decision_id);

CREATE TABLE tickets (
    ticket_id   TEXT PRIMARY KEY,
    destination TEXT,
    is_open     BIGINT NOT NULL CHECK (is_open IN (0, 1)),
    updated_at  BIGINT NOT NULL
);

CREATE TABLE load (
    destination  TEXT PRIMARY KEY,
    open_tickets BIGINT NOT NULL,
    synced_at    BIGINT,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE policy_versions (
    policy_hash TEXT PRIMARY KEY,
    policy_name TEXT NOT NULL,
    version     BIGINT NOT NULL,
    loaded_at   BIGINT NOT NULL,
    source      TEXT
);
