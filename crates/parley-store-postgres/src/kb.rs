//! The knowledge base on PostgreSQL. An article's read-modify-write (next version number,
//! publishing, restoring) runs under its row lock (`FOR UPDATE`), so concurrent edits on any
//! number of nodes get gapless version numbers. Filing an article in a category takes a key-share
//! lock on the category row, which conflicts with the lock `kb_delete_category` takes: a category
//! is never deleted while an article is being filed in it.

use super::*;

// Lookups of an article by id check the workspace as `IN_WORKSPACE_2` explains: with
// `workspace_id = $2` a generic plan reads an article from `kb_articles_category`, i.e. every
// article of the workspace, instead of from the primary key.
pub(crate) static ARTICLE_BY_ID: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {KB_ARTICLE_COLS} FROM kb_articles WHERE id = $1 AND {IN_WORKSPACE_2}")
});
pub(crate) static ARTICLE_BY_ID_FOR_UPDATE: LazyLock<String> =
    LazyLock::new(|| format!("{} FOR UPDATE", *ARTICLE_BY_ID));
pub(crate) static DELETE_ARTICLE: LazyLock<String> =
    LazyLock::new(|| format!("DELETE FROM kb_articles WHERE id = $1 AND {IN_WORKSPACE_2}"));

/// Counts a view or a vote: `column` is one of the article's counters.
pub(crate) fn bump_article(column: &'static str) -> String {
    format!("UPDATE kb_articles SET {column} = {column} + 1 WHERE id = $1 AND {IN_WORKSPACE_2}")
}

async fn article_in(
    tx: &mut Transaction<'_, Postgres>,
    ws: WorkspaceId,
    id: ArticleId,
) -> StoreResult<Option<Article>> {
    let row = sqlx::query(&ARTICLE_BY_ID_FOR_UPDATE)
        .bind(id.0)
        .bind(ws.0)
        .fetch_optional(&mut **tx)
        .await
        .map_err(other)?;
    row.as_ref().map(kb_article).transpose().map_err(other)
}

/// Writes every field an article's changes can touch.
async fn save_article(tx: &mut Transaction<'_, Postgres>, a: &Article) -> StoreResult<()> {
    sqlx::query(
        "UPDATE kb_articles SET category_id = $1, locale = $2, title = $3, body_markdown = $4, \
         keywords = $5, tags = $6, status = $7, version = $8, published_version = $9, \
         published_at = $10, updated_at = $11 \
         WHERE id = $12 AND workspace_id IS NOT DISTINCT FROM $13", // as `ARTICLE_BY_ID`
    )
    .bind(a.category_id.map(|c| c.0))
    .bind(a.locale.as_str())
    .bind(&a.title)
    .bind(&a.body_markdown)
    .bind(serde_json::to_string(&a.keywords).map_err(other)?)
    .bind(serde_json::to_string(&a.tags).map_err(other)?)
    .bind(a.status.as_str())
    .bind(a.version)
    .bind(a.published_version)
    .bind(a.published_at)
    .bind(a.updated_at)
    .bind(a.id.0)
    .bind(a.workspace_id.0)
    .execute(&mut **tx)
    .await
    .map_err(other)?;
    Ok(())
}

async fn insert_version(
    tx: &mut Transaction<'_, Postgres>,
    ws: WorkspaceId,
    v: &ArticleVersion,
) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO kb_article_versions ({KB_VERSION_COLS}, workspace_id) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
    ))
    .bind(v.article_id.0)
    .bind(v.version)
    .bind(&v.title)
    .bind(&v.body_markdown)
    .bind(serde_json::to_string(&v.keywords).map_err(other)?)
    .bind(serde_json::to_string(&v.tags).map_err(other)?)
    .bind(v.restored_from)
    .bind(v.edited_by.0)
    .bind(v.created_at)
    .bind(ws.0)
    .execute(&mut **tx)
    .await
    .map_err(other)?;
    Ok(())
}

async fn bump_generation(tx: &mut Transaction<'_, Postgres>, ws: WorkspaceId) -> StoreResult<()> {
    sqlx::query("UPDATE workspaces SET kb_generation = kb_generation + 1 WHERE id = $1")
        .bind(ws.0)
        .execute(&mut **tx)
        .await
        .map_err(other)?;
    Ok(())
}

async fn category_exists(
    tx: &mut Transaction<'_, Postgres>,
    ws: WorkspaceId,
    id: CategoryId,
) -> StoreResult<bool> {
    let found: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM kb_categories WHERE id = $1 AND workspace_id = $2 FOR KEY SHARE",
    )
    .bind(id.0)
    .bind(ws.0)
    .fetch_optional(&mut **tx)
    .await
    .map_err(other)?;
    Ok(found.is_some())
}

fn category_conflict(e: sqlx::Error) -> StoreError {
    if unique_violation(&e) {
        StoreError::Conflict("category")
    } else {
        other(e)
    }
}

impl PostgresStore {
    pub(crate) async fn kb_create_category(&self, c: &Category) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO kb_categories ({KB_CATEGORY_COLS}) VALUES ($1,$2,$3,$4,$5)"
        ))
        .bind(c.id.0)
        .bind(c.workspace_id.0)
        .bind(&c.name)
        .bind(c.position as i64)
        .bind(c.created_at)
        .execute(&self.pool)
        .await
        .map_err(category_conflict)?;
        Ok(())
    }

    pub(crate) async fn kb_get_category(
        &self,
        ws: WorkspaceId,
        id: CategoryId,
    ) -> StoreResult<Option<Category>> {
        let row = sqlx::query(&format!(
            "SELECT {KB_CATEGORY_COLS} FROM kb_categories WHERE id = $1 AND workspace_id = $2"
        ))
        .bind(id.0)
        .bind(ws.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(other)?;
        row.as_ref().map(kb_category).transpose().map_err(other)
    }

    pub(crate) async fn kb_list_categories(&self, ws: WorkspaceId) -> StoreResult<Vec<Category>> {
        let rows = sqlx::query(&format!(
            "SELECT {KB_CATEGORY_COLS} FROM kb_categories WHERE workspace_id = $1 \
             ORDER BY position, name, id"
        ))
        .bind(ws.0)
        .fetch_all(&self.pool)
        .await
        .map_err(other)?;
        rows.iter()
            .map(kb_category)
            .collect::<Result<_, _>>()
            .map_err(other)
    }

    pub(crate) async fn kb_update_category(&self, c: &Category) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let old: Option<String> = sqlx::query_scalar(
            "SELECT name FROM kb_categories WHERE id = $1 AND workspace_id = $2 FOR UPDATE",
        )
        .bind(c.id.0)
        .bind(c.workspace_id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(other)?;
        let Some(old) = old else { return Ok(false) };
        sqlx::query(
            "UPDATE kb_categories SET name = $1, position = $2 WHERE id = $3 AND workspace_id = $4",
        )
        .bind(&c.name)
        .bind(c.position as i64)
        .bind(c.id.0)
        .bind(c.workspace_id.0)
        .execute(&mut *tx)
        .await
        .map_err(category_conflict)?;
        if old != c.name {
            // Published articles carry their category's name to the matcher.
            bump_generation(&mut tx, c.workspace_id).await?;
        }
        tx.commit().await.map_err(other)?;
        Ok(true)
    }

    pub(crate) async fn kb_delete_category(
        &self,
        ws: WorkspaceId,
        id: CategoryId,
    ) -> StoreResult<CategoryDeletion> {
        let mut tx = self.begin().await?;
        // Conflicts with the key-share lock of every article being filed here: the count below
        // sees them all, and later ones find no category.
        let found: Option<Uuid> = sqlx::query_scalar(
            "SELECT id FROM kb_categories WHERE id = $1 AND workspace_id = $2 FOR UPDATE",
        )
        .bind(id.0)
        .bind(ws.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(other)?;
        if found.is_none() {
            return Ok(CategoryDeletion::NotFound);
        }
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM kb_articles WHERE workspace_id = $1 AND category_id = $2",
        )
        .bind(ws.0)
        .bind(id.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(other)?;
        if n > 0 {
            return Ok(CategoryDeletion::HasArticles(n));
        }
        sqlx::query("DELETE FROM kb_categories WHERE id = $1 AND workspace_id = $2")
            .bind(id.0)
            .bind(ws.0)
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        tx.commit().await.map_err(other)?;
        Ok(CategoryDeletion::Deleted)
    }

    pub(crate) async fn kb_create_article(
        &self,
        a: &Article,
        edited_by: UserId,
    ) -> StoreResult<()> {
        let ws = a.workspace_id;
        let mut tx = self.begin().await?;
        if let Some(c) = a.category_id {
            if !category_exists(&mut tx, ws, c).await? {
                return Err(StoreError::NotFound);
            }
        }
        sqlx::query(&format!(
            "INSERT INTO kb_articles ({KB_ARTICLE_COLS}) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)"
        ))
        .bind(a.id.0)
        .bind(ws.0)
        .bind(a.category_id.map(|c| c.0))
        .bind(a.locale.as_str())
        .bind(&a.title)
        .bind(&a.body_markdown)
        .bind(serde_json::to_string(&a.keywords).map_err(other)?)
        .bind(serde_json::to_string(&a.tags).map_err(other)?)
        .bind(a.status.as_str())
        .bind(a.version)
        .bind(a.published_version)
        .bind(a.published_at)
        .bind(a.views)
        .bind(a.helpful_yes)
        .bind(a.helpful_no)
        .bind(a.created_at)
        .bind(a.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(other)?;
        insert_version(
            &mut tx,
            ws,
            &a.current_version(edited_by, None, a.created_at),
        )
        .await?;
        if a.published_version.is_some() {
            bump_generation(&mut tx, ws).await?;
        }
        tx.commit().await.map_err(other)
    }

    pub(crate) async fn kb_get_article(
        &self,
        ws: WorkspaceId,
        id: ArticleId,
    ) -> StoreResult<Option<Article>> {
        let row = sqlx::query(&ARTICLE_BY_ID)
            .bind(id.0)
            .bind(ws.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(other)?;
        row.as_ref().map(kb_article).transpose().map_err(other)
    }

    pub(crate) async fn kb_list_articles(
        &self,
        ws: WorkspaceId,
        q: &ArticleQuery,
    ) -> StoreResult<Vec<Article>> {
        let rows = sqlx::query(&format!(
            "SELECT {KB_ARTICLE_COLS} FROM kb_articles WHERE workspace_id = $1 \
             AND (CAST($2 AS TEXT) IS NULL OR status = $2) \
             AND (CAST($3 AS UUID) IS NULL OR category_id = $3) \
             AND (CAST($4 AS TEXT) IS NULL OR locale = $4) \
             AND (CAST($5 AS BIGINT) IS NULL OR updated_at < $5 OR (updated_at = $5 AND id < $6)) \
             ORDER BY updated_at DESC, id DESC LIMIT $7"
        ))
        .bind(ws.0)
        .bind(q.status.map(|s| s.as_str()))
        .bind(q.category.map(|c| c.0))
        .bind(q.locale.map(|l| l.as_str()))
        .bind(q.before.map(|b| b.0))
        .bind(q.before.map(|b| b.1 .0))
        .bind(q.limit)
        .fetch_all(&self.pool)
        .await
        .map_err(other)?;
        rows.iter()
            .map(kb_article)
            .collect::<Result<_, _>>()
            .map_err(other)
    }

    pub(crate) async fn kb_update_article(
        &self,
        ws: WorkspaceId,
        id: ArticleId,
        patch: &ArticlePatch,
        edited_by: UserId,
        now: Millis,
    ) -> StoreResult<Option<Article>> {
        let mut tx = self.begin().await?;
        let Some(mut a) = article_in(&mut tx, ws, id).await? else {
            return Ok(None);
        };
        if let Some(Some(c)) = patch.category_id {
            if Some(c) != a.category_id && !category_exists(&mut tx, ws, c).await? {
                return Err(StoreError::NotFound);
            }
        }
        let before = a.clone();
        match a.apply(patch, now) {
            ArticleChange::Nothing => return Ok(Some(a)),
            ArticleChange::Metadata => save_article(&mut tx, &a).await?,
            ArticleChange::NewVersion => {
                save_article(&mut tx, &a).await?;
                insert_version(&mut tx, ws, &a.current_version(edited_by, None, now)).await?;
            }
        }
        if changes_public_view(&before, &a) {
            bump_generation(&mut tx, ws).await?;
        }
        tx.commit().await.map_err(other)?;
        Ok(Some(a))
    }

    /// Publishes (`true`) or unpublishes an article.
    pub(crate) async fn kb_set_published(
        &self,
        ws: WorkspaceId,
        id: ArticleId,
        publish: bool,
        now: Millis,
    ) -> StoreResult<Option<Article>> {
        let mut tx = self.begin().await?;
        let Some(mut a) = article_in(&mut tx, ws, id).await? else {
            return Ok(None);
        };
        let before = a.clone();
        let changed = if publish {
            a.publish(now)
        } else {
            a.unpublish(now)
        };
        if changed {
            save_article(&mut tx, &a).await?;
            if changes_public_view(&before, &a) {
                bump_generation(&mut tx, ws).await?;
            }
            tx.commit().await.map_err(other)?;
        }
        Ok(Some(a))
    }

    pub(crate) async fn kb_versions(
        &self,
        ws: WorkspaceId,
        id: ArticleId,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<ArticleVersion>> {
        let rows = sqlx::query(&format!(
            "SELECT {KB_VERSION_COLS} FROM kb_article_versions WHERE article_id = $1 \
             AND workspace_id = $2 AND (CAST($3 AS BIGINT) IS NULL OR version < $3) \
             ORDER BY version DESC LIMIT $4"
        ))
        .bind(id.0)
        .bind(ws.0)
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(other)?;
        rows.iter()
            .map(kb_version)
            .collect::<Result<_, _>>()
            .map_err(other)
    }

    pub(crate) async fn kb_restore(
        &self,
        ws: WorkspaceId,
        id: ArticleId,
        version: i64,
        edited_by: UserId,
        now: Millis,
    ) -> StoreResult<Option<(Article, ArticleVersion)>> {
        let mut tx = self.begin().await?;
        let Some(mut a) = article_in(&mut tx, ws, id).await? else {
            return Ok(None);
        };
        let old = sqlx::query(&format!(
            "SELECT {KB_VERSION_COLS} FROM kb_article_versions WHERE article_id = $1 \
             AND workspace_id = $2 AND version = $3"
        ))
        .bind(id.0)
        .bind(ws.0)
        .bind(version)
        .fetch_optional(&mut *tx)
        .await
        .map_err(other)?;
        let Some(old) = old.as_ref().map(kb_version).transpose().map_err(other)? else {
            return Ok(None);
        };
        let v = a.restore(&old, edited_by, now);
        save_article(&mut tx, &a).await?;
        insert_version(&mut tx, ws, &v).await?;
        tx.commit().await.map_err(other)?;
        Ok(Some((a, v)))
    }

    pub(crate) async fn kb_delete_article(
        &self,
        ws: WorkspaceId,
        id: ArticleId,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let Some(a) = article_in(&mut tx, ws, id).await? else {
            return Ok(false);
        };
        // Its versions go with it (ON DELETE CASCADE).
        sqlx::query(&DELETE_ARTICLE)
            .bind(id.0)
            .bind(ws.0)
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        if a.published_version.is_some() {
            bump_generation(&mut tx, ws).await?;
        }
        tx.commit().await.map_err(other)?;
        Ok(true)
    }

    pub(crate) async fn kb_count(
        &self,
        ws: WorkspaceId,
        id: ArticleId,
        column: &'static str,
    ) -> StoreResult<bool> {
        let r = sqlx::query(&bump_article(column))
            .bind(id.0)
            .bind(ws.0)
            .execute(&self.pool)
            .await
            .map_err(other)?;
        Ok(r.rows_affected() == 1)
    }

    pub(crate) async fn kb_published(&self, ws: WorkspaceId) -> StoreResult<Vec<PublishedArticle>> {
        let rows = sqlx::query(&format!(
            "{KB_PUBLISHED_SELECT} WHERE a.workspace_id = $1 AND v.workspace_id = $1 \
             ORDER BY a.created_at, a.id"
        ))
        .bind(ws.0)
        .fetch_all(&self.pool)
        .await
        .map_err(other)?;
        rows.iter()
            .map(kb_published)
            .collect::<Result<_, _>>()
            .map_err(other)
    }

    pub(crate) async fn kb_generation_of(&self, ws: WorkspaceId) -> StoreResult<i64> {
        let g: Option<i64> =
            sqlx::query_scalar("SELECT kb_generation FROM workspaces WHERE id = $1")
                .bind(ws.0)
                .fetch_optional(&self.pool)
                .await
                .map_err(other)?;
        Ok(g.unwrap_or(0))
    }
}

impl PostgresStore {
    /// See `Store::record_kb_vote_once`: forgets the workspace's votes older than `since`,
    /// remembers this one unless the voter has a newer one on the article, and counts it then.
    pub(crate) async fn kb_vote_once(
        &self,
        ws: WorkspaceId,
        id: ArticleId,
        voter: &[u8],
        helpful: bool,
        now: Millis,
        since: Millis,
    ) -> StoreResult<Option<bool>> {
        let mut tx = self.begin().await?;
        match article_in(&mut tx, ws, id).await? {
            Some(a) if a.published_version.is_some() => {}
            _ => return Ok(None),
        }
        sqlx::query("DELETE FROM kb_votes WHERE workspace_id = $1 AND voted_at < $2")
            .bind(ws.0)
            .bind(since)
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        let fresh = sqlx::query(
            "INSERT INTO kb_votes (workspace_id, article_id, voter, voted_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (article_id, voter) DO NOTHING",
        )
        .bind(ws.0)
        .bind(id.0)
        .bind(voter)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(other)?
        .rows_affected()
            == 1;
        if fresh {
            let column = if helpful { "helpful_yes" } else { "helpful_no" };
            sqlx::query(&bump_article(column))
                .bind(id.0)
                .bind(ws.0)
                .execute(&mut *tx)
                .await
                .map_err(other)?;
        }
        tx.commit().await.map_err(other)?;
        Ok(Some(fresh))
    }
}

impl PostgresStore {
    pub(crate) async fn kb_synonyms_of(&self, ws: WorkspaceId) -> StoreResult<String> {
        let text: Option<String> =
            sqlx::query_scalar("SELECT kb_synonyms FROM workspaces WHERE id = $1")
                .bind(ws.0)
                .fetch_optional(&self.pool)
                .await
                .map_err(other)?;
        Ok(text.unwrap_or_default())
    }

    /// Saves the synonyms and moves the generation in one statement, so every node rebuilds
    /// its matcher with them on its next question.
    pub(crate) async fn kb_set_synonyms(&self, ws: WorkspaceId, text: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE workspaces SET kb_synonyms = $1, kb_generation = kb_generation + 1 WHERE id = $2",
        )
        .bind(text)
        .bind(ws.0)
        .execute(&self.pool)
        .await
        .map_err(other)?;
        Ok(done.rows_affected() == 1)
    }
}
