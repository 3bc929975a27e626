//! The relay, as the CLI talks to it: the shared client's blocking face
//! ([`meldpunt_client::blocking::Relay`]), with its errors turned into [`CliError`]s (and so
//! into the CLI's exit codes).

pub use meldpunt_client::blocking::Relay;
pub use meldpunt_client::{Credential, Listed, Malformed, Upload};

use crate::error::CliError;
use meldpunt_client::ClientError;

impl From<ClientError> for CliError {
    fn from(error: ClientError) -> Self {
        match error {
            ClientError::Address(message) => CliError::Usage(message),
            ClientError::Unreachable { relay, detail } => CliError::Unreachable { relay, detail },
            ClientError::Refused {
                status,
                code,
                message,
            } => CliError::Refused {
                status,
                code: code.to_string(),
                message,
            },
            ClientError::Malformed(message) => CliError::Verification(message),
            error @ ClientError::NotForThisIdentity { .. } => {
                CliError::Verification(error.to_string())
            }
            ClientError::Crypto(error) => CliError::from(error),
            ClientError::Local(message) => CliError::Local(message),
        }
    }
}
