//! The WebSocket endpoints (docs/protocol.md §5). One task per socket selects over the client's
//! frames, the bus topics it subscribed to, a heartbeat timer and shutdown.
//!
//! Delivery rule: for each subscribed conversation the socket remembers the last `seq` it sent.
//! An event with exactly the next seq is forwarded; an older one is dropped (already sent); a
//! newer one means something is missing (bus reordering or lag), so the gap is read from the
//! database. Clients therefore see every event once, in order, whatever the bus does.
//!
//! A `send` is stored beside delivery, not in its way (see `sends`): the socket acks it when its
//! commit is done and meanwhile holds back only the events its ack must precede.

mod sends;
mod subs;

use crate::error::ApiError;
use crate::extract::{origin, SESSION_COOKIE};
use crate::state::AppState;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use futures::stream::{SplitSink, SplitStream};
use futures::{FutureExt, SinkExt, StreamExt};
use parley_core::bus::{BusItem, BusMessage, Topic};
use parley_core::ports::Appended;
use parley_core::service::{Actor, Agent};
use parley_core::ServiceError;
use parley_domain::*;
use sends::{Done, Lane, Sends};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Instant;
use subs::Subscriptions;

pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Frames are queued and written together once the socket has nothing more to do at once (see
/// `Conn::run`); a queue past this many bytes is written out at once. Small, because the queue's
/// buffer keeps the size it grew to for as long as the socket is open.
const WRITE_BATCH_BYTES: usize = 8 * 1024;
/// At most this many steps (a frame, a bus item, an ack) before queued frames are written, so a
/// busy socket's first frames do not wait for the last.
const MAX_BATCH_STEPS: u32 = 32;
const MAX_MALFORMED: u32 = 10;
const REPLAY_PAGE: i64 = 500;

pub mod close {
    pub const NORMAL: u16 = 1000;
    pub const GOING_AWAY: u16 = 1001;
    pub const UNSUPPORTED: u16 = 1003;
    pub const TOO_BIG: u16 = 1009;
    pub const HEARTBEAT: u16 = 4000;
    pub const UNAUTHORIZED: u16 = 4001;
    pub const FORBIDDEN_ORIGIN: u16 = 4003;
    pub const MALFORMED: u16 = 4008;
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientFrame {
    Hello {
        token: Option<String>,
    },
    Subscribe {
        conversation_id: String,
        #[serde(default)]
        after_seq: i64,
    },
    Unsubscribe {
        conversation_id: String,
    },
    Send {
        client_id: String,
        conversation_id: Option<String>,
        #[serde(default)]
        body: String,
        #[serde(default)]
        attachment_ids: Vec<String>,
        /// Visitors: the entry option picked before the first message.
        group_id: Option<String>,
    },
    Typing {
        conversation_id: String,
        typing: bool,
        draft: Option<String>,
    },
    Read {
        conversation_id: String,
        seq: i64,
    },
    Status {
        status: AgentStatus,
    },
    Page {
        url: Option<String>,
        title: Option<String>,
        referrer: Option<String>,
    },
    Ping,
}

fn configure(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    // Oversized frames are refused by us with 1009 (below); the transport limit is only a
    // backstop.
    ws.max_message_size(4 * MAX_FRAME_BYTES)
        .max_frame_size(4 * MAX_FRAME_BYTES)
        .write_buffer_size(WRITE_BATCH_BYTES)
        // tungstenite reads into a 128 KiB buffer by default: most of an idle socket's memory.
        .read_buffer_size(4 * 1024)
}

#[derive(Deserialize)]
pub struct AgentWsQuery {
    token: Option<String>,
}

/// Agents: authenticated by the session cookie (or `?token=pat_…` for programs). Browsers send
/// cookies on cross-site WebSocket upgrades too, so the Origin must be our own.
pub async fn agent_socket(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    Query(q): Query<AgentWsQuery>,
) -> Response {
    let auth = match (&q.token, jar.get(SESSION_COOKIE)) {
        (Some(t), _) => state.parley.authenticate_token(t).await,
        (None, Some(c)) => state.parley.authenticate_session(c.value()).await,
        (None, None) => Err(ServiceError::Unauthorized),
    };
    let own_origin = match (
        origin(&headers),
        headers.get("host").and_then(|h| h.to_str().ok()),
    ) {
        (Some(o), Some(host)) => o.split_once("://").map(|(_, h)| h == host).unwrap_or(false),
        (Some(_), None) => false,
        (None, _) => true,
    };
    let open = state.sockets.token();
    configure(ws).on_upgrade(move |socket| async move {
        let _open = open;
        let (mut sink, stream) = socket.split();
        match (auth, own_origin) {
            (_, false) => {
                close_with(&mut sink, close::FORBIDDEN_ORIGIN, "origin not allowed").await
            }
            (Err(_), _) => {
                close_with(
                    &mut sink,
                    close::UNAUTHORIZED,
                    "not signed in or session expired",
                )
                .await
            }
            (Ok(agent), true) => Conn::new(state, sink, stream).run_agent(agent).await,
        }
    })
}

/// Visitors: authenticated by the `hello` frame's token; the Origin is checked against the
/// channel once the token says which channel this is.
pub async fn widget_socket(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Response {
    let origin = origin(&headers).map(str::to_owned);
    let open = state.sockets.token();
    configure(ws).on_upgrade(move |socket| async move {
        let _open = open;
        let (sink, stream) = socket.split();
        Conn::new(state, sink, stream).run_widget(origin).await
    })
}

async fn close_with(sink: &mut SplitSink<WebSocket, Message>, code: u16, reason: &str) {
    let _ = sink
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from(reason),
        })))
        .await;
    let _ = sink.close().await;
}

/// Events as the socket's owner may see them: visitors never see internal notes or routing
/// explanations.
/// An `event` frame as `actor` may see it. Written straight from the event, without a JSON
/// tree in between: every stored message goes through here once per socket that follows its
/// conversation.
fn event_frame(actor: &Actor, e: &Event) -> String {
    #[derive(serde::Serialize)]
    struct Frame<'a> {
        r#type: &'static str,
        conversation_id: ConversationId,
        event: &'a Event,
    }
    let for_visitor;
    let event = match actor {
        Actor::Visitor(_) => {
            for_visitor = e.for_visitor();
            &for_visitor
        }
        Actor::Agent(_) => e,
    };
    let frame = Frame {
        r#type: "event",
        conversation_id: e.conversation_id,
        event,
    };
    serde_json::to_string(&frame).expect("an event serialises")
}

pub fn count_sent(state: &AppState, a: &Appended) {
    if a.duplicate {
        state.metrics.messages_duplicate.inc();
    } else {
        state
            .metrics
            .messages_stored
            .get_or_create(&crate::metrics::KindLabels {
                kind: a.message.sender.kind.as_str(),
            })
            .inc();
    }
}

fn error_frame(e: &ApiError, r#ref: Option<&str>) -> Value {
    if let ApiError::Internal(err) = e {
        tracing::error!(error = %format!("{err:#}"), "internal error on socket");
    }
    json!({"type": "error", "code": e.code(), "message": e.message(), "ref": r#ref})
}

/// What woke the socket (see `Conn::next_step`).
enum Step {
    Frame(Option<Result<Message, axum::Error>>),
    Sent(Done),
    Bus(Topic, BusItem),
    Heartbeat,
    Shutdown,
}

impl Step {
    /// Handled without waiting for the database: an ack, or a bus item that is forwarded as it
    /// is (an event can still need a catch-up read when one is missing; rare). Client frames,
    /// the heartbeat's session check, a visitor's record and a lag's re-read are not.
    fn is_quick(&self) -> bool {
        match self {
            Step::Sent(_) => true,
            Step::Bus(_, BusItem::Summary(_)) => true,
            Step::Bus(_, BusItem::Message(m)) => !matches!(&**m, BusMessage::VisitorChanged { .. }),
            _ => false,
        }
    }
}

enum Flow {
    Continue,
    Close(u16, &'static str),
}

struct Conn {
    state: AppState,
    sink: SplitSink<WebSocket, Message>,
    stream: SplitStream<WebSocket>,
    subs: Subscriptions,
    /// Last seq sent, per subscribed conversation.
    seqs: HashMap<ConversationId, i64>,
    last_activity: Instant,
    malformed: u32,
    sends: Sends,
    /// Frames are queued in the sink that are not written yet.
    unflushed: bool,
}

impl Conn {
    fn new(
        state: AppState,
        sink: SplitSink<WebSocket, Message>,
        stream: SplitStream<WebSocket>,
    ) -> Self {
        Conn {
            state,
            sink,
            stream,
            // A visitor's two topics, or an agent's; conversations are kept apart.
            subs: Subscriptions::with_capacity(2),
            seqs: HashMap::new(),
            last_activity: Instant::now(),
            malformed: 0,
            sends: Sends::default(),
            unflushed: false,
        }
    }

    async fn send(&mut self, v: Value) -> bool {
        self.send_text(v.to_string()).await
    }

    /// Queues a frame; `run` writes the queue out (a queue past `WRITE_BATCH_BYTES` goes at
    /// once). Anything that sends outside `run` ends in `close_with`, which writes it too.
    async fn send_text(&mut self, text: String) -> bool {
        self.unflushed = true;
        self.sink
            .feed(Message::Text(Utf8Bytes::from(text)))
            .await
            .is_ok()
    }

    async fn flush(&mut self) -> bool {
        self.unflushed = false;
        self.sink.flush().await.is_ok()
    }

    /// Waits for the first frame, which must be `hello`.
    async fn hello(&mut self) -> Result<Option<String>, (u16, &'static str)> {
        let timeout = self.state.config.hello_timeout;
        match tokio::time::timeout(timeout, self.stream.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => match serde_json::from_str::<ClientFrame>(&t) {
                Ok(ClientFrame::Hello { token }) => Ok(token),
                _ => Err((close::UNAUTHORIZED, "the first frame must be hello")),
            },
            Ok(Some(Ok(Message::Binary(_)))) => {
                Err((close::UNSUPPORTED, "binary frames are not supported"))
            }
            Ok(_) => Err((close::NORMAL, "")),
            Err(_) => Err((close::UNAUTHORIZED, "no hello in time")),
        }
    }

    async fn run_agent(mut self, agent: Agent) {
        if let Err((code, reason)) = self.hello().await {
            return close_with(&mut self.sink, code, reason).await;
        }
        let user = agent.user.clone();
        let kind = crate::metrics::KindLabels { kind: "agent" };
        self.state.metrics.ws_connections.get_or_create(&kind).inc();
        if let Err(e) = Box::pin(self.state.parley.agent_connected(&user)).await {
            tracing::error!(error = %e, "registering agent presence");
        }
        self.subs.insert(
            Topic::Inbox(user.workspace_id),
            self.state.parley.inbox.subscribe(user.workspace_id),
        );
        self.subs.insert(
            Topic::User(user.id),
            self.state.parley.bus.subscribe(Topic::User(user.id)),
        );
        let ready = json!({"type": "ready", "heartbeat_ms": self.state.config.heartbeat_interval.as_millis() as u64, "user": user});
        if self.send(ready).await {
            self.run(Box::new(Actor::Agent(agent))).await;
        }
        for id in self.seqs.keys() {
            self.state.parley.stopped_viewing(&user, *id);
        }
        self.state.parley.agent_disconnected(&user);
        self.state.metrics.ws_connections.get_or_create(&kind).dec();
    }

    async fn run_widget(mut self, origin: Option<String>) {
        let token = match self.hello().await {
            Ok(Some(t)) => t,
            Ok(None) => {
                return close_with(
                    &mut self.sink,
                    close::UNAUTHORIZED,
                    "hello needs the visitor token",
                )
                .await
            }
            Err((code, reason)) => return close_with(&mut self.sink, code, reason).await,
        };
        // Boxed, as the large futures and values below are: whatever is alive across an await
        // here is part of the socket's memory for as long as it stays open.
        let auth = Box::pin(
            self.state
                .parley
                .authenticate_visitor(&token, origin.as_deref()),
        )
        .await
        .map(|v| {
            let ids = (v.visitor.workspace_id, v.visitor.id);
            (ids, Box::new(Actor::Visitor(v)))
        });
        let ((ws, visitor_id), actor) = match auth {
            Ok(a) => a,
            Err(ServiceError::Forbidden(_)) => {
                return close_with(
                    &mut self.sink,
                    close::FORBIDDEN_ORIGIN,
                    "origin not allowed",
                )
                .await
            }
            Err(ServiceError::Unauthorized) => {
                return close_with(&mut self.sink, close::UNAUTHORIZED, "unknown visitor token")
                    .await
            }
            Err(e) => {
                tracing::error!(error = %e, "authenticating visitor");
                return close_with(&mut self.sink, close::GOING_AWAY, "try again").await;
            }
        };
        let kind = crate::metrics::KindLabels { kind: "visitor" };
        self.state.metrics.ws_connections.get_or_create(&kind).inc();
        // Freed now rather than when the socket closes.
        drop((token, origin));
        let bus = self.state.parley.bus.clone();
        self.subs.insert(
            Topic::Visitor(visitor_id),
            bus.subscribe(Topic::Visitor(visitor_id)),
        );
        self.subs
            .insert(Topic::Presence(ws), bus.subscribe(Topic::Presence(ws)));
        let ready = json!({"type": "ready", "heartbeat_ms": self.state.config.heartbeat_interval.as_millis() as u64,
            "agents_online": self.state.parley.presence.agents_online(ws)});
        let mut ok = self.send(ready).await;
        let frames = Box::pin(current_conversation_frames(&self.state, ws, visitor_id)).await;
        for frame in frames {
            ok = ok && self.send(frame).await;
        }
        if ok {
            self.run(actor).await;
        }
        self.state.metrics.ws_connections.get_or_create(&kind).dec();
    }

    async fn run(&mut self, actor: Box<Actor>) {
        let mut heartbeat = tokio::time::interval(self.state.config.heartbeat_interval);
        heartbeat.tick().await;
        let shutdown = self.state.shutdown.clone();
        let mut steps = 0;
        let flow = loop {
            // Queued frames are written when nothing more is ready at once, so that what one
            // wake-up produces (an ack and the event it preceded, an agent's event and its inbox
            // line) leaves in one write and wakes the client once. Each write on loopback also
            // pays for the client's side of TCP: it was most of the runtime's time under load.
            let ready = match self.unflushed && steps < MAX_BATCH_STEPS {
                true => self.next_step(&mut heartbeat, &shutdown).now_or_never(),
                false => None,
            };
            let step = match ready {
                Some(step) if step.is_quick() => {
                    steps += 1;
                    step
                }
                // A step that may wait for the database goes after the queue is written, so
                // an ack does not wait behind, say, the next frame's subscribe.
                ready => {
                    if self.unflushed && !self.flush().await {
                        break Some((close::GOING_AWAY, ""));
                    }
                    steps = 0;
                    match ready {
                        Some(step) => step,
                        None => self.next_step(&mut heartbeat, &shutdown).await,
                    }
                }
            };
            let mut flow = match step {
                Step::Frame(Some(Ok(m))) => {
                    self.last_activity = Instant::now();
                    Box::pin(self.on_frame(&actor, m)).await
                }
                Step::Frame(_) => break None,
                Step::Sent(done) => self.on_sent(done).await,
                Step::Bus(topic, item) => self.on_bus(&actor, topic, item).await,
                Step::Heartbeat => Box::pin(self.on_heartbeat(&actor)).await,
                Step::Shutdown => Flow::Close(close::GOING_AWAY, "server shutting down"),
            };
            if let Flow::Continue = flow {
                flow = self.release_held(&actor).await;
            }
            if let Flow::Close(code, reason) = flow {
                break Some((code, reason));
            }
        };
        if let Some((code, reason)) = flow {
            // The sends still in flight are stored anyway; their acks spare the client a resend.
            while self.sends.running() {
                let done = self.sends.next_done().await;
                if let Flow::Close(..) = self.on_sent(done).await {
                    break;
                }
            }
            close_with(&mut self.sink, code, reason).await;
        }
    }

    /// Waits for what the socket must do next. It only waits (the caller does the work), so it
    /// can be polled once without waiting and dropped: every branch is cancel-safe.
    async fn next_step(
        &mut self,
        heartbeat: &mut tokio::time::Interval,
        shutdown: &tokio_util::sync::CancellationToken,
    ) -> Step {
        tokio::select! {
            // A socket with too many sends in flight reads no more frames until one is done.
            frame = self.stream.next(), if self.sends.has_room() => Step::Frame(frame),
            done = self.sends.next_done(), if self.sends.running() => Step::Sent(done),
            Some((topic, item)) = self.subs.next(), if !self.subs.is_empty() => Step::Bus(topic, item),
            _ = heartbeat.tick() => Step::Heartbeat,
            _ = shutdown.cancelled() => Step::Shutdown,
        }
    }

    /// Acks a stored send (or reports why it was refused).
    async fn on_sent(&mut self, done: Done) -> Flow {
        let frame = match done.result {
            Ok(a) => {
                count_sent(&self.state, &a);
                json!({"type": "ack", "client_id": done.client_id, "conversation_id": a.message.conversation_id,
                    "seq": a.message.seq, "event_id": a.message.id, "duplicate": a.duplicate})
            }
            Err(e) => error_frame(&e, Some(&done.client_id)),
        };
        match self.send(frame).await {
            true => Flow::Continue,
            false => Flow::Close(close::GOING_AWAY, ""),
        }
    }

    /// Delivers what was held for sends that are acknowledged now.
    async fn release_held(&mut self, actor: &Actor) -> Flow {
        for (topic, item) in self.sends.releasable() {
            if let Flow::Close(code, reason) = self.on_bus(actor, topic, item).await {
                return Flow::Close(code, reason);
            }
        }
        Flow::Continue
    }

    /// Waits until every send to `conversation` is acknowledged, so that a read of its stored
    /// events cannot deliver one of them before its ack.
    async fn settle(&mut self, conversation: ConversationId) {
        while self.sends.blocks(conversation) {
            let done = self.sends.next_done().await;
            self.on_sent(done).await;
        }
    }

    async fn on_heartbeat(&mut self, actor: &Actor) -> Flow {
        if self.last_activity.elapsed() > self.state.config.idle_timeout {
            return Flow::Close(close::HEARTBEAT, "heartbeat timeout");
        }
        // A revoked or expired session ends the socket too, not only the next REST call.
        if let Actor::Agent(Agent {
            session: Some(s), ..
        }) = actor
        {
            if !matches!(
                self.state
                    .parley
                    .store
                    .session(&s.id_hash, now_millis())
                    .await,
                Ok(Some(_))
            ) {
                return Flow::Close(close::UNAUTHORIZED, "session expired or revoked");
            }
        }
        if self
            .sink
            .send(Message::Ping(Default::default()))
            .await
            .is_err()
        {
            return Flow::Close(close::GOING_AWAY, "");
        }
        Flow::Continue
    }

    async fn on_frame(&mut self, actor: &Actor, m: Message) -> Flow {
        let text = match m {
            Message::Text(t) => t,
            Message::Binary(_) => {
                return Flow::Close(close::UNSUPPORTED, "binary frames are not supported")
            }
            Message::Close(_) => return Flow::Close(close::NORMAL, ""),
            Message::Ping(_) | Message::Pong(_) => return Flow::Continue,
        };
        if text.len() > MAX_FRAME_BYTES {
            return Flow::Close(close::TOO_BIG, "frame larger than 64 KiB");
        }
        let kind = crate::metrics::KindLabels {
            kind: if matches!(actor, Actor::Agent(_)) {
                "agent"
            } else {
                "visitor"
            },
        };
        self.state.metrics.ws_frames_in.get_or_create(&kind).inc();
        let frame = match serde_json::from_str::<ClientFrame>(&text) {
            Ok(f) => f,
            Err(e) => {
                self.malformed += 1;
                if self.malformed > MAX_MALFORMED {
                    return Flow::Close(close::MALFORMED, "too many malformed frames");
                }
                let err = ApiError::BadRequest(format!("malformed frame: {e}"));
                self.send(error_frame(&err, None)).await;
                return Flow::Continue;
            }
        };
        let (result, r#ref) = match frame {
            ClientFrame::Ping => {
                self.send(json!({"type": "pong"})).await;
                return Flow::Continue;
            }
            ClientFrame::Hello { .. } => {
                (Err(ApiError::BadRequest("already said hello".into())), None)
            }
            ClientFrame::Subscribe {
                conversation_id,
                after_seq,
            } => {
                let r = self.subscribe(actor, &conversation_id, after_seq).await;
                (r, Some(conversation_id))
            }
            ClientFrame::Unsubscribe { conversation_id } => {
                if let Some(id) = ConversationId::parse(&conversation_id) {
                    self.subs.remove(&Topic::Conversation(id));
                    if self.seqs.remove(&id).is_some() {
                        if let Actor::Agent(a) = actor {
                            self.state.parley.stopped_viewing(&a.user, id);
                        }
                    }
                }
                (Ok(()), None)
            }
            ClientFrame::Send {
                client_id,
                conversation_id,
                body,
                attachment_ids,
                group_id,
            } => {
                let r = self
                    .send_message(
                        actor,
                        &client_id,
                        conversation_id.as_deref(),
                        &body,
                        &attachment_ids,
                        group_id.as_deref(),
                    )
                    .await;
                (r, Some(client_id))
            }
            ClientFrame::Typing {
                conversation_id,
                typing,
                draft,
            } => {
                let r = match ConversationId::parse(&conversation_id) {
                    Some(id) => self
                        .state
                        .parley
                        .typing(actor, id, typing, draft.as_deref())
                        .await
                        .map_err(ApiError::from),
                    None => Err(ApiError::NotFound("conversation not found".into())),
                };
                (r, Some(conversation_id))
            }
            ClientFrame::Read {
                conversation_id,
                seq,
            } => {
                let r = match (actor, ConversationId::parse(&conversation_id)) {
                    (Actor::Agent(a), Some(id)) => self
                        .state
                        .parley
                        .mark_read(a, id, seq)
                        .await
                        .map_err(ApiError::from),
                    // Visitors keep their read position on their device.
                    (Actor::Visitor(_), Some(_)) => Ok(()),
                    (_, None) => Err(ApiError::NotFound("conversation not found".into())),
                };
                (r, Some(conversation_id))
            }
            ClientFrame::Status { status } => {
                let r = match actor {
                    Actor::Agent(a) => self
                        .state
                        .parley
                        .set_my_status(a, status)
                        .await
                        .map_err(ApiError::from),
                    Actor::Visitor(_) => {
                        Err(ApiError::Forbidden("only agents have a status".into()))
                    }
                };
                (r, None)
            }
            ClientFrame::Page {
                url,
                title,
                referrer,
            } => {
                let r = match actor {
                    Actor::Visitor(v) => {
                        let ctx = VisitorContext::clipped(
                            url.as_deref(),
                            title.as_deref(),
                            referrer.as_deref(),
                            None,
                            None,
                            None,
                        );
                        self.state
                            .parley
                            .visitor_page(v, ctx)
                            .await
                            .map_err(ApiError::from)
                    }
                    Actor::Agent(_) => {
                        Err(ApiError::Forbidden("only visitors send page frames".into()))
                    }
                };
                (r, None)
            }
        };
        if let Err(e) = result {
            self.send(error_frame(&e, r#ref.as_deref())).await;
        }
        Flow::Continue
    }

    async fn subscribe(
        &mut self,
        actor: &Actor,
        raw_id: &str,
        after_seq: i64,
    ) -> Result<(), ApiError> {
        let id = ConversationId::parse(raw_id)
            .ok_or_else(|| ApiError::NotFound("conversation not found".into()))?;
        self.state.parley.visible_conversation(actor, id).await?;
        // Listen first, then read: whatever commits in between arrives on the bus, and the seq
        // rule drops what the read already delivered.
        self.subs.insert(
            Topic::Conversation(id),
            self.state.parley.bus.subscribe(Topic::Conversation(id)),
        );
        let first_time = self.seqs.insert(id, after_seq.max(0)).is_none();
        if let (Actor::Agent(a), true) = (actor, first_time) {
            self.state.parley.viewing(&a.user, id);
        }
        self.catch_up(actor, id).await?;
        let last = self.seqs.get(&id).copied().unwrap_or(0);
        self.send(json!({"type": "subscribed", "conversation_id": id, "last_seq": last}))
            .await;
        Ok(())
    }

    /// Sends every stored event after the last one this socket delivered.
    async fn catch_up(&mut self, actor: &Actor, id: ConversationId) -> Result<(), ApiError> {
        self.settle(id).await;
        loop {
            let Some(&last) = self.seqs.get(&id) else {
                return Ok(());
            };
            let events = self
                .state
                .parley
                .store
                .events_after(actor.workspace(), id, last, REPLAY_PAGE)
                .await
                .map_err(ServiceError::from)?;
            let n = events.len() as i64;
            for e in events {
                self.seqs.insert(id, e.seq);
                if !self.send_text(event_frame(actor, &e)).await {
                    return Ok(());
                }
            }
            if n < REPLAY_PAGE {
                return Ok(());
            }
        }
    }

    async fn send_message(
        &mut self,
        actor: &Actor,
        client_id: &str,
        conversation: Option<&str>,
        body: &str,
        attachment_ids: &[String],
        group: Option<&str>,
    ) -> Result<(), ApiError> {
        let group = match group {
            Some(g) => Some(GroupId::parse(g.trim()).ok_or_else(|| {
                ApiError::Validation("group_id is not one of this chat's options".into())
            })?),
            None => None,
        };
        let conversation = match conversation {
            Some(s) => Some(
                ConversationId::parse(s)
                    .ok_or_else(|| ApiError::NotFound("conversation not found".into()))?,
            ),
            None => None,
        };
        let ids = crate::routes::conversations::parse_attachment_ids(attachment_ids)?;
        let lane = match (actor, conversation) {
            (Actor::Agent(_), Some(id)) => Lane::Conversation(id),
            _ => Lane::Visitor,
        };
        let (state, actor, cid, body) = (
            self.state.clone(),
            actor.clone(),
            client_id.to_owned(),
            body.to_owned(),
        );
        let work = async move {
            let sent = state
                .parley
                .send_choosing(&actor, conversation, &cid, &body, &ids, group);
            sent.await.map_err(ApiError::from)
        };
        self.sends.push(lane, client_id.to_owned(), work.boxed());
        Ok(())
    }

    async fn on_bus(&mut self, actor: &Actor, topic: Topic, item: BusItem) -> Flow {
        let key = match &item {
            BusItem::Message(m) => match &**m {
                BusMessage::Event(e) if self.seqs.contains_key(&e.conversation_id) => {
                    Some(e.conversation_id)
                }
                _ => None,
            },
            _ => None,
        };
        if self.sends.must_hold(key) {
            self.sends.hold(key, topic, item);
            return Flow::Continue;
        }
        let msg = match item {
            BusItem::Message(m) => m,
            BusItem::Summary(s) => {
                let Actor::Agent(a) = actor else {
                    return Flow::Continue;
                };
                let frame = format!(
                    r#"{{"type":"inbox","conversation":{}}}"#,
                    s.json_for(a.user.id)
                );
                if !self.send_text(frame).await {
                    return Flow::Close(close::GOING_AWAY, "");
                }
                return Flow::Continue;
            }
            BusItem::Lagged => {
                match topic {
                    Topic::Conversation(id) => {
                        let _ = Box::pin(self.catch_up(actor, id)).await;
                    }
                    _ => {
                        self.send(json!({"type": "resync"})).await;
                    }
                }
                return Flow::Continue;
            }
        };
        let me = actor.sender().id;
        let frame = match (&*msg, actor) {
            (BusMessage::Event(e), _) => {
                let Some(&last) = self.seqs.get(&e.conversation_id) else {
                    return Flow::Continue;
                };
                if e.seq == last + 1 {
                    self.seqs.insert(e.conversation_id, e.seq);
                    return match self.send_text(event_frame(actor, e)).await {
                        true => Flow::Continue,
                        false => Flow::Close(close::GOING_AWAY, ""),
                    };
                } else {
                    if e.seq > last + 1 {
                        let _ = Box::pin(self.catch_up(actor, e.conversation_id)).await;
                    }
                    None
                }
            }
            (
                BusMessage::Typing {
                    conversation_id,
                    from,
                    typing,
                    draft,
                },
                _,
            ) if Some(from.id) != me => {
                let draft = if matches!(actor, Actor::Agent(_)) {
                    draft.clone()
                } else {
                    None
                };
                Some(
                    json!({"type": "typing", "conversation_id": conversation_id, "from": from, "typing": typing, "draft": draft}),
                )
            }
            (BusMessage::VisitorChanged { visitor_id }, Actor::Agent(a)) => {
                match self
                    .state
                    .parley
                    .visitor_of(a.user.workspace_id, *visitor_id)
                    .await
                {
                    Ok(Some(v)) => Some(json!({"type": "visitor", "visitor": v})),
                    _ => None,
                }
            }
            (BusMessage::AgentStatus { user_id, status }, Actor::Agent(_)) => {
                Some(json!({"type": "agent_status", "user_id": user_id, "status": status}))
            }
            (BusMessage::AgentsOnline(online), Actor::Visitor(_)) => {
                Some(json!({"type": "presence", "agents_online": online}))
            }
            (
                BusMessage::Viewers {
                    conversation_id,
                    viewers,
                },
                Actor::Agent(_),
            ) => Some(
                json!({"type": "viewers", "conversation_id": conversation_id, "viewers": viewers}),
            ),
            (
                BusMessage::Transfer {
                    conversation_id,
                    from,
                    note,
                },
                Actor::Agent(_),
            ) => Some(
                json!({"type": "transfer", "conversation_id": conversation_id, "from": from, "note": note}),
            ),
            (
                BusMessage::Mention {
                    conversation_id,
                    event,
                },
                Actor::Agent(_),
            ) => {
                Some(json!({"type": "mention", "conversation_id": conversation_id, "event": event}))
            }
            (
                BusMessage::LeaveMessage {
                    conversation_id,
                    waited_secs,
                },
                Actor::Visitor(_),
            ) => Some(
                json!({"type": "leave_message", "conversation_id": conversation_id, "waited_secs": waited_secs}),
            ),
            (
                BusMessage::QueuePosition {
                    conversation_id,
                    position,
                },
                Actor::Visitor(_),
            ) => Some(
                json!({"type": "queue", "conversation_id": conversation_id, "position": position}),
            ),
            (
                BusMessage::VisitorConversation {
                    conversation_id,
                    status,
                    last_seq,
                },
                Actor::Visitor(_),
            ) => Some(
                json!({"type": "conversation", "conversation": {"id": conversation_id, "status": status, "last_seq": last_seq}}),
            ),
            _ => None,
        };
        if let Some(f) = frame {
            if !self.send(f).await {
                return Flow::Close(close::GOING_AWAY, "");
            }
        }
        Flow::Continue
    }
}

/// A returning visitor's current conversation and, while it waits, its place in the queue.
async fn current_conversation_frames(
    state: &AppState,
    ws: WorkspaceId,
    visitor: VisitorId,
) -> Vec<Value> {
    let parley = &state.parley;
    let Ok(Some(c)) = parley.store.current_conversation(ws, visitor).await else {
        return Vec::new();
    };
    let mut frames = vec![
        json!({"type": "conversation", "conversation": {"id": c.id, "status": c.status, "last_seq": c.last_seq}}),
    ];
    if let Some(position) = parley.queue_position(ws, &c).await {
        frames.push(json!({"type": "queue", "conversation_id": c.id, "position": position}));
    }
    frames
}
