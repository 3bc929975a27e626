//! The relay's one clock. Everything a reporter does is stored and shown at day precision
//! (a day number, or a calendar day); only expiries of credentials use seconds.
//!
//! This module must never offer a time of day for anything a reporter does.

use std::time::{SystemTime, UNIX_EPOCH};

use meldpunt_crypto::Day;

/// Seconds since 1970-01-01, for expiries of challenges, sessions and stamps.
pub fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// Days since 1970-01-01, as the store keeps them.
pub fn day_number() -> u32 {
    (unix_seconds() / 86_400) as u32
}

/// A stored day number as a calendar day.
pub fn day(number: u32) -> Day {
    let date = time::Date::from_julian_day(2_440_588 + number as i32).unwrap_or(time::Date::MIN);
    Day::from(date)
}

/// Today, as a calendar day (UTC).
pub fn today() -> Day {
    day(day_number())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_are_calendar_days() {
        assert_eq!(day(0).to_string(), "1970-01-01");
        assert_eq!(day(20_787).to_string(), "2026-11-30");
        assert_eq!(today(), day(day_number()));
    }
}
