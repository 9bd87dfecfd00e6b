-- Workspaces, people, channels, visitors, conversations and their events.
-- Ids are UUIDs; times are Unix milliseconds; JSON is TEXT.

CREATE TABLE workspaces (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id             UUID PRIMARY KEY,
    workspace_id   UUID NOT NULL REFERENCES workspaces(id),
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent')),
    status         TEXT NOT NULL CHECK (status IN ('online', 'busy', 'away')),
    avatar_url     TEXT,
    password_hash  TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX users_workspace ON users (workspace_id);

CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,
    user_id       UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    workspace_id  UUID NOT NULL,
    csrf_token    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id            UUID PRIMARY KEY,
    workspace_id  UUID NOT NULL,
    user_id       UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (workspace_id, user_id);

CREATE TABLE channels (
    id               UUID PRIMARY KEY,
    workspace_id     UUID NOT NULL REFERENCES workspaces(id),
    kind             TEXT NOT NULL,
    name             TEXT NOT NULL,
    widget_key       TEXT NOT NULL UNIQUE,
    color            TEXT NOT NULL,
    welcome_text     TEXT NOT NULL,
    allowed_origins  TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX channels_workspace ON channels (workspace_id);

CREATE TABLE visitors (
    id             UUID PRIMARY KEY,
    workspace_id   UUID NOT NULL REFERENCES workspaces(id),
    channel_id     UUID NOT NULL REFERENCES channels(id),
    token_hash     TEXT NOT NULL UNIQUE,
    name           TEXT,
    email          TEXT,
    current_url    TEXT,
    current_title  TEXT,
    referrer       TEXT,
    user_agent     TEXT,
    browser        TEXT,
    os             TEXT,
    language       TEXT,
    ip             TEXT,
    first_seen_at  BIGINT NOT NULL,
    last_seen_at   BIGINT NOT NULL
);
CREATE INDEX visitors_workspace ON visitors (workspace_id);

CREATE TABLE conversations (
    id                   UUID PRIMARY KEY,
    workspace_id         UUID NOT NULL REFERENCES workspaces(id),
    channel_id           UUID NOT NULL REFERENCES channels(id),
    visitor_id           UUID NOT NULL REFERENCES visitors(id),
    status               TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    assignee_id          UUID REFERENCES users(id),
    last_seq             BIGINT NOT NULL,
    last_message_body    TEXT,
    last_message_sender  TEXT,
    last_message_at      BIGINT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX conversations_list ON conversations (workspace_id, status, updated_at DESC, id DESC);
CREATE INDEX conversations_visitor ON conversations (visitor_id, created_at DESC);

CREATE TABLE events (
    conversation_id  UUID NOT NULL REFERENCES conversations(id),
    seq              BIGINT NOT NULL,
    id               UUID NOT NULL UNIQUE,
    workspace_id     UUID NOT NULL,
    kind             TEXT NOT NULL,
    sender_kind      TEXT NOT NULL,
    sender_id        UUID,
    sender_name      TEXT,
    sender_avatar    TEXT,
    client_id        TEXT,
    body             TEXT,
    attachments      TEXT NOT NULL,
    status           TEXT,
    assignee_id      UUID,
    assignee_name    TEXT,
    assignee_avatar  TEXT,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
-- A sender's message id is stored once: the basis of exactly-once sends.
CREATE UNIQUE INDEX events_client_id ON events (sender_kind, sender_id, client_id) WHERE client_id IS NOT NULL;

CREATE TABLE conversation_reads (
    conversation_id  UUID NOT NULL REFERENCES conversations(id),
    user_id          UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    last_read_seq    BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);

CREATE TABLE attachments (
    id             UUID PRIMARY KEY,
    workspace_id   UUID NOT NULL REFERENCES workspaces(id),
    uploader_kind  TEXT NOT NULL,
    uploader_id    UUID,
    uploader_name  TEXT,
    filename       TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    size           BIGINT NOT NULL,
    key            TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
