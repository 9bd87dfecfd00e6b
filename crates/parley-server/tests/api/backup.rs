//! `parley backup` and `parley restore` (the real binary) on SQLite: a backup taken while
//! messages keep arriving, restored into a fresh data directory and served again; and bad input
//! refused with a clear message, a non-zero exit and nothing changed.

use crate::helpers::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_parley");

/// Runs `parley ARGS --data-dir DIR` with no settings inherited from the environment.
async fn parley(args: &[&str], data_dir: &Path) -> Output {
    tokio::process::Command::new(BIN)
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("PARLEY_DATABASE_URL")
        .env_remove("PARLEY_DATA_DIR")
        .env_remove("PARLEY_CONFIG")
        .output()
        .await
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn refused(o: &Output, words: &str) {
    assert!(
        !o.status.success(),
        "expected a refusal mentioning {words:?}; stdout: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(
        stderr(o).contains(words),
        "expected {words:?} in: {}",
        stderr(o)
    );
}

/// Every file under `dir` with its bytes, to show a refused command changed nothing.
fn snapshot_tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(snapshot_tree(&p));
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            copy_tree(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn manifest(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

fn sha256(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

/// A PNG header and bytes that differ from file to file.
fn image(seed: u8) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend((0..4096u32).map(|i| (i.wrapping_mul(31) as u8) ^ seed));
    b
}

async fn upload(app: &TestApp, v: &Visitor, name: &str, bytes: Vec<u8>) -> Value {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
    );
    let r = reqwest::Client::new()
        .post(app.url("/api/widget/v1/uploads"))
        .bearer_auth(&v.token)
        .header("origin", &v.origin)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

/// A message somebody was told was stored.
#[derive(Clone, Debug)]
struct Acked {
    conversation: String,
    client_id: String,
    seq: i64,
    body: String,
    at: Instant,
}

/// All events of a conversation, paging forwards.
async fn all_events(s: &Session, conv: &str) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    loop {
        let after = out.last().map(|e| e["seq"].as_i64().unwrap()).unwrap_or(0);
        let page = s
            .json(&format!(
                "/api/v1/conversations/{conv}/events?after_seq={after}&limit=1000"
            ))
            .await;
        out.extend(page["items"].as_array().unwrap().iter().cloned());
        if page["has_more"] != true {
            return out;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_backup_under_writes_restores_everything_acknowledged() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let admin = app.admin().await;
    let channel = app.channel(&admin, &[]).await;
    let origin = "https://shop.test";
    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();
    let record = |acked: &Arc<Mutex<Vec<Acked>>>, ack: &Value, body: &str| {
        acked.lock().unwrap().push(Acked {
            conversation: ack["conversation_id"].as_str().unwrap().to_owned(),
            client_id: ack["client_id"].as_str().unwrap().to_owned(),
            seq: ack["seq"].as_i64().unwrap(),
            body: body.to_owned(),
            at: Instant::now(),
        });
    };

    // A conversation with a picture and a few messages, and a second one.
    let v1 = app.visitor(&channel, origin).await;
    let picture = image(7);
    let att = upload(&app, &v1, "photo.png", picture.clone()).await;
    let mut ws1 = Ws::visitor(&app, &v1).await;
    ws1.send(
        json!({"type": "send", "client_id": "pic", "body": "看图", "attachment_ids": [att["id"]]}),
    )
    .await;
    let ack = ws1.recv_type("ack").await;
    record(&acked, &ack, "看图");
    let conv1 = ack["conversation_id"].as_str().unwrap().to_owned();
    for i in 0..3 {
        let body = format!("v1 message {i}");
        let ack = ws1.send_message(&format!("v1-{i}"), None, &body).await;
        record(&acked, &ack, &body);
    }
    let v2 = app.visitor(&channel, origin).await;
    let mut ws2 = Ws::visitor(&app, &v2).await;
    let ack = ws2.send_message("v2-0", None, "hello").await;
    record(&acked, &ack, "hello");
    let conv2 = ack["conversation_id"].as_str().unwrap().to_owned();

    // Two writers keep going during the backup: a visitor on a socket in a third conversation,
    // and an agent over REST in the second.
    let stop = Arc::new(AtomicBool::new(false));
    let v3 = app.visitor(&channel, origin).await;
    let mut ws3 = Ws::visitor(&app, &v3).await;
    let visitor_writer = tokio::spawn({
        let (acked, stop) = (acked.clone(), stop.clone());
        async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let body = format!("live {i}");
                let ack = ws3.send_message(&format!("live-{i}"), None, &body).await;
                record(&acked, &ack, &body);
                i += 1;
            }
        }
    });
    let agent = app.admin().await;
    let agent_writer = tokio::spawn({
        let (acked, stop, conv2) = (acked.clone(), stop.clone(), conv2.clone());
        async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let body = format!("agent {i}");
                let r: Value = agent
                    .post(
                        &format!("/api/v1/conversations/{conv2}/messages"),
                        json!({"client_id": format!("agent-{i}"), "body": body}),
                    )
                    .await
                    .json()
                    .await
                    .unwrap();
                let e = &r["event"];
                let ack = json!({"conversation_id": e["conversation_id"], "client_id": e["client_id"], "seq": e["seq"]});
                record(&acked, &ack, &body);
                i += 1;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while acked.lock().unwrap().len() < 20 {
        assert!(Instant::now() < deadline, "the writers are stuck");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // The backup, while both writers run.
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("backup");
    let started = Instant::now();
    let before: Vec<Acked> = acked.lock().unwrap().clone();
    let o = parley(
        &["backup", "--out", out.to_str().unwrap()],
        &app.settings.data_dir,
    )
    .await;
    let finished = Instant::now();
    assert!(o.status.success(), "backup failed: {}", stderr(&o));
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.store(true, Ordering::Relaxed);
    visitor_writer.await.unwrap();
    agent_writer.await.unwrap();
    let all: Vec<Acked> = acked.lock().unwrap().clone();
    let during = all
        .iter()
        .filter(|a| a.at > started && a.at < finished)
        .count();
    eprintln!(
        "{during} messages stored during the backup ({:?}), {} before it",
        finished - started,
        before.len()
    );
    assert!(
        during > 0,
        "no message was stored while the backup ran, so this proves nothing"
    );

    // The manifest describes the copy.
    let m = manifest(&out);
    assert_eq!(m["backend"], "sqlite");
    assert_eq!(m["parley_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(m["database"]["sha256"], sha256(&out.join("parley.db")));
    assert_eq!(m["database"]["counts"]["attachments"], 1);
    assert!(m["database"]["counts"]["messages"].as_u64().unwrap() >= before.len() as u64);
    assert!(m["uploads"]["files"].as_u64().unwrap() >= 1);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains(m["database"]["sha256"].as_str().unwrap()),
        "{stdout}"
    );

    // Restore into a fresh data directory and serve it.
    let fresh = root.path().join("restored");
    let o = parley(&["restore", "--from", out.to_str().unwrap()], &fresh).await;
    assert!(o.status.success(), "restore failed: {}", stderr(&o));
    assert!(fresh.join("parley.db").is_file());
    let restored = parley_server::start(parley_server::Settings::for_tests(fresh.clone(), None))
        .await
        .expect("the restored data starts");
    let base = format!("http://{}", restored.addr);
    let admin2 = login_at(&base, ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // Gapless sequences, last_seq matching, every message acknowledged before the backup
    // began present with its seq and body, and no message without all its predecessors.
    let conv3 = all
        .iter()
        .find(|a| a.client_id.starts_with("live-"))
        .unwrap()
        .conversation
        .clone();
    let mut restored_messages = 0;
    for conv in [&conv1, &conv2, &conv3] {
        let events = all_events(&admin2, conv).await;
        let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "{conv}");
        let detail = admin2.json(&format!("/api/v1/conversations/{conv}")).await;
        assert_eq!(detail["conversation"]["last_seq"], seqs.len() as i64);
        let by_client: std::collections::HashMap<&str, &Value> = events
            .iter()
            .filter_map(|e| e["client_id"].as_str().map(|c| (c, e)))
            .collect();
        restored_messages += by_client.len();
        for a in before.iter().filter(|a| &a.conversation == conv) {
            let e = by_client.get(a.client_id.as_str()).unwrap_or_else(|| {
                panic!("{} acknowledged before the backup is lost", a.client_id)
            });
            assert_eq!(
                (e["seq"].as_i64(), e["body"].as_str()),
                (Some(a.seq), Some(a.body.as_str()))
            );
        }
        // What was sent in order is restored as a prefix of that order.
        for prefix in ["live-", "agent-"] {
            let sent: Vec<&Acked> = all
                .iter()
                .filter(|a| &a.conversation == conv && a.client_id.starts_with(prefix))
                .collect();
            let kept = sent
                .iter()
                .take_while(|a| by_client.contains_key(a.client_id.as_str()))
                .count();
            assert!(
                sent[kept..]
                    .iter()
                    .all(|a| !by_client.contains_key(a.client_id.as_str())),
                "{prefix}: a later message survived without an earlier one"
            );
        }
    }
    assert!(restored_messages >= before.len());

    // The picture downloads with the same bytes, at the same capability URL.
    let r = reqwest::get(format!("{base}{}", att["url"].as_str().unwrap()))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().to_vec(), picture);
    let events = all_events(&admin2, &conv1).await;
    assert_eq!(events[0]["attachments"][0]["id"], att["id"]);

    restored.stop().await.unwrap();
    app.running.unwrap().stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_backups_and_targets_are_refused_without_changes() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let admin = app.admin().await;
    let channel = app.channel(&admin, &[]).await;
    let v = app.visitor(&channel, "https://shop.test").await;
    let att = upload(&app, &v, "photo.png", image(3)).await;
    let mut ws = Ws::visitor(&app, &v).await;
    ws.send(json!({"type": "send", "client_id": "a", "body": "", "attachment_ids": [att["id"]]}))
        .await;
    ws.recv_type("ack").await;
    let data = app.settings.data_dir.clone();
    let root = tempfile::tempdir().unwrap();
    let good = root.path().join("good");
    let o = parley(&["backup", "--out", good.to_str().unwrap()], &data).await;
    assert!(o.status.success(), "{}", stderr(&o));

    // Backup into an existing non-empty directory, or onto a file.
    let busy = root.path().join("busy");
    std::fs::create_dir(&busy).unwrap();
    std::fs::write(busy.join("keep.txt"), "mine").unwrap();
    let before = snapshot_tree(&busy);
    let o = parley(&["backup", "--out", busy.to_str().unwrap()], &data).await;
    refused(&o, "is not empty");
    assert_eq!(snapshot_tree(&busy), before);
    let file = root.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let o = parley(&["backup", "--out", file.to_str().unwrap()], &data).await;
    refused(&o, "not a directory");
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
    // Into the uploads directory itself (it would copy itself).
    let inside = data.join("uploads").join("backup");
    let o = parley(&["backup", "--out", inside.to_str().unwrap()], &data).await;
    refused(&o, "inside the uploads directory");
    assert!(!inside.exists());

    // Restore onto a data directory with a database (the server stopped, so nothing moves).
    let mut app = app;
    app.running.take().unwrap().stop().await.unwrap();
    let before = snapshot_tree(&data);
    assert!(before.iter().any(|(p, _)| p.ends_with("parley.db")));
    let o = parley(&["restore", "--from", good.to_str().unwrap()], &data).await;
    refused(&o, "a database already exists");
    assert_eq!(snapshot_tree(&data), before);
    // … or with anything else in it.
    let used = root.path().join("used");
    std::fs::create_dir(&used).unwrap();
    std::fs::write(used.join("notes.txt"), "hi").unwrap();
    let before = snapshot_tree(&used);
    let o = parley(&["restore", "--from", good.to_str().unwrap()], &used).await;
    refused(&o, "is not empty");
    assert_eq!(snapshot_tree(&used), before);

    // A damaged database copy: checksum mismatch, nothing written.
    let bad = root.path().join("bad");
    copy_tree(&good, &bad);
    let db = bad.join("parley.db");
    let mut bytes = std::fs::read(&db).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&db, bytes).unwrap();
    let target = root.path().join("target");
    let o = parley(&["restore", "--from", bad.to_str().unwrap()], &target).await;
    refused(&o, "checksum mismatch");
    assert!(!target.exists());

    // A backup missing a file, or its manifest (an interrupted backup).
    let partial = root.path().join("partial");
    copy_tree(&good, &partial);
    let ws = att_workspace(&partial);
    std::fs::remove_file(
        partial
            .join("uploads")
            .join(&ws)
            .join(att["id"].as_str().unwrap()),
    )
    .unwrap();
    let o = parley(&["restore", "--from", partial.to_str().unwrap()], &target).await;
    refused(&o, "the backup is incomplete");
    assert!(!target.exists());
    std::fs::remove_file(partial.join("manifest.json")).unwrap();
    let o = parley(&["restore", "--from", partial.to_str().unwrap()], &target).await;
    refused(&o, "manifest.json is missing");
    assert!(!target.exists());

    // PostgreSQL: the database is pg_dump's job; the uploads can be backed up and restored.
    let pg = ["--database-url", "postgres://parley@127.0.0.1:1/parley"];
    let files = root.path().join("files");
    let o = parley(
        &[&["backup", "--out", files.to_str().unwrap()][..], &pg[..]].concat(),
        &data,
    )
    .await;
    refused(&o, "pg_dump");
    assert!(!files.exists());
    let o = parley(
        &[
            &["backup", "--uploads-only", "--out", files.to_str().unwrap()][..],
            &pg[..],
        ]
        .concat(),
        &data,
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let m = manifest(&files);
    assert_eq!(
        (m["backend"].as_str(), m["database"].is_null()),
        (Some("postgres"), true)
    );
    assert!(!files.join("parley.db").exists());
    let o = parley(
        &[&["restore", "--from", files.to_str().unwrap()][..], &pg[..]].concat(),
        &target,
    )
    .await;
    refused(&o, "pg_restore");
    assert!(!target.exists());
    let o = parley(
        &[
            &[
                "restore",
                "--uploads-only",
                "--from",
                files.to_str().unwrap(),
            ][..],
            &pg[..],
        ]
        .concat(),
        &target,
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(
            target
                .join("uploads")
                .join(&ws)
                .join(att["id"].as_str().unwrap())
        )
        .unwrap(),
        image(3)
    );
    // …but not over existing files, and an uploads-only backup is no SQLite backup.
    let o = parley(
        &[
            "restore",
            "--uploads-only",
            "--from",
            files.to_str().unwrap(),
        ],
        &target,
    )
    .await;
    refused(&o, "is not empty");
    let o = parley(
        &["restore", "--from", files.to_str().unwrap()],
        &root.path().join("t2"),
    )
    .await;
    refused(&o, "holds only uploads");
}

/// The one workspace directory under a backup's uploads.
fn att_workspace(backup: &Path) -> String {
    let mut dirs = std::fs::read_dir(backup.join("uploads")).unwrap();
    let ws = dirs.next().unwrap().unwrap().file_name();
    ws.to_string_lossy().into_owned()
}
