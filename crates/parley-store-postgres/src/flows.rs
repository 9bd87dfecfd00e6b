//! Guided flows: the workspace's definitions and where each conversation is in one.

use super::*;
use parley_domain::flow::Flow;

impl PostgresStore {
    pub(crate) async fn flows_get(&self, ws: WorkspaceId) -> StoreResult<Vec<Flow>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT definition FROM flows WHERE workspace_id = $1")
                .bind(ws.0)
                .fetch_optional(&self.pool)
                .await
                .map_err(other)?;
        match row {
            Some((json,)) => serde_json::from_str(&json).map_err(other),
            None => Ok(vec![]),
        }
    }

    pub(crate) async fn flows_replace(
        &self,
        ws: WorkspaceId,
        flows: &[Flow],
        now: Millis,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO flows (workspace_id, definition, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (workspace_id) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at",
        )
        .bind(ws.0)
        .bind(serde_json::to_string(flows).map_err(other)?)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(other)?;
        Ok(())
    }

    pub(crate) async fn flow_state_get(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
    ) -> StoreResult<Option<(String, String)>> {
        sqlx::query_as(
            "SELECT flow_id, step_id FROM conversation_flows WHERE conversation_id = $1 AND workspace_id = $2",
        )
        .bind(id.0)
        .bind(ws.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(other)
    }

    pub(crate) async fn flow_state_set(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        at: Option<(&str, &str)>,
    ) -> StoreResult<()> {
        match at {
            // The workspace check as in `IN_WORKSPACE_2` (lib.rs).
            Some((flow, step)) => sqlx::query(
                "INSERT INTO conversation_flows (conversation_id, workspace_id, flow_id, step_id) \
                 SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM conversations WHERE id = $1 AND workspace_id IS NOT DISTINCT FROM $2) \
                 ON CONFLICT (conversation_id) DO UPDATE SET flow_id = excluded.flow_id, step_id = excluded.step_id",
            )
            .bind(id.0)
            .bind(ws.0)
            .bind(flow)
            .bind(step),
            None => sqlx::query(
                "DELETE FROM conversation_flows WHERE conversation_id = $1 AND workspace_id = $2",
            )
            .bind(id.0)
            .bind(ws.0),
        }
        .execute(&self.pool)
        .await
        .map_err(other)?;
        Ok(())
    }
}
