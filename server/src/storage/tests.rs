//! Tests of the store on real redb files in temporary folders.

use std::path::Path;

use redb::{
    Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableHandle, WriteTransaction,
};

use super::*;
use crate::clock::{day_number, unix_seconds};

fn limits(messages: u32) -> MailboxLimits {
    MailboxLimits {
        messages,
        attachments: 10,
        bytes: u64::MAX,
        attachment_bytes: 100,
    }
}

/// The one recipient the tests' mailboxes are addressed to.
fn recipients() -> Vec<String> {
    vec!["integrity-office".into()]
}

/// An office session for that recipient of `organisation`.
fn office(organisation: &str) -> RecipientScope {
    RecipientScope {
        organisation: organisation.into(),
        recipient: "integrity-office".into(),
    }
}

/// Makes `mailbox` look idle for a year and a day, for retention.
async fn age_by_a_year_and_a_day(store: &Store, mailbox: [u8; 32]) {
    store
        .write(move |transaction| {
            let mut mailboxes = transaction.open_table(MAILBOXES)?;
            let mut record: MailboxRecord = decode(mailboxes.get(mailbox)?.unwrap().value())?;
            record.last_activity -= 366;
            mailboxes.insert(mailbox, encode(&record).as_slice())?;
            Ok(())
        })
        .await
        .unwrap();
}

fn store() -> (tempfile::TempDir, Store) {
    let directory = tempfile::tempdir().unwrap();
    let store = Store::open(&directory.path().join("test.redb")).unwrap();
    (directory, store)
}

#[tokio::test]
async fn mailboxes_hold_messages_in_order() {
    let (_directory, store) = store();
    let mailbox = [1u8; 32];
    let first = store
        .create_mailbox(
            mailbox,
            "demo".into(),
            recipients(),
            b"report".to_vec(),
            None,
        )
        .await
        .unwrap();
    let (position, second) = store
        .append_message(
            mailbox,
            Author::Office,
            Some(office("demo")),
            b"reply".to_vec(),
            limits(10),
        )
        .await
        .unwrap();
    assert_eq!(position, 2);
    assert!(second > first);
    let listed = store.list_mailbox(mailbox, 0, 10).await.unwrap().unwrap();
    assert_eq!(
        listed.iter().map(|m| m.author).collect::<Vec<_>>(),
        [Author::Reporter, Author::Office]
    );
    assert_eq!(
        store
            .list_mailbox(mailbox, 1, 10)
            .await
            .unwrap()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store.mailbox_message(mailbox, 2).await.unwrap().unwrap(),
        b"reply"
    );
    assert!(matches!(
        store
            .create_mailbox(
                mailbox,
                "demo".into(),
                recipients(),
                b"again".to_vec(),
                None
            )
            .await,
        Err(StoreError::MailboxExists)
    ));
    assert!(matches!(
        store
            .append_message(
                mailbox,
                Author::Office,
                Some(office("other")),
                b"x".to_vec(),
                limits(10)
            )
            .await,
        Err(StoreError::MailboxNotFound)
    ));
    assert!(matches!(
        store
            .append_message(mailbox, Author::Reporter, None, b"x".to_vec(), limits(2))
            .await,
        Err(StoreError::MailboxFull("messages"))
    ));
}

#[tokio::test]
async fn a_refused_write_does_not_spoil_its_batch() {
    let (_directory, store) = store();
    store
        .create_mailbox(
            [200u8; 32],
            "demo".into(),
            recipients(),
            b"r".to_vec(),
            None,
        )
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for index in 0..50u8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            // Every fifth one collides with the existing mailbox.
            let id = if index % 5 == 0 {
                [200u8; 32]
            } else {
                [index; 32]
            };
            store
                .create_mailbox(id, "demo".into(), recipients(), b"r".to_vec(), None)
                .await
        }));
    }
    let mut created = 0;
    for task in tasks {
        if task.await.unwrap().is_ok() {
            created += 1;
        }
    }
    assert_eq!(created, 40);
    assert_eq!(store.counts().await.unwrap().mailboxes, 41);
}

#[tokio::test]
async fn sessions_expire_and_purge_forgets_them() {
    let (_directory, store) = store();
    let grant = Grant {
        organisation: "demo".into(),
        recipient: "integrity-office".into(),
        expires_at: unix_seconds() + 60,
    };
    store.open_session([2; 32], grant).await.unwrap();
    assert!(store.session([2; 32]).await.unwrap().is_some());
    // An expired session grants nothing, and purge forgets it.
    let expired = Grant {
        organisation: "demo".into(),
        recipient: "integrity-office".into(),
        expires_at: unix_seconds() - 1,
    };
    store
        .write(move |transaction| {
            transaction
                .open_table(SESSIONS)?
                .insert([4; 32], encode(&expired).as_slice())?;
            Ok(())
        })
        .await
        .unwrap();
    assert!(store.session([4; 32]).await.unwrap().is_none());
    assert_eq!(store.purge(365).await.unwrap().expired_grants, 1);
    assert!(store.session([2; 32]).await.unwrap().is_some());
}

#[tokio::test]
async fn a_spent_stamp_is_refused() {
    let (_directory, store) = store();
    let spent = meldpunt_crypto::SpentStamp {
        nonce: [3; 16],
        expires_at: u64::MAX,
    };
    store
        .create_mailbox(
            [1; 32],
            "demo".into(),
            recipients(),
            b"r".to_vec(),
            Some(spent),
        )
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_mailbox(
                [2; 32],
                "demo".into(),
                recipients(),
                b"r".to_vec(),
                Some(spent)
            )
            .await,
        Err(StoreError::StampSpent)
    ));
    assert!(store.mailbox([2; 32]).await.unwrap().is_none());
}

#[tokio::test]
async fn purge_deletes_idle_mailboxes_with_everything_in_them() {
    let (_directory, store) = store();
    let mailbox = [4u8; 32];
    store
        .create_mailbox(mailbox, "demo".into(), recipients(), b"r".to_vec(), None)
        .await
        .unwrap();
    store
        .begin_attachment([5; 16], mailbox, Author::Reporter, None, limits(10), None)
        .await
        .unwrap();
    store.put_chunk([5; 16], 0, vec![1; 10]).await.unwrap();
    store.finish_attachment([5; 16], 10, 1).await.unwrap();
    age_by_a_year_and_a_day(&store, mailbox).await;
    let kept = store
        .create_mailbox([6; 32], "demo".into(), recipients(), b"r".to_vec(), None)
        .await;
    assert!(kept.is_ok());
    let counts = store.purge(365).await.unwrap();
    assert_eq!(
        (counts.mailboxes, counts.messages, counts.attachments),
        (1, 1, 1)
    );
    assert!(store.mailbox(mailbox).await.unwrap().is_none());
    assert!(store.attachment_chunk([5; 16], 0).await.unwrap().is_none());
    assert_eq!(
        store
            .list_recipient(office("demo"), 0, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn backup_is_a_consistent_openable_copy() {
    let (directory, store) = store();
    store
        .create_mailbox([7; 32], "demo".into(), recipients(), b"r".to_vec(), None)
        .await
        .unwrap();
    let target = directory.path().join("backup.redb");
    let counts = store.backup(target.clone()).await.unwrap();
    assert_eq!((counts.mailboxes, counts.messages), (1, 1));
    assert!(matches!(
        store.backup(target.clone()).await,
        Err(StoreError::BackupRefused(_))
    ));
    drop(store);
    let restored = Store::open(&target).unwrap();
    assert_eq!(
        restored.mailbox_message([7; 32], 1).await.unwrap().unwrap(),
        b"r"
    );
}

#[tokio::test]
async fn two_organisations_number_their_messages_independently() {
    let (_directory, store) = store();
    // Interleaved writes to two organisations: each counts 1, 2, 3 on its own, so an
    // office learns nothing of the other organisation's activity from its numbers.
    for round in 0..3u8 {
        for (organisation, base) in [("alpha", 10u8), ("beta", 20u8)] {
            let number = store
                .create_mailbox(
                    [base + round; 32],
                    organisation.into(),
                    recipients(),
                    b"report".to_vec(),
                    None,
                )
                .await
                .unwrap();
            assert_eq!(number, u64::from(round) + 1, "{organisation}");
        }
    }
    let (_, reply) = store
        .append_message(
            [20; 32],
            Author::Office,
            Some(office("beta")),
            b"reply".to_vec(),
            limits(10),
        )
        .await
        .unwrap();
    assert_eq!(reply, 4);
    let alpha = store.list_recipient(office("alpha"), 0, 100).await.unwrap();
    assert_eq!(
        alpha.iter().map(|(number, _)| *number).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    // The same number in two organisations is two different messages.
    assert_eq!(
        store.recipient_message(office("beta"), 4).await.unwrap(),
        Some(b"reply".to_vec())
    );
    assert_eq!(
        store.recipient_message(office("alpha"), 4).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn each_side_has_its_own_byte_quota_and_a_refusal_changes_nothing() {
    let (_directory, store) = store();
    let mailbox = [3u8; 32];
    store
        .create_mailbox(mailbox, "demo".into(), recipients(), vec![0; 100], None)
        .await
        .unwrap();
    let quota = MailboxLimits {
        messages: 100,
        attachments: 10,
        bytes: 250,
        attachment_bytes: 1000,
    };
    store
        .append_message(mailbox, Author::Reporter, None, vec![0; 150], quota)
        .await
        .unwrap();
    assert!(matches!(
        store
            .append_message(mailbox, Author::Reporter, None, vec![0; 1], quota)
            .await,
        Err(StoreError::MailboxFull("bytes"))
    ));
    // The office's room is untouched by the reporter's use of theirs.
    store
        .append_message(
            mailbox,
            Author::Office,
            Some(office("demo")),
            vec![0; 250],
            quota,
        )
        .await
        .unwrap();
    assert!(matches!(
        store
            .begin_attachment([9; 16], mailbox, Author::Reporter, None, quota, None)
            .await,
        Err(StoreError::MailboxFull("bytes"))
    ));
    let record = store.mailbox(mailbox).await.unwrap().unwrap();
    assert_eq!(
        (record.messages, record.reporter_bytes, record.office_bytes),
        (3, 250, 250)
    );
}

#[tokio::test]
async fn uploads_at_the_same_time_hold_their_room_and_cannot_pass_the_quota_together() {
    let (_directory, store) = store();
    let mailbox = [6u8; 32];
    store
        .create_mailbox(mailbox, "demo".into(), recipients(), vec![0; 100], None)
        .await
        .unwrap();
    let quota = MailboxLimits {
        messages: 100,
        attachments: 10,
        bytes: 1000,
        attachment_bytes: 600,
    };
    let begin = |id: u8, declared: Option<u64>| {
        store.begin_attachment([id; 16], mailbox, Author::Reporter, None, quota, declared)
    };
    // Without a declared size an upload holds as much as one attachment may have.
    assert_eq!(begin(1, None).await.unwrap(), 600);
    // The next one gets only what is left; a declared size beyond it is refused at once.
    assert!(matches!(
        begin(2, Some(301)).await,
        Err(StoreError::MailboxFull("bytes"))
    ));
    assert_eq!(begin(3, None).await.unwrap(), 300);
    assert!(matches!(
        begin(4, None).await,
        Err(StoreError::MailboxFull("bytes"))
    ));
    // Completing gives back what an upload held beyond its size; aborting gives it all.
    store.finish_attachment([1; 16], 50, 1).await.unwrap();
    store.abort_attachment([3; 16]).await.unwrap();
    assert_eq!(
        store
            .mailbox(mailbox)
            .await
            .unwrap()
            .unwrap()
            .reporter_bytes,
        150
    );
    assert_eq!(begin(5, Some(850)).await.unwrap(), 850);
    // An upload can never complete larger than the room it held.
    assert!(matches!(
        store.finish_attachment([5; 16], 851, 1).await,
        Err(StoreError::MailboxFull("bytes"))
    ));
    assert_eq!(
        store
            .mailbox(mailbox)
            .await
            .unwrap()
            .unwrap()
            .reporter_bytes,
        1000
    );
}

/// Writes what a format 1 relay wrote for one message.
fn write_format_1_message(
    transaction: &WriteTransaction,
    number: u64,
    mailbox: [u8; 32],
    organisation: &str,
) {
    let record = MessageRecord {
        number,
        mailbox,
        position: 1,
        organisation: organisation.into(),
        author: Author::Reporter,
        day: day_number(),
        size: 6,
        fetched: false,
        recipient_numbers: Default::default(),
    };
    // Format 1 mailbox records had no byte counts.
    let mailbox_record = format!(
        r#"{{"organisation":"{organisation}","created":{day},"last_activity":{day},"messages":1,"attachments":0}}"#,
        day = day_number()
    );
    transaction
        .open_table(MAILBOXES)
        .unwrap()
        .insert(mailbox, mailbox_record.as_bytes())
        .unwrap();
    transaction
        .open_table(FORMAT_1_BODIES)
        .unwrap()
        .insert(number, format!("body {number}").as_bytes())
        .unwrap();
    transaction
        .open_table(FORMAT_3_MAILBOX_MESSAGES)
        .unwrap()
        .insert((mailbox, 1), encode(&record).as_slice())
        .unwrap();
    transaction
        .open_table(ORGANISATION_MESSAGES)
        .unwrap()
        .insert((organisation, number), encode(&record).as_slice())
        .unwrap();
}

/// Opens a store's redb file directly once the writer thread of its store has let go of it.
fn open_database(path: &Path) -> Database {
    (0..500)
        .find_map(|_| {
            Database::open(path)
                .inspect_err(|_| std::thread::sleep(std::time::Duration::from_millis(20)))
                .ok()
        })
        .expect("the store stayed locked")
}

/// Opens a store again once the writer thread of the last one has let go of the file.
fn reopen(path: &Path) -> Store {
    for _ in 0..500 {
        if let Ok(store) = Store::open(path) {
            return store;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("the store stayed locked");
}

#[tokio::test]
async fn a_format_1_store_is_upgraded_keeping_the_numbers_offices_have_seen() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("old.redb");
    {
        let database = Database::create(&path).unwrap();
        let transaction = database.begin_write().unwrap();
        write_format_1_message(&transaction, 7, [1; 32], "alpha");
        write_format_1_message(&transaction, 8, [2; 32], "beta");
        // Numbers up to 11 were given out; 9 to 11 (a third organisation's) were
        // deleted by retention since. Offices may have seen them all.
        transaction
            .open_table(COUNTERS)
            .unwrap()
            .insert("next_message", 12)
            .unwrap();
        transaction.commit().unwrap();
    }
    let store = Store::open(&path).unwrap();
    // Until the relay addresses the earlier mailboxes (when it opens the store before it
    // serves, from its directory), no office session reaches them; then every recipient of
    // their organisation does, under the numbers its office saw them by. An organisation the
    // directory does not list yet is addressed at a later start, once it does.
    assert_eq!(
        store.recipient_message(office("alpha"), 7).await.unwrap(),
        None
    );
    drop(store);
    let open_with = |organisations: &[&str]| {
        let directory: std::collections::BTreeMap<String, Vec<String>> = organisations
            .iter()
            .map(|organisation| ((*organisation).to_owned(), recipients()))
            .collect();
        for _ in 0..500 {
            if let Ok(opened) = Store::open_addressing(&path, Some(&directory)) {
                return opened;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("the store stayed locked");
    };
    let (store, earlier) = open_with(&["alpha"]);
    assert_eq!((earlier.addressed, earlier.unaddressed), (1, 1));
    assert!(store
        .list_recipient(office("beta"), 0, 10)
        .await
        .unwrap()
        .is_empty());
    drop(store);
    let (store, earlier) = open_with(&["alpha", "beta"]);
    assert_eq!((earlier.addressed, earlier.unaddressed), (1, 0));
    drop(store);
    let (store, earlier) = open_with(&["alpha", "beta"]);
    assert_eq!((earlier.addressed, earlier.unaddressed), (0, 0));
    assert_eq!(
        store.recipient_message(office("alpha"), 7).await.unwrap(),
        Some(b"body 7".to_vec())
    );
    assert_eq!(
        store
            .list_recipient(office("beta"), 0, 10)
            .await
            .unwrap()
            .iter()
            .map(|(number, _)| *number)
            .collect::<Vec<_>>(),
        [8]
    );
    assert_eq!(
        store.mailbox_message([2; 32], 1).await.unwrap(),
        Some(b"body 8".to_vec())
    );
    // What each side had stored counts against its quota from now on.
    assert_eq!(
        store
            .mailbox([1; 32])
            .await
            .unwrap()
            .unwrap()
            .reporter_bytes,
        6
    );
    // Every organisation, the one whose messages were all deleted too, continues above
    // every number given out before.
    let mut next = Vec::new();
    for (mailbox, organisation) in [([3; 32], "alpha"), ([4; 32], "gamma")] {
        next.push(
            store
                .create_mailbox(
                    mailbox,
                    organisation.into(),
                    recipients(),
                    b"new".to_vec(),
                    None,
                )
                .await
                .unwrap(),
        );
    }
    assert_eq!(next, [12, 12]);
    drop(store);
    // Opening it again changes nothing more.
    let store = reopen(&path);
    assert_eq!(store.counts().await.unwrap().messages, 4);
    let number = store
        .create_mailbox(
            [5; 32],
            "alpha".into(),
            recipients(),
            b"newer".to_vec(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(number, 13);
    drop(store);
    // A relay of format 1 cannot open the upgraded store: it would number from 1 again.
    let database = (0..500)
        .find_map(|_| {
            Database::create(&path)
                .inspect_err(|_| std::thread::sleep(std::time::Duration::from_millis(20)))
                .ok()
        })
        .unwrap();
    let transaction = database.begin_write().unwrap();
    assert!(transaction.open_table(FORMAT_1_BODIES).is_err());
}

#[tokio::test]
async fn a_store_of_a_later_format_is_refused() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("future.redb");
    {
        let database = Database::create(&path).unwrap();
        let transaction = database.begin_write().unwrap();
        transaction
            .open_table(COUNTERS)
            .unwrap()
            .insert("store_format", STORE_FORMAT + 1)
            .unwrap();
        transaction.commit().unwrap();
    }
    let Err(StoreError::Failed(refusal)) = Store::open(&path) else {
        panic!("a later format must be refused");
    };
    assert!(refusal.contains("newer meldpunt-server"), "{refusal}");
}

#[tokio::test]
async fn an_office_session_reaches_only_mailboxes_addressed_to_its_recipient() {
    let (_directory, store) = store();
    let adviser = RecipientScope {
        organisation: "demo".into(),
        recipient: "external-confidential-adviser".into(),
    };
    let integrity = office("demo");
    // One report to the adviser only, one to the integrity office only.
    store
        .create_mailbox(
            [1; 32],
            "demo".into(),
            vec![adviser.recipient.clone()],
            b"for the adviser".to_vec(),
            None,
        )
        .await
        .unwrap();
    store
        .create_mailbox(
            [2; 32],
            "demo".into(),
            recipients(),
            b"for the office".to_vec(),
            None,
        )
        .await
        .unwrap();
    let listed = |scope: RecipientScope| {
        let store = store.clone();
        async move {
            store
                .list_recipient(scope, 0, 100)
                .await
                .unwrap()
                .into_iter()
                .map(|(number, record)| (number, record.mailbox))
                .collect::<Vec<_>>()
        }
    };
    // Each sees its own, numbered from 1: no gap tells it of the other's.
    assert_eq!(listed(integrity.clone()).await, [(1, [2; 32])]);
    assert_eq!(listed(adviser.clone()).await, [(1, [1; 32])]);
    assert_eq!(
        store.recipient_message(integrity.clone(), 1).await.unwrap(),
        Some(b"for the office".to_vec())
    );
    assert!(store
        .recipient_message(integrity.clone(), 2)
        .await
        .unwrap()
        .is_none());
    // The office cannot write into the adviser's mailbox: no message, no attachment.
    assert!(matches!(
        store
            .append_message(
                [1; 32],
                Author::Office,
                Some(integrity.clone()),
                b"x".to_vec(),
                limits(10)
            )
            .await,
        Err(StoreError::MailboxNotFound)
    ));
    assert!(matches!(
        store
            .begin_attachment(
                [3; 16],
                [1; 32],
                Author::Office,
                Some(integrity.clone()),
                limits(10),
                Some(10)
            )
            .await,
        Err(StoreError::MailboxNotFound)
    ));
    assert!(matches!(
        store.mark_fetched(integrity.clone(), 2).await,
        Err(StoreError::MessageNotFound)
    ));
    // The adviser answers; the office still sees nothing of it.
    let (position, number) = store
        .append_message(
            [1; 32],
            Author::Office,
            Some(adviser.clone()),
            b"answer".to_vec(),
            limits(10),
        )
        .await
        .unwrap();
    assert_eq!((position, number), (2, 2));
    assert_eq!(listed(integrity.clone()).await, [(1, [2; 32])]);
    // The reporter addresses the mailbox to the office too: it gets the whole thread, in
    // its own numbering, after what it had; adding it again changes nothing.
    for _ in 0..2 {
        assert_eq!(
            store.add_recipients([1; 32], recipients()).await.unwrap(),
            ["external-confidential-adviser", "integrity-office"]
        );
    }
    assert_eq!(
        listed(integrity.clone()).await,
        [(1, [2; 32]), (2, [1; 32]), (3, [1; 32])]
    );
    assert_eq!(
        store.recipient_message(integrity.clone(), 3).await.unwrap(),
        Some(b"answer".to_vec())
    );
    // Retention forgets the recipients' numbers with the mailbox.
    store
        .write(|transaction| {
            let mut mailboxes = transaction.open_table(MAILBOXES)?;
            let mut record: MailboxRecord = decode(mailboxes.get([1; 32])?.unwrap().value())?;
            record.last_activity = 0;
            mailboxes.insert([1; 32], encode(&record).as_slice())?;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(store.purge(365).await.unwrap().messages, 2);
    assert_eq!(listed(integrity).await, [(1, [2; 32])]);
    assert!(listed(adviser).await.is_empty());
}

#[tokio::test]
async fn each_recipient_marks_its_own_messages_fetched() {
    let (_directory, store) = store();
    let adviser = RecipientScope {
        organisation: "demo".into(),
        recipient: "external-confidential-adviser".into(),
    };
    let integrity = office("demo");
    store
        .create_mailbox(
            [1; 32],
            "demo".into(),
            vec![integrity.recipient.clone(), adviser.recipient.clone()],
            b"for both".to_vec(),
            None,
        )
        .await
        .unwrap();
    let fetched = |scope: RecipientScope| {
        let store = store.clone();
        async move {
            store
                .list_recipient(scope, 0, 10)
                .await
                .unwrap()
                .into_iter()
                .map(|(_, record)| record.fetched)
                .collect::<Vec<_>>()
        }
    };
    store.mark_fetched(integrity.clone(), 1).await.unwrap();
    // The adviser does not learn when the office read it.
    assert_eq!(fetched(integrity.clone()).await, [true]);
    assert_eq!(fetched(adviser.clone()).await, [false]);
    // A recipient added later starts unfetched, and nobody else's mark is reset.
    store
        .add_recipients([1; 32], vec!["process-guide".into()])
        .await
        .unwrap();
    let guide = RecipientScope {
        organisation: "demo".into(),
        recipient: "process-guide".into(),
    };
    assert_eq!(fetched(integrity).await, [true]);
    assert_eq!(fetched(guide).await, [false]);
}

#[tokio::test]
async fn hand_overs_reach_only_their_recipient_count_against_the_office_quota_and_go_with_the_mailbox(
) {
    let (directory, store) = store();
    let mailbox = [9u8; 32];
    store
        .create_mailbox(mailbox, "demo".into(), recipients(), b"r".to_vec(), None)
        .await
        .unwrap();
    let adviser = RecipientScope {
        organisation: "demo".into(),
        recipient: "external-confidential-adviser".into(),
    };
    // Another recipient's session, another organisation's, or a mailbox that does not
    // exist: refused as not found, and nothing is stored.
    for (scope, target) in [
        (adviser.clone(), mailbox),
        (office("other"), mailbox),
        (office("demo"), [8u8; 32]),
    ] {
        assert!(matches!(
            store
                .put_hand_over(target, scope, None, b"sealed".to_vec(), limits(10))
                .await,
            Err(StoreError::MailboxNotFound)
        ));
    }
    // The office's byte quota counts hand-overs, and a refusal changes nothing.
    let tight = MailboxLimits {
        bytes: 10,
        ..limits(10)
    };
    assert!(matches!(
        store
            .put_hand_over(mailbox, office("demo"), None, vec![1; 11], tight)
            .await,
        Err(StoreError::MailboxFull("bytes"))
    ));
    // A mailbox of at most one message holds HAND_OVER_FACTOR hand-overs.
    let mut numbers = Vec::new();
    for sealed in [&b"first"[..], b"second", b"3", b"4"] {
        numbers.push(
            store
                .put_hand_over(mailbox, office("demo"), None, sealed.to_vec(), limits(1))
                .await
                .unwrap(),
        );
    }
    assert_eq!(numbers, [1, 2, 3, 4]);
    assert!(matches!(
        store
            .put_hand_over(mailbox, office("demo"), None, b"fifth".to_vec(), limits(1))
            .await,
        Err(StoreError::MailboxFull("hand-overs"))
    ));
    assert_eq!(
        store.mailbox(mailbox).await.unwrap().unwrap().office_bytes,
        13
    );
    let listed = store.list_hand_overs(office("demo"), 0, 10).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .take(2)
            .map(|(number, record)| (*number, record.mailbox, record.size))
            .collect::<Vec<_>>(),
        [(1, mailbox, 5), (2, mailbox, 6)]
    );
    assert_eq!(
        store
            .list_hand_overs(office("demo"), 1, 10)
            .await
            .unwrap()
            .len(),
        3
    );
    assert!(store
        .list_hand_overs(adviser.clone(), 0, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.hand_over(office("demo"), 2).await.unwrap().unwrap(),
        b"second"
    );
    assert!(store.hand_over(adviser, 2).await.unwrap().is_none());
    // Never among the reporter's messages.
    assert_eq!(
        store
            .list_mailbox(mailbox, 0, 10)
            .await
            .unwrap()
            .unwrap()
            .len(),
        1
    );
    // A backup keeps them.
    let target = directory.path().join("backup.redb");
    store.backup(target.clone()).await.unwrap();
    let restored = Store::open(&target).unwrap();
    assert_eq!(
        restored
            .hand_over(office("demo"), 1)
            .await
            .unwrap()
            .unwrap(),
        b"first"
    );
    drop(restored);
    // Retention deletes them with their mailbox; their numbers are never given again.
    age_by_a_year_and_a_day(&store, mailbox).await;
    assert_eq!(store.purge(365).await.unwrap().hand_overs, 4);
    assert!(store
        .list_hand_overs(office("demo"), 0, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store.hand_over(office("demo"), 1).await.unwrap().is_none());
    let later = [10u8; 32];
    store
        .create_mailbox(later, "demo".into(), recipients(), b"r".to_vec(), None)
        .await
        .unwrap();
    assert_eq!(
        store
            .put_hand_over(later, office("demo"), None, b"later".to_vec(), limits(2))
            .await
            .unwrap(),
        5
    );
}

#[tokio::test]
async fn each_side_has_its_own_attachment_count() {
    let (_directory, store) = store();
    let mailbox = [11u8; 32];
    store
        .create_mailbox(mailbox, "demo".into(), recipients(), b"r".to_vec(), None)
        .await
        .unwrap();
    let one = MailboxLimits {
        attachments: 1,
        ..limits(10)
    };
    let begin = |id: u8, author: Author| {
        let office = (author == Author::Office).then(|| office("demo"));
        store.begin_attachment([id; 16], mailbox, author, office, one, Some(1))
    };
    // The office's copies (for hand-overs) and reply attachments never take the reporter's
    // room: the reporter still stores its one attachment after the office stored many.
    for id in 0..OFFICE_ATTACHMENT_FACTOR as u8 {
        begin(100 + id, Author::Office).await.unwrap();
    }
    assert!(matches!(
        begin(99, Author::Office).await,
        Err(StoreError::MailboxFull("attachments"))
    ));
    begin(1, Author::Reporter).await.unwrap();
    assert!(matches!(
        begin(2, Author::Reporter).await,
        Err(StoreError::MailboxFull("attachments"))
    ));
    // Removing one gives its own side's room back.
    store.abort_attachment([100; 16]).await.unwrap();
    begin(99, Author::Office).await.unwrap();
}

#[tokio::test]
async fn case_records_reach_every_addressed_recipient_and_nobody_else_and_go_with_the_mailbox() {
    let (directory, store) = store();
    let mailbox = [12u8; 32];
    let both = vec!["integrity-office".to_owned(), "adviser".to_owned()];
    store
        .create_mailbox(mailbox, "demo".into(), both, b"r".to_vec(), None)
        .await
        .unwrap();
    let adviser = RecipientScope {
        organisation: "demo".into(),
        recipient: "adviser".into(),
    };
    let guide = RecipientScope {
        organisation: "demo".into(),
        recipient: "process-guide".into(),
    };
    // A recipient the mailbox is not addressed to, another organisation, no such mailbox:
    // refused as not found, nothing stored.
    for (scope, target) in [
        (guide.clone(), mailbox),
        (office("other"), mailbox),
        (office("demo"), [8u8; 32]),
    ] {
        assert!(matches!(
            store
                .put_case_record(target, scope, b"sealed".to_vec(), limits(10))
                .await,
            Err(StoreError::MailboxNotFound)
        ));
    }
    let tight = MailboxLimits {
        bytes: 10,
        ..limits(10)
    };
    assert!(matches!(
        store
            .put_case_record(mailbox, office("demo"), vec![1; 11], tight)
            .await,
        Err(StoreError::MailboxFull("bytes"))
    ));
    // Written by either recipient, listed to both, each in its own numbering.
    assert_eq!(
        store
            .put_case_record(mailbox, office("demo"), b"status".to_vec(), limits(1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .put_case_record(mailbox, adviser.clone(), b"label".to_vec(), limits(1))
            .await
            .unwrap(),
        2
    );
    for sealed in [&b"3"[..], b"4"] {
        store
            .put_case_record(mailbox, office("demo"), sealed.to_vec(), limits(1))
            .await
            .unwrap();
    }
    assert!(matches!(
        store
            .put_case_record(mailbox, office("demo"), b"fifth".to_vec(), limits(1))
            .await,
        Err(StoreError::MailboxFull("case records"))
    ));
    for scope in [office("demo"), adviser.clone()] {
        let listed = store.list_case_records(scope.clone(), 0, 10).await.unwrap();
        assert_eq!(
            listed
                .iter()
                .map(|(number, entry)| (*number, entry.mailbox, entry.size))
                .collect::<Vec<_>>(),
            [
                (1, mailbox, 6),
                (2, mailbox, 5),
                (3, mailbox, 1),
                (4, mailbox, 1)
            ]
        );
        assert_eq!(
            store.case_record(scope, 2).await.unwrap().unwrap(),
            b"label"
        );
    }
    assert!(store
        .list_case_records(guide.clone(), 0, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store.case_record(guide, 1).await.unwrap().is_none());
    // Never among the reporter's messages, never in the mailbox's message count.
    let record = store.mailbox(mailbox).await.unwrap().unwrap();
    assert_eq!(record.messages, 1);
    assert_eq!(record.office_bytes, 13);
    assert_eq!(
        store
            .list_mailbox(mailbox, 0, 10)
            .await
            .unwrap()
            .unwrap()
            .len(),
        1
    );
    // A backup keeps them.
    let target = directory.path().join("backup.redb");
    store.backup(target.clone()).await.unwrap();
    let restored = Store::open(&target).unwrap();
    assert_eq!(
        restored
            .case_record(office("demo"), 1)
            .await
            .unwrap()
            .unwrap(),
        b"status"
    );
    drop(restored);
    // Retention deletes them with their mailbox; their numbers are never given again.
    age_by_a_year_and_a_day(&store, mailbox).await;
    assert_eq!(store.purge(365).await.unwrap().case_records, 4);
    assert!(store
        .list_case_records(office("demo"), 0, 10)
        .await
        .unwrap()
        .is_empty());
    let later = [13u8; 32];
    store
        .create_mailbox(later, "demo".into(), recipients(), b"r".to_vec(), None)
        .await
        .unwrap();
    assert_eq!(
        store
            .put_case_record(later, office("demo"), b"later".to_vec(), limits(2))
            .await
            .unwrap(),
        5
    );
}

#[tokio::test]
async fn a_hand_over_for_a_process_guide_reaches_the_guide_only_once_the_case_is_addressed_to_them()
{
    let (_directory, store) = store();
    let mailbox = [14u8; 32];
    store
        .create_mailbox(mailbox, "demo".into(), recipients(), b"r".to_vec(), None)
        .await
        .unwrap();
    let guide = RecipientScope {
        organisation: "demo".into(),
        recipient: "process-guide".into(),
    };
    let for_guide = || Some("process-guide".to_owned());
    assert!(matches!(
        store
            .put_hand_over(
                mailbox,
                office("demo"),
                for_guide(),
                b"h".to_vec(),
                limits(10)
            )
            .await,
        Err(StoreError::MailboxNotFound)
    ));
    store
        .add_recipients(mailbox, vec!["process-guide".into()])
        .await
        .unwrap();
    // The guide cannot hand over into the office's numbering either way round without
    // being addressed; now both are.
    let number = store
        .put_hand_over(
            mailbox,
            office("demo"),
            for_guide(),
            b"h".to_vec(),
            limits(10),
        )
        .await
        .unwrap();
    assert_eq!(number, 1);
    assert_eq!(
        store.hand_over(guide.clone(), 1).await.unwrap().unwrap(),
        b"h"
    );
    assert!(store.hand_over(office("demo"), 1).await.unwrap().is_none());
    // The earlier message is listed to the guide in its own numbering.
    assert_eq!(store.list_recipient(guide, 0, 10).await.unwrap().len(), 1);
}

/// Writes what a format 3 relay wrote for a mailbox of `demo` addressed to
/// [`recipients`] holding `bodies` (numbered from `first` by the organisation and by its
/// recipient alike); `positions` are the positions it filed them under.
fn write_format_3_mailbox(
    path: &Path,
    mailbox: [u8; 32],
    first: u64,
    bodies: &[&[u8]],
    positions: &[u32],
) {
    let database = Database::create(path).unwrap();
    let transaction = database.begin_write().unwrap();
    let day = day_number();
    let mut record = MailboxRecord::new("demo".into(), recipients(), day);
    record.messages = bodies.len() as u32;
    // Format 3 mailbox records had no list of their messages.
    let mut mailbox_json: serde_json::Value = serde_json::to_value(&record).unwrap();
    mailbox_json
        .as_object_mut()
        .unwrap()
        .remove("message_numbers");
    transaction
        .open_table(MAILBOXES)
        .unwrap()
        .insert(
            mailbox,
            serde_json::to_vec(&mailbox_json).unwrap().as_slice(),
        )
        .unwrap();
    for ((index, body), position) in bodies.iter().enumerate().zip(positions) {
        let number = first + index as u64;
        let message = MessageRecord {
            number,
            mailbox,
            position: *position,
            organisation: "demo".into(),
            author: Author::Reporter,
            day,
            size: body.len() as u64,
            fetched: false,
            recipient_numbers: recipients().into_iter().map(|r| (r, number)).collect(),
        };
        transaction
            .open_table(FORMAT_3_MAILBOX_MESSAGES)
            .unwrap()
            .insert((mailbox, *position), encode(&message).as_slice())
            .unwrap();
        transaction
            .open_table(ORGANISATION_MESSAGES)
            .unwrap()
            .insert(("demo", number), encode(&message).as_slice())
            .unwrap();
        transaction
            .open_table(FORMAT_3_SEALED_MESSAGES)
            .unwrap()
            .insert(("demo", number), *body)
            .unwrap();
        for recipient in recipients() {
            transaction
                .open_table(RECIPIENT_MESSAGES)
                .unwrap()
                .insert(("demo", recipient.as_str(), number), (number, false))
                .unwrap();
        }
    }
    let mut counters = transaction.open_table(COUNTERS).unwrap();
    counters.insert("store_format", 3).unwrap();
    let next = first + bodies.len() as u64;
    counters.insert("next_message/demo", next).unwrap();
    for recipient in recipients() {
        counters
            .insert(format!("next_message/demo/{recipient}").as_str(), next)
            .unwrap();
    }
    drop(counters);
    transaction.open_table(FORMAT_1_GUARD).unwrap();
    transaction.commit().unwrap();
}

#[tokio::test]
async fn a_format_3_store_keeps_each_mailbox_in_order_without_its_second_index() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("format-3.redb");
    let mailbox = [3u8; 32];
    // Longer than a fragment: split when the store is opened.
    let reply = vec![7u8; 2 * FRAGMENT_LENGTH + 17];
    write_format_3_mailbox(&path, mailbox, 40, &[b"report", &reply], &[1, 2]);
    let store = Store::open(&path).unwrap();
    let listed = store.list_mailbox(mailbox, 0, 10).await.unwrap().unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|m| (m.position, m.number))
            .collect::<Vec<_>>(),
        [(1, 40), (2, 41)]
    );
    assert_eq!(
        store.mailbox_message(mailbox, 2).await.unwrap().unwrap(),
        reply
    );
    assert_eq!(
        store
            .recipient_message(office("demo"), 41)
            .await
            .unwrap()
            .unwrap(),
        reply
    );
    assert_eq!(store.mailbox_message(mailbox, 3).await.unwrap(), None);
    let (position, number) = store
        .append_message(
            mailbox,
            Author::Reporter,
            None,
            b"more".to_vec(),
            limits(10),
        )
        .await
        .unwrap();
    assert_eq!((position, number), (3, 42));
    assert_eq!(
        store.mailbox_message(mailbox, 3).await.unwrap().unwrap(),
        b"more"
    );
    assert_eq!(
        store
            .list_recipient(office("demo"), 0, 10)
            .await
            .unwrap()
            .iter()
            .map(|(number, _)| *number)
            .collect::<Vec<_>>(),
        [40, 41, 42]
    );
    // Retention finds the mailbox's messages through its record, and leaves nothing of them.
    age_by_a_year_and_a_day(&store, mailbox).await;
    let purged = store.purge(365).await.unwrap();
    assert_eq!((purged.mailboxes, purged.messages), (1, 3));
    drop(store);
    let database = open_database(&path);
    let transaction = database.begin_read().unwrap();
    assert!(transaction.list_tables().unwrap().all(|table| {
        table.name() != FORMAT_3_MAILBOX_MESSAGES.name()
            && table.name() != FORMAT_3_SEALED_MESSAGES.name()
    }));
    assert_eq!(
        transaction
            .open_table(COUNTERS)
            .unwrap()
            .get("store_format")
            .unwrap()
            .unwrap()
            .value(),
        STORE_FORMAT
    );
    // The organisation's own table of bodies holds nothing of the purged mailbox.
    assert!(transaction
        .open_table(mailboxes::sealed_definition(&mailboxes::sealed_table(
            "demo"
        )))
        .unwrap()
        .iter()
        .unwrap()
        .next()
        .is_none());
}

#[tokio::test]
async fn a_format_3_store_with_a_gap_in_a_mailbox_is_refused_and_left_as_it_was() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("gap.redb");
    write_format_3_mailbox(&path, [4; 32], 1, &[b"one", b"three"], &[1, 3]);
    let Err(StoreError::Failed(refusal)) = Store::open(&path) else {
        panic!("a gap must be refused");
    };
    assert!(refusal.contains("corrupt store"), "{refusal}");
    let database = Database::open(&path).unwrap();
    let transaction = database.begin_read().unwrap();
    assert_eq!(
        transaction
            .open_table(COUNTERS)
            .unwrap()
            .get("store_format")
            .unwrap()
            .unwrap()
            .value(),
        3
    );
}

#[tokio::test]
async fn sealed_messages_of_every_length_come_back_whole_from_their_fragments() {
    let (_directory, store) = store();
    let lengths = [
        1,
        FRAGMENT_LENGTH - 1,
        FRAGMENT_LENGTH,
        FRAGMENT_LENGTH + 1,
        2 * FRAGMENT_LENGTH,
        4433,
        70_001,
        // Larger than the journal takes: committed durably instead.
        super::journal::ENTRY_LIMIT + 1,
    ];
    let mut numbers = Vec::new();
    for (index, length) in lengths.iter().enumerate() {
        let body: Vec<u8> = (0..*length)
            .map(|byte| (byte % 251) as u8 ^ index as u8)
            .collect();
        let mailbox = [index as u8 + 1; 32];
        let number = store
            .create_mailbox(mailbox, "demo".into(), recipients(), body.clone(), None)
            .await
            .unwrap();
        numbers.push((mailbox, number, body));
    }
    // Neighbours' fragments stay apart, through both views.
    for (mailbox, number, body) in &numbers {
        assert_eq!(
            store.mailbox_message(*mailbox, 1).await.unwrap().as_ref(),
            Some(body)
        );
        assert_eq!(
            store
                .recipient_message(office("demo"), *number)
                .await
                .unwrap()
                .as_ref(),
            Some(body)
        );
    }
}

/// A store whose writer commits its journal durably only when it must (another kind of
/// write, or closing): what a crash finds between two such commits.
fn store_keeping_its_journal(path: &Path) -> Store {
    let policy = writer::JournalPolicy {
        bytes: u64::MAX / 2,
        age: std::time::Duration::from_secs(3600),
        idle: std::time::Duration::from_secs(3600),
    };
    Store::open_with(path, None, policy).unwrap().0
}

/// The sealed bytes of the `index`th test report: a different length and content each.
fn report_body(index: u8) -> Vec<u8> {
    (0..300 + usize::from(index) * 700)
        .map(|byte| (byte % 251) as u8 ^ index)
        .collect()
}

/// Copies the store file and its journal from `from` into the folder `to`, as a crash leaves
/// them: redb's file at its last durable commit, the journal with every entry flushed since.
fn copy_store(from: &Path, to: &Path) -> std::path::PathBuf {
    std::fs::create_dir_all(to).unwrap();
    let target = to.join(from.file_name().unwrap());
    std::fs::copy(from, &target).unwrap();
    std::fs::copy(journal_path(from), journal_path(&target)).unwrap();
    target
}

#[tokio::test]
async fn a_crash_in_the_middle_of_a_journal_append_loses_nothing_acknowledged_and_serves_nothing_torn(
) {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("meldpunt.redb");
    let store = store_keeping_its_journal(&path);
    let mailbox = |index: u8| [index; 32];
    // A report to another recipient first, so that the organisation's numbers and the
    // integrity office's own differ (by one). Then four reports, a follow-up (a durable
    // commit, covering the journal so far), and five more reports acknowledged through the
    // journal alone.
    store
        .create_mailbox(
            mailbox(50),
            "demo".into(),
            vec!["adviser".into()],
            report_body(50),
            None,
        )
        .await
        .unwrap();
    let report = |index: u8| {
        store.create_mailbox(
            mailbox(index),
            "demo".into(),
            recipients(),
            report_body(index),
            None,
        )
    };
    for index in 1..=4 {
        report(index).await.unwrap();
    }
    store
        .append_message(
            mailbox(1),
            Author::Reporter,
            None,
            b"follow-up".to_vec(),
            limits(10),
        )
        .await
        .unwrap();
    for index in 5..=9 {
        report(index).await.unwrap();
    }
    // The crash: the files as they are now, the writer idle.
    let image = copy_store(&path, &directory.path().join("image"));
    drop(store);
    let journal_file = journal_path(&image);
    let header = std::fs::read(&journal_file).unwrap();
    let store_id = u64::from_le_bytes(header[8..16].try_into().unwrap());
    let generation = u64::from_le_bytes(header[16..24].try_into().unwrap());
    let (mut journal, entries) =
        journal::Journal::open(&journal_file, store_id, generation).unwrap();
    assert_eq!(
        entries.len(),
        5,
        "the last five reports wait in the journal"
    );
    let acknowledged_end = journal.end();
    // A sixth report whose append the crash cut off: its caller never heard "stored".
    let torn = mailboxes::Creation {
        mailbox: mailbox(99),
        organisation: "demo".into(),
        recipients: vec![("integrity-office".into(), 11)],
        number: 12,
        day: day_number(),
        spent_stamp: Some(([9; 16], unix_seconds() + 3600)),
        sealed: report_body(99),
    };
    journal.append(&[torn.encode().unwrap()]).unwrap();
    let whole_end = journal.end();
    drop(journal);
    let mut cuts: Vec<u64> = (acknowledged_end..whole_end).step_by(97).collect();
    cuts.extend([
        acknowledged_end + 1,
        acknowledged_end + 4,
        acknowledged_end + 20,
        acknowledged_end + 21,
        whole_end - 1,
        whole_end,
    ]);
    let mut flipped = std::fs::read(&journal_file).unwrap();
    flipped[whole_end as usize - 500] ^= 0x40;
    // The control: without its journal, the store lacks the five reports.
    {
        let folder = directory.path().join("no journal");
        let copy = copy_store(&image, &folder);
        std::fs::remove_file(journal_path(&copy)).unwrap();
        let store = Store::open(&copy).unwrap();
        for index in 1..=9 {
            assert_eq!(
                store
                    .mailbox_message(mailbox(index), 1)
                    .await
                    .unwrap()
                    .is_some(),
                index <= 4,
                "report {index} without the journal"
            );
        }
    }
    for (case, cut) in cuts
        .iter()
        .map(|cut| (format!("cut at {cut}"), Some(*cut)))
        .chain([("a flipped byte in the last entry".to_owned(), None)])
    {
        let folder = directory.path().join(format!("case {case}"));
        let copy = copy_store(&image, &folder);
        match cut {
            Some(cut) => std::fs::OpenOptions::new()
                .write(true)
                .open(journal_path(&copy))
                .unwrap()
                .set_len(cut)
                .unwrap(),
            None => std::fs::write(journal_path(&copy), &flipped).unwrap(),
        }
        let store = Store::open(&copy).unwrap();
        for index in 1..=9 {
            assert_eq!(
                store.mailbox_message(mailbox(index), 1).await.unwrap(),
                Some(report_body(index)),
                "{case}: acknowledged report {index}"
            );
        }
        assert_eq!(
            store.mailbox_message(mailbox(1), 2).await.unwrap().unwrap(),
            b"follow-up",
            "{case}"
        );
        let whole = cut == Some(whole_end);
        // The torn report: whole, or not at all.
        assert_eq!(
            store.mailbox_message(mailbox(99), 1).await.unwrap(),
            whole.then(|| report_body(99)),
            "{case}"
        );
        let numbers: Vec<u64> = store
            .list_recipient(office("demo"), 0, 100)
            .await
            .unwrap()
            .iter()
            .map(|(number, _)| *number)
            .collect();
        let last = if whole { 11 } else { 10 };
        assert_eq!(numbers, (1..=last).collect::<Vec<_>>(), "{case}");
        // Both numberings go on past everything stored, the journal's reports included; a
        // stamp a journaled report spent stays spent.
        let next = store
            .create_mailbox(
                mailbox(100),
                "demo".into(),
                recipients(),
                b"next".to_vec(),
                None,
            )
            .await
            .unwrap();
        assert_eq!(next, last + 2, "{case}: the organisation's number");
        let own: Vec<u64> = store
            .list_recipient(office("demo"), last, 10)
            .await
            .unwrap()
            .iter()
            .map(|(number, _)| *number)
            .collect();
        assert_eq!(own, [last + 1], "{case}: the integrity office's own number");
        let stamp = meldpunt_crypto::SpentStamp {
            nonce: [9; 16],
            expires_at: unix_seconds() + 3600,
        };
        let again = store
            .create_mailbox(
                mailbox(101),
                "demo".into(),
                recipients(),
                b"x".to_vec(),
                Some(stamp),
            )
            .await;
        assert_eq!(again.is_err(), whole, "{case}: {again:?}");
        drop(store);
    }
}

#[tokio::test]
async fn each_organisation_keeps_its_bodies_apart_and_they_fill_their_pages() {
    let (directory, store) = store();
    // Two organisations writing in turn, as a busy relay's would.
    let mut stored = 0u64;
    for index in 0..2000u32 {
        let organisation = if index % 2 == 0 { "alpha" } else { "beta" };
        let mut id = [0u8; 32];
        id[..4].copy_from_slice(&index.to_le_bytes());
        let body: Vec<u8> = (0..4379u32).map(|byte| (byte ^ index) as u8).collect();
        stored += body.len() as u64;
        store
            .create_mailbox(id, organisation.into(), recipients(), body, None)
            .await
            .unwrap();
    }
    for index in [0u32, 1, 1998, 1999] {
        let mut id = [0u8; 32];
        id[..4].copy_from_slice(&index.to_le_bytes());
        let expected: Vec<u8> = (0..4379u32).map(|byte| (byte ^ index) as u8).collect();
        assert_eq!(store.mailbox_message(id, 1).await.unwrap(), Some(expected));
    }
    let path = directory.path().join("test.redb");
    drop(store);
    let database = open_database(&path);
    let transaction = database.begin_read().unwrap();
    let mut pages = 0u64;
    for organisation in ["alpha", "beta"] {
        let name = mailboxes::sealed_table(organisation);
        let table = transaction
            .open_table(mailboxes::sealed_definition(&name))
            .unwrap();
        let stats = table.stats().unwrap();
        pages += stats.leaf_pages();
        assert_eq!(
            table.len().unwrap(),
            1000 * 5,
            "{organisation}: five fragments a body"
        );
    }
    // Up to four fragments to a 4 KiB leaf, in both organisations' tables: sealed bytes are
    // more than 0.8 of the bodies' leaves (0.86 when written; whole bodies took 8 KiB each,
    // 0.53).
    let fill = stored as f64 / (pages * 4096) as f64;
    assert!(fill > 0.8, "bodies fill their leaves to {fill:.2}");
    drop((transaction, database));
    // A backup holds both organisations' bodies; retention of one organisation's mailbox
    // takes its body and leaves the other's.
    let store = reopen(&path);
    let copy = directory.path().join("backup.redb");
    store.backup(copy.clone()).await.unwrap();
    let backup = reopen(&copy);
    for index in [0u32, 1] {
        let mut id = [0u8; 32];
        id[..4].copy_from_slice(&index.to_le_bytes());
        let expected: Vec<u8> = (0..4379u32).map(|byte| (byte ^ index) as u8).collect();
        assert_eq!(backup.mailbox_message(id, 1).await.unwrap(), Some(expected));
    }
    drop(backup);
    let mut alpha = [0u8; 32];
    alpha[..4].copy_from_slice(&0u32.to_le_bytes());
    age_by_a_year_and_a_day(&store, alpha).await;
    assert_eq!(store.purge(365).await.unwrap().messages, 1);
    assert_eq!(
        store.recipient_message(office("alpha"), 1).await.unwrap(),
        None
    );
    let mut beta = [0u8; 32];
    beta[..4].copy_from_slice(&1u32.to_le_bytes());
    let expected: Vec<u8> = (0..4379u32).map(|byte| (byte ^ 1) as u8).collect();
    assert_eq!(
        store.mailbox_message(beta, 1).await.unwrap(),
        Some(expected)
    );
}
