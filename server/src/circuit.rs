//! Tor circuit identifiers: the one thing that tells two reporters of an onion service apart.
//!
//! With `HiddenServiceExportCircuitID haproxy` in its torrc, Tor starts every connection it
//! forwards to the relay with a PROXY protocol (version 1) line whose source "address" is the
//! inbound circuit's number, written as an IPv6 address in `fc00:dead:beef:4dad::/64`. Tor
//! Browser keeps one circuit per site for as long as it is used, so a circuit stands for one
//! visitor for a while; it says nothing about who or where they are, and a new circuit costs
//! a client a few seconds (and Tor's own onion-service proof-of-work when it is under attack).
//!
//! The relay uses circuits only to share the form without JavaScript fairly (see
//! `web::guard`): each circuit gets its own small allowance, so one script cannot spend the
//! allowance of everyone else. With `tor_circuit_ids = true` in the configuration a
//! connection without a valid line is closed before anything is read from it.
//!
//! This module must never log, store or return a circuit number: it lives in a request's
//! extensions and in a one-minute window in memory, nowhere else.

use std::net::Ipv6Addr;

use tokio::io::{AsyncRead, AsyncReadExt};

/// The inbound Tor circuit a request came over.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Circuit(u64);

impl std::fmt::Debug for Circuit {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Circuit([redacted])")
    }
}

/// The prefix Tor puts in front of a circuit number.
const TOR_PREFIX: [u16; 4] = [0xfc00, 0xdead, 0xbeef, 0x4dad];
/// Longest PROXY version 1 line, with its CR LF (from the PROXY protocol specification).
const MAXIMUM_LINE: usize = 107;

impl Circuit {
    /// Parses Tor's PROXY line (without its CR LF).
    pub fn parse(line: &str) -> Option<Circuit> {
        let mut fields = line.split(' ');
        if fields.next()? != "PROXY" || fields.next()? != "TCP6" {
            return None;
        }
        let source: Ipv6Addr = fields.next()?.parse().ok()?;
        let _destination: Ipv6Addr = fields.next()?.parse().ok()?;
        let _source_port: u16 = fields.next()?.parse().ok()?;
        let _destination_port: u16 = fields.next()?.parse().ok()?;
        if fields.next().is_some() || source.segments()[..4] != TOR_PREFIX {
            return None;
        }
        Some(Circuit(u128::from(source) as u64))
    }

    /// Reads the PROXY line at the start of a connection, byte by byte so that nothing of
    /// the HTTP request after it is consumed.
    pub async fn read_from(stream: &mut (impl AsyncRead + Unpin)) -> Option<Circuit> {
        let mut line = Vec::with_capacity(MAXIMUM_LINE);
        loop {
            let byte = stream.read_u8().await.ok()?;
            line.push(byte);
            if line.ends_with(b"\r\n") {
                break;
            }
            if line.len() >= MAXIMUM_LINE {
                return None;
            }
        }
        Circuit::parse(std::str::from_utf8(&line[..line.len() - 2]).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tor_lines_are_read_and_anything_else_refused() {
        let one = Circuit::parse("PROXY TCP6 fc00:dead:beef:4dad::0:1 ::1 80 8080").unwrap();
        let other = Circuit::parse("PROXY TCP6 fc00:dead:beef:4dad::1:0 ::1 80 8080").unwrap();
        assert_ne!(one, other);
        assert_eq!(format!("{one:?}"), "Circuit([redacted])");
        for refused in [
            "",
            "PROXY TCP4 127.0.0.1 127.0.0.1 80 8080",
            // A real address is not a circuit (and is never taken for one).
            "PROXY TCP6 2001:db8::1 ::1 80 8080",
            "PROXY TCP6 fc00:dead:beef:4dad::1 ::1 80",
            "PROXY TCP6 fc00:dead:beef:4dad::1 ::1 80 8080 extra",
            "PROXY UNKNOWN",
        ] {
            assert!(Circuit::parse(refused).is_none(), "{refused}");
        }
    }

    #[tokio::test]
    async fn the_line_is_read_without_eating_the_request() {
        let mut input: &[u8] =
            b"PROXY TCP6 fc00:dead:beef:4dad::7 ::1 80 8080\r\nGET / HTTP/1.1\r\n";
        assert!(Circuit::read_from(&mut input).await.is_some());
        assert_eq!(input, b"GET / HTTP/1.1\r\n");
        let mut endless: &[u8] = &[b'P'; 500];
        assert!(Circuit::read_from(&mut endless).await.is_none());
    }
}
