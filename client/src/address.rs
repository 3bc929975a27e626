//! Which relay addresses a client will talk to. A reporter's words go nowhere but over
//! TLS or Tor: plain `http://` only to this machine or an onion service, no redirects, and
//! no API path (which would reach no endpoint and hide a typo).

use crate::error::{ClientError, Result};

/// Whether the address's host is a Tor onion service.
pub(crate) fn is_onion(base: &str) -> bool {
    reqwest::Url::parse(base).is_ok_and(|url| {
        url.host_str()
            .is_some_and(|host| host.to_ascii_lowercase().ends_with(".onion"))
    })
}

/// Refuses relay addresses that would leak a report or mislead: anything but `https://`,
/// except plain `http://` to this machine (a development relay, or Tor's local proxy port)
/// and to `.onion` addresses (Tor encrypts and authenticates those itself); and an address
/// with the API path in it.
pub(crate) fn check_address(base: &str) -> Result<()> {
    let url = reqwest::Url::parse(base).map_err(|_| {
        ClientError::Address(format!(
            "{base} is not a relay address; give one like https://meldpunt.example.nl"
        ))
    })?;
    let local_or_onion = match url.host() {
        Some(url::Host::Domain(name)) => {
            let name = name.to_ascii_lowercase();
            name == "localhost" || name.ends_with(".onion")
        }
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Ipv6(address)) => address.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if local_or_onion => {}
        "http" => {
            return Err(ClientError::Address(format!(
                "{base} uses plain http://, which anyone on the way can read and change; \
                 use https://, or http:// only for this machine (127.0.0.1, ::1, localhost) \
                 or a .onion address"
            )))
        }
        _ => {
            return Err(ClientError::Address(format!(
                "the relay address must start with https:// (or http:// for this machine or a .onion address), not {base}"
            )))
        }
    }
    if url.path().trim_end_matches('/').ends_with("/api/v1") || url.path().contains("/api/") {
        let mut root = url.clone();
        root.set_path("");
        return Err(ClientError::Address(format!(
            "give the relay's base address, without the API path: {}",
            root.as_str().trim_end_matches('/')
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_refused_except_for_loopback_and_onion_addresses() {
        for allowed in [
            "https://meldpunt.example.nl",
            "http://127.0.0.1:8080",
            "http://127.8.9.1",
            "http://[::1]:8080",
            "http://localhost:8080",
            "http://abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion",
        ] {
            assert!(check_address(allowed).is_ok(), "{allowed}");
        }
        for refused in [
            "http://meldpunt.example.nl",
            "http://192.168.1.10:8080",
            "http://10.0.0.1",
            "http://[2001:db8::1]",
            "http://onion.example.nl",
            "ftp://127.0.0.1",
            "127.0.0.1:8080",
            "meldpunt.example.nl",
        ] {
            assert!(
                matches!(check_address(refused), Err(ClientError::Address(_))),
                "{refused}"
            );
        }
    }

    #[test]
    fn an_address_with_the_api_path_is_refused_with_the_base_address() {
        let Err(ClientError::Address(message)) = check_address("http://127.0.0.1:8080/api/v1")
        else {
            panic!("accepted");
        };
        assert!(message.contains("http://127.0.0.1:8080"), "{message}");
        assert!(!message.contains("8080/api"), "{message}");
    }

    #[test]
    fn onion_addresses_are_recognised() {
        assert!(is_onion("http://abc.onion"));
        assert!(is_onion("http://ABC.ONION:80"));
        assert!(!is_onion("https://onion.example.nl"));
    }
}
