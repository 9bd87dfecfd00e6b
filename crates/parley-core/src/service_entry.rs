//! Entry points (咨询入口): a channel's list of groups that visitors pick from before the chat
//! starts, and deleting groups without leaving anything pointing at them.

use crate::ports::{GroupDeletion, Store};
use crate::service::{Agent, Parley, VisitorActor};
use crate::{ServiceError, ServiceResult};
use parley_domain::*;

/// Checks an admin's option list: the shape (count, duplicates, labels) and that every group
/// exists in the workspace. Returns the options with their group names.
pub(crate) async fn entry_options(
    store: &dyn Store,
    ws: WorkspaceId,
    raw: &[(GroupId, String)],
) -> ServiceResult<Vec<EntryPoint>> {
    let options = parse_entry_points(raw)?;
    let mut out = Vec::with_capacity(options.len());
    for (i, (group_id, label)) in options.into_iter().enumerate() {
        let Some(group) = store.get_group(ws, group_id).await? else {
            return Err(ServiceError::Invalid(format!(
                "entry option {}: no such group",
                i + 1
            )));
        };
        out.push(EntryPoint {
            group_id,
            label,
            group_name: group.name,
        });
    }
    Ok(out)
}

impl Parley {
    /// The group a visitor picked, if it is one of their channel's options right now (the
    /// channel is read again: the socket's copy may predate an admin's change).
    pub(crate) async fn chosen_group(
        &self,
        v: &VisitorActor,
        group: GroupId,
    ) -> ServiceResult<GroupId> {
        let channel = self
            .store
            .get_channel(v.visitor.workspace_id, v.channel.id)
            .await?
            .ok_or(ServiceError::NotFound("channel"))?;
        if channel.entry_points.iter().any(|e| e.group_id == group) {
            Ok(group)
        } else {
            Err(ServiceError::Invalid(
                "group_id is not one of this chat's options".into(),
            ))
        }
    }

    /// Deletes a group. One that a channel, an entry option, a keyword rule or an open
    /// conversation still uses is refused with what uses it, so nothing is left pointing at
    /// a group that is gone and no visitor-facing option disappears without the admin knowing.
    pub async fn delete_group(&self, agent: &Agent, id: GroupId) -> ServiceResult<()> {
        if !agent.user.role.can_administer() {
            return Err(ServiceError::Forbidden("only admins can do this".into()));
        }
        match self.store.delete_group(agent.user.workspace_id, id).await? {
            GroupDeletion::Deleted => Ok(()),
            GroupDeletion::NotFound => Err(ServiceError::NotFound("group")),
            GroupDeletion::UsedByChannel {
                channel,
                option: false,
            } => Err(ServiceError::Conflict(format!(
                "channel \"{channel}\" routes its conversations to this group; choose another group there first"
            ))),
            GroupDeletion::UsedByChannel {
                channel,
                option: true,
            } => Err(ServiceError::Conflict(format!(
                "channel \"{channel}\" offers this group to its visitors as an entry option; remove the option there first"
            ))),
            GroupDeletion::UsedByRule(n) => Err(ServiceError::Conflict(format!(
                "keyword rule {n} sends conversations to this group; change the rule first"
            ))),
            GroupDeletion::OpenConversations(n) => Err(ServiceError::Conflict(format!(
                "{n} open conversation(s) are still in this group; transfer or resolve them first"
            ))),
        }
    }
}
