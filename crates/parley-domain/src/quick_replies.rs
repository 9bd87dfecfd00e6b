//! Quick replies (快捷回复): canned answers agents insert into the composer with `/shortcut`.
//! Team replies belong to the workspace (admins and supervisors manage them); personal replies
//! belong to one agent, and nobody else sees or changes them.

use crate::model::ts;
use crate::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Longest shortcut, in characters.
pub const MAX_SHORTCUT_CHARS: usize = 30;
/// Longest title, in characters.
pub const MAX_REPLY_TITLE_CHARS: usize = 100;
/// Longest reply text, in characters (a message is at most 5000; variables may grow it a bit).
pub const MAX_REPLY_TEXT_CHARS: usize = 2000;
/// Longest category name, in characters.
pub const MAX_REPLY_CATEGORY_CHARS: usize = 30;

impl Role {
    /// Managing the workspace's team quick replies. Everyone manages their own personal ones.
    pub fn can_manage_team_replies(self) -> bool {
        matches!(self, Role::Admin | Role::Supervisor)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReplyScope {
    /// Shared by the whole workspace.
    Team,
    /// One agent's own.
    Personal,
}

impl ReplyScope {
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyScope::Team => "team",
            ReplyScope::Personal => "personal",
        }
    }
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw.trim() {
            "team" => Ok(Self::Team),
            "personal" => Ok(Self::Personal),
            _ => Err(Invalid::new("scope must be team or personal")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct QuickReply {
    pub id: QuickReplyId,
    #[serde(skip)]
    pub workspace_id: WorkspaceId,
    pub scope: ReplyScope,
    /// The agent a personal reply belongs to; `None` for team replies.
    pub owner_id: Option<UserId>,
    /// What the agent types after `/` (no spaces), e.g. `hi` or `退款`.
    pub shortcut: String,
    pub title: String,
    /// May contain `{visitor.name}`, `{agent.name}`, `{channel.name}`, filled in on insert.
    pub text: String,
    /// Empty when uncategorised.
    pub category: String,
    #[serde(serialize_with = "ts")]
    #[schema(value_type = String)]
    pub created_at: Millis,
    #[serde(serialize_with = "ts")]
    #[schema(value_type = String)]
    pub updated_at: Millis,
}

/// The editable fields of a quick reply, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuickReplyContent {
    pub shortcut: String,
    pub title: String,
    pub text: String,
    pub category: String,
}

impl QuickReplyContent {
    pub fn parse(shortcut: &str, title: &str, text: &str, category: &str) -> Result<Self, Invalid> {
        Ok(QuickReplyContent {
            shortcut: parse_shortcut(shortcut)?,
            title: parse_reply_title(title)?,
            text: parse_reply_text(text)?,
            category: parse_reply_category(category)?,
        })
    }
}

fn one_line(raw: &str, what: &str, max: usize, may_be_empty: bool) -> Result<String, Invalid> {
    let s = raw.trim();
    if s.is_empty() && !may_be_empty {
        return Err(Invalid::new(format!("{what} must not be empty")));
    }
    if s.chars().count() > max || s.chars().any(char::is_control) {
        return Err(Invalid::new(format!(
            "{what} must be at most {max} characters on one line"
        )));
    }
    Ok(s.to_owned())
}

/// Trimmed, a leading `/` dropped, 1 to [`MAX_SHORTCUT_CHARS`] characters without whitespace.
pub fn parse_shortcut(raw: &str) -> Result<String, Invalid> {
    let s = raw.trim();
    let s = s.strip_prefix('/').unwrap_or(s);
    let s = one_line(s, "shortcut", MAX_SHORTCUT_CHARS, false)?;
    if s.contains(char::is_whitespace) || s.contains(['{', '}']) {
        return Err(Invalid::new("shortcut must not contain spaces or braces"));
    }
    Ok(s)
}

pub fn parse_reply_title(raw: &str) -> Result<String, Invalid> {
    one_line(raw, "title", MAX_REPLY_TITLE_CHARS, false)
}

/// May be empty (uncategorised).
pub fn parse_reply_category(raw: &str) -> Result<String, Invalid> {
    one_line(raw, "category", MAX_REPLY_CATEGORY_CHARS, true)
}

/// Several lines allowed (`\n` line ends), surrounding blank space removed, not empty, at most
/// [`MAX_REPLY_TEXT_CHARS`], no control characters but tab and newline.
pub fn parse_reply_text(raw: &str) -> Result<String, Invalid> {
    let s = raw.replace("\r\n", "\n").replace('\r', "\n");
    let s = s.trim();
    if s.is_empty() {
        return Err(Invalid::new("text must not be empty"));
    }
    if s.chars().count() > MAX_REPLY_TEXT_CHARS {
        return Err(Invalid::new(format!(
            "text must be at most {MAX_REPLY_TEXT_CHARS} characters"
        )));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Invalid::new(
            "text must not contain control characters other than tab and newline",
        ));
    }
    Ok(s.to_owned())
}

impl QuickReply {
    pub fn new(
        workspace_id: WorkspaceId,
        owner_id: Option<UserId>,
        content: QuickReplyContent,
        now: Millis,
    ) -> Self {
        QuickReply {
            id: QuickReplyId::new(),
            workspace_id,
            scope: if owner_id.is_some() {
                ReplyScope::Personal
            } else {
                ReplyScope::Team
            },
            owner_id,
            shortcut: content.shortcut,
            title: content.title,
            text: content.text,
            category: content.category,
            created_at: now,
            updated_at: now,
        }
    }

    /// Whether `user` may see it: team replies everyone of the workspace, personal ones only
    /// their owner.
    pub fn visible_to(&self, user: &User) -> bool {
        self.workspace_id == user.workspace_id && self.owner_id.is_none_or(|owner| owner == user.id)
    }

    /// Whether `user` may change or delete it: their own personal replies; team replies when
    /// they are an admin or supervisor.
    pub fn editable_by(&self, user: &User) -> bool {
        self.visible_to(user)
            && match self.owner_id {
                Some(owner) => owner == user.id,
                None => user.role.can_manage_team_replies(),
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(ws: WorkspaceId, role: Role) -> User {
        User {
            id: UserId::new(),
            workspace_id: ws,
            email: "a@b.test".into(),
            name: "A".into(),
            role,
            status: AgentStatus::Online,
            avatar_url: None,
            capacity: 5,
            skills: vec![],
            created_at: 0,
        }
    }

    #[test]
    fn fields_are_checked() {
        assert_eq!(parse_shortcut(" /hi ").unwrap(), "hi");
        assert_eq!(parse_shortcut("退款").unwrap(), "退款");
        assert!(parse_shortcut("").is_err());
        assert!(parse_shortcut("/").is_err());
        assert!(parse_shortcut("a b").is_err());
        assert!(parse_shortcut("{x}").is_err());
        assert!(parse_shortcut(&"x".repeat(31)).is_err());
        assert!(parse_reply_title("  ").is_err());
        assert!(parse_reply_title(&"长".repeat(101)).is_err());
        assert_eq!(parse_reply_category("  ").unwrap(), "");
        assert!(parse_reply_category(&"类".repeat(31)).is_err());
        assert_eq!(
            parse_reply_text("\r\n您好，{visitor.name}\r\n请稍等 ").unwrap(),
            "您好，{visitor.name}\n请稍等"
        );
        assert!(parse_reply_text(" \n ").is_err());
        assert!(parse_reply_text("a\u{7}b").is_err());
        assert!(parse_reply_text(&"字".repeat(2001)).is_err());
        assert!(parse_reply_text(&"字".repeat(2000)).is_ok());
        assert_eq!(ReplyScope::parse("team").unwrap(), ReplyScope::Team);
        assert!(ReplyScope::parse("global").is_err());
    }

    #[test]
    fn who_sees_and_edits() {
        let ws = WorkspaceId::new();
        let agent = person(ws, Role::Agent);
        let other = person(ws, Role::Agent);
        let sup = person(ws, Role::Supervisor);
        let stranger = person(WorkspaceId::new(), Role::Admin);
        let c = QuickReplyContent::parse("hi", "问候", "您好", "").unwrap();
        let team = QuickReply::new(ws, None, c.clone(), 1);
        let mine = QuickReply::new(ws, Some(agent.id), c, 1);
        assert_eq!(
            (team.scope, mine.scope),
            (ReplyScope::Team, ReplyScope::Personal)
        );
        assert!(team.visible_to(&agent) && !team.editable_by(&agent));
        assert!(team.editable_by(&sup));
        assert!(!team.visible_to(&stranger) && !team.editable_by(&stranger));
        assert!(mine.visible_to(&agent) && mine.editable_by(&agent));
        assert!(!mine.visible_to(&other) && !mine.editable_by(&other));
        assert!(!mine.visible_to(&sup) && !mine.editable_by(&sup));
    }
}
