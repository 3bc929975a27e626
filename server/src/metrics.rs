//! Aggregate counters in the Prometheus text format. They count; they never identify: no
//! label carries a mailbox, a session, an organisation's reporter or an address.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// The relay's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Responses by status class (index 1..=5 for 1xx..5xx).
    responses: [AtomicU64; 6],
    /// Mailboxes created.
    pub mailboxes_created: AtomicU64,
    /// Follow-ups stored.
    pub follow_ups_stored: AtomicU64,
    /// Replies stored.
    pub replies_stored: AtomicU64,
    /// Hand-overs stored.
    pub hand_overs_stored: AtomicU64,
    /// Case records stored.
    pub case_records_stored: AtomicU64,
    /// Attachments stored.
    pub attachments_stored: AtomicU64,
    /// Attachment bytes stored.
    pub attachment_bytes_stored: AtomicU64,
    /// Stamps refused (missing, invalid, expired, spent or lazy).
    pub stamps_refused: AtomicU64,
    /// Office sessions opened.
    pub office_sessions_opened: AtomicU64,
    /// Mailboxes deleted by retention.
    pub mailboxes_expired: AtomicU64,
}

impl Metrics {
    /// Counts one response.
    pub fn count_response(&self, status: u16) {
        let class = usize::from(status / 100).min(5);
        self.responses[class].fetch_add(1, Ordering::Relaxed);
    }

    /// Adds one to a counter.
    pub fn increment(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(
        &self,
        difficulty: u8,
        stored: Option<crate::storage::StoreCounts>,
        directory_days_left: i64,
    ) -> String {
        let mut text = String::new();
        let mut counter = |name: &str, help: &str, value: u64| {
            let _ = writeln!(
                text,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        };
        let load = |value: &AtomicU64| value.load(Ordering::Relaxed);
        counter(
            "meldpunt_mailboxes_created_total",
            "Mailboxes created.",
            load(&self.mailboxes_created),
        );
        counter(
            "meldpunt_follow_ups_stored_total",
            "Follow-ups stored.",
            load(&self.follow_ups_stored),
        );
        counter(
            "meldpunt_replies_stored_total",
            "Replies and acknowledgements stored.",
            load(&self.replies_stored),
        );
        counter(
            "meldpunt_hand_overs_stored_total",
            "Hand-overs (a case's message one office member seals to a colleague) stored.",
            load(&self.hand_overs_stored),
        );
        counter(
            "meldpunt_case_records_stored_total",
            "Case records (the office's shared state of a case) stored.",
            load(&self.case_records_stored),
        );
        counter(
            "meldpunt_attachments_stored_total",
            "Attachments stored.",
            load(&self.attachments_stored),
        );
        counter(
            "meldpunt_attachment_bytes_stored_total",
            "Sealed attachment bytes stored.",
            load(&self.attachment_bytes_stored),
        );
        counter(
            "meldpunt_stamps_refused_total",
            "Mailbox creations refused for their proof-of-work stamp.",
            load(&self.stamps_refused),
        );
        counter(
            "meldpunt_office_sessions_opened_total",
            "Office sessions opened.",
            load(&self.office_sessions_opened),
        );
        counter(
            "meldpunt_mailboxes_expired_total",
            "Mailboxes deleted by retention.",
            load(&self.mailboxes_expired),
        );
        let _ = writeln!(text, "# HELP meldpunt_responses_total HTTP responses by status class.\n# TYPE meldpunt_responses_total counter");
        for class in 1..=5 {
            let _ = writeln!(
                text,
                "meldpunt_responses_total{{class=\"{class}xx\"}} {}",
                load(&self.responses[class])
            );
        }
        let _ = writeln!(text, "# HELP meldpunt_directory_expires_in_days Days until the served directory expires (negative once expired); alert from 30.\n# TYPE meldpunt_directory_expires_in_days gauge\nmeldpunt_directory_expires_in_days {directory_days_left}");
        let _ = writeln!(text, "# HELP meldpunt_proof_of_work_difficulty Leading zero bits asked of new mailboxes.\n# TYPE meldpunt_proof_of_work_difficulty gauge\nmeldpunt_proof_of_work_difficulty {difficulty}");
        if let Some(stored) = stored {
            let _ = writeln!(
                text,
                "# HELP meldpunt_stored Objects held now.\n# TYPE meldpunt_stored gauge"
            );
            let _ = writeln!(
                text,
                "meldpunt_stored{{kind=\"mailboxes\"}} {}",
                stored.mailboxes
            );
            let _ = writeln!(
                text,
                "meldpunt_stored{{kind=\"messages\"}} {}",
                stored.messages
            );
            let _ = writeln!(
                text,
                "meldpunt_stored{{kind=\"attachments\"}} {}",
                stored.attachments
            );
        }
        text
    }
}
