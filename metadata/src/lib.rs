//! Removing identifying metadata from images before they are sealed.
//!
//! JPEG files lose EXIF and XMP (APP1), IPTC (APP13), vendor segments (APP3–APP12, APP14,
//! APP15) and comments; JFIF (APP0) and colour profiles (APP2) stay. PNG files lose their
//! `eXIf`, `tEXt`, `zTXt`, `iTXt` and `tIME` chunks. That removes GPS positions, camera
//! serial numbers, authors, software and dates; the picture itself is untouched (and may
//! still identify someone — that is for the reporter to judge).
//!
//! Used by the CLI and by the relay's web form without JavaScript. This crate does no I/O:
//! bytes in, bytes out.

#![forbid(unsafe_code)]

use img_parts::jpeg::{markers, Jpeg};
use img_parts::png::Png;

/// What a file is, as far as metadata removal is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A JPEG image.
    Jpeg,
    /// A PNG image.
    Png,
    /// Named like an image (`.jpg`, `.jpeg`, `.png`) but not one: metadata cannot be removed.
    MisnamedImage,
    /// Anything else: sealed as it is.
    Other,
}

/// The kind of a file from its first bytes and its name.
pub fn kind(head: &[u8], name: &str) -> Kind {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Kind::Jpeg
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Kind::Png
    } else {
        let extension = name
            .rsplit_once('.')
            .map(|(_, extension)| extension.to_ascii_lowercase());
        match extension.as_deref() {
            Some("jpg" | "jpeg" | "png") => Kind::MisnamedImage,
            _ => Kind::Other,
        }
    }
}

/// The image without its metadata, or `None` if it cannot be read as the image it claims
/// to be.
pub fn strip(kind: Kind, bytes: &[u8]) -> Option<Vec<u8>> {
    match kind {
        Kind::Jpeg => strip_jpeg(bytes),
        Kind::Png => strip_png(bytes),
        Kind::MisnamedImage | Kind::Other => None,
    }
}

fn strip_jpeg(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut jpeg = Jpeg::from_bytes(bytes.to_vec().into()).ok()?;
    jpeg.segments_mut().retain(|segment| {
        let marker = segment.marker();
        !(marker == markers::APP1
            || (markers::APP3..=markers::APP15).contains(&marker)
            || marker == markers::COM)
    });
    let mut output = Vec::with_capacity(bytes.len());
    jpeg.encoder().write_to(&mut output).ok()?;
    Some(output)
}

fn strip_png(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut png = Png::from_bytes(bytes.to_vec().into()).ok()?;
    png.chunks_mut().retain(|chunk| {
        !matches!(
            &chunk.kind(),
            b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt" | b"tIME"
        )
    });
    let mut output = Vec::with_capacity(bytes.len());
    png.encoder().write_to(&mut output).ok()?;
    Some(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg_with_exif() -> Vec<u8> {
        // SOI, APP0 (JFIF), APP1 (Exif with a fake GPS tag string), COM, SOS…EOI.
        let mut bytes = vec![0xFF, 0xD8];
        bytes.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x10]);
        bytes.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        let exif = b"Exif\0\0GPS 52.0907N 5.1214E SERIAL-12345";
        bytes.extend_from_slice(&[0xFF, 0xE1, 0x00, (exif.len() + 2) as u8]);
        bytes.extend_from_slice(exif);
        let comment = b"taken by J. Jansen";
        bytes.extend_from_slice(&[0xFF, 0xFE, 0x00, (comment.len() + 2) as u8]);
        bytes.extend_from_slice(comment);
        bytes.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]);
        bytes.extend_from_slice(&[0x12, 0x34, 0x56]);
        bytes.extend_from_slice(&[0xFF, 0xD9]);
        bytes
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack
            .windows(needle.len())
            .any(|window| window == needle)
    }

    #[test]
    fn jpeg_metadata_is_removed_and_the_picture_kept() {
        let original = jpeg_with_exif();
        let cleaned = strip(Kind::Jpeg, &original).unwrap();
        assert!(!contains(&cleaned, b"GPS"));
        assert!(!contains(&cleaned, b"SERIAL"));
        assert!(!contains(&cleaned, b"Jansen"));
        assert!(contains(&cleaned, b"JFIF"));
        assert!(contains(&cleaned, &[0x12, 0x34, 0x56]));
    }

    #[test]
    fn png_text_chunks_are_removed() {
        fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
            let mut bytes = (data.len() as u32).to_be_bytes().to_vec();
            bytes.extend_from_slice(kind);
            bytes.extend_from_slice(data);
            let mut crc_input = kind.to_vec();
            crc_input.extend_from_slice(data);
            bytes.extend_from_slice(&crc32(&crc_input).to_be_bytes());
            bytes
        }
        fn crc32(bytes: &[u8]) -> u32 {
            let mut crc = 0xFFFF_FFFFu32;
            for &byte in bytes {
                crc ^= u32::from(byte);
                for _ in 0..8 {
                    crc = if crc & 1 == 1 {
                        (crc >> 1) ^ 0xEDB8_8320
                    } else {
                        crc >> 1
                    };
                }
            }
            !crc
        }
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]));
        png.extend(chunk(b"tEXt", b"Author\0J. Jansen"));
        png.extend(chunk(
            b"IDAT",
            &[0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01],
        ));
        png.extend(chunk(b"IEND", &[]));
        let cleaned = strip(Kind::Png, &png).unwrap();
        assert!(!contains(&cleaned, b"Jansen"));
        assert!(contains(&cleaned, b"IDAT"));
    }

    #[test]
    fn kinds_come_from_the_content_then_the_name() {
        assert_eq!(kind(&jpeg_with_exif(), "x.bin"), Kind::Jpeg);
        assert_eq!(kind(b"hello", "foto.JPG"), Kind::MisnamedImage);
        assert_eq!(kind(b"hello", "notes.pdf"), Kind::Other);
        assert_eq!(strip(Kind::Jpeg, b"not a jpeg"), None);
    }
}
