//! A group's weekly working hours (工作时间) in its own time zone. Outside them the group takes
//! no new conversations; they wait in its queue until it opens.
//!
//! Times are wall-clock minutes in the zone, so a day's hours follow daylight-saving changes:
//! 09:00–18:00 in New York is 09:00–18:00 local time before and after the March change.

use crate::{Invalid, Millis};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `[start, end)` in minutes after local midnight, `0 <= start < end <= 1440`.
pub type MinuteRange = [u16; 2];

/// Most ranges in one day.
pub const MAX_RANGES_PER_DAY: usize = 4;

/// The open ranges of each weekday; a missing or empty day is closed all day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WeekDays {
    #[serde(default)]
    #[schema(value_type = Vec<Vec<u16>>)]
    pub mon: Vec<MinuteRange>,
    #[serde(default)]
    #[schema(value_type = Vec<Vec<u16>>)]
    pub tue: Vec<MinuteRange>,
    #[serde(default)]
    #[schema(value_type = Vec<Vec<u16>>)]
    pub wed: Vec<MinuteRange>,
    #[serde(default)]
    #[schema(value_type = Vec<Vec<u16>>)]
    pub thu: Vec<MinuteRange>,
    #[serde(default)]
    #[schema(value_type = Vec<Vec<u16>>)]
    pub fri: Vec<MinuteRange>,
    #[serde(default)]
    #[schema(value_type = Vec<Vec<u16>>)]
    pub sat: Vec<MinuteRange>,
    #[serde(default)]
    #[schema(value_type = Vec<Vec<u16>>)]
    pub sun: Vec<MinuteRange>,
}

impl WeekDays {
    const NAMES: [&'static str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

    /// Monday is 0.
    pub fn day(&self, monday_zero: usize) -> &[MinuteRange] {
        match monday_zero {
            0 => &self.mon,
            1 => &self.tue,
            2 => &self.wed,
            3 => &self.thu,
            4 => &self.fri,
            5 => &self.sat,
            _ => &self.sun,
        }
    }

    fn day_mut(&mut self, monday_zero: usize) -> &mut Vec<MinuteRange> {
        match monday_zero {
            0 => &mut self.mon,
            1 => &mut self.tue,
            2 => &mut self.wed,
            3 => &mut self.thu,
            4 => &mut self.fri,
            5 => &mut self.sat,
            _ => &mut self.sun,
        }
    }
}

/// Hours as a client sends them, not yet checked; see [`WeeklyHours::parse`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HoursInput {
    /// IANA time zone, e.g. `Asia/Shanghai`.
    pub time_zone: String,
    #[serde(default)]
    pub days: WeekDays,
}

/// Checked weekly hours: a known IANA zone and, per weekday, at most four sorted,
/// non-overlapping ranges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "HoursInput")]
pub struct WeeklyHours {
    /// IANA time zone, e.g. `Asia/Shanghai`.
    pub time_zone: String,
    pub days: WeekDays,
}

impl TryFrom<HoursInput> for WeeklyHours {
    type Error = Invalid;
    fn try_from(raw: HoursInput) -> Result<Self, Invalid> {
        WeeklyHours::parse(raw)
    }
}

impl WeeklyHours {
    pub fn parse(raw: HoursInput) -> Result<Self, Invalid> {
        let time_zone = raw.time_zone.trim().to_owned();
        if time_zone.is_empty() || TimeZone::get(&time_zone).is_err() {
            return Err(Invalid::new(format!(
                "unknown time zone '{}' (use an IANA name such as Asia/Shanghai)",
                raw.time_zone
            )));
        }
        let mut days = raw.days;
        for d in 0..7 {
            let name = WeekDays::NAMES[d];
            let ranges = days.day_mut(d);
            if ranges.len() > MAX_RANGES_PER_DAY {
                return Err(Invalid::new(format!(
                    "{name}: at most {MAX_RANGES_PER_DAY} ranges a day"
                )));
            }
            for [s, e] in ranges.iter() {
                if s >= e || *e > 1440 {
                    return Err(Invalid::new(format!(
                        "{name}: each range needs 0 <= start < end <= 1440 minutes"
                    )));
                }
            }
            ranges.sort_unstable();
            if ranges.windows(2).any(|w| w[1][0] < w[0][1]) {
                return Err(Invalid::new(format!("{name}: ranges overlap")));
            }
        }
        Ok(WeeklyHours { time_zone, days })
    }

    fn zone(&self) -> Option<TimeZone> {
        TimeZone::get(&self.time_zone).ok()
    }

    /// Whether the group takes conversations at `at` (Unix ms). A zone that cannot be loaded
    /// (it was valid when saved) counts as always open rather than stranding the queue.
    pub fn is_open(&self, at: Millis) -> bool {
        let (Some(tz), Ok(ts)) = (self.zone(), Timestamp::from_millisecond(at)) else {
            return true;
        };
        let z = ts.to_zoned(tz);
        let day = z.weekday().to_monday_zero_offset() as usize;
        let minute = z.hour() as u16 * 60 + z.minute() as u16;
        self.days
            .day(day)
            .iter()
            .any(|[s, e]| *s <= minute && minute < *e)
    }

    /// `at` itself when open, otherwise the next moment the group opens within a week;
    /// `None` when it never opens.
    pub fn next_open(&self, at: Millis) -> Option<Millis> {
        if self.is_open(at) {
            return Some(at);
        }
        let tz = self.zone()?;
        let ts = Timestamp::from_millisecond(at).ok()?;
        let today = ts.to_zoned(tz.clone()).date();
        for offset in 0..=7i64 {
            let date = today.checked_add(jiff::Span::new().days(offset)).ok()?;
            let day = date.weekday().to_monday_zero_offset() as usize;
            for [s, _] in self.days.day(day) {
                let start = date
                    .at((s / 60) as i8, (s % 60) as i8, 0, 0)
                    .to_zoned(tz.clone())
                    .ok()?
                    .timestamp()
                    .as_millisecond();
                if start > at {
                    return Some(start);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> Millis {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn hours(tz: &str, days: WeekDays) -> WeeklyHours {
        WeeklyHours::parse(HoursInput {
            time_zone: tz.into(),
            days,
        })
        .unwrap()
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

    #[test]
    fn validates() {
        let bad = |tz: &str, days: WeekDays| {
            WeeklyHours::parse(HoursInput {
                time_zone: tz.into(),
                days,
            })
            .unwrap_err()
            .0
        };
        assert!(bad("Mars/Olympus", WeekDays::default()).contains("time zone"));
        assert!(bad("", WeekDays::default()).contains("time zone"));
        let one = |r: Vec<MinuteRange>| WeekDays {
            sat: r,
            ..Default::default()
        };
        assert!(bad("UTC", one(vec![[600, 600]])).contains("sat"));
        assert!(bad("UTC", one(vec![[600, 1441]])).contains("1440"));
        assert!(bad("UTC", one(vec![[600, 700], [650, 800]])).contains("overlap"));
        assert!(bad("UTC", one(vec![[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]])).contains("at most"));
        // Touching ranges are fine, and they are sorted.
        let h = hours("UTC", one(vec![[700, 800], [600, 700]]));
        assert_eq!(h.days.sat, vec![[600, 700], [700, 800]]);
        // Stored JSON is checked the same way.
        assert!(
            serde_json::from_str::<WeeklyHours>(r#"{"time_zone":"Nowhere/Town","days":{}}"#)
                .is_err()
        );
        let h: WeeklyHours =
            serde_json::from_str(r#"{"time_zone":"Asia/Shanghai","days":{"mon":[[540,1080]]}}"#)
                .unwrap();
        assert_eq!(h.days.mon, vec![[540, 1080]]);
        assert!(h.days.sun.is_empty());
    }

    #[test]
    fn open_in_the_groups_zone() {
        let mut days = weekdays([540, 1080]);
        days.sat = vec![[600, 960]];
        let h = hours("Asia/Shanghai", days);
        // Monday 2026-03-02 09:00 in Shanghai is 01:00 UTC.
        assert!(!h.is_open(ms("2026-03-02T00:59:59Z")));
        assert!(h.is_open(ms("2026-03-02T01:00:00Z")));
        assert!(h.is_open(ms("2026-03-02T09:59:59Z")));
        assert!(!h.is_open(ms("2026-03-02T10:00:00Z")), "end is exclusive");
        // Saturday 10:00–16:00, Sunday closed.
        assert!(h.is_open(ms("2026-03-07T02:00:00Z")));
        assert!(!h.is_open(ms("2026-03-07T08:00:00Z")));
        assert!(!h.is_open(ms("2026-03-08T03:00:00Z")));
        assert_eq!(
            h.next_open(ms("2026-03-07T08:00:00Z")),
            Some(ms("2026-03-09T01:00:00Z")),
            "Saturday afternoon → Monday 09:00"
        );
        assert_eq!(
            h.next_open(ms("2026-03-02T02:00:00Z")),
            Some(ms("2026-03-02T02:00:00Z"))
        );
    }

    #[test]
    fn follows_daylight_saving_time() {
        let h = hours("America/New_York", weekdays([540, 1020]));
        // Friday 2026-03-06 is EST (UTC-5): 09:00 local = 14:00 UTC.
        assert!(!h.is_open(ms("2026-03-06T13:30:00Z")));
        assert!(h.is_open(ms("2026-03-06T14:00:00Z")));
        // Clocks go forward on Sunday 2026-03-08; Monday is EDT (UTC-4): 09:00 local = 13:00 UTC.
        assert!(h.is_open(ms("2026-03-09T13:30:00Z")));
        assert!(!h.is_open(ms("2026-03-09T21:00:00Z")), "17:00 EDT");
        assert_eq!(
            h.next_open(ms("2026-03-06T23:00:00Z")),
            Some(ms("2026-03-09T13:00:00Z"))
        );
        // Across the skipped hour itself: 01:00–04:00 on that Sunday is two real hours.
        let night = hours(
            "America/New_York",
            WeekDays {
                sun: vec![[60, 240]],
                ..Default::default()
            },
        );
        assert!(night.is_open(ms("2026-03-08T06:30:00Z")), "01:30 EST");
        assert!(night.is_open(ms("2026-03-08T07:30:00Z")), "03:30 EDT");
        assert!(!night.is_open(ms("2026-03-08T08:00:00Z")), "04:00 EDT");
    }

    #[test]
    fn midnight_and_week_boundaries() {
        let h = hours(
            "UTC",
            WeekDays {
                sun: vec![[1320, 1440]],
                mon: vec![[0, 120]],
                ..Default::default()
            },
        );
        // Sunday 2026-03-08 22:00 → Monday 02:00 open without a gap.
        assert!(!h.is_open(ms("2026-03-08T21:59:59Z")));
        assert!(h.is_open(ms("2026-03-08T22:00:00Z")));
        assert!(h.is_open(ms("2026-03-08T23:59:59Z")));
        assert!(h.is_open(ms("2026-03-09T00:00:00Z")));
        assert!(h.is_open(ms("2026-03-09T01:59:00Z")));
        assert!(!h.is_open(ms("2026-03-09T02:00:00Z")));
        // From Monday 02:00 the next opening is Sunday 22:00, six days on.
        assert_eq!(
            h.next_open(ms("2026-03-09T02:00:00Z")),
            Some(ms("2026-03-15T22:00:00Z"))
        );
        // A zone east of UTC: Monday 00:30 in Tokyo is Sunday 15:30 UTC.
        let tokyo = hours(
            "Asia/Tokyo",
            WeekDays {
                mon: vec![[0, 60]],
                ..Default::default()
            },
        );
        assert!(tokyo.is_open(ms("2026-03-08T15:30:00Z")));
        assert!(!tokyo.is_open(ms("2026-03-09T00:30:00Z")));
        let never = hours("UTC", WeekDays::default());
        assert!(!never.is_open(ms("2026-03-09T00:30:00Z")));
        assert_eq!(never.next_open(ms("2026-03-09T00:30:00Z")), None);
    }
}
