//! Keyword auto-replies on PostgreSQL.

use super::*;

impl PostgresStore {
    pub(crate) async fn ar_list(&self, ws: WorkspaceId) -> StoreResult<Vec<AutoReply>> {
        let rows = sqlx::query(&format!(
            "SELECT {AUTO_REPLY_COLS} FROM auto_replies WHERE workspace_id = $1 \
             ORDER BY position, id"
        ))
        .bind(ws.0)
        .fetch_all(&self.pool)
        .await
        .map_err(other)?;
        rows.iter()
            .map(auto_reply)
            .collect::<Result<_, _>>()
            .map_err(other)
    }

    /// The whole list in one transaction.
    pub(crate) async fn ar_replace(&self, ws: WorkspaceId, rules: &[AutoReply]) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM auto_replies WHERE workspace_id = $1")
            .bind(ws.0)
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        for r in rules {
            let window = r
                .window
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .map_err(other)?;
            sqlx::query(&format!(
                "INSERT INTO auto_replies ({AUTO_REPLY_COLS}) \
                 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)"
            ))
            .bind(r.id.0)
            .bind(ws.0)
            .bind(r.position as i64)
            .bind(&r.name)
            .bind(serde_json::to_string(&r.keywords).map_err(other)?)
            .bind(r.mode.as_str())
            .bind(serde_json::to_string(&r.channel_ids).map_err(other)?)
            .bind(window)
            .bind(&r.reply)
            .bind(serde_json::to_string(&r.buttons).map_err(other)?)
            .bind(r.enabled as i64)
            .bind(r.hits)
            .bind(r.created_at)
            .bind(r.updated_at)
            .bind(serde_json::to_string(&r.visitor_tags).map_err(other)?)
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        }
        tx.commit().await.map_err(other)
    }

    pub(crate) async fn ar_hit(&self, ws: WorkspaceId, id: AutoReplyId) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE auto_replies SET hits = hits + 1 WHERE id = $1 AND workspace_id = $2",
        )
        .bind(id.0)
        .bind(ws.0)
        .execute(&self.pool)
        .await
        .map_err(other)?;
        Ok(done.rows_affected() == 1)
    }
}
