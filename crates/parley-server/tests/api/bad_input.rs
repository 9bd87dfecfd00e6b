use crate::both_backends;
use crate::helpers::*;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

both_backends!(
    bad_rest_input_changes_nothing,
    bad_socket_frames,
    wrong_origin_is_refused,
    expired_or_missing_credentials
);

async fn code(r: reqwest::Response) -> (u16, String) {
    let s = r.status().as_u16();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    (s, v["error"]["code"].as_str().unwrap_or("").to_owned())
}

async fn bad_rest_input_changes_nothing(app: TestApp) {
    let admin = app.admin().await;
    let channel = app.channel(&admin, &[]).await;
    let v = app.visitor(&channel, "https://shop.test").await;
    let mut vws = Ws::visitor(&app, &v).await;
    let conv = vws.send_message("b-1", None, "hi").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let send = format!("/api/v1/conversations/{conv}/messages");

    // Malformed JSON, wrong types, missing fields.
    let raw = admin
        .client
        .post(app.url(&send))
        .header("x-csrf-token", &admin.csrf)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(code(raw).await, (400, "bad_request".into()));
    assert_eq!(
        code(
            admin
                .post(&send, json!({"client_id": 5, "body": "x"}))
                .await
        )
        .await,
        (400, "bad_request".into())
    );
    assert_eq!(
        code(admin.post(&send, json!({"body": "x"})).await).await,
        (400, "bad_request".into())
    );
    // Oversized message and oversized body.
    let long = "长".repeat(5001);
    assert_eq!(
        code(
            admin
                .post(&send, json!({"client_id": "l1", "body": long}))
                .await
        )
        .await,
        (422, "validation_failed".into())
    );
    let huge = "x".repeat(70 * 1024);
    assert_eq!(
        code(
            admin
                .post(&send, json!({"client_id": "l2", "body": huge}))
                .await
        )
        .await,
        (413, "payload_too_large".into())
    );
    assert_eq!(
        code(
            admin
                .post(&send, json!({"client_id": "e1", "body": "   "}))
                .await
        )
        .await,
        (422, "validation_failed".into())
    );
    assert_eq!(
        code(
            admin
                .post(&send, json!({"client_id": "bad id!", "body": "x"}))
                .await
        )
        .await,
        (422, "validation_failed".into())
    );
    // Unknown ids, malformed ids, unknown query values.
    let unknown = uuid::Uuid::now_v7();
    assert_eq!(
        code(
            admin
                .post(
                    &format!("/api/v1/conversations/{unknown}/messages"),
                    json!({"client_id": "u1", "body": "x"})
                )
                .await
        )
        .await,
        (404, "not_found".into())
    );
    assert_eq!(
        code(admin.get("/api/v1/conversations/not-a-uuid").await).await,
        (404, "not_found".into())
    );
    assert_eq!(
        code(admin.get("/api/v1/conversations?view=everything").await).await,
        (400, "bad_request".into())
    );
    assert_eq!(
        code(admin.get("/api/v1/conversations?before=garbage").await).await,
        (400, "bad_request".into())
    );
    assert_eq!(
        code(admin.get("/api/v1/nope").await).await,
        (404, "not_found".into())
    );
    // Invalid settings.
    let ch = format!("/api/v1/channels/{}", channel["id"].as_str().unwrap());
    assert_eq!(
        code(admin.patch(&ch, json!({"color": "red"})).await).await,
        (422, "validation_failed".into())
    );
    assert_eq!(
        code(
            admin
                .patch(&ch, json!({"allowed_origins": ["javascript:alert(1)"]}))
                .await
        )
        .await,
        (422, "validation_failed".into())
    );
    assert_eq!(
        code(admin.patch(&ch, json!({"name": ""})).await).await,
        (422, "validation_failed".into())
    );
    let dup = admin.post("/api/v1/users", json!({"email": ADMIN_EMAIL, "name": "x", "role": "agent", "password": "a long password"})).await;
    assert_eq!(code(dup).await, (409, "conflict".into()));

    // None of it changed anything.
    let events = admin
        .json(&format!("/api/v1/conversations/{conv}/events"))
        .await;
    assert_eq!(events["items"].as_array().unwrap().len(), 1);
    let after = admin.json(&ch).await;
    assert_eq!(
        (after["name"].as_str(), after["color"].as_str()),
        (Some("Shop"), Some("#1f6feb"))
    );
    assert_eq!(
        admin.json("/api/v1/users").await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

async fn bad_socket_frames(app: TestApp) {
    let admin = app.admin().await;
    let channel = app.channel(&admin, &[]).await;
    let v = app.visitor(&channel, "https://shop.test").await;
    let mut vws = Ws::visitor(&app, &v).await;
    let conv = vws.send_message("w-1", None, "hi").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();

    vws.send_raw(Message::Text("{oops".into())).await;
    assert_eq!(vws.recv_type("error").await["code"], "bad_request");
    vws.send(json!({"type": "teleport"})).await;
    assert_eq!(vws.recv_type("error").await["code"], "bad_request");
    vws.send(json!({"type": "send", "client_id": "w-2", "body": "长".repeat(5001)}))
        .await;
    let e = vws.recv_type("error").await;
    assert_eq!(
        (e["code"].as_str(), e["ref"].as_str()),
        (Some("validation_failed"), Some("w-2"))
    );
    let unknown = uuid::Uuid::now_v7().to_string();
    vws.send(json!({"type": "subscribe", "conversation_id": unknown, "after_seq": 0}))
        .await;
    assert_eq!(vws.recv_type("error").await["code"], "not_found");
    // A visitor cannot reach another visitor's conversation, even with its id.
    let other = app.visitor(&channel, "https://shop.test").await;
    let mut ows = Ws::visitor(&app, &other).await;
    ows.send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": 0}))
        .await;
    assert_eq!(ows.recv_type("error").await["code"], "not_found");
    ows.send(json!({"type": "send", "client_id": "x", "conversation_id": conv, "body": "hi"}))
        .await;
    assert_eq!(ows.recv_type("error").await["code"], "not_found");
    ows.send(json!({"type": "status", "status": "online"}))
        .await;
    assert_eq!(ows.recv_type("error").await["code"], "forbidden");
    // The connection survived all of that.
    vws.send(json!({"type": "ping"})).await;
    vws.recv_type("pong").await;

    // Frames over 64 KiB close with 1009; binary frames with 1003; repeated garbage with 4008.
    vws.send_raw(Message::Text("x".repeat(65 * 1024).into()))
        .await;
    assert_eq!(vws.closed_with().await, 1009);
    let mut b = Ws::visitor(&app, &v).await;
    b.send_raw(Message::Binary(vec![1, 2, 3].into())).await;
    assert_eq!(b.closed_with().await, 1003);
    let mut g = Ws::visitor(&app, &v).await;
    for _ in 0..11 {
        g.send_raw(Message::Text("garbage".into())).await;
    }
    assert_eq!(g.closed_with().await, 4008);
    // The first frame must be hello.
    let mut h = connect(&app.ws_url("/ws/widget"), &[]).await;
    h.send(json!({"type": "ping"})).await;
    assert_eq!(h.closed_with().await, 4001);

    let events = admin
        .json(&format!("/api/v1/conversations/{conv}/events"))
        .await;
    assert_eq!(
        events["items"].as_array().unwrap().len(),
        1,
        "bad frames stored something"
    );
}

async fn wrong_origin_is_refused(app: TestApp) {
    let admin = app.admin().await;
    let channel = app.channel(&admin, &["https://shop.test"]).await;
    assert_eq!(channel["allowed_origins"], json!(["https://shop.test"]));
    let key = channel["widget_key"].as_str().unwrap();
    let c = reqwest::Client::new();
    let session = |origin: &'static str| {
        c.post(app.url("/api/widget/v1/session"))
            .header("origin", origin)
            .json(&json!({"widget_key": key}))
            .send()
    };
    let r = session("https://evil.test").await.unwrap();
    assert_eq!(code(r).await, (403, "forbidden".into()));
    let r = session("https://shop.test").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://shop.test"
    );
    let v: Value = r.json().await.unwrap();
    let token = v["visitor_token"].as_str().unwrap();

    // A stolen visitor token used from another site is refused too.
    let mut ws = connect(
        &app.ws_url("/ws/widget"),
        &[("origin", "https://evil.test")],
    )
    .await;
    ws.send(json!({"type": "hello", "token": token})).await;
    assert_eq!(ws.closed_with().await, 4003);
    let r = c
        .get(app.url("/api/widget/v1/events"))
        .bearer_auth(token)
        .header("origin", "https://evil.test")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The workspace socket only accepts our own origin (cross-site socket hijacking).
    let mut aws = connect(
        &app.ws_url("/ws/agent"),
        &[("origin", "https://evil.test"), ("cookie", &admin.cookie)],
    )
    .await;
    assert_eq!(aws.closed_with().await, 4003);
    // Sign-in forms posted from other sites are refused.
    let r = c
        .post(app.url("/api/v1/auth/login"))
        .header("origin", "https://evil.test")
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Nothing was created for the refused attempts.
    assert!(admin.json("/api/v1/conversations?view=all").await["items"]
        .as_array()
        .unwrap()
        .is_empty());
}

async fn expired_or_missing_credentials(app: TestApp) {
    let admin = app.admin().await;
    let mut ws = connect(&app.ws_url("/ws/agent"), &[]).await;
    assert_eq!(ws.closed_with().await, 4001);
    let mut ws = connect(&app.ws_url("/ws/agent?token=pat_forged"), &[]).await;
    assert_eq!(ws.closed_with().await, 4001);
    let mut ws = connect(&app.ws_url("/ws/widget"), &[]).await;
    ws.send(json!({"type": "hello", "token": "vt_unknown"}))
        .await;
    assert_eq!(ws.closed_with().await, 4001);
    let r = reqwest::Client::new()
        .get(app.url("/api/widget/v1/events"))
        .bearer_auth("vt_unknown")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // A session that expired (here: its expiry moved into the past) is refused by REST and
    // ends an open socket at the next heartbeat check.
    let mut live = connect(&app.ws_url("/ws/agent"), &[("cookie", &admin.cookie)]).await;
    live.send(json!({"type": "hello"})).await;
    live.recv_type("ready").await;
    let cookie = admin.cookie.strip_prefix("parley_session=").unwrap();
    let hash = parley_core::secrets::digest(cookie);
    app.parley()
        .store
        .extend_session(&hash, parley_domain::now_millis() - 1)
        .await
        .unwrap();
    let r = admin.get("/api/v1/auth/me").await;
    assert_eq!(code(r).await, (401, "unauthorized".into()));
    let mut again = connect(&app.ws_url("/ws/agent"), &[("cookie", &admin.cookie)]).await;
    assert_eq!(again.closed_with().await, 4001);
}
