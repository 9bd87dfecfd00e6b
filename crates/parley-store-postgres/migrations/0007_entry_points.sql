-- Entry points (咨询入口): the groups a website channel lets visitors pick from before the chat
-- starts, in order, each with an optional label for visitors ('' shows the group's name).
CREATE TABLE channel_entry_points (
    channel_id    UUID NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    -- No cascade: a group that is still an option cannot be deleted (the service says where).
    group_id      UUID NOT NULL REFERENCES agent_groups(id),
    workspace_id  UUID NOT NULL REFERENCES workspaces(id),
    position      BIGINT NOT NULL,
    label         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (channel_id, group_id)
);
CREATE INDEX channel_entry_points_workspace ON channel_entry_points (workspace_id, channel_id, position);
CREATE INDEX channel_entry_points_group ON channel_entry_points (group_id);
