-- Routing: groups of agents with a policy, agent capacity and skills, the queue.

ALTER TABLE users ADD COLUMN capacity BIGINT NOT NULL DEFAULT 5;
ALTER TABLE users ADD COLUMN skills TEXT NOT NULL DEFAULT '[]';

CREATE TABLE agent_groups (
    id                  UUID PRIMARY KEY,
    workspace_id        UUID NOT NULL REFERENCES workspaces(id),
    name                TEXT NOT NULL,
    -- JSON array of routing steps, e.g. ["sticky","skill","least_load"]
    policy              TEXT NOT NULL,
    tier                BIGINT NOT NULL DEFAULT 1,
    reply_timeout_secs  BIGINT,
    queue_timeout_secs  BIGINT,
    created_at          BIGINT NOT NULL
);
CREATE INDEX agent_groups_workspace ON agent_groups (workspace_id);

CREATE TABLE group_members (
    group_id          UUID NOT NULL REFERENCES agent_groups(id) ON DELETE CASCADE,
    user_id           UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    workspace_id      UUID NOT NULL,
    priority          BIGINT NOT NULL DEFAULT 1,
    last_assigned_at  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);

ALTER TABLE channels ADD COLUMN group_id UUID REFERENCES agent_groups(id);

ALTER TABLE conversations ADD COLUMN group_id UUID REFERENCES agent_groups(id);
ALTER TABLE conversations ADD COLUMN priority BIGINT NOT NULL DEFAULT 0;
-- Set while the conversation waits for an agent.
ALTER TABLE conversations ADD COLUMN queued_at BIGINT;
-- Set when an agent is assigned and cleared by that agent's first reply: the no-reply timer.
ALTER TABLE conversations ADD COLUMN awaiting_reply_since BIGINT;
CREATE INDEX conversations_queue ON conversations (workspace_id, group_id, priority DESC, queued_at) WHERE queued_at IS NOT NULL;
CREATE INDEX conversations_assignee ON conversations (assignee_id, status);

-- Why a routing event happened (the policy's explanation, a transfer note).
ALTER TABLE events ADD COLUMN note TEXT;
