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
    last_error      TEXT,
    -- A path on this service (e.g. /incidents/7), made absolute with the base URL.
    link            TEXT    NOT NULL DEFAULT '',
    -- A delivering process holds the row until this time (a lease).
    claimed_until   BIGINT NOT NULL DEFAULT 0,
    -- Targets already reached, one key a line, so a retry skips them.
    delivered_to    TEXT    NOT NULL DEFAULT '',
    -- Set when delivery was abandoned after the maximum number of attempts.
    gave_up_at      BIGINT
);
CREATE INDEX outbox_due ON outbox(delivered_at, next_attempt_at);

-- Incidents of an organisation, with the Bill's reporting clocks.
CREATE TABLE incidents (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id                BIGINT NOT NULL REFERENCES organisations(id),
    title                 TEXT    NOT NULL,
    description           TEXT    NOT NULL,
    severity              TEXT    NOT NULL CHECK (severity IN ('low','medium','high','critical')),
    affected_service      TEXT    NOT NULL DEFAULT '',
    state                 TEXT    NOT NULL CHECK (state IN ('reported','triaged','contained','resolved','closed')),
    aware_at              BIGINT NOT NULL,
    detected_at           BIGINT,
    occurred_at           BIGINT,
    created_at            BIGINT NOT NULL,
    created_by            TEXT    NOT NULL,
    updated_at            BIGINT NOT NULL,
    source_submission_id  BIGINT REFERENCES submissions(id),
    source_index          BIGINT,
    detection             TEXT,
    reportable            INTEGER NOT NULL DEFAULT 1,
    notification_sent_at  BIGINT,
    notification_sent_by  TEXT,
    report_sent_at        BIGINT,
    report_sent_by        TEXT
);
CREATE INDEX incidents_org_state ON incidents(org_id, state);

-- The timeline: notes, evidence, state changes, notifications sent.
CREATE TABLE incident_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents(id),
    org_id      BIGINT NOT NULL REFERENCES organisations(id),
    at          BIGINT NOT NULL,
    actor       TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('created','note','evidence','state','sent','reportable')),
    from_state  TEXT,
    to_state    TEXT,
    body        TEXT    NOT NULL
);
CREATE INDEX incident_events_incident ON incident_events(incident_id, id);

-- Deadline alerts already raised: one row per incident and alert, so each
-- is queued once even with several `serve` processes.
CREATE TABLE incident_alerts (
    incident_id BIGINT NOT NULL REFERENCES incidents(id),
    alert       TEXT    NOT NULL,
    raised_at   BIGINT NOT NULL,
    PRIMARY KEY (incident_id, alert)
);

-- Evidence files of an incident: the bytes are in the database (base64
-- text, at most 2 MiB each), never on disk by name.
CREATE TABLE incident_files (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id  BIGINT NOT NULL REFERENCES incidents(id),
    org_id       BIGINT NOT NULL REFERENCES organisations(id),
    name         TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT    NOT NULL,
    data         TEXT    NOT NULL,
    uploaded_at  BIGINT NOT NULL,
    uploaded_by  TEXT    NOT NULL
);
CREATE INDEX incident_files_incident ON incident_files(incident_id);
