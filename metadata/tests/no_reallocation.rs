//! Cleaning writes into one buffer allocated up front and never reallocates it: a
//! reallocation would free an earlier copy of the photo without wiping it.
//!
//! Alone in its own test binary, with a counting global allocator, so that no other test
//! thread allocates while the counts are taken.

use meldpunt_metadata::{strip, Kind};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// A JPEG with an EXIF segment and a second JPEG appended after its end-of-image marker.
fn jpeg_with_metadata() -> Vec<u8> {
    let jpeg: &[u8] = include_bytes!("../testdata/baseline.jpg");
    let exif = b"Exif\0\0MM\0*\0\0\0\x08GPSLatitude 52.0907N SERIAL-12345";
    let length = u16::try_from(exif.len() + 2).unwrap().to_be_bytes();
    [
        &jpeg[..2],
        &[0xFF, 0xE1],
        &length,
        exif,
        &jpeg[2..],
        include_bytes!("../testdata/progressive.jpg"),
    ]
    .concat()
}

/// A PNG with text chunks after its image data, and data after IEND.
fn png_with_metadata() -> Vec<u8> {
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, 4, 4);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&[0x80; 4 * 4 * 3]).unwrap();
    writer
        .write_chunk(png::chunk::ChunkType(*b"eXIf"), b"MM\0*GPS SERIAL-12345")
        .unwrap();
    writer
        .write_chunk(png::chunk::ChunkType(*b"tEXt"), b"Author\0J. Jansen")
        .unwrap();
    writer.finish().unwrap();
    png.extend_from_slice(b"Exif\0\0GPS after the end");
    png
}

#[test]
fn cleaning_never_reallocates_its_output() {
    for (kind, image) in [
        (Kind::Jpeg, jpeg_with_metadata()),
        (Kind::Png, png_with_metadata()),
    ] {
        let region = Region::new(GLOBAL);
        let cleaned = strip(kind, &image).unwrap();
        let counts = region.change();
        assert_eq!(counts.reallocations, 0, "{kind:?}: {counts:?}");
        assert_eq!(counts.allocations, 1, "{kind:?}: {counts:?}");
        assert_eq!(cleaned.capacity(), image.len(), "{kind:?}");
        assert!(cleaned.len() < image.len(), "{kind:?}");
    }
}
