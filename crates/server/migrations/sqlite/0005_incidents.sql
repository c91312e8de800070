-- Outbox: notifications (webhook, e-mail) written in the same transaction as
-- the change that causes them, delivered by the background worker, so none is
-- lost when a receiver is down.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER REFERENCES organisations(id),
    topic           TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at    INTEGER,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox(delivered_at, next_attempt_at);
