//! The WAL is copied back into the database file by the background checkpointer, not by the
//! commits that carry messages: well below the writer's own checkpoint threshold, the database
//! file still catches up within moments.

use parley_conformance::{fixture, visitor_msg, DynStore};
use parley_core::ports::{MessageEffects, Target};
use parley_domain::now_millis;
use parley_store_sqlite::SqliteStore;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn the_database_file_catches_up_with_the_wal_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let s: DynStore = Arc::new(SqliteStore::open_file(&path).await.unwrap());
    let f = fixture(&s, "ckpt").await;
    let before = std::fs::metadata(&path).unwrap().len();
    let body = "这是一条用来填满页面的消息。".repeat(20);
    for i in 0..400 {
        let target = Target::VisitorCurrent {
            channel_id: f.visitor.channel_id,
            visitor_id: f.visitor.id,
            group_id: None,
        };
        let msg = visitor_msg(&f.visitor, &format!("c{i}"), &body);
        s.append_message(
            f.ws.id,
            target,
            &msg,
            &MessageEffects::default(),
            now_millis(),
        )
        .await
        .unwrap();
    }
    let wal = std::fs::metadata(dir.path().join("t.db-wal"))
        .unwrap()
        .len();
    assert!(wal > 1 << 20, "the messages went to the WAL ({wal} bytes)");
    // ~400 × 0.6 KiB of text: far below the writer's threshold of 10,000 pages, so only the
    // checkpointer can have moved it into the database file.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let now = std::fs::metadata(&path).unwrap().len();
        if now > before + 200 * 1024 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the database file stayed at {now} bytes (was {before})"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Closing the store closes every connection before it returns, the checkpointer's included:
/// a read-write connection that closes last checkpoints and removes the WAL, and a backup, a
/// restore or a comparison of the data directory right after a shutdown must not race with it.
#[tokio::test]
async fn nothing_in_the_data_directory_changes_after_close_returns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let snapshot = || {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let bytes = std::fs::read(e.path()).unwrap_or_default();
                (e.file_name().to_string_lossy().into_owned(), bytes)
            })
            .collect();
        files.sort();
        files
    };
    for round in 0..20 {
        let store = Arc::new(SqliteStore::open_file(&path).await.unwrap());
        let s: DynStore = store.clone();
        fixture(&s, &format!("close{round}")).await;
        // Let the checkpointer wake up at least once, so it may be mid-checkpoint now.
        tokio::time::sleep(Duration::from_millis(120)).await;
        store.close().await;
        let at_close = snapshot();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let names = |f: &[(String, Vec<u8>)]| f.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        let later = snapshot();
        assert!(
            at_close == later,
            "round {round}: {:?} at close, {:?} later",
            names(&at_close),
            names(&later)
        );
    }
}
