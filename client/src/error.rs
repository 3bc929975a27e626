//! The client's one error type. Its messages name the relay and what failed; they never hold
//! a token, a key or message content.

use meldpunt_wire::ErrorCode;

/// What went wrong talking to a relay.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The relay address or the proxy is not one this client will use.
    #[error("{0}")]
    Address(String),
    /// The relay could not be reached, or its answer could not be read.
    #[error("cannot reach the relay at {relay}: {detail}")]
    Unreachable {
        /// The relay's base address.
        relay: String,
        /// What failed (connection refused, timeout…).
        detail: String,
    },
    /// The relay answered with an error.
    #[error("the relay refused: {message} ({code})")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The relay's error code, or `http-STATUS` (as [`ErrorCode::Other`]) if it gave none.
        code: ErrorCode,
        /// The relay's sentence for people.
        message: String,
    },
    /// The relay sent something that is not what the protocol allows.
    #[error("{0}")]
    Malformed(String),
    /// A sealed object from the relay did not open or verify.
    #[error(transparent)]
    Crypto(#[from] meldpunt_crypto::Error),
    /// The office challenge is sealed to other keys than these identities.
    #[error(
        "the relay's challenge for {recipient} in {organisation} is not addressed to this identity: \
         is this identity's public key in the directory?"
    )]
    NotForThisIdentity {
        /// The organisation asked for.
        organisation: String,
        /// The recipient asked for.
        recipient: String,
    },
    /// Something on this machine failed (a thread, a runtime, a reader).
    #[error("{0}")]
    Local(String),
}

impl ClientError {
    /// The relay's error code, if it refused.
    pub fn relay_code(&self) -> Option<&str> {
        match self {
            ClientError::Refused { code, .. } => Some(code.as_str()),
            _ => None,
        }
    }
}

/// The client's results.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// A reqwest failure, for people: what probably went wrong, then the chain of causes.
pub(crate) fn describe(error: &reqwest::Error) -> String {
    if let Some(tls) = tls_failure(error) {
        return tls;
    }
    if error.is_connect() {
        "the connection was refused or failed (is the relay running, the address right, Tor started?)".into()
    } else if error.is_timeout() {
        "the relay did not answer in time".into()
    } else {
        let mut text = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(inner) = source {
            text.push_str(": ");
            text.push_str(&inner.to_string());
            source = inner.source();
        }
        text
    }
}

/// What a TLS failure somewhere in `error`'s causes means, if there is one: the relay's
/// certificate is the usual reason, and each case has its own remedy.
fn tls_failure(error: &reqwest::Error) -> Option<String> {
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        // An I/O error that wraps another gives that one's source, not itself: look inside.
        let mut candidate = Some(inner);
        while let Some(error) = candidate {
            if let Some(tls) = error.downcast_ref::<rustls::Error>() {
                return Some(describe_tls(tls));
            }
            candidate = error
                .downcast_ref::<std::io::Error>()
                .and_then(std::io::Error::get_ref)
                .map(|wrapped| wrapped as &(dyn std::error::Error + 'static));
        }
        source = inner.source();
    }
    None
}

fn describe_tls(error: &rustls::Error) -> String {
    use rustls::CertificateError;
    let reason = match error {
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "its certificate is issued by an authority this computer does not trust \
             (a relay with a private or self-signed certificate: give its CA with --ca-file)"
                .to_owned()
        }
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => "its certificate is for another name than the address you gave (check the address)"
            .to_owned(),
        rustls::Error::InvalidCertificate(
            CertificateError::Expired | CertificateError::ExpiredContext { .. },
        ) => "its certificate has expired (tell the relay's administrator)".to_owned(),
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. },
        ) => "its certificate is not valid yet (check this computer's clock)".to_owned(),
        other => other.to_string(),
    };
    format!("TLS failed: {reason}")
}
