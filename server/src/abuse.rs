//! Anti-abuse that identifies no one: the proof-of-work difficulty that follows the load,
//! the per-session request limit for offices, and the office challenges waiting for an
//! answer (in memory, rate-limited per organisation).
//!
//! This module must never key anything on a network address: there is none to key on.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::ProofOfWork;
use crate::error::Error;
use crate::storage::Grant;

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

/// How far below the current difficulty a stamp may be.
pub const STAMP_TOLERANCE_BITS: u8 = 2;

/// The difficulty for `per_minute` creations in the last minute.
pub fn difficulty_for(settings: &ProofOfWork, per_minute: u64) -> u8 {
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

/// A fixed-window request counter per key (an office session, an organisation).
#[derive(Debug)]
pub struct WindowLimiter<Key> {
    per_minute: u32,
    windows: Mutex<HashMap<Key, (Instant, u32)>>,
}

/// The request limit per office session.
pub type SessionLimiter = WindowLimiter<[u8; 32]>;

impl<Key: std::hash::Hash + Eq> WindowLimiter<Key> {
    /// A limiter allowing `per_minute` requests per key per minute.
    pub fn new(per_minute: u32) -> Self {
        WindowLimiter {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request; `false` if `key` is over its limit.
    pub fn allow(&self, key: Key) -> bool {
        let now = Instant::now();
        let mut windows = self.windows.lock().expect("not poisoned");
        if windows.len() > 10_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
        }
        let window = windows.entry(key).or_insert((now, 0));
        if now.duration_since(window.0) >= Duration::from_secs(60) {
            *window = (now, 0);
        }
        window.1 += 1;
        window.1 <= self.per_minute
    }
}

/// Seconds an office has to answer a challenge.
pub const CHALLENGE_SECONDS: u64 = 300;

/// Office challenges waiting for their answer, by the hash of the answer.
///
/// Asking for a challenge costs the relay a few X25519 operations and a little memory, and
/// nothing on disk: only a correct answer writes (its session). Each organisation may ask
/// for `per_minute` challenges a minute, so what waits here is bounded by organisations ×
/// `per_minute` × [`CHALLENGE_SECONDS`] / 60, and someone asking for another organisation's
/// challenges uses up only that organisation's allowance. A restart forgets the waiting
/// challenges: an office then asks again.
#[derive(Debug)]
pub struct PendingChallenges {
    limiter: WindowLimiter<String>,
    pending: Mutex<HashMap<[u8; 32], Grant>>,
}

impl PendingChallenges {
    /// Room for `per_minute` new challenges per organisation per minute.
    pub fn new(per_minute: u32) -> Self {
        PendingChallenges {
            limiter: WindowLimiter::new(per_minute),
            pending: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a challenge for `organisation` before any work is done for it.
    pub fn admit(&self, organisation: &str) -> Result<(), Error> {
        if self.limiter.allow(organisation.to_owned()) {
            Ok(())
        } else {
            Err(Error::RateLimited(
                "office challenges for this organisation",
            ))
        }
    }

    /// Keeps a challenge until its answer arrives or it expires.
    pub fn insert(&self, answer_id: [u8; 32], grant: Grant) {
        let now = crate::storage::unix_seconds();
        let mut pending = self.pending.lock().expect("not poisoned");
        pending.retain(|_, waiting| waiting.expires_at >= now);
        pending.insert(answer_id, grant);
    }

    /// Takes the challenge an answer belongs to, once, if it has not expired.
    pub fn take(&self, answer_id: [u8; 32]) -> Option<Grant> {
        let grant = self
            .pending
            .lock()
            .expect("not poisoned")
            .remove(&answer_id)?;
        (crate::storage::unix_seconds() <= grant.expires_at).then_some(grant)
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
    fn challenges_are_answered_once_and_limited_per_organisation() {
        let pending = PendingChallenges::new(2);
        let grant = |seconds: i64| Grant {
            organisation: "demo".into(),
            expires_at: crate::storage::unix_seconds().saturating_add_signed(seconds),
        };
        pending.admit("demo").unwrap();
        pending.insert([1; 32], grant(60));
        assert_eq!(pending.take([1; 32]).unwrap().organisation, "demo");
        assert!(pending.take([1; 32]).is_none(), "used once");
        pending.admit("demo").unwrap();
        pending.insert([2; 32], grant(-1));
        assert!(pending.take([2; 32]).is_none(), "expired");
        assert!(matches!(pending.admit("demo"), Err(Error::RateLimited(_))));
        // Another organisation's allowance is its own.
        pending.admit("other").unwrap();
    }
}
