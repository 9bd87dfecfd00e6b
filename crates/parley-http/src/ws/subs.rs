//! A socket's bus subscriptions, merged into one stream of `(Topic, BusItem)`.
//!
//! A socket's own topics (its visitor or user, presence, the inbox) are few and fixed for its
//! life; they sit in a `StreamMap`, which is small but polls every stream it holds whenever the
//! socket wakes. Conversations are different: an agent's socket holds one per open
//! conversation, by the dozen, and polling each on every wake was a tenth of the runtime's time
//! at 10,000 msg/s (docs/benchmarks.md). They sit in a `SelectAll`, which polls only the
//! subscriptions that were woken, and which is created only once the socket subscribes to a
//! conversation, so an idle visitor's socket does not pay for it.

use futures::stream::{AbortHandle, Abortable, BoxStream, SelectAll};
use futures::{Stream, StreamExt};
use parley_core::bus::{BusItem, Topic};
use std::collections::HashMap;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio_stream::StreamMap;

type Feed = BoxStream<'static, BusItem>;

pub(super) struct Subscriptions {
    fixed: StreamMap<Topic, Feed>,
    conversations: Option<Box<Conversations>>,
    /// Which half is polled first, alternated so that neither starves the other.
    conversations_first: bool,
}

#[derive(Default)]
struct Conversations {
    feeds: SelectAll<BoxStream<'static, (Topic, BusItem)>>,
    /// Ending a subscription: its feed ends at its next poll, which the abort wakes.
    aborts: HashMap<Topic, AbortHandle>,
}

impl Subscriptions {
    /// Room for `fixed` topics of the socket's own.
    pub(super) fn with_capacity(fixed: usize) -> Self {
        Subscriptions {
            fixed: StreamMap::with_capacity(fixed),
            conversations: None,
            conversations_first: false,
        }
    }

    /// Subscribes to `topic`, replacing an earlier subscription to it.
    pub(super) fn insert(&mut self, topic: Topic, feed: Feed) {
        let Topic::Conversation(_) = topic else {
            self.fixed.insert(topic, feed);
            return;
        };
        let c = self.conversations.get_or_insert_with(Box::default);
        let (abort, registration) = AbortHandle::new_pair();
        if let Some(earlier) = c.aborts.insert(topic, abort) {
            earlier.abort();
        }
        let feed = feed.map(move |item| (topic, item));
        c.feeds.push(Abortable::new(feed, registration).boxed());
    }

    pub(super) fn remove(&mut self, topic: &Topic) {
        self.fixed.remove(topic);
        if let Some(abort) = self
            .conversations
            .as_mut()
            .and_then(|c| c.aborts.remove(topic))
        {
            abort.abort();
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.fixed.is_empty()
            && self
                .conversations
                .as_ref()
                .is_none_or(|c| c.feeds.is_empty())
    }
}

impl Stream for Subscriptions {
    type Item = (Topic, BusItem);

    /// Pending, not ended, when there is nothing to poll: the socket guards with `is_empty`.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        this.conversations_first = !this.conversations_first;
        let next = match this.conversations_first {
            true => this.poll_conversations(cx).or_else(|| this.poll_fixed(cx)),
            false => this.poll_fixed(cx).or_else(|| this.poll_conversations(cx)),
        };
        next.map_or(Poll::Pending, |item| Poll::Ready(Some(item)))
    }
}

impl Subscriptions {
    fn poll_fixed(&mut self, cx: &mut Context<'_>) -> Option<(Topic, BusItem)> {
        match self.fixed.poll_next_unpin(cx) {
            Poll::Ready(item) => item,
            Poll::Pending => None,
        }
    }

    fn poll_conversations(&mut self, cx: &mut Context<'_>) -> Option<(Topic, BusItem)> {
        match self.conversations.as_mut()?.feeds.poll_next_unpin(cx) {
            Poll::Ready(item) => item,
            Poll::Pending => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;
    use parley_domain::{ConversationId, WorkspaceId};
    use tokio::sync::mpsc;
    use tokio_stream::wrappers::UnboundedReceiverStream;

    fn feed() -> (mpsc::UnboundedSender<BusItem>, Feed) {
        let (tx, rx) = mpsc::unbounded_channel();
        (tx, UnboundedReceiverStream::new(rx).boxed())
    }

    fn next(s: &mut Subscriptions) -> Option<Topic> {
        s.next().now_or_never().flatten().map(|(t, _)| t)
    }

    #[tokio::test]
    async fn items_come_with_their_topic_and_end_with_their_subscription() {
        let mut s = Subscriptions::with_capacity(1);
        let inbox = Topic::Inbox(WorkspaceId::new());
        let (a, b) = (
            Topic::Conversation(ConversationId::new()),
            Topic::Conversation(ConversationId::new()),
        );
        let (inbox_tx, f) = feed();
        s.insert(inbox, f);
        let (a_tx, f) = feed();
        s.insert(a, f);
        let (b_tx, f) = feed();
        s.insert(b, f);
        assert_eq!(next(&mut s), None, "nothing sent yet");

        b_tx.send(BusItem::Lagged).unwrap();
        assert_eq!(next(&mut s), Some(b));
        inbox_tx.send(BusItem::Lagged).unwrap();
        assert_eq!(next(&mut s), Some(inbox));

        s.remove(&a);
        a_tx.send(BusItem::Lagged).unwrap();
        assert_eq!(next(&mut s), None, "an ended subscription delivers nothing");
        assert!(a_tx.is_closed(), "and lets go of its feed");

        // Subscribing again replaces the feed: only the new one delivers.
        let (b2_tx, f) = feed();
        s.insert(b, f);
        b_tx.send(BusItem::Lagged).unwrap();
        assert_eq!(next(&mut s), None);
        b2_tx.send(BusItem::Lagged).unwrap();
        assert_eq!(next(&mut s), Some(b));
        assert!(!s.is_empty());
    }
}
