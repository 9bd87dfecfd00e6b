use crate::both_backends;
use crate::helpers::*;
use serde_json::{json, Value};

both_backends!(
    login_roles_csrf_and_tokens,
    password_change_revokes_other_sessions,
    login_is_rate_limited,
    workspaces_are_isolated
);

async fn login_roles_csrf_and_tokens(app: TestApp) {
    let anon = reqwest::Client::new();
    let r = anon
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": "wrong password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "unauthorized"
    );
    assert_eq!(
        anon.get(app.url("/api/v1/conversations"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    let admin = app.admin().await;
    assert_eq!(admin.me["user"]["role"], "admin");
    // Cookie-authenticated writes need the CSRF header.
    let r = admin
        .client
        .post(app.url("/api/v1/channels"))
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "csrf_failed"
    );
    assert!(
        admin.json("/api/v1/channels").await["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "refused write changed something"
    );

    // Agents cannot administer; the server checks, whatever the UI shows.
    let agent = app.person(&admin, "agent").await;
    assert_eq!(
        agent
            .post("/api/v1/channels", json!({"name": "mine"}))
            .await
            .status(),
        403
    );
    let r = agent.post("/api/v1/users", json!({"email": "x@example.com", "name": "x", "role": "admin", "password": "a long password"})).await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        agent
            .patch(
                &format!("/api/v1/users/{}", agent.user_id()),
                json!({"role": "admin"})
            )
            .await
            .status(),
        403
    );
    let supervisor = app.person(&admin, "supervisor").await;
    assert_eq!(
        supervisor
            .post("/api/v1/channels", json!({"name": "sup"}))
            .await
            .status(),
        403
    );
    assert_eq!(
        admin.json("/api/v1/users").await["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // Personal API tokens: bearer auth without CSRF; revoked tokens stop working.
    let token = agent.token().await;
    let bearer = reqwest::Client::new();
    let me: Value = bearer
        .get(app.url("/api/v1/auth/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["id"], agent.user_id());
    let r = bearer
        .put(app.url("/api/v1/me/status"))
        .bearer_auth(&token)
        .json(&json!({"status": "away"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let tokens = agent.json("/api/v1/tokens").await;
    let id = tokens["items"][0]["id"].as_str().unwrap();
    let r = agent
        .client
        .delete(app.url(&format!("/api/v1/tokens/{id}")))
        .header("x-csrf-token", &agent.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        bearer
            .get(app.url("/api/v1/auth/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    // Logout ends the session.
    assert_eq!(
        agent.post("/api/v1/auth/logout", json!({})).await.status(),
        204
    );
    assert_eq!(agent.get("/api/v1/auth/me").await.status(), 401);
}

async fn password_change_revokes_other_sessions(app: TestApp) {
    let admin = app.admin().await;
    let agent = app.person(&admin, "agent").await;
    let email = agent.me["user"]["email"].as_str().unwrap().to_owned();
    let other_device = app.login(&email, "a long password").await;
    let mut live = connect(
        &app.ws_url("/ws/agent"),
        &[("cookie", &other_device.cookie)],
    )
    .await;
    live.send(json!({"type": "hello"})).await;
    live.recv_type("ready").await;

    let r = agent
        .post(
            "/api/v1/auth/password",
            json!({"current_password": "wrong one!!", "new_password": "another long one"}),
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = agent
        .post(
            "/api/v1/auth/password",
            json!({"current_password": "a long password", "new_password": "short"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = agent
        .post(
            "/api/v1/auth/password",
            json!({"current_password": "a long password", "new_password": "another long one"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let fresh: Value = r.json().await.unwrap();
    // The device that changed it keeps working with its new session; the other one is out.
    assert_eq!(agent.get("/api/v1/auth/me").await.status(), 200);
    assert_ne!(fresh["csrf_token"], agent.csrf);
    let r = other_device.get("/api/v1/auth/me").await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("expired or was revoked"));
    // A socket opened with the revoked session is refused on reconnect.
    let mut again = connect(
        &app.ws_url("/ws/agent"),
        &[("cookie", &other_device.cookie)],
    )
    .await;
    assert_eq!(again.closed_with().await, 4001);
    drop(live);
    app.login(&email, "another long one").await;
    // The operator command signs everyone out.
    app.parley()
        .operator_reset_password(&email, "operator chosen pw")
        .await
        .unwrap();
    assert_eq!(agent.get("/api/v1/auth/me").await.status(), 401);
    app.login(&email, "operator chosen pw").await;
}

async fn login_is_rate_limited(app: TestApp) {
    let c = reqwest::Client::new();
    for _ in 0..5 {
        let r = c
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"email": ADMIN_EMAIL, "password": "nope nope nope"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = c
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        429,
        "even the right password waits once the limit is hit"
    );
    assert!(r.headers().get("retry-after").is_some());
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "rate_limited"
    );
}

async fn workspaces_are_isolated(app: TestApp) {
    let admin = app.admin().await;
    let channel = app.channel(&admin, &[]).await;
    let v = app.visitor(&channel, "https://shop.test").await;
    let mut vws = Ws::visitor(&app, &v).await;
    let ack = vws.send_message("hello-1", None, "我的订单在哪里？").await;
    let conv = ack["conversation_id"].as_str().unwrap().to_owned();

    // A second workspace with its own admin.
    let ws2 = parley_domain::Workspace {
        id: parley_domain::WorkspaceId::new(),
        name: "Other".into(),
        created_at: parley_domain::now_millis(),
    };
    app.parley().store.create_workspace(&ws2).await.unwrap();
    let input = parley_core::service::NewUser {
        email: "boss@other.test".into(),
        name: "Boss".into(),
        role: parley_domain::Role::Admin,
        password: "other long password".into(),
    };
    app.parley()
        .operator_create_user(Some(ws2.id), input)
        .await
        .unwrap();
    let other = app.login("boss@other.test", "other long password").await;

    for path in [
        format!("/api/v1/conversations/{conv}"),
        format!("/api/v1/conversations/{conv}/events"),
        format!("/api/v1/channels/{}", channel["id"].as_str().unwrap()),
    ] {
        let r = other.get(&path).await;
        assert_eq!(r.status(), 404, "{path} visible from another workspace");
        assert_eq!(
            r.json::<Value>().await.unwrap()["error"]["code"],
            "not_found"
        );
    }
    assert!(other.json("/api/v1/conversations?view=all").await["items"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(other.json("/api/v1/channels").await["items"]
        .as_array()
        .unwrap()
        .is_empty());
    let r = other
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"client_id": "x1", "body": "hijack"}),
        )
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        other
            .post(&format!("/api/v1/conversations/{conv}/resolve"), json!({}))
            .await
            .status(),
        404
    );
    assert_eq!(
        other
            .patch(
                &format!("/api/v1/users/{}", admin.user_id()),
                json!({"name": "pwned"})
            )
            .await
            .status(),
        404
    );

    // Nor over the socket.
    let token = other.token().await;
    let mut ows = Ws::agent(&app, &token).await;
    ows.send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": 0}))
        .await;
    let err = ows.recv_type("error").await;
    assert_eq!(err["code"], "not_found");
    ows.send(json!({"type": "send", "client_id": "x2", "conversation_id": conv, "body": "hijack"}))
        .await;
    assert_eq!(ows.recv_type("error").await["code"], "not_found");

    // The first workspace still sees exactly its one message.
    let events = admin
        .json(&format!("/api/v1/conversations/{conv}/events"))
        .await;
    assert_eq!(events["items"].as_array().unwrap().len(), 1);
}
