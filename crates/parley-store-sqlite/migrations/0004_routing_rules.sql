-- Keyword routing (关键词路由) and escalation rules, and the skill a conversation needs.
CREATE TABLE routing_rules (
    id            BLOB PRIMARY KEY,
    workspace_id  BLOB NOT NULL REFERENCES workspaces(id),
    position      INTEGER NOT NULL,
    keywords      TEXT NOT NULL,
    group_id      BLOB REFERENCES agent_groups(id) ON DELETE CASCADE,
    skill         TEXT,
    priority      INTEGER,
    -- 1: also applies to later visitor messages (escalation to another tier).
    escalation    INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);
CREATE INDEX routing_rules_workspace ON routing_rules (workspace_id, position);

ALTER TABLE conversations ADD COLUMN required_skill TEXT;
