//! Form posts from browsers without JavaScript, read entirely in memory.
//!
//! A multipart body is parsed as it streams in (axum's multer), each field into a buffer
//! that is zeroized when dropped, within limits: text fields up to `max_text` bytes, one
//! attachment up to `max_attachment` bytes. Nothing is written to a file, ever. Buffers
//! grow only through [`append_zeroizing`], which wipes the copy it leaves behind (a `Vec`
//! that reallocates itself frees its old copy of the plaintext unwiped). What the
//! limits cut off is discarded as it arrives and reported, so the page can say which field
//! was too large while keeping the rest of what the reporter wrote.
//!
//! This module must never log a field's content or name a file it was given.

use axum::extract::Multipart;
use axum::http::StatusCode;
use zeroize::Zeroizing;

/// An attached file, held in memory.
pub(crate) struct Upload {
    /// The file name the browser gave (a base name; browsers send no folders).
    pub name: String,
    /// Its content.
    pub content: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "Upload([redacted], {} bytes)",
            self.content.len()
        )
    }
}

/// The fields of a posted form.
#[derive(Default)]
pub(crate) struct PostedForm {
    fields: Vec<(String, Zeroizing<String>)>,
    /// The attachment, if one was chosen and fitted.
    pub attachment: Option<Upload>,
    /// Whether the attachment (or the whole body) was larger than allowed.
    pub attachment_too_large: bool,
    /// Whether a text field was larger than allowed.
    pub text_too_large: bool,
}

impl std::fmt::Debug for PostedForm {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PostedForm")
            .field("fields", &self.fields.len())
            .field("attachment", &self.attachment)
            .finish()
    }
}

impl PostedForm {
    /// The first value of a field.
    pub(crate) fn value(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }

    /// Every field whose name starts with `prefix`, with its value, in form order.
    pub(crate) fn fields_starting_with(&self, prefix: &str) -> Vec<(String, Zeroizing<String>)> {
        self.fields
            .iter()
            .filter(|(field, _)| field.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// Every value of a field (checkboxes).
    pub(crate) fn values(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(field, _)| field == name)
            .map(|(_, value)| value.to_string())
            .collect()
    }
}

/// Why a form was not read.
#[derive(Debug)]
pub(crate) enum Unread {
    /// The body could not be read as a form at all.
    Malformed,
    /// Its first field was not a form token the guard accepts.
    Refused(super::guard::Refusal),
}

/// Longest form token field read.
const MAXIMUM_TOKEN_FIELD: usize = 256;

/// Reads a multipart form within the limits. Its first field must be `form_token`, accepted
/// by `token_check`: that is checked before anything else is read, so a post without a valid
/// token costs a few KiB, not the whole body.
pub(crate) async fn read(
    mut multipart: Multipart,
    max_text: usize,
    max_attachment: usize,
    token_check: impl FnOnce(&str) -> Result<(), super::guard::Refusal>,
) -> Result<PostedForm, Unread> {
    let mut form = PostedForm::default();
    let mut first = match multipart.next_field().await {
        Ok(Some(field)) if field.name() == Some("form_token") => field,
        Ok(_) => return Err(Unread::Refused(super::guard::Refusal::Expired)),
        Err(_) => return Err(Unread::Malformed),
    };
    let mut token = Vec::with_capacity(MAXIMUM_TOKEN_FIELD);
    while let Some(chunk) = first.chunk().await.map_err(|_| Unread::Malformed)? {
        if token.len() + chunk.len() > MAXIMUM_TOKEN_FIELD {
            return Err(Unread::Refused(super::guard::Refusal::Expired));
        }
        token.extend_from_slice(&chunk);
    }
    // The field must be gone before the next one is asked for.
    drop(first);
    let token = String::from_utf8(token).map_err(|_| Unread::Malformed)?;
    token_check(&token).map_err(Unread::Refused)?;
    form.fields
        .push(("form_token".to_owned(), Zeroizing::new(token)));
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                form.attachment_too_large = true;
                break;
            }
            Err(_) => return Err(Unread::Malformed),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let limit = if file_name.is_some() {
            max_attachment
        } else {
            max_text
        };
        let mut content = Zeroizing::new(Vec::new());
        let mut too_large = false;
        let mut body_cut = false;
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if too_large || content.len() + chunk.len() > limit {
                        too_large = true;
                        content.clear();
                    } else {
                        append_zeroizing(&mut content, &chunk);
                    }
                }
                Ok(None) => break,
                Err(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    too_large = true;
                    body_cut = true;
                    break;
                }
                Err(_) => return Err(Unread::Malformed),
            }
        }
        match file_name {
            Some(_) if too_large => form.attachment_too_large = true,
            Some(file_name) if name == "attachment" => {
                if !(file_name.is_empty() && content.is_empty()) {
                    form.attachment = Some(Upload {
                        name: file_name,
                        content,
                    });
                }
            }
            Some(_) => {}
            None if too_large => form.text_too_large = true,
            None => {
                let text = String::from_utf8(std::mem::take(&mut *content)).map_err(|error| {
                    drop(Zeroizing::new(error.into_bytes()));
                    Unread::Malformed
                })?;
                // Browsers send a textarea's line breaks as CRLF (the HTML standard says
                // so); the script and the CLI send LF. Messages carry LF.
                let text = Zeroizing::new(text);
                let text = if text.contains('\r') {
                    without_carriage_returns(&text)
                } else {
                    text
                };
                form.fields.push((name, text));
            }
        }
        if body_cut {
            // The body limit ends the stream: nothing more can be read.
            form.attachment_too_large = true;
            break;
        }
    }
    Ok(form)
}

/// Appends `bytes` to `buffer`. When it must grow, it moves into a new buffer (at least
/// twice as large) and the old one is wiped as it is dropped: no copy of the content is ever
/// freed unwiped.
pub fn append_zeroizing(buffer: &mut Zeroizing<Vec<u8>>, bytes: &[u8]) {
    let needed = buffer.len() + bytes.len();
    if needed > buffer.capacity() {
        let mut grown = Zeroizing::new(Vec::with_capacity(needed.max(buffer.capacity() * 2)));
        grown.extend_from_slice(buffer);
        *buffer = grown;
    }
    buffer.extend_from_slice(bytes);
}

/// `text` with every CRLF turned into LF, written into a buffer allocated once at the
/// length of `text` (the result is never longer), so no copy is left behind unwiped.
pub fn without_carriage_returns(text: &str) -> Zeroizing<String> {
    let mut output = Zeroizing::new(String::with_capacity(text.len()));
    let mut rest = text;
    while let Some(index) = rest.find("\r\n") {
        output.push_str(&rest[..index]);
        output.push('\n');
        rest = &rest[index + 2..];
    }
    output.push_str(rest);
    output
}

/// A file name as it may appear in a message: the base name only, without control
/// characters, at most 255 bytes; `None` if nothing usable remains.
pub fn attachment_name(given: &str) -> Option<String> {
    let base = given
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|character| !character.is_control())
        .collect::<String>();
    let base = base.trim();
    if base.is_empty() || base == "." || base == ".." {
        return None;
    }
    let mut name = String::new();
    for character in base.chars() {
        if name.len() + character.len_utf8() > 255 {
            break;
        }
        name.push(character);
    }
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::{append_zeroizing, attachment_name, without_carriage_returns};

    #[test]
    fn appending_and_line_breaks_keep_the_content() {
        let mut buffer = zeroize::Zeroizing::new(Vec::new());
        for chunk in [&b"abc"[..], b"", b"defghij", &[7u8; 1000]] {
            append_zeroizing(&mut buffer, chunk);
        }
        assert_eq!(&buffer[..10], b"abcdefghij");
        assert_eq!(buffer.len(), 1010);
        assert_eq!(
            without_carriage_returns("a\r\nb\r\rc\r\n").as_str(),
            "a\nb\r\rc\n"
        );
        assert_eq!(without_carriage_returns("").as_str(), "");
    }

    #[test]
    fn attachment_names_lose_folders_and_control_characters() {
        assert_eq!(attachment_name("notes.pdf").as_deref(), Some("notes.pdf"));
        assert_eq!(
            attachment_name("C:\\Users\\me\\notes.pdf").as_deref(),
            Some("notes.pdf")
        );
        assert_eq!(
            attachment_name("../../etc/passwd").as_deref(),
            Some("passwd")
        );
        assert_eq!(
            attachment_name("a\u{0}b\nc.txt").as_deref(),
            Some("abc.txt")
        );
        assert_eq!(attachment_name(".."), None);
        assert_eq!(attachment_name("dir/"), None);
        assert_eq!(attachment_name(&"é".repeat(200)).unwrap().len(), 254);
    }
}

#[cfg(test)]
mod reading_tests {
    use super::*;
    use axum::extract::FromRequest;

    fn multipart(body: &str) -> Multipart {
        let request = axum::http::Request::builder()
            .method("POST")
            .header("content-type", "multipart/form-data; boundary=XX")
            .body(axum::body::Body::from(body.replace('\n', "\r\n")))
            .unwrap();
        futures_executor(Multipart::from_request(request, &())).unwrap()
    }

    fn futures_executor<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn the_token_comes_first_and_is_checked_before_the_rest() {
        let body = "--XX\nContent-Disposition: form-data; name=\"form_token\"\n\nTOKEN\n--XX\nContent-Disposition: form-data; name=\"body\"\n\ntekst\n--XX--\n";
        let form = futures_executor(read(multipart(body), 100, 100, |token| {
            assert_eq!(token, "TOKEN");
            Ok(())
        }))
        .unwrap();
        assert_eq!(form.value("body"), Some("tekst"));
        let refused = futures_executor(read(multipart(body), 100, 100, |_| {
            Err(super::super::guard::Refusal::Expired)
        }));
        assert!(matches!(refused, Err(Unread::Refused(_))));
        let late = "--XX\nContent-Disposition: form-data; name=\"body\"\n\ntekst\n--XX\nContent-Disposition: form-data; name=\"form_token\"\n\nTOKEN\n--XX--\n";
        assert!(matches!(
            futures_executor(read(multipart(late), 100, 100, |_| Ok(()))),
            Err(Unread::Refused(_))
        ));
    }
}
