-- Standalone browsers (`/browsers`), browser profiles (`/profiles`) and workspaces
-- (`/workspaces`).
--
-- Same conventions as the sessions table: UUID strings, RFC 3339 UTC text timestamps, JSON as
-- text. A profile's saved browser state and a workspace's files live on disk in the data
-- directory (`profiles/<id>/`, `workspaces/<id>/`); these rows are their records.

CREATE TABLE browsers (
    id                  TEXT PRIMARY KEY NOT NULL,
    status              TEXT NOT NULL,
    profile_id          TEXT,
    proxy_country_code  TEXT,
    screen_width        INTEGER,
    screen_height       INTEGER,
    metadata            TEXT NOT NULL DEFAULT '{}',
    browser_id          TEXT,
    end_reason          TEXT,
    profile_error       TEXT,
    timeout_at          TEXT NOT NULL,
    started_at          TEXT NOT NULL,
    finished_at         TEXT,
    updated_at          TEXT NOT NULL
);

CREATE INDEX browsers_by_start ON browsers (started_at DESC, id DESC);
CREATE INDEX browsers_by_status ON browsers (status);

CREATE TABLE profiles (
    id                  TEXT PRIMARY KEY NOT NULL,
    name                TEXT,
    user_id             TEXT,
    cookie_domains      TEXT,
    last_used_at        TEXT,
    last_save_error     TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);

CREATE INDEX profiles_by_creation ON profiles (created_at DESC, id DESC);

CREATE TABLE workspaces (
    id                  TEXT PRIMARY KEY NOT NULL,
    name                TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);

CREATE INDEX workspaces_by_creation ON workspaces (created_at DESC, id DESC);
