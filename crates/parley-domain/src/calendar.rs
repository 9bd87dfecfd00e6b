//! The workspace's business hours (营业时间): weekly hours in one time zone plus special days —
//! holidays closed all day (e.g. 国庆 2026-10-01) and days with their own hours (调休 working
//! Sundays). Dates are calendar dates in the workspace's zone.
//!
//! How a group's own weekly hours ([`WeeklyHours`]) and the workspace calendar combine — the
//! one rule everything uses ([`group_open`], [`group_next_open`]):
//! - a group WITH its own hours is open when those hours say so AND the day (in the
//!   workspace's zone) is not a workspace holiday; special working days do not add hours to it;
//! - a group WITHOUT its own hours (and a conversation without a group) follows the workspace
//!   calendar completely, special working days included;
//! - with the workspace calendar switched off there are no holidays, and a group without its
//!   own hours is always open.

use crate::hours::{MinuteRange, WeekDays, WeeklyHours, MAX_RANGES_PER_DAY};
use crate::{HoursInput, Invalid, Millis};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Most special days one calendar keeps (a few years of public holidays).
pub const MAX_SPECIAL_DAYS: usize = 400;
/// How far ahead the next opening is searched: beyond a year of holidays nobody is waiting.
const HORIZON_DAYS: i64 = 400;
const MAX_NOTE_CHARS: usize = 50;
pub const MAX_OFF_HOURS_TEXT_CHARS: usize = 1000;

/// One date with its own hours: `ranges` empty means closed all day (a holiday).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SpecialDay {
    /// `YYYY-MM-DD` in the calendar's time zone.
    pub date: String,
    /// Open ranges that day in minutes after local midnight; empty: closed all day.
    #[serde(default)]
    #[schema(value_type = Vec<Vec<u16>>)]
    pub ranges: Vec<MinuteRange>,
    /// What the day is, e.g. 国庆节 or 调休.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A calendar as a client sends it, not yet checked; see [`BusinessCalendar::parse`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CalendarInput {
    pub time_zone: String,
    #[serde(default)]
    pub days: WeekDays,
    #[serde(default)]
    pub special_days: Vec<SpecialDay>,
}

/// Checked: a known zone, valid weekly ranges, special days with real, distinct dates (sorted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "CalendarInput")]
pub struct BusinessCalendar {
    pub time_zone: String,
    pub days: WeekDays,
    pub special_days: Vec<SpecialDay>,
}

impl TryFrom<CalendarInput> for BusinessCalendar {
    type Error = Invalid;
    fn try_from(raw: CalendarInput) -> Result<Self, Invalid> {
        BusinessCalendar::parse(raw)
    }
}

fn parse_date(s: &str) -> Option<Date> {
    // Exactly YYYY-MM-DD: jiff would also take other ISO 8601 spellings.
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    s.parse::<Date>().ok()
}

fn check_ranges(what: &str, ranges: &mut [MinuteRange]) -> Result<(), Invalid> {
    if ranges.len() > MAX_RANGES_PER_DAY {
        return Err(Invalid::new(format!(
            "{what}: at most {MAX_RANGES_PER_DAY} ranges a day"
        )));
    }
    if ranges.iter().any(|[s, e]| s >= e || *e > 1440) {
        return Err(Invalid::new(format!(
            "{what}: each range needs 0 <= start < end <= 1440 minutes"
        )));
    }
    ranges.sort_unstable();
    if ranges.windows(2).any(|w| w[1][0] < w[0][1]) {
        return Err(Invalid::new(format!("{what}: ranges overlap")));
    }
    Ok(())
}

impl BusinessCalendar {
    pub fn parse(raw: CalendarInput) -> Result<Self, Invalid> {
        let weekly = WeeklyHours::parse(HoursInput {
            time_zone: raw.time_zone,
            days: raw.days,
        })?;
        if raw.special_days.len() > MAX_SPECIAL_DAYS {
            return Err(Invalid::new(format!(
                "at most {MAX_SPECIAL_DAYS} special days"
            )));
        }
        let mut special = Vec::with_capacity(raw.special_days.len());
        for mut d in raw.special_days {
            d.date = d.date.trim().to_owned();
            if parse_date(&d.date).is_none() {
                return Err(Invalid::new(format!(
                    "'{}' is not a date (use YYYY-MM-DD)",
                    d.date
                )));
            }
            check_ranges(&d.date, &mut d.ranges)?;
            d.note = d
                .note
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty());
            if d.note
                .as_ref()
                .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
            {
                return Err(Invalid::new(format!(
                    "{}: the note is longer than {MAX_NOTE_CHARS} characters",
                    d.date
                )));
            }
            special.push(d);
        }
        // ISO dates sort as text.
        special.sort_by(|a, b| a.date.cmp(&b.date));
        if let Some(w) = special.windows(2).find(|w| w[0].date == w[1].date) {
            return Err(Invalid::new(format!("{} is listed twice", w[0].date)));
        }
        Ok(BusinessCalendar {
            time_zone: weekly.time_zone,
            days: weekly.days,
            special_days: special,
        })
    }

    fn zone(&self) -> Option<TimeZone> {
        TimeZone::get(&self.time_zone).ok()
    }

    fn special(&self, date: Date) -> Option<&SpecialDay> {
        let key = date.to_string();
        self.special_days
            .binary_search_by(|d| d.date.as_str().cmp(key.as_str()))
            .ok()
            .map(|i| &self.special_days[i])
    }

    /// The open ranges on a local date: the special day's own, else the weekday's.
    pub fn ranges_on(&self, date: Date) -> &[MinuteRange] {
        match self.special(date) {
            Some(d) => &d.ranges,
            None => self
                .days
                .day(date.weekday().to_monday_zero_offset() as usize),
        }
    }

    /// Whether `at` falls on a holiday: a special day closed all day.
    pub fn is_holiday(&self, at: Millis) -> bool {
        let (Some(tz), Ok(ts)) = (self.zone(), Timestamp::from_millisecond(at)) else {
            return false;
        };
        self.special(ts.to_zoned(tz).date())
            .is_some_and(|d| d.ranges.is_empty())
    }

    /// Open at `at`? A zone that cannot be loaded (it was valid when saved) counts as open
    /// rather than stranding every conversation.
    pub fn is_open(&self, at: Millis) -> bool {
        let (Some(tz), Ok(ts)) = (self.zone(), Timestamp::from_millisecond(at)) else {
            return true;
        };
        let z = ts.to_zoned(tz);
        let minute = z.hour() as u16 * 60 + z.minute() as u16;
        self.ranges_on(z.date())
            .iter()
            .any(|[s, e]| *s <= minute && minute < *e)
    }

    /// `at` when open, else the next opening within [`HORIZON_DAYS`]; `None` if none.
    pub fn next_open(&self, at: Millis) -> Option<Millis> {
        if self.is_open(at) {
            return Some(at);
        }
        let tz = self.zone()?;
        let today = Timestamp::from_millisecond(at)
            .ok()?
            .to_zoned(tz.clone())
            .date();
        for offset in 0..=HORIZON_DAYS {
            let date = today.checked_add(Span::new().days(offset)).ok()?;
            for [s, _] in self.ranges_on(date) {
                let start = local_ms(&tz, date, *s)?;
                if start > at {
                    return Some(start);
                }
            }
        }
        None
    }

    /// The first instant of the local day after the one containing `at`.
    fn next_day_start(&self, at: Millis) -> Option<Millis> {
        let tz = self.zone()?;
        let date = Timestamp::from_millisecond(at)
            .ok()?
            .to_zoned(tz.clone())
            .date();
        local_ms(&tz, date.tomorrow().ok()?, 0)
    }

    /// The calendar date at `at` in the calendar's zone.
    pub fn local_date(&self, at: Millis) -> Option<Date> {
        Some(
            Timestamp::from_millisecond(at)
                .ok()?
                .to_zoned(self.zone()?)
                .date(),
        )
    }
}

/// A local date and minute as Unix ms (a time skipped by a DST change moves forward).
fn local_ms(tz: &TimeZone, date: Date, minute: u16) -> Option<Millis> {
    let dt = if minute >= 1440 {
        date.tomorrow().ok()?.at(0, 0, 0, 0)
    } else {
        date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0)
    };
    Some(dt.to_zoned(tz.clone()).ok()?.timestamp().as_millisecond())
}

/// Whether a group takes conversations at `at` (see the module docs for the rule).
pub fn group_open(
    own: Option<&WeeklyHours>,
    workspace: Option<&BusinessCalendar>,
    at: Millis,
) -> bool {
    match (own, workspace) {
        (Some(h), Some(w)) => h.is_open(at) && !w.is_holiday(at),
        (Some(h), None) => h.is_open(at),
        (None, Some(w)) => w.is_open(at),
        (None, None) => true,
    }
}

/// `at` when [`group_open`], else when it next opens; `None` when not within the horizon.
pub fn group_next_open(
    own: Option<&WeeklyHours>,
    workspace: Option<&BusinessCalendar>,
    at: Millis,
) -> Option<Millis> {
    match (own, workspace) {
        (Some(h), Some(w)) => {
            let mut t = at;
            // Each pass skips one holiday; a holiday the group's own hours never reach costs
            // nothing, so the loop ends within the horizon.
            for _ in 0..=HORIZON_DAYS {
                let open = h.next_open(t)?;
                if !w.is_holiday(open) {
                    return Some(open);
                }
                t = w.next_day_start(open)?;
                if h.is_open(t) && !w.is_holiday(t) {
                    return Some(t);
                }
            }
            None
        }
        (Some(h), None) => h.next_open(at),
        (None, Some(w)) => w.next_open(at),
        (None, None) => Some(at),
    }
}

/// The workspace's business-hours settings: the calendar (kept while switched off, so an admin
/// can switch it back on) and the off-hours reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WorkspaceHours {
    /// Off: the workspace is always open and there are no holidays.
    pub enabled: bool,
    pub calendar: BusinessCalendar,
    /// Sent to visitors who write while closed; `{next_open}` becomes when the team is back.
    /// `None`: the built-in text in the visitor's language.
    pub off_hours_text: Option<String>,
}

impl Default for WorkspaceHours {
    fn default() -> Self {
        let r: MinuteRange = [540, 1080];
        WorkspaceHours {
            enabled: false,
            calendar: BusinessCalendar {
                time_zone: "Asia/Shanghai".into(),
                days: WeekDays {
                    mon: vec![r],
                    tue: vec![r],
                    wed: vec![r],
                    thu: vec![r],
                    fri: vec![r],
                    ..Default::default()
                },
                special_days: vec![],
            },
            off_hours_text: None,
        }
    }
}

impl WorkspaceHours {
    pub fn parse(
        enabled: bool,
        calendar: CalendarInput,
        off_hours_text: Option<String>,
    ) -> Result<Self, Invalid> {
        let calendar = BusinessCalendar::parse(calendar)?;
        let off_hours_text = off_hours_text
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty());
        if off_hours_text
            .as_ref()
            .is_some_and(|t| t.chars().count() > MAX_OFF_HOURS_TEXT_CHARS)
        {
            return Err(Invalid::new(format!(
                "the off-hours reply is longer than {MAX_OFF_HOURS_TEXT_CHARS} characters"
            )));
        }
        Ok(WorkspaceHours {
            enabled,
            calendar,
            off_hours_text,
        })
    }

    /// The calendar in force, `None` when switched off.
    pub fn active(&self) -> Option<&BusinessCalendar> {
        self.enabled.then_some(&self.calendar)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> Millis {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn weekdays(r: MinuteRange) -> WeekDays {
        WeekDays {
            mon: vec![r],
            tue: vec![r],
            wed: vec![r],
            thu: vec![r],
            fri: vec![r],
            ..Default::default()
        }
    }

    fn day(date: &str, ranges: Vec<MinuteRange>) -> SpecialDay {
        SpecialDay {
            date: date.into(),
            ranges,
            note: None,
        }
    }

    fn cal(tz: &str, days: WeekDays, special: Vec<SpecialDay>) -> BusinessCalendar {
        BusinessCalendar::parse(CalendarInput {
            time_zone: tz.into(),
            days,
            special_days: special,
        })
        .unwrap()
    }

    /// 国庆 2026: 10-01..10-07 closed, Sunday 09-27 and Saturday 10-10 are 调休 working days.
    fn national_day(tz: &str) -> BusinessCalendar {
        let mut special: Vec<SpecialDay> = (1..=7)
            .map(|d| day(&format!("2026-10-0{d}"), vec![]))
            .collect();
        special.push(day("2026-09-27", vec![[540, 1080]]));
        special.push(day("2026-10-10", vec![[540, 1080]]));
        cal(tz, weekdays([540, 1080]), special)
    }

    #[test]
    fn validates_dates_ranges_and_duplicates() {
        let bad = |special: Vec<SpecialDay>| {
            BusinessCalendar::parse(CalendarInput {
                time_zone: "Asia/Shanghai".into(),
                days: WeekDays::default(),
                special_days: special,
            })
            .unwrap_err()
            .0
        };
        assert!(bad(vec![day("2026-02-30", vec![])]).contains("not a date"));
        assert!(bad(vec![day("2026/10/01", vec![])]).contains("not a date"));
        assert!(bad(vec![day("20261001", vec![])]).contains("not a date"));
        assert!(bad(vec![day("2026-10-01", vec![[600, 700], [650, 800]])]).contains("overlap"));
        assert!(bad(vec![day("2026-10-01", vec![[600, 1500]])]).contains("1440"));
        assert!(bad(vec![day("2026-10-01", vec![]), day("2026-10-01", vec![])]).contains("twice"));
        let mut long = day("2026-10-01", vec![]);
        long.note = Some("节".repeat(51));
        assert!(bad(vec![long]).contains("note"));
        assert!(BusinessCalendar::parse(CalendarInput {
            time_zone: "Mars/Olympus".into(),
            ..Default::default()
        })
        .unwrap_err()
        .0
        .contains("time zone"));
        // Sorted by date; stored JSON is checked the same way.
        let c = cal(
            "UTC",
            WeekDays::default(),
            vec![day("2026-10-02", vec![]), day("2026-10-01", vec![])],
        );
        assert_eq!(c.special_days[0].date, "2026-10-01");
        assert!(serde_json::from_str::<BusinessCalendar>(
            r#"{"time_zone":"UTC","days":{},"special_days":[{"date":"2026-13-01"}]}"#
        )
        .is_err());
    }

    #[test]
    fn holidays_close_and_make_up_days_open() {
        let c = national_day("Asia/Shanghai");
        // Thursday 2026-10-01 10:00 Shanghai = 02:00 UTC: a holiday.
        assert!(!c.is_open(ms("2026-10-01T02:00:00Z")));
        assert!(c.is_holiday(ms("2026-10-01T02:00:00Z")));
        // The next opening is Thursday 10-08 09:00 Shanghai (the weekend 10-03/04 is in the
        // holiday anyway).
        assert_eq!(
            c.next_open(ms("2026-10-01T02:00:00Z")),
            Some(ms("2026-10-08T01:00:00Z"))
        );
        // Sunday 09-27 is a working day; Sunday 09-20 is not.
        assert!(c.is_open(ms("2026-09-27T02:00:00Z")));
        assert!(!c.is_holiday(ms("2026-09-27T02:00:00Z")));
        assert!(!c.is_open(ms("2026-09-20T02:00:00Z")));
        // Saturday 09-26 evening → the make-up Sunday 09:00.
        assert_eq!(
            c.next_open(ms("2026-09-26T12:00:00Z")),
            Some(ms("2026-09-27T01:00:00Z"))
        );
        // 2026-09-30 23:30 Shanghai is 15:30 UTC: the date is the zone's, not UTC's.
        assert!(!c.is_holiday(ms("2026-09-30T15:30:00Z")));
        assert!(c.is_holiday(ms("2026-09-30T16:30:00Z")));
    }

    #[test]
    fn the_same_dates_in_other_zones() {
        // In UTC, 2026-10-01 starts eight hours after it does in Shanghai.
        let utc = national_day("UTC");
        assert!(!utc.is_holiday(ms("2026-09-30T23:59:00Z")));
        assert!(utc.is_holiday(ms("2026-10-01T00:00:00Z")));
        assert_eq!(
            utc.next_open(ms("2026-10-01T12:00:00Z")),
            Some(ms("2026-10-08T09:00:00Z"))
        );
        // New York, a holiday on the Monday after the clocks go forward (2026-03-08): the next
        // opening is Tuesday 09:00 EDT = 13:00 UTC, while the Friday before opened at 14:00 UTC.
        let ny = cal(
            "America/New_York",
            weekdays([540, 1020]),
            vec![day("2026-03-09", vec![])],
        );
        assert!(ny.is_open(ms("2026-03-06T14:00:00Z")));
        assert!(!ny.is_open(ms("2026-03-09T14:00:00Z")));
        assert_eq!(
            ny.next_open(ms("2026-03-06T23:00:00Z")),
            Some(ms("2026-03-10T13:00:00Z"))
        );
        // A special working Sunday on the change itself: 01:00–04:00 local is two real hours.
        let night = cal(
            "America/New_York",
            WeekDays::default(),
            vec![day("2026-03-08", vec![[60, 240]])],
        );
        assert!(night.is_open(ms("2026-03-08T06:30:00Z")), "01:30 EST");
        assert!(night.is_open(ms("2026-03-08T07:30:00Z")), "03:30 EDT");
        assert!(!night.is_open(ms("2026-03-08T08:00:00Z")), "04:00 EDT");
        assert_eq!(
            night.next_open(ms("2026-03-01T00:00:00Z")),
            Some(ms("2026-03-08T06:00:00Z"))
        );
        assert_eq!(night.next_open(ms("2026-03-08T08:00:00Z")), None);
    }

    #[test]
    fn groups_combine_their_hours_with_the_workspace_calendar() {
        let ws = national_day("Asia/Shanghai");
        // A group with its own hours: weekends 10:00–16:00 in UTC.
        let own = WeeklyHours::parse(HoursInput {
            time_zone: "UTC".into(),
            days: WeekDays {
                sat: vec![[600, 960]],
                sun: vec![[600, 960]],
                ..Default::default()
            },
        })
        .unwrap();
        // Saturday 2026-10-03 12:00 UTC: its own hours say open, but it is a holiday in the
        // workspace's zone (20:00 Shanghai, 10-03).
        let t = ms("2026-10-03T12:00:00Z");
        assert!(own.is_open(t));
        assert!(!group_open(Some(&own), Some(&ws), t));
        // Its next opening skips the holiday weekend: Saturday 10-10 10:00 UTC. (Sunday 10-04
        // 10:00 UTC is 18:00 in Shanghai, still 10-04: a holiday.)
        assert_eq!(
            group_next_open(Some(&own), Some(&ws), t),
            Some(ms("2026-10-10T10:00:00Z"))
        );
        // The make-up Sunday 09-27 adds nothing to a group with its own hours…
        let weekday_group = WeeklyHours::parse(HoursInput {
            time_zone: "Asia/Shanghai".into(),
            days: weekdays([540, 1080]),
        })
        .unwrap();
        assert!(!group_open(
            Some(&weekday_group),
            Some(&ws),
            ms("2026-09-27T02:00:00Z")
        ));
        // …while a group without its own hours follows the workspace, make-up day included.
        assert!(group_open(None, Some(&ws), ms("2026-09-27T02:00:00Z")));
        assert!(!group_open(None, Some(&ws), ms("2026-10-02T02:00:00Z")));
        assert_eq!(
            group_next_open(None, Some(&ws), ms("2026-10-02T02:00:00Z")),
            Some(ms("2026-10-08T01:00:00Z"))
        );
        // Nothing configured: always open.
        assert!(group_open(None, None, t));
        assert_eq!(group_next_open(None, None, t), Some(t));
        assert!(group_open(Some(&own), None, t));
    }

    #[test]
    fn workspace_settings_check_the_reply_text() {
        let input = CalendarInput {
            time_zone: "Asia/Shanghai".into(),
            ..Default::default()
        };
        let h = WorkspaceHours::parse(true, input.clone(), Some("  ".into())).unwrap();
        assert_eq!(h.off_hours_text, None);
        assert!(h.active().is_some());
        assert!(WorkspaceHours::parse(true, input.clone(), Some("字".repeat(1001))).is_err());
        let off = WorkspaceHours::parse(false, input, None).unwrap();
        assert!(off.active().is_none());
        assert!(!WorkspaceHours::default().enabled);
    }
}
