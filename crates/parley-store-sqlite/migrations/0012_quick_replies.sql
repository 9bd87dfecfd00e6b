-- Quick replies (快捷回复): team replies (owner_id NULL) and each agent's personal ones.
-- Times are Unix milliseconds.

CREATE TABLE quick_replies (
    id            BLOB PRIMARY KEY,
    workspace_id  BLOB NOT NULL REFERENCES workspaces(id),
    owner_id      BLOB REFERENCES users(id) ON DELETE CASCADE,
    shortcut      TEXT NOT NULL,
    title         TEXT NOT NULL,
    text          TEXT NOT NULL,
    category      TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX quick_replies_owner ON quick_replies (workspace_id, owner_id);
