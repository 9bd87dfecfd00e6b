//! The knowledge base: workspace scoping, versions, publishing and restoring, gapless versions
//! under concurrent edits, and the view and vote counters.

use crate::{fixture, DynStore};
use parley_core::ports::*;
use parley_core::StoreError;
use parley_domain::*;

pub fn category(ws: WorkspaceId, name: &str, position: i32) -> Category {
    Category {
        id: CategoryId::new(),
        workspace_id: ws,
        name: name.into(),
        position,
        created_at: now_millis(),
    }
}

pub fn article(
    ws: WorkspaceId,
    category: Option<CategoryId>,
    locale: KbLocale,
    title: &str,
    body: &str,
) -> Article {
    let content = ArticleContent::parse(title, body, &["发货", "shipping"], &["物流"]).unwrap();
    Article::new(ws, category, locale, content, now_millis())
}

fn retitle(title: &str) -> ArticlePatch {
    ArticlePatch {
        title: Some(title.into()),
        ..Default::default()
    }
}

pub async fn kb_is_scoped_to_its_workspace(s: DynStore) {
    let a = fixture(&s, "kba").await;
    let b = fixture(&s, "kbb").await;
    let now = now_millis();
    let cat = category(a.ws.id, "物流配送", 1);
    s.create_kb_category(&cat).await.unwrap();
    // Names are unique per workspace only.
    assert!(matches!(
        s.create_kb_category(&category(a.ws.id, "物流配送", 2))
            .await,
        Err(StoreError::Conflict(_))
    ));
    s.create_kb_category(&category(b.ws.id, "物流配送", 1))
        .await
        .unwrap();
    let art = article(
        a.ws.id,
        Some(cat.id),
        KbLocale::ZhCn,
        "发货时间说明",
        "48小时内发货",
    );
    s.create_kb_article(&art, a.admin.id).await.unwrap();
    s.publish_kb_article(a.ws.id, art.id, now).await.unwrap();

    // Another workspace cannot see, change or count any of it.
    assert!(s.get_kb_category(b.ws.id, cat.id).await.unwrap().is_none());
    assert_eq!(s.list_kb_categories(b.ws.id).await.unwrap().len(), 1);
    let mut renamed = cat.clone();
    renamed.workspace_id = b.ws.id;
    renamed.name = "pwned".into();
    assert!(!s.update_kb_category(&renamed).await.unwrap());
    assert_eq!(
        s.delete_kb_category(b.ws.id, cat.id).await.unwrap(),
        CategoryDeletion::NotFound
    );
    assert!(s.get_kb_article(b.ws.id, art.id).await.unwrap().is_none());
    let all = ArticleQuery {
        limit: 100,
        ..Default::default()
    };
    assert!(s.list_kb_articles(b.ws.id, &all).await.unwrap().is_empty());
    assert!(s
        .update_kb_article(b.ws.id, art.id, &retitle("x"), b.admin.id, now)
        .await
        .unwrap()
        .is_none());
    assert!(s
        .publish_kb_article(b.ws.id, art.id, now)
        .await
        .unwrap()
        .is_none());
    assert!(s
        .unpublish_kb_article(b.ws.id, art.id, now)
        .await
        .unwrap()
        .is_none());
    assert!(s
        .kb_article_versions(b.ws.id, art.id, None, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .restore_kb_version(b.ws.id, art.id, 1, b.admin.id, now)
        .await
        .unwrap()
        .is_none());
    assert!(!s.record_kb_view(b.ws.id, art.id).await.unwrap());
    assert!(!s.record_kb_vote(b.ws.id, art.id, true).await.unwrap());
    assert!(!s.delete_kb_article(b.ws.id, art.id).await.unwrap());
    assert!(s.published_kb_articles(b.ws.id).await.unwrap().is_empty());
    assert_eq!(s.kb_generation(b.ws.id).await.unwrap(), 0);

    // Nor file an article in this workspace's category, or move one there.
    let foreign = article(b.ws.id, Some(cat.id), KbLocale::En, "Shipping", "");
    assert!(matches!(
        s.create_kb_article(&foreign, b.admin.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(s
        .get_kb_article(b.ws.id, foreign.id)
        .await
        .unwrap()
        .is_none());
    let theirs = article(b.ws.id, None, KbLocale::En, "Shipping", "");
    s.create_kb_article(&theirs, b.admin.id).await.unwrap();
    let into_foreign = ArticlePatch {
        category_id: Some(Some(cat.id)),
        ..Default::default()
    };
    assert!(matches!(
        s.update_kb_article(b.ws.id, theirs.id, &into_foreign, b.admin.id, now)
            .await,
        Err(StoreError::NotFound)
    ));

    // Everything of workspace a is as it was.
    let got = s.get_kb_article(a.ws.id, art.id).await.unwrap().unwrap();
    assert_eq!(
        (got.title.as_str(), got.version, got.views, got.helpful_yes),
        ("发货时间说明", 1, 0, 0)
    );
    assert_eq!(got.published_version, Some(1));
    assert_eq!(
        s.get_kb_category(a.ws.id, cat.id)
            .await
            .unwrap()
            .unwrap()
            .name,
        "物流配送"
    );
    assert_eq!(s.published_kb_articles(a.ws.id).await.unwrap().len(), 1);
}

pub async fn kb_versions_publish_and_restore(s: DynStore) {
    let f = fixture(&s, "kbv").await;
    let ws = f.ws.id;
    let by = f.admin.id;
    let t = now_millis();
    let g0 = s.kb_generation(ws).await.unwrap();
    let art = article(ws, None, KbLocale::ZhCn, "发货时间说明", "v1 正文");
    s.create_kb_article(&art, by).await.unwrap();
    let got = s.get_kb_article(ws, art.id).await.unwrap().unwrap();
    assert_eq!(got, art, "stored as created");
    assert_eq!(
        (got.status, got.version, got.published_version),
        (ArticleStatus::Draft, 1, None)
    );
    assert!(s.published_kb_articles(ws).await.unwrap().is_empty());

    // An edit is version 2; one that changes nothing writes nothing.
    let edit = ArticlePatch {
        body_markdown: Some("v2 正文".into()),
        keywords: Some(vec!["发货时效".into()]),
        ..Default::default()
    };
    let a2 = s
        .update_kb_article(ws, art.id, &edit, by, t + 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((a2.version, a2.body_markdown.as_str()), (2, "v2 正文"));
    let same = s
        .update_kb_article(ws, art.id, &edit, by, t + 2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((same.version, same.updated_at), (2, t + 1));
    assert_eq!(
        s.kb_generation(ws).await.unwrap(),
        g0,
        "drafts change nothing public"
    );

    // Publishing shows version 2 to the public.
    let p = s
        .publish_kb_article(ws, art.id, t + 3)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (p.status, p.published_version, p.published_at),
        (ArticleStatus::Published, Some(2), Some(t + 3))
    );
    let g1 = s.kb_generation(ws).await.unwrap();
    assert!(g1 > g0, "publishing bumps the generation");
    // Publishing again changes nothing.
    s.publish_kb_article(ws, art.id, t + 4).await.unwrap();
    assert_eq!(s.kb_generation(ws).await.unwrap(), g1);

    // A new draft (version 3) does not change what the public sees.
    let a3 = s
        .update_kb_article(ws, art.id, &retitle("发货时间（新）"), by, t + 5)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((a3.version, a3.published_version), (3, Some(2)));
    assert_eq!(s.kb_generation(ws).await.unwrap(), g1);
    let public = s.published_kb_articles(ws).await.unwrap();
    assert_eq!(public.len(), 1);
    assert_eq!(
        (
            public[0].version,
            public[0].title.as_str(),
            public[0].body_markdown.as_str()
        ),
        (2, "发货时间说明", "v2 正文")
    );
    assert_eq!(public[0].keywords, vec!["发货时效"]);
    assert_eq!(public[0].published_at, t + 3);

    // Restoring version 1 writes version 4 as a copy of it; history stays.
    let (a4, v4) = s
        .restore_kb_version(ws, art.id, 1, by, t + 6)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((a4.version, v4.version, v4.restored_from), (4, 4, Some(1)));
    assert_eq!(
        (a4.title.as_str(), a4.body_markdown.as_str()),
        ("发货时间说明", "v1 正文")
    );
    assert_eq!(a4.keywords, art.keywords);
    assert!(s
        .restore_kb_version(ws, art.id, 9, by, t + 7)
        .await
        .unwrap()
        .is_none());
    let versions = s.kb_article_versions(ws, art.id, None, 10).await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        vec![4, 3, 2, 1]
    );
    assert_eq!(versions[2].body_markdown, "v2 正文");
    assert_eq!(versions[3].body_markdown, "v1 正文");
    assert_eq!(versions[3].tags, vec!["物流"]);
    assert!(versions.iter().all(|v| v.edited_by == by));
    assert_eq!(
        s.kb_article_versions(ws, art.id, Some(3), 1)
            .await
            .unwrap()
            .iter()
            .map(|v| v.version)
            .collect::<Vec<_>>(),
        vec![2],
        "versions page by number"
    );
    let stored = s.get_kb_article(ws, art.id).await.unwrap().unwrap();
    assert_eq!(stored, a4);

    // Publishing again shows the restored content; locale moves are public too.
    s.publish_kb_article(ws, art.id, t + 8).await.unwrap();
    assert_eq!(
        s.published_kb_articles(ws).await.unwrap()[0].body_markdown,
        "v1 正文"
    );
    let g2 = s.kb_generation(ws).await.unwrap();
    assert!(g2 > g1);
    let to_en = ArticlePatch {
        locale: Some(KbLocale::En),
        ..Default::default()
    };
    let moved = s
        .update_kb_article(ws, art.id, &to_en, by, t + 9)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((moved.locale, moved.version), (KbLocale::En, 4));
    let g3 = s.kb_generation(ws).await.unwrap();
    assert!(g3 > g2);

    // Unpublishing hides it.
    let u = s
        .unpublish_kb_article(ws, art.id, t + 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (u.status, u.published_version),
        (ArticleStatus::Draft, None)
    );
    assert!(s.published_kb_articles(ws).await.unwrap().is_empty());
    assert!(s.kb_generation(ws).await.unwrap() > g3);

    // Categories: listed by position, refused deletion while they hold articles.
    let c1 = category(ws, "售后服务", 2);
    let c0 = category(ws, "物流配送", 1);
    s.create_kb_category(&c1).await.unwrap();
    s.create_kb_category(&c0).await.unwrap();
    assert_eq!(
        s.list_kb_categories(ws)
            .await
            .unwrap()
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        vec!["物流配送", "售后服务"]
    );
    let into_c1 = ArticlePatch {
        category_id: Some(Some(c1.id)),
        ..Default::default()
    };
    s.update_kb_article(ws, art.id, &into_c1, by, t + 11)
        .await
        .unwrap();
    assert_eq!(
        s.delete_kb_category(ws, c1.id).await.unwrap(),
        CategoryDeletion::HasArticles(1)
    );
    let mut renamed = c1.clone();
    renamed.name = "物流配送".into();
    assert!(matches!(
        s.update_kb_category(&renamed).await,
        Err(StoreError::Conflict(_))
    ));
    renamed.name = "售后".into();
    renamed.position = 0;
    assert!(s.update_kb_category(&renamed).await.unwrap());
    assert_eq!(s.list_kb_categories(ws).await.unwrap()[0].name, "售后");

    // Lists filter by status, category and locale, and page by cursor.
    let mut ids = vec![art.id];
    for i in 0..4 {
        let locale = if i % 2 == 0 {
            KbLocale::ZhCn
        } else {
            KbLocale::En
        };
        let mut x = article(ws, Some(c0.id), locale, &format!("文章 {i}"), "");
        x.created_at = t + 20 + i;
        x.updated_at = t + 20 + i;
        s.create_kb_article(&x, by).await.unwrap();
        if i < 2 {
            s.publish_kb_article(ws, x.id, t + 30 + i).await.unwrap();
        }
        ids.push(x.id);
    }
    let q = |f: fn(&mut ArticleQuery)| {
        let mut q = ArticleQuery {
            limit: 100,
            ..Default::default()
        };
        f(&mut q);
        q
    };
    let count = |q: ArticleQuery| {
        let s = s.clone();
        async move { s.list_kb_articles(ws, &q).await.unwrap().len() }
    };
    assert_eq!(count(q(|_| {})).await, 5);
    assert_eq!(
        count(q(|q| q.status = Some(ArticleStatus::Published))).await,
        2
    );
    assert_eq!(count(q(|q| q.status = Some(ArticleStatus::Draft))).await, 3);
    assert_eq!(count(q(|q| q.locale = Some(KbLocale::En))).await, 3);
    let in_c0 = ArticleQuery {
        category: Some(c0.id),
        status: Some(ArticleStatus::Draft),
        limit: 100,
        ..Default::default()
    };
    assert_eq!(count(in_c0).await, 2);
    let page1 = s
        .list_kb_articles(
            ws,
            &ArticleQuery {
                limit: 3,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let last = page1.last().unwrap();
    let page2 = s
        .list_kb_articles(
            ws,
            &ArticleQuery {
                limit: 3,
                before: Some((last.updated_at, last.id)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((page1.len(), page2.len()), (3, 2));
    let mut seen: Vec<_> = page1.iter().chain(&page2).map(|a| a.id).collect();
    assert!(
        page1
            .windows(2)
            .all(|w| (w[0].updated_at, w[0].id) > (w[1].updated_at, w[1].id)),
        "most recently changed first"
    );
    seen.sort();
    ids.sort();
    assert_eq!(seen, ids, "cursor pages overlap or skip");

    // Deleting an article takes its history with it.
    assert!(s.delete_kb_article(ws, art.id).await.unwrap());
    assert!(s.get_kb_article(ws, art.id).await.unwrap().is_none());
    assert!(s
        .kb_article_versions(ws, art.id, None, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(!s.delete_kb_article(ws, art.id).await.unwrap());
    assert_eq!(
        s.delete_kb_category(ws, c1.id).await.unwrap(),
        CategoryDeletion::Deleted
    );
    // A published article's deletion is public.
    let g = s.kb_generation(ws).await.unwrap();
    let published = s.published_kb_articles(ws).await.unwrap()[0].id;
    assert!(s.delete_kb_article(ws, published).await.unwrap());
    assert!(s.kb_generation(ws).await.unwrap() > g);
}

pub async fn kb_concurrent_updates_get_gapless_versions(s: DynStore) {
    let f = fixture(&s, "kbc").await;
    let art = article(f.ws.id, None, KbLocale::En, "Shipping times", "v1");
    s.create_kb_article(&art, f.admin.id).await.unwrap();
    let (mut tasks, mut publishes) = (Vec::new(), Vec::new());
    for i in 0..20 {
        let (s2, ws, by, id) = (s.clone(), f.ws.id, f.admin.id, art.id);
        tasks.push(tokio::spawn(async move {
            let s = s2;
            let edit = ArticlePatch {
                body_markdown: Some(format!("edit {i}")),
                ..Default::default()
            };
            s.update_kb_article(ws, id, &edit, by, now_millis())
                .await
                .unwrap()
                .unwrap()
                .version
        }));
        // Publishing at the same time takes the same lock and changes no number.
        if i % 5 == 0 {
            let s = s.clone();
            let (ws, id) = (f.ws.id, art.id);
            publishes.push(tokio::spawn(async move {
                s.publish_kb_article(ws, id, now_millis()).await.unwrap()
            }));
        }
    }
    let mut got = Vec::new();
    for t in tasks {
        got.push(t.await.unwrap());
    }
    for p in publishes {
        assert!(p.await.unwrap().unwrap().published_version.is_some());
    }
    got.sort();
    assert_eq!(
        got,
        (2..=21).collect::<Vec<_>>(),
        "each edit its own number"
    );
    let (a, v) = s
        .restore_kb_version(f.ws.id, art.id, 1, f.admin.id, now_millis())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((a.version, v.version), (22, 22));
    let versions = s
        .kb_article_versions(f.ws.id, art.id, None, 100)
        .await
        .unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        (1..=22).rev().collect::<Vec<_>>()
    );
    let mut bodies: Vec<_> = versions[1..21]
        .iter()
        .map(|v| v.body_markdown.clone())
        .collect();
    bodies.sort();
    bodies.dedup();
    assert_eq!(bodies.len(), 20, "no edit lost");
    let stored = s.get_kb_article(f.ws.id, art.id).await.unwrap().unwrap();
    assert_eq!((stored.version, stored.body_markdown.as_str()), (22, "v1"));
}

pub async fn kb_views_and_votes_count(s: DynStore) {
    let f = fixture(&s, "kbn").await;
    let art = article(f.ws.id, None, KbLocale::ZhCn, "运费说明", "满99包邮");
    s.create_kb_article(&art, f.admin.id).await.unwrap();
    s.publish_kb_article(f.ws.id, art.id, now_millis())
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..30 {
        let s = s.clone();
        let (ws, id) = (f.ws.id, art.id);
        tasks.push(tokio::spawn(async move {
            assert!(s.record_kb_view(ws, id).await.unwrap());
            if i % 3 == 0 {
                assert!(s.record_kb_vote(ws, id, i % 2 == 0).await.unwrap());
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let a = s.get_kb_article(f.ws.id, art.id).await.unwrap().unwrap();
    // i = 0, 6, 12, 18, 24 vote yes; 3, 9, 15, 21, 27 vote no.
    assert_eq!((a.views, a.helpful_yes, a.helpful_no), (30, 5, 5));
    assert_eq!(a.updated_at, a.published_at.unwrap(), "counting is no edit");
    // Counters survive edits and show in the public view.
    let a2 = s
        .update_kb_article(f.ws.id, art.id, &retitle("运费"), f.admin.id, now_millis())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((a2.views, a2.helpful_yes, a2.helpful_no), (30, 5, 5));
    let public = &s.published_kb_articles(f.ws.id).await.unwrap()[0];
    assert_eq!((public.views, public.helpful_yes), (30, 5));
    let missing = ArticleId::new();
    assert!(!s.record_kb_view(f.ws.id, missing).await.unwrap());
    assert!(!s.record_kb_vote(f.ws.id, missing, false).await.unwrap());
}

/// Help-centre votes: once per voter and article within the window, also when sent at once;
/// only for published articles of the workspace; expired ones are forgotten.
pub async fn kb_votes_count_once_per_voter(s: DynStore) {
    let f = fixture(&s, "kbv").await;
    let g = fixture(&s, "kbv2").await;
    let art = article(f.ws.id, None, KbLocale::ZhCn, "退货流程", "七天无理由退货");
    let draft = article(f.ws.id, None, KbLocale::ZhCn, "草稿", "未发布");
    for a in [&art, &draft] {
        s.create_kb_article(a, f.admin.id).await.unwrap();
    }
    s.publish_kb_article(f.ws.id, art.id, now_millis())
        .await
        .unwrap();
    let (t0, window) = (1_000_000, 1_000);

    // The same voter ten times at once: one counted.
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let s = s.clone();
        let (ws, id) = (f.ws.id, art.id);
        tasks.push(tokio::spawn(async move {
            s.record_kb_vote_once(ws, id, b"voter-a", true, t0, t0 - window)
                .await
                .unwrap()
                .unwrap()
        }));
    }
    let mut counted = 0;
    for t in tasks {
        counted += t.await.unwrap() as i32;
    }
    assert_eq!(counted, 1);
    // Another voter counts; the first again within the window does not.
    let vote = |voter: &'static [u8], helpful: bool, at: Millis| {
        let s = s.clone();
        let (ws, id) = (f.ws.id, art.id);
        async move {
            s.record_kb_vote_once(ws, id, voter, helpful, at, at - window)
                .await
                .unwrap()
        }
    };
    assert_eq!(vote(b"voter-b", false, t0 + 10).await, Some(true));
    assert_eq!(vote(b"voter-a", false, t0 + window - 1).await, Some(false));
    let a = s.get_kb_article(f.ws.id, art.id).await.unwrap().unwrap();
    assert_eq!((a.helpful_yes, a.helpful_no), (1, 1));
    // After the window the voter counts again.
    assert_eq!(vote(b"voter-a", false, t0 + window + 1).await, Some(true));
    let a = s.get_kb_article(f.ws.id, art.id).await.unwrap().unwrap();
    assert_eq!((a.helpful_yes, a.helpful_no, a.views), (1, 2, 0));

    // Drafts, unknown ids and another workspace's articles: not found, nothing counted.
    let at = t0 + 5 * window;
    for (ws, id) in [
        (f.ws.id, draft.id),
        (f.ws.id, ArticleId::new()),
        (g.ws.id, art.id),
    ] {
        assert_eq!(
            s.record_kb_vote_once(ws, id, b"voter-c", true, at, at - window)
                .await
                .unwrap(),
            None
        );
    }
    let d = s.get_kb_article(f.ws.id, draft.id).await.unwrap().unwrap();
    assert_eq!((d.helpful_yes, d.helpful_no), (0, 0));
    let a = s.get_kb_article(f.ws.id, art.id).await.unwrap().unwrap();
    assert_eq!((a.helpful_yes, a.helpful_no), (1, 2));

    // Deleting the article takes its votes along.
    assert!(s.delete_kb_article(f.ws.id, art.id).await.unwrap());
}
