-- Risk (helper B): what the pages query, extracted from submissions at
-- ingest. Each new submission of a kind replaces its asset's rows of that
-- kind (history stays in `submissions`). Per-asset and per-organisation
-- summaries are kept current in the same transaction, so the overview
-- reads ~1 row per organisation and never scans findings.
-- High-volume tables (findings, finding_ids, components, checks,
-- detections) carry no foreign keys, for ingest speed: they are written
-- only by the store, always with the asset's organisation.

-- Assets are hosts or projects (a CI job names its repository).
ALTER TABLE assets ADD COLUMN kind TEXT NOT NULL DEFAULT 'host' CHECK (kind IN ('host','project'));

-- One asset's current state, one row per asset.
CREATE TABLE asset_state (
    asset_id        INTEGER PRIMARY KEY REFERENCES assets(id),
    org_id          INTEGER NOT NULL REFERENCES organisations(id),
    verdict         TEXT,
    assessed_at     INTEGER,
    checks_failed   INTEGER NOT NULL DEFAULT 0,
    auto_fails      INTEGER NOT NULL DEFAULT 0,
    scanned_at      INTEGER,
    vulns           INTEGER NOT NULL DEFAULT 0,
    critical        INTEGER NOT NULL DEFAULT 0,
    high            INTEGER NOT NULL DEFAULT 0,
    ce_14_day       INTEGER NOT NULL DEFAULT 0,
    sbom_at         INTEGER,
    components      INTEGER NOT NULL DEFAULT 0,
    practice_at     INTEGER,
    practice_score  INTEGER,
    hunted_at       INTEGER,
    detections      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX asset_state_org ON asset_state(org_id);

-- Vulnerable packages from scans (one row per finding).
CREATE TABLE findings (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL,
    asset_id    INTEGER NOT NULL,
    ecosystem   TEXT NOT NULL,
    package     TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    source_key  TEXT,
    version     TEXT NOT NULL,
    vuln_id     TEXT NOT NULL,
    aliases     TEXT NOT NULL,
    severity    TEXT NOT NULL,
    cvss        TEXT,
    upgrade_to  TEXT,
    ce_14_day   INTEGER NOT NULL,
    suppressed  INTEGER NOT NULL,
    summary     TEXT NOT NULL
);
CREATE INDEX findings_asset ON findings(asset_id);
CREATE INDEX findings_org_name ON findings(org_id, name_key);
CREATE INDEX findings_name ON findings(name_key);
CREATE INDEX findings_source ON findings(source_key) WHERE source_key IS NOT NULL;

-- Every ID of a finding (primary and aliases, upper-case), with what search
-- shows, so a search by CVE reads this table alone.
CREATE TABLE finding_ids (
    org_id      INTEGER NOT NULL,
    asset_id    INTEGER NOT NULL,
    vuln_key    TEXT NOT NULL,
    vuln_id     TEXT NOT NULL,
    package     TEXT NOT NULL,
    version     TEXT NOT NULL,
    severity    TEXT NOT NULL
);
CREATE INDEX finding_ids_key ON finding_ids(vuln_key);
CREATE INDEX finding_ids_asset ON finding_ids(asset_id);

-- SBOM components.
CREATE TABLE components (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL,
    asset_id    INTEGER NOT NULL,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    version     TEXT NOT NULL,
    purl        TEXT
);
CREATE INDEX components_asset ON components(asset_id);
CREATE INDEX components_name ON components(name_key);

-- Assessment checks that did not pass, with the fix (passes are counted in
-- org_controls).
CREATE TABLE checks (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL,
    asset_id    INTEGER NOT NULL,
    check_id    TEXT NOT NULL,
    control     TEXT NOT NULL,
    title       TEXT NOT NULL,
    status      TEXT NOT NULL,
    auto_fail   INTEGER NOT NULL,
    fix         TEXT
);
CREATE INDEX checks_asset ON checks(asset_id);
CREATE INDEX checks_org ON checks(org_id, check_id);

-- Per-asset pass/fail counts by control (from the latest assessment).
CREATE TABLE asset_controls (
    asset_id    INTEGER NOT NULL,
    org_id      INTEGER NOT NULL,
    control     TEXT NOT NULL,
    pass        INTEGER NOT NULL,
    fail        INTEGER NOT NULL,
    PRIMARY KEY (asset_id, control)
);
CREATE INDEX asset_controls_org ON asset_controls(org_id);

-- Detections from hunts.
CREATE TABLE detections (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL,
    asset_id    INTEGER NOT NULL,
    rule_id     TEXT NOT NULL,
    title       TEXT NOT NULL,
    level       TEXT NOT NULL,
    at          INTEGER,
    host        TEXT,
    source_ip   TEXT,
    user_name   TEXT,
    summary     TEXT NOT NULL,
    -- SHA-256 of (rule, time, host, source, user, summary): a detection
    -- sent again (an agent's resend under a new key, a full re-hunt) is
    -- stored once.
    dedup_key   TEXT NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX detections_dedup ON detections(asset_id, dedup_key);
CREATE INDEX detections_asset ON detections(asset_id);
CREATE INDEX detections_org_at ON detections(org_id, at);
CREATE INDEX detections_source ON detections(source_ip);

-- Detections per organisation per hour (Unix hour), for "last 24 hours".
CREATE TABLE detection_hours (
    org_id      INTEGER NOT NULL REFERENCES organisations(id),
    hour        INTEGER NOT NULL,
    n           INTEGER NOT NULL,
    high        INTEGER NOT NULL,
    PRIMARY KEY (org_id, hour)
);
CREATE INDEX detection_hours_hour ON detection_hours(hour);

-- Per-organisation summary, kept current at ingest.
CREATE TABLE org_summary (
    org_id          INTEGER PRIMARY KEY REFERENCES organisations(id),
    hosts           INTEGER NOT NULL DEFAULT 0,
    projects        INTEGER NOT NULL DEFAULT 0,
    assessed        INTEGER NOT NULL DEFAULT 0,
    not_ready       INTEGER NOT NULL DEFAULT 0,
    auto_fails      INTEGER NOT NULL DEFAULT 0,
    checks_failed   INTEGER NOT NULL DEFAULT 0,
    vulns           INTEGER NOT NULL DEFAULT 0,
    critical        INTEGER NOT NULL DEFAULT 0,
    high            INTEGER NOT NULL DEFAULT 0,
    ce_14_day       INTEGER NOT NULL DEFAULT 0,
    practice_min    INTEGER,
    last_seen       INTEGER
);

-- Per-organisation pass/fail by control (the heat map).
CREATE TABLE org_controls (
    org_id      INTEGER NOT NULL REFERENCES organisations(id),
    control     TEXT NOT NULL,
    pass        INTEGER NOT NULL,
    fail        INTEGER NOT NULL,
    PRIMARY KEY (org_id, control)
);

-- Weekly snapshots (week = Unix seconds / 604800): the latest state seen in
-- that week, for trend charts.
CREATE TABLE org_weekly (
    org_id      INTEGER NOT NULL REFERENCES organisations(id),
    week        INTEGER NOT NULL,
    critical    INTEGER NOT NULL,
    high        INTEGER NOT NULL,
    ce_14_day   INTEGER NOT NULL,
    not_ready   INTEGER NOT NULL,
    detections  INTEGER NOT NULL,
    PRIMARY KEY (org_id, week)
);
CREATE INDEX org_weekly_week ON org_weekly(week);
