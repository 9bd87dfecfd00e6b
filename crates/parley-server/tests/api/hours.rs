//! Working hours per routing group: closed groups queue, and the jobs assign once they open.

use crate::both_backends;
use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;

both_backends!(a_closed_group_queues_until_it_opens);

/// Minutes after midnight in Shanghai now (UTC+8, no daylight saving time).
fn shanghai_minute_now() -> u64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    (secs / 60 + 8 * 60) % 1440
}

/// Every day one hour, far from now: closed now and for the next hours.
fn closed_hours() -> Value {
    let m = shanghai_minute_now();
    let r = if m < 720 { [1320, 1380] } else { [60, 120] };
    json!({"time_zone": "Asia/Shanghai", "days": {
        "mon": [r], "tue": [r], "wed": [r], "thu": [r], "fri": [r], "sat": [r], "sun": [r]}})
}

async fn put(app: &TestApp, s: &Session, path: &str, body: Value) -> reqwest::Response {
    s.client
        .put(app.url(path))
        .header("x-csrf-token", &s.csrf)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn a_closed_group_queues_until_it_opens(app: TestApp) {
    let admin = app.admin().await;
    let agent = app.person(&admin, "agent").await;
    let r = admin
        .patch(
            &format!("/api/v1/users/{}", agent.user_id()),
            json!({"capacity": 3}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let _online = Ws::agent(&app, &agent.token().await).await;

    // Invalid hours are refused and nothing is created.
    for bad in [
        json!({"time_zone": "Mars/Olympus", "days": {}}),
        json!({"time_zone": "Asia/Shanghai", "days": {"mon": [[600, 700], [650, 800]]}}),
        json!({"time_zone": "Asia/Shanghai", "days": {"mon": [[600, 1500]]}}),
    ] {
        let r = admin
            .post(
                "/api/v1/groups",
                json!({"name": "售前", "policy": ["least_load"], "hours": bad}),
            )
            .await;
        assert_eq!(r.status(), 422, "{bad}");
    }
    assert_eq!(
        admin.json("/api/v1/groups").await["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    let hours = closed_hours();
    let r = admin
        .post(
            "/api/v1/groups",
            json!({"name": "售前", "policy": ["least_load"], "hours": hours}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let group: Value = r.json().await.unwrap();
    assert_eq!(group["hours"]["time_zone"], "Asia/Shanghai");
    assert_eq!(group["hours"]["days"]["sun"], hours["days"]["sun"]);
    let gid = group["id"].as_str().unwrap().to_owned();
    let r = put(
        &app,
        &admin,
        &format!("/api/v1/groups/{gid}/members"),
        json!({"members": [{"user_id": agent.user_id()}]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let channel = app.channel(&admin, &[]).await;
    let r = admin
        .patch(
            &format!("/api/v1/channels/{}", channel["id"].as_str().unwrap()),
            json!({"group_id": gid}),
        )
        .await;
    assert_eq!(r.status(), 200);

    // A visitor writes while the group is closed: queued although the agent has room.
    let v = app.visitor(&channel, "https://shop.test").await;
    let mut vws = Ws::visitor(&app, &v).await;
    let conv = vws.send_message("h-1", None, "在吗").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut queued = None;
    for _ in 0..50 {
        let events = admin
            .json(&format!("/api/v1/conversations/{conv}/events"))
            .await;
        queued = events["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == "queued")
            .cloned();
        if queued.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let queued = queued.expect("a queued event");
    assert_eq!(
        queued["reason"],
        json!([{"code": "group", "name": "售前"}, {"code": "outside_hours"}])
    );
    assert_eq!(why(&queued), "售前: outside working hours");
    let c = admin.json(&format!("/api/v1/conversations/{conv}")).await;
    assert!(c["conversation"]["assignee"].is_null());
    assert!(c["conversation"]["queued_at"].is_string());

    // Invalid hours on an update: 422, and the group is unchanged.
    let r = put(
        &app,
        &admin,
        &format!("/api/v1/groups/{gid}"),
        json!({"name": "售前 2", "policy": ["least_load"], "hours": {"time_zone": "Asia/Shanghai", "days": {"tue": [[900, 800]]}}}),
    )
    .await;
    assert_eq!(r.status(), 422);
    let g = admin.json(&format!("/api/v1/groups/{gid}")).await;
    assert_eq!(g["name"], "售前");
    assert_eq!(g["hours"], group["hours"]);
    // A few job ticks later it is still waiting: the jobs leave closed groups alone.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let c = admin.json(&format!("/api/v1/conversations/{conv}")).await;
    assert!(c["conversation"]["assignee"].is_null());

    // The group opens (its hours now include the present). Written straight to the store, as
    // the clock would do it, so only the periodic job can be what assigns the conversation.
    let store = &app.parley().store;
    let mut g = store
        .waiting_groups_with_hours()
        .await
        .unwrap()
        .into_iter()
        .find(|g| g.id.0.to_string() == gid)
        .expect("the group has hours and a queue");
    let all_day = [[0, 1440]];
    g.hours = Some(
        serde_json::from_value(json!({"time_zone": "Asia/Shanghai", "days": {
            "mon": all_day, "tue": all_day, "wed": all_day, "thu": all_day, "fri": all_day,
            "sat": all_day, "sun": all_day}}))
        .unwrap(),
    );
    assert!(store.update_group(&g).await.unwrap());
    let mut assignee = Value::Null;
    for _ in 0..60 {
        let c = admin.json(&format!("/api/v1/conversations/{conv}")).await;
        assignee = c["conversation"]["assignee"]["id"].clone();
        if !assignee.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(assignee, agent.user_id().as_str());

    // Editing the hours through the API (back to always open) is saved too.
    let r = put(
        &app,
        &admin,
        &format!("/api/v1/groups/{gid}"),
        json!({"name": "售前", "policy": ["least_load"], "hours": null}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(r.json::<Value>().await.unwrap()["hours"].is_null());
}
