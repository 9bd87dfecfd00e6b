//! The messages a socket is storing. A `send` frame no longer stops the socket until its commit:
//! the store works on it in a task of its own while the socket goes on delivering. Sends keep
//! their order where order matters — one conversation's sends are stored one after the other,
//! in the order they came, and a visitor's (whose first send may start the conversation) are
//! strictly one at a time — while an agent's sends to different conversations are stored
//! together, in one group commit. Each send runs to its end even if the socket closes, so a
//! stored message is always published.
//!
//! Clients rely on seeing the ack of their own message before its event, so the socket holds a
//! conversation's events while one of its sends to that conversation is in flight (see `Conn`).
//! A visitor's socket holds everything while its send is in flight, as when sends were awaited
//! inline: the `conversation` and `queue` frames a first message causes come after its ack.

use crate::error::ApiError;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use parley_core::bus::{BusItem, Topic};
use parley_core::ports::Appended;
use parley_domain::ConversationId;
use std::collections::{HashMap, HashSet, VecDeque};

/// Sends a socket may have waiting or in flight; past this it stops reading the client's frames
/// until one is done (back-pressure instead of an unbounded queue).
pub const MAX_PENDING: usize = 64;

/// What must be stored one after the other.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Lane {
    /// A visitor's sends: strictly in order, whatever the conversation.
    Visitor,
    /// An agent's sends to one conversation.
    Conversation(ConversationId),
}

pub struct Done {
    pub lane: Lane,
    pub client_id: String,
    /// Boxed: a `Done` is part of every socket's idle future.
    pub result: Result<Box<Appended>, ApiError>,
}

struct Job {
    lane: Lane,
    client_id: String,
    work: BoxFuture<'static, Result<Appended, ApiError>>,
}

#[derive(Default)]
pub struct Sends {
    /// Made on the first send: most visitor sockets never send, and an empty one is two
    /// allocations.
    in_flight: Option<FuturesUnordered<BoxFuture<'static, Done>>>,
    busy: HashSet<Lane>,
    waiting: VecDeque<Job>,
    /// Bus items held back until the sends they must follow are acknowledged, in arrival order:
    /// a subscribed conversation's events (`Some`), or anything while a visitor's send runs.
    held: VecDeque<(Option<ConversationId>, Topic, BusItem)>,
    /// How many held items have each key (`None`: anything held while a visitor's send ran),
    /// so that `must_hold` does not walk `held` for every bus item. Under overload `held`
    /// grows to thousands, and walking it per item made delivery fall further behind.
    held_keys: HashMap<Option<ConversationId>, usize>,
    /// A lane was freed since `releasable` last looked: only then can a held item go.
    freed: bool,
}

impl Sends {
    /// Queues a send; it starts at once unless an earlier one of its lane is still running.
    pub fn push(
        &mut self,
        lane: Lane,
        client_id: String,
        work: BoxFuture<'static, Result<Appended, ApiError>>,
    ) {
        let job = Job {
            lane,
            client_id,
            work,
        };
        if self.busy.contains(&lane) {
            self.waiting.push_back(job);
        } else {
            self.start(job);
        }
    }

    fn start(&mut self, job: Job) {
        self.busy.insert(job.lane);
        let Job {
            lane,
            client_id,
            work,
        } = job;
        // Spawned, so a stored message is published even if this socket goes away meanwhile.
        let task = tokio::spawn(work);
        self.in_flight
            .get_or_insert_with(FuturesUnordered::new)
            .push(
                async move {
                    let result = task.await.unwrap_or_else(|e| {
                        Err(ApiError::Internal(anyhow::anyhow!(
                            "storing a message: {e}"
                        )))
                    });
                    Done {
                        lane,
                        client_id,
                        result: result.map(Box::new),
                    }
                }
                .boxed(),
            );
    }

    /// The next send to finish; pending forever when none is running (for `select!`).
    pub async fn next_done(&mut self) -> Done {
        // Not a `match`: its scrutinee would live across the `pending` await, and a `Done` in
        // every idle socket's future is most of its size.
        if let Some(done) = match &mut self.in_flight {
            Some(running) => running.next().await,
            None => None,
        } {
            self.finished(done.lane);
            return done;
        }
        std::future::pending().await
    }

    /// Frees the lane and starts the next send waiting on it.
    fn finished(&mut self, lane: Lane) {
        self.busy.remove(&lane);
        self.freed = true;
        if let Some(i) = self.waiting.iter().position(|j| j.lane == lane) {
            let job = self.waiting.remove(i).expect("index from position");
            self.start(job);
        }
    }

    pub fn running(&self) -> bool {
        self.in_flight.as_ref().is_some_and(|f| !f.is_empty())
    }

    pub fn has_room(&self) -> bool {
        self.in_flight.as_ref().map_or(0, |f| f.len()) + self.waiting.len() < MAX_PENDING
    }

    /// Whether a send that this conversation's events must follow is still unacknowledged.
    pub fn blocks(&self, conversation: ConversationId) -> bool {
        self.busy.contains(&Lane::Visitor) || self.busy.contains(&Lane::Conversation(conversation))
    }

    fn blocks_key(&self, key: Option<ConversationId>) -> bool {
        match key {
            Some(c) => self.blocks(c),
            None => self.busy.contains(&Lane::Visitor),
        }
    }

    /// Whether an item must wait (`key`: the subscribed conversation of an event, `None` for
    /// anything else): a send blocks it, or an earlier item it must follow is already waiting.
    pub fn must_hold(&self, key: Option<ConversationId>) -> bool {
        self.blocks_key(key)
            || self.held_keys.contains_key(&None)
            || (key.is_some() && self.held_keys.contains_key(&key))
    }

    pub fn hold(&mut self, key: Option<ConversationId>, topic: Topic, item: BusItem) {
        *self.held_keys.entry(key).or_default() += 1;
        self.held.push_back((key, topic, item));
    }

    /// The held items no send blocks any more, in arrival order. Called after every step of
    /// the socket's loop, so it returns at once unless a send finished since the last call.
    pub fn releasable(&mut self) -> Vec<(Topic, BusItem)> {
        if !std::mem::take(&mut self.freed) || self.held.is_empty() {
            return Vec::new();
        }
        // While a visitor's send runs everything waits.
        if self.busy.contains(&Lane::Visitor) {
            return Vec::new();
        }
        let held = std::mem::take(&mut self.held);
        let (ready, keep): (Vec<_>, Vec<_>) =
            held.into_iter().partition(|(k, _, _)| !self.blocks_key(*k));
        self.held = keep.into();
        for (k, _, _) in &ready {
            if let Some(n) = self.held_keys.get_mut(k) {
                *n -= 1;
                if *n == 0 {
                    self.held_keys.remove(k);
                }
            }
        }
        ready.into_iter().map(|(_, t, i)| (t, i)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::oneshot;

    /// A send that finishes (refused, which is all `Sends` needs) when the returned sender fires.
    fn send(sends: &mut Sends, lane: Lane) -> oneshot::Sender<()> {
        let (tx, rx) = oneshot::channel();
        let work = async move {
            let _ = rx.await;
            Err(ApiError::NotFound("test".into()))
        };
        sends.push(lane, "c".into(), work.boxed());
        tx
    }

    /// Held items are told apart by their topic.
    fn item(sends: &mut Sends, key: Option<ConversationId>, n: u128) -> bool {
        let topic = Topic::Conversation(ConversationId(uuid::Uuid::from_u128(n)));
        let held = sends.must_hold(key);
        if held {
            sends.hold(key, topic, BusItem::Lagged);
        }
        held
    }

    fn released(sends: &mut Sends) -> Vec<u128> {
        sends
            .releasable()
            .into_iter()
            .map(|(t, _)| match t {
                Topic::Conversation(c) => c.0.as_u128(),
                _ => unreachable!(),
            })
            .collect()
    }

    #[tokio::test]
    async fn an_agents_events_wait_for_the_ack_of_their_conversations_send_only() {
        let (a, b) = (ConversationId::new(), ConversationId::new());
        let mut sends = Sends::default();
        let done_a = send(&mut sends, Lane::Conversation(a));
        assert!(item(&mut sends, Some(a), 1));
        assert!(
            !item(&mut sends, Some(b), 2),
            "another conversation's event is not held"
        );
        assert!(
            !item(&mut sends, None, 3),
            "an inbox line is not held for an agent"
        );
        assert!(item(&mut sends, Some(a), 4));
        assert!(
            released(&mut sends).is_empty(),
            "nothing goes before the ack"
        );

        done_a.send(()).unwrap();
        sends.next_done().await;
        assert_eq!(released(&mut sends), vec![1, 4]);
        assert!(!sends.must_hold(Some(a)));
        assert!(released(&mut sends).is_empty());
    }

    #[tokio::test]
    async fn events_stay_behind_the_next_send_of_their_conversation() {
        let a = ConversationId::new();
        let mut sends = Sends::default();
        let first = send(&mut sends, Lane::Conversation(a));
        let second = send(&mut sends, Lane::Conversation(a));
        assert!(item(&mut sends, Some(a), 1));
        first.send(()).unwrap();
        sends.next_done().await;
        // The second send started as the first finished: its ack still comes first.
        assert!(released(&mut sends).is_empty());
        assert!(
            item(&mut sends, Some(a), 2),
            "a later event queues behind the held one"
        );
        second.send(()).unwrap();
        sends.next_done().await;
        assert_eq!(released(&mut sends), vec![1, 2]);
    }

    #[tokio::test]
    async fn a_visitor_gets_nothing_before_its_ack_then_everything_in_order() {
        let a = ConversationId::new();
        let mut sends = Sends::default();
        let done = send(&mut sends, Lane::Visitor);
        assert!(item(&mut sends, Some(a), 1));
        assert!(item(&mut sends, None, 2));
        assert!(item(&mut sends, Some(a), 3));
        assert!(released(&mut sends).is_empty());
        done.send(()).unwrap();
        sends.next_done().await;
        assert_eq!(released(&mut sends), vec![1, 2, 3]);
        assert!(!sends.must_hold(None));
        assert!(!sends.must_hold(Some(a)));
    }
}
