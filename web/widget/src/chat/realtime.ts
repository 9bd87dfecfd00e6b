// The widget's live connection (docs/protocol.md §5), free of any DOM so it can be unit-tested:
// hello/ready, subscriptions with the last contiguous seq, dedupe and gap repair, heartbeats,
// reconnect with backoff, and the persisted outbox that makes sending exactly-once.

import type { AckFrame, ChatEvent, ConversationRef, OutboxItem, Page, TypingFrame } from './types';

/** The part of the browser WebSocket the client uses (lets tests pass a fake). */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

/** The part of localStorage the outbox uses. */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** localStorage when it is usable (it throws in some private modes and sandboxed frames). */
export function safeStorage(): StorageLike | null {
  try {
    const s = window.localStorage;
    const k = 'parley:probe';
    s.setItem(k, '1');
    s.removeItem(k);
    return s;
  } catch {
    return null;
  }
}

/** A unique message id: crypto.randomUUID where available, else a v4 UUID from getRandomValues/Math.random. */
export function newClientId(): string {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const b = new Uint8Array(16);
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = (Math.random() * 256) | 0;
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = Array.from(b, (v) => (v + 256).toString(16).slice(1)).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Reconnect delay for the n-th consecutive attempt (0-based): 1 s, 2 s, 4 s … capped at 30 s, ±20 % jitter. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30000, 1000 * Math.pow(2, Math.max(0, Math.min(attempt, 15))));
  return Math.min(30000, Math.round(base * (0.8 + 0.4 * random())));
}

/**
 * Orders the events of one conversation by seq. `last` is the last contiguous seq held; events
 * at or below it (or already buffered) are duplicates; an event further ahead is buffered and
 * reported as a gap, and is released once the missing ones arrive.
 */
export class SeqTracker {
  last: number;
  private ahead = new Map<number, ChatEvent>();

  constructor(last = 0) {
    this.last = last;
  }

  /** Returns the events that became contiguous (in order) and whether a gap was seen. */
  accept(ev: ChatEvent): { ready: ChatEvent[]; gap: boolean } {
    const seq = ev.seq;
    if (!(seq > this.last) || this.ahead.has(seq)) return { ready: [], gap: false };
    if (seq !== this.last + 1) {
      this.ahead.set(seq, ev);
      return { ready: [], gap: true };
    }
    const ready = [ev];
    this.last = seq;
    for (let next = this.ahead.get(this.last + 1); next; next = this.ahead.get(this.last + 1)) {
      this.ahead.delete(next.seq);
      ready.push(next);
      this.last = next.seq;
    }
    return { ready, gap: false };
  }

  /** True when events past `last` are waiting for a missing one. */
  get hasGap(): boolean {
    return this.ahead.size > 0;
  }
}

/**
 * Messages waiting for their ack, persisted so a reload or a lost connection does not lose them.
 * Every change re-reads storage first, so two tabs of the same site do not drop each other's items.
 */
export class Outbox {
  private mem: OutboxItem[] = [];

  constructor(
    private storage: StorageLike | null,
    readonly key: string,
  ) {}

  items(): OutboxItem[] {
    if (!this.storage) return this.mem.slice();
    try {
      const raw = this.storage.getItem(this.key);
      const list: unknown = raw ? JSON.parse(raw) : [];
      return Array.isArray(list)
        ? (list as OutboxItem[]).filter((i) => i && typeof i.client_id === 'string' && typeof i.body === 'string')
        : [];
    } catch {
      return this.mem.slice();
    }
  }

  private save(list: OutboxItem[]): void {
    this.mem = list;
    if (!this.storage) return;
    try {
      if (list.length) this.storage.setItem(this.key, JSON.stringify(list));
      else this.storage.removeItem(this.key);
    } catch {
      /* quota or disabled storage: keep it in memory */
    }
  }

  add(item: OutboxItem): void {
    const list = this.items().filter((i) => i.client_id !== item.client_id);
    list.push(item);
    this.save(list);
  }

  get(clientId: string): OutboxItem | undefined {
    return this.items().find((i) => i.client_id === clientId);
  }

  /** Removes and returns the item, if it was there. */
  remove(clientId: string): OutboxItem | undefined {
    const list = this.items();
    const idx = list.findIndex((i) => i.client_id === clientId);
    if (idx < 0) return undefined;
    const [item] = list.splice(idx, 1);
    this.save(list);
    return item;
  }
}

/**
 * Sends `typing` at most every `intervalMs` while the visitor types (always carrying the newest
 * draft), and `typing:false` when the draft is cleared, sent, or left alone for `idleMs`.
 */
export class TypingThrottle {
  private active = false;
  private lastEmit = 0;
  private draft = '';
  private trailing: ReturnType<typeof setTimeout> | null = null;
  private idle: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private emit: (typing: boolean, draft: string) => void,
    private intervalMs = 2000,
    private idleMs = 5000,
  ) {}

  input(text: string): void {
    if (!text.trim()) {
      this.stop();
      return;
    }
    this.draft = text;
    this.active = true;
    if (this.idle) clearTimeout(this.idle);
    this.idle = setTimeout(() => this.stop(), this.idleMs);
    const wait = this.lastEmit + this.intervalMs - Date.now();
    if (wait <= 0) this.fire();
    else if (!this.trailing) this.trailing = setTimeout(() => this.fire(), wait);
  }

  private fire(): void {
    if (this.trailing) clearTimeout(this.trailing);
    this.trailing = null;
    if (!this.active) return;
    this.lastEmit = Date.now();
    this.emit(true, this.draft);
  }

  /** The draft was sent or cleared. */
  stop(): void {
    if (this.trailing) clearTimeout(this.trailing);
    if (this.idle) clearTimeout(this.idle);
    this.trailing = this.idle = null;
    if (this.active) {
      this.active = false;
      this.lastEmit = 0;
      this.emit(false, '');
    }
  }
}

export type ConnState = 'connecting' | 'ready' | 'waiting' | 'stopped';

export interface RealtimeListener {
  onState?(state: ConnState): void;
  onReady?(agentsOnline: boolean): void;
  /** New events of a conversation, without duplicates, in seq order. */
  onEvents?(conversationId: string, events: ChatEvent[]): void;
  /** The server finished a (re)subscription: everything up to lastSeq has been replayed. */
  onSubscribed?(conversationId: string, lastSeq: number): void;
  onConversation?(conversation: ConversationRef): void;
  /** `item` is undefined when the ack is for a message this tab no longer holds. */
  onAck?(ack: AckFrame, item: OutboxItem | undefined): void;
  /** The server refused a message for good; it was dropped from the outbox. */
  onSendFailed?(item: OutboxItem, code: string, message: string): void;
  onPresence?(agentsOnline: boolean): void;
  /** The visitor waits in a queue at `position` (1 = next); null once an agent has the conversation. */
  onQueue?(conversationId: string, position: number | null): void;
  /** The visitor waited past the queue timeout: offer to leave a message instead. */
  onLeaveMessage?(conversationId: string): void;
  onTyping?(frame: TypingFrame): void;
  onServerError?(code: string, message: string): void;
  /** Close code 4003: the Origin is not allowed; the client has stopped. */
  onFatal?(code: number): void;
}

export interface RealtimeOptions {
  /** ws(s)://host/ws/widget */
  url: string;
  getToken(): string | null;
  /** POST /session again (after close code 4001); must update what getToken returns. */
  renewSession(): Promise<void>;
  outbox: Outbox;
  listener: RealtimeListener;
  createSocket?(url: string): SocketLike;
  /** Client ping period; replaced by the server's heartbeat_ms. */
  heartbeatMs?: number;
  /** Silence after which the connection counts as dead. */
  deadMs?: number;
  /** An unacked message is sent again (same client_id) after this long on a live connection. */
  resendMs?: number;
  random?(): number;
}

/** Error codes after which a message will never be accepted, so it leaves the outbox. */
const PERMANENT = ['bad_request', 'validation_failed', 'payload_too_large', 'forbidden', 'not_found', 'unsupported_media_type'];

interface Sub {
  tracker: SeqTracker;
  /** A subscribe is in flight (no `subscribed` yet); don't send another for a gap. */
  inFlight: boolean;
  /** Re-subscriptions in a row that brought nothing new. */
  fruitless: number;
  lastAtSubscribe: number;
}

export class RealtimeClient {
  state: ConnState = 'waiting';
  private ws: SocketLike | null = null;
  private subs = new Map<string, Sub>();
  private attempt = 0;
  private renewNext = false;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private watchdog: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private page: Page | null = null;
  private pageSent: string | null = null;
  private heartbeatMs: number;
  private deadMs: number;
  private resendMs: number;
  /** When each outbox item was last put on the wire (this connection). */
  private sentAt = new Map<string, number>();
  private resendTimer: ReturnType<typeof setInterval> | null = null;

  constructor(private opts: RealtimeOptions) {
    this.heartbeatMs = opts.heartbeatMs ?? 25000;
    this.deadMs = opts.deadMs ?? 60000;
    this.resendMs = opts.resendMs ?? 15000;
  }

  private get l(): RealtimeListener {
    return this.opts.listener;
  }

  private setState(s: ConnState): void {
    if (this.state === s) return;
    this.state = s;
    this.l.onState?.(s);
  }

  start(): void {
    if (this.state === 'stopped' || this.ws || this.retryTimer) return;
    this.connect();
  }

  /** Closes for good (code 1000). */
  stop(): void {
    this.setState('stopped');
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      detach(ws);
      try {
        ws.close(1000);
      } catch {
        /* already closed */
      }
    }
  }

  /** Reconnect now if waiting for a retry (e.g. the browser came back online). */
  nudge(): void {
    if (this.state === 'waiting' && this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.reconnect();
    }
  }

  /** Last contiguous seq held for a conversation (0 if unknown). */
  lastSeq(conversationId: string): number {
    return this.subs.get(conversationId)?.tracker.last ?? 0;
  }

  conversationIds(): string[] {
    return Array.from(this.subs.keys());
  }

  /** Track a conversation of this visitor; subscribes to it if not yet subscribed. */
  addConversation(c: ConversationRef): void {
    if (!c || typeof c.id !== 'string') return;
    if (this.subs.has(c.id)) return;
    this.subs.set(c.id, { tracker: new SeqTracker(0), inFlight: false, fruitless: 0, lastAtSubscribe: 0 });
    if (this.state === 'ready') this.subscribe(c.id);
  }

  /** Forget every conversation (the visitor changed after a new session). */
  forgetConversations(): void {
    this.subs.clear();
  }

  /** Queue a message in the persisted outbox and send it if connected. */
  send(item: OutboxItem): void {
    this.opts.outbox.add(item);
    if (this.state === 'ready') this.transmit(item);
  }

  sendTyping(conversationId: string, typing: boolean, draft?: string): void {
    const f: Record<string, unknown> = { type: 'typing', conversation_id: conversationId, typing };
    if (typing && draft) f.draft = draft.slice(0, 5000);
    this.frame(f);
  }

  sendRead(conversationId: string, seq: number): void {
    this.frame({ type: 'read', conversation_id: conversationId, seq });
  }

  /**
   * The visitor's current page. `known` marks the page the server already has (from POST
   * /session); otherwise it is sent now, or on the next `ready`.
   */
  setPage(page: Page, known = false): void {
    this.page = page;
    if (known) this.pageSent = page.url;
    else this.flushPage();
  }

  private flushPage(): void {
    if (this.state !== 'ready' || !this.page || this.page.url === this.pageSent) return;
    if (this.frame({ type: 'page', ...this.page })) this.pageSent = this.page.url;
  }

  private frame(f: Record<string, unknown>): boolean {
    if (!this.ws || this.state !== 'ready') return false;
    try {
      this.ws.send(JSON.stringify(f));
      return true;
    } catch {
      return false;
    }
  }

  private transmit(item: OutboxItem): void {
    const f: Record<string, unknown> = { type: 'send', client_id: item.client_id, body: item.body };
    if (item.attachment_ids && item.attachment_ids.length) f.attachment_ids = item.attachment_ids;
    if (item.group_id) f.group_id = item.group_id;
    if (this.frame(f)) this.sentAt.set(item.client_id, Date.now());
  }

  /** Re-sends what has waited too long for its ack; the server dedupes by client_id. */
  private resendStale(): void {
    const now = Date.now();
    for (const item of this.opts.outbox.items()) {
      const at = this.sentAt.get(item.client_id);
      if (at === undefined || now - at >= this.resendMs) this.transmit(item);
    }
  }

  private subscribe(id: string): void {
    const sub = this.subs.get(id);
    if (!sub) return;
    sub.inFlight = true;
    sub.lastAtSubscribe = sub.tracker.last;
    this.frame({ type: 'subscribe', conversation_id: id, after_seq: sub.tracker.last });
  }

  private connect(): void {
    this.clearTimers();
    this.setState('connecting');
    let ws: SocketLike;
    try {
      ws = this.opts.createSocket ? this.opts.createSocket(this.opts.url) : (new WebSocket(this.opts.url) as unknown as SocketLike);
    } catch {
      this.scheduleReconnect(false);
      return;
    }
    this.ws = ws;
    this.armWatchdog();
    ws.onopen = () => {
      this.armWatchdog();
      try {
        ws.send(JSON.stringify({ type: 'hello', token: this.opts.getToken() }));
      } catch {
        /* onclose follows */
      }
    };
    ws.onmessage = (m) => {
      if (this.ws !== ws) return;
      this.armWatchdog();
      let f: Record<string, unknown>;
      try {
        f = JSON.parse(String(m.data));
      } catch {
        return;
      }
      if (f && typeof f === 'object') this.handle(f);
    };
    ws.onerror = () => {
      /* onclose follows */
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.closed(e.code);
    };
  }

  private closed(code: number): void {
    this.ws = null;
    this.clearTimers();
    for (const s of this.subs.values()) s.inFlight = false;
    if (this.state === 'stopped') return;
    if (code === 4003) {
      this.setState('stopped');
      this.l.onFatal?.(code);
      return;
    }
    this.scheduleReconnect(code === 4001);
  }

  private scheduleReconnect(renew: boolean): void {
    this.renewNext = this.renewNext || renew;
    this.setState('waiting');
    const delay = backoffDelay(this.attempt++, this.opts.random);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.reconnect();
    }, delay);
  }

  private reconnect(): void {
    if (this.state === 'stopped') return;
    if (!this.renewNext) {
      this.connect();
      return;
    }
    this.setState('connecting');
    this.opts.renewSession().then(
      () => {
        this.renewNext = false;
        if (this.state !== 'stopped') this.connect();
      },
      () => {
        if (this.state !== 'stopped') this.scheduleReconnect(true);
      },
    );
  }

  private armWatchdog(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.dead(), this.deadMs);
  }

  /** No sign of life for deadMs: drop the socket without waiting for the browser to notice. */
  private dead(): void {
    const ws = this.ws;
    if (!ws) return;
    detach(ws);
    try {
      ws.close(4000, 'heartbeat timeout');
    } catch {
      /* ignore */
    }
    this.closed(4000);
  }

  private clearTimers(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.resendTimer) clearInterval(this.resendTimer);
    if (this.watchdog) clearTimeout(this.watchdog);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.pingTimer = this.resendTimer = this.watchdog = this.retryTimer = null;
    this.sentAt.clear();
  }

  private handle(f: Record<string, unknown>): void {
    switch (f.type) {
      case 'ready': {
        const hb = Number(f.heartbeat_ms);
        if (hb > 0) this.heartbeatMs = hb;
        this.attempt = 0;
        this.setState('ready');
        if (this.pingTimer) clearInterval(this.pingTimer);
        this.pingTimer = setInterval(() => this.frame({ type: 'ping' }), this.heartbeatMs);
        if (this.resendTimer) clearInterval(this.resendTimer);
        this.resendTimer = setInterval(() => this.resendStale(), Math.max(1000, this.resendMs / 3));
        if (typeof f.agents_online === 'boolean') this.l.onReady?.(f.agents_online);
        for (const id of this.subs.keys()) this.subscribe(id);
        for (const item of this.opts.outbox.items()) this.transmit(item);
        this.flushPage();
        break;
      }
      case 'event':
        this.onEvent(f.event as ChatEvent);
        break;
      case 'subscribed': {
        const id = String(f.conversation_id);
        const sub = this.subs.get(id);
        if (!sub) break;
        sub.inFlight = false;
        const lastSeq = Number(f.last_seq) || 0;
        sub.fruitless = sub.tracker.last > sub.lastAtSubscribe ? 0 : sub.fruitless + 1;
        this.l.onSubscribed?.(id, lastSeq);
        // Still short of what the server says it has: ask again, but not forever.
        if ((sub.tracker.last < lastSeq || sub.tracker.hasGap) && sub.fruitless < 3) this.subscribe(id);
        break;
      }
      case 'conversation': {
        const c = f.conversation as ConversationRef;
        if (!c || typeof c.id !== 'string') break;
        this.addConversation(c);
        this.l.onConversation?.(c);
        break;
      }
      case 'ack': {
        const ack = f as unknown as AckFrame;
        const item = this.opts.outbox.remove(String(ack.client_id));
        this.sentAt.delete(String(ack.client_id));
        this.l.onAck?.(ack, item);
        break;
      }
      case 'error': {
        const code = String(f.code || 'error');
        const message = String(f.message || '');
        const ref = typeof f.ref === 'string' ? f.ref : null;
        const item = ref ? this.opts.outbox.get(ref) : undefined;
        if (item && PERMANENT.indexOf(code) >= 0) {
          this.opts.outbox.remove(item.client_id);
          this.l.onSendFailed?.(item, code, message);
        } else if (ref && this.subs.has(ref)) {
          // A subscription was refused (e.g. not_found): stop asking for it.
          const sub = this.subs.get(ref);
          if (sub) sub.inFlight = false;
          this.l.onServerError?.(code, message);
        } else {
          this.l.onServerError?.(code, message);
        }
        break;
      }
      case 'presence':
        if (typeof f.agents_online === 'boolean') this.l.onPresence?.(f.agents_online);
        break;
      case 'typing':
        this.l.onTyping?.(f as unknown as TypingFrame);
        break;
      case 'leave_message':
        if (typeof f.conversation_id === 'string') this.l.onLeaveMessage?.(f.conversation_id);
        break;
      case 'queue': {
        if (typeof f.conversation_id !== 'string') break;
        const p = f.position;
        this.l.onQueue?.(f.conversation_id, typeof p === 'number' && p >= 1 ? p : null);
        break;
      }
      default:
        break; // pong and anything newer
    }
  }

  private onEvent(ev: ChatEvent): void {
    if (!ev || typeof ev.seq !== 'number' || typeof ev.conversation_id !== 'string') return;
    let sub = this.subs.get(ev.conversation_id);
    if (!sub) {
      this.addConversation({ id: ev.conversation_id, status: 'open', last_seq: ev.seq });
      sub = this.subs.get(ev.conversation_id);
      if (!sub) return;
    }
    const { ready, gap } = sub.tracker.accept(ev);
    if (gap && !sub.inFlight) this.subscribe(ev.conversation_id);
    if (!ready.length) return;
    // Our own message seen (e.g. replayed after a reload whose ack was lost): no need to resend.
    for (const e of ready) if (e.client_id && e.sender && e.sender.kind === 'visitor') this.opts.outbox.remove(e.client_id);
    this.l.onEvents?.(ev.conversation_id, ready);
  }
}

function detach(ws: SocketLike): void {
  ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
}
