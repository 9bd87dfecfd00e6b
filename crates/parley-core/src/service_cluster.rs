//! What keeps several nodes in agreement beyond the database: presence announcements, and word
//! of changed settings for the nodes' caches (see `settings_cache`).

use crate::bus::{BusItem, BusMessage, Topic};
use crate::presence::{ANNOUNCE_EVERY_MS, EXPIRE_EVERY_MS};
use crate::service::Parley;
use futures::StreamExt;
use parley_domain::WorkspaceId;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

impl Parley {
    /// Tells the other nodes which agents of `ws` are connected here.
    pub fn announce_snapshot(&self, ws: WorkspaceId) {
        self.bus.publish(
            Topic::Cluster,
            BusMessage::PresenceSnapshot {
                node: self.node,
                workspace_id: ws,
                agents: self.presence.local_snapshot(ws),
            },
        );
    }

    fn announce_all(&self) {
        for ws in self.presence.local_workspaces() {
            self.announce_snapshot(ws);
        }
    }

    fn agents_online_changed(&self, ws: WorkspaceId) {
        self.bus.publish(
            Topic::Presence(ws),
            BusMessage::AgentsOnline(self.presence.agents_online(ws)),
        );
    }

    /// Until shutdown: takes the other nodes' announcements, repeats this node's, forgets
    /// nodes that went quiet, and drops cached settings that changed. Harmless on a single node
    /// (nobody else announces; a save there already dropped its cache).
    pub async fn run_presence(&self, shutdown: CancellationToken) {
        let mut heard = self.bus.subscribe(Topic::Cluster);
        let mut tick = tokio::time::interval(Duration::from_millis(ANNOUNCE_EVERY_MS as u64));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Expiry runs more often than announcements, so that open widgets learn of a crashed
        // node's agents going away about when a fresh page load (which filters by age) does.
        let mut expiry = tokio::time::interval(Duration::from_millis(EXPIRE_EVERY_MS));
        expiry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => self.announce_all(),
                _ = expiry.tick() => {
                    for ws in self.presence.expire_remote() {
                        self.agents_online_changed(ws);
                    }
                }
                item = heard.next() => match item {
                    Some(BusItem::Message(m)) => match &*m {
                        BusMessage::PresenceSnapshot { node, workspace_id, agents } => {
                            if *node != self.node
                                && self.presence.apply_remote(*node, *workspace_id, agents.clone())
                            {
                                self.agents_online_changed(*workspace_id);
                            }
                        }
                        BusMessage::SettingsChanged { workspace_id } => {
                            self.settings.forget(*workspace_id)
                        }
                        _ => {}
                    },
                    // A settings change may be among what was missed, and the others may have
                    // missed our announcements too.
                    Some(BusItem::Lagged) => {
                        self.settings.clear();
                        self.announce_all();
                    }
                    Some(BusItem::Summary(_)) => {}
                    None => return,
                }
            }
        }
    }
}
