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
