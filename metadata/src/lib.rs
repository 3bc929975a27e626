//! Removing identifying metadata from photos before they are sealed.
//!
//! A photo taken with a phone carries far more than its picture: GPS positions, the camera's
//! make, model and serial number, the owner's name, dates, software, thumbnails of earlier
//! crops, and sometimes a whole second image or video with its own copy of all of that. A
//! reporter who attaches such a photo may name themselves without knowing it. This crate
//! rewrites JPEG and PNG files so that only what is needed to show the picture is left. It
//! is used by the CLI and by the relay's web form without JavaScript, and does no I/O: bytes
//! in, bytes out.
//!
//! It works by keeping, never by removing: each file is walked structure by structure, and
//! only structures on a short list are copied. Anything it does not understand is refused
//! (`None`), never passed through, and it must never panic on any input.
//!
//! # JPEG
//!
//! Kept: the tables and frame needed to decode (DQT, DHT, DAC, SOFn, DRI, DNL), every scan
//! with its entropy-coded data, and two small segments that cannot identify anyone:
//! - APP0 "JFIF", rewritten without its thumbnail (a thumbnail can show what a crop cut
//!   away): only its version, pixel density unit and density remain, which say how to lay
//!   out the pixels;
//! - APP14 "Adobe", cut to its twelve defined bytes (version, two flag words and the colour
//!   transform): decoders need it to tell CMYK from YCCK and RGB from YCbCr.
//!
//! Dropped: every other APPn segment, wherever it is (also between the scans of a
//! progressive JPEG) — EXIF with GPS and serial numbers and its thumbnail (APP1), XMP
//! (APP1), MPF descriptions of further images (APP2), IPTC (APP13), vendor segments — and
//! every comment (COM). ICC colour profiles (APP2) are dropped too: a profile's description
//! strings can name the device model, and without one a picture is shown as sRGB, which
//! shifts the colours of a wide-gamut photo a little. The file ends at the end-of-image
//! marker of the first (primary) image: what phones append after it — a second image of an
//! MPO file, a "Motion Photo" video, editing data — is dropped whole. Fill bytes before
//! markers are dropped.
//!
//! Refused: a truncated segment, a segment length below two, bytes other than a marker
//! between segments, a scan before a frame, a second frame, a file without a frame, a scan
//! or an end-of-image marker, and markers of hierarchical or other rarely used JPEG
//! extensions.
//!
//! # PNG
//!
//! Kept: the critical chunks IHDR, PLTE, IDAT and IEND, and the colour and transparency
//! chunks tRNS, gAMA, cHRM, sRGB, sBIT and bKGD, each copied as it is. Dropped: every other
//! chunk — text (tEXt, zTXt, iTXt), EXIF (eXIf), time (tIME), physical pixel size (pHYs), ICC
//! profiles (iCCP, for the reason above), animation chunks (an animated PNG shows its default
//! image) and any private or unknown chunk — and everything after IEND. Refused: a wrong
//! signature, a truncated chunk, a chunk length above 2³¹−1, a chunk type that is not four
//! letters, a wrong CRC, a first chunk other than IHDR (or an IHDR of the wrong size), no
//! image data, and no IEND.
//!
//! # What stays
//!
//! The picture itself, which may still identify someone (faces, places, screens, reflections,
//! and the sensor noise of a particular camera) — that is for the reporter to judge. The
//! JPEG quantisation and Huffman tables are needed to decode and stay: they can hint at the
//! kind of camera or software that made the file, not at a particular device.
//!
//! # Plaintext hygiene
//!
//! The cleaned file is never longer than the original, so its buffer is allocated once with
//! the original's length as capacity and never grows: a reallocation would free an earlier,
//! partial copy of the photo without wiping it. Writes that would exceed the capacity are
//! refused instead. The buffer is returned in [`Zeroizing`], so it is wiped when dropped,
//! also when cleaning fails half-way.

#![forbid(unsafe_code)]

use zeroize::Zeroizing;

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
    } else if head.starts_with(PNG_SIGNATURE) {
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
/// to be. The result is wiped when dropped.
pub fn strip(kind: Kind, bytes: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    match kind {
        Kind::Jpeg => strip_jpeg(bytes),
        Kind::Png => strip_png(bytes),
        Kind::MisnamedImage | Kind::Other => None,
    }
}

/// The cleaned file being written: one buffer, allocated up front with the input's length as
/// capacity, that never grows.
struct Output {
    bytes: Zeroizing<Vec<u8>>,
}

impl Output {
    fn for_input(input: &[u8]) -> Self {
        Output {
            bytes: Zeroizing::new(Vec::with_capacity(input.len())),
        }
    }

    /// Appends `part`, or refuses (`None`) if it does not fit in the capacity: growing the
    /// buffer would leave an unwiped copy behind.
    fn write(&mut self, part: &[u8]) -> Option<()> {
        if part.len() > self.bytes.capacity() - self.bytes.len() {
            return None;
        }
        self.bytes.extend_from_slice(part);
        Some(())
    }

    fn finish(self) -> Zeroizing<Vec<u8>> {
        self.bytes
    }
}

const START_OF_IMAGE: u8 = 0xD8;
const END_OF_IMAGE: u8 = 0xD9;
const START_OF_SCAN: u8 = 0xDA;
const APPLICATION_0: u8 = 0xE0;
const APPLICATION_14: u8 = 0xEE;
/// APP0 "JFIF" starts with this identifier, then its version (2 bytes), density unit (1) and
/// horizontal and vertical density (2 each); a thumbnail's width and height (1 each) and its
/// pixels follow.
const JFIF_IDENTIFIER: &[u8] = b"JFIF\0";
const JFIF_FIELDS_LENGTH: usize = 7;
/// APP14 "Adobe": the identifier, version (2 bytes), two flag words (2 each) and the colour
/// transform (1).
const ADOBE_IDENTIFIER: &[u8] = b"Adobe";
const ADOBE_LENGTH: usize = 12;

fn strip_jpeg(bytes: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let mut output = Output::for_input(bytes);
    let mut rest = bytes.strip_prefix(&[0xFF, START_OF_IMAGE])?;
    output.write(&[0xFF, START_OF_IMAGE])?;
    let mut seen_frame = false;
    let mut seen_scan = false;
    loop {
        let (marker, after_marker) = next_marker(rest)?;
        if marker == END_OF_IMAGE {
            if !seen_scan {
                return None;
            }
            output.write(&[0xFF, END_OF_IMAGE])?;
            return Some(output.finish());
        }
        let (payload, after_segment) = split_segment(after_marker)?;
        rest = after_segment;
        match marker {
            START_OF_SCAN => {
                if !seen_frame {
                    return None;
                }
                let data_length = entropy_coded_length(after_segment)?;
                write_segment(&mut output, marker, &[payload])?;
                output.write(&after_segment[..data_length])?;
                rest = &after_segment[data_length..];
                seen_scan = true;
            }
            // Baseline, extended, progressive and lossless frames, Huffman or arithmetic;
            // differential frames belong to hierarchical JPEG, which is refused.
            0xC0..=0xC3 | 0xC9..=0xCB => {
                if seen_frame {
                    return None;
                }
                seen_frame = true;
                write_segment(&mut output, marker, &[payload])?;
            }
            // Huffman tables (DHT), arithmetic conditioning (DAC), number of lines (DNL),
            // quantisation tables (DQT) and restart interval (DRI).
            0xC4 | 0xCC | 0xDB..=0xDD => write_segment(&mut output, marker, &[payload])?,
            APPLICATION_0 => {
                if let Some(fields) = payload
                    .strip_prefix(JFIF_IDENTIFIER)
                    .and_then(|fields| fields.get(..JFIF_FIELDS_LENGTH))
                {
                    // A thumbnail width and height of 0: no thumbnail.
                    let parts = [JFIF_IDENTIFIER, fields, &[0, 0]];
                    write_segment(&mut output, marker, &parts)?;
                }
            }
            APPLICATION_14 => {
                if let Some(adobe) = payload
                    .get(..ADOBE_LENGTH)
                    .filter(|adobe| adobe.starts_with(ADOBE_IDENTIFIER))
                {
                    write_segment(&mut output, marker, &[adobe])?;
                }
            }
            // Every other application segment, and comments.
            0xE1..=0xED | 0xEF | 0xFE => {}
            // A second start of image, restart markers outside a scan, TEM, hierarchical
            // JPEG (DHP, EXP, differential frames), JPEG extensions and reserved markers.
            _ => return None,
        }
    }
}

/// The marker at the start of `bytes` and what follows it: 0xFF, any number of 0xFF fill
/// bytes, and the marker's code. `None` if `bytes` does not start with a marker.
fn next_marker(bytes: &[u8]) -> Option<(u8, &[u8])> {
    let after_first = bytes.strip_prefix(&[0xFF])?;
    let fill_length = after_first.iter().position(|&byte| byte != 0xFF)?;
    after_first[fill_length..]
        .split_first()
        .map(|(&marker, rest)| (marker, rest))
}

/// A marker segment's payload (without its 2-byte length) and what follows the segment.
fn split_segment(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let (length, _) = bytes.split_first_chunk::<2>()?;
    let length = usize::from(u16::from_be_bytes(*length));
    if length < 2 {
        return None;
    }
    let segment = bytes.get(..length)?;
    Some((&segment[2..], &bytes[length..]))
}

/// Writes a marker segment: the marker, the length (which counts its own two bytes) and the
/// payload, given in parts.
fn write_segment(output: &mut Output, marker: u8, payload: &[&[u8]]) -> Option<()> {
    let payload_length: usize = payload.iter().map(|part| part.len()).sum();
    let length = u16::try_from(payload_length + 2).ok()?;
    output.write(&[0xFF, marker])?;
    output.write(&length.to_be_bytes())?;
    payload.iter().try_for_each(|part| output.write(part))
}

/// The length of the entropy-coded data at the start of `bytes`: it ends at the first 0xFF
/// that is followed by neither 0x00 (a stuffed 0xFF) nor a restart marker (0xD0–0xD7).
/// `None` if the data runs to the end of the file.
fn entropy_coded_length(bytes: &[u8]) -> Option<usize> {
    let mut index = 0;
    loop {
        index += bytes[index..].iter().position(|&byte| byte == 0xFF)?;
        match bytes.get(index + 1)? {
            0x00 | 0xD0..=0xD7 => index += 2,
            _ => return Some(index),
        }
    }
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
/// The chunks a PNG needs to be shown as it was meant to look.
const PNG_KEPT_CHUNKS: [&[u8; 4]; 10] = [
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"bKGD",
];
const PNG_HEADER_LENGTH: usize = 13;
const PNG_MAXIMUM_CHUNK_LENGTH: u32 = 0x7FFF_FFFF;

fn strip_png(bytes: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let mut output = Output::for_input(bytes);
    let mut rest = bytes.strip_prefix(PNG_SIGNATURE)?;
    output.write(PNG_SIGNATURE)?;
    let mut seen_header = false;
    let mut seen_image_data = false;
    loop {
        let (chunk, after_chunk) = split_chunk(rest)?;
        rest = after_chunk;
        match (&chunk.kind, seen_header) {
            (b"IHDR", false) if chunk.data.len() == PNG_HEADER_LENGTH => seen_header = true,
            (b"IHDR", _) | (_, false) => return None,
            _ => {}
        }
        seen_image_data |= &chunk.kind == b"IDAT";
        if PNG_KEPT_CHUNKS.contains(&&chunk.kind) {
            output.write(chunk.whole)?;
        }
        if &chunk.kind == b"IEND" {
            if !seen_image_data || !chunk.data.is_empty() {
                return None;
            }
            return Some(output.finish());
        }
    }
}

/// A PNG chunk whose length, type and CRC have been checked.
struct Chunk<'a> {
    kind: [u8; 4],
    data: &'a [u8],
    /// Length, type, data and CRC.
    whole: &'a [u8],
}

/// The chunk at the start of `bytes` and what follows it.
fn split_chunk(bytes: &[u8]) -> Option<(Chunk<'_>, &[u8])> {
    let (length, _) = bytes.split_first_chunk::<4>()?;
    let length = u32::from_be_bytes(*length);
    if length > PNG_MAXIMUM_CHUNK_LENGTH {
        return None;
    }
    let data_end = 8usize.checked_add(usize::try_from(length).ok()?)?;
    let whole = bytes.get(..data_end.checked_add(4)?)?;
    let kind: [u8; 4] = whole[4..8].try_into().ok()?;
    if !kind.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let crc: [u8; 4] = whole[data_end..].try_into().ok()?;
    if crc32fast::hash(&whole[4..data_end]) != u32::from_be_bytes(crc) {
        return None;
    }
    let chunk = Chunk {
        kind,
        data: &whole[8..data_end],
        whole,
    };
    Some((chunk, &bytes[whole.len()..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Made by libjpeg-turbo 2.1.5 from the same 48 × 32 picture as [`picture_png`]:
    /// `cjpeg -quality 85 -restart 1` (baseline, a restart marker after every MCU row) and
    /// `cjpeg -quality 85 -progressive` (ten scans). Neither has metadata besides JFIF.
    const BASELINE: &[u8] = include_bytes!("../testdata/baseline.jpg");
    const PROGRESSIVE: &[u8] = include_bytes!("../testdata/progressive.jpg");

    const WIDTH: u32 = 48;
    const HEIGHT: u32 = 32;

    /// Byte strings that only metadata in these tests contains.
    const METADATA_STRINGS: [&[u8]; 9] = [
        b"Exif", b"GPS", b"ftyp", b"MPF", b"SERIAL", b"Jansen", b"Pixel", b"eXIf", b"tEXt",
    ];

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack
            .windows(needle.len())
            .any(|window| window == needle)
    }

    fn assert_no_metadata(cleaned: &[u8]) {
        for metadata in METADATA_STRINGS {
            assert!(
                !contains(cleaned, metadata),
                "{} survived",
                String::from_utf8_lossy(metadata)
            );
        }
    }

    fn jpeg_segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let length = u16::try_from(payload.len() + 2).unwrap();
        [&[0xFF, marker], &length.to_be_bytes()[..], payload].concat()
    }

    /// An EXIF APP1 segment with a GPS position and a serial number.
    fn exif_segment() -> Vec<u8> {
        jpeg_segment(
            0xE1,
            b"Exif\0\0MM\0*\0\0\0\x08GPSLatitude 52.0907N GPSLongitude 5.1214E SERIAL-12345",
        )
    }

    /// `jpeg` with `inserted` placed at byte `position`.
    fn inserted_at(jpeg: &[u8], position: usize, inserted: &[Vec<u8>]) -> Vec<u8> {
        [&jpeg[..position], &inserted.concat(), &jpeg[position..]].concat()
    }

    /// Where each scan of `jpeg` starts; the fixtures have no 0xFF 0xDA elsewhere.
    fn scan_positions(jpeg: &[u8]) -> Vec<usize> {
        (0..jpeg.len() - 1)
            .filter(|&index| jpeg[index..].starts_with(&[0xFF, START_OF_SCAN]))
            .collect()
    }

    fn decode_jpeg(jpeg: &[u8]) -> (u16, u16, Vec<u8>) {
        let mut decoder = jpeg_decoder::Decoder::new(jpeg);
        let pixels = decoder.decode().unwrap();
        let info = decoder.info().unwrap();
        (info.width, info.height, pixels)
    }

    /// `cleaned` is exactly `original_without_metadata`: the same picture, nothing after EOI.
    fn assert_cleaned_jpeg(cleaned: &[u8], original_without_metadata: &[u8]) {
        assert_no_metadata(cleaned);
        assert!(cleaned.ends_with(&[0xFF, END_OF_IMAGE]));
        assert_eq!(cleaned, original_without_metadata);
        let (width, height, pixels) = decode_jpeg(cleaned);
        assert_eq!((u32::from(width), u32::from(height)), (WIDTH, HEIGHT));
        assert_eq!(
            (width, height, pixels),
            decode_jpeg(original_without_metadata)
        );
    }

    #[test]
    fn a_jpeg_with_an_appended_exif_gps_jpeg_loses_it() {
        let multi_picture = jpeg_segment(
            0xE2,
            b"MPF\0MM\0*\0\0\0\x08second image: Exif with GPS at the end",
        );
        let primary = inserted_at(BASELINE, 2, &[exif_segment(), multi_picture]);
        let second = inserted_at(PROGRESSIVE, 2, &[exif_segment()]);
        let original = [primary, second].concat();
        assert!([&b"Exif"[..], b"GPS", b"MPF"]
            .iter()
            .all(|metadata| contains(&original, metadata)));
        let cleaned = strip(Kind::Jpeg, &original).unwrap();
        assert_cleaned_jpeg(&cleaned, BASELINE);
    }

    #[test]
    fn a_jpeg_with_an_appended_motion_photo_video_loses_it() {
        let motion_photo = jpeg_segment(
            0xE1,
            b"http://ns.adobe.com/xap/1.0/\0<GCamera:MotionPhoto>1</GCamera:MotionPhoto>",
        );
        let video = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom\0\0\0\x10mdatGPS SERIAL";
        let original = [&inserted_at(BASELINE, 2, &[motion_photo])[..], video].concat();
        assert!(contains(&original, b"ftyp"));
        let cleaned = strip(Kind::Jpeg, &original).unwrap();
        assert_cleaned_jpeg(&cleaned, BASELINE);
    }

    #[test]
    fn a_progressive_jpeg_with_app1_between_scans_loses_it() {
        let scans = scan_positions(PROGRESSIVE);
        assert!(scans.len() > 2);
        let before_end = PROGRESSIVE.len() - 2;
        let comment = jpeg_segment(0xFE, b"taken by J. Jansen");
        let iptc = jpeg_segment(0xED, b"Photoshop 3.0\0GPS SERIAL");
        let with_end_metadata = inserted_at(PROGRESSIVE, before_end, &[comment, iptc]);
        let original = inserted_at(&with_end_metadata, scans[1], &[exif_segment()]);
        assert_eq!(
            scan_positions(&original)[1],
            scans[1] + exif_segment().len()
        );
        let cleaned = strip(Kind::Jpeg, &original).unwrap();
        assert_cleaned_jpeg(&cleaned, PROGRESSIVE);
    }

    #[test]
    fn jfif_thumbnails_icc_profiles_and_fill_bytes_go_and_adobe_stays() {
        // The fixture's APP0 takes bytes 2..20 and has no thumbnail.
        assert_eq!(&BASELINE[4..11], b"\x00\x10JFIF\0");
        let jfif = &BASELINE[2..20];
        let mut jfif_with_thumbnail = BASELINE[6..18].to_vec();
        jfif_with_thumbnail.extend_from_slice(&[2, 1]);
        jfif_with_thumbnail.extend_from_slice(b"GPSGPS");
        let icc = jpeg_segment(0xE2, b"ICC_PROFILE\0\x01\x01desc Pixel 7 Pro");
        let adobe = jpeg_segment(0xEE, b"Adobe\0\x64\0\0\0\0\x01");
        let adobe_with_more = jpeg_segment(0xEE, b"Adobe\0\x64\0\0\0\0\x01 SERIAL-12345");
        let original = [
            &BASELINE[..2],
            &jpeg_segment(APPLICATION_0, &jfif_with_thumbnail),
            &[0xFF, 0xFF, 0xFF],
            &icc,
            &adobe_with_more,
            &BASELINE[20..],
        ]
        .concat();
        let cleaned = strip(Kind::Jpeg, &original).unwrap();
        let expected = [&BASELINE[..2], jfif, &adobe, &BASELINE[20..]].concat();
        assert_cleaned_jpeg(&cleaned, &expected);
    }

    #[test]
    fn malformed_jpegs_are_refused() {
        let frame = (0..BASELINE.len())
            .find(|&index| BASELINE[index..].starts_with(&[0xFF, 0xC0, 0x00, 0x11]))
            .unwrap();
        let scan = scan_positions(BASELINE)[0];
        let malformed: [Vec<u8>; 10] = [
            Vec::new(),
            b"not a jpeg".to_vec(),
            inserted_at(BASELINE, 2, &[vec![0xFF, 0xE1, 0x00, 0x01]]),
            inserted_at(BASELINE, 2, &[vec![0xFF, 0xE1, 0x00, 0x00]]),
            [&BASELINE[..2], &[0xFF, 0xE1, 0xFF, 0xF0, 0x00][..]].concat(),
            BASELINE[..BASELINE.len() - 2].to_vec(),
            [&BASELINE[..frame], &BASELINE[frame + 19..]].concat(),
            [&BASELINE[..scan], &[0xFF, END_OF_IMAGE][..]].concat(),
            inserted_at(BASELINE, 2, &[b"junk".to_vec()]),
            inserted_at(BASELINE, 2, &[vec![0xFF, START_OF_IMAGE]]),
        ];
        for (index, bytes) in malformed.iter().enumerate() {
            assert_eq!(strip(Kind::Jpeg, bytes), None, "case {index}");
        }
        let second_frame = BASELINE[frame..frame + 19].to_vec();
        assert_eq!(
            strip(Kind::Jpeg, &inserted_at(BASELINE, frame, &[second_frame])),
            None
        );
    }

    /// The picture's pixels, 8-bit RGB: the same picture as the JPEG fixtures.
    fn picture_pixels() -> Vec<u8> {
        let mut pixels = Vec::new();
        for y in 0..HEIGHT {
            for x in 0..WIDTH {
                let checker = (x / 6 + y / 6) % 2 == 1;
                pixels.extend_from_slice(&[
                    u8::try_from(x * 255 / (WIDTH - 1)).unwrap(),
                    u8::try_from(y * 255 / (HEIGHT - 1)).unwrap(),
                    if checker { 255 } else { 40 },
                ]);
            }
        }
        pixels
    }

    /// The picture encoded by the `png` crate, with `before` chunks between IHDR and IDAT
    /// and `after` chunks between IDAT and IEND.
    fn picture_png(before: &[(&[u8; 4], &[u8])], after: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, WIDTH, HEIGHT);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        for (kind, data) in before {
            writer
                .write_chunk(png::chunk::ChunkType(**kind), data)
                .unwrap();
        }
        writer.write_image_data(&picture_pixels()).unwrap();
        for (kind, data) in after {
            writer
                .write_chunk(png::chunk::ChunkType(**kind), data)
                .unwrap();
        }
        writer.finish().unwrap();
        bytes
    }

    /// Appended after IEND by [`png_with_metadata`].
    const TRAILING_DATA: &[u8] = b"Exif\0\0GPS after the end";

    /// The picture with metadata in every place a PNG can hold it.
    fn png_with_metadata() -> Vec<u8> {
        let png = picture_png(
            &[
                (b"iCCP", b"Pixel 7 Pro\0\0x"),
                (b"pHYs", &[0, 0, 0x0B, 0x13, 0, 0, 0x0B, 0x13, 1]),
                (b"tIME", &[0x07, 0xE9, 6, 1, 12, 0, 0]),
            ],
            &[
                (b"eXIf", b"MM\0*\0\0\0\x08GPSLatitude 52.0907N SERIAL-12345"),
                (b"tEXt", b"Author\0J. Jansen"),
                (b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0<exif:GPSLatitude/>"),
                (b"prVt", b"SERIAL-12345"),
            ],
        );
        [&png[..], TRAILING_DATA].concat()
    }

    fn decode_png(png: &[u8]) -> (u32, u32, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut pixels).unwrap();
        pixels.truncate(frame.buffer_size());
        (frame.width, frame.height, pixels)
    }

    /// `cleaned` is exactly `original_without_metadata`: the same picture, nothing after IEND.
    fn assert_cleaned_png(cleaned: &[u8], original_without_metadata: &[u8]) {
        assert_no_metadata(cleaned);
        assert!(cleaned.ends_with(b"IEND\xAE\x42\x60\x82"));
        assert_eq!(cleaned, original_without_metadata);
        let (width, height, pixels) = decode_png(cleaned);
        assert_eq!((width, height), (WIDTH, HEIGHT));
        assert_eq!(
            (width, height, pixels),
            decode_png(original_without_metadata)
        );
    }

    #[test]
    fn a_png_with_exif_and_text_after_idat_loses_them() {
        let original = png_with_metadata();
        assert!([&b"eXIf"[..], b"tEXt", b"GPS"]
            .iter()
            .all(|metadata| contains(&original, metadata)));
        let cleaned = strip(Kind::Png, &original).unwrap();
        assert_cleaned_png(&cleaned, &picture_png(&[], &[]));
        assert_eq!(decode_png(&cleaned).2, picture_pixels());
    }

    #[test]
    fn png_colour_and_transparency_chunks_stay() {
        let chromaticities: Vec<u8> = [31270u32, 32900, 64000, 33000, 30000, 60000, 15000, 6000]
            .iter()
            .flat_map(|value| value.to_be_bytes())
            .collect();
        let colour: [(&[u8; 4], &[u8]); 6] = [
            (b"gAMA", &45455u32.to_be_bytes()),
            (b"cHRM", &chromaticities),
            (b"sRGB", &[0]),
            (b"sBIT", &[8, 8, 8]),
            (b"bKGD", &[0, 255, 0, 255, 0, 255]),
            (b"tRNS", &[0, 255, 0, 0, 0, 40]),
        ];
        let original = picture_png(
            &[&colour[..], &[(b"iCCP", b"Pixel 7 Pro\0\0x")]].concat(),
            &[(b"tEXt", b"Author\0J. Jansen")],
        );
        let cleaned = strip(Kind::Png, &original).unwrap();
        assert_cleaned_png(&cleaned, &picture_png(&colour, &[]));
    }

    #[test]
    fn malformed_pngs_are_refused() {
        let png = picture_png(&[], &[]);
        let length = png.len();
        // Signature 0..8, IHDR 8..33, then IDAT.
        let with_bad_crc = [&png[..length - 1], &[0][..]].concat();
        let without_end = png[..length - 12].to_vec();
        let header_twice = inserted_at(&png, 33, &[png[8..33].to_vec()]);
        let without_header = [&png[..8], &png[33..]].concat();
        let without_image_data = [&png[..33], &png[length - 12..]].concat();
        let mut bad_type = png.clone();
        bad_type[12] = b'1';
        let mut too_long = png.clone();
        too_long[8..12].copy_from_slice(&0x8000_0000u32.to_be_bytes());
        let mut past_the_end = png.clone();
        past_the_end[length - 12..length - 8].copy_from_slice(&1u32.to_be_bytes());
        let malformed: [Vec<u8>; 10] = [
            Vec::new(),
            png[1..].to_vec(),
            with_bad_crc,
            without_end,
            header_twice,
            without_header,
            without_image_data,
            bad_type,
            too_long,
            past_the_end,
        ];
        for (index, bytes) in malformed.iter().enumerate() {
            assert_eq!(strip(Kind::Png, bytes), None, "case {index}");
        }
    }

    #[test]
    fn kinds_come_from_the_content_then_the_name() {
        assert_eq!(kind(BASELINE, "x.bin"), Kind::Jpeg);
        assert_eq!(kind(&picture_png(&[], &[]), "x.bin"), Kind::Png);
        assert_eq!(kind(b"hello", "foto.JPG"), Kind::MisnamedImage);
        assert_eq!(kind(b"hello", "notes.pdf"), Kind::Other);
        assert_eq!(strip(Kind::MisnamedImage, BASELINE), None);
        assert_eq!(strip(Kind::Other, BASELINE), None);
        assert_eq!(strip(Kind::Png, BASELINE), None);
        assert_eq!(strip(Kind::Jpeg, &picture_png(&[], &[])), None);
    }

    fn jpeg_with_metadata() -> Vec<u8> {
        let original = inserted_at(BASELINE, 2, &[exif_segment()]);
        [
            &original[..],
            &inserted_at(PROGRESSIVE, 2, &[exif_segment()]),
        ]
        .concat()
    }

    /// What any accepted output must be: no longer than its input, starting and ending as
    /// the format requires.
    fn assert_well_formed_if_accepted(kind: Kind, input: &[u8]) {
        if let Some(cleaned) = strip(kind, input) {
            assert!(cleaned.len() <= input.len());
            if kind == Kind::Jpeg {
                assert!(cleaned.starts_with(&[0xFF, START_OF_IMAGE]));
                assert!(cleaned.ends_with(&[0xFF, END_OF_IMAGE]));
            } else {
                assert!(cleaned.starts_with(PNG_SIGNATURE));
                assert!(cleaned.ends_with(b"IEND\xAE\x42\x60\x82"));
            }
        }
    }

    proptest! {
        #[test]
        fn random_bytes_are_refused(
            garbage in proptest::collection::vec(any::<u8>(), 0..2048),
        ) {
            for kind in [Kind::Jpeg, Kind::Png] {
                prop_assert_eq!(strip(kind, &garbage), None);
            }
            let jpeg = [&[0xFF, START_OF_IMAGE, 0xFF][..], &garbage].concat();
            prop_assert_eq!(strip(Kind::Jpeg, &jpeg), None);
            let png = [PNG_SIGNATURE, &garbage].concat();
            prop_assert_eq!(strip(Kind::Png, &png), None);
        }

        #[test]
        fn truncated_images_are_refused(cut in any::<prop::sample::Index>()) {
            // Cut anywhere before the end of the primary image's end marker or IEND chunk.
            let jpeg = jpeg_with_metadata();
            let jpeg_end = BASELINE.len() + exif_segment().len();
            prop_assert_eq!(strip(Kind::Jpeg, &jpeg[..cut.index(jpeg_end)]), None);
            let png = png_with_metadata();
            let png_end = png.len() - TRAILING_DATA.len();
            prop_assert_eq!(strip(Kind::Png, &png[..cut.index(png_end)]), None);
        }

        #[test]
        fn corrupted_images_never_panic(position in any::<prop::sample::Index>(), byte in any::<u8>()) {
            for (kind, mut image) in [(Kind::Jpeg, jpeg_with_metadata()), (Kind::Png, png_with_metadata())] {
                let index = position.index(image.len());
                image[index] = byte;
                assert_well_formed_if_accepted(kind, &image);
                assert_well_formed_if_accepted(kind, &image[..index]);
            }
        }
    }
}
