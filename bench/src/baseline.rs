//! The baseline: a bare in-memory WebSocket relay that answers the same frames the generator
//! uses (hello/ready, send/ack, conversation, inbox, subscribe/subscribed, event, presence) with
//! no storage, no authentication and no queries. Run against it, the same client code measures what this
//! machine can do for the same traffic; Parley's numbers are reported as ratios to it.
//!
//! It runs as a separate process (`parley-bench relay`), like the server, so that it has its own
//! runtime and its own CPU and memory figures. It sends the same frames per message (an `inbox`
//! frame to every agent) and its WebSockets use Parley's settings (a 4 KiB read buffer per
//! socket, no write buffer, TCP_NODELAY); `run --relay-nagle` and `--relay-read-buffer-kib`
//! change them for experiments.
//!
//! Presence, for the fan-out benchmark: like Parley, when the first agent socket says `hello` or
//! the last one closes, every visitor socket gets `{"type":"presence","agents_online":bool}`.

use anyhow::Result;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

type Tx = mpsc::UnboundedSender<Message>;

#[derive(Default)]
struct State {
    agents: HashMap<u64, Tx>,
    /// Every visitor socket that said hello (for presence broadcasts).
    visitors: HashMap<u64, Tx>,
    /// A visitor's (token's) conversation.
    visitor_conv: HashMap<String, Uuid>,
    convs: HashMap<Uuid, Conv>,
}

struct Conv {
    seq: i64,
    visitor: Tx,
    subscribers: HashMap<u64, Tx>,
}

enum Role {
    Agent,
    Visitor(String),
}

/// Listens on `listen`, prints `listening <addr>` on stdout, and relays until killed.
pub async fn serve(listen: &str, nodelay: bool, read_buffer_kib: usize) -> Result<()> {
    crate::net::raise_nofile();
    let listener = TcpListener::bind(listen).await?;
    println!("listening {}", listener.local_addr()?);
    std::io::stdout().flush()?;
    let state = Arc::new(Mutex::new(State::default()));
    let ids = Arc::new(AtomicU64::new(1));
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("relay: accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        if nodelay {
            let _ = stream.set_nodelay(true);
        }
        let state = state.clone();
        let id = ids.fetch_add(1, Ordering::Relaxed);
        let config = WebSocketConfig::default()
            .write_buffer_size(0)
            .read_buffer_size(read_buffer_kib.max(1) * 1024);
        tokio::spawn(async move {
            let _ = connection(stream, id, state, config).await;
        });
    }
}

fn frame(v: Value) -> Message {
    Message::Text(v.to_string().into())
}

// The handshake callback's error type is the library's (a whole HTTP response).
#[allow(clippy::result_large_err)]
async fn connection(
    stream: TcpStream,
    id: u64,
    state: Arc<Mutex<State>>,
    config: WebSocketConfig,
) -> Result<()> {
    let mut path = String::new();
    let ws = tokio_tungstenite::accept_hdr_async_with_config(
        stream,
        |req: &Request, res: Response| {
            path = req.uri().path().to_owned();
            Ok(res)
        },
        Some(config),
    )
    .await?;
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    let writer = tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            if sink.send(m).await.is_err() {
                break;
            }
        }
    });

    // hello → ready
    let role = loop {
        match stream.next().await {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(&t)?;
                if v["type"] != "hello" {
                    return Ok(());
                }
                break if path.starts_with("/ws/agent") {
                    let mut st = state.lock().unwrap();
                    let first = st.agents.is_empty();
                    st.agents.insert(id, tx.clone());
                    let _ = tx.send(frame(json!({"type": "ready", "heartbeat_ms": 25000})));
                    if first {
                        broadcast_presence(&mut st, true);
                    }
                    Role::Agent
                } else {
                    let token = v["token"].as_str().unwrap_or("").to_owned();
                    let mut st = state.lock().unwrap();
                    let online = !st.agents.is_empty();
                    let _ = tx.send(frame(
                        json!({"type": "ready", "heartbeat_ms": 25000, "agents_online": online}),
                    ));
                    st.visitors.insert(id, tx.clone());
                    if let Some(c) = st.visitor_conv.get(&token) {
                        let seq = st.convs[c].seq;
                        let _ = tx.send(frame(json!({"type": "conversation", "conversation": {"id": c, "status": "open", "last_seq": seq}})));
                    }
                    Role::Visitor(token)
                };
            }
            Some(Ok(_)) => continue,
            _ => return Ok(()),
        }
    };

    while let Some(Ok(m)) = stream.next().await {
        let Message::Text(t) = m else { continue };
        let Ok(v) = serde_json::from_str::<Value>(&t) else {
            let _ = tx.send(frame(
                json!({"type": "error", "code": "bad_request", "message": "malformed frame"}),
            ));
            continue;
        };
        let mut st = state.lock().unwrap();
        match v["type"].as_str().unwrap_or("") {
            "send" => relay_send(&mut st, &role, &tx, &v),
            "subscribe" => {
                let conv = v["conversation_id"]
                    .as_str()
                    .and_then(|s| Uuid::parse_str(s).ok());
                match conv.and_then(|c| st.convs.get_mut(&c).map(|conv| (c, conv))) {
                    Some((c, conv)) => {
                        conv.subscribers.insert(id, tx.clone());
                        let _ = tx.send(frame(json!({"type": "subscribed", "conversation_id": c, "last_seq": conv.seq})));
                    }
                    None => {
                        let _ = tx.send(frame(json!({"type": "error", "code": "not_found", "message": "conversation not found", "ref": v["conversation_id"]})));
                    }
                }
            }
            "ping" => {
                let _ = tx.send(frame(json!({"type": "pong"})));
            }
            _ => {}
        }
    }

    let mut st = state.lock().unwrap();
    st.visitors.remove(&id);
    if st.agents.remove(&id).is_some() && st.agents.is_empty() {
        broadcast_presence(&mut st, false);
    }
    for c in st.convs.values_mut() {
        c.subscribers.remove(&id);
    }
    drop(st);
    writer.abort();
    Ok(())
}

/// Tells every visitor socket whether any agent is online (one frame, cloned per socket).
fn broadcast_presence(st: &mut State, online: bool) {
    let f = frame(json!({"type": "presence", "agents_online": online}));
    st.visitors.retain(|_, v| v.send(f.clone()).is_ok());
}

/// A message: ack the sender, forward the event to the conversation's subscribers, tell the
/// visitor about a new conversation and every agent about the change.
fn relay_send(st: &mut State, role: &Role, tx: &Tx, v: &Value) {
    let client_id = v["client_id"].clone();
    let conv_id = match role {
        Role::Visitor(token) => match st.visitor_conv.get(token) {
            Some(c) => *c,
            None => {
                let c = Uuid::new_v4();
                st.visitor_conv.insert(token.clone(), c);
                st.convs.insert(
                    c,
                    Conv {
                        seq: 0,
                        visitor: tx.clone(),
                        subscribers: HashMap::new(),
                    },
                );
                c
            }
        },
        Role::Agent => match v["conversation_id"]
            .as_str()
            .and_then(|s| Uuid::parse_str(s).ok())
        {
            Some(c) if st.convs.contains_key(&c) => c,
            _ => {
                let _ = tx.send(frame(json!({"type": "error", "code": "not_found", "message": "conversation not found", "ref": client_id})));
                return;
            }
        },
    };
    let conv = st.convs.get_mut(&conv_id).expect("conversation exists");
    conv.seq += 1;
    let seq = conv.seq;
    let event_id = Uuid::new_v4();
    let sender_kind = match role {
        Role::Agent => "agent",
        Role::Visitor(_) => "visitor",
    };
    let _ = tx.send(frame(
        json!({"type": "ack", "client_id": client_id, "conversation_id": conv_id,
        "seq": seq, "event_id": event_id, "duplicate": false}),
    ));
    let event = frame(
        json!({"type": "event", "conversation_id": conv_id, "event": {
        "id": event_id, "conversation_id": conv_id, "seq": seq, "kind": "message",
        "sender": {"kind": sender_kind, "id": null, "name": null, "avatar_url": null},
        "client_id": client_id, "body": v["body"], "attachments": []}}),
    );
    conv.subscribers
        .retain(|_, s| s.send(event.clone()).is_ok());
    if seq == 1 {
        let _ = conv.visitor.send(frame(json!({"type": "conversation",
            "conversation": {"id": conv_id, "status": "open", "last_seq": seq}})));
    }
    let inbox = frame(
        json!({"type": "inbox", "conversation": {"id": conv_id, "status": "open",
        "last_seq": seq, "last_message": {"body": v["body"], "sender_kind": sender_kind}}}),
    );
    st.agents.retain(|_, a| a.send(inbox.clone()).is_ok());
}
