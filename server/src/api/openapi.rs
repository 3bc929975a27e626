//! The OpenAPI document of `/api/v1`, generated from the handlers' `#[utoipa::path]`
//! attributes and the wire crate's types: what the relay serves at `/api/v1/openapi.json`
//! and what `docs/openapi.json` holds (a test fails when the two differ; regenerate with
//! `meldpunt-server openapi > docs/openapi.json`).
//!
//! This module only describes; it must never change what a handler does.

use std::sync::OnceLock;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Meldpunt relay API",
        version = "1",
        description = "The relay stores only sealed objects (age files) under mailbox ids. JSON for control data, raw bytes (application/octet-stream) for sealed objects. Every error is {\"error\": code, \"message\": text}. See docs/protocol.md for the formats.",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2"),
    ),
    servers((url = "/")),
    paths(
        super::public::directory,
        super::public::directory_history,
        super::public::challenge,
        super::reporter::create_mailbox,
        super::reporter::list_messages,
        super::reporter::follow_up,
        super::reporter::fetch_message,
        super::attachments::reporter_upload,
        super::attachments::reporter_download,
        super::office::challenge,
        super::office::session,
        super::office::list_messages,
        super::office::fetch_message,
        super::office::mark_fetched,
        super::office::reply,
        super::office::post_hand_over,
        super::office::add_process_guides,
        super::office::list_hand_overs,
        super::office::fetch_hand_over,
        super::case_records::post_case_record,
        super::case_records::list_case_records,
        super::case_records::fetch_case_record,
        super::attachments::office_upload,
        super::attachments::office_download,
        super::public::health,
        super::public::ready,
        super::public::openapi,
    ),
    components(schemas(
        meldpunt_wire::openapi::MailboxIdSchema,
        meldpunt_wire::openapi::AttachmentIdSchema,
        meldpunt_wire::openapi::MessageNumberSchema,
        meldpunt_wire::openapi::OfficeCursorSchema,
        meldpunt_wire::openapi::DirectoryVersionSchema,
        meldpunt_wire::openapi::ChallengePurposeSchema,
    )),
    tags(
        (name = "public", description = "Anyone may call these: the directory, proof-of-work challenges, health."),
        (name = "reporter", description = "A reporter's mailbox, with the mailbox token from the receipt code."),
        (name = "office", description = "An integrity office's login and its organisation's messages, with a session token."),
    ),
    modifiers(&Credentials),
)]
struct Document;

/// The two bearer credentials.
struct Credentials;

impl Modify for Credentials {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        // Every operation has a time limit (the API's routes), answered with the JSON error.
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                operation.responses.responses.insert(
                    "408".into(),
                    utoipa::openapi::ResponseBuilder::new()
                        .description(
                            "The request took longer than the relay allows (request-timeout)",
                        )
                        .content(
                            "application/json",
                            utoipa::openapi::ContentBuilder::new()
                                .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                                .build(),
                        )
                        .build()
                        .into(),
                );
            }
        }
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "mailboxToken",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The mailbox token derived from the receipt code (43 characters of base64url).",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "officeSession",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An office session token from /api/v1/office/session."))
                    .build(),
            ),
        );
    }
}

/// The document as JSON (built once).
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut text = Document::openapi()
            .to_pretty_json()
            .expect("the OpenAPI document serialises");
        text.push('\n');
        text
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_openapi_json_is_what_the_code_generates() {
        let committed = include_str!("../../../docs/openapi.json");
        assert!(
            committed == document(),
            "docs/openapi.json differs from the document the relay generates; \
             regenerate it with: cargo run -p meldpunt-server -- openapi > docs/openapi.json"
        );
    }

    #[test]
    fn every_route_is_documented_and_every_error_status_has_the_error_body() {
        let document: serde_json::Value = serde_json::from_str(document()).unwrap();
        let paths = document["paths"].as_object().unwrap();
        for path in [
            meldpunt_wire::paths::DIRECTORY,
            meldpunt_wire::paths::DIRECTORY_HISTORY,
            meldpunt_wire::paths::CHALLENGE,
            meldpunt_wire::paths::MAILBOXES,
            meldpunt_wire::paths::MAILBOX_MESSAGES,
            meldpunt_wire::paths::MAILBOX_MESSAGE,
            meldpunt_wire::paths::MAILBOX_ATTACHMENT,
            meldpunt_wire::paths::OFFICE_CHALLENGE,
            meldpunt_wire::paths::OFFICE_SESSION,
            meldpunt_wire::paths::OFFICE_MESSAGES,
            meldpunt_wire::paths::OFFICE_MESSAGE,
            meldpunt_wire::paths::OFFICE_MESSAGE_FETCHED,
            meldpunt_wire::paths::OFFICE_MAILBOX_MESSAGES,
            meldpunt_wire::paths::OFFICE_MAILBOX_ATTACHMENT,
            meldpunt_wire::paths::OFFICE_ATTACHMENT,
            meldpunt_wire::paths::OFFICE_MAILBOX_HAND_OVERS,
            meldpunt_wire::paths::OFFICE_HAND_OVERS,
            meldpunt_wire::paths::OFFICE_MAILBOX_PROCESS_GUIDES,
            meldpunt_wire::paths::OFFICE_HAND_OVER,
            meldpunt_wire::paths::OFFICE_MAILBOX_CASE_RECORDS,
            meldpunt_wire::paths::OFFICE_CASE_RECORDS,
            meldpunt_wire::paths::OFFICE_CASE_RECORD,
            meldpunt_wire::paths::HEALTH,
            meldpunt_wire::paths::READY,
            meldpunt_wire::paths::OPENAPI,
        ] {
            assert!(paths.contains_key(path), "{path} is not documented");
        }
        assert_eq!(
            paths.len(),
            25,
            "a documented path the wire crate does not name"
        );
        for (path, operations) in paths {
            for (method, operation) in operations.as_object().unwrap() {
                for (status, response) in operation["responses"].as_object().unwrap() {
                    if status.starts_with('4') || status.starts_with('5') {
                        assert_eq!(
                            response["content"]["application/json"]["schema"]["$ref"],
                            "#/components/schemas/ErrorBody",
                            "{method} {path} {status}"
                        );
                    }
                }
            }
        }
        let codes = &document["components"]["schemas"]["ErrorCode"]["enum"];
        assert_eq!(
            codes.as_array().unwrap().len(),
            meldpunt_wire::ErrorCode::KNOWN.len()
        );
    }
}
