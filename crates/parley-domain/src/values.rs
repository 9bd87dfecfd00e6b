use crate::Invalid;
use serde::{Deserialize, Serialize};

/// An e-mail address, trimmed and lower-cased. Deliberately permissive (one `@`, a dot in the
/// domain, no spaces): the real check is whether mail arrives.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim().to_lowercase();
        let ok = s.len() <= 254
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && matches!(s.split_once('@'), Some((local, domain))
                if !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
                    && !domain.ends_with('.') && !domain.contains('@'));
        if ok {
            Ok(Email(s))
        } else {
            Err(Invalid::new("not a valid e-mail address"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password as chosen by a person: 10 to 256 characters.
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 10;
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let n = raw.chars().count();
        if n < Self::MIN_CHARS {
            return Err(Invalid::new(format!(
                "password must be at least {} characters",
                Self::MIN_CHARS
            )));
        }
        if n > 256 {
            return Err(Invalid::new("password must be at most 256 characters"));
        }
        Ok(NewPassword(raw.to_owned()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

/// The text of a message: at most [`MessageBody::MAX_CHARS`] characters, surrounding blank
/// lines removed. May be empty only when the message carries attachments (checked by the service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    pub const MAX_CHARS: usize = 5000;
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim_matches(|c: char| c == '\n' || c == '\r' || c.is_whitespace());
        if s.chars().count() > Self::MAX_CHARS {
            return Err(Invalid::new(format!(
                "message is longer than {} characters",
                Self::MAX_CHARS
            )));
        }
        Ok(MessageBody(s.replace("\r\n", "\n")))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A short human label (names of people, channels, workspaces): trimmed, 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label(String);

impl Label {
    pub fn parse(raw: &str, what: &str) -> Result<Self, Invalid> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(Invalid::new(format!("{what} must not be empty")));
        }
        if s.chars().count() > 100 || s.chars().any(|c| c.is_control()) {
            return Err(Invalid::new(format!(
                "{what} must be at most 100 characters, without control characters"
            )));
        }
        Ok(Label(s.to_owned()))
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

/// A `#rrggbb` colour.
pub fn parse_color(raw: &str) -> Result<String, Invalid> {
    let s = raw.trim();
    if s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(Invalid::new("colour must look like #1f6feb"))
    }
}

/// Trims a client-supplied free-text field and caps its length, so page titles or user agents
/// cannot bloat rows. Returns `None` for empty input.
pub fn clip(raw: Option<&str>, max_chars: usize) -> Option<String> {
    let s = raw?.trim();
    if s.is_empty() {
        return None;
    }
    Some(
        s.chars()
            .filter(|c| !c.is_control())
            .take(max_chars)
            .collect(),
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Supervisor,
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Agent => "agent",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "supervisor" => Some(Role::Supervisor),
            "agent" => Some(Role::Agent),
            _ => None,
        }
    }
    /// Workspace settings: channels, people.
    pub fn can_administer(self) -> bool {
        self == Role::Admin
    }
    /// Assigning conversations to someone other than oneself.
    pub fn can_assign_others(self) -> bool {
        matches!(self, Role::Admin | Role::Supervisor)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AgentStatus {
    Online,
    /// Keeps their conversations, takes no new ones.
    Busy,
    Away,
}

impl AgentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Online => "online",
            AgentStatus::Busy => "busy",
            AgentStatus::Away => "away",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "online" => Some(AgentStatus::Online),
            "busy" => Some(AgentStatus::Busy),
            "away" => Some(AgentStatus::Away),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConversationStatus {
    Open,
    Resolved,
}

impl ConversationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Open => "open",
            ConversationStatus::Resolved => "resolved",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(Self::Open),
            "resolved" => Some(Self::Resolved),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SenderKind {
    Visitor,
    Agent,
    System,
    /// The channel's FAQ bot or an automatic reply.
    Bot,
}

impl SenderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SenderKind::Visitor => "visitor",
            SenderKind::Agent => "agent",
            SenderKind::System => "system",
            SenderKind::Bot => "bot",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "visitor" => Some(Self::Visitor),
            "agent" => Some(Self::Agent),
            "system" => Some(Self::System),
            "bot" => Some(Self::Bot),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    Message,
    Status,
    Assignment,
    /// The conversation started waiting for an agent (the note says why).
    Queued,
    /// An internal note between colleagues.
    Note,
    /// What visitors see in place of an internal note: a numbered placeholder, never stored.
    Internal,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Message => "message",
            EventKind::Status => "status",
            EventKind::Assignment => "assignment",
            EventKind::Queued => "queued",
            EventKind::Note => "note",
            EventKind::Internal => "internal",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "message" => Some(Self::Message),
            "status" => Some(Self::Status),
            "assignment" => Some(Self::Assignment),
            "queued" => Some(Self::Queued),
            "note" => Some(Self::Note),
            _ => None,
        }
    }
}

/// Skill tags of an agent (技能标签): trimmed, lower-cased, de-duplicated, at most 30 of at
/// most 40 characters each.
pub fn parse_skills<S: AsRef<str>>(raw: &[S]) -> Result<Vec<String>, Invalid> {
    let mut out: Vec<String> = Vec::new();
    for s in raw {
        let s = s.as_ref().trim().to_lowercase();
        if s.is_empty() {
            continue;
        }
        if s.chars().count() > 40 || s.chars().any(|c| c.is_control() || c == ',') {
            return Err(Invalid::new(
                "a skill is at most 40 characters, without commas",
            ));
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    if out.len() > 30 {
        return Err(Invalid::new("at most 30 skills"));
    }
    Ok(out)
}

/// Conversation tags: trimmed, de-duplicated, at most 20 of at most 30 characters.
pub fn parse_tags<S: AsRef<str>>(raw: &[S]) -> Result<Vec<String>, Invalid> {
    let mut out: Vec<String> = Vec::new();
    for t in raw {
        let t = t.as_ref().trim();
        if t.is_empty() {
            continue;
        }
        if t.chars().count() > 30 || t.chars().any(|c| c.is_control()) {
            return Err(Invalid::new("a tag is at most 30 characters"));
        }
        if !out.iter().any(|o| o.eq_ignore_ascii_case(t)) {
            out.push(t.to_owned());
        }
    }
    if out.len() > 20 {
        return Err(Invalid::new("at most 20 tags"));
    }
    Ok(out)
}

/// The colleagues a note mentions: `@Name` for any of `names`, longest name first so that
/// "@Ana Li" is not read as "@Ana".
pub fn mentioned<'a>(body: &str, names: &'a [String]) -> Vec<&'a String> {
    let mut sorted: Vec<&String> = names.iter().filter(|n| !n.is_empty()).collect();
    sorted.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
    let lower = body.to_lowercase();
    let mut out: Vec<&String> = Vec::new();
    let mut taken: Vec<(usize, usize)> = Vec::new();
    for n in sorted {
        let needle = format!("@{}", n.to_lowercase());
        let mut from = 0;
        while let Some(i) = lower[from..].find(&needle) {
            let (start, end) = (from + i, from + i + needle.len());
            let boundary = lower[end..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric());
            if boundary && !taken.iter().any(|(s, e)| start < *e && *s < end) {
                taken.push((start, end));
                if !out.contains(&n) {
                    out.push(n);
                }
            }
            from = end;
        }
    }
    out
}

#[cfg(test)]
mod mention_tests {
    use super::*;

    #[test]
    fn mentions_prefer_the_longest_name_and_need_a_boundary() {
        let names = vec![
            "Ana".to_string(),
            "Ana Li".to_string(),
            "小王".to_string(),
            "Bo".to_string(),
        ];
        let got = mentioned("@ana li please check, cc @小王 and @Bob", &names);
        assert_eq!(got, vec![&names[1], &names[2]]);
        assert!(mentioned("mail ana@example.com", &names).is_empty());
        assert_eq!(
            parse_tags(&[" VIP ", "vip", "退款", ""]).unwrap(),
            vec!["VIP", "退款"]
        );
        assert!(parse_tags(&["x".repeat(31)]).is_err());
    }
}

/// The client's idempotency key for a message: 1 to 64 characters of `[A-Za-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if !raw.is_empty()
            && raw.len() <= 64
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            Ok(ClientId(raw.to_owned()))
        } else {
            Err(Invalid::new(
                "client_id must be 1-64 characters of letters, digits, '-' or '_'",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_normalised_and_checked() {
        assert_eq!(
            Email::parse(" Ana@Example.COM ").unwrap().as_str(),
            "ana@example.com"
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@x.com",
            "a b@x.com",
            "ana@x",
            "ana@.com",
            "a@b@c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn message_body_limits() {
        assert_eq!(MessageBody::parse("  hi \r\n").unwrap().as_str(), "hi");
        assert_eq!(MessageBody::parse("a\r\nb").unwrap().as_str(), "a\nb");
        assert!(MessageBody::parse(&"字".repeat(5000)).is_ok());
        assert!(MessageBody::parse(&"字".repeat(5001)).is_err());
        assert!(MessageBody::parse("   ").unwrap().is_empty());
    }

    #[test]
    fn passwords_colours_client_ids() {
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse("long enough pw").is_ok());
        assert_eq!(parse_color("#1F6FEB").unwrap(), "#1f6feb");
        assert!(parse_color("red").is_err());
        assert!(ClientId::parse("0192-abc_D").is_ok());
        assert!(ClientId::parse("").is_err());
        assert!(ClientId::parse("a b").is_err());
        assert!(ClientId::parse(&"x".repeat(65)).is_err());
    }

    #[test]
    fn clip_trims_and_caps() {
        assert_eq!(clip(Some("  "), 5), None);
        assert_eq!(clip(Some(" abcdefg "), 3).as_deref(), Some("abc"));
        assert_eq!(clip(Some("a\u{0}b"), 5).as_deref(), Some("ab"));
    }
}
