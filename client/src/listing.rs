//! Listings read entry by entry: one malformed entry (a hostile relay's) never spoils the
//! others; the caller marks it and goes on.

use serde::de::DeserializeOwned;

/// One entry of a listing: the relay's entry, typed, or why it is malformed.
pub type Listed<T> = std::result::Result<T, Malformed>;

/// An entry of a listing that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// Its position (reporter) or number (office), if at least that much could be read.
    pub key: Option<u64>,
    /// What is wrong with it.
    pub reason: String,
}

/// A page of a listing as the relay sent it: `{"messages": [...]}` (or `{"hand_overs":
/// [...]}`, `{"case_records": [...]}`), entries still unparsed.
#[derive(serde::Deserialize)]
pub(crate) struct Page {
    #[serde(alias = "hand_overs", alias = "case_records")]
    pub(crate) messages: Vec<serde_json::Value>,
}

/// Each entry parsed on its own, `key` naming the field that identifies it.
pub(crate) fn entries<T: DeserializeOwned>(
    listed: Vec<serde_json::Value>,
    key: &str,
) -> Vec<Listed<T>> {
    listed
        .into_iter()
        .map(|value| {
            let key = value.get(key).and_then(serde_json::Value::as_u64);
            serde_json::from_value(value).map_err(|error| Malformed {
                key,
                reason: format!(
                    "the relay listed it with a malformed field: {}",
                    crate::printable(&error.to_string())
                ),
            })
        })
        .collect()
}

/// The highest key in a page, malformed entries included if their key could be read.
pub(crate) fn last_key<T>(page: &[Listed<T>], key: impl Fn(&T) -> u64) -> Option<u64> {
    page.iter()
        .filter_map(|entry| match entry {
            Ok(value) => Some(key(value)),
            Err(malformed) => malformed.key,
        })
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use meldpunt_wire::MessageSummary;

    #[test]
    fn a_malformed_entry_is_marked_and_the_others_are_read() {
        let page: Page = serde_json::from_str(
            r#"{"messages":[
                {"position":1,"author":"reporter","day":"2026-11-30","size":10},
                {"position":2,"author":"somebody","day":"2026-11-30","size":10},
                {"author":"office","day":"2026-13-01","size":10},
                {"position":4,"author":"office","day":"2026-11-30","size":10}
            ]}"#,
        )
        .unwrap();
        let listed = entries::<MessageSummary>(page.messages, "position");
        assert_eq!(listed.len(), 4);
        assert_eq!(listed[0].as_ref().unwrap().position, 1);
        assert_eq!(listed[1].as_ref().unwrap_err().key, Some(2));
        assert_eq!(listed[2].as_ref().unwrap_err().key, None);
        assert_eq!(listed[3].as_ref().unwrap().position, 4);
        assert_eq!(
            last_key(&listed, |summary| u64::from(summary.position)),
            Some(4)
        );
    }
}
