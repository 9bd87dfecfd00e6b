//! Each node keeps the workspace settings a visitor's message consults (guided flows, keyword
//! routing rules, business hours, compiled auto-replies) in memory, so a message reads none of
//! them from the store.
//!
//! Freshness comes from the bus: whoever saves one of these settings drops this node's copy at
//! once and publishes [`BusMessage::SettingsChanged`](crate::bus::BusMessage) on the cluster
//! topic; every node drops its copy when that arrives, and drops everything when the bus says it
//! may have lost messages (`Lagged`, e.g. after a Redis reconnect). Entries also expire after
//! [`MAX_AGE`], which bounds staleness after a change made behind the servers' back (a script
//! writing to the database).
//!
//! A load that overlaps an invalidation must not store what it read before it: every
//! invalidation bumps an epoch, and a load stores its result only if the epoch it started
//! under is still current, checked under the map's lock for that workspace.

use crate::StoreResult;
use dashmap::DashMap;
use parley_domain::WorkspaceId;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long an entry may be used without having heard of a change.
pub const MAX_AGE: Duration = Duration::from_secs(30);

/// One kind of setting, per workspace.
pub struct Cached<T> {
    entries: DashMap<WorkspaceId, (T, Instant)>,
}

impl<T> Default for Cached<T> {
    fn default() -> Self {
        Cached {
            entries: DashMap::new(),
        }
    }
}

/// All kinds share one epoch: invalidations are rare, so a change to any workspace making
/// concurrent loads of others skip storing once costs nothing worth a finer scheme.
#[derive(Default)]
pub struct Epoch(AtomicU64);

impl<T: Clone> Cached<T> {
    /// The cached value, or `load`'s result (stored unless an invalidation overlapped it).
    pub async fn get_or_load<F, Fut>(
        &self,
        epoch: &Epoch,
        ws: WorkspaceId,
        load: F,
    ) -> StoreResult<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = StoreResult<T>>,
    {
        if let Some(e) = self.entries.get(&ws) {
            if e.1.elapsed() < MAX_AGE {
                return Ok(e.0.clone());
            }
        }
        let started = epoch.0.load(Ordering::Acquire);
        let value = load().await?;
        let entry = self.entries.entry(ws);
        if epoch.0.load(Ordering::Acquire) == started {
            entry.insert((value.clone(), Instant::now()));
        }
        Ok(value)
    }

    fn forget(&self, ws: WorkspaceId) {
        self.entries.remove(&ws);
    }

    fn clear(&self) {
        self.entries.clear();
    }
}

/// The settings a visitor's message consults.
#[derive(Default)]
pub struct SettingsCache {
    pub(crate) epoch: Epoch,
    pub(crate) flows: Cached<Arc<Vec<parley_domain::flow::Flow>>>,
    pub(crate) routing_rules: Cached<Arc<Vec<parley_domain::routing::RoutingRule>>>,
    pub(crate) hours: Cached<Option<Arc<parley_domain::WorkspaceHours>>>,
    pub(crate) auto_replies: Cached<Arc<crate::service_autoreply::BuiltRules>>,
}

impl SettingsCache {
    /// Drops what this node holds for `ws`.
    pub fn forget(&self, ws: WorkspaceId) {
        // Bump first: a load finishing between the bump and the removal sees the new epoch and
        // does not store; one storing before the bump is removed below.
        self.epoch.0.fetch_add(1, Ordering::AcqRel);
        self.flows.forget(ws);
        self.routing_rules.forget(ws);
        self.hours.forget(ws);
        self.auto_replies.forget(ws);
    }

    /// Whether this node holds compiled auto-replies of `ws` (for tests).
    pub fn holds_auto_replies(&self, ws: WorkspaceId) -> bool {
        self.auto_replies.entries.contains_key(&ws)
    }

    /// Drops everything (the bus may have lost a change).
    pub fn clear(&self) {
        self.epoch.0.fetch_add(1, Ordering::AcqRel);
        self.flows.clear();
        self.routing_rules.clear();
        self.hours.clear();
        self.auto_replies.clear();
    }
}

impl crate::Parley {
    /// Tells every node (this one at once) that a setting of `ws` changed.
    pub fn settings_changed(&self, ws: WorkspaceId) {
        self.settings.forget(ws);
        self.bus.publish(
            crate::bus::Topic::Cluster,
            crate::bus::BusMessage::SettingsChanged { workspace_id: ws },
        );
    }

    pub(crate) async fn cached_flows(
        &self,
        ws: WorkspaceId,
    ) -> StoreResult<Arc<Vec<parley_domain::flow::Flow>>> {
        let store = &self.store;
        let load = || async move { Ok(Arc::new(store.flows(ws).await?)) };
        self.settings
            .flows
            .get_or_load(&self.settings.epoch, ws, load)
            .await
    }

    pub(crate) async fn cached_routing_rules(
        &self,
        ws: WorkspaceId,
    ) -> StoreResult<Arc<Vec<parley_domain::routing::RoutingRule>>> {
        let store = &self.store;
        let load = || async move { Ok(Arc::new(store.list_rules(ws).await?)) };
        let cache = &self.settings.routing_rules;
        cache.get_or_load(&self.settings.epoch, ws, load).await
    }

    /// The workspace's business-hours settings; `None` when never saved.
    pub(crate) async fn cached_hours(
        &self,
        ws: WorkspaceId,
    ) -> StoreResult<Option<Arc<parley_domain::WorkspaceHours>>> {
        let store = &self.store;
        let load = || async move { Ok(store.workspace_hours(ws).await?.map(Arc::new)) };
        self.settings
            .hours
            .get_or_load(&self.settings.epoch, ws, load)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::Notify;

    #[tokio::test]
    async fn serves_from_memory_until_forgotten() {
        let cache = SettingsCache::default();
        let ws = WorkspaceId::new();
        let loads = AtomicU64::new(0);
        let load = || async {
            loads.fetch_add(1, Ordering::Relaxed);
            Ok(Arc::new(Vec::new()))
        };
        cache
            .flows
            .get_or_load(&cache.epoch, ws, load)
            .await
            .unwrap();
        cache
            .flows
            .get_or_load(&cache.epoch, ws, load)
            .await
            .unwrap();
        assert_eq!(loads.load(Ordering::Relaxed), 1);
        cache.forget(WorkspaceId::new()); // another workspace's change
        cache
            .flows
            .get_or_load(&cache.epoch, ws, load)
            .await
            .unwrap();
        assert_eq!(loads.load(Ordering::Relaxed), 1);
        cache.forget(ws);
        cache
            .flows
            .get_or_load(&cache.epoch, ws, load)
            .await
            .unwrap();
        assert_eq!(loads.load(Ordering::Relaxed), 2);
        cache.clear();
        cache
            .flows
            .get_or_load(&cache.epoch, ws, load)
            .await
            .unwrap();
        assert_eq!(loads.load(Ordering::Relaxed), 3);
    }

    #[tokio::test]
    async fn a_load_overlapping_an_invalidation_is_not_kept() {
        let cache = Arc::new(SettingsCache::default());
        let ws = WorkspaceId::new();
        let reading = Arc::new(Notify::new());
        let go_on = Arc::new(Notify::new());
        let slow = {
            let (cache, reading, go_on) = (cache.clone(), reading.clone(), go_on.clone());
            tokio::spawn(async move {
                cache
                    .hours
                    .get_or_load(&cache.epoch, ws, || async move {
                        reading.notify_one();
                        go_on.notified().await;
                        Ok(None) // what the store held before the save
                    })
                    .await
            })
        };
        reading.notified().await;
        cache.forget(ws); // the save lands while the old value is being read
        go_on.notify_one();
        assert!(slow.await.unwrap().unwrap().is_none());
        let fresh = Arc::new(parley_domain::WorkspaceHours::default());
        let got = cache
            .hours
            .get_or_load(&cache.epoch, ws, || {
                let fresh = fresh.clone();
                async move { Ok(Some(fresh)) }
            })
            .await
            .unwrap();
        assert!(got.is_some(), "the stale read was kept in the cache");
    }
}
