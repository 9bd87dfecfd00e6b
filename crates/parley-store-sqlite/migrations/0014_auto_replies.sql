-- Keyword auto-replies (关键词自动回复), in priority order per workspace, and the channel's
-- greeting (主动邀请语) shown by the widget some seconds after the chat opens.
-- Times are Unix milliseconds; lists are JSON text.

CREATE TABLE auto_replies (
    id            BLOB PRIMARY KEY,
    workspace_id  BLOB NOT NULL REFERENCES workspaces(id),
    position      INTEGER NOT NULL,
    name          TEXT NOT NULL,
    keywords      TEXT NOT NULL,
    -- exact | contains | regex
    mode          TEXT NOT NULL,
    -- JSON list of channel ids; [] for every channel.
    channel_ids   TEXT NOT NULL DEFAULT '[]',
    -- JSON {start, end, time_zone} (minutes after midnight); NULL for any time.
    time_window   TEXT,
    reply         TEXT NOT NULL,
    buttons       TEXT NOT NULL DEFAULT '[]',
    enabled       INTEGER NOT NULL DEFAULT 1,
    hits          INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX auto_replies_workspace ON auto_replies (workspace_id, position);

-- Bumped with every change of the rules, so each node knows when to recompile its copy.
ALTER TABLE workspaces ADD COLUMN auto_reply_generation INTEGER NOT NULL DEFAULT 0;

ALTER TABLE channels ADD COLUMN greeting_text TEXT NOT NULL DEFAULT '';
ALTER TABLE channels ADD COLUMN greeting_delay_secs INTEGER NOT NULL DEFAULT 0;
