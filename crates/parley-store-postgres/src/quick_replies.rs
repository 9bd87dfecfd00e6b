//! Quick replies on PostgreSQL.

use super::*;

impl PostgresStore {
    pub(crate) async fn qr_create(&self, r: &QuickReply) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO quick_replies ({QUICK_REPLY_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"
        ))
        .bind(r.id.0)
        .bind(r.workspace_id.0)
        .bind(r.owner_id.map(|o| o.0))
        .bind(&r.shortcut)
        .bind(&r.title)
        .bind(&r.text)
        .bind(&r.category)
        .bind(r.created_at)
        .bind(r.updated_at)
        .execute(&self.pool)
        .await
        .map_err(other)?;
        Ok(())
    }

    pub(crate) async fn qr_get(
        &self,
        ws: WorkspaceId,
        id: QuickReplyId,
    ) -> StoreResult<Option<QuickReply>> {
        let row = sqlx::query(&format!(
            "SELECT {QUICK_REPLY_COLS} FROM quick_replies WHERE id = $1 AND workspace_id = $2"
        ))
        .bind(id.0)
        .bind(ws.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(other)?;
        row.as_ref().map(quick_reply).transpose().map_err(other)
    }

    pub(crate) async fn qr_list(
        &self,
        ws: WorkspaceId,
        owner: UserId,
    ) -> StoreResult<Vec<QuickReply>> {
        let rows = sqlx::query(&format!(
            "SELECT {QUICK_REPLY_COLS} FROM quick_replies \
             WHERE workspace_id = $1 AND (owner_id IS NULL OR owner_id = $2) \
             ORDER BY created_at, id"
        ))
        .bind(ws.0)
        .bind(owner.0)
        .fetch_all(&self.pool)
        .await
        .map_err(other)?;
        rows.iter()
            .map(quick_reply)
            .collect::<Result<_, _>>()
            .map_err(other)
    }

    pub(crate) async fn qr_update(&self, r: &QuickReply) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE quick_replies SET shortcut = $1, title = $2, text = $3, category = $4, \
             updated_at = $5 WHERE id = $6 AND workspace_id = $7",
        )
        .bind(&r.shortcut)
        .bind(&r.title)
        .bind(&r.text)
        .bind(&r.category)
        .bind(r.updated_at)
        .bind(r.id.0)
        .bind(r.workspace_id.0)
        .execute(&self.pool)
        .await
        .map_err(other)?;
        Ok(done.rows_affected() == 1)
    }

    pub(crate) async fn qr_delete(&self, ws: WorkspaceId, id: QuickReplyId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM quick_replies WHERE id = $1 AND workspace_id = $2")
            .bind(id.0)
            .bind(ws.0)
            .execute(&self.pool)
            .await
            .map_err(other)?;
        Ok(done.rows_affected() == 1)
    }
}
