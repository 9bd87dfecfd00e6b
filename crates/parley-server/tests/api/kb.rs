//! The knowledge base through the REST API: who may edit, workspace scoping, bad input,
//! versions and publishing, and search in Chinese and English over the eval articles.

use crate::both_backends;
use crate::helpers::*;
use serde_json::{json, Value};
use std::collections::HashMap;

both_backends!(
    kb_editing_needs_admins_or_supervisors,
    kb_ids_of_another_workspace_are_not_found,
    kb_bad_input_is_refused_and_changes_nothing,
    kb_versions_publish_and_restore,
    kb_search_finds_published_articles_in_chinese_and_english,
);

async fn code(r: reqwest::Response) -> (u16, String) {
    let s = r.status().as_u16();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    (s, v["error"]["code"].as_str().unwrap_or("").to_owned())
}

async fn delete(s: &Session, path: &str) -> reqwest::Response {
    s.client
        .delete(format!("{}{}", s.base, path))
        .header("x-csrf-token", &s.csrf)
        .send()
        .await
        .unwrap()
}

async fn created(r: reqwest::Response) -> Value {
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

async fn ok(r: reqwest::Response) -> Value {
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn article(s: &Session, body: Value) -> Value {
    created(s.post("/api/v1/kb/articles", body).await).await
}

fn shipping(category: Option<&str>) -> Value {
    json!({
        "title": "发货时间说明",
        "body_markdown": "现货商品在付款后**48小时内**发货。详见[物流说明](https://shop.test/help/shipping)。",
        "keywords": ["发货", "几天发货", "出库"],
        "tags": ["物流"],
        "locale": "zh-CN",
        "category_id": category,
    })
}

/// A second workspace with its own admin, signed in.
async fn other_workspace(app: &TestApp) -> Session {
    let ws2 = parley_domain::Workspace {
        id: parley_domain::WorkspaceId::new(),
        name: "Other".into(),
        created_at: parley_domain::now_millis(),
    };
    app.parley().store.create_workspace(&ws2).await.unwrap();
    let email = format!("boss-{}@other.test", ws2.id.0.simple());
    app.parley()
        .operator_create_user(
            Some(ws2.id),
            parley_core::service::NewUser {
                email: email.clone(),
                name: "Boss".into(),
                role: parley_domain::Role::Admin,
                password: "other long password".into(),
            },
        )
        .await
        .unwrap();
    app.login(&email, "other long password").await
}

async fn kb_editing_needs_admins_or_supervisors(app: TestApp) {
    let admin = app.admin().await;
    let agent = app.person(&admin, "agent").await;
    let sup = app.person(&admin, "supervisor").await;

    // Supervisors edit.
    let cat = created(
        sup.post("/api/v1/kb/categories", json!({"name": "物流配送"}))
            .await,
    )
    .await;
    assert_eq!(
        (cat["name"].as_str(), cat["position"].as_i64()),
        (Some("物流配送"), Some(0))
    );
    let a = article(&sup, shipping(Some(&id(&cat)))).await;
    assert_eq!(
        (
            a["status"].as_str(),
            a["version"].as_i64(),
            a["published_version"].is_null()
        ),
        (Some("draft"), Some(1), true)
    );
    assert_eq!(a["category_id"], cat["id"]);
    assert_eq!(a["locale"], "zh-CN");
    let aid = id(&a);

    // Agents read everything, drafts included.
    let list = agent.json("/api/v1/kb/articles").await;
    assert_eq!(list["items"][0]["id"], aid.as_str());
    assert_eq!(
        agent.json(&format!("/api/v1/kb/articles/{aid}")).await["body_markdown"],
        a["body_markdown"]
    );
    assert_eq!(
        agent
            .json(&format!("/api/v1/kb/articles/{aid}/versions"))
            .await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        agent.json("/api/v1/kb/categories").await["items"][0]["name"],
        "物流配送"
    );

    // … and change nothing.
    let cid = id(&cat);
    let attempts = [
        agent
            .post("/api/v1/kb/categories", json!({"name": "售后"}))
            .await,
        agent
            .patch(
                &format!("/api/v1/kb/categories/{cid}"),
                json!({"name": "x"}),
            )
            .await,
        delete(&agent, &format!("/api/v1/kb/categories/{cid}")).await,
        agent.post("/api/v1/kb/articles", shipping(None)).await,
        agent
            .patch(&format!("/api/v1/kb/articles/{aid}"), json!({"title": "x"}))
            .await,
        agent
            .post(&format!("/api/v1/kb/articles/{aid}/publish"), json!({}))
            .await,
        agent
            .post(&format!("/api/v1/kb/articles/{aid}/unpublish"), json!({}))
            .await,
        agent
            .post(
                &format!("/api/v1/kb/articles/{aid}/versions/1/restore"),
                json!({}),
            )
            .await,
        delete(&agent, &format!("/api/v1/kb/articles/{aid}")).await,
    ];
    for r in attempts {
        assert_eq!(code(r).await, (403, "forbidden".into()));
    }
    let now = admin.json(&format!("/api/v1/kb/articles/{aid}")).await;
    assert_eq!(
        (
            now["title"].as_str(),
            now["version"].as_i64(),
            now["status"].as_str()
        ),
        (Some("发货时间说明"), Some(1), Some("draft"))
    );
    let list = admin.json("/api/v1/kb/articles").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        admin.json("/api/v1/kb/categories").await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Admins edit too.
    let p = ok(admin
        .post(&format!("/api/v1/kb/articles/{aid}/publish"), json!({}))
        .await)
    .await;
    assert_eq!(
        (p["status"].as_str(), p["published_version"].as_i64()),
        (Some("published"), Some(1))
    );
    assert!(p["published_at"].is_string());

    // The endpoints are documented.
    let doc = admin.json("/api/openapi.json").await;
    for path in [
        "/api/v1/kb/categories",
        "/api/v1/kb/categories/{id}",
        "/api/v1/kb/articles",
        "/api/v1/kb/articles/{id}",
        "/api/v1/kb/articles/{id}/publish",
        "/api/v1/kb/articles/{id}/unpublish",
        "/api/v1/kb/articles/{id}/versions",
        "/api/v1/kb/articles/{id}/versions/{version}/restore",
        "/api/v1/kb/search",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
}

async fn kb_ids_of_another_workspace_are_not_found(app: TestApp) {
    let admin = app.admin().await;
    let cat = created(
        admin
            .post("/api/v1/kb/categories", json!({"name": "物流配送"}))
            .await,
    )
    .await;
    let cid = id(&cat);
    let a = article(&admin, shipping(Some(&cid))).await;
    let aid = id(&a);
    ok(admin
        .post(&format!("/api/v1/kb/articles/{aid}/publish"), json!({}))
        .await)
    .await;

    let other = other_workspace(&app).await;
    let not_found = [
        other.get(&format!("/api/v1/kb/articles/{aid}")).await,
        other
            .get(&format!("/api/v1/kb/articles/{aid}/versions"))
            .await,
        other
            .patch(
                &format!("/api/v1/kb/articles/{aid}"),
                json!({"title": "pwned"}),
            )
            .await,
        other
            .post(&format!("/api/v1/kb/articles/{aid}/publish"), json!({}))
            .await,
        other
            .post(&format!("/api/v1/kb/articles/{aid}/unpublish"), json!({}))
            .await,
        other
            .post(
                &format!("/api/v1/kb/articles/{aid}/versions/1/restore"),
                json!({}),
            )
            .await,
        delete(&other, &format!("/api/v1/kb/articles/{aid}")).await,
        other
            .patch(
                &format!("/api/v1/kb/categories/{cid}"),
                json!({"name": "pwned"}),
            )
            .await,
        delete(&other, &format!("/api/v1/kb/categories/{cid}")).await,
        // Filing an article in a category of another workspace.
        other
            .post("/api/v1/kb/articles", shipping(Some(&cid)))
            .await,
        // Ids that are no ids.
        other.get("/api/v1/kb/articles/not-a-uuid").await,
        admin.get("/api/v1/kb/articles/not-a-uuid").await,
        admin
            .get(&format!("/api/v1/kb/articles/{}", uuid::Uuid::now_v7()))
            .await,
    ];
    for r in not_found {
        assert_eq!(code(r).await, (404, "not_found".into()));
    }
    for path in [
        "/api/v1/kb/articles",
        "/api/v1/kb/categories",
        "/api/v1/kb/search?q=几天能发货",
    ] {
        assert!(
            other.json(path).await["items"]
                .as_array()
                .unwrap()
                .is_empty(),
            "{path} shows another workspace's knowledge base"
        );
    }
    let theirs = article(&other, shipping(None)).await;
    let r = other
        .patch(
            &format!("/api/v1/kb/articles/{}", id(&theirs)),
            json!({"category_id": cid}),
        )
        .await;
    assert_eq!(code(r).await, (404, "not_found".into()));

    // Nothing of the first workspace changed.
    let now = admin.json(&format!("/api/v1/kb/articles/{aid}")).await;
    assert_eq!(
        (
            now["title"].as_str(),
            now["version"].as_i64(),
            now["published_version"].as_i64()
        ),
        (Some("发货时间说明"), Some(1), Some(1))
    );
    assert_eq!(
        admin.json("/api/v1/kb/categories").await["items"][0]["name"],
        "物流配送"
    );
    assert_eq!(
        admin.json("/api/v1/kb/search?q=几天能发货").await["items"][0]["article"]["id"],
        aid.as_str()
    );
}

async fn kb_bad_input_is_refused_and_changes_nothing(app: TestApp) {
    let admin = app.admin().await;
    let a = article(&admin, shipping(None)).await;
    let aid = id(&a);
    let with = |k: &str, v: Value| {
        let mut body = shipping(None);
        body[k] = v;
        body
    };
    let many: Vec<String> = (0..31).map(|i| format!("关键词{i}")).collect();
    let over_100_kb = "x".repeat(100 * 1024 + 1);
    let cases = [
        (with("title", json!("")), 422),
        (with("title", json!("   ")), 422),
        (with("title", json!("长".repeat(201))), 422),
        (with("title", json!("two\nlines")), 422),
        (with("body_markdown", json!(over_100_kb)), 422),
        (with("body_markdown", json!("a\u{0}b")), 422),
        (with("locale", json!("fr")), 422),
        (with("locale", json!("")), 422),
        (with("keywords", json!(many)), 422),
        (with("keywords", json!(["x".repeat(51)])), 422),
        (
            with(
                "tags",
                json!((0..21).map(|i| format!("t{i}")).collect::<Vec<_>>()),
            ),
            422,
        ),
        (with("keywords", json!("发货")), 400),
        (json!({"locale": "zh-CN"}), 400),
        (with("body_markdown", json!("x".repeat(600 * 1024))), 413),
    ];
    for (body, status) in cases {
        let r = admin.post("/api/v1/kb/articles", body).await;
        let (s, c) = code(r).await;
        assert_eq!(s, status, "{c}");
        let expected = match status {
            422 => "validation_failed",
            413 => "payload_too_large",
            _ => "bad_request",
        };
        assert_eq!(c, expected);
    }
    assert_eq!(
        admin.json("/api/v1/kb/articles").await["items"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "a refused article was stored"
    );

    // A change with one bad field changes nothing at all.
    let path = format!("/api/v1/kb/articles/{aid}");
    for body in [
        json!({"title": "新标题", "locale": "xx"}),
        json!({"title": "新标题", "keywords": many}),
        json!({"title": "新标题", "body_markdown": "x".repeat(100 * 1024 + 1)}),
        json!({"title": ""}),
    ] {
        assert_eq!(
            code(admin.patch(&path, body).await).await,
            (422, "validation_failed".into())
        );
    }
    let r = admin
        .patch(
            &path,
            json!({"title": "新标题", "category_id": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(code(r).await, (404, "not_found".into()));
    let now = admin.json(&path).await;
    assert_eq!(
        (now["title"].as_str(), now["version"].as_i64()),
        (Some("发货时间说明"), Some(1))
    );
    assert_eq!(now["updated_at"], a["updated_at"]);
    assert_eq!(
        admin.json(&format!("{path}/versions")).await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // 100 KB is bytes: 34 133 Chinese characters (102 399 bytes) fit.
    let big = ok(admin
        .patch(&path, json!({"body_markdown": "发".repeat(34_133)}))
        .await)
    .await;
    assert_eq!(big["version"], 2);

    // Categories.
    for body in [
        json!({}),
        json!({"name": ""}),
        json!({"name": "x".repeat(101)}),
        json!({"name": "售后", "position": -1}),
    ] {
        let r = admin.post("/api/v1/kb/categories", body).await;
        assert_eq!(code(r).await, (422, "validation_failed".into()));
    }
    let cat = created(
        admin
            .post(
                "/api/v1/kb/categories",
                json!({"name": "物流配送", "position": 3}),
            )
            .await,
    )
    .await;
    let cid = id(&cat);
    let r = admin
        .post("/api/v1/kb/categories", json!({"name": "物流配送"}))
        .await;
    assert_eq!(code(r).await, (409, "conflict".into()));
    let other = created(
        admin
            .post("/api/v1/kb/categories", json!({"name": "售后"}))
            .await,
    )
    .await;
    assert_eq!(other["position"], 1, "appended after the existing one");
    let r = admin
        .patch(
            &format!("/api/v1/kb/categories/{}", id(&other)),
            json!({"name": "物流配送"}),
        )
        .await;
    assert_eq!(code(r).await, (409, "conflict".into()));
    ok(admin.patch(&path, json!({"category_id": cid})).await).await;
    let r = delete(&admin, &format!("/api/v1/kb/categories/{cid}")).await;
    let (s, c) = code(r).await;
    assert_eq!((s, c.as_str()), (409, "conflict"));
    let moved = ok(admin.patch(&path, json!({"category_id": null})).await).await;
    assert!(moved["category_id"].is_null());
    assert_eq!(moved["version"], 2, "moving is no new version");
    assert_eq!(
        delete(&admin, &format!("/api/v1/kb/categories/{cid}"))
            .await
            .status(),
        204
    );
    assert_eq!(
        admin.json("/api/v1/kb/categories").await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Filters and search parameters.
    for q in [
        "/api/v1/kb/articles?status=archived",
        "/api/v1/kb/articles?locale=fr",
        "/api/v1/kb/articles?category_id=nope",
        "/api/v1/kb/articles?before=garbage",
        "/api/v1/kb/search?q=hi&locale=fr",
    ] {
        assert_eq!(
            code(admin.get(q).await).await,
            (400, "bad_request".into()),
            "{q}"
        );
    }
    for q in [
        "/api/v1/kb/search".to_string(),
        "/api/v1/kb/search?q=%20".to_string(),
        format!("/api/v1/kb/search?q={}", "问".repeat(501)),
    ] {
        assert_eq!(
            code(admin.get(&q).await).await,
            (422, "validation_failed".into()),
            "{q}"
        );
    }
}

async fn kb_versions_publish_and_restore(app: TestApp) {
    let admin = app.admin().await;
    let cat = created(
        admin
            .post("/api/v1/kb/categories", json!({"name": "物流配送"}))
            .await,
    )
    .await;
    let a = article(&admin, shipping(None)).await;
    let aid = id(&a);
    let path = format!("/api/v1/kb/articles/{aid}");
    let v1_body = a["body_markdown"].as_str().unwrap().to_owned();

    let v2 = ok(admin
        .patch(
            &path,
            json!({"body_markdown": "付款后24小时内发货。", "keywords": ["发货", "发货时效"]}),
        )
        .await)
    .await;
    assert_eq!(
        (v2["version"].as_i64(), v2["status"].as_str()),
        (Some(2), Some("draft"))
    );
    let p = ok(admin.post(&format!("{path}/publish"), json!({})).await).await;
    assert_eq!(
        (p["status"].as_str(), p["published_version"].as_i64()),
        (Some("published"), Some(2))
    );

    // A new draft of a published article: the public keeps version 2.
    let v3 = ok(admin
        .patch(&path, json!({"title": "发货时间（修订中）"}))
        .await)
    .await;
    assert_eq!(
        (v3["version"].as_i64(), v3["published_version"].as_i64()),
        (Some(3), Some(2))
    );
    assert_eq!(v3["status"], "published");
    let same = ok(admin
        .patch(&path, json!({"title": "发货时间（修订中）"}))
        .await)
    .await;
    assert_eq!(same["version"], 3, "an unchanged title is no new version");
    let moved = ok(admin.patch(&path, json!({"category_id": id(&cat)})).await).await;
    assert_eq!(
        (moved["version"].as_i64(), moved["category_id"].as_str()),
        (Some(3), cat["id"].as_str())
    );
    let hit = &admin.json("/api/v1/kb/search?q=几天能发货").await["items"][0];
    assert_eq!(hit["article"]["id"], aid.as_str());
    assert_eq!(
        (
            hit["article"]["title"].as_str(),
            hit["article"]["version"].as_i64()
        ),
        (Some("发货时间说明"), Some(2)),
        "search shows the published version"
    );
    assert_eq!(hit["article"]["body_markdown"], "付款后24小时内发货。");
    assert_eq!(hit["article"]["category_id"], cat["id"]);

    // History, newest first, in pages.
    let page = admin.json(&format!("{path}/versions?limit=2")).await;
    let numbers = |p: &Value| -> Vec<i64> {
        p["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(numbers(&page), vec![3, 2]);
    assert_eq!(page["next_cursor"], 2);
    let rest = admin
        .json(&format!("{path}/versions?limit=2&before=2"))
        .await;
    assert_eq!(numbers(&rest), vec![1]);
    assert!(rest["next_cursor"].is_null());
    assert_eq!(rest["items"][0]["body_markdown"], v1_body.as_str());
    assert_eq!(rest["items"][0]["edited_by"], admin.user_id());

    // Restoring version 1 writes version 4 as its copy.
    let r4 = ok(admin
        .post(&format!("{path}/versions/1/restore"), json!({}))
        .await)
    .await;
    assert_eq!(
        (
            r4["version"].as_i64(),
            r4["title"].as_str(),
            r4["body_markdown"].as_str()
        ),
        (Some(4), Some("发货时间说明"), Some(v1_body.as_str()))
    );
    assert_eq!(r4["published_version"], 2);
    let history = admin.json(&format!("{path}/versions")).await;
    assert_eq!(numbers(&history), vec![4, 3, 2, 1]);
    assert_eq!(history["items"][0]["restored_from"], 1);
    assert!(history["items"][1]["restored_from"].is_null());
    assert_eq!(
        history["items"][1]["title"], "发货时间（修订中）",
        "history is never rewritten"
    );
    for bad in ["99", "0", "abc"] {
        let r = admin
            .post(&format!("{path}/versions/{bad}/restore"), json!({}))
            .await;
        assert_eq!(code(r).await, (404, "not_found".into()), "version {bad}");
    }

    // Publishing again shows the restored content.
    let p = ok(admin.post(&format!("{path}/publish"), json!({})).await).await;
    assert_eq!(p["published_version"], 4);
    let hit = &admin.json("/api/v1/kb/search?q=几天能发货").await["items"][0];
    assert_eq!(
        (
            hit["article"]["version"].as_i64(),
            hit["article"]["body_markdown"].as_str()
        ),
        (Some(4), Some(v1_body.as_str()))
    );

    // Unpublished, it is gone from search but not from the editors' list.
    let u = ok(admin.post(&format!("{path}/unpublish"), json!({})).await).await;
    assert_eq!(
        (u["status"].as_str(), u["published_version"].is_null()),
        (Some("draft"), true)
    );
    assert!(admin.json("/api/v1/kb/search?q=几天能发货").await["items"]
        .as_array()
        .unwrap()
        .is_empty());
    let drafts = admin.json("/api/v1/kb/articles?status=draft").await;
    assert_eq!(drafts["items"][0]["id"], aid.as_str());
    assert!(
        admin.json("/api/v1/kb/articles?status=published").await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Deleted with its history.
    assert_eq!(delete(&admin, &path).await.status(), 204);
    for r in [
        admin.get(&path).await,
        admin.get(&format!("{path}/versions")).await,
        delete(&admin, &path).await,
    ] {
        assert_eq!(code(r).await, (404, "not_found".into()));
    }
}

async fn kb_search_finds_published_articles_in_chinese_and_english(app: TestApp) {
    let admin = app.admin().await;
    let agent = app.person(&admin, "agent").await;
    // The eval knowledge base: 40 Chinese and 8 English articles in their categories.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../eval/faq/kb.jsonl");
    let articles = parley_kb::eval::load_articles(path.as_ref()).unwrap();
    let mut categories: HashMap<String, String> = HashMap::new();
    let mut ids: HashMap<String, String> = HashMap::new();
    for a in &articles {
        let name = a.category.clone().unwrap();
        if !categories.contains_key(&name) {
            let c = created(
                admin
                    .post("/api/v1/kb/categories", json!({"name": name}))
                    .await,
            )
            .await;
            categories.insert(name.clone(), id(&c));
        }
        let created = article(
            &admin,
            json!({
                "title": a.title, "body_markdown": a.body, "keywords": a.keywords,
                "locale": a.locale, "category_id": categories[&name],
            }),
        )
        .await;
        ok(admin
            .post(
                &format!("/api/v1/kb/articles/{}/publish", id(&created)),
                json!({}),
            )
            .await)
        .await;
        ids.insert(a.id.clone(), id(&created));
    }
    // A draft that would match better is never shown.
    article(
        &admin,
        json!({"title": "几天能发货（草稿）", "body_markdown": "几天能发货", "keywords": ["几天能发货"], "locale": "zh-CN"}),
    )
    .await;

    let search = |q: &str, locale: &str| {
        let url = format!(
            "/api/v1/kb/search?q={}&locale={locale}",
            q.replace(' ', "%20").replace('?', "%3F")
        );
        let agent = &agent;
        async move { agent.json(&url).await }
    };
    let top = |r: &Value| {
        r["items"][0]["article"]["id"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };

    let zh = search("几天能发货", "zh-CN").await;
    assert_eq!(top(&zh), ids["kb-001"], "{zh}");
    assert_eq!(zh["items"][0]["article"]["title"], "发货时间说明");
    let threshold = zh["threshold"].as_f64().unwrap();
    assert!(
        zh["items"][0]["confidence"].as_f64().unwrap() >= threshold,
        "{zh}"
    );
    assert!(zh["items"].as_array().unwrap().len() <= 4);
    assert!(zh["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["article"]["title"] != "几天能发货（草稿）"));
    for (q, expected) in [
        ("退款多久到账", "kb-010"),
        ("怎么重新设置密码", "kb-027"),
        ("能开增值税专票吗", "kb-017"),
    ] {
        assert_eq!(top(&search(q, "zh-CN").await), ids[expected], "{q}");
    }
    for (q, expected) in [
        (
            "I returned the item last week, when do I get my money back",
            "kb-042",
        ),
        ("can I pay with PayPal?", "kb-048"),
        ("how do i delete my account", "kb-047"),
    ] {
        let r = search(q, "en").await;
        assert_eq!(top(&r), ids[expected], "{q}: {r}");
        assert_eq!(r["items"][0]["article"]["locale"], "en");
    }

    // The bot's entry point gives the same answer, and hands off when asked.
    let ws =
        parley_domain::WorkspaceId::parse(admin.me["workspace"]["id"].as_str().unwrap()).unwrap();
    let p = app.parley();
    let answer = p
        .kb_answer(ws, "亲 下单了啥时候发货啊", Some("zh-CN"))
        .await
        .unwrap();
    assert_eq!(
        answer.article_id(),
        Some(ids["kb-001"].as_str()),
        "{answer:?}"
    );
    assert_eq!(
        p.kb_answer(ws, "转人工", Some("zh-CN")).await.unwrap(),
        parley_kb::Answer::Handoff
    );
    assert_eq!(p.published_articles(ws).await.unwrap().len(), 48);

    // The matcher is rebuilt only when what the public sees changes.
    let built = p.kb.rebuilds();
    search("运费怎么算", "zh-CN").await;
    let a1 = format!("/api/v1/kb/articles/{}", ids["kb-001"]);
    ok(admin.patch(&a1, json!({"title": "发货须知"})).await).await;
    search("运费怎么算", "zh-CN").await;
    assert_eq!(p.kb.rebuilds(), built, "a draft edit rebuilt the matcher");
    ok(admin.post(&format!("{a1}/unpublish"), json!({})).await).await;
    let after = search("几天能发货", "zh-CN").await;
    assert_eq!(p.kb.rebuilds(), built + 1);
    assert_ne!(top(&after), ids["kb-001"]);
    ok(admin.post(&format!("{a1}/publish"), json!({})).await).await;
    let back = search("几天能发货", "zh-CN").await;
    assert_eq!(
        (top(&back), back["items"][0]["article"]["title"].as_str()),
        (ids["kb-001"].clone(), Some("发货须知"))
    );

    // Views and votes count on published articles only, and show in search.
    let kb1 = parley_domain::ArticleId::parse(&ids["kb-001"]).unwrap();
    p.record_kb_view(ws, kb1).await.unwrap();
    p.record_kb_view(ws, kb1).await.unwrap();
    p.record_kb_vote(ws, kb1, true).await.unwrap();
    p.record_kb_vote(ws, kb1, false).await.unwrap();
    p.record_kb_vote(ws, kb1, true).await.unwrap();
    let hit = &search("几天能发货", "zh-CN").await["items"][0]["article"];
    assert_eq!(
        (
            hit["views"].as_i64(),
            hit["helpful_yes"].as_i64(),
            hit["helpful_no"].as_i64()
        ),
        (Some(2), Some(2), Some(1))
    );
    let draft = admin.json("/api/v1/kb/articles?status=draft").await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let draft = parley_domain::ArticleId::parse(&draft).unwrap();
    assert!(matches!(
        p.record_kb_view(ws, draft).await,
        Err(parley_core::ServiceError::NotFound(_))
    ));
}
