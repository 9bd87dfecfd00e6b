//! The workspace's business hours, the off-hours reply's once-per-period claim, and the
//! contact details from the leave-a-message form.

use super::*;

impl PostgresStore {
    pub(crate) async fn hours_get(&self, ws: WorkspaceId) -> StoreResult<Option<WorkspaceHours>> {
        let row: Option<(bool, String, Option<String>)> = sqlx::query_as(
            "SELECT enabled, calendar, off_hours_text FROM workspace_hours WHERE workspace_id = $1",
        )
        .bind(ws.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(other)?;
        row.map(|(enabled, calendar, off_hours_text)| {
            Ok(WorkspaceHours {
                enabled,
                calendar: serde_json::from_str(&calendar).map_err(other)?,
                off_hours_text,
            })
        })
        .transpose()
    }

    pub(crate) async fn hours_set(
        &self,
        ws: WorkspaceId,
        h: &WorkspaceHours,
        now: Millis,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO workspace_hours (workspace_id, enabled, calendar, off_hours_text, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (workspace_id) DO UPDATE SET \
             enabled = excluded.enabled, calendar = excluded.calendar, \
             off_hours_text = excluded.off_hours_text, updated_at = excluded.updated_at",
        )
        .bind(ws.0)
        .bind(h.enabled)
        .bind(serde_json::to_string(&h.calendar).map_err(other)?)
        .bind(&h.off_hours_text)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(other)?;
        Ok(())
    }

    pub(crate) async fn hours_claim_reply(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        now: Millis,
        until: Millis,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE conversations SET off_hours_until = $1 WHERE id = $2 AND workspace_id = $3 \
             AND (off_hours_until IS NULL OR off_hours_until <= $4)",
        )
        .bind(until)
        .bind(id.0)
        .bind(ws.0)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(other)?;
        Ok(done.rows_affected() == 1)
    }

    pub(crate) async fn visitor_set_contact(
        &self,
        ws: WorkspaceId,
        id: VisitorId,
        name: Option<&str>,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> StoreResult<Option<Visitor>> {
        let row = sqlx::query(&format!(
            "UPDATE visitors SET name = COALESCE($1, name), email = COALESCE($2, email), \
             phone = COALESCE($3, phone) WHERE id = $4 AND workspace_id = $5 RETURNING {VISITOR_COLS}"
        ))
        .bind(name)
        .bind(email)
        .bind(phone)
        .bind(id.0)
        .bind(ws.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(other)?;
        row.as_ref().map(visitor).transpose().map_err(other)
    }
}
