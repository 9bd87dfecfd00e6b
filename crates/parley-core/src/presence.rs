//! Who is connected right now. Agents count as online while at least one of their sockets is
//! open and their chosen status is "online".
//!
//! Each node counts its own sockets. With several nodes, every node announces its connected
//! agents on the bus when they change and every few seconds ([`ANNOUNCE_EVERY_MS`]); what the
//! others announced counts until it is [`REMOTE_TTL_MS`] old, so a crashed node's agents drop
//! out within that time.

use dashmap::DashMap;
use parley_domain::routing::Availability;
use parley_domain::{
    now_millis, AgentStatus, ConversationId, Millis, UserId, UserRef, WorkspaceId,
};
use std::collections::HashMap;

/// How often a node repeats its announcement.
pub const ANNOUNCE_EVERY_MS: i64 = 5_000;
/// How long another node's announcement counts without being repeated.
pub const REMOTE_TTL_MS: i64 = 15_000;
/// How often announcements older than [`REMOTE_TTL_MS`] are looked for.
pub const EXPIRE_EVERY_MS: u64 = 1_000;

/// Agents connected to one node, as that node announced them.
type Snapshot = Vec<(UserId, AgentStatus)>;

#[derive(Default)]
pub struct Presence {
    /// Other nodes' agents: (node, workspace) → (agents, when we heard it).
    remote: DashMap<(uuid::Uuid, WorkspaceId), (Snapshot, Millis)>,
    agents: DashMap<(WorkspaceId, UserId), (usize, AgentStatus)>,
    /// When an agent's last socket closed, until their conversations have been handed on.
    offline_since: DashMap<(WorkspaceId, UserId), Millis>,
    /// Who has each conversation open (agents, with a count of their sockets on it).
    viewers: DashMap<ConversationId, Vec<(UserRef, usize)>>,
}

/// What a change did to the workspace, so the caller can tell the right listeners.
#[derive(Debug, PartialEq, Eq)]
pub struct PresenceChange {
    pub user_status: Option<&'static str>,
    pub agents_online_changed: bool,
}

impl Presence {
    /// Whether a visitor can expect an answer: someone is signed in and not away.
    pub fn agents_online(&self, ws: WorkspaceId) -> bool {
        self.agents
            .iter()
            .any(|e| e.key().0 == ws && e.value().0 > 0 && e.value().1 != AgentStatus::Away)
            || self.remote_agents(ws).any(|(_, s)| s != AgentStatus::Away)
    }

    fn remote_agents(&self, ws: WorkspaceId) -> impl Iterator<Item = (UserId, AgentStatus)> {
        let fresh = now_millis() - REMOTE_TTL_MS;
        let found: Vec<_> = self
            .remote
            .iter()
            .filter(|e| e.key().1 == ws && e.value().1 > fresh)
            .flat_map(|e| e.value().0.clone())
            .collect();
        found.into_iter()
    }

    /// This node's connected agents in `ws`, to announce to the others.
    pub fn local_snapshot(&self, ws: WorkspaceId) -> Snapshot {
        self.agents
            .iter()
            .filter(|e| e.key().0 == ws && e.value().0 > 0)
            .map(|e| (e.key().1, e.value().1))
            .collect()
    }

    /// Workspaces with agents connected to this node.
    pub fn local_workspaces(&self) -> Vec<WorkspaceId> {
        let mut ws: Vec<_> = self.agents.iter().map(|e| e.key().0).collect();
        ws.sort();
        ws.dedup();
        ws
    }

    /// Takes another node's announcement; true if it changed whether agents are online.
    pub fn apply_remote(&self, node: uuid::Uuid, ws: WorkspaceId, agents: Snapshot) -> bool {
        let before = self.agents_online(ws);
        self.remote.insert((node, ws), (agents, now_millis()));
        before != self.agents_online(ws)
    }

    /// Forgets announcements that were not repeated in time (their node is gone). Returns the
    /// workspaces whose "agents online" changed; agents now connected nowhere start their
    /// offline grace period here, so their conversations are handed on.
    pub fn expire_remote(&self) -> Vec<WorkspaceId> {
        let stale = now_millis() - REMOTE_TTL_MS;
        let gone: Vec<_> = self
            .remote
            .iter()
            .filter(|e| e.value().1 <= stale)
            .map(|e| (*e.key(), e.value().0.clone()))
            .collect();
        let mut changed = Vec::new();
        for ((node, ws), agents) in gone {
            let before =
                self.agents_online(ws) || agents.iter().any(|(_, s)| *s != AgentStatus::Away);
            self.remote.remove(&(node, ws));
            let here = self.availability(ws);
            for (user, _) in agents {
                if !here.contains_key(&user) {
                    self.offline_since
                        .entry((ws, user))
                        .or_insert_with(now_millis);
                }
            }
            if before != self.agents_online(ws) {
                changed.push(ws);
            }
        }
        changed
    }

    /// What routing may count on, per connected agent of the workspace.
    pub fn availability(&self, ws: WorkspaceId) -> HashMap<UserId, Availability> {
        let local = self
            .agents
            .iter()
            .filter(|e| e.key().0 == ws && e.value().0 > 0)
            .map(|e| (e.key().1, e.value().1))
            .collect::<Vec<_>>();
        let mut out = HashMap::new();
        for (user, status) in local.into_iter().chain(self.remote_agents(ws)) {
            let a = match status {
                AgentStatus::Online => Availability::Online,
                AgentStatus::Busy => Availability::Busy,
                AgentStatus::Away => Availability::Away,
            };
            // Signed in on two nodes with different statuses: the most available one counts.
            let best = |x: Availability| match x {
                Availability::Online => 0,
                Availability::Busy => 1,
                Availability::Away => 2,
                Availability::Offline => 3,
            };
            out.entry(user)
                .and_modify(|cur: &mut Availability| {
                    if best(a) < best(*cur) {
                        *cur = a
                    }
                })
                .or_insert(a);
        }
        out
    }

    /// Agents offline for longer than `grace_ms`; each is reported once.
    pub fn take_offline_longer_than(&self, grace_ms: i64) -> Vec<(WorkspaceId, UserId)> {
        let cutoff = now_millis() - grace_ms;
        let gone: Vec<_> = self
            .offline_since
            .iter()
            .filter(|e| *e.value() <= cutoff)
            .map(|e| *e.key())
            .collect();
        gone.into_iter()
            .filter(|k| {
                self.offline_since
                    .remove_if(k, |_, t| *t <= cutoff)
                    .is_some()
            })
            .collect()
    }

    /// The status a colleague sees: offline without sockets.
    pub fn status_of(&self, ws: WorkspaceId, user: UserId) -> &'static str {
        match self.agents.get(&(ws, user)) {
            Some(e) if e.0 > 0 => e.1.as_str(),
            _ => self
                .remote_agents(ws)
                .find(|(u, _)| *u == user)
                .map_or("offline", |(_, s)| s.as_str()),
        }
    }

    fn change(
        &self,
        ws: WorkspaceId,
        user: UserId,
        f: impl FnOnce(&mut (usize, AgentStatus)),
    ) -> PresenceChange {
        let before_online = self.agents_online(ws);
        let before = self.status_of(ws, user);
        {
            let mut e = self
                .agents
                .entry((ws, user))
                .or_insert((0, AgentStatus::Online));
            f(&mut e);
        }
        self.agents.remove_if(&(ws, user), |_, v| v.0 == 0);
        let after = self.status_of(ws, user);
        PresenceChange {
            user_status: (before != after).then_some(after),
            agents_online_changed: before_online != self.agents_online(ws),
        }
    }

    pub fn connect(&self, ws: WorkspaceId, user: UserId, status: AgentStatus) -> PresenceChange {
        self.offline_since.remove(&(ws, user));
        self.change(ws, user, |e| {
            e.0 += 1;
            e.1 = status;
        })
    }

    /// An agent's last socket here closed; if they are connected to another node, they are not
    /// offline.
    pub fn disconnect(&self, ws: WorkspaceId, user: UserId) -> PresenceChange {
        let change = self.change(ws, user, |e| e.0 = e.0.saturating_sub(1));
        if change.user_status == Some("offline") {
            self.offline_since.insert((ws, user), now_millis());
        }
        change
    }

    pub fn set_status(&self, ws: WorkspaceId, user: UserId, status: AgentStatus) -> PresenceChange {
        if !self.agents.contains_key(&(ws, user)) {
            return PresenceChange {
                user_status: None,
                agents_online_changed: false,
            };
        }
        self.change(ws, user, |e| e.1 = status)
    }

    /// An agent opened a conversation; returns who is viewing it now.
    pub fn view(&self, conv: ConversationId, who: &UserRef) -> Vec<UserRef> {
        let mut e = self.viewers.entry(conv).or_default();
        match e.iter_mut().find(|(u, _)| u.id == who.id) {
            Some((_, n)) => *n += 1,
            None => e.push((who.clone(), 1)),
        }
        e.iter().map(|(u, _)| u.clone()).collect()
    }

    /// An agent closed a conversation; returns who is still viewing it.
    pub fn unview(&self, conv: ConversationId, who: UserId) -> Vec<UserRef> {
        let left = match self.viewers.get_mut(&conv) {
            Some(mut e) => {
                if let Some(i) = e.iter().position(|(u, _)| u.id == who) {
                    e[i].1 -= 1;
                    if e[i].1 == 0 {
                        e.remove(i);
                    }
                }
                e.iter().map(|(u, _)| u.clone()).collect()
            }
            None => vec![],
        };
        self.viewers.remove_if(&conv, |_, v| v.is_empty());
        left
    }

    pub fn connected_sockets(&self) -> usize {
        self.agents.iter().map(|e| e.value().0).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn online_needs_a_socket_and_the_online_status() {
        let p = Presence::default();
        let (w, a) = (WorkspaceId::new(), UserId::new());
        assert!(!p.agents_online(w));
        let c = p.connect(w, a, AgentStatus::Online);
        assert_eq!(
            c,
            PresenceChange {
                user_status: Some("online"),
                agents_online_changed: true
            }
        );
        assert_eq!(
            p.connect(w, a, AgentStatus::Online).agents_online_changed,
            false
        );
        assert!(
            !p.set_status(w, a, AgentStatus::Busy).agents_online_changed,
            "busy agents still answer"
        );
        assert_eq!(p.availability(w)[&a], Availability::Busy);
        assert!(p.set_status(w, a, AgentStatus::Away).agents_online_changed);
        assert!(!p.agents_online(w));
        p.set_status(w, a, AgentStatus::Online);
        p.disconnect(w, a);
        assert!(p.agents_online(w), "second socket still open");
        let c = p.disconnect(w, a);
        assert_eq!(c.user_status, Some("offline"));
        assert!(!p.agents_online(w));
        assert!(p.availability(w).is_empty());
        assert_eq!(p.take_offline_longer_than(0), vec![(w, a)]);
        assert!(p.take_offline_longer_than(0).is_empty(), "reported once");
        p.connect(w, a, AgentStatus::Online);
        p.disconnect(w, a);
        assert!(
            p.take_offline_longer_than(60_000).is_empty(),
            "still within the grace period"
        );
        assert!(!p.agents_online(WorkspaceId::new()));
    }

    #[test]
    fn other_nodes_count_until_their_announcements_expire() {
        let p = Presence::default();
        let (w, a, b) = (WorkspaceId::new(), UserId::new(), UserId::new());
        let node = uuid::Uuid::now_v7();
        assert!(p.apply_remote(
            node,
            w,
            vec![(a, AgentStatus::Busy), (b, AgentStatus::Away)]
        ));
        assert!(p.agents_online(w));
        assert_eq!(p.availability(w)[&a], Availability::Busy);
        assert_eq!(p.status_of(w, b), "away");
        // Signed in here as well, online: the better status counts.
        p.connect(w, a, AgentStatus::Online);
        assert_eq!(p.availability(w)[&a], Availability::Online);
        // Their last socket here closes, but they are still on the other node: not offline.
        assert_eq!(p.disconnect(w, a).user_status, Some("busy"));
        assert!(p.take_offline_longer_than(0).is_empty());
        assert_eq!(p.local_snapshot(w), vec![]);
        // The other node stops announcing: its agents drop out and start their grace period.
        p.remote.alter(&(node, w), |_, (s, _)| {
            (s, now_millis() - REMOTE_TTL_MS - 1)
        });
        assert_eq!(p.expire_remote(), vec![w]);
        assert!(!p.agents_online(w));
        assert!(p.availability(w).is_empty());
        let mut offline = p.take_offline_longer_than(0);
        offline.sort();
        let mut want = vec![(w, a), (w, b)];
        want.sort();
        assert_eq!(offline, want);
    }
}
