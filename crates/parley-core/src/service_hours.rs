//! Business hours (营业时间) of the workspace, the off-hours reply, and the leave-a-message form
//! (留言).
//!
//! Whether a conversation's team is open follows [`parley_domain::calendar::group_open`]: a
//! group with its own weekly hours uses them and closes on workspace holidays; anything else
//! follows the workspace calendar. A visitor who writes while closed gets the off-hours reply
//! once per conversation per closed period (the claim is a conditional row update, so two
//! messages or two nodes never both send it).

use crate::bus::{BusMessage, Topic};
use crate::ports::*;
use crate::rate_limit::FailureLimiter;
use crate::service::{Actor, Agent, Parley, VisitorActor};
use crate::{ServiceError, ServiceResult};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use parley_domain::calendar::{group_next_open, group_open};
use parley_domain::*;
use std::time::Duration;

/// The tag every leave-a-message conversation gets, so the team finds them in the inbox.
pub const LEAVE_MESSAGE_TAG: &str = "留言";
const MAX_NAME_CHARS: usize = 60;

/// Whether the team is open for a visitor now, and when it opens next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenNow {
    pub open: bool,
    /// The next opening while closed; `None` when open or never opening within a year.
    pub next_open: Option<Millis>,
    /// The same in words ("周一 09:00", "on Monday at 09:00").
    pub next_open_text: Option<String>,
}

/// The visitor reads times in the zone the team's hours are written in: the workspace's when
/// its calendar is on, else the group's.
fn display_zone<'a>(
    calendar: Option<&'a BusinessCalendar>,
    own: Option<&'a WeeklyHours>,
) -> &'a str {
    calendar
        .map(|c| c.time_zone.as_str())
        .or(own.map(|h| h.time_zone.as_str()))
        .unwrap_or("UTC")
}

/// What a visitor fills in to leave a message.
#[derive(Debug, Clone, Default)]
pub struct LeaveMessageInput {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub message: String,
    /// The widget's id for this submission, so a retry is not stored twice.
    pub client_id: String,
}

/// A phone number as people type it (`+86 138-0013-8000`, `(021) 6888 8888`): digits with an
/// optional leading `+`, spaces, dashes, dots and parentheses; 6 to 15 digits (E.164's limit).
/// Kept as typed apart from the outer spaces, since that is how the team will read it.
pub fn parse_phone(raw: &str) -> Result<String, Invalid> {
    let s = raw.trim();
    let digits = s.chars().filter(char::is_ascii_digit).count();
    let body = s.strip_prefix('+').unwrap_or(s);
    let ok = body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'))
        && (6..=15).contains(&digits)
        && s.chars().count() <= 30;
    if ok {
        Ok(s.to_owned())
    } else {
        Err(Invalid::new(
            "the phone number should be 6 to 15 digits, e.g. +86 138 0013 8000",
        ))
    }
}

/// The visitor reads English only when their browser says English.
fn english(language: Option<&str>) -> bool {
    language.is_some_and(|l| l.trim().to_ascii_lowercase().starts_with("en"))
}

/// When the team is back, in words: 今天 / 明天 / 周一 / 10月8日（周四） and the local time.
pub fn describe_next_open(zone: &str, now: Millis, next: Millis, en: bool) -> Option<String> {
    let tz = TimeZone::get(zone).ok()?;
    let today = Timestamp::from_millisecond(now)
        .ok()?
        .to_zoned(tz.clone())
        .date();
    let at = Timestamp::from_millisecond(next).ok()?.to_zoned(tz);
    let days = (at.date() - today).get_days();
    let wd = at.weekday().to_monday_zero_offset() as usize;
    let time = format!("{:02}:{:02}", at.hour(), at.minute());
    const ZH: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
    const EN: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    Some(match (en, days) {
        (false, 0) => format!("今天 {time}"),
        (false, 1) => format!("明天 {time}"),
        (false, 2..=6) => format!("{} {time}", ZH[wd]),
        (false, _) => format!("{}月{}日（{}） {time}", at.month(), at.day(), ZH[wd]),
        (true, 0) => format!("today at {time}"),
        (true, 1) => format!("tomorrow at {time}"),
        (true, 2..=6) => format!("on {} at {time}", EN[wd]),
        (true, _) => format!(
            "on {} {} {} at {time}",
            EN[wd],
            at.day(),
            MONTHS[at.month() as usize - 1]
        ),
    })
}

/// The off-hours reply: the admin's text (with `{next_open}` filled in) or the built-in one.
pub fn off_hours_text(custom: Option<&str>, next_open: Option<&str>, en: bool) -> String {
    if let Some(t) = custom {
        let when = next_open.unwrap_or(if en { "soon" } else { "尽快" });
        return t.replace("{next_open}", when);
    }
    match (en, next_open) {
        (false, Some(w)) => format!(
            "您好，现在是非工作时间，我们将于 {w} 回来。您可以留下联系方式和问题，我们上班后会尽快回复您。"
        ),
        (false, None) => "您好，现在是非工作时间。您可以留下联系方式和问题，我们会尽快回复您。".into(),
        (true, Some(w)) => format!(
            "Hi! We're away right now and will be back {w}. Leave your question and how to reach you, and we'll get back to you."
        ),
        (true, None) => "Hi! We're away right now. Leave your question and how to reach you, and we'll get back to you.".into(),
    }
}

/// Leave-a-message submissions allowed per visitor and per IP in a sliding window: enough for
/// a person correcting a typo, not for filling the inbox.
pub struct LeaveLimits {
    visitor: FailureLimiter,
    ip: FailureLimiter,
}

impl Default for LeaveLimits {
    fn default() -> Self {
        LeaveLimits {
            visitor: FailureLimiter::new(10, Duration::from_secs(600)),
            ip: FailureLimiter::new(30, Duration::from_secs(600)),
        }
    }
}

impl LeaveLimits {
    /// Counts one submission; `Err(seconds)` when over a limit (then nothing is counted).
    fn admit(&self, visitor: VisitorId, ip: &str) -> Result<(), u64> {
        let v = visitor.to_string();
        if let Some(s) = self.visitor.blocked_for(&v).or(self.ip.blocked_for(ip)) {
            return Err(s);
        }
        self.visitor.record_failure(&v);
        self.ip.record_failure(ip);
        Ok(())
    }
}

fn require_admin(agent: &Agent) -> ServiceResult<()> {
    if agent.user.role.can_administer() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden("only admins can do this".into()))
    }
}

impl Parley {
    /// The saved settings, or the defaults (switched off) when never saved.
    pub async fn workspace_hours(&self, agent: &Agent) -> ServiceResult<WorkspaceHours> {
        Ok(self
            .store
            .workspace_hours(agent.user.workspace_id)
            .await?
            .unwrap_or_default())
    }

    /// Replaces the workspace's business hours (admins only); nothing is saved unless all of
    /// it is valid.
    pub async fn set_workspace_hours(
        &self,
        agent: &Agent,
        enabled: bool,
        calendar: CalendarInput,
        off_hours_text: Option<String>,
    ) -> ServiceResult<WorkspaceHours> {
        require_admin(agent)?;
        let hours = WorkspaceHours::parse(enabled, calendar, off_hours_text)?;
        let ws = agent.user.workspace_id;
        self.store
            .set_workspace_hours(ws, &hours, now_millis())
            .await?;
        self.settings_changed(ws);
        Ok(hours)
    }

    /// The calendar in force for routing; `None` when switched off (or unreadable: routing
    /// then behaves as before rather than stopping).
    pub(crate) async fn workspace_calendar(&self, ws: WorkspaceId) -> Option<BusinessCalendar> {
        match self.cached_hours(ws).await {
            Ok(h) => h.and_then(|h| h.enabled.then(|| h.calendar.clone())),
            Err(e) => {
                tracing::error!(error = %e, "reading the workspace's business hours");
                None
            }
        }
    }

    /// The workspace's settings (defaults when never saved) and the group's own hours.
    async fn hours_of(
        &self,
        ws: WorkspaceId,
        group: Option<GroupId>,
    ) -> ServiceResult<(std::sync::Arc<WorkspaceHours>, Option<WeeklyHours>)> {
        let settings = self.cached_hours(ws).await?.unwrap_or_default();
        let own = match group {
            Some(g) => self.store.get_group(ws, g).await?.and_then(|g| g.hours),
            None => None,
        };
        Ok((settings, own))
    }

    /// Open or closed at `now` for a conversation in `group`, and when it next opens, in
    /// words in the visitor's language (for the widget's notice before they write).
    pub async fn open_now(
        &self,
        ws: WorkspaceId,
        group: Option<GroupId>,
        language: Option<&str>,
        now: Millis,
    ) -> ServiceResult<OpenNow> {
        let (settings, own) = self.hours_of(ws, group).await?;
        let calendar = settings.active();
        let open = group_open(own.as_ref(), calendar, now);
        let next_open = if open {
            None
        } else {
            group_next_open(own.as_ref(), calendar, now)
        };
        let zone = display_zone(calendar, own.as_ref());
        Ok(OpenNow {
            open,
            next_open,
            next_open_text: next_open
                .and_then(|n| describe_next_open(zone, now, n, english(language))),
        })
    }

    /// The visitor wrote and the conversation is going to people: while closed, tell them once
    /// per closed period when the team is back. Failures are logged; the message is stored.
    pub(crate) async fn off_hours_reply(&self, conv: &Conversation) {
        if conv.bot_active || conv.status != ConversationStatus::Open {
            return; // the bot answers; or nobody needs telling
        }
        if let Err(e) = self.try_off_hours_reply(conv, now_millis(), true).await {
            tracing::error!(error = %e, "sending the off-hours reply");
        }
    }

    /// Claims the closed period for `conv` and, when `send`, posts the reply. True when closed.
    async fn try_off_hours_reply(
        &self,
        conv: &Conversation,
        now: Millis,
        send: bool,
    ) -> ServiceResult<bool> {
        let ws = conv.workspace_id;
        let (settings, own) = self.hours_of(ws, conv.group_id).await?;
        let calendar = settings.active();
        if group_open(own.as_ref(), calendar, now) {
            return Ok(false);
        }
        let next = group_next_open(own.as_ref(), calendar, now);
        let claimed = self
            .store
            .claim_off_hours_reply(ws, conv.id, now, next.unwrap_or(Millis::MAX))
            .await?;
        if !claimed || !send {
            return Ok(true);
        }
        let visitor = self.store.get_visitor(ws, conv.visitor_id).await?;
        let en = english(visitor.as_ref().and_then(|v| v.language.as_deref()));
        let zone = display_zone(calendar, own.as_ref());
        let when = next.and_then(|n| describe_next_open(zone, now, n, en));
        let text = off_hours_text(settings.off_hours_text.as_deref(), when.as_deref(), en);
        let name = if en { "Auto reply" } else { "自动回复" };
        self.post_bot_message(conv, name, &text, vec![]).await;
        Ok(true)
    }

    /// The leave-a-message form: saves the visitor's contact details, stores the message as
    /// theirs in their current conversation (or a new one), tags it 留言 and routes it like any
    /// other, so it waits in the queue until someone is there.
    pub async fn leave_message(
        &self,
        v: &VisitorActor,
        input: LeaveMessageInput,
        ip: &str,
    ) -> ServiceResult<Appended> {
        self.leave_limits
            .admit(v.visitor.id, ip)
            .map_err(ServiceError::RateLimited)?;
        let name = input
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        if name
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_NAME_CHARS || n.chars().any(char::is_control))
        {
            return Err(ServiceError::Invalid(format!(
                "the name is at most {MAX_NAME_CHARS} characters"
            )));
        }
        let email = match input.email.as_deref().map(str::trim) {
            Some(e) if !e.is_empty() => Some(Email::parse(e)?.as_str().to_owned()),
            _ => None,
        };
        let phone = match input.phone.as_deref().map(str::trim) {
            Some(p) if !p.is_empty() => Some(parse_phone(p)?),
            _ => None,
        };
        if email.is_none() && phone.is_none() {
            return Err(ServiceError::Invalid(
                "leave a phone number or an e-mail address so we can reply".into(),
            ));
        }
        let body = MessageBody::parse(&input.message)?;
        if body.is_empty() {
            return Err(ServiceError::Invalid(
                "the message must not be empty".into(),
            ));
        }
        let client_id = ClientId::parse(&input.client_id)?;
        let ws = v.visitor.workspace_id;
        let visitor = self
            .store
            .set_visitor_contact(
                ws,
                v.visitor.id,
                name.as_deref(),
                email.as_deref(),
                phone.as_deref(),
            )
            .await?
            .ok_or(ServiceError::NotFound("visitor"))?;
        let actor = Actor::Visitor(VisitorActor {
            visitor,
            channel: v.channel.clone(),
        });
        let target = Target::VisitorCurrent {
            channel_id: v.channel.id,
            visitor_id: v.visitor.id,
            group_id: v.channel.group_id,
        };
        // A message left for people: it does not start the bot.
        let effects = MessageEffects {
            reopen: true,
            claim_by: None,
            start_bot: false,
        };
        let msg = NewEvent::message(actor.sender(), client_id, body, vec![]);
        let now = now_millis();
        let appended = self
            .store
            .append_message(ws, target, &msg, &effects, now)
            .await?;
        if appended.duplicate {
            return Ok(appended);
        }
        let conv = &appended.conversation;
        self.publish_events(conv, &appended.events, appended.created_conversation);
        if conv.bot_active {
            // An earlier chat with the bot: the visitor asked for people now.
            self.store.end_bot(ws, conv.id).await?;
        }
        // Viewer-independent fields only: the tags.
        let mut tags = self
            .store
            .conversation_summary(ws, conv.id, UserId(uuid::Uuid::nil()))
            .await?
            .map(|s| s.tags)
            .unwrap_or_default();
        if !tags.iter().any(|t| t == LEAVE_MESSAGE_TAG) {
            tags.push(LEAVE_MESSAGE_TAG.into());
            if let Ok(tags) = parse_tags(&tags) {
                self.store.set_tags(ws, conv.id, &tags).await?;
            }
        }
        self.bus.publish(
            Topic::Inbox(ws),
            BusMessage::ConversationChanged {
                conversation_id: conv.id,
            },
        );
        // They have read the off-hours notice in the form: no reply to this message.
        if let Err(e) = self.try_off_hours_reply(conv, now, false).await {
            tracing::error!(error = %e, "claiming the off-hours period");
        }
        let text = appended.message.body.clone().unwrap_or_default();
        let mut fresh = conv.clone();
        fresh.bot_active = false;
        self.route_after_visitor_message(&fresh, &text, appended.created_conversation, false)
            .await;
        Ok(appended)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> Millis {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn phone_numbers() {
        for ok in [
            "13800138000",
            "+86 138-0013-8000",
            "(021) 6888 8888",
            "+1 212.555.0100",
        ] {
            assert!(parse_phone(ok).is_ok(), "{ok} refused");
        }
        for bad in [
            "",
            "12345",
            "call me",
            "138001380001234567",
            "+86+138",
            "138 0013 8000 x",
        ] {
            assert!(parse_phone(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn next_opening_in_words() {
        // Friday 2026-10-02 20:00 Shanghai.
        let now = ms("2026-10-02T12:00:00Z");
        let d = |next: &str, en| describe_next_open("Asia/Shanghai", now, ms(next), en).unwrap();
        assert_eq!(d("2026-10-03T01:00:00Z", false), "明天 09:00");
        assert_eq!(d("2026-10-05T01:00:00Z", false), "周一 09:00");
        assert_eq!(d("2026-10-05T01:00:00Z", true), "on Monday at 09:00");
        assert_eq!(d("2026-10-08T01:00:00Z", false), "周四 09:00");
        assert_eq!(
            d("2026-10-09T01:00:00Z", true),
            "on Friday 9 October at 09:00"
        );
        // A week or more ahead the date is named.
        assert_eq!(d("2026-10-09T01:00:00Z", false), "10月9日（周五） 09:00");
        assert_eq!(d("2026-10-02T13:00:00Z", true), "today at 21:00");
        // The zone decides the day: the same instant is still Friday in New York.
        assert_eq!(
            describe_next_open("America/New_York", now, ms("2026-10-02T13:00:00Z"), false).unwrap(),
            "今天 09:00"
        );
    }

    #[test]
    fn reply_texts() {
        assert!(
            off_hours_text(None, Some("周一 09:00"), false).contains("我们将于 周一 09:00 回来")
        );
        assert!(off_hours_text(None, Some("on Monday at 09:00"), true)
            .contains("back on Monday at 09:00"));
        assert_eq!(
            off_hours_text(Some("下班啦，{next_open} 见"), Some("明天 09:00"), true),
            "下班啦，明天 09:00 见"
        );
        assert!(english(Some("en-US")));
        assert!(!english(Some("zh-CN")));
        assert!(!english(None));
    }
}
