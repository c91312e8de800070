-- Outbox: notifications (webhook, e-mail) written in the same transaction as
-- the change that causes them, delivered by the background worker, so none is
-- lost when a receiver is down.
CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          BIGINT REFERENCES organisations(id),
    topic           TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    created_at      BIGINT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    delivered_at    BIGINT,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox(delivered_at, next_attempt_at);
