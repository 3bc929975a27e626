//! Reading a conversation, following up and downloading the office's attachments without
//! JavaScript, with the receipt code posted in the form.
//!
//! The code is turned into the mailbox token and reply key in memory, the messages are
//! opened for the page and forgotten; the code travels back only inside the page's hidden
//! fields (never in a URL, a cookie or a log).
//!
//! This module must never keep a receipt code, a reply key or an opened message beyond the
//! request that needed it.

use std::sync::Arc;

use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Multipart, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use meldpunt_crypto::{
    FollowUpSigningKey, IdentityKey, MailboxId, Message, MessageKind, ReceiptCode, ThreadCheck,
};
use zeroize::Zeroizing;

use super::forms::{self, PostedForm};
use super::pages::{self, FieldErrors, Thread, ThreadEntry};
use super::report::{check_attachment, check_body, refusal_error, store_sealed_attachment};
use super::text::Language;
use super::{frame, now, page};
use crate::circuit::Circuit;
use crate::error::Error;
use crate::state::AppState;
use crate::storage::{Author, MessageRecord};

/// The fields of the check and download forms.
#[derive(serde::Deserialize)]
pub(crate) struct CodeForm {
    #[serde(default)]
    form_token: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    receipt_code: Zeroizing<String>,
    #[serde(default)]
    before: Option<u32>,
    #[serde(default)]
    position: Option<u32>,
    #[serde(default)]
    location: String,
    #[serde(default)]
    organisation: String,
}

impl std::fmt::Debug for CodeForm {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("CodeForm([redacted])")
    }
}

/// An opened conversation: every message in the mailbox, opened and checked, or the reason
/// it could not be (shown as such in its place; one bad message never hides the others).
struct Opened {
    mailbox: [u8; 32],
    /// Every reply identity the code derives (hybrid, then classic for older reports).
    reply: [IdentityKey; 2],
    signing: FollowUpSigningKey,
    messages: Vec<(MessageRecord, Result<Checked, meldpunt_crypto::Error>)>,
    check: ThreadCheck,
    /// The first position shown, when older messages (after the report) are not.
    older: Option<u32>,
}

/// A message that opened and fits the thread.
struct Checked {
    message: Message,
    /// Earlier messages of its author that never arrived (withheld by the relay).
    missing_before: u32,
}

/// Why a conversation could not be opened: the field error to show and its status.
struct Refused(StatusCode, String);

fn code_error(language: Language, error: &meldpunt_crypto::Error) -> Refused {
    let text = language.text();
    let message = match error {
        meldpunt_crypto::Error::ReceiptCodeLength { .. } => text.error_code_length.to_owned(),
        meldpunt_crypto::Error::ReceiptCodeCharacter { .. } => text.error_code_character.to_owned(),
        meldpunt_crypto::Error::ReceiptCodeChecksum {
            suspect_group: Some(group),
        } => format!(
            "{} {} {}.",
            text.error_code_checksum, text.error_code_checksum_group, group
        ),
        _ => text.error_code_checksum.to_owned(),
    };
    Refused(StatusCode::UNPROCESSABLE_ENTITY, message)
}

/// Which messages of a conversation one request opens. Never all of them at once: a mailbox
/// can hold a thousand large messages, and the page is rendered in memory.
#[derive(Debug, Clone, Copy)]
enum Selection {
    /// The newest page (`before: None`), or the page of messages before a position.
    Page { before: Option<u32> },
    /// One message (for an attachment download).
    One(u32),
    /// Every message, to carry a consultation into a report: refused when together they
    /// are larger than one message may be.
    All,
}

async fn open_conversation(
    state: &AppState,
    language: Language,
    typed: &str,
    selection: Selection,
) -> Result<Opened, Refused> {
    let text = language.text();
    let code = ReceiptCode::parse(typed).map_err(|error| code_error(language, &error))?;
    let mailbox = *code.mailbox_token().mailbox_id().as_bytes();
    let reply = code.reply_identities();
    let signing = code.follow_up_signing_key();
    let relay_error = |error: crate::storage::StoreError| {
        let error = Error::from(error);
        Refused(error.status(), format!("{} {error}", text.error_relay))
    };
    let listed = state
        .store
        .list_mailbox(
            mailbox,
            0,
            state.settings.limits.max_messages_per_mailbox as usize,
        )
        .await
        .map_err(relay_error)?
        .ok_or_else(|| Refused(StatusCode::NOT_FOUND, text.error_code_unknown.to_owned()))?;
    // The report always (it carries the keys everything else is checked with); then the
    // page: the newest messages (before `before`) up to a count and a byte budget, at least
    // one; and for the newest page the reporter's last message, whose number the next
    // follow-up continues.
    let settings = &state.settings.web;
    let mut shown = std::collections::BTreeSet::from([1u32]);
    let mut opened_only = std::collections::BTreeSet::new();
    let mut older = None;
    match selection {
        Selection::One(position) => {
            shown.insert(position);
        }
        Selection::All => {
            // Sealed sizes are padded (a 4 KiB floor, a key header each): what is refused here
            // could never fit one message; the exact limit is the report's own encoding.
            let total: u64 = listed.iter().map(|record| record.size).sum();
            let allowance = meldpunt_crypto::MAXIMUM_MESSAGE_LENGTH
                + listed.len() as u64 * (meldpunt_crypto::PADDING_FLOOR + 4096);
            if listed.len() > meldpunt_crypto::MAXIMUM_CARRIED_MESSAGES || total > allowance {
                return Err(Refused(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    text.error_carry_too_long.to_owned(),
                ));
            }
            shown.extend(listed.iter().map(|record| record.position));
        }
        Selection::Page { before } => {
            let mut budget = settings.thread_bytes;
            let mut window = Vec::new();
            for record in listed.iter().rev().filter(|record| {
                record.position > 1 && before.is_none_or(|limit| record.position < limit)
            }) {
                if window.len() >= settings.thread_messages
                    || (!window.is_empty() && record.size > budget)
                {
                    break;
                }
                budget = budget.saturating_sub(record.size);
                window.push(record.position);
            }
            if let Some(first) = window.last() {
                older = (*first > 2).then_some(*first);
            }
            shown.extend(window);
            if before.is_none() {
                if let Some(last) = listed
                    .iter()
                    .rev()
                    .find(|record| record.author == Author::Reporter)
                {
                    if !shown.contains(&last.position) {
                        opened_only.insert(last.position);
                    }
                }
            }
        }
    }
    // Every office message is opened for the check (not shown unless on the page): a process
    // guide appointed before the page must be known, to admit their messages and to seal the
    // next follow-up to them.
    for record in listed
        .iter()
        .filter(|record| record.author == Author::Office)
    {
        if !shown.contains(&record.position) {
            opened_only.insert(record.position);
        }
    }
    let mut messages = Vec::new();
    let mut check = ThreadCheck::new(
        MailboxId::from_bytes(mailbox),
        state.directory().directory.office_signers(),
    );
    check.set_process_guides(state.directory().directory.process_guides());
    check.expect_reporter(&code);
    // A gap in an author's numbering is shown as missing only where this request opened
    // everything between the author's previous message and this one (the page is contiguous
    // after the report); a gap back to before the page is the page's own doing.
    let mut previous = 0u32;
    let mut complete = true;
    let mut seen_on_page = std::collections::HashSet::new();
    for record in listed {
        let position = record.position;
        let display = shown.contains(&position);
        if !display && !opened_only.contains(&position) {
            continue;
        }
        if complete && position != previous + 1 {
            // The page leaves messages out from here: what was seen before (the report)
            // says nothing about gaps on the page.
            complete = false;
            seen_on_page.clear();
        }
        previous = position;
        let sealed = state
            .store
            .mailbox_message(mailbox, position)
            .await
            .map_err(relay_error)?
            .ok_or_else(|| Refused(StatusCode::NOT_FOUND, text.error_tampered.to_owned()))?;
        let on_page = complete || (display && position > 1);
        let checked = Message::open(&reply, &sealed).and_then(|message| {
            let admitted = check.admit(&message, record.author)?;
            let writer = match &message.kind {
                MessageKind::Reply { signer, .. } | MessageKind::Acknowledgement { signer, .. } => {
                    Some(*signer)
                }
                _ => None,
            };
            let trusted = complete || seen_on_page.contains(&writer);
            if on_page {
                seen_on_page.insert(writer);
            }
            Ok(Checked {
                message,
                missing_before: if trusted { admitted.missing_before } else { 0 },
            })
        });
        if display {
            messages.push((record, checked));
        }
    }
    // Without its report there is no conversation to show: nothing verifies the rest.
    match messages.first() {
        Some((
            _,
            Ok(Checked {
                message:
                    Message {
                        kind: MessageKind::Report { .. },
                        ..
                    },
                ..
            }),
        )) => {}
        Some((_, Err(error))) => {
            return Err(Refused(
                StatusCode::CONFLICT,
                format!("{} ({error})", text.error_tampered),
            ))
        }
        _ => {
            return Err(Refused(
                StatusCode::CONFLICT,
                text.error_tampered.to_owned(),
            ))
        }
    }
    Ok(Opened {
        mailbox,
        reply,
        signing,
        messages,
        check,
        older,
    })
}

fn entries(state: &AppState, language: Language, opened: &Opened) -> Vec<ThreadEntry> {
    let text = language.text();
    opened
        .messages
        .iter()
        .map(|(record, checked)| {
            let (message, missing_before) = match checked {
                Ok(Checked {
                    message,
                    missing_before,
                }) => (message, *missing_before),
                Err(error) => {
                    return ThreadEntry {
                        position: record.position,
                        author: text.thread_unreadable.to_owned(),
                        from_office: false,
                        unreadable: true,
                        missing_before: 0,
                        written_on: String::new(),
                        body: Zeroizing::new(format!(
                            "{} ({error})",
                            text.thread_unreadable_detail
                        )),
                        attachments: Vec::new(),
                        answers: Vec::new(),
                    }
                }
            };
            let author = match &message.kind {
                MessageKind::Report {
                    conversation: meldpunt_crypto::Conversation::Consultation,
                    ..
                } => text.thread_you_question.to_owned(),
                MessageKind::Report {
                    earlier_consultation: Some(carried),
                    ..
                } => format!(
                    "{} — {} {}",
                    text.thread_you,
                    text.thread_carried,
                    carried.messages.len()
                ),
                MessageKind::Report { .. } if message.recording.is_some() => {
                    text.thread_record.to_owned()
                }
                MessageKind::Report { .. } => text.thread_you.to_owned(),
                MessageKind::FollowUp { .. }
                    if message.purpose == meldpunt_crypto::Purpose::Evaluation =>
                {
                    text.thread_you_evaluation.to_owned()
                }
                MessageKind::FollowUp { .. }
                    if message.purpose == meldpunt_crypto::Purpose::Confirmation =>
                {
                    text.thread_you_confirmation.to_owned()
                }
                MessageKind::FollowUp { .. }
                    if message.purpose == meldpunt_crypto::Purpose::Correction =>
                {
                    text.thread_you_correction.to_owned()
                }
                MessageKind::FollowUp {
                    shared_identity: None,
                    ..
                } => text.thread_you_follow_up.to_owned(),
                MessageKind::FollowUp {
                    shared_identity: Some(shared),
                    ..
                } => format!(
                    "{} — {} {}",
                    text.thread_you_follow_up,
                    text.thread_identity_shared,
                    recipient_name(state, language, &shared.with)
                ),
                MessageKind::Reply { from, .. } | MessageKind::Acknowledgement { from, .. } => {
                    let name = recipient_name(state, language, from);
                    if matches!(message.kind, MessageKind::Acknowledgement { .. }) {
                        format!("{name} ({})", text.thread_acknowledgement)
                    } else if message.purpose == meldpunt_crypto::Purpose::Closing {
                        format!("{name} ({})", text.thread_closing)
                    } else {
                        name
                    }
                }
            };
            ThreadEntry {
                position: record.position,
                author,
                from_office: record.author == Author::Office,
                unreadable: false,
                missing_before,
                written_on: message.written_on.to_string(),
                body: message.body.clone(),
                attachments: message
                    .attachments
                    .iter()
                    .map(|reference| {
                        (
                            reference.name.clone(),
                            reference.size,
                            reference.location.clone(),
                        )
                    })
                    .collect(),
                answers: shown_answers(state, language, opened, message),
            }
        })
        .collect()
}

/// A report's answers as its reader sees them, against the questionnaire of the
/// organisation it went to.
fn shown_answers(
    state: &AppState,
    language: Language,
    opened: &Opened,
    message: &Message,
) -> Vec<(String, Zeroizing<String>)> {
    if message.answers.is_empty() {
        return Vec::new();
    }
    let directory = &state.directory().directory;
    let organisation = opened
        .check
        .addressed()
        .and_then(|addressed| addressed.first())
        .and_then(|address| directory.organisation(&address.organisation));
    let questions = match (&message.kind, message.purpose, organisation) {
        (MessageKind::Report { .. }, _, Some(organisation)) => organisation.questions.clone(),
        (
            MessageKind::FollowUp { .. },
            meldpunt_crypto::Purpose::Evaluation,
            Some(organisation),
        ) => organisation.evaluation_questions(),
        _ => Vec::new(),
    };
    let dutch = language == Language::Dutch;
    meldpunt_crypto::describe_answers(&questions, &message.answers)
        .into_iter()
        .map(|described| {
            let question =
                described.label.map_or(
                    described.question,
                    |label| {
                        if dutch {
                            label.nl
                        } else {
                            label.en
                        }
                    },
                );
            let answer = described
                .value
                .iter()
                .map(|part| part.in_language(dutch))
                .collect::<Vec<_>>()
                .join(", ");
            (question, Zeroizing::new(answer))
        })
        .collect()
}

/// A recipient's name in the page's language, as the directory lists it.
fn recipient_name(
    state: &AppState,
    language: Language,
    address: &meldpunt_crypto::RecipientAddress,
) -> String {
    state
        .directory()
        .directory
        .recipient(address)
        .map(|recipient| match language {
            Language::Dutch => recipient.name.nl.clone(),
            Language::English => recipient.name.en.clone(),
        })
        .unwrap_or_else(|_| format!("{}/{}", address.organisation, address.recipient))
}

#[allow(clippy::too_many_arguments)]
fn thread_page(
    state: &AppState,
    language: Language,
    status: StatusCode,
    code: &str,
    opened: &Opened,
    body: &str,
    errors: &FieldErrors,
    notice: Option<&str>,
    evaluation: &EvaluationDraft,
) -> Response {
    let token = state.form_guard.issue(now());
    let issue_token = || state.form_guard.issue(now());
    let entries = entries(state, language, opened);
    let evaluating = evaluation_questions(state, opened);
    page(
        status,
        pages::thread(
            &frame(state, language, "/check"),
            &Thread {
                code,
                entries: &entries,
                form_token: &token,
                issue_token: &issue_token,
                older: opened.older,
                body,
                errors,
                notice,
                max_attachment: state.settings.web.max_form_attachment_bytes,
                conversation: opened.check.conversation(),
                organisation: opened
                    .check
                    .addressed()
                    .and_then(|addressed| addressed.first())
                    .map(|address| address.organisation.as_str()),
                evaluation: evaluating
                    .as_ref()
                    .map(|organisation| (organisation, evaluation.typed.as_slice())),
                evaluation_body: &evaluation.body,
                recorded: recorded_by(state, language, opened),
            },
        ),
    )
}

/// For the office's record of an oral report: who recorded it and how, as the page says it.
/// And whether the recording verified against the directory.
fn recorded_by(state: &AppState, language: Language, opened: &Opened) -> Option<(String, bool)> {
    let recording = recorded_report(opened)?.recording.as_ref()?;
    let text = language.text();
    Some((
        format!(
            "{} ({})",
            recipient_name(state, language, &recording.by),
            match recording.channel {
                meldpunt_crypto::Channel::Telephone => text.record_telephone,
                meldpunt_crypto::Channel::Meeting => text.record_meeting,
            }
        ),
        opened.check.recording_verified() == Some(true),
    ))
}

/// Whether the conversation's report is the office's record of an oral report.
fn is_recorded(opened: &Opened) -> bool {
    recorded_report(opened).is_some()
}

fn recorded_report(opened: &Opened) -> Option<&Message> {
    opened.messages.iter().find_map(|(_, checked)| {
        let checked = checked.as_ref().ok()?;
        (matches!(checked.message.kind, MessageKind::Report { .. })
            && checked.message.recording.is_some())
        .then_some(&checked.message)
    })
}

/// What the evaluation form shows again when it is refused.
#[derive(Default)]
struct EvaluationDraft {
    typed: super::questions::TypedAnswers,
    body: Zeroizing<String>,
}

/// Once the office closed the case (a verified closing message among those opened), the
/// organisation the report went to with its evaluation questions as its questionnaire;
/// none for a consultation or an open case.
fn evaluation_questions(
    state: &AppState,
    opened: &Opened,
) -> Option<meldpunt_crypto::Organisation> {
    if opened.check.conversation() != meldpunt_crypto::Conversation::Report {
        return None;
    }
    // Known from every office message opened for the check, not only the page shown.
    if !opened.check.closed() {
        return None;
    }
    let directory = &state.directory().directory;
    let organisation = opened
        .check
        .addressed()
        .and_then(|addressed| addressed.first())
        .and_then(|address| directory.organisation(&address.organisation))?;
    Some(meldpunt_crypto::Organisation {
        questions: organisation.evaluation_questions(),
        ..organisation.clone()
    })
}

/// The receipt code form again, with why the code did not open a conversation.
fn check_page(state: &AppState, language: Language, typed: &str, refused: Refused) -> Response {
    let mut errors = FieldErrors::default();
    errors.add("receipt_code", refused.1);
    page(
        refused.0,
        pages::check_form(
            &frame(state, language, "/check"),
            typed,
            &errors,
            &state.form_guard.issue(now()),
        ),
    )
}

/// A receipt-code form (`/check`, `/check/attachment`) that parsed and whose form token the
/// read rate admits, with its language; or the page that says why not.
fn admitted_code_form(
    state: &AppState,
    uri: &Uri,
    circuit: Option<Extension<Circuit>>,
    form: Result<Form<CodeForm>, FormRejection>,
) -> Result<(CodeForm, Language), Box<Response>> {
    let Ok(Form(form)) = form else {
        let language = super::language(uri);
        let refused = Refused(
            StatusCode::BAD_REQUEST,
            language.text().error_form_malformed.to_owned(),
        );
        return Err(Box::new(check_page(state, language, "", refused)));
    };
    let language = Language::from_code(Some(&form.lang));
    if let Err(refusal) = state.form_guard.admit_read(
        &form.form_token,
        now(),
        circuit.map(|Extension(circuit)| circuit),
    ) {
        let (status, message) = refusal_error(language, refusal);
        return Err(Box::new(check_page(
            state,
            language,
            &form.receipt_code,
            Refused(status, message.to_owned()),
        )));
    }
    Ok((form, language))
}

/// The messages of the consultation `typed` opens, every one that opened and fits, to carry
/// into a report; refused (with the field error and status) when the code does not open a
/// consultation.
pub(crate) async fn consultation_to_carry(
    state: &AppState,
    language: Language,
    typed: &str,
) -> Result<(ReceiptCode, Vec<Message>), (StatusCode, String)> {
    let opened = open_conversation(state, language, typed, Selection::All)
        .await
        .map_err(|Refused(status, message)| (status, message))?;
    if opened.check.conversation() != meldpunt_crypto::Conversation::Consultation {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            language.text().error_carry_not_consultation.to_owned(),
        ));
    }
    let code = ReceiptCode::parse(typed).map_err(|error| {
        let Refused(status, message) = code_error(language, &error);
        (status, message)
    })?;
    let messages = opened
        .messages
        .into_iter()
        .filter_map(|(_, checked)| checked.ok().map(|checked| checked.message))
        .collect();
    Ok((code, messages))
}

/// `POST /report/consultation`: the report form for turning the consultation of the posted
/// receipt code into a report (the code goes on in a hidden field; nothing is opened yet).
pub(crate) async fn convert(
    State(state): State<Arc<AppState>>,
    uri: Uri,
    circuit: Option<Extension<Circuit>>,
    form: Result<Form<CodeForm>, FormRejection>,
) -> Response {
    let (form, language) = match admitted_code_form(&state, &uri, circuit, form) {
        Ok(admitted) => admitted,
        Err(page) => return *page,
    };
    if let Err(error) = ReceiptCode::parse(&form.receipt_code) {
        return check_page(
            &state,
            language,
            &form.receipt_code,
            code_error(language, &error),
        );
    }
    super::report::form_page(
        &state,
        language,
        StatusCode::OK,
        &super::report::Draft {
            consultation_code: Some(form.receipt_code.clone()),
            organisation: Some(form.organisation.clone()).filter(|id| !id.is_empty()),
            ..super::report::Draft::default()
        },
        &FieldErrors::default(),
    )
}

/// `POST /check`: the conversation of a receipt code.
pub(crate) async fn open(
    State(state): State<Arc<AppState>>,
    uri: Uri,
    circuit: Option<Extension<Circuit>>,
    form: Result<Form<CodeForm>, FormRejection>,
) -> Response {
    let (form, language) = match admitted_code_form(&state, &uri, circuit, form) {
        Ok(admitted) => admitted,
        Err(page) => return *page,
    };
    let selection = Selection::Page {
        before: form.before,
    };
    match open_conversation(&state, language, &form.receipt_code, selection).await {
        Ok(opened) => thread_page(
            &state,
            language,
            StatusCode::OK,
            &form.receipt_code,
            &opened,
            "",
            &FieldErrors::default(),
            None,
            &EvaluationDraft::default(),
        ),
        Err(refused) => check_page(&state, language, &form.receipt_code, refused),
    }
}

/// `POST /check/follow-up`: a follow-up sealed in memory.
pub(crate) async fn follow_up(
    State(state): State<Arc<AppState>>,
    uri: Uri,
    circuit: Option<Extension<Circuit>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let language = super::language(&uri);
    let malformed = || {
        let refused = Refused(
            StatusCode::BAD_REQUEST,
            language.text().error_form_malformed.to_owned(),
        );
        check_page(&state, language, "", refused)
    };
    let Ok(multipart) = multipart else {
        return malformed();
    };
    let limit = state.settings.web.max_form_attachment_bytes;
    let read = forms::read(
        multipart,
        meldpunt_crypto::MAXIMUM_BODY_LENGTH + 1,
        limit,
        |token| state.form_guard.precheck(token, now()),
    )
    .await;
    let mut form = match read {
        Ok(form) => form,
        Err(forms::Unread::Malformed) => return malformed(),
        Err(forms::Unread::Refused(refusal)) => {
            let (status, message) = refusal_error(language, refusal);
            let refused = Refused(
                status,
                format!("{message} {}", language.text().error_text_not_kept),
            );
            return check_page(&state, language, "", refused);
        }
    };
    let language = Language::from_code(form.value("lang"));
    let typed = Zeroizing::new(form.value("receipt_code").unwrap_or_default().to_owned());
    let opened =
        match open_conversation(&state, language, &typed, Selection::Page { before: None }).await {
            Ok(opened) => opened,
            Err(refused) => return check_page(&state, language, &typed, refused),
        };
    let text = language.text();
    let purpose = match form.value("purpose") {
        Some("evaluation") => meldpunt_crypto::Purpose::Evaluation,
        Some("confirmation") => meldpunt_crypto::Purpose::Confirmation,
        Some("correction") => meldpunt_crypto::Purpose::Correction,
        _ => meldpunt_crypto::Purpose::Message,
    };
    let evaluating = purpose == meldpunt_crypto::Purpose::Evaluation;
    let on_record = matches!(
        purpose,
        meldpunt_crypto::Purpose::Confirmation | meldpunt_crypto::Purpose::Correction
    );
    let posted = Zeroizing::new(form.value("body").unwrap_or_default().to_owned());
    // What the page shows again when refused: the follow-up's text, or the evaluation's.
    let (body, draft) = if evaluating {
        (
            Zeroizing::new(String::new()),
            EvaluationDraft {
                typed: super::questions::typed(&form),
                body: posted.clone(),
            },
        )
    } else {
        (posted.clone(), EvaluationDraft::default())
    };
    let field = if evaluating {
        "evaluation-body"
    } else if on_record {
        "record-body"
    } else {
        "body"
    };
    let mut errors = FieldErrors::default();
    let mut answers = meldpunt_crypto::Answers::none();
    let status = if on_record {
        // A confirmation or correction answers the record of an oral report, with no
        // attachment; a correction says what is wrong.
        form.attachment = None;
        if !is_recorded(&opened) {
            errors.add("body", text.error_record_not_recorded);
            Some(StatusCode::UNPROCESSABLE_ENTITY)
        } else if form.text_too_large {
            errors.add(field, text.error_body_too_long);
            Some(StatusCode::PAYLOAD_TOO_LARGE)
        } else if purpose == meldpunt_crypto::Purpose::Correction && posted.trim().is_empty() {
            errors.add(field, text.error_correction_empty);
            Some(StatusCode::UNPROCESSABLE_ENTITY)
        } else {
            None
        }
    } else if evaluating {
        // An evaluation carries no attachment, and is taken only once the case is closed.
        form.attachment = None;
        match evaluation_questions(&state, &opened) {
            None => {
                errors.add("body", text.error_evaluation_not_closed);
                Some(StatusCode::UNPROCESSABLE_ENTITY)
            }
            Some(_) if form.text_too_large => {
                errors.add(field, text.error_body_too_long);
                Some(StatusCode::PAYLOAD_TOO_LARGE)
            }
            Some(organisation) => {
                match super::questions::read(&organisation, &draft.typed, language, &mut errors) {
                    None => Some(StatusCode::UNPROCESSABLE_ENTITY),
                    Some(given) if given.is_empty() && posted.trim().is_empty() => {
                        errors.add(field, text.error_evaluation_empty);
                        Some(StatusCode::UNPROCESSABLE_ENTITY)
                    }
                    Some(given) => {
                        answers = given;
                        None
                    }
                }
            }
        }
    } else {
        check_attachment(&mut form, language, limit, &mut errors).or(check_body(
            &form,
            language,
            &mut errors,
        ))
    };
    if let Some(status) = status {
        return thread_page(
            &state, language, status, &typed, &opened, &body, &errors, None, &draft,
        );
    }
    if let Err(refusal) = state.form_guard.admit(
        form.value("form_token").unwrap_or_default(),
        now(),
        circuit.map(|Extension(circuit)| circuit),
    ) {
        let (status, message) = refusal_error(language, refusal);
        errors.add(field, message);
        return thread_page(
            &state, language, status, &typed, &opened, &body, &errors, None, &draft,
        );
    }
    match send_follow_up(&state, &opened, form, answers, purpose).await {
        Ok(()) => {
            match open_conversation(&state, language, &typed, Selection::Page { before: None })
                .await
            {
                Ok(reopened) => thread_page(
                    &state,
                    language,
                    StatusCode::CREATED,
                    &typed,
                    &reopened,
                    "",
                    &FieldErrors::default(),
                    Some(match purpose {
                        meldpunt_crypto::Purpose::Evaluation => text.evaluation_sent,
                        meldpunt_crypto::Purpose::Confirmation => text.record_confirmed,
                        meldpunt_crypto::Purpose::Correction => text.record_corrected,
                        _ => text.follow_up_sent,
                    }),
                    &EvaluationDraft::default(),
                ),
                Err(refused) => check_page(&state, language, &typed, refused),
            }
        }
        Err(error) => {
            errors.add(field, format!("{} {error}", text.error_relay));
            thread_page(
                &state,
                language,
                error.status(),
                &typed,
                &opened,
                &body,
                &errors,
                None,
                &draft,
            )
        }
    }
}

/// Seals and stores a follow-up (`purpose`: an ordinary one, or an evaluation with
/// `answers`) written in the form.
async fn send_follow_up(
    state: &AppState,
    opened: &Opened,
    form: PostedForm,
    answers: meldpunt_crypto::Answers,
    purpose: meldpunt_crypto::Purpose,
) -> Result<(), Error> {
    let thread = meldpunt_crypto::Thread::from_check(opened.check.clone())?;
    let keys = thread.seal_keys(&state.directory().directory)?;
    let attachment_keys = keys.clone();
    let prepared =
        tokio::task::spawn_blocking(move || super::report::seal_form(&form, &attachment_keys))
            .await
            .map_err(|_| Error::BadRequest("sealing failed".into()))??;
    let (content, attachment) = prepared;
    let content = content.with_answers(answers).for_purpose(purpose);
    let message = thread.follow_up(&opened.signing, content)?;
    let message = message.seal(&keys)?.into_bytes();
    if let Some((reference, sealed)) = attachment {
        store_sealed_attachment(state, opened.mailbox, &reference, sealed).await?;
    }
    crate::service::append_message(state, opened.mailbox, Author::Reporter, None, message).await?;
    Ok(())
}

/// `POST /check/attachment`: one of the office's attachments, opened in memory.
pub(crate) async fn download(
    State(state): State<Arc<AppState>>,
    uri: Uri,
    circuit: Option<Extension<Circuit>>,
    form: Result<Form<CodeForm>, FormRejection>,
) -> Response {
    let (form, language) = match admitted_code_form(&state, &uri, circuit, form) {
        Ok(admitted) => admitted,
        Err(page) => return *page,
    };
    let Some(position) = form.position.filter(|position| *position > 1) else {
        return super::failure(&state, language, &Error::AttachmentNotFound);
    };
    let opened = match open_conversation(
        &state,
        language,
        &form.receipt_code,
        Selection::One(position),
    )
    .await
    {
        Ok(opened) => opened,
        Err(refused) => return check_page(&state, language, &form.receipt_code, refused),
    };
    let reference = opened
        .messages
        .iter()
        .filter(|(record, _)| record.author == Author::Office)
        .filter_map(|(_, checked)| checked.as_ref().ok())
        .flat_map(|checked| checked.message.attachments.iter())
        .find(|reference| reference.location == form.location)
        .cloned();
    let Some(reference) = reference else {
        return super::failure(&state, language, &Error::AttachmentNotFound);
    };
    match open_attachment(&state, &opened, &reference).await {
        Ok(content) => {
            let disposition = format!(
                "attachment; filename*=UTF-8''{}",
                percent_encoding::utf8_percent_encode(
                    &reference.name,
                    percent_encoding::NON_ALPHANUMERIC
                )
            );
            let mut response = (
                [(header::CONTENT_TYPE, "application/octet-stream")],
                content.to_vec(),
            )
                .into_response();
            if let Ok(value) = HeaderValue::from_str(&disposition) {
                response
                    .headers_mut()
                    .insert(header::CONTENT_DISPOSITION, value);
            }
            response
        }
        Err(error) => super::failure(&state, language, &error),
    }
}

async fn open_attachment(
    state: &AppState,
    opened: &Opened,
    reference: &meldpunt_crypto::AttachmentReference,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let limit = state.settings.web.max_form_attachment_bytes as u64;
    if reference.size > limit {
        return Err(Error::BodyTooLarge { limit });
    }
    let id = *meldpunt_crypto::AttachmentId::from_wire(&reference.location)
        .map_err(|_| Error::BadRequest("malformed attachment id".into()))?
        .as_bytes();
    let record = state
        .store
        .attachment(id)
        .await?
        .filter(|record| record.mailbox == opened.mailbox && record.author == Author::Office)
        .ok_or(Error::AttachmentNotFound)?;
    let mut sealed = Vec::with_capacity(record.size as usize);
    for index in 0..record.chunks {
        let chunk = state
            .store
            .attachment_chunk(id, index)
            .await?
            .ok_or(Error::AttachmentNotFound)?;
        sealed.extend_from_slice(&chunk);
    }
    // Bounded by `max_form_attachment_bytes`: opened in place.
    let mut content = Zeroizing::new(Vec::with_capacity(reference.size as usize));
    reference.open_stream(&opened.reply, &sealed[..], &mut *content)?;
    Ok(content)
}
