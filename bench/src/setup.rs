//! Preparing a Parley server over its REST API (docs/protocol.md §3–4): the admin's session, a
//! website channel, agent users with personal API tokens, and visitor sessions.

use anyhow::{bail, Context, Result};
use futures::{stream, StreamExt, TryStreamExt};
use serde_json::{json, Value};

pub const ORIGIN: &str = "https://shop.bench.example";
const AGENT_PASSWORD: &str = "bench agent password 42";
const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

/// A signed-in person: the cookie lives in the client, writes carry the CSRF token.
pub struct Session {
    client: reqwest::Client,
    base: String,
    csrf: String,
}

async fn checked(res: reqwest::Response, what: &str) -> Result<Value> {
    let status = res.status();
    let text = res.text().await?;
    if !status.is_success() {
        bail!("{what}: HTTP {status}: {text}");
    }
    serde_json::from_str(&text).with_context(|| format!("{what}: not JSON"))
}

impl Session {
    pub async fn login(base: &str, email: &str, password: &str) -> Result<Session> {
        let client = reqwest::Client::builder().cookie_store(true).build()?;
        let res = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .with_context(|| format!("is the server at {base} running?"))?;
        let me = checked(res, &format!("login as {email}")).await?;
        let csrf = me["csrf_token"]
            .as_str()
            .context("login answered without csrf_token")?
            .to_owned();
        Ok(Session {
            client,
            base: base.to_owned(),
            csrf,
        })
    }

    pub async fn post(&self, path: &str, body: Value) -> Result<Value> {
        let res = self
            .client
            .post(format!("{}{}", self.base, path))
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await?;
        checked(res, &format!("POST {path}")).await
    }

    pub async fn get(&self, path: &str) -> Result<Value> {
        let res = self
            .client
            .get(format!("{}{}", self.base, path))
            .send()
            .await?;
        checked(res, &format!("GET {path}")).await
    }
}

/// Creates a website channel open to any origin; returns its widget key.
pub async fn create_channel(admin: &Session, name: &str) -> Result<String> {
    let ch = admin
        .post(
            "/api/v1/channels",
            json!({"name": name, "allowed_origins": []}),
        )
        .await?;
    Ok(ch["widget_key"]
        .as_str()
        .context("channel without widget_key")?
        .to_owned())
}

/// Creates `m` agents and returns a personal API token (`pat_…`) for each.
pub async fn create_agents(
    admin: &Session,
    base: &str,
    m: usize,
    tag: &str,
) -> Result<Vec<String>> {
    let mut tokens = Vec::with_capacity(m);
    for i in 0..m {
        let email = format!("agent{i}-{tag}@bench.example");
        admin
            .post(
                "/api/v1/users",
                json!({"email": email, "name": format!("Bench agent {i}"), "role": "agent", "password": AGENT_PASSWORD}),
            )
            .await?;
        let agent = Session::login(base, &email, AGENT_PASSWORD).await?;
        let t = agent
            .post("/api/v1/tokens", json!({"name": "parley-bench"}))
            .await?;
        tokens.push(
            t["secret"]
                .as_str()
                .context("token without secret")?
                .to_owned(),
        );
    }
    Ok(tokens)
}

/// Starts `n` visitors on the channel (`POST /api/widget/v1/session`); returns their tokens.
pub async fn visitor_sessions(base: &str, widget_key: &str, n: usize) -> Result<Vec<String>> {
    let client = reqwest::Client::builder().user_agent(USER_AGENT).build()?;
    stream::iter(0..n)
        .map(|i| {
            let client = client.clone();
            async move {
                let res = client
                    .post(format!("{base}/api/widget/v1/session"))
                    .header("origin", ORIGIN)
                    .json(&json!({"widget_key": widget_key,
                        "page": {"url": format!("{ORIGIN}/products/{i}"), "title": "Product", "referrer": "https://www.example.com/"},
                        "language": "en-US"}))
                    .send()
                    .await?;
                let v = checked(res, "POST /api/widget/v1/session").await?;
                Ok::<_, anyhow::Error>(
                    v["visitor_token"]
                        .as_str()
                        .context("session without visitor_token")?
                        .to_owned(),
                )
            }
        })
        .buffered(32)
        .try_collect()
        .await
}
