-- Tandem's schema on PostgreSQL: the same tables and columns as SQLite's migrations (in
-- crates/store/migrations/sqlite) arrive at, in PostgreSQL's types, so one row type reads
-- both. Ids are UUID strings (v7, ordered as bytes: COLLATE "C"), JSON columns hold
-- serialized JSON text, `seq` gives messages the total order that cursors use.

CREATE TABLE sessions (
    id                  TEXT COLLATE "C" PRIMARY KEY,
    status              TEXT NOT NULL,
    model               TEXT NOT NULL,
    thinking_level      TEXT,
    title               TEXT,
    task                TEXT,
    keep_alive          BOOLEAN NOT NULL DEFAULT FALSE,
    output              TEXT,
    output_schema       TEXT,
    step_count          BIGINT NOT NULL DEFAULT 0,
    last_step_summary   TEXT,
    is_task_successful  BOOLEAN,
    profile_id          TEXT,
    workspace_id        TEXT,
    proxy_country_code  TEXT,
    screen_width        BIGINT,
    screen_height       BIGINT,
    max_cost_usd        TEXT,
    browser_id          TEXT,
    end_reason          TEXT,
    expires_at          TIMESTAMPTZ NOT NULL,
    deleted             BOOLEAN NOT NULL DEFAULT FALSE,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    total_input_tokens  BIGINT NOT NULL DEFAULT 0,
    total_output_tokens BIGINT NOT NULL DEFAULT 0,
    llm_cost_usd        TEXT NOT NULL DEFAULT '0',
    human_input         TEXT,
    profile_error       TEXT
);

CREATE INDEX sessions_by_creation ON sessions (deleted, created_at DESC, id DESC);
CREATE INDEX sessions_by_status ON sessions (status);

CREATE TABLE messages (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT COLLATE "C" NOT NULL UNIQUE,
    session_id      TEXT COLLATE "C" NOT NULL REFERENCES sessions (id),
    role            TEXT NOT NULL,
    data            TEXT NOT NULL,
    type            TEXT NOT NULL DEFAULT '',
    summary         TEXT NOT NULL DEFAULT '',
    screenshot_url  TEXT,
    hidden          BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMPTZ NOT NULL
);

CREATE INDEX messages_by_session ON messages (session_id, seq);

CREATE TABLE browsers (
    id                  TEXT COLLATE "C" PRIMARY KEY,
    status              TEXT NOT NULL,
    profile_id          TEXT,
    proxy_country_code  TEXT,
    screen_width        BIGINT,
    screen_height       BIGINT,
    metadata            TEXT NOT NULL DEFAULT '{}',
    browser_id          TEXT,
    end_reason          TEXT,
    profile_error       TEXT,
    timeout_at          TIMESTAMPTZ NOT NULL,
    started_at          TIMESTAMPTZ NOT NULL,
    finished_at         TIMESTAMPTZ,
    updated_at          TIMESTAMPTZ NOT NULL
);

CREATE INDEX browsers_by_start ON browsers (started_at DESC, id DESC);
CREATE INDEX browsers_by_status ON browsers (status);

CREATE TABLE profiles (
    id                  TEXT COLLATE "C" PRIMARY KEY,
    name                TEXT,
    user_id             TEXT,
    cookie_domains      TEXT,
    last_used_at        TIMESTAMPTZ,
    last_save_error     TEXT,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);

CREATE INDEX profiles_by_creation ON profiles (created_at DESC, id DESC);

CREATE TABLE workspaces (
    id                  TEXT COLLATE "C" PRIMARY KEY,
    name                TEXT,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);

CREATE INDEX workspaces_by_creation ON workspaces (created_at DESC, id DESC);
