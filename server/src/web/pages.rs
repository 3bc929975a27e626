//! The HTML of the web form, rendered on the server with maud: every page works without
//! JavaScript; the script in `web/` only takes over the forms when it can run.
//!
//! Pages load nothing from elsewhere (one stylesheet and one script, both from this relay),
//! carry no inline script or style (the Content-Security-Policy forbids them), and tie every
//! error message to its field (`aria-describedby`, `aria-invalid`) with a summary at the top
//! that links to the fields.
//!
//! This module must never put a secret anywhere but the page it answers with: no log line,
//! no URL (receipt codes travel only in POST bodies and hidden fields).

use maud::{html, Markup, PreEscaped, DOCTYPE};
use meldpunt_crypto::{Conversation, Directory, Role};

use super::text::{Language, Text};

/// What every page needs besides its content.
#[derive(Debug)]
pub(crate) struct Frame<'a> {
    /// The language of the page.
    pub language: Language,
    /// The path the language switch links to (the same page in the other language).
    pub path: &'a str,
    /// The directory key the script verifies the directory against.
    pub directory_key: &'a str,
    /// The directory version (and hash) the script checks the served one continues.
    pub directory_pin: Option<(u64, meldpunt_crypto::DirectoryHash)>,
    /// The largest attachment the relay takes from the script, bytes.
    pub max_script_attachment: u64,
}

/// Error messages by field id, in page order.
#[derive(Debug, Default)]
pub(crate) struct FieldErrors(pub Vec<(std::borrow::Cow<'static, str>, String)>);

impl FieldErrors {
    /// Adds a message for a field.
    pub(crate) fn add(
        &mut self,
        field: impl Into<std::borrow::Cow<'static, str>>,
        message: impl Into<String>,
    ) {
        self.0.push((field.into(), message.into()));
    }

    /// Whether there is none.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(super) fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, message)| message.as_str())
    }
}

/// The whole page around `content`.
pub(crate) fn layout(frame: &Frame<'_>, title: &str, content: Markup) -> Markup {
    let text = frame.language.text();
    let query = frame.language.query();
    let other = frame.language.other();
    html! {
        (DOCTYPE)
        html lang=(frame.language.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " — " (text.site_name) }
                link rel="stylesheet" href="/static/meldpunt.css";
                script src="/static/meldpunt.js" defer {}
            }
            body data-directory-key=(frame.directory_key)
                data-directory-version=[frame.directory_pin.map(|(version, _)| version)]
                data-directory-hash=[frame.directory_pin.map(|(_, hash)| hash.to_wire())]
                data-language=(frame.language.code())
                data-max-attachment=(frame.max_script_attachment) {
                a class="skip" href="#content" { (text.skip_to_content) }
                header {
                    nav aria-label=(text.navigation_label) {
                        a class="brand" href={ "/" (query) } { (text.site_name) }
                        a href={ "/report" (query) } { (text.start_report_button) }
                        a href={ "/check" (query) } { (text.check_title) }
                        a href={ (frame.path) (other.query()) } lang=(other.code()) hreflang=(other.code()) {
                            (text.switch_language)
                        }
                    }
                }
                main id="content" tabindex="-1" {
                    (content)
                }
                footer { p { (text.footer) } }
                script type="application/json" id="meldpunt-text" {
                    (PreEscaped(script_text(text)))
                }
            }
        }
    }
}

/// The strings the script needs, as JSON safe inside a `<script>` element.
fn script_text(text: &Text) -> String {
    let value = serde_json::json!({
        "modeScript": text.mode_script,
        "working": text.working,
        "workingStamp": text.working_stamp,
        "receiptTitle": text.receipt_title,
        "receiptLead": text.receipt_lead,
        "receiptCodeLabel": text.receipt_code_label,
        "receiptWarning": text.receipt_warning,
        "receiptNext": text.receipt_next,
        "checkTitle": text.check_title,
        "threadTitle": text.thread_title,
        "threadYou": text.thread_you,
        "threadYouFollowUp": text.thread_you_follow_up,
        "threadIdentityShared": text.thread_identity_shared,
        "threadAcknowledgement": text.thread_acknowledgement,
        "threadWritten": text.thread_written,
        "threadNoReply": text.thread_no_reply,
        "threadDownload": text.thread_download,
        "followUpTitle": text.follow_up_title,
        "followUpBody": text.follow_up_body,
        "followUpSubmit": text.follow_up_submit,
        "followUpSent": text.follow_up_sent,
        "bodyHint": text.report_body_hint,
        "attachmentLabel": text.report_attachment,
        "modeScriptCheck": text.mode_script_check,
        "errorSummary": text.error_summary,
        "errorEmptyBody": text.error_empty_body,
        "errorBodyTooLong": text.error_body_too_long,
        "errorNoOrganisation": text.error_no_organisation,
        "errorNoRecipient": text.error_no_recipient,
        "errorAttachmentTooLarge": text.error_attachment_too_large,
        "errorCodeLength": text.error_code_length,
        "errorCodeCharacter": text.error_code_character,
        "errorCodeChecksum": text.error_code_checksum,
        "errorCodeChecksumGroup": text.error_code_checksum_group,
        "errorCodeUnknown": text.error_code_unknown,
        "errorDirectory": text.error_directory,
        "errorRelay": text.error_relay,
        "errorTampered": text.error_tampered,
        "askReceiptTitle": text.ask_receipt_title,
        "askReceiptLead": text.ask_receipt_lead,
        "errorNotAdviser": text.error_not_adviser,
        "threadConsultationTitle": text.thread_consultation_title,
        "threadConsultationNote": text.thread_consultation_note,
        "threadYouQuestion": text.thread_you_question,
        "threadCarried": text.thread_carried,
        "convertTitle": text.convert_title,
        "convertLead": text.convert_lead,
        "convertCarry": text.convert_carry,
        "convertCarryHint": text.convert_carry_hint,
        "errorCarryTooLong": text.error_carry_too_long,
        "errorCarryNotConsultation": text.error_carry_not_consultation,
        "reportOrganisation": text.report_organisation,
        "reportRecipients": text.report_recipients,
        "reportRecipientsHint": text.report_recipients_hint,
        "reportBody": text.report_body,
        "reportSubmit": text.report_submit,
    });
    // A second object (one json! call of every key would pass the macro's recursion limit).
    let more = serde_json::json!({
        "threadAnswers": text.thread_answers,
        "threadClosing": text.thread_closing,
        "threadYouEvaluation": text.thread_you_evaluation,
        "evaluationTitle": text.evaluation_title,
        "evaluationLead": text.evaluation_lead,
        "evaluationBody": text.evaluation_body,
        "evaluationSubmit": text.evaluation_submit,
        "evaluationSent": text.evaluation_sent,
        "errorEvaluationEmpty": text.error_evaluation_empty,
        "defaultEvaluation": meldpunt_crypto::default_evaluation_questions(),
        "threadRecord": text.thread_record,
        "threadYouConfirmation": text.thread_you_confirmation,
        "threadYouCorrection": text.thread_you_correction,
        "recordTitle": text.record_title,
        "recordUnverified": text.record_unverified,
        "recordLead": text.record_lead,
        "recordTelephone": text.record_telephone,
        "recordMeeting": text.record_meeting,
        "recordQuestion": text.record_question,
        "recordAgree": text.record_agree,
        "recordCorrect": text.record_correct,
        "recordBody": text.record_body,
        "recordSubmit": text.record_submit,
        "recordConfirmed": text.record_confirmed,
        "recordCorrected": text.record_corrected,
        "errorCorrectionEmpty": text.error_correction_empty,
        "answerProblems": {
            "required": text.error_answer_required,
            "unknown-question": text.error_answer_required,
            "not-an-option": text.error_answer_not_option,
            "not-a-date": text.error_answer_not_date,
            "not-a-period": text.error_answer_not_period,
            "period-reversed": text.error_answer_period_reversed,
            "too-long": text.error_answer_too_long,
            "control-characters": text.error_answer_one_line,
            "not-yes-no": text.error_answer_yes_no,
        },
    });
    let mut value = value;
    if let (Some(all), serde_json::Value::Object(more)) = (value.as_object_mut(), more) {
        all.extend(more);
    }
    // `<` never appears unescaped, so no `</script>` can end the element early.
    value.to_string().replace('<', "\\u003c")
}

fn error_summary(text: &Text, errors: &FieldErrors) -> Markup {
    html! {
        div class="error-summary" id="error-summary" role="alert" tabindex="-1" hidden[errors.is_empty()] {
            h2 { (text.error_summary) }
            ul {
                @for (field, message) in &errors.0 {
                    li { a href={ "#" (field) } { (message) } }
                }
            }
        }
    }
}

pub(super) fn field_error(errors: &FieldErrors, field: &str) -> Markup {
    html! {
        @if let Some(message) = errors.get(field) {
            p class="field-error" id={ (field) "-error" } { (message) }
        }
    }
}

pub(super) fn described_by(errors: &FieldErrors, field: &str) -> String {
    if errors.get(field).is_some() {
        format!("{field}-hint {field}-error")
    } else {
        format!("{field}-hint")
    }
}

fn role_name(role: Role, language: Language) -> &'static str {
    match (role, language) {
        (Role::IntegrityOffice, Language::Dutch) => "integriteitsbureau",
        (Role::IntegrityOffice, Language::English) => "integrity office",
        (Role::InternalConfidentialAdviser, Language::Dutch) => "interne vertrouwenspersoon",
        (Role::InternalConfidentialAdviser, Language::English) => "internal confidential adviser",
        (Role::ExternalConfidentialAdviser, Language::Dutch) => "externe vertrouwenspersoon",
        (Role::ExternalConfidentialAdviser, Language::English) => "external confidential adviser",
        (Role::ProcessGuide, Language::Dutch) => "procesbegeleider",
        (Role::ProcessGuide, Language::English) => "process guide",
    }
}

pub(super) fn localised(name: &meldpunt_crypto::LocalisedName, language: Language) -> &str {
    match language {
        Language::Dutch => &name.nl,
        Language::English => &name.en,
    }
}

/// The start page.
pub(crate) fn start(frame: &Frame<'_>, directory: &Directory) -> Markup {
    let language = frame.language;
    let text = language.text();
    let query = language.query();
    layout(
        frame,
        text.start_title,
        html! {
            h1 { (text.start_title) }
            p class="lead" { (text.start_lead) }
            p class="actions" {
                a class="button" href={ "/report" (query) } { (text.start_report_button) }
                a class="button" href={ "/ask" (query) } { (text.start_ask_button) }
                a class="button secondary" href={ "/check" (query) } { (text.start_check_button) }
            }
            p { (text.start_ask_lead) }
            h2 { (text.start_recipients_heading) }
            ul {
                @for organisation in &directory.organisations {
                    li {
                        strong { (localised(&organisation.name, language)) }
                        ul {
                            @for recipient in &organisation.recipients {
                                li { (localised(&recipient.name, language)) " (" (role_name(recipient.role, language)) ")" }
                            }
                        }
                    }
                }
            }
            @if directory.organisations.iter().any(|organisation| !organisation.channels.is_empty()) {
                section id="channels" {
                    h2 { (text.channels_title) }
                    p { (text.channels_lead) }
                    @for organisation in &directory.organisations {
                        @let advisers: Vec<_> = organisation.recipients.iter().filter(|recipient| recipient.role.is_confidential_adviser()).collect();
                        @if !organisation.channels.is_empty() || !advisers.is_empty() {
                            h3 { (localised(&organisation.name, language)) }
                            dl class="channels" {
                                @for adviser in &advisers {
                                    dt { (localised(&adviser.name, language)) " (" (role_name(adviser.role, language)) ")" }
                                    dd { (text.start_ask_lead) " " a href={ "/ask" (query) } { (text.start_ask_button) } }
                                }
                                @for channel in &organisation.channels {
                                    dt { (localised(&channel.name, language)) }
                                    dd { (localised(&channel.purpose, language)) br; span class="contact" { (channel.contact) } }
                                }
                            }
                        }
                    }
                }
            }
            h2 { (text.start_how_heading) }
            ul { @for line in text.start_how { li { (line) } } }
            h2 { (text.start_protect_heading) }
            ul { @for line in text.start_protect { li { (line) } } }
        },
    )
}

/// What the report form shows: the choices and text so far, and any errors.
pub(crate) struct ReportForm<'a> {
    /// The directory to choose from.
    pub directory: &'a Directory,
    /// A report, or a consultation (then only confidential advisers are offered).
    pub conversation: Conversation,
    /// For a report made from a consultation: the consultation's receipt code as typed
    /// (carried in a hidden field, never a URL), and whether to carry the consultation.
    pub consultation_code: Option<&'a str>,
    /// Whether the reporter chose to carry the consultation along.
    pub carry: bool,
    /// A fresh form token.
    pub form_token: &'a str,
    /// The organisation chosen so far.
    pub organisation: Option<&'a str>,
    /// The recipients chosen so far (`organisation/recipient`).
    pub recipients: &'a [String],
    /// The text so far.
    pub body: &'a str,
    /// The largest attachment without JavaScript, bytes.
    pub max_attachment: usize,
    /// The answers typed so far (form field name, value), to show again.
    pub answers: &'a [(String, zeroize::Zeroizing<String>)],
    /// Errors to show.
    pub errors: &'a FieldErrors,
}

fn size_text(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{} KiB", (bytes >> 10).max(1))
    }
}

/// The text field, the attachment field and the status line of the report and follow-up
/// forms, with their hints and errors.
fn text_and_attachment(
    text: &Text,
    errors: &FieldErrors,
    label: &str,
    rows: u32,
    body: &str,
    max_attachment: usize,
) -> Markup {
    html! {
        label for="body" { (label) }
        p class="hint" id="body-hint" { (text.report_body_hint) }
        (field_error(errors, "body"))
        textarea id="body" name="body" rows=(rows) aria-describedby=(described_by(errors, "body"))
            aria-invalid=[errors.get("body").map(|_| "true")] spellcheck="true" { (body) }
        label for="attachment" { (text.report_attachment) }
        p class="hint" id="attachment-hint" { (text.report_attachment_hint) " " (size_text(max_attachment as u64)) "." }
        (field_error(errors, "attachment"))
        input type="file" id="attachment" name="attachment" aria-describedby=(described_by(errors, "attachment"))
            aria-invalid=[errors.get("attachment").map(|_| "true")];
        p class="status" id="status" role="status" aria-live="polite" {}
    }
}

impl std::fmt::Debug for ReportForm<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ReportForm")
            .field("conversation", &self.conversation)
            .field("carry", &self.carry)
            .finish_non_exhaustive()
    }
}

/// The report form, or the form that asks a confidential adviser.
pub(crate) fn report_form(frame: &Frame<'_>, form: &ReportForm<'_>) -> Markup {
    let language = frame.language;
    let text = language.text();
    let title = match form.conversation {
        Conversation::Report => text.report_title,
        Conversation::Consultation => text.ask_title,
    };
    layout(
        frame,
        title,
        html! {
            h1 { (title) }
            p class="mode" id="mode" data-mode="no-script" { (text.mode_no_script) }
            (error_summary(text, form.errors))
            (report_fields_form(language, form))
        },
    )
}

/// The form of a report or a consultation (on its own page, or under a consultation to
/// turn it into a report).
fn report_fields_form(language: Language, form: &ReportForm<'_>) -> Markup {
    let text = language.text();
    let errors = form.errors;
    let consultation = form.conversation == Conversation::Consultation;
    let offered = |role: Role| !consultation || role.is_confidential_adviser();
    let organisations: Vec<_> = form
        .directory
        .organisations
        .iter()
        .filter(|organisation| {
            organisation
                .recipients
                .iter()
                .any(|recipient| offered(recipient.role))
        })
        .collect();
    let single = organisations.len() == 1;
    html! {
        form id="report-form" method="post" action={ "/report" (language.query()) }
            enctype="multipart/form-data" data-conversation=(form.conversation.as_str()) {
            input type="hidden" name="form_token" value=(form.form_token);
            input type="hidden" name="lang" value=(language.code());
            input type="hidden" name="conversation" value=(form.conversation.as_str());
            @if let Some(code) = form.consultation_code {
                input type="hidden" name="consultation_code" value=(code);
            }
            p { (if consultation { text.ask_lead } else if form.consultation_code.is_some() { text.convert_lead } else { text.report_lead }) }
            fieldset id="organisation" aria-describedby=[errors.get("organisation").map(|_| "organisation-error")] {
                legend { (text.report_organisation) }
                (field_error(errors, "organisation"))
                @for organisation in &organisations {
                    div class="choice" {
                        input type="radio" name="organisation" id={ "organisation-" (organisation.id) }
                            value=(organisation.id)
                            checked[single || form.organisation == Some(organisation.id.as_str())];
                        label for={ "organisation-" (organisation.id) } { (localised(&organisation.name, language)) }
                    }
                }
            }
            fieldset id="recipients" aria-describedby=(described_by(errors, "recipients")) {
                legend { (text.report_recipients) }
                p class="hint" id="recipients-hint" { (if consultation { text.ask_recipients_hint } else { text.report_recipients_hint }) }
                (field_error(errors, "recipients"))
                @for organisation in &organisations {
                    @if !single { p class="group" { (localised(&organisation.name, language)) } }
                    @for recipient in organisation.recipients.iter().filter(|recipient| offered(recipient.role)) {
                        @let value = format!("{}/{}", organisation.id, recipient.id);
                        @let checked = if form.recipients.is_empty() {
                            recipient.role == Role::IntegrityOffice || consultation
                        } else {
                            form.recipients.contains(&value)
                        };
                        div class="choice" {
                            input type="checkbox" name="recipient" id={ "recipient-" (organisation.id) "-" (recipient.id) }
                                value=(value) checked[checked];
                            label for={ "recipient-" (organisation.id) "-" (recipient.id) } {
                                (localised(&recipient.name, language)) " (" (role_name(recipient.role, language)) ")"
                            }
                        }
                    }
                }
            }
            @if form.consultation_code.is_some() {
                fieldset id="carry" aria-describedby=(described_by(errors, "carry")) {
                    legend { (text.convert_title) }
                    p class="hint" id="carry-hint" { (text.convert_carry_hint) }
                    (field_error(errors, "carry"))
                    div class="choice" {
                        input type="checkbox" name="carry" id="carry-consultation" value="1" checked[form.carry];
                        label for="carry-consultation" { (text.convert_carry) }
                    }
                }
            }
            @if !consultation {
                @for organisation in organisations.iter().filter(|organisation| !organisation.questions.is_empty()) {
                    (super::questions::fieldset(language, organisation, !single, form.answers, errors))
                }
            }
            (text_and_attachment(text, errors, if consultation { text.ask_body } else { text.report_body }, 14, form.body, form.max_attachment))
            button type="submit" { (if consultation { text.ask_submit } else { text.report_submit }) }
        }
    }
}

/// The receipt page: the code, once, large.
pub(crate) fn receipt(
    frame: &Frame<'_>,
    conversation: Conversation,
    code: &str,
    notes: &[String],
) -> Markup {
    let language = frame.language;
    let text = language.text();
    let (title, lead) = match conversation {
        Conversation::Report => (text.receipt_title, text.receipt_lead),
        Conversation::Consultation => (text.ask_receipt_title, text.ask_receipt_lead),
    };
    layout(
        frame,
        title,
        html! {
            h1 { (title) }
            p { (lead) }
            p class="receipt-code" id="receipt-code" aria-label=(text.receipt_code_label) { (code) }
            ul class="warning" { @for line in text.receipt_warning { li { (line) } } }
            @for note in notes { p class="field-error" { (note) } }
            p { (text.receipt_next) }
            p { a href={ "/check" (language.query()) } { (text.start_check_button) } }
        },
    )
}

/// The form that asks for a receipt code.
pub(crate) fn check_form(
    frame: &Frame<'_>,
    typed: &str,
    errors: &FieldErrors,
    form_token: &str,
) -> Markup {
    let language = frame.language;
    let text = language.text();
    layout(
        frame,
        text.check_title,
        html! {
            h1 { (text.check_title) }
            p class="mode" id="mode" data-mode="no-script" { (text.mode_no_script_check) }
            (error_summary(text, errors))
            form id="check-form" method="post" action={ "/check" (language.query()) } {
                input type="hidden" name="form_token" value=(form_token);
                input type="hidden" name="lang" value=(language.code());
                p { (text.check_lead) }
                label for="receipt_code" { (text.check_code) }
                p class="hint" id="receipt_code-hint" { (text.check_code_hint) }
                (field_error(errors, "receipt_code"))
                input type="text" id="receipt_code" name="receipt_code" value=(typed)
                    autocomplete="off" autocapitalize="characters" spellcheck="false"
                    aria-describedby=(described_by(errors, "receipt_code"))
                    aria-invalid=[errors.get("receipt_code").map(|_| "true")];
                p class="status" id="status" role="status" aria-live="polite" {}
                button type="submit" { (text.check_submit) }
            }
        },
    )
}

/// One message of a conversation, opened.
#[derive(Debug)]
pub(crate) struct ThreadEntry {
    /// Its position in the mailbox.
    pub position: u32,
    /// Who wrote it, for display.
    pub author: String,
    /// Whether the office wrote it (its attachments can be downloaded).
    pub from_office: bool,
    /// Whether it could not be opened or verified (then `body` says why, never what).
    pub unreadable: bool,
    /// Earlier messages of its author that never arrived (withheld by the relay).
    pub missing_before: u32,
    /// The day it was written.
    pub written_on: String,
    /// The text.
    pub body: zeroize::Zeroizing<String>,
    /// Attachments: name, size, location.
    pub attachments: Vec<(String, u64, String)>,
    /// Answers to the questionnaire: question and answer, as shown.
    pub answers: Vec<(String, zeroize::Zeroizing<String>)>,
}

/// A typed answer as posted: form field name and value.
pub(crate) type TypedAnswer = (String, zeroize::Zeroizing<String>);

/// A conversation and the follow-up form.
pub(crate) struct Thread<'a> {
    /// The receipt code as typed (carried in hidden fields, never in a URL).
    pub code: &'a str,
    /// The messages.
    pub entries: &'a [ThreadEntry],
    /// A fresh form token for the follow-up form.
    pub form_token: &'a str,
    /// Issues a fresh form token (each download and the older-messages button needs one).
    pub issue_token: &'a dyn Fn() -> String,
    /// The first position shown when older messages are not: the button for them asks for
    /// the messages before it.
    pub older: Option<u32>,
    /// Follow-up text so far.
    pub body: &'a str,
    /// Errors of the follow-up form.
    pub errors: &'a FieldErrors,
    /// A confirmation to show.
    pub notice: Option<&'a str>,
    /// The largest attachment without JavaScript, bytes.
    pub max_attachment: usize,
    /// What the conversation is for (a consultation offers to turn it into a report).
    pub conversation: Conversation,
    /// The organisation the conversation went to (the report form preselects it).
    pub organisation: Option<&'a str>,
    /// Once the office closed the case: the organisation with its evaluation questions (as
    /// its questionnaire), for the evaluation form; with the answers typed so far.
    pub evaluation: Option<(&'a meldpunt_crypto::Organisation, &'a [TypedAnswer])>,
    /// Evaluation text so far.
    pub evaluation_body: &'a str,
    /// For the office's record of an oral report: who recorded it and how (then the page
    /// asks the reporter to confirm or correct it).
    pub recorded: Option<(String, bool)>,
}

impl std::fmt::Debug for Thread<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Thread")
            .field("entries", &self.entries.len())
            .field("older", &self.older)
            .finish_non_exhaustive()
    }
}

/// The conversation page.
pub(crate) fn thread(frame: &Frame<'_>, thread: &Thread<'_>) -> Markup {
    let language = frame.language;
    let text = language.text();
    let errors = thread.errors;
    let title = match thread.conversation {
        Conversation::Report => text.thread_title,
        Conversation::Consultation => text.thread_consultation_title,
    };
    layout(
        frame,
        title,
        html! {
            h1 { (title) }
            @if thread.conversation == Conversation::Consultation {
                p class="notice" { (text.thread_consultation_note) }
            }
            @if let Some(notice) = thread.notice {
                p class="notice" role="status" { (notice) }
            }
            (error_summary(text, errors))
            @for entry in thread.entries {
                @if entry.missing_before > 0 {
                    p class="missing" role="note" { (entry.missing_before) " " (text.thread_missing) }
                }
                article class={ "message" @if entry.from_office { " office" } @if entry.unreadable { " unreadable" } } {
                    h2 { (entry.author) }
                    @if !entry.unreadable {
                        p class="meta" { (text.thread_written) " " (entry.written_on) }
                    }
                    p class="body" { (entry.body.as_str()) }
                    @if !entry.answers.is_empty() {
                        h3 { (text.thread_answers) }
                        dl class="answers" {
                            @for (question, answer) in &entry.answers {
                                dt { (question) }
                                dd { (answer.as_str()) }
                            }
                        }
                    }
                    @for (name, size, location) in &entry.attachments {
                        @if entry.from_office {
                            form method="post" action={ "/check/attachment" (language.query()) } class="download" {
                                input type="hidden" name="form_token" value=((thread.issue_token)());
                                input type="hidden" name="lang" value=(language.code());
                                input type="hidden" name="receipt_code" value=(thread.code);
                                input type="hidden" name="position" value=(entry.position);
                                input type="hidden" name="location" value=(location);
                                button type="submit" { (text.thread_download) " " (name) " (" (size_text(*size)) ")" }
                            }
                        } @else {
                            p class="attachment" { (name) " (" (size_text(*size)) ")" }
                        }
                    }
                }
            }
            @if let Some(first) = thread.older {
                form method="post" action={ "/check" (language.query()) } class="older" {
                    input type="hidden" name="form_token" value=((thread.issue_token)());
                    input type="hidden" name="lang" value=(language.code());
                    input type="hidden" name="receipt_code" value=(thread.code);
                    input type="hidden" name="before" value=(first);
                    button type="submit" { (text.thread_older) }
                }
            }
            @if !thread.entries.iter().any(|entry| entry.from_office) {
                p { (text.thread_no_reply) }
            }
            @if let Some(recorded) = &thread.recorded {
                section id="record" aria-labelledby="record-title" {
                    h2 id="record-title" { (text.record_title) }
                    p { (text.record_lead) " " (recorded.0) "." }
                    @if !recorded.1 {
                        p class="missing" role="note" id="record-unverified" { (text.record_unverified) }
                    }
                    form id="record-form" method="post" action={ "/check/follow-up" (language.query()) }
                        enctype="multipart/form-data" {
                        input type="hidden" name="form_token" value=((thread.issue_token)());
                        input type="hidden" name="lang" value=(language.code());
                        input type="hidden" name="receipt_code" value=(thread.code);
                        fieldset id="record-purpose" {
                            legend { (text.record_question) }
                            div class="choice" {
                                input type="radio" name="purpose" id="record-confirmation" value="confirmation" checked;
                                label for="record-confirmation" { (text.record_agree) }
                            }
                            div class="choice" {
                                input type="radio" name="purpose" id="record-correction" value="correction";
                                label for="record-correction" { (text.record_correct) }
                            }
                        }
                        label for="record-body" { (text.record_body) }
                        (field_error(errors, "record-body"))
                        textarea id="record-body" name="body" rows="5" aria-describedby=[errors.get("record-body").map(|_| "record-body-error")] {}
                        button type="submit" { (text.record_submit) }
                    }
                }
            }
            h2 { (text.follow_up_title) }
            form id="follow-up-form" method="post" action={ "/check/follow-up" (language.query()) }
                enctype="multipart/form-data" {
                input type="hidden" name="form_token" value=(thread.form_token);
                input type="hidden" name="lang" value=(language.code());
                input type="hidden" name="receipt_code" value=(thread.code);
                (text_and_attachment(text, errors, text.follow_up_body, 8, thread.body, thread.max_attachment))
                button type="submit" { (text.follow_up_submit) }
            }
            @if let Some((organisation, typed)) = thread.evaluation {
                section id="evaluation" aria-labelledby="evaluation-title" {
                    h2 id="evaluation-title" { (text.evaluation_title) }
                    p { (text.evaluation_lead) }
                    form id="evaluation-form" method="post" action={ "/check/follow-up" (language.query()) }
                        enctype="multipart/form-data" data-organisation=(organisation.id) {
                        input type="hidden" name="form_token" value=((thread.issue_token)());
                        input type="hidden" name="lang" value=(language.code());
                        input type="hidden" name="receipt_code" value=(thread.code);
                        input type="hidden" name="purpose" value="evaluation";
                        @for question in &organisation.questions {
                            (super::questions::question_field(language, &organisation.id, question, typed, errors))
                        }
                        label for="evaluation-body" { (text.evaluation_body) }
                        (field_error(errors, "evaluation-body"))
                        textarea id="evaluation-body" name="body" rows="4" aria-describedby=[errors.get("evaluation-body").map(|_| "evaluation-body-error")] { (thread.evaluation_body) }
                        button type="submit" { (text.evaluation_submit) }
                    }
                }
            }
            @if thread.conversation == Conversation::Consultation {
                section id="convert" aria-labelledby="convert-title" {
                    h2 id="convert-title" { (text.convert_title) }
                    p { (text.convert_lead) }
                    form id="convert-form" method="post" action={ "/report/consultation" (language.query()) } {
                        input type="hidden" name="form_token" value=((thread.issue_token)());
                        input type="hidden" name="lang" value=(language.code());
                        input type="hidden" name="receipt_code" value=(thread.code);
                        @if let Some(organisation) = thread.organisation {
                            input type="hidden" name="organisation" value=(organisation);
                        }
                        button type="submit" { (text.convert_title) }
                    }
                }
            }
        },
    )
}

/// A page that only says something went wrong (a missing page, a refused request).
pub(crate) fn message(frame: &Frame<'_>, title: &str, detail: &str) -> Markup {
    layout(
        frame,
        title,
        html! {
            h1 { (title) }
            p { (detail) }
            p { a href={ "/" (frame.language.query()) } { (frame.language.text().site_name) } }
        },
    )
}
