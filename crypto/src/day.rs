//! Calendar days: the only time precision Meldpunt ever writes down.
//!
//! Messages and directories carry days, never times of day, so that a sealed message does
//! not pin its author to a minute. This module never reads a clock: callers pass "today".

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Error;

/// A calendar day in the proleptic Gregorian calendar, written `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(time::Date);

impl Day {
    /// The day with the given year, month (1–12) and day of month.
    pub fn from_calendar_date(year: i32, month: u8, day: u8) -> Result<Self, Error> {
        let month = time::Month::try_from(month)
            .map_err(|_| Error::MalformedDay(format!("{year:04}-{month:02}-{day:02}")))?;
        time::Date::from_calendar_date(year, month, day)
            .map(Day)
            .map_err(|_| Error::MalformedDay(format!("{year:04}-{:02}-{day:02}", month as u8)))
    }

    /// The underlying `time::Date`.
    pub fn date(self) -> time::Date {
        self.0
    }

    /// This day plus a number of days (saturating at the calendar's limits).
    pub fn plus_days(self, days: i64) -> Day {
        Day(self.0.saturating_add(time::Duration::days(days)))
    }

    /// This day moved by whole calendar months (day of month clamped to the month's end,
    /// saturating at the calendar's limits).
    pub fn plus_months(self, months: i32) -> Day {
        let limit = if months >= 0 {
            time::Date::MAX
        } else {
            time::Date::MIN
        };
        let total =
            (self.0.year() * 12 + i32::from(self.0.month() as u8 - 1)).saturating_add(months);
        let year = total.div_euclid(12);
        let Ok(month) = time::Month::try_from((total.rem_euclid(12) + 1) as u8) else {
            return Day(limit);
        };
        let last = time::util::days_in_month(month, year);
        let day = self.0.day().min(last);
        Day(time::Date::from_calendar_date(year, month, day).unwrap_or(limit))
    }
}

impl From<time::Date> for Day {
    fn from(date: time::Date) -> Self {
        Day(date)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            self.0.month() as u8,
            self.0.day()
        )
    }
}

impl FromStr for Day {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let malformed = || Error::MalformedDay(text.chars().take(32).collect());
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(malformed());
        }
        let number = |range: std::ops::Range<usize>| -> Result<u32, Error> {
            let part = &text[range];
            if !part.bytes().all(|byte| byte.is_ascii_digit()) {
                return Err(malformed());
            }
            part.parse().map_err(|_| malformed())
        };
        let year = number(0..4)? as i32;
        let month = number(5..7)? as u8;
        let day = number(8..10)? as u8;
        Day::from_calendar_date(year, month, day).map_err(|_| malformed())
    }
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_round_trip() {
        let day: Day = "2026-11-28".parse().unwrap();
        assert_eq!(day.to_string(), "2026-11-28");
        assert_eq!(day, Day::from_calendar_date(2026, 11, 28).unwrap());
    }

    #[test]
    fn refuses_impossible_and_sloppy_days() {
        for text in [
            "2026-02-30",
            "2026-13-01",
            "2026-1-01",
            "26-11-28",
            "2026/11/28",
            "2026-11-28T00:00",
            "+026-11-28",
            "",
        ] {
            assert!(text.parse::<Day>().is_err(), "{text} must be refused");
        }
    }

    #[test]
    fn adds_days_and_months() {
        let day: Day = "2026-11-28".parse().unwrap();
        assert_eq!(day.plus_days(7).to_string(), "2026-12-05");
        assert_eq!(day.plus_months(3).to_string(), "2027-02-28");
        let end_of_month: Day = "2026-01-31".parse().unwrap();
        assert_eq!(end_of_month.plus_months(1).to_string(), "2026-02-28");
    }

    #[test]
    fn months_saturate_at_the_calendars_end() {
        let late: Day = "9999-10-01".parse().unwrap();
        assert_eq!(late.plus_months(3).to_string(), "9999-12-31");
        assert_eq!(late.plus_months(i32::MAX).to_string(), "9999-12-31");
        let early = Day::from(time::Date::MIN);
        assert_eq!(early.plus_months(-1_000_000), early);
    }
}
