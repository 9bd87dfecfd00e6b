//! Groups and routing on PostgreSQL. A routing transaction locks the conversation row, then the
//! group members' user rows (always in id order, so concurrent routings cannot deadlock), and
//! only then counts loads, in a statement whose snapshot sees every assignment committed before
//! the locks were granted. Any number of nodes can route at once without exceeding a capacity.

use super::*;
use parley_core::routing::{plan, MemberState, Outcome};

impl PostgresStore {
    pub(crate) async fn group_members(
        &self,
        ws: WorkspaceId,
        group: Option<GroupId>,
    ) -> StoreResult<Vec<(GroupId, GroupMember)>> {
        let rows = sqlx::query(
            "SELECT gm.group_id, gm.user_id, gm.priority, u.name FROM group_members gm JOIN users u ON u.id = gm.user_id \
             WHERE gm.workspace_id = $1 AND (CAST($2 AS UUID) IS NULL OR gm.group_id = $2) ORDER BY gm.priority, u.name, u.id",
        )
        .bind(ws.0)
        .bind(group.map(|g| g.0))
        .fetch_all(&self.pool)
        .await
        .map_err(other)?;
        rows.iter()
            .map(member)
            .collect::<Result<_, _>>()
            .map_err(other)
    }

    pub(crate) async fn do_route(
        &self,
        ws: WorkspaceId,
        id: ConversationId,
        ctx: &RouteContext,
        now: Millis,
    ) -> StoreResult<Routed> {
        let mut tx = self.begin().await?;
        let mut conv = conversation_in(&mut tx, ws, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let group = match conv.group_id {
            Some(g) => sqlx::query(&format!(
                "SELECT {GROUP_COLS} FROM agent_groups WHERE id = $1 AND workspace_id = $2"
            ))
            .bind(g.0)
            .bind(ws.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(other)?
            .as_ref()
            .map(parley_store_rows::group)
            .transpose()
            .map_err(other)?,
            None => None,
        };
        let members = match &group {
            Some(g) => load_members(&mut tx, ws, g.id).await?,
            None => vec![],
        };
        let previous: Option<Uuid> = sqlx::query_scalar(
            "SELECT e.assignee_id FROM events e JOIN conversations c ON c.id = e.conversation_id \
             WHERE c.visitor_id = $1 AND c.workspace_id = $2 AND e.kind = 'assignment' AND e.assignee_id IS NOT NULL \
             ORDER BY e.created_at DESC, e.seq DESC LIMIT 1",
        )
        .bind(conv.visitor_id.0)
        .bind(ws.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(other)?;
        let p = plan(
            &conv,
            group.as_ref(),
            &members,
            previous.map(UserId),
            ctx,
            now,
        );
        let mut events = Vec::new();
        for e in &p.events {
            events.push(insert_event(&mut tx, &mut conv, e, now).await?);
        }
        if !events.is_empty() {
            save_conversation_state(&mut tx, &conv, &events).await?;
        }
        if let (Outcome::Assigned(u), Some(g)) = (p.outcome, &group) {
            sqlx::query("UPDATE group_members SET last_assigned_at = $1 WHERE group_id = $2 AND user_id = $3")
                .bind(now)
                .bind(g.id.0)
                .bind(u.0)
                .execute(&mut *tx)
                .await
                .map_err(other)?;
        }
        tx.commit().await.map_err(other)?;
        Ok(Routed {
            outcome: p.outcome,
            events,
            conversation: conv,
        })
    }
}

/// Members of a group with their current load (open conversations assigned to them).
async fn load_members(
    tx: &mut Transaction<'_, Postgres>,
    ws: WorkspaceId,
    group: GroupId,
) -> StoreResult<Vec<MemberState>> {
    sqlx::query(
        "SELECT u.id FROM group_members gm JOIN users u ON u.id = gm.user_id \
         WHERE gm.group_id = $1 AND gm.workspace_id = $2 ORDER BY u.id FOR NO KEY UPDATE OF u",
    )
    .bind(group.0)
    .bind(ws.0)
    .fetch_all(&mut **tx)
    .await
    .map_err(other)?;
    let rows: Vec<(Uuid, String, Option<String>, i64, String, i64, i64, Option<i64>, i64)> = sqlx::query_as(
        "SELECT u.id, u.name, u.avatar_url, u.capacity, u.skills, gm.priority, gm.last_assigned_at, u.response_ms, \
         (SELECT COUNT(*) FROM conversations c WHERE c.assignee_id = u.id AND c.status = 'open') AS load \
         FROM group_members gm JOIN users u ON u.id = gm.user_id WHERE gm.group_id = $1 AND gm.workspace_id = $2 ORDER BY u.id",
    )
    .bind(group.0)
    .bind(ws.0)
    .fetch_all(&mut **tx)
    .await
    .map_err(other)?;
    rows.into_iter()
        .map(
            |(id, name, avatar_url, capacity, skills, priority, last, response_ms, load)| {
                Ok(MemberState {
                    user: UserRef {
                        id: UserId(id),
                        name,
                        avatar_url,
                    },
                    capacity: capacity.clamp(0, u32::MAX as i64) as u32,
                    skills: serde_json::from_str(&skills).map_err(other)?,
                    priority: priority as i32,
                    last_assigned_at: last,
                    load: load as u32,
                    response_secs: response_ms.map(|ms| ms as f64 / 1000.0),
                })
            },
        )
        .collect()
}

pub(crate) fn attach_members(
    mut groups: Vec<Group>,
    members: Vec<(GroupId, GroupMember)>,
) -> Vec<Group> {
    for (gid, m) in members {
        if let Some(g) = groups.iter_mut().find(|g| g.id == gid) {
            g.members.push(m);
        }
    }
    groups
}
