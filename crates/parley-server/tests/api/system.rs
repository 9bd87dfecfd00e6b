use crate::both_backends;
use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;

both_backends!(health_metrics_and_openapi);

async fn health_metrics_and_openapi(app: TestApp) {
    let c = reqwest::Client::new();
    let h: Value = c
        .get(app.url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(h["status"], "ok");
    assert_eq!(
        h["backend"],
        if app.backend == Backend::Sqlite {
            "sqlite"
        } else {
            "postgres"
        }
    );

    let admin = app.admin().await;
    let channel = app.channel(&admin, &[]).await;
    let v = app.visitor(&channel, "https://shop.test").await;
    let mut vws = Ws::visitor(&app, &v).await;
    vws.send_message("k-1", None, "count me").await;
    vws.send_message("k-1", None, "count me").await;
    let m = c
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        m.contains("parley_messages_stored_total{kind=\"visitor\"} 1"),
        "{m}"
    );
    assert!(m.contains("parley_messages_duplicate_total 1"), "{m}");
    assert!(
        m.contains("parley_ws_connections{kind=\"visitor\"} 1"),
        "{m}"
    );

    let doc: Value = c
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for p in [
        "/api/v1/auth/login",
        "/api/v1/conversations/{id}/messages",
        "/api/widget/v1/session",
        "/api/v1/uploads",
    ] {
        assert!(
            doc["paths"][p].is_object(),
            "{p} missing from the OpenAPI document"
        );
    }
    let page = c.get(app.url("/api/docs")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("openapi.json"));
    // The embed snippet points at this server.
    assert!(channel["snippet"]
        .as_str()
        .unwrap()
        .contains(&format!("http://{}/widget/loader.js", app.addr)));
    let _ = json!({});
}

/// With short heartbeats, a client that stops answering is closed with 4000 and a live one is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_clients_are_dropped_live_ones_kept() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.heartbeat_interval = Duration::from_millis(200);
        s.idle_timeout = Duration::from_millis(700);
    })
    .await
    .unwrap();
    let admin = app.admin().await;
    let channel = app.channel(&admin, &[]).await;
    let v = app.visitor(&channel, "https://shop.test").await;
    // tungstenite answers pings only while the stream is polled: a client that stops reading
    // looks exactly like a dead peer.
    let silent = Ws::visitor(&app, &v).await;
    let mut live = Ws::visitor(&app, &v).await;
    let started = std::time::Instant::now();
    let keep = tokio::spawn(async move {
        for _ in 0..8 {
            live.send(json!({"type": "ping"})).await;
            live.recv_type("pong").await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        live
    });
    tokio::time::sleep(Duration::from_millis(1200)).await;
    // The server dropped the silent socket (its close frame may be hidden behind the client's
    // failing attempt to answer queued pings, so look at the server's count) and kept the live one.
    let m = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        m.contains("parley_ws_connections{kind=\"visitor\"} 1"),
        "{m}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(silent);
    let mut live = keep.await.unwrap();
    live.send(json!({"type": "ping"})).await;
    live.recv_type("pong").await;
}
