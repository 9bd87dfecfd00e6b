//! The FAQ bot's state on conversations and the questions it could not answer.

use super::*;

impl PostgresStore {
    pub(crate) async fn bot_set_misses(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        misses: i32,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE conversations SET bot_misses = $1 WHERE id = $2 AND workspace_id = $3 AND bot_active = 1",
        )
        .bind(misses as i64)
        .bind(id.0)
        .bind(ws.0)
        .execute(&self.pool)
        .await
        .map_err(other)?;
        Ok(done.rows_affected() == 1)
    }

    pub(crate) async fn bot_end(&self, ws: WorkspaceId, id: ConversationId) -> StoreResult<bool> {
        // The row update is the arbiter: of two nodes ending the same bot phase, one wins.
        let done = sqlx::query(
            "UPDATE conversations SET bot_active = 0, bot_misses = 0 WHERE id = $1 AND workspace_id = $2 AND bot_active = 1",
        )
        .bind(id.0)
        .bind(ws.0)
        .execute(&self.pool)
        .await
        .map_err(other)?;
        Ok(done.rows_affected() == 1)
    }

    pub(crate) async fn unanswered_add(&self, q: &Unanswered) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO kb_unanswered ({UNANSWERED_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)"
        ))
        .bind(q.id.0)
        .bind(q.workspace_id.0)
        .bind(q.channel_id.0)
        .bind(q.conversation_id.0)
        .bind(&q.question)
        .bind(q.article_id.map(|a| a.0))
        .bind(q.resolved_at)
        .bind(q.created_at)
        .execute(&self.pool)
        .await
        .map_err(other)?;
        Ok(())
    }

    pub(crate) async fn unanswered_list(
        &self,
        ws: WorkspaceId,
        include_resolved: bool,
        limit: i64,
    ) -> StoreResult<Vec<Unanswered>> {
        let rows = sqlx::query(&format!(
            "SELECT {UNANSWERED_COLS} FROM kb_unanswered WHERE workspace_id = $1 \
             AND ($2 OR resolved_at IS NULL) ORDER BY created_at DESC, id DESC LIMIT $3"
        ))
        .bind(ws.0)
        .bind(include_resolved)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(other)?;
        rows.iter()
            .map(unanswered)
            .collect::<Result<_, _>>()
            .map_err(other)
    }

    pub(crate) async fn unanswered_resolve(
        &self,
        ws: WorkspaceId,
        id: UnansweredId,
        article: Option<ArticleId>,
        now: Millis,
    ) -> StoreResult<bool> {
        // The article must be the workspace's: checked in the same statement.
        let done = sqlx::query(
            "UPDATE kb_unanswered SET article_id = $1, resolved_at = $2 \
             WHERE id = $3 AND workspace_id = $4 \
             AND ($1 IS NULL OR EXISTS (SELECT 1 FROM kb_articles a WHERE a.id = $1 AND a.workspace_id = $4))",
        )
        .bind(article.map(|a| a.0))
        .bind(now)
        .bind(id.0)
        .bind(ws.0)
        .execute(&self.pool)
        .await
        .map_err(other)?;
        Ok(done.rows_affected() == 1)
    }
}
