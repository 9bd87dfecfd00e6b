use futures::FutureExt;
use parley_conformance::{pg, DynStore};
use parley_store_postgres::PostgresStore;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// Runs `test` with the URL of a fresh database, dropped afterwards even when the test fails.
/// Skips (with a note) when no PostgreSQL is configured; on CI a missing server fails instead.
async fn with_database<F, Fut>(test: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(db) = pg::test_database().await else {
        return;
    };
    let result = AssertUnwindSafe(test(db.url.clone())).catch_unwind().await;
    db.drop_db().await;
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}

/// Runs `test` on a store over a fresh database.
async fn with_store<F, Fut>(test: F)
where
    F: FnOnce(DynStore) -> Fut,
    Fut: Future<Output = ()>,
{
    with_database(|url| async move {
        let store = Arc::new(PostgresStore::connect(&url).await.unwrap());
        let result = AssertUnwindSafe(test(store.clone())).catch_unwind().await;
        store.close().await;
        if let Err(p) = result {
            std::panic::resume_unwind(p);
        }
    })
    .await
}

parley_conformance::conformance_tests!(with_store);

/// Two nodes (two stores on one database) write to one conversation at the same moment: the
/// visitor through one, the agent through the other, and every message a second time through
/// the other node, as a client that reconnected elsewhere would. Each message is stored once,
/// the numbering has no gap, and the conversation ends in the state its last event says. The
/// nodes' writes meet at the conversation's row version (see `src/append.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_write_one_conversation_at_once() {
    with_database(two_nodes_write_one_conversation).await;
}

async fn two_nodes_write_one_conversation(url: String) {
    use parley_core::ports::{MessageEffects, Target};
    use parley_domain::*;
    let pg = [
        Arc::new(PostgresStore::connect(&url).await.unwrap()),
        Arc::new(PostgresStore::connect(&url).await.unwrap()),
    ];
    let nodes: [DynStore; 2] = [pg[0].clone(), pg[1].clone()];
    let f = parley_conformance::fixture(&nodes[0], "nodes").await;
    let visitor = Target::VisitorCurrent {
        channel_id: f.visitor.channel_id,
        visitor_id: f.visitor.id,
        group_id: None,
    };
    let seed = parley_conformance::visitor_msg(&f.visitor, "seed", "hello");
    let conv = nodes[0]
        .append_message(
            f.ws.id,
            visitor,
            &seed,
            &MessageEffects::default(),
            now_millis(),
        )
        .await
        .unwrap()
        .conversation
        .id;
    let agent = Sender {
        kind: SenderKind::Agent,
        id: Some(f.admin.id.0),
        name: Some(f.admin.name.clone()),
        avatar_url: None,
    };
    let mut tasks = Vec::new();
    for i in 0..30 {
        let (target, msg) = if i % 2 == 0 {
            let cid = format!("v{i}");
            (
                visitor,
                parley_conformance::visitor_msg(&f.visitor, &cid, &cid),
            )
        } else {
            let cid = ClientId::parse(&format!("a{i}")).unwrap();
            let body = MessageBody::parse(&format!("a{i}")).unwrap();
            (
                Target::Conversation(conv),
                NewEvent::message(agent.clone(), cid, body, vec![]),
            )
        };
        for node in [i % 2, 1 - i % 2] {
            let (s, msg, ws) = (nodes[node].clone(), msg.clone(), f.ws.id);
            tasks.push(tokio::spawn(async move {
                s.append_message(ws, target, &msg, &MessageEffects::default(), now_millis())
                    .await
            }));
        }
    }
    let mut stored = 0;
    for t in tasks {
        let r = t.await.unwrap().expect("every message is accepted");
        assert_eq!(r.conversation.id, conv);
        stored += usize::from(!r.duplicate);
    }
    assert_eq!(stored, 30, "each message stored once");
    let events = nodes[1].events_after(f.ws.id, conv, 0, 1000).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=31).collect::<Vec<_>>()
    );
    let last = events.last().unwrap();
    let line = &nodes[1].inbox_lines(f.ws.id, &[conv]).await.unwrap()[0];
    assert_eq!(line.summary.last_seq, 31);
    let preview = line.summary.last_message.as_ref().unwrap();
    assert_eq!(Some(&preview.body), last.body.as_ref());
    for s in pg {
        s.close().await;
    }
}
