//! Who is connected right now. Agents count as online while at least one of their sockets is
//! open and their chosen status is "online". Single-node state; the multi-node version keeps
//! the same interface on a shared store with expiry.

use dashmap::DashMap;
use parley_domain::routing::Availability;
use parley_domain::{
    now_millis, AgentStatus, ConversationId, Millis, UserId, UserRef, WorkspaceId,
};
use std::collections::HashMap;

#[derive(Default)]
pub struct Presence {
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
    }

    /// What routing may count on, per connected agent of the workspace.
    pub fn availability(&self, ws: WorkspaceId) -> HashMap<UserId, Availability> {
        self.agents
            .iter()
            .filter(|e| e.key().0 == ws && e.value().0 > 0)
            .map(|e| {
                let a = match e.value().1 {
                    AgentStatus::Online => Availability::Online,
                    AgentStatus::Busy => Availability::Busy,
                    AgentStatus::Away => Availability::Away,
                };
                (e.key().1, a)
            })
            .collect()
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
            _ => "offline",
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
}
