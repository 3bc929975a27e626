//! The CLI's one clock: the day, in UTC, that messages are written on, deadlines are counted
//! from and directories are checked against. Never a time of day: a message carries its day
//! only.
//!
//! `MELDPUNT_TODAY=YYYY-MM-DD` sets the day instead (to see which deadlines a day will find
//! overdue, and for tests, which must not wait for a deadline to pass); the command refuses a
//! malformed one before it does anything ([`check_override`]).

/// The variable that sets the day.
pub const TODAY_VARIABLE: &str = "MELDPUNT_TODAY";

/// Today, in UTC (or the day `MELDPUNT_TODAY` sets).
pub fn today() -> meldpunt_crypto::Day {
    std::env::var(TODAY_VARIABLE)
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| meldpunt_crypto::Day::from(time::OffsetDateTime::now_utc().date()))
}

/// Refuses a `MELDPUNT_TODAY` that is not a calendar day (so that it is never silently
/// replaced by the real day).
pub fn check_override() -> crate::error::Result<()> {
    match std::env::var(TODAY_VARIABLE) {
        Ok(text) if text.parse::<meldpunt_crypto::Day>().is_err() => {
            Err(crate::error::CliError::Usage(format!(
                "{TODAY_VARIABLE} must be a day written YYYY-MM-DD, not {text:?}"
            )))
        }
        Ok(text) => {
            // Messages sent now carry this day too: never set it unnoticed.
            eprintln!(
                "WARNING: {TODAY_VARIABLE} is set: deadlines are counted, and messages dated, as of {text}."
            );
            Ok(())
        }
        Err(_) => Ok(()),
    }
}
