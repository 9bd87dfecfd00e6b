import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  backoffDelay,
  newClientId,
  Outbox,
  RealtimeClient,
  SeqTracker,
  TypingThrottle,
  type RealtimeListener,
  type SocketLike,
  type StorageLike,
} from './realtime';
import type { ChatEvent, OutboxItem } from './types';

class MemoryStorage implements StorageLike {
  data = new Map<string, string>();
  getItem(k: string) {
    return this.data.has(k) ? (this.data.get(k) as string) : null;
  }
  setItem(k: string, v: string) {
    this.data.set(k, String(v));
  }
  removeItem(k: string) {
    this.data.delete(k);
  }
}

type Frame = Record<string, unknown>;

class FakeSocket implements SocketLike {
  sent: Frame[] = [];
  closedWith: number | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {}
  send(d: string) {
    this.sent.push(JSON.parse(d));
  }
  close(code?: number) {
    this.closedWith = code ?? 1000;
  }
  // server side
  open() {
    this.onopen?.({});
  }
  recv(f: Frame) {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  drop(code: number) {
    this.onclose?.({ code });
  }
  ofType(t: string) {
    return this.sent.filter((f) => f.type === t);
  }
}

const CONV = 'c0ffee00-0000-4000-8000-000000000001';

function ev(seq: number, extra: Partial<ChatEvent> = {}): ChatEvent {
  return {
    id: `e${seq}`,
    conversation_id: CONV,
    seq,
    kind: 'message',
    created_at: '2025-01-01T00:00:00Z',
    sender: { kind: 'agent', id: 'a1', name: 'Ana', avatar_url: null },
    client_id: null,
    body: `m${seq}`,
    attachments: [],
    ...extra,
  };
}

function item(body: string, client_id = newClientId()): OutboxItem {
  return { client_id, body, created_at: '2025-01-01T00:00:00Z' };
}

function setup(storage: StorageLike = new MemoryStorage(), token = 'vt_1') {
  const sockets: FakeSocket[] = [];
  const delivered: ChatEvent[] = [];
  const listener: RealtimeListener = {
    onEvents: (_c, evs) => delivered.push(...evs),
    onAck: vi.fn(),
    onSendFailed: vi.fn(),
    onFatal: vi.fn(),
    onPresence: vi.fn(),
    onReady: vi.fn(),
    onSubscribed: vi.fn(),
  };
  const state = { token };
  const renewSession = vi.fn(async () => {
    state.token = 'vt_2';
  });
  const outbox = new Outbox(storage, 'parley:outbox:wk_test');
  const rt = new RealtimeClient({
    url: 'ws://example.test/ws/widget',
    getToken: () => state.token,
    renewSession,
    outbox,
    listener,
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    random: () => 0.5,
  });
  const last = () => sockets[sockets.length - 1];
  /** Open the newest socket and answer its hello with ready. */
  const handshake = (agentsOnline = true) => {
    last().open();
    last().recv({ type: 'ready', heartbeat_ms: 25000, agents_online: agentsOnline });
  };
  return { rt, sockets, last, handshake, delivered, listener, outbox, storage, renewSession, state };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('SeqTracker', () => {
  it('delivers in order and ignores duplicates', () => {
    const t = new SeqTracker();
    expect(t.accept(ev(1)).ready.map((e) => e.seq)).toEqual([1]);
    expect(t.accept(ev(1)).ready).toEqual([]);
    expect(t.accept(ev(2)).ready.map((e) => e.seq)).toEqual([2]);
    expect(t.last).toBe(2);
  });

  it('buffers events past a gap, reports it, and releases them when it is filled', () => {
    const t = new SeqTracker();
    t.accept(ev(1));
    const r = t.accept(ev(3));
    expect(r).toEqual({ ready: [], gap: true });
    expect(t.last).toBe(1);
    expect(t.hasGap).toBe(true);
    expect(t.accept(ev(3)).gap).toBe(false); // already buffered: a duplicate, not a new gap
    expect(t.accept(ev(2)).ready.map((e) => e.seq)).toEqual([2, 3]);
    expect(t.last).toBe(3);
    expect(t.hasGap).toBe(false);
  });
});

describe('Outbox', () => {
  it('persists items across instances (a reload) until removed', () => {
    const storage = new MemoryStorage();
    const a = new Outbox(storage, 'parley:outbox:wk');
    const m = item('hello');
    a.add(m);
    expect(JSON.parse(storage.getItem('parley:outbox:wk') as string)[0].client_id).toBe(m.client_id);
    const b = new Outbox(storage, 'parley:outbox:wk');
    expect(b.items()).toEqual([m]);
    expect(b.remove(m.client_id)).toEqual(m);
    expect(b.remove(m.client_id)).toBeUndefined();
    expect(storage.getItem('parley:outbox:wk')).toBeNull();
    expect(a.items()).toEqual([]);
  });

  it('does not drop what another tab added', () => {
    const storage = new MemoryStorage();
    const a = new Outbox(storage, 'k');
    const b = new Outbox(storage, 'k');
    a.add(item('one', 'id1'));
    b.add(item('two', 'id2'));
    a.remove('id1');
    expect(b.items().map((i) => i.client_id)).toEqual(['id2']);
  });

  it('survives corrupt storage and works without storage', () => {
    const storage = new MemoryStorage();
    storage.setItem('k', '{not json');
    expect(new Outbox(storage, 'k').items()).toEqual([]);
    const mem = new Outbox(null, 'k');
    mem.add(item('x', 'id'));
    expect(mem.items().length).toBe(1);
    mem.remove('id');
    expect(mem.items().length).toBe(0);
  });
});

describe('RealtimeClient', () => {
  it('says hello with the visitor token, subscribes on ready, dedupes events', () => {
    const t = setup();
    t.rt.addConversation({ id: CONV, status: 'open', last_seq: 2 });
    t.rt.start();
    expect(t.last().url).toBe('ws://example.test/ws/widget');
    t.last().open();
    expect(t.last().sent[0]).toEqual({ type: 'hello', token: 'vt_1' });
    expect(t.last().ofType('subscribe')).toEqual([]); // not before ready
    t.last().recv({ type: 'ready', heartbeat_ms: 25000, agents_online: false });
    expect(t.listener.onReady).toHaveBeenCalledWith(false);
    expect(t.last().ofType('subscribe')).toEqual([{ type: 'subscribe', conversation_id: CONV, after_seq: 0 }]);
    for (const s of [1, 2, 2, 1]) t.last().recv({ type: 'event', conversation_id: CONV, event: ev(s) });
    t.last().recv({ type: 'subscribed', conversation_id: CONV, last_seq: 2 });
    expect(t.delivered.map((e) => e.seq)).toEqual([1, 2]);
    expect(t.rt.lastSeq(CONV)).toBe(2);
  });

  it('re-subscribes with the last contiguous seq on a gap, once while in flight', () => {
    const t = setup();
    t.rt.addConversation({ id: CONV, status: 'open', last_seq: 1 });
    t.rt.start();
    t.handshake();
    const s = t.last();
    s.recv({ type: 'event', conversation_id: CONV, event: ev(1) });
    s.recv({ type: 'subscribed', conversation_id: CONV, last_seq: 1 });
    s.sent.length = 0;
    s.recv({ type: 'event', conversation_id: CONV, event: ev(4) });
    s.recv({ type: 'event', conversation_id: CONV, event: ev(5) });
    expect(s.ofType('subscribe')).toEqual([{ type: 'subscribe', conversation_id: CONV, after_seq: 1 }]);
    expect(t.delivered.map((e) => e.seq)).toEqual([1]);
    // the server replays 2..5; 4 and 5 are duplicates of buffered ones
    for (const n of [2, 3, 4, 5]) s.recv({ type: 'event', conversation_id: CONV, event: ev(n) });
    s.recv({ type: 'subscribed', conversation_id: CONV, last_seq: 5 });
    expect(t.delivered.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(s.ofType('subscribe').length).toBe(1);
  });

  it('subscribes to a conversation announced by a conversation frame', () => {
    const t = setup();
    t.rt.start();
    t.handshake();
    t.last().recv({ type: 'conversation', conversation: { id: CONV, status: 'open', last_seq: 1 } });
    t.last().recv({ type: 'conversation', conversation: { id: CONV, status: 'open', last_seq: 2 } });
    expect(t.last().ofType('subscribe')).toEqual([{ type: 'subscribe', conversation_id: CONV, after_seq: 0 }]);
  });

  it('keeps an unacked message in localStorage and re-sends it after a reload with the same client_id', () => {
    const storage = new MemoryStorage();
    const first = setup(storage);
    first.rt.start(); // never becomes ready: the network is down
    const m = item('typed just before the reload');
    first.rt.send(m);
    expect(first.last().ofType('send')).toEqual([]);
    expect(storage.getItem('parley:outbox:wk_test')).toContain(m.client_id);
    first.rt.stop();

    // the page reloads: a new client over the same storage
    const second = setup(storage);
    second.rt.start();
    second.handshake();
    expect(second.last().ofType('send')).toEqual([{ type: 'send', client_id: m.client_id, body: m.body }]);
    second.last().recv({ type: 'ack', client_id: m.client_id, conversation_id: CONV, seq: 1, event_id: 'e1', duplicate: false });
    expect(second.listener.onAck).toHaveBeenCalledWith(expect.objectContaining({ client_id: m.client_id, seq: 1 }), m);
    expect(storage.getItem('parley:outbox:wk_test')).toBeNull();
  });

  it('carries the entry option picked before the first message, also when re-sent after a reload', () => {
    const storage = new MemoryStorage();
    const first = setup(storage);
    first.rt.start();
    first.handshake();
    const m = { ...item('我的订单还没到'), group_id: 'g-after-sales' };
    first.rt.send(m);
    expect(first.last().ofType('send')).toEqual([{ type: 'send', client_id: m.client_id, body: m.body, group_id: 'g-after-sales' }]);
    first.rt.stop();
    const second = setup(storage);
    second.rt.start();
    second.handshake();
    expect(second.last().ofType('send')).toEqual([{ type: 'send', client_id: m.client_id, body: m.body, group_id: 'g-after-sales' }]);
  });

  it('after a lost connection: backs off, resubscribes from the last contiguous seq, re-sends unacked messages', () => {
    const t = setup();
    t.rt.addConversation({ id: CONV, status: 'open', last_seq: 0 });
    t.rt.start();
    t.handshake();
    t.last().recv({ type: 'event', conversation_id: CONV, event: ev(1) });
    t.last().recv({ type: 'event', conversation_id: CONV, event: ev(2) });
    const m = item('are you there?');
    t.rt.send(m);
    expect(t.last().ofType('send').map((f) => f.client_id)).toEqual([m.client_id]);
    t.last().drop(1006); // no ack came
    expect(t.sockets.length).toBe(1);
    vi.advanceTimersByTime(999);
    expect(t.sockets.length).toBe(1);
    vi.advanceTimersByTime(1);
    expect(t.sockets.length).toBe(2);
    t.handshake();
    expect(t.last().ofType('subscribe')).toEqual([{ type: 'subscribe', conversation_id: CONV, after_seq: 2 }]);
    expect(t.last().ofType('send')).toEqual([{ type: 'send', client_id: m.client_id, body: m.body }]);
    t.last().recv({ type: 'ack', client_id: m.client_id, conversation_id: CONV, seq: 3, event_id: 'e3', duplicate: true });
    expect(t.outbox.items()).toEqual([]);
    // a later reconnect has nothing left to send
    t.last().drop(1001);
    vi.advanceTimersByTime(1000);
    t.handshake();
    expect(t.last().ofType('send')).toEqual([]);
  });

  it('re-sends a message whose ack is overdue on a live connection, with the same client_id', () => {
    const t = setup();
    t.rt.start();
    t.handshake();
    const m = item('no ack yet');
    t.rt.send(m);
    vi.advanceTimersByTime(10000);
    t.last().recv({ type: 'pong' });
    expect(t.last().ofType('send').length).toBe(1);
    vi.advanceTimersByTime(10000);
    expect(t.last().ofType('send').map((f) => f.client_id)).toEqual([m.client_id, m.client_id]);
    t.last().recv({ type: 'ack', client_id: m.client_id, conversation_id: CONV, seq: 1, event_id: 'e1', duplicate: true });
    vi.advanceTimersByTime(30000);
    expect(t.last().ofType('send').length).toBe(2);
  });

  it('drops a message from the outbox when the replayed history already holds it', () => {
    const t = setup();
    const m = item('sent before the reload', 'cid-1');
    t.outbox.add(m);
    t.rt.addConversation({ id: CONV, status: 'open', last_seq: 1 });
    t.rt.start();
    t.last().open();
    t.last().recv({ type: 'event', conversation_id: CONV, event: ev(1, { client_id: 'cid-1', sender: { kind: 'visitor', id: null, name: null, avatar_url: null } }) });
    expect(t.outbox.items()).toEqual([]);
  });

  it('gives up on a message the server refuses for good', () => {
    const t = setup();
    t.rt.start();
    t.handshake();
    const m = item('x'.repeat(10));
    t.rt.send(m);
    t.last().recv({ type: 'error', code: 'validation_failed', message: 'too long', ref: m.client_id });
    expect(t.listener.onSendFailed).toHaveBeenCalledWith(m, 'validation_failed', 'too long');
    expect(t.outbox.items()).toEqual([]);
  });

  it('pings every heartbeat and treats 60 s of silence as a dead connection', () => {
    const t = setup();
    t.rt.start();
    t.handshake();
    const s = t.last();
    vi.advanceTimersByTime(25000);
    expect(s.ofType('ping').length).toBe(1);
    s.recv({ type: 'pong' });
    vi.advanceTimersByTime(59000);
    expect(s.closedWith).toBeNull();
    vi.advanceTimersByTime(1000); // 60 s since the pong
    expect(s.closedWith).toBe(4000);
    expect(t.rt.state).toBe('waiting');
    vi.advanceTimersByTime(1000);
    expect(t.sockets.length).toBe(2);
  });

  it('on close 4001 starts a new session, then reconnects with the new token', async () => {
    const t = setup();
    t.rt.start();
    t.handshake();
    t.last().drop(4001);
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.renewSession).toHaveBeenCalledTimes(1);
    expect(t.sockets.length).toBe(2);
    t.last().open();
    expect(t.last().sent[0]).toEqual({ type: 'hello', token: 'vt_2' });
  });

  it('on close 4003 stops for good', async () => {
    const t = setup();
    t.rt.start();
    t.handshake();
    t.last().drop(4003);
    expect(t.listener.onFatal).toHaveBeenCalledWith(4003);
    await vi.advanceTimersByTimeAsync(120000);
    expect(t.sockets.length).toBe(1);
    expect(t.rt.state).toBe('stopped');
  });

  it('sends page frames only for a new URL, and typing with the draft', () => {
    const t = setup();
    t.rt.setPage({ url: 'https://shop.test/', title: 'Home', referrer: '' }, true);
    t.rt.setPage({ url: 'https://shop.test/cart', title: 'Cart', referrer: '' }); // offline: sent on ready
    t.rt.start();
    t.handshake();
    expect(t.last().ofType('page')).toEqual([{ type: 'page', url: 'https://shop.test/cart', title: 'Cart', referrer: '' }]);
    t.rt.setPage({ url: 'https://shop.test/cart', title: 'Cart', referrer: '' });
    expect(t.last().ofType('page').length).toBe(1);
    t.rt.sendTyping(CONV, true, 'hel');
    t.rt.sendTyping(CONV, false);
    expect(t.last().ofType('typing')).toEqual([
      { type: 'typing', conversation_id: CONV, typing: true, draft: 'hel' },
      { type: 'typing', conversation_id: CONV, typing: false },
    ]);
  });
});

describe('backoffDelay', () => {
  it('doubles from 1 s and caps at 30 s, with jitter', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelay(n, () => 0.5))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(backoffDelay(0, () => 0)).toBe(800);
    expect(backoffDelay(0, () => 0.999)).toBeGreaterThan(1190);
    expect(backoffDelay(20, () => 0.999)).toBeLessThanOrEqual(30000);
  });
});

describe('TypingThrottle', () => {
  it('sends at most every 2 s with the newest draft, and typing:false when cleared', () => {
    const calls: [boolean, string][] = [];
    const t = new TypingThrottle((typing, draft) => calls.push([typing, draft]));
    t.input('h');
    t.input('he');
    t.input('hel');
    expect(calls).toEqual([[true, 'h']]);
    vi.advanceTimersByTime(2000);
    expect(calls).toEqual([
      [true, 'h'],
      [true, 'hel'],
    ]);
    t.input('');
    expect(calls[calls.length - 1]).toEqual([false, '']);
    t.stop(); // nothing more to say
    expect(calls.length).toBe(3);
  });

  it('says typing:false after the visitor stops typing', () => {
    const calls: [boolean, string][] = [];
    const t = new TypingThrottle((typing, draft) => calls.push([typing, draft]), 2000, 5000);
    t.input('hi');
    vi.advanceTimersByTime(5000);
    expect(calls).toEqual([
      [true, 'hi'],
      [false, ''],
    ]);
  });
});

describe('queue frames', () => {
  it('reports the position, and null once an agent has it', () => {
    const { rt, last, handshake, listener } = setup();
    const onQueue = vi.fn();
    listener.onQueue = onQueue;
    rt.start();
    handshake();
    last().recv({ type: 'queue', conversation_id: CONV, position: 2 });
    last().recv({ type: 'queue', conversation_id: CONV, position: null });
    last().recv({ type: 'queue', position: 1 });
    expect(onQueue.mock.calls).toEqual([
      [CONV, 2],
      [CONV, null],
    ]);
  });

  it('keeps the seq gapless across internal placeholders (they are delivered, the UI skips them)', () => {
    const { rt, last, handshake, delivered } = setup();
    rt.addConversation({ id: CONV, status: 'open', last_seq: 0 });
    rt.start();
    handshake();
    last().recv({ type: 'event', conversation_id: CONV, event: ev(1) });
    last().recv({ type: 'event', conversation_id: CONV, event: ev(2, { kind: 'internal', sender: undefined as never }) });
    last().recv({ type: 'event', conversation_id: CONV, event: ev(3) });
    expect(delivered.map((e) => [e.seq, e.kind])).toEqual([
      [1, 'message'],
      [2, 'internal'],
      [3, 'message'],
    ]);
    expect(last().sent.filter((f) => f.type === 'subscribe').length).toBe(1);
  });
});

describe('newClientId', () => {
  it('makes distinct v4 UUIDs, also without crypto.randomUUID', () => {
    const re = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(newClientId()).toMatch(/^[0-9a-f-]{36}$/);
    const c = globalThis.crypto;
    // randomUUID lives on Crypto.prototype: shadow it on the instance
    Object.defineProperty(c, 'randomUUID', { value: undefined, configurable: true });
    try {
      const a = newClientId();
      expect(a).toMatch(re);
      expect(newClientId()).not.toBe(a);
    } finally {
      delete (c as unknown as Record<string, unknown>).randomUUID;
    }
    expect(typeof c.randomUUID).toBe('function');
  });
});
