-- Knowledge base (知识库): categories, articles (the current version's content on the row) and
-- every version of their content. Times are Unix milliseconds; keywords and tags JSON arrays.

CREATE TABLE kb_categories (
    id            BLOB PRIMARY KEY,
    workspace_id  BLOB NOT NULL REFERENCES workspaces(id),
    name          TEXT NOT NULL,
    position      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX kb_categories_name ON kb_categories (workspace_id, name);

CREATE TABLE kb_articles (
    id                 BLOB PRIMARY KEY,
    workspace_id       BLOB NOT NULL REFERENCES workspaces(id),
    -- No cascade: a category with articles cannot be deleted.
    category_id        BLOB REFERENCES kb_categories(id),
    locale             TEXT NOT NULL,
    title              TEXT NOT NULL,
    body_markdown      TEXT NOT NULL,
    keywords           TEXT NOT NULL DEFAULT '[]',
    tags               TEXT NOT NULL DEFAULT '[]',
    status             TEXT NOT NULL DEFAULT 'draft',
    -- The current version; published_version is what the public sees (NULL: a draft).
    version            INTEGER NOT NULL,
    published_version  INTEGER,
    published_at       INTEGER,
    views              INTEGER NOT NULL DEFAULT 0,
    helpful_yes        INTEGER NOT NULL DEFAULT 0,
    helpful_no         INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX kb_articles_list ON kb_articles (workspace_id, updated_at DESC, id DESC);
CREATE INDEX kb_articles_status ON kb_articles (workspace_id, status, updated_at DESC, id DESC);
CREATE INDEX kb_articles_category ON kb_articles (workspace_id, category_id, updated_at DESC, id DESC);

CREATE TABLE kb_article_versions (
    article_id     BLOB NOT NULL REFERENCES kb_articles(id) ON DELETE CASCADE,
    version        INTEGER NOT NULL,
    workspace_id   BLOB NOT NULL REFERENCES workspaces(id),
    title          TEXT NOT NULL,
    body_markdown  TEXT NOT NULL,
    keywords       TEXT NOT NULL,
    tags           TEXT NOT NULL,
    restored_from  INTEGER,
    edited_by      BLOB NOT NULL REFERENCES users(id),
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (article_id, version)
);

-- Bumped with every change of what the public sees, so each node knows when to rebuild its
-- FAQ matcher.
ALTER TABLE workspaces ADD COLUMN kb_generation INTEGER NOT NULL DEFAULT 0;
