-- Help-centre votes remembered for a while per voter (a digest, not the address) and article,
-- so a repeat within the window is not counted again, whichever node serves it.

CREATE TABLE kb_votes (
    workspace_id  UUID NOT NULL REFERENCES workspaces(id),
    article_id    UUID NOT NULL REFERENCES kb_articles(id) ON DELETE CASCADE,
    voter         BYTEA NOT NULL,
    voted_at      BIGINT NOT NULL,
    PRIMARY KEY (article_id, voter)
);
CREATE INDEX kb_votes_age ON kb_votes (workspace_id, voted_at);
