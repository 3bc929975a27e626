//! Anti-abuse for the web form without JavaScript, where no proof-of-work can be asked.
//!
//! Three things together, none of which identifies anyone:
//!
//! - a **form token** in a hidden field: `version || issued at (8 bytes) || nonce (16) ||
//!   HMAC-SHA256(key, preceding bytes)`, base64url. The relay checks its MAC (in constant
//!   time), its age and that it is unused; it is valid for `form_token_minutes` and only
//!   once. No cookie is needed;
//! - a **server-side delay**: a form posted sooner than `minimum_form_seconds` after it was
//!   served is refused (a person needs that long; a script hammering the endpoint does not
//!   wait);
//! - a **global rate**: at most `no_script_submissions_per_minute` sealed submissions a
//!   minute across all reporters (a token bucket), after which the page says the service is
//!   busy and keeps the text in the form; and, separately, `no_script_reads_per_minute`
//!   conversations opened and attachments fetched (each needs a form token too, but no
//!   minimum delay: a download button is clicked quickly);
//! - **a share per Tor circuit**, when the relay runs behind an onion service that exports
//!   circuit ids (`tor_circuit_ids`, see `crate::circuit`): one circuit may use at most
//!   `no_script_submissions_per_circuit` of the global rate a minute (and
//!   `no_script_reads_per_circuit` reads), counted before the global rate is touched, so a
//!   script on one circuit cannot spend everyone's allowance; it needs a new circuit for
//!   every few posts. Tokens are not bound to circuits (a token collected in advance is as
//!   good as any), because the circuit, not the token, is what is scarce. Without circuit
//!   ids (a relay reached directly) there is only the global rate, and one client that
//!   sends `no_script_submissions_per_minute` posts a minute keeps everyone else out of this
//!   form: run the relay behind an onion service with circuit ids, or accept that.
//!
//! A multipart post must send its token as its first field: it is checked before the rest of
//! the body is read (see `forms::read`), so a post without a valid one costs a few KiB.
//!
//! The key is kept in the data folder (`form-token.key`, mode 0600), so a form served before
//! a restart still works after it: a reporter who typed a long report while the relay was
//! restarted does not lose it. (The set of spent tokens is not kept: after a restart a
//! token could be used once more, within its validity and the global rate.)
//!
//! This module must never record who asked for a form: tokens hold a time and randomness,
//! nothing else.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::abuse::WindowLimiter;
use crate::circuit::Circuit;
use crate::config::WebSettings;

const TOKEN_VERSION: u8 = 1;
const BODY_LENGTH: usize = 1 + 8 + 16;
const TOKEN_LENGTH: usize = BODY_LENGTH + 32;
/// Most unexpired spent tokens remembered; beyond it new forms are refused until some expire.
const MAXIMUM_REMEMBERED: usize = 100_000;

/// Why a form submission was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown MAC, malformed, expired or used already.
    Expired,
    /// Sent sooner than a person could have written it.
    TooFast,
    /// The global rate is used up for now.
    Busy,
}

/// Form tokens, the spent set and the global rate.
pub struct FormGuard {
    key: Zeroizing<[u8; 32]>,
    settings: WebSettings,
    spent: Mutex<HashMap<[u8; 16], u64>>,
    bucket: Mutex<Bucket>,
    reads: Mutex<Bucket>,
    circuit_submissions: WindowLimiter<Circuit>,
    circuit_reads: WindowLimiter<Circuit>,
}

impl std::fmt::Debug for FormGuard {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("FormGuard([redacted])")
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
}

impl FormGuard {
    /// A guard with a new random key.
    pub fn new(settings: WebSettings) -> FormGuard {
        let mut key = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(&mut key[..]);
        Self::with_key(settings, key)
    }

    /// A guard with the key kept in `path`, made there (mode 0600) if there is none yet.
    pub fn kept_in(settings: WebSettings, path: &std::path::Path) -> std::io::Result<FormGuard> {
        let mut key = Zeroizing::new([0u8; 32]);
        match std::fs::read(path) {
            Ok(bytes) if bytes.len() == 32 => key.copy_from_slice(&bytes),
            Ok(_) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "{} is not a form token key (32 bytes); delete it to make a new one",
                        path.display()
                    ),
                ))
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                OsRng.fill_bytes(&mut key[..]);
                crate::files::write_new_private(path, &key[..])?;
            }
            Err(error) => return Err(error),
        }
        Ok(Self::with_key(settings, key))
    }

    /// A guard with a key several relays share (a form one serves, another accepts).
    pub(crate) fn with_key(settings: WebSettings, key: Zeroizing<[u8; 32]>) -> FormGuard {
        FormGuard {
            key,
            bucket: Mutex::new(Bucket {
                tokens: f64::from(settings.no_script_submissions_per_minute),
                refilled: Instant::now(),
            }),
            reads: Mutex::new(Bucket {
                tokens: f64::from(settings.no_script_reads_per_minute),
                refilled: Instant::now(),
            }),
            spent: Mutex::new(HashMap::new()),
            circuit_submissions: WindowLimiter::new(settings.no_script_submissions_per_circuit),
            circuit_reads: WindowLimiter::new(settings.no_script_reads_per_circuit),
            settings,
        }
    }

    fn mac(&self, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key[..]).expect("any key length");
        mac.update(body);
        mac
    }

    /// A new form token issued at `now` (Unix seconds).
    pub fn issue(&self, now: u64) -> String {
        let mut bytes = [0u8; TOKEN_LENGTH];
        bytes[0] = TOKEN_VERSION;
        bytes[1..9].copy_from_slice(&now.to_be_bytes());
        OsRng.fill_bytes(&mut bytes[9..BODY_LENGTH]);
        let tag = self.mac(&bytes[..BODY_LENGTH]).finalize().into_bytes();
        bytes[BODY_LENGTH..].copy_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Checks a submission's token without spending it (MAC, age, minimum delay, the spent
    /// set): what a multipart post's first field is checked with before the rest is read.
    pub fn precheck(&self, token: &str, now: u64) -> Result<(), Refusal> {
        self.check(token, now, true).map(drop)
    }

    /// Checks a token without spending it: MAC, age, the minimum delay if asked, and the
    /// spent set.
    fn check(&self, token: &str, now: u64, delayed: bool) -> Result<([u8; 16], u64), Refusal> {
        let bytes: [u8; TOKEN_LENGTH] = URL_SAFE_NO_PAD
            .decode(token.trim())
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(Refusal::Expired)?;
        if bytes[0] != TOKEN_VERSION {
            return Err(Refusal::Expired);
        }
        self.mac(&bytes[..BODY_LENGTH])
            .verify_slice(&bytes[BODY_LENGTH..])
            .map_err(|_| Refusal::Expired)?;
        let issued = u64::from_be_bytes(bytes[1..9].try_into().expect("8 bytes"));
        let expires = issued + u64::from(self.settings.form_token_minutes) * 60;
        if now >= expires {
            return Err(Refusal::Expired);
        }
        if delayed && now < issued + self.settings.minimum_form_seconds {
            return Err(Refusal::TooFast);
        }
        let nonce: [u8; 16] = bytes[9..BODY_LENGTH].try_into().expect("16 bytes");
        if self
            .spent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains_key(&nonce)
        {
            return Err(Refusal::Expired);
        }
        Ok((nonce, expires))
    }

    /// Admits one submission: the token must be valid and unused, the circuit (if known)
    /// within its share, and the global rate must allow it. Spends the token only when
    /// admitted, so a busy answer leaves the form usable.
    pub fn admit(&self, token: &str, now: u64, circuit: Option<Circuit>) -> Result<(), Refusal> {
        let (nonce, expires) = self.check(token, now, true)?;
        Self::within_share(&self.circuit_submissions, circuit)?;
        Self::take(&self.bucket, self.settings.no_script_submissions_per_minute)
            .inspect_err(|_| Self::refund(&self.circuit_submissions, circuit))?;
        self.spend(nonce, expires, now)
    }

    /// Admits one read (a conversation opened, an attachment fetched): a valid unused token,
    /// the circuit's share and the read rate; no minimum delay.
    pub fn admit_read(
        &self,
        token: &str,
        now: u64,
        circuit: Option<Circuit>,
    ) -> Result<(), Refusal> {
        let (nonce, expires) = self.check(token, now, false)?;
        Self::within_share(&self.circuit_reads, circuit)?;
        Self::take(&self.reads, self.settings.no_script_reads_per_minute)
            .inspect_err(|_| Self::refund(&self.circuit_reads, circuit))?;
        self.spend(nonce, expires, now)
    }

    /// A circuit told "busy" by the global rate keeps its share: only admitted requests
    /// count against it.
    fn refund(limiter: &WindowLimiter<Circuit>, circuit: Option<Circuit>) {
        if let Some(circuit) = circuit {
            limiter.refund(&circuit);
        }
    }

    fn within_share(
        limiter: &WindowLimiter<Circuit>,
        circuit: Option<Circuit>,
    ) -> Result<(), Refusal> {
        match circuit {
            Some(circuit) if !limiter.allow(circuit) => Err(Refusal::Busy),
            _ => Ok(()),
        }
    }

    fn spend(&self, nonce: [u8; 16], expires: u64, now: u64) -> Result<(), Refusal> {
        let mut spent = self
            .spent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if spent.len() >= MAXIMUM_REMEMBERED {
            spent.retain(|_, expiry| *expiry > now);
            if spent.len() >= MAXIMUM_REMEMBERED {
                return Err(Refusal::Busy);
            }
        }
        if spent.insert(nonce, expires).is_some() {
            return Err(Refusal::Expired);
        }
        Ok(())
    }

    fn take(bucket: &Mutex<Bucket>, per_minute: u32) -> Result<(), Refusal> {
        let rate = f64::from(per_minute);
        let mut bucket = bucket
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let elapsed = bucket.refilled.elapsed().as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate / 60.0).min(rate);
        bucket.refilled = Instant::now();
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Refusal::Busy)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(per_minute: u32) -> FormGuard {
        FormGuard::new(WebSettings {
            form_token_minutes: 60,
            minimum_form_seconds: 5,
            no_script_submissions_per_minute: per_minute,
            ..WebSettings::default()
        })
    }

    #[test]
    fn a_token_works_once_within_its_window() {
        let guard = guard(10);
        let token = guard.issue(1000);
        assert_eq!(guard.admit(&token, 1002, None), Err(Refusal::TooFast));
        assert_eq!(guard.admit(&token, 1010, None), Ok(()));
        assert_eq!(guard.admit(&token, 1011, None), Err(Refusal::Expired));
        let late = guard.issue(1000);
        assert_eq!(guard.admit(&late, 1000 + 3600, None), Err(Refusal::Expired));
    }

    #[test]
    fn forged_and_foreign_tokens_are_refused() {
        let guard = guard(10);
        let token = guard.issue(1000);
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        bytes[3] ^= 1;
        assert_eq!(
            guard.admit(&URL_SAFE_NO_PAD.encode(&bytes), 1010, None),
            Err(Refusal::Expired)
        );
        assert_eq!(guard.admit("", 1010, None), Err(Refusal::Expired));
        let other = super::tests::guard(10).issue(1000);
        assert_eq!(guard.admit(&other, 1010, None), Err(Refusal::Expired));
    }

    #[test]
    fn the_global_rate_refuses_without_spending_the_token() {
        let guard = guard(2);
        for _ in 0..2 {
            assert_eq!(guard.admit(&guard.issue(1000), 1010, None), Ok(()));
        }
        let token = guard.issue(1000);
        assert_eq!(guard.admit(&token, 1010, None), Err(Refusal::Busy));
        guard.bucket.lock().unwrap().tokens = 1.0;
        assert_eq!(guard.admit(&token, 1010, None), Ok(()));
    }

    #[test]
    fn one_circuit_cannot_spend_the_others_share() {
        let guard = FormGuard::new(WebSettings {
            minimum_form_seconds: 0,
            no_script_submissions_per_minute: 10,
            no_script_submissions_per_circuit: 2,
            ..WebSettings::default()
        });
        let flooder = crate::circuit::Circuit::parse("PROXY TCP6 fc00:dead:beef:4dad::1 ::1 1 1");
        let honest = crate::circuit::Circuit::parse("PROXY TCP6 fc00:dead:beef:4dad::2 ::1 1 1");
        let posted: Vec<_> = (0..20)
            .map(|_| guard.admit(&guard.issue(1000), 1000, flooder))
            .collect();
        assert_eq!(posted.iter().filter(|result| result.is_ok()).count(), 2);
        assert_eq!(guard.admit(&guard.issue(1000), 1000, honest), Ok(()));
    }
}
