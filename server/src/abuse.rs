//! Anti-abuse that identifies no one: the proof-of-work difficulty that follows the load,
//! and the per-session request limit for offices.
//!
//! This module must never key anything on a network address: there is none to key on.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::ProofOfWork;

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
}

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

/// A fixed-window request counter per office session.
#[derive(Debug)]
pub struct SessionLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<[u8; 32], (Instant, u32)>>,
}

impl SessionLimiter {
    /// A limiter allowing `per_minute` requests per session per minute.
    pub fn new(per_minute: u32) -> Self {
        SessionLimiter {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request; `false` if the session is over its limit.
    pub fn allow(&self, session_id: [u8; 32]) -> bool {
        let now = Instant::now();
        let mut windows = self.windows.lock().expect("not poisoned");
        if windows.len() > 10_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
        }
        let window = windows.entry(session_id).or_insert((now, 0));
        if now.duration_since(window.0) >= Duration::from_secs(60) {
            *window = (now, 0);
        }
        window.1 += 1;
        window.1 <= self.per_minute
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
    }

    #[test]
    fn sessions_are_limited_separately() {
        let limiter = SessionLimiter::new(3);
        assert!((0..3).all(|_| limiter.allow([1; 32])));
        assert!(!limiter.allow([1; 32]));
        assert!(limiter.allow([2; 32]));
    }
}
