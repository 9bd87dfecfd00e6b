-- The FAQ bot (智能机器人) and automatic replies: buttons under automatic messages, the bot's
-- settings per channel, a conversation's bot phase, and the questions the bot could not answer.

-- JSON array of {label, url?}; NULL for ordinary messages.
ALTER TABLE events ADD COLUMN buttons TEXT;
-- JSON BotSettings; NULL: no bot on this channel.
ALTER TABLE channels ADD COLUMN bot TEXT;
-- While true the bot answers the visitor and the conversation is not routed; it ends on a
-- hand-off or when an agent replies. bot_misses counts unanswered questions in a row.
ALTER TABLE conversations ADD COLUMN bot_active INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN bot_misses INTEGER NOT NULL DEFAULT 0;

CREATE TABLE kb_unanswered (
    id               BLOB PRIMARY KEY,
    workspace_id     BLOB NOT NULL REFERENCES workspaces(id),
    channel_id       BLOB NOT NULL REFERENCES channels(id),
    conversation_id  BLOB NOT NULL REFERENCES conversations(id),
    question         TEXT NOT NULL,
    -- Set when an admin linked the question to an article (or dismissed it: resolved, no article).
    article_id       BLOB REFERENCES kb_articles(id) ON DELETE SET NULL,
    resolved_at      INTEGER,
    created_at       INTEGER NOT NULL
);
CREATE INDEX kb_unanswered_open ON kb_unanswered (workspace_id, resolved_at, created_at DESC);
