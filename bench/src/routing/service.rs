//! The real thing: `parley_core::Parley` over a real store, driven through the same service
//! methods the HTTP layer calls. The decisions are read off the bus (the service publishes every
//! routing event it committed), and the checks read the store.

use super::sim::{Decision, Engine, Expect, Outcome, Snapshot};
use super::workload::{Workload, SKILLS};
use anyhow::{bail, Context, Result};
use futures::stream::BoxStream;
use futures::{stream, StreamExt, TryStreamExt};
use parley_core::bus::{Bus, BusItem, BusMessage, Topic};
use parley_core::files::Files;
use parley_core::ports::{ConversationQuery, Store, View};
use parley_core::service::{Agent, ChannelInput, VisitorActor};
use parley_core::service_routing::{GroupInput, RuleInput};
use parley_core::{Actor, Config, Parley};
use parley_domain::*;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ADMIN_EMAIL: &str = "bench-admin@bench.example";
const ADMIN_PASSWORD: &str = "bench admin password 42";
/// Wall-clock gap kept between two disconnects (see `before_step`).
const DISCONNECT_GAP_MS: Millis = 10;

enum Seen {
    Assigned(ConversationId, UserId),
    Queued(ConversationId),
}

/// A bus that remembers the routing events the service published, with when.
#[derive(Default)]
struct Recorder(Mutex<Vec<(Instant, Seen)>>);

struct RecordingBus(Arc<Recorder>);

impl Bus for RecordingBus {
    fn publish(&self, _topic: Topic, msg: BusMessage) {
        let BusMessage::Event(e) = msg else { return };
        let seen = match (e.kind, &e.assignee) {
            (EventKind::Assignment, Some(a)) if e.sender.kind == SenderKind::System => {
                Seen::Assigned(e.conversation_id, a.id)
            }
            (EventKind::Queued, _) => Seen::Queued(e.conversation_id),
            _ => return,
        };
        self.0 .0.lock().unwrap().push((Instant::now(), seen));
    }

    fn subscribe(&self, _topic: Topic) -> BoxStream<'static, BusItem> {
        stream::empty().boxed()
    }
}

pub struct Service<'w> {
    name: &'static str,
    w: &'w Workload,
    parley: Arc<Parley>,
    store: Arc<dyn Store>,
    rec: Arc<Recorder>,
    ws: WorkspaceId,
    admin: UserId,
    agents: Vec<Agent>,
    agent_idx: HashMap<UserId, usize>,
    groups: Vec<GroupId>,
    visitors: Vec<Option<VisitorActor>>,
    conv_ids: Vec<Option<ConversationId>>,
    conv_idx: HashMap<ConversationId, usize>,
    /// When each agent last disconnected (wall clock, as the service's presence records it).
    offline_at: Vec<Millis>,
    /// The wall-clock millisecond in which the previous step ended.
    prev_step_ms: Millis,
    /// When the latest disconnect was recorded.
    last_offline_at: Millis,
}

impl<'w> Service<'w> {
    /// A workspace with the workload's agents, groups, channels and keyword rules, every agent
    /// connected, and one visitor session per conversation. Agents are written with the store
    /// directly (as the conformance tests do) to skip one Argon2 hash each; everything else goes
    /// through the service.
    pub async fn setup(
        name: &'static str,
        store: Arc<dyn Store>,
        data_dir: &Path,
        w: &'w Workload,
    ) -> Result<Service<'w>> {
        let rec = Arc::new(Recorder::default());
        let parley = Arc::new(Parley::new(
            store.clone(),
            Arc::new(RecordingBus(rec.clone())),
            Files::new(data_dir.join("uploads")),
            Config {
                public_url: "http://127.0.0.1".into(),
                max_upload_bytes: 1 << 20,
                session_ttl: Duration::from_secs(3600),
            },
        ));
        parley
            .bootstrap(Some(ADMIN_EMAIL), Some(ADMIN_PASSWORD))
            .await?
            .context("the new database already had users")?;
        let creds = store
            .credentials_by_email(&Email::parse(ADMIN_EMAIL)?)
            .await?
            .context("the admin is missing")?;
        let admin = Agent {
            user: creds.user,
            session: None,
        };
        let ws = admin.user.workspace_id;

        let mut agents = Vec::with_capacity(w.agents.len());
        for (i, spec) in w.agents.iter().enumerate() {
            let user = User {
                id: UserId::new(),
                workspace_id: ws,
                email: format!("agent-{i}@bench.example"),
                name: format!("Agent {i}"),
                role: Role::Agent,
                status: AgentStatus::Online,
                avatar_url: None,
                capacity: spec.capacity,
                skills: spec.skills.clone(),
                created_at: now_millis(),
            };
            store.create_user(&user, "bench: cannot sign in").await?;
            agents.push(Agent {
                user,
                session: None,
            });
        }

        let mut groups = Vec::new();
        let mut channels = Vec::new();
        for (g, spec) in w.groups.iter().enumerate() {
            let group = parley
                .create_group(
                    &admin,
                    GroupInput {
                        name: spec.name.into(),
                        policy: spec.policy.clone(),
                        tier: None,
                        reply_timeout_secs: None,
                        queue_timeout_secs: None,
                        hours: None,
                    },
                )
                .await?;
            let members: Vec<(UserId, i32)> = w
                .members(g)
                .map(|a| (agents[a].user.id, w.agents[a].priority))
                .collect();
            parley.set_group_members(&admin, group.id, &members).await?;
            let channel = parley
                .create_channel(
                    &admin,
                    ChannelInput {
                        name: Some(format!("Bench {}", spec.name)),
                        color: None,
                        welcome_text: None,
                        greeting_text: None,
                        greeting_delay_secs: None,
                        allowed_origins: None,
                        group_id: Some(Some(group.id)),
                        entry_points: None,
                        bot: None,
                    },
                )
                .await?;
            groups.push(group.id);
            channels.push(channel);
        }
        // The skill group's visitors name a skill; a keyword rule per skill makes it required.
        let skill_group = groups[4];
        parley
            .replace_rules(
                &admin,
                SKILLS
                    .iter()
                    .map(|s| RuleInput {
                        keywords: vec![s.to_string()],
                        group_id: Some(skill_group),
                        skill: Some(s.to_string()),
                        priority: None,
                        escalation: false,
                    })
                    .collect(),
            )
            .await?;

        let visitors: Vec<Option<VisitorActor>> = stream::iter(w.convs.iter())
            .map(|c| {
                let parley = &parley;
                let key = channels[c.group].widget_key.clone();
                async move {
                    let s = parley
                        .widget_session(&key, None, VisitorContext::default(), None)
                        .await?;
                    anyhow::Ok(Some(VisitorActor {
                        visitor: s.visitor,
                        channel: s.channel,
                    }))
                }
            })
            .buffered(8)
            .try_collect()
            .await?;

        for a in &agents {
            parley.agent_connected(&a.user).await?;
        }
        rec.0.lock().unwrap().clear();
        let agent_idx = agents
            .iter()
            .enumerate()
            .map(|(i, a)| (a.user.id, i))
            .collect();
        Ok(Service {
            name,
            w,
            parley,
            store,
            rec,
            ws,
            admin: admin.user.id,
            agents,
            agent_idx,
            groups,
            visitors,
            conv_ids: vec![None; w.convs.len()],
            conv_idx: HashMap::new(),
            offline_at: vec![0; w.agents.len()],
            prev_step_ms: 0,
            last_offline_at: 0,
        })
    }

    /// The routing decisions published since the last call.
    fn decisions(&self) -> Result<Vec<Decision>> {
        let seen = std::mem::take(&mut *self.rec.0.lock().unwrap());
        seen.into_iter()
            .map(|(at, s)| {
                let (id, outcome) = match s {
                    Seen::Assigned(c, u) => (
                        c,
                        Outcome::Assigned(
                            *self
                                .agent_idx
                                .get(&u)
                                .with_context(|| format!("assigned to unknown user {u}"))?,
                        ),
                    ),
                    Seen::Queued(c) => (c, Outcome::Queued),
                };
                let conv = *self
                    .conv_idx
                    .get(&id)
                    .with_context(|| format!("a decision for unknown conversation {id}"))?;
                Ok(Decision { conv, outcome, at })
            })
            .collect()
    }

    fn conv(&self, c: usize) -> Result<ConversationId> {
        self.conv_ids[c].with_context(|| format!("conversation {c} was never created"))
    }
}

impl Engine for Service<'_> {
    fn name(&self) -> &'static str {
        self.name
    }

    /// Simulated events are seconds apart, but run back to back they could share a wall-clock
    /// millisecond, and the service's timestamps (round robin's last assignment, queue order,
    /// when an agent went offline) are milliseconds. So each step starts in a fresh millisecond
    /// (a wait of under 1 ms, not timed). Disconnects keep a wider gap, so that the offline
    /// cutoff of the routing job (read a moment after our own clock reading in `hand_on`)
    /// cannot reach the next agent who went offline.
    fn before_step(&mut self, op: &str) {
        let after = match op {
            "disconnect" => self
                .prev_step_ms
                .max(self.last_offline_at + DISCONNECT_GAP_MS),
            _ => self.prev_step_ms,
        };
        while now_millis() <= after {
            std::hint::spin_loop();
        }
    }

    fn after_step(&mut self) {
        self.prev_step_ms = now_millis();
    }

    async fn arrive(&mut self, c: usize, _now: i64) -> Result<Vec<Decision>> {
        let v = self.visitors[c].take().context("arrived twice")?;
        let appended = self
            .parley
            .send(
                &Actor::Visitor(v),
                None,
                &format!("first-{c}"),
                &self.w.first_message(c),
                &[],
            )
            .await?;
        if !appended.created_conversation {
            bail!("conversation {c}: the first message did not start a conversation");
        }
        let id = appended.conversation.id;
        self.conv_ids[c] = Some(id);
        self.conv_idx.insert(id, c);
        self.decisions()
    }

    async fn resolve(&mut self, c: usize, agent: usize, _now: i64) -> Result<Vec<Decision>> {
        let id = self.conv(c)?;
        self.parley
            .set_conversation_status(&self.agents[agent], id, ConversationStatus::Resolved)
            .await?
            .with_context(|| format!("resolving conversation {c} changed nothing"))?;
        self.decisions()
    }

    async fn disconnect(&mut self, agent: usize, _now: i64) -> Result<()> {
        self.parley.agent_disconnected(&self.agents[agent].user);
        // Read after the call, so never earlier than the instant presence recorded.
        self.offline_at[agent] = now_millis();
        self.last_offline_at = self.offline_at[agent];
        Ok(())
    }

    async fn reconnect(&mut self, agent: usize, _now: i64) -> Result<Vec<Decision>> {
        self.parley
            .agent_connected(&self.agents[agent].user)
            .await?;
        self.decisions()
    }

    async fn hand_on(&mut self, agent: usize, _now: i64) -> Result<Vec<Decision>> {
        // The node's routing job hands on agents offline for longer than the grace it is given
        // (the cluster's jobs, reply and queue timeouts, have nothing to do here). In wall-clock
        // terms this agent has been offline for `gone`; anyone who disconnected later (in
        // simulated, hence also in wall-clock order) is younger and stays.
        let gone = (now_millis() - self.offline_at[agent]).max(0) as u64;
        self.parley.node_jobs(Duration::from_millis(gone)).await;
        self.decisions()
    }

    async fn load_of(&mut self, agent: usize) -> Result<u32> {
        Ok(self
            .store
            .assigned_open(self.ws, self.agents[agent].user.id)
            .await?
            .len() as u32)
    }

    async fn snapshot(&mut self) -> Result<Snapshot> {
        let mut loads = vec![0u32; self.agents.len()];
        for (u, n) in self.store.loads(self.ws).await? {
            let a = *self
                .agent_idx
                .get(&u)
                .with_context(|| format!("load of unknown user {u}"))?;
            loads[a] = n as u32;
        }
        let mut queued = Vec::with_capacity(self.groups.len());
        for g in &self.groups {
            queued.push(self.store.queue(self.ws, *g).await?.len() as u32);
        }
        let (_open, unassigned, in_queue) = self.store.open_counts(self.ws).await?;
        Ok(Snapshot {
            loads,
            queued,
            unrouted: unassigned - in_queue,
        })
    }

    async fn verify(&mut self, expect: &Expect<'_>) -> Result<Vec<String>> {
        let mut fail = Vec::new();
        let store = self.store.clone();
        let ws = self.ws;

        // Every conversation in the database is one the simulation started, and vice versa.
        let mut listed: HashSet<ConversationId> = HashSet::new();
        for status in [ConversationStatus::Open, ConversationStatus::Resolved] {
            let mut before = None;
            loop {
                let page = store
                    .list_conversations(
                        ws,
                        &ConversationQuery {
                            viewer: self.admin,
                            view: View::All,
                            status,
                            before,
                            limit: 100,
                        },
                    )
                    .await?;
                let Some(last) = page.last() else { break };
                before = Some((last.updated_at, last.id));
                for s in &page {
                    if !listed.insert(s.id) {
                        fail.push(format!("conversation {} listed twice", s.id));
                    }
                    if !self.conv_idx.contains_key(&s.id) {
                        fail.push(format!(
                            "conversation {} in the store was never started by the benchmark",
                            s.id
                        ));
                    }
                }
            }
        }
        let mut lost = 0;
        for (c, id) in self.conv_ids.iter().enumerate() {
            match id {
                Some(id) if listed.contains(id) => {}
                Some(id) => {
                    lost += 1;
                    if lost <= 5 {
                        fail.push(format!("conversation {c} ({id}) is missing from the store"));
                    }
                }
                None => fail.push(format!("conversation {c} never arrived")),
            }
        }
        if lost > 5 {
            fail.push(format!("{lost} conversations missing in all"));
        }

        // Each conversation's timeline, replayed.
        let ids: Vec<(usize, ConversationId)> = self
            .conv_ids
            .iter()
            .enumerate()
            .filter_map(|(c, id)| id.map(|id| (c, id)))
            .collect();
        let timelines: Vec<(usize, Vec<Event>, Option<Conversation>)> = stream::iter(ids)
            .map(|(c, id)| {
                let store = store.clone();
                async move {
                    let events = store.events_after(ws, id, 0, 1000).await?;
                    let conv = store.get_conversation(ws, id).await?;
                    anyhow::Ok((c, events, conv))
                }
            })
            .buffered(8)
            .try_collect()
            .await?;
        let mut decisions = 0u64;
        let mut per_agent = vec![0u64; self.agents.len()];
        for (c, events, conv) in timelines {
            let Some(conv) = conv else {
                fail.push(format!("conversation {c} cannot be read"));
                continue;
            };
            let mut status = ConversationStatus::Open;
            let mut assignee: Option<UserId> = None;
            let mut queued = false;
            let name = |u: Option<UserId>| match u.and_then(|u| self.agent_idx.get(&u)) {
                Some(a) => format!("agent {a}"),
                None => "nobody".into(),
            };
            for (i, e) in events.iter().enumerate() {
                if e.seq != i as i64 + 1 {
                    fail.push(format!(
                        "conversation {c}: event {} has seq {}",
                        i + 1,
                        e.seq
                    ));
                }
                match e.kind {
                    EventKind::Status => {
                        status = e.status.unwrap_or(status);
                        if status == ConversationStatus::Resolved {
                            queued = false;
                        }
                    }
                    EventKind::Assignment => {
                        let to = e.assignee.as_ref().map(|a| a.id);
                        if let Some(x) = to {
                            if assignee == Some(x) {
                                fail.push(format!(
                                    "conversation {c}: assigned to {} twice",
                                    name(to)
                                ));
                            } else if let Some(y) = assignee {
                                let y_idx = self.agent_idx.get(&y).copied().unwrap_or(usize::MAX);
                                if !expect.handovers.contains(&(c, y_idx)) {
                                    fail.push(format!(
                                        "conversation {c}: assigned to {} while {} held it",
                                        name(to),
                                        name(Some(y))
                                    ));
                                }
                            }
                            if e.sender.kind == SenderKind::System {
                                decisions += 1;
                                if let Some(a) = self.agent_idx.get(&x) {
                                    per_agent[*a] += 1;
                                }
                            }
                            queued = false;
                        }
                        assignee = to;
                    }
                    EventKind::Queued => {
                        if assignee.is_some() {
                            fail.push(format!(
                                "conversation {c}: queued while {} held it",
                                name(assignee)
                            ));
                        }
                        if queued {
                            fail.push(format!("conversation {c}: queued twice"));
                        }
                        queued = true;
                        decisions += 1;
                    }
                    _ => {}
                }
            }
            if (status, assignee, queued)
                != (conv.status, conv.assignee_id, conv.queued_at.is_some())
            {
                fail.push(format!(
                    "conversation {c}: the timeline says {status:?}/{}/queued {queued}, the row {:?}/{}/queued {}",
                    name(assignee),
                    conv.status,
                    name(conv.assignee_id),
                    conv.queued_at.is_some()
                ));
            }
            if conv.status == ConversationStatus::Open {
                match (conv.assignee_id.is_some(), conv.queued_at.is_some()) {
                    (false, false) => fail.push(format!(
                        "conversation {c} is lost: open, neither assigned nor queued"
                    )),
                    (true, true) => {
                        fail.push(format!("conversation {c} is assigned and queued at once"))
                    }
                    _ => {}
                }
            }
            let sim = &expect.convs[c];
            let sim_assignee = sim.assignee.map(|a| self.agents[a].user.id);
            if sim.resolved != (conv.status == ConversationStatus::Resolved)
                || (!sim.resolved && sim_assignee != conv.assignee_id)
            {
                fail.push(format!(
                    "conversation {c}: the store has {:?}/{}, the decisions say resolved {}/{}",
                    conv.status,
                    name(conv.assignee_id),
                    sim.resolved,
                    name(sim_assignee)
                ));
            }
        }
        if decisions != expect.decisions {
            fail.push(format!(
                "the timelines hold {decisions} routing decisions, the service reported {}",
                expect.decisions
            ));
        }
        if per_agent != expect.assignments {
            let differ = per_agent
                .iter()
                .zip(expect.assignments)
                .filter(|(a, b)| a != b)
                .count();
            fail.push(format!(
                "assignments per agent differ between the timelines and the reported decisions for {differ} agents"
            ));
        }
        Ok(fail)
    }
}
