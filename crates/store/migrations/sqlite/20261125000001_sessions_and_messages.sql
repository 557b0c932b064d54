-- Sessions and their message feeds.
--
-- Ids are UUID strings (v7, so they sort by creation time); timestamps are RFC 3339 text in UTC;
-- JSON columns hold serialized JSON text. `seq` gives messages a total order that cursors use.

CREATE TABLE sessions (
    id                  TEXT PRIMARY KEY NOT NULL,
    status              TEXT NOT NULL,
    model               TEXT NOT NULL,
    thinking_level      TEXT,
    title               TEXT,
    task                TEXT,
    keep_alive          INTEGER NOT NULL DEFAULT 0,
    output              TEXT,
    output_schema       TEXT,
    step_count          INTEGER NOT NULL DEFAULT 0,
    last_step_summary   TEXT,
    is_task_successful  INTEGER,
    profile_id          TEXT,
    workspace_id        TEXT,
    proxy_country_code  TEXT,
    screen_width        INTEGER,
    screen_height       INTEGER,
    max_cost_usd        TEXT,
    browser_id          TEXT,
    end_reason          TEXT,
    expires_at          TEXT NOT NULL,
    deleted             INTEGER NOT NULL DEFAULT 0,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);

CREATE INDEX sessions_by_creation ON sessions (deleted, created_at DESC, id DESC);
CREATE INDEX sessions_by_status ON sessions (status);

CREATE TABLE messages (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    session_id      TEXT NOT NULL REFERENCES sessions (id),
    role            TEXT NOT NULL,
    data            TEXT NOT NULL,
    type            TEXT NOT NULL DEFAULT '',
    summary         TEXT NOT NULL DEFAULT '',
    screenshot_url  TEXT,
    hidden          INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL
);

CREATE INDEX messages_by_session ON messages (session_id, seq);
