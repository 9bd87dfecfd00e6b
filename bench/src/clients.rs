//! The visitor and agent sockets. The same code drives Parley and the baseline relay.
//!
//! Message ids: the generator numbers every measured message; the visitor sends it with
//! `client_id = "m-<id>"` and `body = "m<id> …"`, the agent's reply uses `"r-<id>"` and
//! `"r<id> …"`. Every send, ack and delivery is stamped in the shared [`Tracker`].

use crate::net::{Dialer, Ws};
use crate::stats::Tracker;
use anyhow::{bail, Context, Result};
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

/// The parts of a server frame the generator looks at; everything else is skipped unparsed.
#[derive(Deserialize)]
pub(crate) struct Frame<'a> {
    #[serde(rename = "type", borrow)]
    pub(crate) ty: Cow<'a, str>,
    #[serde(default, borrow)]
    pub(crate) client_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) conversation_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) conversation: Option<ConvRef<'a>>,
    #[serde(default, borrow)]
    pub(crate) event: Option<EventRef<'a>>,
    #[serde(default)]
    pub(crate) last_seq: Option<i64>,
    #[serde(default)]
    pub(crate) code: Option<String>,
    #[serde(default)]
    pub(crate) message: Option<String>,
    #[serde(default, rename = "ref")]
    pub(crate) reference: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct ConvRef<'a> {
    #[serde(borrow)]
    pub(crate) id: Cow<'a, str>,
}

#[derive(Deserialize)]
pub(crate) struct EventRef<'a> {
    pub(crate) seq: i64,
    #[serde(borrow)]
    pub(crate) sender: SenderRef<'a>,
    #[serde(default, borrow)]
    pub(crate) body: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
pub(crate) struct SenderRef<'a> {
    #[serde(borrow)]
    pub(crate) kind: Cow<'a, str>,
}

/// `"m123 …"` → 123 for prefix `'m'`.
pub fn id_in_body(body: &str, prefix: char) -> Option<u64> {
    body.strip_prefix(prefix)?.split(' ').next()?.parse().ok()
}

pub fn text(v: serde_json::Value) -> Message {
    Message::Text(v.to_string().into())
}

/// Sends `hello` and waits for `ready`.
pub async fn hello(ws: &mut Ws, token: Option<&str>) -> Result<()> {
    let hello = match token {
        Some(t) => json!({"type": "hello", "token": t}),
        None => json!({"type": "hello"}),
    };
    ws.send(text(hello)).await?;
    loop {
        let m = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .context("no ready within 30 s")?
            .context("socket closed before ready")??;
        match m {
            Message::Text(t) => {
                let f: Frame = serde_json::from_str(&t)?;
                if f.ty == "ready" {
                    return Ok(());
                }
            }
            Message::Close(c) => bail!("closed before ready: {c:?}"),
            _ => {}
        }
    }
}

/// A connected client: commands go in through `tx`, the task runs until `tx` is dropped.
pub struct Handle<C> {
    pub tx: mpsc::UnboundedSender<C>,
    pub task: JoinHandle<()>,
}

// ---------------------------------------------------------------------------------------------
// Visitors

pub enum VisitorCmd {
    /// Send measured message `id`, scheduled for `at_ns` (tracker time).
    Send { id: u64, at_ns: u64 },
    /// Send one unmeasured message that starts the conversation; the id comes back here.
    Warmup(tokio::sync::oneshot::Sender<String>),
}

pub async fn open_visitor(
    dialer: &Dialer,
    token: &str,
    tracker: Arc<Tracker>,
    padding: Arc<str>,
) -> Result<Handle<VisitorCmd>> {
    let mut ws = dialer
        .connect("/ws/widget", Some(crate::setup::ORIGIN))
        .await?;
    hello(&mut ws, Some(token)).await?;
    let (tx, rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(run_visitor(ws, rx, tracker, padding));
    Ok(Handle { tx, task })
}

async fn run_visitor(
    ws: Ws,
    mut rx: mpsc::UnboundedReceiver<VisitorCmd>,
    t: Arc<Tracker>,
    padding: Arc<str>,
) {
    let (mut sink, mut stream) = ws.split();
    let mut conversation: Option<String> = None;
    let mut warmup: Option<tokio::sync::oneshot::Sender<String>> = None;
    loop {
        tokio::select! {
            cmd = rx.recv() => {
                let frame = match cmd {
                    Some(VisitorCmd::Send { id, at_ns }) => {
                        t.sent(id, at_ns);
                        json!({"type": "send", "client_id": format!("m-{id}"), "body": format!("m{id} {padding}")})
                    }
                    Some(VisitorCmd::Warmup(reply)) => {
                        warmup = Some(reply);
                        json!({"type": "send", "client_id": format!("w-{}", uuid::Uuid::new_v4()), "body": "hello, is anyone there?"})
                    }
                    None => break,
                };
                if sink.send(text(frame)).await.is_err() {
                    t.problem(&t.unexpected_closes, "visitor socket failed on send".into());
                    return;
                }
            }
            m = stream.next() => {
                let txt = match m {
                    Some(Ok(Message::Text(txt))) => txt,
                    Some(Ok(Message::Close(c))) => {
                        t.problem(&t.unexpected_closes, format!("visitor socket closed by server: {c:?}"));
                        return;
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => {
                        t.problem(&t.unexpected_closes, format!("visitor socket error: {e}"));
                        return;
                    }
                    None => {
                        t.problem(&t.unexpected_closes, "visitor socket ended".into());
                        return;
                    }
                };
                let Ok(f) = serde_json::from_str::<Frame>(&txt) else {
                    t.problem(&t.error_frames, format!("unparsable frame: {txt}"));
                    continue;
                };
                match &*f.ty {
                    "ack" => {
                        let cid = f.client_id.as_deref().unwrap_or("");
                        if let Some(id) = cid.strip_prefix("m-").and_then(|s| s.parse().ok()) {
                            t.acked(id);
                        } else if cid.starts_with("w-") {
                            if let (Some(w), Some(c)) = (warmup.take(), f.conversation_id.as_deref()) {
                                let _ = w.send(c.to_owned());
                            }
                        }
                    }
                    // The visitor's conversation started (or exists): follow it.
                    "conversation" => {
                        let id = f.conversation.map(|c| c.id.into_owned());
                        if let Some(id) = id.filter(|_| conversation.is_none()) {
                            let sub = json!({"type": "subscribe", "conversation_id": id, "after_seq": 0});
                            conversation = Some(id);
                            if sink.send(text(sub)).await.is_err() {
                                return;
                            }
                        }
                    }
                    "subscribed" => {
                        t.subscribed_visitors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    "event" => {
                        if let Some(e) = f.event {
                            if e.sender.kind == "agent" {
                                if let Some(id) = e.body.as_deref().and_then(|b| id_in_body(b, 'r')) {
                                    t.reply_delivered(id);
                                }
                            }
                        }
                    }
                    "error" => t.problem(&t.error_frames, format!("visitor got error {:?}: {:?} (ref {:?})", f.code, f.message, f.reference)),
                    _ => {}
                }
            }
        }
    }
    let _ = sink.send(Message::Close(None)).await;
}

// ---------------------------------------------------------------------------------------------
// Agents

pub enum AgentCmd {
    /// Subscribe to a conversation the inbox did not announce (a fallback, counted as a problem).
    Subscribe(String),
}

/// Which agent (0..m) handles a conversation: a fixed function of its id.
pub fn owner(conversation_id: &str, m: usize) -> usize {
    let n = uuid::Uuid::parse_str(conversation_id)
        .map(|u| u.as_u128())
        .unwrap_or_else(|_| conversation_id.bytes().map(u128::from).sum());
    (n % m as u128) as usize
}

pub struct AgentConfig {
    pub index: usize,
    pub agents: usize,
    /// Reply to message ids divisible by this (0 = never reply).
    pub reply_every: u64,
    pub padding: Arc<str>,
}

pub async fn open_agent(
    dialer: &Dialer,
    token: &str,
    tracker: Arc<Tracker>,
    cfg: AgentConfig,
) -> Result<Handle<AgentCmd>> {
    let mut ws = dialer
        .connect(&format!("/ws/agent?token={token}"), None)
        .await?;
    hello(&mut ws, None).await?;
    let (tx, rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(run_agent(ws, rx, tracker, cfg));
    Ok(Handle { tx, task })
}

async fn run_agent(
    ws: Ws,
    mut rx: mpsc::UnboundedReceiver<AgentCmd>,
    t: Arc<Tracker>,
    cfg: AgentConfig,
) {
    let (mut sink, mut stream) = ws.split();
    // Last seq seen per subscribed conversation, to check order and gaps.
    let mut seqs: HashMap<String, i64> = HashMap::new();
    loop {
        let mut out = None;
        tokio::select! {
            cmd = rx.recv() => match cmd {
                Some(AgentCmd::Subscribe(c)) => {
                    if !seqs.contains_key(&c) {
                        seqs.insert(c.clone(), 0);
                        out = Some(json!({"type": "subscribe", "conversation_id": c, "after_seq": 0}));
                    }
                }
                None => break,
            },
            m = stream.next() => {
                let txt = match m {
                    Some(Ok(Message::Text(txt))) => txt,
                    Some(Ok(Message::Close(c))) => {
                        t.problem(&t.unexpected_closes, format!("agent socket closed by server: {c:?}"));
                        return;
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => {
                        t.problem(&t.unexpected_closes, format!("agent socket error: {e}"));
                        return;
                    }
                    None => {
                        t.problem(&t.unexpected_closes, "agent socket ended".into());
                        return;
                    }
                };
                let Ok(f) = serde_json::from_str::<Frame>(&txt) else {
                    t.problem(&t.error_frames, format!("unparsable frame: {txt}"));
                    continue;
                };
                match &*f.ty {
                    // A conversation appeared or changed: subscribe if it is ours and new.
                    "inbox" => {
                        if let Some(c) = f.conversation {
                            if owner(&c.id, cfg.agents) == cfg.index && !seqs.contains_key(&*c.id) {
                                seqs.insert(c.id.to_string(), 0);
                                out = Some(json!({"type": "subscribe", "conversation_id": c.id, "after_seq": 0}));
                            }
                        }
                    }
                    "subscribed" => {
                        if let (Some(c), Some(last)) = (f.conversation_id.as_deref(), f.last_seq) {
                            let s = seqs.entry(c.to_owned()).or_insert(0);
                            *s = (*s).max(last);
                        }
                        t.subscribed_agents.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    "event" => {
                        let (Some(c), Some(e)) = (f.conversation_id.as_deref(), f.event) else { continue };
                        if let Some(last) = seqs.get_mut(c) {
                            if e.seq != *last + 1 {
                                t.problem(&t.seq_anomalies, format!("conversation {c}: seq {} after {}", e.seq, last));
                            }
                            *last = (*last).max(e.seq);
                        }
                        if e.sender.kind != "visitor" {
                            continue;
                        }
                        let Some(id) = e.body.as_deref().and_then(|b| id_in_body(b, 'm')) else { continue };
                        t.delivered(id);
                        if cfg.reply_every > 0 && id % cfg.reply_every == 0 {
                            t.reply_sent(id);
                            out = Some(json!({"type": "send", "client_id": format!("r-{id}"), "conversation_id": c,
                                "body": format!("r{id} {}", cfg.padding)}));
                        }
                    }
                    "ack" => {
                        if let Some(id) = f.client_id.as_deref().and_then(|c| c.strip_prefix("r-")).and_then(|s| s.parse().ok()) {
                            t.reply_acked(id);
                        }
                    }
                    "resync" => t.problem(&t.resyncs, "agent told to resync (its inbox lagged)".into()),
                    "error" => t.problem(&t.error_frames, format!("agent got error {:?}: {:?} (ref {:?})", f.code, f.message, f.reference)),
                    _ => {}
                }
            }
        }
        if let Some(frame) = out {
            if sink.send(text(frame)).await.is_err() {
                t.problem(&t.unexpected_closes, "agent socket failed on send".into());
                return;
            }
        }
    }
    let _ = sink.send(Message::Close(None)).await;
}

// ---------------------------------------------------------------------------------------------

/// Closes every client and waits (briefly) for the tasks to end.
pub async fn close_all<C>(handles: Vec<Handle<C>>) {
    let tasks: Vec<_> = handles
        .into_iter()
        .map(|h| {
            drop(h.tx);
            h.task
        })
        .collect();
    let _ = tokio::time::timeout(Duration::from_secs(10), futures::future::join_all(tasks)).await;
}
