//! The public help centre (`/help/{widget_key}`): what visitors see without signing in, kept to
//! one workspace's published articles, rendered safely, searchable in Chinese, and counting
//! views and "did this solve it?" votes that editors then see in the console API.

use crate::both_backends;
use crate::helpers::*;
use serde_json::{json, Value};

both_backends!(
    help_centre_shows_only_published_articles_of_its_workspace,
    help_centre_renders_article_html_as_text,
    help_centre_search_finds_articles_in_chinese_and_english,
    help_centre_counts_views_and_one_vote_per_visitor,
);

async fn created(r: reqwest::Response) -> Value {
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// A published article; returns its id.
async fn published(s: &Session, body: Value) -> String {
    let a = created(s.post("/api/v1/kb/articles", body).await).await;
    let r = s
        .post(
            &format!("/api/v1/kb/articles/{}/publish", id(&a)),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    id(&a)
}

fn zh(title: &str, body: &str, keywords: &[&str], category: Option<&str>) -> Value {
    json!({"title": title, "body_markdown": body, "keywords": keywords, "locale": "zh-CN", "category_id": category})
}

/// A page of the help centre as a visitor's browser gets it: (status, content type, HTML).
async fn page(app: &TestApp, path: &str) -> (u16, String, String) {
    page_with(&reqwest::Client::new(), app, path, None).await
}

async fn page_with(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
    accept_language: Option<&str>,
) -> (u16, String, String) {
    let mut req = client.get(app.url(path));
    if let Some(l) = accept_language {
        req = req.header("accept-language", l);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (status, ct, r.text().await.unwrap())
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

async fn help_centre_shows_only_published_articles_of_its_workspace(app: TestApp) {
    let admin = app.admin().await;
    let key = app.channel(&admin, &[]).await["widget_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let cat = created(
        admin
            .post("/api/v1/kb/categories", json!({"name": "物流配送"}))
            .await,
    )
    .await;
    let shipped = published(
        &admin,
        zh(
            "发货时间说明",
            "付款后48小时内发货。",
            &["发货"],
            Some(&id(&cat)),
        ),
    )
    .await;
    let draft = id(&created(
        admin
            .post(
                "/api/v1/kb/articles",
                zh("尚未发布的草稿", "草稿内容", &[], None),
            )
            .await,
    )
    .await);
    // Published, then taken down again.
    let withdrawn = published(&admin, zh("已下线的文章", "旧内容", &[], None)).await;
    admin
        .post(
            &format!("/api/v1/kb/articles/{withdrawn}/unpublish"),
            json!({}),
        )
        .await;

    let other = other_workspace(&app).await;
    let other_key = app.channel(&other, &[]).await["widget_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let foreign = published(&other, zh("别家的退货政策", "别家的内容", &[], None)).await;

    // The front page: the category with its published article, nothing else.
    let (status, ct, html) = page(&app, &format!("/help/{key}")).await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(
        html.contains("物流配送") && html.contains("发货时间说明"),
        "{html}"
    );
    assert!(html.contains(&format!("/help/{key}/articles/{shipped}")));
    for hidden in ["尚未发布的草稿", "已下线的文章", "别家的退货政策"] {
        assert!(!html.contains(hidden), "{hidden} shown: {html}");
    }
    let (_, _, other_html) = page(&app, &format!("/help/{other_key}")).await;
    assert!(other_html.contains("别家的退货政策") && !other_html.contains("发货时间说明"));

    // The article page shows the published version.
    let (status, _, html) = page(&app, &format!("/help/{key}/articles/{shipped}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("付款后48小时内发货。"), "{html}");

    // Drafts, withdrawn articles, another workspace's articles and unknown keys: not found.
    for path in [
        format!("/help/{key}/articles/{draft}"),
        format!("/help/{key}/articles/{withdrawn}"),
        format!("/help/{key}/articles/{foreign}"),
        format!("/help/{other_key}/articles/{shipped}"),
        format!("/help/{key}/articles/not-an-id"),
        "/help/wk_doesnotexist".to_owned(),
        "/help/wk_doesnotexist/search?q=发货".to_owned(),
    ] {
        let (status, ct, html) = page(&app, &path).await;
        assert_eq!(status, 404, "{path}");
        assert!(ct.starts_with("text/html"), "{path}: {ct}");
        assert!(html.contains("页面不存在"), "{path}: {html}");
        assert!(!html.contains("别家的内容") && !html.contains("草稿内容"));
    }

    // The page language follows ?lang= and then Accept-Language; Chinese by default.
    let client = reqwest::Client::new();
    let (_, _, html) = page_with(
        &client,
        &app,
        &format!("/help/{key}"),
        Some("en-US,en;q=0.9"),
    )
    .await;
    assert!(html.contains("Help centre") && html.contains(r#"lang="en""#));
    let (_, _, html) = page_with(
        &client,
        &app,
        &format!("/help/{key}?lang=zh-CN"),
        Some("en"),
    )
    .await;
    assert!(html.contains("帮助中心"));
    let (_, _, html) = page(&app, &format!("/help/{key}?lang=en")).await;
    assert!(html.contains("Help centre"));
}

async fn help_centre_renders_article_html_as_text(app: TestApp) {
    let admin = app.admin().await;
    let key = app.channel(&admin, &[]).await["widget_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let body =
        "## 注意事项\n\n<script>alert('kb')</script>\n\n图片 <img src=x onerror=alert(1)> 和 \
                [链接](javascript:alert(2)) 以及 [正常链接](https://shop.test/a)。\n\n**加粗**";
    let title = "<b>标题</b> & 更多";
    let a = published(&admin, zh(title, body, &[], None)).await;

    let r = reqwest::get(app.url(&format!("/help/{key}/articles/{a}")))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    let html = r.text().await.unwrap();
    // The page itself has no script; the article's markup is shown as text.
    assert!(!html.to_lowercase().contains("<script"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("javascript:"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert('kb')&lt;/script&gt;")
            || html.contains("&lt;script&gt;alert(&#39;kb&#39;)&lt;/script&gt;"),
        "{html}"
    );
    assert!(
        html.contains("&lt;b&gt;标题&lt;/b&gt; &amp; 更多"),
        "{html}"
    );
    // Markdown still renders.
    assert!(html.contains("<h2>注意事项</h2>") && html.contains("<strong>加粗</strong>"));
    assert!(html.contains(r#"<a href="https://shop.test/a">正常链接</a>"#));

    // The console's preview renders the same way.
    let r = admin
        .post("/api/v1/kb/preview", json!({"body_markdown": body}))
        .await;
    assert_eq!(r.status(), 200);
    let preview: Value = r.json().await.unwrap();
    let p = preview["html"].as_str().unwrap();
    assert!(
        !p.contains("<script") && p.contains("<h2>注意事项</h2>"),
        "{p}"
    );
}

async fn help_centre_search_finds_articles_in_chinese_and_english(app: TestApp) {
    let admin = app.admin().await;
    let key = app.channel(&admin, &[]).await["widget_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let ship = published(
        &admin,
        zh(
            "发货时间说明",
            "现货商品在付款后48小时内发货，预售商品以页面时间为准。",
            &["发货", "几天发货", "什么时候发货"],
            None,
        ),
    )
    .await;
    let refund = published(
        &admin,
        json!({"title": "How to request a refund", "body_markdown": "Open your order and choose **Refund**. Money returns within 5 working days.",
               "keywords": ["refund", "money back"], "locale": "en"}),
    )
    .await;
    // A draft about the same thing is not found.
    created(
        admin
            .post(
                "/api/v1/kb/articles",
                zh("发货草稿", "发货 发货 发货", &["发货"], None),
            )
            .await,
    )
    .await;

    let (status, _, html) = page(&app, &format!("/help/{key}/search?q=几天能发货")).await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("/articles/{ship}")), "{html}");
    assert!(!html.contains("发货草稿"));
    // The question stays in the search box, escaped.
    assert!(html.contains(r#"value="几天能发货""#), "{html}");

    let (_, _, html) = page(
        &app,
        &format!("/help/{key}/search?q=how%20do%20I%20get%20my%20money%20back&lang=en"),
    )
    .await;
    assert!(
        html.contains(&format!("/articles/{refund}?lang=en")),
        "{html}"
    );

    let (status, _, html) = page(&app, &format!("/help/{key}/search?q=%3Cscript%3E")).await;
    assert_eq!(status, 200);
    assert!(!html.contains("<script>") && html.contains("&lt;script&gt;"));

    let (status, _, html) = page(&app, &format!("/help/{key}/search?q=")).await;
    assert_eq!(status, 200);
    assert!(html.contains("请输入要搜索的问题"));
}

async fn vote(
    client: &reqwest::Client,
    app: &TestApp,
    key: &str,
    article: &str,
    form: &str,
    origin: Option<&str>,
) -> reqwest::Response {
    let mut req = client
        .post(app.url(&format!("/help/{key}/articles/{article}/vote")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_owned());
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    req.send().await.unwrap()
}

async fn counts(admin: &Session, article: &str) -> (i64, i64, i64) {
    let a = admin.json(&format!("/api/v1/kb/articles/{article}")).await;
    (
        a["views"].as_i64().unwrap(),
        a["helpful_yes"].as_i64().unwrap(),
        a["helpful_no"].as_i64().unwrap(),
    )
}

async fn help_centre_counts_views_and_one_vote_per_visitor(app: TestApp) {
    let admin = app.admin().await;
    let key = app.channel(&admin, &[]).await["widget_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = published(&admin, zh("退货流程", "七天无理由退货。", &["退货"], None)).await;
    let b = published(&admin, zh("换货流程", "十五天内可换货。", &["换货"], None)).await;
    let path = format!("/help/{key}/articles/{a}");

    // Each page load is a view; the list and search pages are not.
    page(&app, &path).await;
    page(&app, &path).await;
    page(&app, &format!("/help/{key}")).await;
    assert_eq!(counts(&admin, &a).await, (2, 0, 0));

    // A vote: redirected back to the article with thanks and a cookie, counted once.
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let origin = format!("http://{}", app.addr);
    let r = vote(&browser, &app, &key, &a, "helpful=yes", Some(&origin)).await;
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        to.starts_with(&format!("/help/{key}/articles/{a}?voted=1")),
        "{to}"
    );
    assert_eq!(counts(&admin, &a).await, (2, 1, 0));
    // The page it returns to thanks the visitor and is not another view.
    let (_, _, html) = page_with(&browser, &app, &to, None).await;
    assert!(html.contains("感谢您的反馈"), "{html}");
    assert_eq!(counts(&admin, &a).await.0, 2);
    // The same browser on a later visit sees no vote buttons.
    let (_, _, html) = page_with(&browser, &app, &path, None).await;
    assert!(html.contains("感谢您的反馈") && !html.contains(r#"name="helpful""#));

    // Voting again — same browser, or another browser from the same address — is not counted.
    vote(&browser, &app, &key, &a, "helpful=no", Some(&origin)).await;
    let fresh = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = vote(&fresh, &app, &key, &a, "helpful=no", None).await;
    assert_eq!(r.status(), 303);
    assert_eq!(counts(&admin, &a).await, (3, 1, 0));
    // Another article is a separate vote.
    vote(&fresh, &app, &key, &b, "helpful=no", None).await;
    assert_eq!(counts(&admin, &b).await, (0, 0, 1));
    // One browser remembers every article it voted on (one cookie for all of them).
    vote(&browser, &app, &key, &b, "helpful=yes", Some(&origin)).await;
    assert_eq!(counts(&admin, &b).await, (0, 0, 1), "same address");
    for article in [&a, &b] {
        let (_, _, html) = page_with(
            &browser,
            &app,
            &format!("/help/{key}/articles/{article}"),
            None,
        )
        .await;
        assert!(html.contains("感谢您的反馈"), "{article}: {html}");
    }

    // Bad input, another site's form, drafts and unknown articles change nothing.
    let c = published(&admin, zh("发票说明", "可开电子发票。", &[], None)).await;
    let r = vote(&fresh, &app, &key, &c, "helpful=maybe", None).await;
    assert_eq!(r.status(), 400);
    let r = vote(&fresh, &app, &key, &c, "", None).await;
    assert_eq!(r.status(), 400);
    let r = vote(
        &fresh,
        &app,
        &key,
        &c,
        "helpful=yes",
        Some("https://evil.test"),
    )
    .await;
    assert_eq!(r.status(), 403);
    assert_eq!(counts(&admin, &c).await, (0, 0, 0));
    admin
        .post(&format!("/api/v1/kb/articles/{c}/unpublish"), json!({}))
        .await;
    let r = vote(&fresh, &app, &key, &c, "helpful=yes", None).await;
    assert_eq!(r.status(), 404);
    assert_eq!(counts(&admin, &c).await, (0, 0, 0));

    // The console's search shows the same counters.
    let found = admin.json("/api/v1/kb/search?q=%E9%80%80%E8%B4%A7").await;
    let hit = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["article"]["id"] == a.as_str())
        .expect("found");
    assert_eq!(
        (
            hit["article"]["views"].as_i64(),
            hit["article"]["helpful_yes"].as_i64()
        ),
        (Some(4), Some(1))
    );
}
