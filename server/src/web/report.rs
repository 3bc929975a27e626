//! A report posted without JavaScript: checked, sealed in memory, stored, answered with
//! the receipt code.
//!
//! Order matters: every check (fields, sizes, the form token, the global rate) happens
//! before anything is stored, so a refused form changes nothing. The report is sealed to
//! the chosen recipients and the reporter's reply key exactly as the CLI and the script
//! seal it; the plaintext buffers are zeroized when sealing is done.
//!
//! This module must never write what it seals anywhere but into the sealed object.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use meldpunt_crypto::{
    Answers, AttachmentReference, Content, Conversation, Message, ReceiptCode, RecipientAddress,
    RecipientKey,
};
use zeroize::Zeroizing;

use super::forms::{self, PostedForm, Upload};
use super::guard::Refusal;
use super::pages::{self, FieldErrors, ReportForm};
use super::text::Language;
use super::{frame, now, page};
use crate::circuit::Circuit;
use crate::error::Error;
use crate::service;
use crate::state::AppState;
use crate::storage::Author;

/// What the reporter filled in so far, to show again when the form is refused.
#[derive(Default)]
pub(crate) struct Draft {
    /// The chosen organisation.
    pub organisation: Option<String>,
    /// The chosen recipients (`organisation/recipient`).
    pub recipients: Vec<String>,
    /// The text.
    pub body: Zeroizing<String>,
    /// A report or a consultation.
    pub conversation: Conversation,
    /// For a report made from a consultation: that consultation's receipt code as typed.
    pub consultation_code: Option<Zeroizing<String>>,
    /// Whether to carry that consultation along.
    pub carry: bool,
    /// The questionnaire's fields as posted.
    pub answers: super::questions::TypedAnswers,
}

impl std::fmt::Debug for Draft {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Draft")
            .field("conversation", &self.conversation)
            .field("carry", &self.carry)
            .finish_non_exhaustive()
    }
}

/// The report form with a fresh form token.
pub(crate) fn form_page(
    state: &AppState,
    language: Language,
    status: StatusCode,
    draft: &Draft,
    errors: &FieldErrors,
) -> Response {
    let token = state.form_guard.issue(now());
    page(
        status,
        pages::report_form(
            &frame(
                state,
                language,
                match draft.conversation {
                    Conversation::Report => "/report",
                    Conversation::Consultation => "/ask",
                },
            ),
            &ReportForm {
                directory: &state.directory().directory,
                conversation: draft.conversation,
                consultation_code: draft.consultation_code.as_deref().map(String::as_str),
                carry: draft.carry,
                form_token: &token,
                organisation: draft.organisation.as_deref(),
                recipients: &draft.recipients,
                body: &draft.body,
                answers: &draft.answers,
                max_attachment: state.settings.web.max_form_attachment_bytes,
                errors,
            },
        ),
    )
}

/// The field errors of a refused form token.
pub(crate) fn refusal_error(language: Language, refusal: Refusal) -> (StatusCode, &'static str) {
    let text = language.text();
    match refusal {
        Refusal::Expired => (StatusCode::BAD_REQUEST, text.error_form_expired),
        Refusal::TooFast => (StatusCode::TOO_MANY_REQUESTS, text.error_form_too_fast),
        Refusal::Busy => (StatusCode::TOO_MANY_REQUESTS, text.error_busy),
    }
}

/// The errors for a form refused at its first field: its text was not read, so the page
/// cannot show it again, and says where it still is.
pub(crate) fn unread_errors(language: Language, refusal: Refusal) -> FieldErrors {
    let text = language.text();
    let mut errors = FieldErrors::default();
    errors.add(
        "body",
        format!(
            "{} {}",
            refusal_error(language, refusal).1,
            text.error_text_not_kept
        ),
    );
    errors
}

/// Checks the text of a report or follow-up, adding errors; returns the status to answer
/// with if there was one.
pub(crate) fn check_body(
    form: &PostedForm,
    language: Language,
    errors: &mut FieldErrors,
) -> Option<StatusCode> {
    let text = language.text();
    let body = form.value("body").unwrap_or_default();
    if form.text_too_large || body.len() > meldpunt_crypto::MAXIMUM_BODY_LENGTH {
        errors.add("body", text.error_body_too_long);
        Some(StatusCode::PAYLOAD_TOO_LARGE)
    } else if body.trim().is_empty() {
        errors.add("body", text.error_empty_body);
        Some(StatusCode::UNPROCESSABLE_ENTITY)
    } else {
        None
    }
}

/// Checks the attachment and readies it for sealing in place — its name reduced to a base
/// name, a photo's metadata removed — adding errors; returns the status to answer with if
/// needed.
pub(crate) fn check_attachment(
    form: &mut PostedForm,
    language: Language,
    limit: usize,
    errors: &mut FieldErrors,
) -> Option<StatusCode> {
    use meldpunt_metadata::Kind;
    let text = language.text();
    if form.attachment_too_large {
        errors.add(
            "attachment",
            format!("{} ({} MiB)", text.error_attachment_too_large, limit >> 20),
        );
        return Some(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let upload = form.attachment.as_mut()?;
    let Some(name) = forms::attachment_name(&upload.name) else {
        errors.add("attachment", text.error_attachment_name);
        return Some(StatusCode::UNPROCESSABLE_ENTITY);
    };
    upload.name = name;
    let cleaned = match meldpunt_metadata::kind(&upload.content, &upload.name) {
        kind @ (Kind::Jpeg | Kind::Png) => meldpunt_metadata::strip(kind, &upload.content),
        Kind::MisnamedImage => None,
        Kind::Other => return None,
    };
    match cleaned {
        Some(cleaned) => {
            upload.content = cleaned;
            None
        }
        None => {
            errors.add("attachment", text.error_attachment_image);
            Some(StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

/// An attachment sealed in memory: its reference and its sealed bytes.
pub(super) type SealedAttachment = (AttachmentReference, Vec<u8>);

/// What a posted form says (its text, today, and its attachment sealed to `keys`), and the
/// sealed attachment to store.
pub(super) fn seal_form(
    form: &PostedForm,
    keys: &[RecipientKey],
) -> Result<(Content, Option<SealedAttachment>), Error> {
    let attachment = form
        .attachment
        .as_ref()
        .map(|upload| seal_attachment(keys, upload))
        .transpose()?;
    let content = Content {
        purpose: Default::default(),
        answers: Default::default(),
        written_on: today(),
        body: Zeroizing::new(form.value("body").unwrap_or_default().to_owned()),
        attachments: attachment
            .iter()
            .map(|(reference, _)| reference.clone())
            .collect(),
    };
    Ok((content, attachment))
}

/// Seals an attachment, readied by [`check_attachment`], in memory; returns its reference
/// and sealed bytes.
pub(crate) fn seal_attachment(
    keys: &[RecipientKey],
    upload: &Upload,
) -> Result<(AttachmentReference, Vec<u8>), Error> {
    let (reference, sealed) = AttachmentReference::seal_stream(
        keys,
        &upload.name,
        &meldpunt_crypto::AttachmentId::generate().to_wire(),
        &upload.content[..],
        upload.content.len() as u64,
        Vec::new(),
    )?;
    Ok((reference, sealed))
}

/// Stores a sealed attachment under its reference's location.
pub(crate) async fn store_sealed_attachment(
    state: &AppState,
    mailbox: [u8; 32],
    reference: &AttachmentReference,
    sealed: Vec<u8>,
) -> Result<(), Error> {
    let id = meldpunt_crypto::AttachmentId::from_wire(&reference.location)
        .map_err(|_| Error::BadRequest("malformed attachment id".into()))?;
    service::store_attachment(
        state,
        *id.as_bytes(),
        mailbox,
        Author::Reporter,
        None,
        Some(sealed.len() as u64),
        Body::from(sealed),
    )
    .await
    .map(|_| ())
}

pub(crate) use crate::clock::today;

/// `POST /report`.
pub(crate) async fn submit(
    State(state): State<Arc<AppState>>,
    uri: axum::http::Uri,
    circuit: Option<axum::Extension<Circuit>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let language = super::language(&uri);
    let malformed = |language: Language| {
        let mut errors = FieldErrors::default();
        errors.add("body", language.text().error_form_malformed);
        form_page(
            &state,
            language,
            StatusCode::BAD_REQUEST,
            &Draft::default(),
            &errors,
        )
    };
    let Ok(multipart) = multipart else {
        return malformed(language);
    };
    let limits = &state.settings.web;
    let read = forms::read(
        multipart,
        meldpunt_crypto::MAXIMUM_BODY_LENGTH + 1,
        limits.max_form_attachment_bytes,
        |token| state.form_guard.precheck(token, now()),
    )
    .await;
    let mut form = match read {
        Ok(form) => form,
        Err(forms::Unread::Malformed) => return malformed(language),
        Err(forms::Unread::Refused(refusal)) => {
            return form_page(
                &state,
                language,
                refusal_error(language, refusal).0,
                &Draft::default(),
                &unread_errors(language, refusal),
            )
        }
    };
    let language = Language::from_code(form.value("lang"));
    let text = language.text();
    let conversation = match form.value("conversation") {
        Some("consultation") => Conversation::Consultation,
        _ => Conversation::Report,
    };
    let draft = Draft {
        organisation: form.value("organisation").map(str::to_owned),
        recipients: form.values("recipient"),
        body: Zeroizing::new(form.value("body").unwrap_or_default().to_owned()),
        conversation,
        consultation_code: form
            .value("consultation_code")
            .filter(|_| conversation == Conversation::Report)
            .map(|code| Zeroizing::new(code.to_owned())),
        carry: form.value("carry") == Some("1"),
        answers: super::questions::typed(&form),
    };

    let mut errors = FieldErrors::default();
    let mut status = None;
    let directory = &state.directory().directory;
    let organisation = draft
        .organisation
        .as_deref()
        .and_then(|id| directory.organisation(id));
    if organisation.is_none() {
        errors.add("organisation", text.error_no_organisation);
        status = Some(StatusCode::UNPROCESSABLE_ENTITY);
    }
    let mut addresses = Vec::new();
    if let Some(organisation) = organisation {
        for chosen in &draft.recipients {
            let address =
                chosen
                    .split_once('/')
                    .map(|(organisation, recipient)| RecipientAddress {
                        organisation: organisation.to_owned(),
                        recipient: recipient.to_owned(),
                    });
            match address {
                Some(address)
                    if address.organisation == organisation.id
                        && directory.recipient(&address).is_ok() =>
                {
                    addresses.push(address)
                }
                _ => {}
            }
        }
        let not_advisers = conversation == Conversation::Consultation
            && addresses.iter().any(|address| {
                directory
                    .recipient(address)
                    .is_ok_and(|recipient| !recipient.role.is_confidential_adviser())
            });
        if not_advisers {
            errors.add("recipients", text.error_not_adviser);
            status = status.or(Some(StatusCode::UNPROCESSABLE_ENTITY));
        } else if addresses.is_empty() {
            errors.add("recipients", text.error_no_recipient);
            status = status.or(Some(StatusCode::UNPROCESSABLE_ENTITY));
        }
    }
    let answers = match organisation {
        Some(organisation) if conversation == Conversation::Report => {
            let answers =
                super::questions::read(organisation, &draft.answers, language, &mut errors);
            if answers.is_none() {
                status = status.or(Some(StatusCode::UNPROCESSABLE_ENTITY));
            }
            answers
        }
        _ => None,
    };
    status = check_body(&form, language, &mut errors).or(status);
    status = check_attachment(
        &mut form,
        language,
        limits.max_form_attachment_bytes,
        &mut errors,
    )
    .or(status);
    if let Some(status) = status {
        return form_page(&state, language, status, &draft, &errors);
    }
    if let Err(refusal) = state.form_guard.admit(
        form.value("form_token").unwrap_or_default(),
        now(),
        circuit.map(|axum::Extension(circuit)| circuit),
    ) {
        let (status, message) = refusal_error(language, refusal);
        errors.add("body", message);
        return form_page(&state, language, status, &draft, &errors);
    }

    // The consultation to carry along, read with its code now (after the form token was
    // admitted, as a read of the conversation would be).
    let carried = match (&draft.consultation_code, draft.carry) {
        (Some(typed), true) => {
            match super::conversation::consultation_to_carry(&state, language, typed).await {
                Ok(carried) => Some(carried),
                Err((status, message)) => {
                    errors.add("carry", message);
                    return form_page(&state, language, status, &draft, &errors);
                }
            }
        }
        _ => None,
    };
    let organisation_id = organisation
        .map(|found| found.id.clone())
        .unwrap_or_default();
    let named: Vec<String> = addresses
        .iter()
        .map(|address| address.recipient.clone())
        .collect();
    let recipients = match service::addressed_recipients(&state, &organisation_id, &named) {
        Ok(recipients) => recipients,
        Err(error) => return super::failure(&state, language, &error),
    };
    let keys = match directory.keys_for(&addresses) {
        Ok(keys) => keys,
        Err(error) => return super::failure(&state, language, &Error::from(error)),
    };
    let sealed = tokio::task::spawn_blocking(move || {
        seal_report(
            keys,
            addresses,
            conversation,
            carried,
            answers.unwrap_or_default(),
            form,
        )
    })
    .await;
    let (code, sealed_report, attachment) = match sealed {
        Ok(Ok(sealed)) => sealed,
        Ok(Err(Error::Crypto(meldpunt_crypto::Error::TooLarge { .. })))
            if draft.carry && draft.consultation_code.is_some() =>
        {
            errors.add("carry", text.error_carry_too_long);
            return form_page(
                &state,
                language,
                StatusCode::PAYLOAD_TOO_LARGE,
                &draft,
                &errors,
            );
        }
        Ok(Err(error)) => return super::failure(&state, language, &error),
        Err(_) => {
            return super::failure(
                &state,
                language,
                &Error::BadRequest("sealing failed".into()),
            )
        }
    };
    let mailbox = *code.mailbox_token().mailbox_id().as_bytes();
    if let Err(error) = service::create_mailbox(
        &state,
        mailbox,
        organisation_id,
        recipients,
        sealed_report,
        None,
    )
    .await
    {
        let mut errors = FieldErrors::default();
        errors.add("body", format!("{} {error}", text.error_relay));
        return form_page(&state, language, error.status(), &draft, &errors);
    }

    // From here on the report exists: the receipt code must be shown whatever happens next.
    let mut notes = Vec::new();
    if let Some((reference, sealed)) = attachment {
        if let Err(error) = store_sealed_attachment(&state, mailbox, &reference, sealed).await {
            notes.push(format!("{} {error} ({})", text.error_relay, reference.name));
        }
    }
    let written = code.to_written_form();
    page(
        StatusCode::CREATED,
        pages::receipt(
            &frame(&state, language, "/report"),
            conversation,
            &written,
            &notes,
        ),
    )
}

type SealedReport = (ReceiptCode, Vec<u8>, Option<(AttachmentReference, Vec<u8>)>);

/// Seals the report (and its attachment) to the recipients and a new receipt code's reply
/// key. `form`, with the plaintext, is dropped (zeroized) here.
fn seal_report(
    mut keys: Vec<RecipientKey>,
    addresses: Vec<RecipientAddress>,
    conversation: Conversation,
    carried: Option<(ReceiptCode, Vec<Message>)>,
    answers: Answers,
    form: PostedForm,
) -> Result<SealedReport, Error> {
    let code = ReceiptCode::generate();
    let reply = code.reply_identity();
    keys.push(reply.recipient());
    let (content, attachment) = seal_form(&form, &keys)?;
    let content = content.with_answers(answers);
    let message = match carried {
        None => Message::opening(&code, addresses, conversation, content),
        Some((consultation_code, messages)) => Message::report_after_consultation(
            &code,
            addresses,
            content,
            &consultation_code,
            messages,
        )?,
    };
    let sealed = message.seal(&keys)?.into_bytes();
    Ok((code, sealed, attachment))
}
