//! What the clients record while running (lock-free, indexed by message id) and what is computed
//! from it afterwards: latency percentiles, loss and duplicate counts, process CPU and memory.

use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Instant;

/// One slot per message id. Times are nanoseconds since `epoch`, plus one (0 = never).
#[derive(Default)]
struct Slots {
    at: Vec<AtomicU64>,
    count: Vec<AtomicU32>,
}

impl Slots {
    fn new(cap: usize) -> Self {
        Slots {
            at: (0..cap).map(|_| AtomicU64::new(0)).collect(),
            count: (0..cap).map(|_| AtomicU32::new(0)).collect(),
        }
    }
    /// Counts one occurrence; keeps the time of the first.
    fn hit(&self, id: u64, t: u64) -> bool {
        let Some(c) = self.count.get(id as usize) else {
            return false;
        };
        if c.fetch_add(1, Relaxed) == 0 {
            self.at[id as usize].store(t + 1, Relaxed);
        }
        true
    }
    fn time(&self, id: u64) -> Option<u64> {
        match self.at[id as usize].load(Relaxed) {
            0 => None,
            t => Some(t - 1),
        }
    }
    fn count(&self, id: u64) -> u32 {
        self.count[id as usize].load(Relaxed)
    }
}

/// Shared by every client socket of one target (Parley or the baseline relay).
pub struct Tracker {
    epoch: Instant,
    cap: u64,
    sent: Slots,
    acked: Slots,
    delivered: Slots,
    reply_sent: Slots,
    reply_acked: Slots,
    reply_delivered: Slots,
    /// Running totals, for progress checks while draining.
    pub acks: AtomicU64,
    pub deliveries: AtomicU64,
    pub reply_deliveries: AtomicU64,
    /// Largest delay between a message's scheduled instant and its actual write, in ns.
    pub max_schedule_lag: AtomicU64,
    pub error_frames: AtomicU64,
    pub unexpected_closes: AtomicU64,
    pub seq_anomalies: AtomicU64,
    pub resyncs: AtomicU64,
    pub subscribed_agents: AtomicU64,
    pub subscribed_visitors: AtomicU64,
    samples: Mutex<Vec<String>>,
}

impl Tracker {
    pub fn new(cap: u64) -> Self {
        let c = cap as usize;
        Tracker {
            epoch: Instant::now(),
            cap,
            sent: Slots::new(c),
            acked: Slots::new(c),
            delivered: Slots::new(c),
            reply_sent: Slots::new(c),
            reply_acked: Slots::new(c),
            reply_delivered: Slots::new(c),
            acks: AtomicU64::new(0),
            deliveries: AtomicU64::new(0),
            reply_deliveries: AtomicU64::new(0),
            max_schedule_lag: AtomicU64::new(0),
            error_frames: AtomicU64::new(0),
            unexpected_closes: AtomicU64::new(0),
            seq_anomalies: AtomicU64::new(0),
            resyncs: AtomicU64::new(0),
            subscribed_agents: AtomicU64::new(0),
            subscribed_visitors: AtomicU64::new(0),
            samples: Mutex::new(Vec::new()),
        }
    }

    pub fn capacity(&self) -> u64 {
        self.cap
    }

    pub fn now(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    pub fn ns_of(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.epoch).as_nanos() as u64
    }

    pub fn sent(&self, id: u64, scheduled_ns: u64) {
        let now = self.now();
        self.sent.hit(id, now);
        self.max_schedule_lag
            .fetch_max(now.saturating_sub(scheduled_ns), Relaxed);
    }
    pub fn acked(&self, id: u64) {
        if self.acked.hit(id, self.now()) {
            self.acks.fetch_add(1, Relaxed);
        }
    }
    pub fn delivered(&self, id: u64) {
        if self.delivered.hit(id, self.now()) {
            self.deliveries.fetch_add(1, Relaxed);
        }
    }
    pub fn reply_sent(&self, id: u64) {
        self.reply_sent.hit(id, self.now());
    }
    pub fn reply_acked(&self, id: u64) {
        self.reply_acked.hit(id, self.now());
    }
    pub fn reply_delivered(&self, id: u64) {
        if self.reply_delivered.hit(id, self.now()) {
            self.reply_deliveries.fetch_add(1, Relaxed);
        }
    }

    /// Counts a problem and keeps the first few descriptions.
    pub fn problem(&self, counter: &AtomicU64, what: String) {
        counter.fetch_add(1, Relaxed);
        let mut s = self.samples.lock().unwrap();
        if s.len() < 10 {
            s.push(what);
        }
    }

    pub fn samples(&self) -> Vec<String> {
        self.samples.lock().unwrap().clone()
    }

    /// Whether every message in `ids` that was sent is acked and delivered, with every reply.
    pub fn settled(&self, ids: std::ops::Range<u64>) -> bool {
        ids.clone().all(|id| {
            self.sent.count(id) == 0
                || (self.acked.count(id) > 0
                    && self.delivered.count(id) > 0
                    && (self.reply_sent.count(id) == 0 || self.reply_delivered.count(id) > 0))
        })
    }

    /// Everything about the messages with ids in `ids` (one chat run).
    pub fn summarize(&self, ids: std::ops::Range<u64>) -> Delivery {
        let mut d = Delivery::default();
        let mut to_agent = hist();
        let mut to_ack = hist();
        let mut to_visitor = hist();
        let (mut first_send, mut last_delivery, mut last_ack) = (u64::MAX, 0u64, 0u64);
        for id in ids {
            let Some(sent) = self.sent.time(id) else {
                continue;
            };
            d.sent += 1;
            first_send = first_send.min(sent);
            match self.acked.count(id) {
                0 => d.unacked += 1,
                1 => d.acked += 1,
                _ => {
                    d.acked += 1;
                    d.duplicate_acks += 1
                }
            }
            if let Some(a) = self.acked.time(id) {
                last_ack = last_ack.max(a);
                record(&mut to_ack, a.saturating_sub(sent));
            }
            match self.delivered.count(id) {
                0 if self.acked.count(id) > 0 => d.lost += 1,
                0 => {}
                1 => d.delivered += 1,
                _ => {
                    d.delivered += 1;
                    d.duplicates += 1
                }
            }
            if let Some(t) = self.delivered.time(id) {
                last_delivery = last_delivery.max(t);
                record(&mut to_agent, t.saturating_sub(sent));
            }
            if let Some(rs) = self.reply_sent.time(id) {
                d.replies_sent += 1;
                if self.reply_acked.count(id) > 0 {
                    d.replies_acked += 1;
                }
                match self.reply_delivered.count(id) {
                    0 => d.replies_lost += 1,
                    1 => d.replies_delivered += 1,
                    _ => {
                        d.replies_delivered += 1;
                        d.duplicates += 1
                    }
                }
                if let Some(t) = self.reply_delivered.time(id) {
                    last_delivery = last_delivery.max(t);
                    record(&mut to_visitor, t.saturating_sub(rs));
                }
            }
        }
        if d.sent > 0 && last_delivery > first_send {
            let secs = (last_delivery - first_send) as f64 / 1e9;
            d.delivered_per_s = d.delivered as f64 / secs;
            d.stored_per_s =
                d.acked as f64 / ((last_ack.max(first_send + 1) - first_send) as f64 / 1e9);
            d.span_s = secs;
        }
        d.visitor_to_agent = Latency::of(&to_agent);
        d.send_to_ack = Latency::of(&to_ack);
        d.agent_to_visitor = Latency::of(&to_visitor);
        d
    }
}

pub fn hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("histogram bounds")
}

pub fn record(h: &mut Histogram<u64>, ns: u64) {
    h.saturating_record((ns / 1_000).max(1));
}

/// Percentiles in milliseconds.
#[derive(Serialize, Default, Clone, Debug)]
pub struct Latency {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    pub fn of(h: &Histogram<u64>) -> Latency {
        let ms = |us: u64| us as f64 / 1000.0;
        if h.is_empty() {
            return Latency::default();
        }
        Latency {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
        }
    }
}

#[derive(Serialize, Default, Clone, Debug)]
pub struct Delivery {
    pub sent: u64,
    pub acked: u64,
    pub unacked: u64,
    pub delivered: u64,
    /// Acked (stored) but never delivered to the subscribed agent.
    pub lost: u64,
    /// Extra deliveries of a message or reply.
    pub duplicates: u64,
    pub duplicate_acks: u64,
    pub replies_sent: u64,
    pub replies_acked: u64,
    pub replies_delivered: u64,
    pub replies_lost: u64,
    /// From the first send to the last delivery.
    pub span_s: f64,
    pub delivered_per_s: f64,
    pub stored_per_s: f64,
    pub visitor_to_agent: Latency,
    pub send_to_ack: Latency,
    pub agent_to_visitor: Latency,
}

/// CPU time and memory of a process, read from /proc.
pub struct Proc {
    pid: u32,
}

impl Proc {
    pub fn new(pid: u32) -> Proc {
        Proc { pid }
    }
    pub fn me() -> Proc {
        Proc {
            pid: std::process::id(),
        }
    }

    /// VmRSS in KiB.
    pub fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            })
            .unwrap_or(0)
    }

    /// User plus system CPU time in seconds.
    pub fn cpu_seconds(&self) -> f64 {
        cpu_of_stat(&format!("/proc/{}/stat", self.pid)).unwrap_or(0.0)
    }

    /// CPU seconds per thread, keyed `name/tid` (e.g. the runtime's workers and each SQLite
    /// connection's thread, which sqlx names alike).
    pub fn thread_cpu(&self) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        let Ok(dir) = std::fs::read_dir(format!("/proc/{}/task", self.pid)) else {
            return out;
        };
        for t in dir.flatten() {
            let p = t.path();
            let name = std::fs::read_to_string(p.join("comm")).unwrap_or_default();
            let tid = t.file_name().to_string_lossy().into_owned();
            if let Some(cpu) = cpu_of_stat(&p.join("stat").to_string_lossy()) {
                out.insert(format!("{}/{tid}", name.trim()), cpu);
            }
        }
        out
    }
}

/// CPU seconds the whole machine spent busy (all cores, everything but idle and iowait).
pub fn machine_busy_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let f: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal …
    let busy: u64 = f.iter().take(8).sum::<u64>() - f.get(3).unwrap_or(&0) - f.get(4).unwrap_or(&0);
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    busy as f64 / hz
}

/// utime + stime of a /proc `stat` file, in seconds.
fn cpu_of_stat(path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the command name (which may contain spaces) start at field 3.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Some(ticks as f64 / hz)
}

/// Per-thread CPU between two readings, as % of one core over `wall` seconds, busiest first.
pub fn thread_cpu_pct(
    before: &BTreeMap<String, f64>,
    after: &BTreeMap<String, f64>,
    wall: f64,
) -> Vec<(String, f64)> {
    let mut v: Vec<(String, f64)> = after
        .iter()
        .map(|(k, a)| {
            (
                k.clone(),
                (a - before.get(k).unwrap_or(&0.0)) / wall * 100.0,
            )
        })
        .filter(|(_, pct)| *pct >= 0.5)
        .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1));
    v
}

/// Latency of a 4 KiB write plus `fdatasync` in `dir` — what one durable commit costs at least.
pub fn fsync_probe(dir: &std::path::Path, count: usize) -> std::io::Result<Latency> {
    use std::io::Write;
    let path = dir.join(format!(".parley-bench-fsync-{}", std::process::id()));
    let mut f = std::fs::File::create(&path)?;
    let block = [7u8; 4096];
    let mut h = hist();
    for _ in 0..count {
        let t = Instant::now();
        f.write_all(&block)?;
        f.sync_data()?;
        record(&mut h, t.elapsed().as_nanos() as u64);
    }
    drop(f);
    std::fs::remove_file(&path)?;
    Ok(Latency::of(&h))
}
