//! Criterion benchmarks of the crypto core, with raw age measured in the same run so that
//! our wrapper's overhead can be stated as a ratio (see `docs/benchmarks.md`).
//!
//! `cargo bench -p meldpunt-crypto --bench crypto`

use std::hint::black_box;
use std::io::{self, Write};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use meldpunt_crypto::{
    open_stream, seal_stream, AttachmentReference, Day, Directory, DirectoryRecipient,
    DirectorySigningKey, IdentityKey, LocalisedName, Organisation, ReceiptCode, Role,
    SignedDirectory,
};

const SIZES: [(&str, usize); 3] = [("1KiB", 1024), ("1MiB", 1 << 20), ("100MiB", 100 << 20)];

fn content(length: usize) -> Vec<u8> {
    (0..length).map(|index| (index % 251) as u8).collect()
}

fn raw_age_seal(recipient: &age::x25519::Recipient, content: &[u8]) -> io::Result<()> {
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
            .expect("one recipient");
    let mut writer = encryptor.wrap_output(io::sink())?;
    writer.write_all(content)?;
    writer.finish().map(drop)
}

fn raw_age_open(identity: &age::x25519::Identity, sealed: &[u8]) -> io::Result<u64> {
    let decryptor = age::Decryptor::new_buffered(sealed).expect("valid header");
    let mut reader = decryptor
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .expect("our identity");
    io::copy(&mut reader, &mut io::sink())
}

fn seal_and_open(criterion: &mut Criterion) {
    let identity = IdentityKey::generate();
    let secret = identity.to_secret_string();
    let age_identity: age::x25519::Identity = secret.parse().unwrap();
    let age_recipient = age_identity.to_public();
    let recipients = [identity.recipient()];
    let identities = [identity];

    for (name, length) in SIZES {
        let data = content(length);
        let mut group = criterion.benchmark_group(format!("seal-{name}"));
        group.throughput(Throughput::Bytes(length as u64));
        if length > 1 << 20 {
            group.sample_size(10);
        }
        group.bench_function("meldpunt", |bencher| {
            bencher.iter(|| {
                seal_stream(&recipients, black_box(&data[..]), length as u64, io::sink()).unwrap()
            })
        });
        group.bench_function("raw-age", |bencher| {
            bencher.iter(|| raw_age_seal(&age_recipient, black_box(&data)).unwrap())
        });
        group.finish();

        let ours = seal_stream(&recipients, &data[..], length as u64, Vec::new()).unwrap();
        let mut raw = Vec::new();
        {
            let encryptor = age::Encryptor::with_recipients(std::iter::once(
                &age_recipient as &dyn age::Recipient,
            ))
            .unwrap();
            let mut writer = encryptor.wrap_output(&mut raw).unwrap();
            writer.write_all(&data).unwrap();
            writer.finish().unwrap();
        }
        let mut group = criterion.benchmark_group(format!("open-{name}"));
        group.throughput(Throughput::Bytes(length as u64));
        if length > 1 << 20 {
            group.sample_size(10);
        }
        group.bench_function("meldpunt", |bencher| {
            bencher.iter(|| {
                open_stream(&identities, black_box(&ours[..]), length as u64, io::sink()).unwrap()
            })
        });
        group.bench_function("raw-age", |bencher| {
            bencher.iter(|| raw_age_open(&age_identity, black_box(&raw)).unwrap())
        });
        group.finish();

        // Attachments also compute and check SHA-256 (the digest that binds them to their
        // message): a feature on top of sealing, measured separately.
        let mut group = criterion.benchmark_group(format!("attachment-{name}"));
        group.throughput(Throughput::Bytes(length as u64));
        if length > 1 << 20 {
            group.sample_size(10);
        }
        let (reference, sealed) = AttachmentReference::seal_stream(
            &recipients,
            "file.bin",
            &meldpunt_crypto::AttachmentId::generate().to_wire(),
            &data[..],
            length as u64,
            Vec::new(),
        )
        .unwrap();
        group.bench_function("seal-with-sha256", |bencher| {
            bencher.iter(|| {
                AttachmentReference::seal_stream(
                    &recipients,
                    "file.bin",
                    &meldpunt_crypto::AttachmentId::generate().to_wire(),
                    black_box(&data[..]),
                    length as u64,
                    io::sink(),
                )
                .unwrap()
            })
        });
        group.bench_function("open-with-sha256", |bencher| {
            bencher.iter(|| {
                reference
                    .open_stream(&identities, black_box(&sealed[..]), io::sink())
                    .unwrap()
            })
        });
        group.finish();
    }
}

fn seal_to_many(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("seal-1KiB-recipients");
    let data = content(1024);
    for count in [1usize, 5] {
        let recipients: Vec<_> = (0..count)
            .map(|_| IdentityKey::generate().recipient())
            .collect();
        group.bench_with_input(
            BenchmarkId::from_parameter(count),
            &recipients,
            |bencher, recipients| {
                bencher.iter(|| seal_stream(recipients, &data[..], 1024, io::sink()).unwrap())
            },
        );
    }
    group.finish();
}

/// Hybrid post-quantum keys (age mlkem768x25519) against classic X25519 keys, in one run:
/// sealing 1 KiB and 1 MiB to 1 and 5 keys, and opening with the last of 5 keys (each
/// earlier stanza is tried first, as a member's client does).
fn hybrid_against_classic(criterion: &mut Criterion) {
    for (name, length) in [("1KiB", 1024usize), ("1MiB", 1 << 20)] {
        let data = content(length);
        for count in [1usize, 5] {
            let mut group = criterion.benchmark_group(format!("keys-seal-{name}-to-{count}"));
            group.throughput(Throughput::Bytes(length as u64));
            for (kind, generate) in [
                ("classic", IdentityKey::generate as fn() -> IdentityKey),
                ("hybrid", IdentityKey::generate_post_quantum),
            ] {
                let recipients: Vec<_> = (0..count).map(|_| generate().recipient()).collect();
                group.bench_function(kind, |bencher| {
                    bencher.iter(|| {
                        seal_stream(&recipients, black_box(&data[..]), length as u64, io::sink())
                            .unwrap()
                    })
                });
            }
            group.finish();
        }
        let mut group = criterion.benchmark_group(format!("keys-open-{name}-from-5"));
        group.throughput(Throughput::Bytes(length as u64));
        for (kind, generate) in [
            ("classic", IdentityKey::generate as fn() -> IdentityKey),
            ("hybrid", IdentityKey::generate_post_quantum),
        ] {
            let mut identities: Vec<IdentityKey> = (0..5).map(|_| generate()).collect();
            let recipients: Vec<_> = identities.iter().map(IdentityKey::recipient).collect();
            let sealed = seal_stream(&recipients, &data[..], length as u64, Vec::new()).unwrap();
            let last = [identities.pop().unwrap()];
            group.bench_function(kind, |bencher| {
                bencher.iter(|| {
                    open_stream(&last, black_box(&sealed[..]), length as u64, io::sink()).unwrap()
                })
            });
        }
        group.finish();
    }
}

fn derivation(criterion: &mut Criterion) {
    let written = ReceiptCode::generate().to_written_form();
    criterion.bench_function("derive/parse-code-token-id-reply-key", |bencher| {
        bencher.iter(|| {
            let code = ReceiptCode::parse(black_box(&written)).unwrap();
            let id = code.mailbox_token().mailbox_id();
            let reply = code.reply_identity().recipient();
            (id, reply)
        })
    });
    criterion.bench_function("derive/generate-code", |bencher| {
        bencher.iter(ReceiptCode::generate)
    });
}

fn directory(criterion: &mut Criterion) {
    let key = DirectorySigningKey::generate();
    let issued: Day = "2026-11-01".parse().unwrap();
    let mut directory = Directory::new(issued, issued.plus_months(12));
    // A directory the size of Dutch central government: 40 organisations, 4 recipients each.
    for organisation in 0..40 {
        directory.organisations.push(Organisation {
            questions: Vec::new(),
            channels: Vec::new(),
            evaluation: Vec::new(),
            id: format!("organisation-{organisation}"),
            name: LocalisedName {
                nl: format!("Ministerie {organisation}"),
                en: format!("Ministry {organisation}"),
            },
            recipients: Role::ALL
                .iter()
                .map(|role| DirectoryRecipient {
                    id: role.as_str().to_owned(),
                    role: *role,
                    name: LocalisedName {
                        nl: role.as_str().to_owned(),
                        en: role.as_str().to_owned(),
                    },
                    keys: vec![
                        IdentityKey::generate().recipient(),
                        IdentityKey::generate().recipient(),
                    ],
                    signing_keys: vec![
                        IdentityKey::generate().office_signing_key().office_key(),
                        IdentityKey::generate().office_signing_key().office_key(),
                    ],
                })
                .collect(),
        });
    }
    let (_, signed) = directory.sign(&key).unwrap();
    let bytes = signed.as_bytes().to_vec();
    let pinned = key.directory_key();
    let today: Day = "2026-11-28".parse().unwrap();
    criterion.bench_function("directory/verify-40-organisations", |bencher| {
        bencher.iter(|| {
            SignedDirectory::from_bytes(black_box(bytes.clone()))
                .unwrap()
                .verify(&pinned, today, Some(1))
                .unwrap()
        })
    });
}

criterion_group!(
    benches,
    seal_and_open,
    seal_to_many,
    hybrid_against_classic,
    derivation,
    directory
);
criterion_main!(benches);
