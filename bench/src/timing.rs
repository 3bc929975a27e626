//! Can an office tell, by timing, a mailbox that exists in another organisation from one
//! that does not exist? Both get the same answer (404 `mailbox-not-found`, same body);
//! this mode measures whether they take the same time.
//!
//! It creates mailboxes in organisation `other`, authenticates as `demo`'s office, and
//! sends replies alternately (in random order per pair, one request at a time) to an
//! existing `other` mailbox and to a random id. It reports both latency distributions and
//! the two-sample Kolmogorov–Smirnov statistic with its asymptotic p-value. A benchmark, not
//! a test: a shared machine's noise goes into the figures, never into a pass or a fail.

use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use meldpunt_crypto::{IdentityKey, MailboxToken};
use rand_core::{OsRng, RngCore};

async fn reply(
    client: &reqwest::Client,
    url: &str,
    bearer: &str,
    mailbox: &str,
    body: &[u8],
) -> (u16, Vec<u8>, Duration) {
    let started = Instant::now();
    let response = client
        .post(format!("{url}/api/v1/office/mailboxes/{mailbox}/messages"))
        .header("authorization", bearer)
        .header("content-type", "application/octet-stream")
        .body(body.to_vec())
        .send()
        .await
        .expect("the relay answers");
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("body").to_vec();
    (status, bytes, started.elapsed())
}

fn quantile(sorted: &[Duration], fraction: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * fraction).round() as usize]
}

/// The two-sample Kolmogorov–Smirnov statistic D and its asymptotic p-value.
fn kolmogorov_smirnov(first: &[Duration], second: &[Duration]) -> (f64, f64) {
    let (mut i, mut j, mut largest) = (0usize, 0usize, 0f64);
    while i < first.len() && j < second.len() {
        let value = first[i].min(second[j]);
        while i < first.len() && first[i] <= value {
            i += 1;
        }
        while j < second.len() && second[j] <= value {
            j += 1;
        }
        let gap = (i as f64 / first.len() as f64 - j as f64 / second.len() as f64).abs();
        largest = largest.max(gap);
    }
    let effective = (first.len() * second.len()) as f64 / (first.len() + second.len()) as f64;
    let lambda = (effective.sqrt() + 0.12 + 0.11 / effective.sqrt()) * largest;
    let mut p = 0f64;
    for k in 1..=100 {
        let sign = if k % 2 == 1 { 1.0 } else { -1.0 };
        p += sign * 2.0 * (-2.0 * (k as f64).powi(2) * lambda * lambda).exp();
    }
    (largest, p.clamp(0.0, 1.0))
}

pub(crate) async fn run(url: &str, office: &IdentityKey, reports: &[Vec<u8>], samples: usize) {
    let client = crate::client();
    let mut existing = Vec::new();
    for report in reports {
        let token = crate::random_token();
        let response = client
            .post(format!("{url}/api/v1/mailboxes"))
            .header("authorization", format!("Bearer {token}"))
            .header("meldpunt-organisation", "other")
            .header("meldpunt-recipients", "integrity-office")
            .header("content-type", "application/octet-stream")
            .body(report.clone())
            .send()
            .await
            .expect("the relay answers");
        assert_eq!(
            response.status().as_u16(),
            201,
            "creating a mailbox in `other`"
        );
        existing.push(
            MailboxToken::from_wire(&token)
                .expect("valid")
                .mailbox_id()
                .to_wire(),
        );
    }
    let bearer = crate::office_session(url, office).await;
    let body = &reports[0];
    let mut times = [Vec::with_capacity(samples), Vec::with_capacity(samples)];
    let mut answers: [Option<(u16, Vec<u8>)>; 2] = [None, None];
    for round in 0..samples + 200 {
        let mut random = [0u8; 32];
        OsRng.fill_bytes(&mut random);
        let targets = [
            existing[round % existing.len()].clone(),
            URL_SAFE_NO_PAD.encode(random),
        ];
        let first = (OsRng.next_u32() % 2) as usize;
        for which in [first, 1 - first] {
            let (status, bytes, elapsed) =
                reply(&client, url, &bearer, &targets[which], body).await;
            match &answers[which] {
                None => answers[which] = Some((status, bytes)),
                Some(seen) => assert_eq!(seen, &(status, bytes), "answers differ within one kind"),
            }
            if round >= 200 {
                times[which].push(elapsed);
            }
        }
    }
    assert_eq!(
        answers[0], answers[1],
        "an existing foreign mailbox is answered differently"
    );
    let (status, bytes) = answers[0].clone().expect("answered");
    for list in &mut times {
        list.sort();
    }
    let (statistic, p_value) = kolmogorov_smirnov(&times[0], &times[1]);
    println!(
        "mailbox timing: {samples} replies each to existing mailboxes of another organisation and to unknown ids, sequential, after 200 warm-up pairs"
    );
    println!(
        "  both answered {status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    for (name, list) in [("existing elsewhere", &times[0]), ("unknown", &times[1])] {
        println!(
            "  {name:>18}: median {:.1} µs, p10 {:.1} µs, p90 {:.1} µs",
            quantile(list, 0.5).as_secs_f64() * 1e6,
            quantile(list, 0.1).as_secs_f64() * 1e6,
            quantile(list, 0.9).as_secs_f64() * 1e6,
        );
    }
    println!(
        "  median ratio {:.3}; Kolmogorov–Smirnov D = {statistic:.4}, p = {p_value:.3}",
        quantile(&times[0], 0.5).as_secs_f64() / quantile(&times[1], 0.5).as_secs_f64()
    );
}
