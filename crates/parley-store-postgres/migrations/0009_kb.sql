-- Knowledge base (知识库): categories, articles (the current version's content on the row) and
-- every version of their content. Times are Unix milliseconds; keywords and tags JSON arrays.

CREATE TABLE kb_categories (
    id            UUID PRIMARY KEY,
    workspace_id  UUID NOT NULL REFERENCES workspaces(id),
    name          TEXT NOT NULL,
    position      BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX kb_categories_name ON kb_categories (workspace_id, name);

CREATE TABLE kb_articles (
    id                 UUID PRIMARY KEY,
    workspace_id       UUID NOT NULL REFERENCES workspaces(id),
    -- No cascade: a category with articles cannot be deleted.
    category_id        UUID REFERENCES kb_categories(id),
    locale             TEXT NOT NULL,
    title              TEXT NOT NULL,
    body_markdown      TEXT NOT NULL,
    keywords           TEXT NOT NULL DEFAULT '[]',
    tags               TEXT NOT NULL DEFAULT '[]',
    status             TEXT NOT NULL DEFAULT 'draft',
    -- The current version; published_version is what the public sees (NULL: a draft).
    version            BIGINT NOT NULL,
    published_version  BIGINT,
    published_at       BIGINT,
    views              BIGINT NOT NULL DEFAULT 0,
    helpful_yes        BIGINT NOT NULL DEFAULT 0,
    helpful_no         BIGINT NOT NULL DEFAULT 0,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX kb_articles_list ON kb_articles (workspace_id, updated_at DESC, id DESC);
CREATE INDEX kb_articles_status ON kb_articles (workspace_id, status, updated_at DESC, id DESC);
CREATE INDEX kb_articles_category ON kb_articles (workspace_id, category_id, updated_at DESC, id DESC);

CREATE TABLE kb_article_versions (
    article_id     UUID NOT NULL REFERENCES kb_articles(id) ON DELETE CASCADE,
    version        BIGINT NOT NULL,
    workspace_id   UUID NOT NULL REFERENCES workspaces(id),
    title          TEXT NOT NULL,
    body_markdown  TEXT NOT NULL,
    keywords       TEXT NOT NULL,
    tags           TEXT NOT NULL,
    restored_from  BIGINT,
    edited_by      UUID NOT NULL REFERENCES users(id),
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (article_id, version)
);

-- Bumped with every change of what the public sees, so each node knows when to rebuild its
-- FAQ matcher.
ALTER TABLE workspaces ADD COLUMN kb_generation BIGINT NOT NULL DEFAULT 0;
