//! Fan-out of live happenings to connected sockets. The database is the record; the bus only
//! says "look, something happened". A subscriber that falls behind is told so (`Lagged`) and
//! must re-read from the store, which is why losing a bus message never loses data.

use futures::stream::BoxStream;
use futures::StreamExt;
use parley_domain::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::broadcast;
use tokio_stream_shim::BroadcastStream;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Topic {
    /// Events and typing of one conversation.
    Conversation(ConversationId),
    /// Conversation changes and colleagues' status, for the agents of a workspace.
    Inbox(WorkspaceId),
    /// Things a visitor's sockets need to know (a conversation started in another tab).
    Visitor(VisitorId),
    /// Whether any agent of a workspace is online, for its visitors.
    Presence(WorkspaceId),
    /// Things for one agent only: transfers to them, mentions.
    User(UserId),
    /// Between nodes: presence announcements.
    Cluster,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TypingFrom {
    pub kind: SenderKind,
    pub id: uuid::Uuid,
    pub name: Option<String>,
}

/// Serializable so that a cross-node bus can carry it (see `parley-bus-redis`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum BusMessage {
    Event(Event),
    Typing {
        conversation_id: ConversationId,
        from: TypingFrom,
        typing: bool,
        draft: Option<String>,
    },
    ConversationChanged {
        conversation_id: ConversationId,
    },
    VisitorConversation {
        conversation_id: ConversationId,
        status: ConversationStatus,
        last_seq: i64,
    },
    VisitorChanged {
        visitor_id: VisitorId,
    },
    AgentsOnline(bool),
    AgentStatus {
        user_id: UserId,
        status: String,
    },
    /// A colleague handed this agent a conversation.
    Transfer {
        conversation_id: ConversationId,
        from: UserRef,
        note: Option<String>,
    },
    /// A colleague mentioned this agent in an internal note.
    Mention {
        conversation_id: ConversationId,
        event: Event,
    },
    /// The agents who have a conversation open right now.
    Viewers {
        conversation_id: ConversationId,
        viewers: Vec<UserRef>,
    },
    /// The visitor waited too long: offer to leave a message (the conversation stays queued).
    LeaveMessage {
        conversation_id: ConversationId,
        waited_secs: i64,
    },
    /// A visitor's place in the queue; `None` once they are out of it.
    QueuePosition {
        conversation_id: ConversationId,
        position: Option<usize>,
    },
    /// The agents connected to one node (see `presence`).
    PresenceSnapshot {
        node: uuid::Uuid,
        workspace_id: WorkspaceId,
        agents: Vec<(UserId, AgentStatus)>,
    },
    /// Between nodes: a workspace's flows, routing rules, hours or auto-replies were saved
    /// (see `settings_cache`).
    SettingsChanged {
        workspace_id: WorkspaceId,
    },
    /// Messages may have been missed (e.g. the link between nodes broke): every subscriber
    /// sees [`BusItem::Lagged`] and re-reads what it shows from the store.
    Resync,
}

#[derive(Debug, Clone)]
pub enum BusItem {
    Message(Arc<BusMessage>),
    /// Some messages were dropped for this subscriber; re-read state from the store.
    Lagged,
    /// An inbox line read once for every agent socket of this node (never crosses nodes;
    /// see `inbox_feed`).
    Summary(Arc<crate::inbox_feed::SharedSummary>),
}

pub trait Bus: Send + Sync + 'static {
    fn publish(&self, topic: Topic, msg: BusMessage);
    fn subscribe(&self, topic: Topic) -> BoxStream<'static, BusItem>;
}

impl LocalBus {
    /// Tells every current subscriber that it may have missed messages.
    pub fn resync_all(&self) {
        for tx in self.topics.iter() {
            let _ = tx.value().send(Arc::new(BusMessage::Resync));
        }
    }
}

/// The single-node bus: one broadcast channel per topic with subscribers.
pub struct LocalBus {
    topics: dashmap::DashMap<Topic, broadcast::Sender<Arc<BusMessage>>>,
    capacity: usize,
}

impl LocalBus {
    pub fn new(capacity: usize) -> Self {
        LocalBus {
            topics: dashmap::DashMap::new(),
            capacity,
        }
    }
}

impl LocalBus {
    /// A broadcast channel allocates all its slots up front (~40 bytes each), and every visitor
    /// socket has a topic of its own: at 1,024 slots that was most of an idle socket's memory.
    /// Topics of one visitor, agent or conversation carry a few messages at a time (a
    /// subscriber that falls behind re-reads from the store), workspace-wide ones many.
    fn capacity_for(&self, topic: Topic) -> usize {
        let cap = match topic {
            Topic::Visitor(_) | Topic::User(_) => 32,
            Topic::Conversation(_) => 128,
            Topic::Inbox(_) | Topic::Presence(_) | Topic::Cluster => self.capacity,
        };
        cap.min(self.capacity)
    }
}

impl Bus for LocalBus {
    fn publish(&self, topic: Topic, msg: BusMessage) {
        let gone = match self.topics.get(&topic) {
            Some(tx) => tx.send(Arc::new(msg)).is_err(),
            None => false,
        };
        if gone {
            // Nobody listens any more; drop the channel unless someone subscribed meanwhile.
            self.topics
                .remove_if(&topic, |_, tx| tx.receiver_count() == 0);
        }
    }

    fn subscribe(&self, topic: Topic) -> BoxStream<'static, BusItem> {
        let rx = self
            .topics
            .entry(topic)
            .or_insert_with(|| broadcast::channel(self.capacity_for(topic)).0)
            .subscribe();
        BroadcastStream::new(rx).boxed()
    }
}

/// A broadcast receiver as a stream, mapping lag to [`BusItem::Lagged`].
mod tokio_stream_shim {
    use super::*;
    pub struct BroadcastStream;
    impl BroadcastStream {
        #[allow(clippy::new_ret_no_self)]
        pub fn new(
            rx: broadcast::Receiver<Arc<BusMessage>>,
        ) -> impl futures::Stream<Item = BusItem> + Send {
            futures::stream::unfold(rx, |mut rx| async move {
                match rx.recv().await {
                    Ok(m) if matches!(*m, BusMessage::Resync) => Some((BusItem::Lagged, rx)),
                    Ok(m) => Some((BusItem::Message(m), rx)),
                    Err(broadcast::error::RecvError::Lagged(_)) => Some((BusItem::Lagged, rx)),
                    Err(broadcast::error::RecvError::Closed) => None,
                }
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn delivers_to_subscribers_of_the_topic_only_and_reports_lag() {
        let bus = LocalBus::new(2);
        let w = WorkspaceId::new();
        let mut a = bus.subscribe(Topic::Presence(w));
        let mut other = bus.subscribe(Topic::Presence(WorkspaceId::new()));
        bus.publish(Topic::Presence(w), BusMessage::AgentsOnline(true));
        assert!(
            matches!(a.next().await, Some(BusItem::Message(m)) if matches!(*m, BusMessage::AgentsOnline(true)))
        );
        for _ in 0..5 {
            bus.publish(Topic::Presence(w), BusMessage::AgentsOnline(false));
        }
        assert!(matches!(a.next().await, Some(BusItem::Lagged)));
        let nothing =
            tokio::time::timeout(std::time::Duration::from_millis(50), other.next()).await;
        assert!(nothing.is_err());
    }
}

#[cfg(test)]
mod resync_tests {
    use super::*;

    #[tokio::test]
    async fn resync_reaches_every_subscriber_as_lag() {
        let bus = LocalBus::new(8);
        let mut a = bus.subscribe(Topic::Inbox(WorkspaceId::new()));
        let mut b = bus.subscribe(Topic::User(UserId::new()));
        bus.resync_all();
        assert!(matches!(a.next().await, Some(BusItem::Lagged)));
        assert!(matches!(b.next().await, Some(BusItem::Lagged)));
    }

    #[test]
    fn messages_survive_the_wire() {
        let e = Event {
            id: EventId::new(),
            workspace_id: WorkspaceId::new(),
            conversation_id: ConversationId::new(),
            seq: 3,
            kind: EventKind::Assignment,
            created_at: 1_763_790_000_123,
            sender: Sender {
                kind: SenderKind::System,
                id: None,
                name: None,
                avatar_url: None,
            },
            client_id: None,
            body: None,
            attachments: vec![],
            status: None,
            assignee: Some(UserRef {
                id: UserId::new(),
                name: "安娜".into(),
                avatar_url: None,
            }),
            note: Some("请财务处理".into()),
            reason: vec![Reason::NoRoom],
            buttons: vec![Button {
                label: "转人工".into(),
                url: None,
            }],
        };
        let json = serde_json::to_string(&BusMessage::Event(e.clone())).unwrap();
        match serde_json::from_str::<BusMessage>(&json).unwrap() {
            BusMessage::Event(mut back) => {
                back.workspace_id = e.workspace_id; // carried beside the event on the wire
                assert_eq!(back, e);
            }
            other => panic!("{other:?}"),
        }
    }
}
