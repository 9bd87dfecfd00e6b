//! The `parley` binary itself: first start, JSON logs, operator commands, SIGTERM.

use crate::helpers::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_parley");

/// Starts `parley serve` with JSON logs; returns the child, its address and its log lines so far.
fn serve(dir: &std::path::Path) -> (Child, String, std::sync::mpsc::Receiver<String>) {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .env("PARLEY_DATA_DIR", dir)
        .env_remove("PARLEY_ADMIN_EMAIL")
        .env_remove("PARLEY_ADMIN_PASSWORD")
        .env_remove("PARLEY_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut addr = String::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    while addr.is_empty() {
        let line = rx
            .recv_timeout(deadline - std::time::Instant::now())
            .expect("server logs its address");
        let v: Value =
            serde_json::from_str(&line).unwrap_or_else(|_| panic!("log line is not JSON: {line}"));
        if let Some(a) = v["addr"].as_str() {
            addr = a.to_owned();
        }
        seen.push(line);
    }
    let (tx2, rx2) = std::sync::mpsc::channel();
    for l in seen {
        tx2.send(l).unwrap();
    }
    std::thread::spawn(move || {
        while let Ok(l) = rx.recv() {
            if tx2.send(l).is_err() {
                break;
            }
        }
    });
    (child, addr, rx2)
}

fn sigterm(child: &Child) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
}

fn wait_exit(mut child: Child) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "server did not stop within 10 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_operator_commands_and_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (child, addr, logs) = serve(dir.path());
    let lines: Vec<String> = logs.try_iter().collect();
    let created = lines
        .iter()
        .find(|l| l.contains("generated password"))
        .expect("first start announces the admin");
    let v: Value = serde_json::from_str(created).unwrap();
    let password = v["password"].as_str().unwrap().to_owned();
    assert_eq!(v["email"], "admin@parley.local");

    let c = reqwest::Client::new();
    let r = c
        .post(format!("http://{addr}/api/v1/auth/login"))
        .json(&json!({"email": "admin@parley.local", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let health: Value = c
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["database"], "ok");

    // An open socket is closed with "going away" and the process exits cleanly on SIGTERM.
    let admin_token = {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let s = reqwest::Client::builder()
            .cookie_provider(jar)
            .build()
            .unwrap();
        let me: Value = s
            .post(format!("http://{addr}/api/v1/auth/login"))
            .json(&json!({"email": "admin@parley.local", "password": password}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let t: Value = s
            .post(format!("http://{addr}/api/v1/tokens"))
            .header("x-csrf-token", me["csrf_token"].as_str().unwrap())
            .json(&json!({"name": "t"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        t["secret"].as_str().unwrap().to_owned()
    };
    let mut ws = connect(&format!("ws://{addr}/ws/agent?token={admin_token}"), &[]).await;
    ws.send(json!({"type": "hello"})).await;
    ws.recv_type("ready").await;
    sigterm(&child);
    assert_eq!(ws.closed_with().await, 1001);
    assert!(wait_exit(child).success());

    // Operator commands work on the stopped server's data.
    let out = Command::new(BIN)
        .args([
            "admin",
            "create-user",
            "--email",
            "li@example.com",
            "--name",
            "李雷",
            "--role",
            "supervisor",
        ])
        .env("PARLEY_DATA_DIR", dir.path())
        .env("PARLEY_NEW_PASSWORD", "li's long password")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(BIN)
        .args(["admin", "create-user", "--email", "bad", "--name", "x"])
        .env("PARLEY_DATA_DIR", dir.path())
        .env("PARLEY_NEW_PASSWORD", "long enough pw")
        .output()
        .unwrap();
    assert!(!out.status.success(), "an invalid e-mail must be refused");
    let out = Command::new(BIN)
        .args(["admin", "reset-password", "--email", "admin@parley.local"])
        .env("PARLEY_DATA_DIR", dir.path())
        .env("PARLEY_NEW_PASSWORD", "a new admin password")
        .output()
        .unwrap();
    assert!(out.status.success());

    // The second start creates nobody and prints no password; the new passwords work.
    let (child, addr, logs) = serve(dir.path());
    let lines: Vec<String> = logs.try_iter().collect();
    assert!(
        !lines.iter().any(|l| l.contains("password")),
        "a password was logged on a later start: {lines:?}"
    );
    for (email, pw, role) in [
        ("li@example.com", "li's long password", "supervisor"),
        ("admin@parley.local", "a new admin password", "admin"),
    ] {
        let r = c
            .post(format!("http://{addr}/api/v1/auth/login"))
            .json(&json!({"email": email, "password": pw}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{email}");
        assert_eq!(r.json::<Value>().await.unwrap()["user"]["role"], role);
    }
    sigterm(&child);
    assert!(wait_exit(child).success());
}

/// `parley eval faq` on the evaluation set: a readable report ending in one JSON line, exit 0
/// when the quality bar is met; a threshold nobody can pass makes it exit 1.
#[test]
fn eval_faq_reports_and_gates_on_the_quality_bar() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../eval/faq");
    let run = |extra: &[&str]| {
        std::process::Command::new(BIN)
            .args(["eval", "faq", "--kb"])
            .arg(dir.join("kb.jsonl"))
            .arg("--questions")
            .arg(dir.join("dev.jsonl"))
            .args(extra)
            .output()
            .expect("runs")
    };
    let out = run(&[]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{text}");
    assert!(text.contains("zh"), "per-locale figures: {text}");
    let last: serde_json::Value =
        serde_json::from_str(text.trim().lines().last().unwrap()).unwrap();
    assert_eq!(
        (last["answerable"].as_u64(), last["unanswerable"].as_u64()),
        (Some(205), Some(35))
    );
    assert!(last["top1"].as_f64().unwrap() >= 0.85, "{last}");
    assert!(
        last["wrong_on_unanswerable"].as_f64().unwrap() <= 0.10,
        "{last}"
    );

    let strict = run(&["--threshold", "0.99"]);
    assert_eq!(strict.status.code(), Some(1), "a bar missed is a failure");
    let missing = std::process::Command::new(BIN)
        .args([
            "eval",
            "faq",
            "--kb",
            "/nonexistent.jsonl",
            "--questions",
            "/nonexistent.jsonl",
        ])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent.jsonl"));
}
