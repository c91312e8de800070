-- Assets: the hosts (and later projects) of an organisation. A submission
-- names its asset; the asset's current state per kind is its latest
-- submission of that kind, and older submissions are its history.
CREATE TABLE assets (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      BIGINT  NOT NULL REFERENCES organisations(id),
    name        TEXT    NOT NULL,
    first_seen  BIGINT  NOT NULL,
    last_seen   BIGINT  NOT NULL,
    UNIQUE (org_id, name)
);
CREATE INDEX submissions_asset_kind ON submissions(org_id, host, kind, id);
