//! The CLI's one clock: the day, in UTC, that messages are written on, deadlines are counted
//! from and directories are checked against. Never a time of day: a message carries its day
//! only.

/// Today, in UTC.
pub fn today() -> meldpunt_crypto::Day {
    meldpunt_crypto::Day::from(time::OffsetDateTime::now_utc().date())
}
