-- Assets: the hosts (and later projects) of an organisation. A submission
-- names its asset; the asset's current state per kind is its latest
-- submission of that kind, and older submissions are its history.
CREATE TABLE assets (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organisations(id),
    name        TEXT    NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    UNIQUE (org_id, name)
);
CREATE INDEX submissions_asset_kind ON submissions(org_id, host, kind, id);
