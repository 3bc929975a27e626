//! Anti-abuse that identifies no one: the proof-of-work difficulty that follows the load,
//! the per-session request limit for offices, and the office challenges waiting for an
//! answer (in memory, rate-limited per organisation).
//!
//! This module must never key anything on a network address: there is none to key on.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use meldpunt_crypto::{Stamp, StampKey};

use crate::config::ProofOfWork;
use crate::error::Error;

/// Raises the proof-of-work difficulty by one bit for every doubling of mailbox creations
/// per minute above the target, and lets it fall back as the load does.
#[derive(Debug)]
pub struct Difficulty {
    settings: ProofOfWork,
    recent: Mutex<VecDeque<Instant>>,
}

impl Difficulty {
    /// A controller with the configured bounds.
    pub fn new(settings: ProofOfWork) -> Self {
        Difficulty {
            settings,
            recent: Mutex::new(VecDeque::new()),
        }
    }

    fn prune(recent: &mut VecDeque<Instant>, now: Instant) {
        while recent
            .front()
            .is_some_and(|&created| now.duration_since(created) > Duration::from_secs(60))
        {
            recent.pop_front();
        }
    }

    /// Records one mailbox creation.
    pub fn record_creation(&self) {
        let now = Instant::now();
        let mut recent = self.recent.lock().expect("not poisoned");
        Self::prune(&mut recent, now);
        recent.push_back(now);
    }

    /// The difficulty to ask for now.
    pub fn current(&self) -> u8 {
        let now = Instant::now();
        let mut recent = self.recent.lock().expect("not poisoned");
        Self::prune(&mut recent, now);
        difficulty_for(&self.settings, recent.len() as u64)
    }

    /// The least difficulty a stamp's challenge may have been issued at: two bits (a quarter
    /// of the work) below the current one, so that a reporter whose challenge was issued just
    /// before the difficulty rose is not refused, but challenges hoarded while the relay was
    /// quiet cannot be spent in a flood.
    pub fn least_accepted(&self) -> u8 {
        self.current()
            .saturating_sub(STAMP_TOLERANCE_BITS)
            .max(self.settings.base_difficulty)
    }
}

/// The least difficulty of a stamp that pays for an office challenge beyond the free ones.
/// Offices solve in native code (the CLI and the office app), a 2^20 search in well under a
/// second, so it need not stay within a reporter's browser's ceiling; high enough that filling
/// the relay's waiting challenges costs a flooder hundreds of millions of hashes a second.
pub(crate) const OFFICE_STAMP_DIFFICULTY: u8 = 20;

/// How far below the current difficulty a stamp may be.
pub(crate) const STAMP_TOLERANCE_BITS: u8 = 2;

/// The difficulty for `per_minute` creations in the last minute.
pub(crate) fn difficulty_for(settings: &ProofOfWork, per_minute: u64) -> u8 {
    let target = u64::from(settings.target_per_minute.max(1));
    let mut extra = 0u8;
    let mut threshold = target;
    while per_minute > threshold && extra < 64 {
        extra += 1;
        threshold = threshold.saturating_mul(2);
    }
    settings
        .base_difficulty
        .saturating_add(extra)
        .min(settings.max_difficulty)
}

/// A request counter per key (an office session, an organisation, a Tor circuit) over
/// fixed one-minute windows: every key starts again from zero when a window ends, so memory
/// holds at most the keys seen in one minute and nothing older.
#[derive(Debug)]
pub struct WindowLimiter<Key> {
    per_minute: u32,
    window: Mutex<Window<Key>>,
}

#[derive(Debug)]
struct Window<Key> {
    started: Instant,
    counts: HashMap<Key, u32>,
}

/// The request limit per office session.
pub(crate) type SessionLimiter = WindowLimiter<[u8; 32]>;

impl<Key: std::hash::Hash + Eq> WindowLimiter<Key> {
    /// A limiter allowing `per_minute` requests per key per minute.
    pub fn new(per_minute: u32) -> Self {
        WindowLimiter {
            per_minute,
            window: Mutex::new(Window {
                started: Instant::now(),
                counts: HashMap::new(),
            }),
        }
    }

    fn current(&self) -> std::sync::MutexGuard<'_, Window<Key>> {
        let mut window = self
            .window
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if window.started.elapsed() >= Duration::from_secs(60) {
            window.started = Instant::now();
            window.counts = HashMap::new();
        }
        window
    }

    /// Counts a request; `false` if `key` is over its limit.
    pub fn allow(&self, key: Key) -> bool {
        let mut window = self.current();
        let count = window.counts.entry(key).or_insert(0);
        *count = count.saturating_add(1);
        *count <= self.per_minute
    }

    /// Takes back one request counted for `key` (it was refused for another reason).
    pub fn refund(&self, key: &Key) {
        if let Some(count) = self.current().counts.get_mut(key) {
            *count = count.saturating_sub(1);
        }
    }
}

/// Seconds an office has to answer a challenge.
pub(crate) const CHALLENGE_SECONDS: u64 = 300;
/// Who may ask for an office challenge.
///
/// Asking for a challenge costs the relay a few X25519 operations and a little room in the
/// store's waiting challenges, and nothing durable: only a correct answer writes (its
/// session). Each organisation gets `per_minute` challenges a minute for free; beyond that,
/// until the minute is over, a request must carry a proof-of-work stamp solved for the
/// organisation ([`meldpunt_crypto::office_stamp_subject`]), at the relay's current
/// difficulty, which the store then records as spent (on every relay sharing it). So someone
/// who asks for an organisation's challenges all the time cannot lock its office out (the
/// office pays a stamp, the flood pays one per challenge), and the sealing work a flood
/// causes is paid for. The free rate is each relay process's own.
#[derive(Debug)]
pub struct OfficeChallengeLimiter {
    limiter: WindowLimiter<String>,
}

impl OfficeChallengeLimiter {
    /// `per_minute` free challenges per organisation per minute.
    pub fn new(per_minute: u32) -> Self {
        OfficeChallengeLimiter {
            limiter: WindowLimiter::new(per_minute),
        }
    }

    /// Admits a challenge for `organisation` (one the directory lists) before any work is
    /// done for it: free within the rate, else only with a valid stamp for it, which it
    /// returns for the caller to spend in the store. Paid logins are not counted as load: the
    /// difficulty they would raise is the one new mailboxes ask of reporters.
    pub fn admit(
        &self,
        organisation: &str,
        stamp: Option<&Stamp>,
        key: &StampKey,
        least_difficulty: u8,
    ) -> Result<Option<meldpunt_crypto::SpentStamp>, Error> {
        if self.limiter.allow(organisation.to_owned()) {
            return Ok(None);
        }
        let Some(stamp) = stamp else {
            return Err(Error::RateLimited(
                "office challenges for this organisation; ask again with a Meldpunt-Stamp \
                 solved for the organisation (docs/protocol.md, section 8)",
            ));
        };
        let spent = key
            .verify(
                stamp,
                &meldpunt_crypto::office_stamp_subject(organisation),
                crate::clock::unix_seconds(),
                least_difficulty,
            )
            .map_err(Error::Stamp)?;
        Ok(Some(spent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn difficulty_rises_with_load_and_is_capped() {
        let settings = ProofOfWork {
            base_difficulty: 18,
            max_difficulty: 22,
            target_per_minute: 60,
            ..ProofOfWork::default()
        };
        assert_eq!(difficulty_for(&settings, 0), 18);
        assert_eq!(difficulty_for(&settings, 60), 18);
        assert_eq!(difficulty_for(&settings, 61), 19);
        assert_eq!(difficulty_for(&settings, 240), 20);
        assert_eq!(difficulty_for(&settings, 1_000_000), 22);
    }

    #[test]
    fn by_default_little_is_asked_at_rest_and_no_load_passes_the_reporter_ceiling() {
        let settings = ProofOfWork::default();
        assert_eq!(difficulty_for(&settings, 0), crate::config::BASE_DIFFICULTY);
        assert_eq!(
            difficulty_for(&settings, u64::MAX),
            crate::config::REPORTER_CEILING
        );
        let flood = Difficulty::new(settings);
        for _ in 0..100_000 {
            flood.record_creation();
        }
        assert_eq!(flood.current(), crate::config::REPORTER_CEILING);
        assert!(flood.least_accepted() <= crate::config::REPORTER_CEILING);
    }

    #[test]
    fn the_controller_follows_recorded_creations() {
        let difficulty = Difficulty::new(ProofOfWork {
            base_difficulty: 4,
            max_difficulty: 10,
            target_per_minute: 2,
            ..ProofOfWork::default()
        });
        assert_eq!(difficulty.current(), 4);
        for _ in 0..9 {
            difficulty.record_creation();
        }
        assert_eq!(difficulty.current(), 7);
        assert_eq!(difficulty.least_accepted(), 5);
    }

    #[test]
    fn sessions_are_limited_separately() {
        let limiter = SessionLimiter::new(3);
        assert!((0..3).all(|_| limiter.allow([1; 32])));
        assert!(!limiter.allow([1; 32]));
        assert!(limiter.allow([2; 32]));
    }

    #[test]
    fn challenges_cost_a_stamp_for_the_organisation_beyond_the_free_rate() {
        // 16 bits: a stamp solved for another organisation also fits this one only once in
        // 65,536 runs.
        const LEAST: u8 = 16;
        let pending = OfficeChallengeLimiter::new(2);
        let key = StampKey::generate();
        assert!(pending.admit("demo", None, &key, LEAST).unwrap().is_none());
        assert!(pending.admit("demo", None, &key, LEAST).unwrap().is_none());
        assert!(matches!(
            pending.admit("demo", None, &key, LEAST),
            Err(Error::RateLimited(_))
        ));
        // Beyond the free rate a stamp for this organisation admits, once.
        let expires = crate::clock::unix_seconds() + 600;
        let subject = meldpunt_crypto::office_stamp_subject("demo");
        let stamp = key
            .challenge(LEAST, expires)
            .solve(&subject, |_| true)
            .unwrap();
        // It admits with the stamp to spend: the store refuses it the second time
        // (storage tests).
        let spent = pending.admit("demo", Some(&stamp), &key, LEAST).unwrap();
        assert!(spent.is_some_and(|spent| spent.expires_at == expires));
        // A stamp for another organisation, or from before the difficulty rose, does not.
        let elsewhere = key
            .challenge(LEAST, expires)
            .solve(&meldpunt_crypto::office_stamp_subject("other"), |_| true)
            .unwrap();
        assert!(pending
            .admit("demo", Some(&elsewhere), &key, LEAST)
            .is_err());
        let easy = key
            .challenge(LEAST - 2, expires)
            .solve(&subject, |_| true)
            .unwrap();
        assert!(matches!(
            pending.admit("demo", Some(&easy), &key, LEAST),
            Err(Error::Stamp(meldpunt_crypto::Error::StampOutdated { .. }))
        ));
        // Another organisation's free rate is its own.
        pending.admit("other", None, &key, LEAST).unwrap();
    }

    #[test]
    fn a_refund_gives_back_one_request() {
        let limiter = WindowLimiter::new(1);
        assert!(limiter.allow(7u64));
        limiter.refund(&7);
        assert!(limiter.allow(7));
        assert!(!limiter.allow(7));
    }
}
