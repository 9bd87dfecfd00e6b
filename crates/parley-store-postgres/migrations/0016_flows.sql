-- Guided flows (多轮引导): each workspace's flows as one JSON document (they are edited and
-- saved together), and the step each conversation is at while a flow runs in it.
CREATE TABLE flows (
    workspace_id  UUID PRIMARY KEY REFERENCES workspaces(id),
    definition    TEXT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE conversation_flows (
    conversation_id  UUID PRIMARY KEY REFERENCES conversations(id),
    workspace_id     UUID NOT NULL REFERENCES workspaces(id),
    flow_id          TEXT NOT NULL,
    step_id          TEXT NOT NULL
);
