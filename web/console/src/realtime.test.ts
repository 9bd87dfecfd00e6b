import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  BACKOFF_CAP_MS,
  Outbox,
  RealtimeClient,
  SeqTracker,
  agentSocketUrl,
  backoffDelay,
  type RealtimeEvent,
  type SocketLike,
} from './realtime'
import type { ConvEvent } from './types'

// ---------------------------------------------------------------------------
// helpers

class FakeSocket implements SocketLike {
  readyState = 0
  sent: Record<string, unknown>[] = []
  closedWith: number | null = null
  onopen: ((ev: unknown) => void) | null = null
  onmessage: ((ev: { data: unknown }) => void) | null = null
  onclose: ((ev: { code: number; reason?: string }) => void) | null = null
  onerror: ((ev: unknown) => void) | null = null

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('not open')
    this.sent.push(JSON.parse(data))
  }
  close(code = 1000): void {
    this.closedWith = code
    this.readyState = 3
  }
  // server side
  open(): void {
    this.readyState = 1
    this.onopen?.({})
  }
  receive(frame: object): void {
    this.onmessage?.({ data: JSON.stringify(frame) })
  }
  drop(code = 1006): void {
    this.readyState = 3
    this.onclose?.({ code })
  }
  framesOfType(type: string): Record<string, unknown>[] {
    return this.sent.filter((f) => f.type === type)
  }
}

const user = { id: 'u1', email: 'a@x', name: 'Ana', role: 'agent', status: 'online', avatar_url: null }

function ev(conversationId: string, seq: number, body = `m${seq}`): ConvEvent {
  return {
    id: `e${seq}`,
    conversation_id: conversationId,
    seq,
    kind: 'message',
    created_at: '2024-01-01T00:00:00Z',
    sender: { kind: 'visitor', id: 'v1', name: null, avatar_url: null },
    client_id: null,
    body,
    attachments: [],
    status: null,
    assignee: null,
  }
}

function setup() {
  const sockets: FakeSocket[] = []
  const events: RealtimeEvent[] = []
  const client = new RealtimeClient({
    url: 'ws://test/ws/agent',
    createSocket: (url) => {
      const s = new FakeSocket(url)
      sockets.push(s)
      return s
    },
    random: () => 0.5,
  })
  client.on((e) => events.push(e))
  const current = () => sockets[sockets.length - 1]
  const connect = () => {
    current().open()
    current().receive({ type: 'ready', heartbeat_ms: 25000, user })
  }
  const delivered = (conversationId?: string) =>
    events
      .filter((e): e is Extract<RealtimeEvent, { type: 'event' }> => e.type === 'event')
      .filter((e) => !conversationId || e.conversationId === conversationId)
      .map((e) => e.event.seq)
  return { client, sockets, events, current, connect, delivered }
}

// ---------------------------------------------------------------------------

describe('SeqTracker', () => {
  it('accepts contiguous events and advances', () => {
    const t = new SeqTracker()
    t.track('c', 3)
    expect(t.accept('c', 4)).toBe('accept')
    expect(t.accept('c', 5)).toBe('accept')
    expect(t.lastSeq('c')).toBe(5)
  })

  it('flags duplicates without moving', () => {
    const t = new SeqTracker()
    t.track('c', 5)
    expect(t.accept('c', 5)).toBe('duplicate')
    expect(t.accept('c', 2)).toBe('duplicate')
    expect(t.lastSeq('c')).toBe(5)
  })

  it('reports a gap once, then holds off until subscribed', () => {
    const t = new SeqTracker()
    t.track('c', 5)
    expect(t.accept('c', 8)).toBe('gap')
    expect(t.accept('c', 9)).toBe('ahead')
    expect(t.lastSeq('c')).toBe(5)
    // replay fills the hole
    expect(t.accept('c', 6)).toBe('accept')
    expect(t.accept('c', 7)).toBe('accept')
    expect(t.accept('c', 8)).toBe('accept')
    expect(t.subscribed('c', 8)).toBe(false)
    expect(t.accept('c', 10)).toBe('gap')
  })

  it('asks for another resubscribe when subscribed reports more than held', () => {
    const t = new SeqTracker()
    t.track('c', 2)
    t.markResyncing('c')
    expect(t.subscribed('c', 4)).toBe(true)
    expect(t.subscribed('c', 2)).toBe(false)
  })

  it('ignores untracked conversations', () => {
    const t = new SeqTracker()
    expect(t.accept('x', 1)).toBe('untracked')
    t.track('x', 0)
    t.untrack('x')
    expect(t.accept('x', 1)).toBe('untracked')
  })
})

describe('Outbox', () => {
  it('keeps insertion order and removes on ack', () => {
    const o = new Outbox()
    o.add({ type: 'send', client_id: 'a', conversation_id: 'c', body: '1' })
    o.add({ type: 'send', client_id: 'b', conversation_id: 'c', body: '2' })
    o.add({ type: 'send', client_id: 'a', conversation_id: 'c', body: '1' })
    expect(o.pending().map((f) => f.client_id)).toEqual(['a', 'b'])
    expect(o.remove('a')).toBe(true)
    expect(o.remove('a')).toBe(false)
    expect(o.pending().map((f) => f.client_id)).toEqual(['b'])
    expect(o.size).toBe(1)
  })
})

describe('backoffDelay', () => {
  it('doubles from 1 s and caps at 30 s with jitter', () => {
    expect(backoffDelay(0, () => 1)).toBe(1000)
    expect(backoffDelay(1, () => 1)).toBe(2000)
    expect(backoffDelay(2, () => 1)).toBe(4000)
    expect(backoffDelay(10, () => 1)).toBe(BACKOFF_CAP_MS)
    expect(backoffDelay(50, () => 1)).toBe(BACKOFF_CAP_MS)
    expect(backoffDelay(0, () => 0)).toBe(800)
    const a = backoffDelay(3, () => 0.1)
    const b = backoffDelay(3, () => 0.9)
    expect(a).not.toBe(b)
    expect(a).toBeGreaterThanOrEqual(6400)
    expect(b).toBeLessThanOrEqual(8000)
  })
})

describe('agentSocketUrl', () => {
  it('uses wss on https', () => {
    expect(agentSocketUrl({ protocol: 'https:', host: 'p.example.com' })).toBe('wss://p.example.com/ws/agent')
    expect(agentSocketUrl({ protocol: 'http:', host: 'localhost:8080' })).toBe('ws://localhost:8080/ws/agent')
  })
})

describe('RealtimeClient', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('sends hello on open and subscribes after ready', () => {
    const { client, current, connect } = setup()
    client.subscribe('c1', 4)
    client.start()
    current().open()
    expect(current().sent).toEqual([{ type: 'hello' }])
    current().receive({ type: 'ready', heartbeat_ms: 25000, user })
    expect(current().framesOfType('subscribe')).toEqual([{ type: 'subscribe', conversation_id: 'c1', after_seq: 4 }])
    void connect
  })

  it('delivers contiguous events and drops duplicates', () => {
    const { client, current, connect, delivered } = setup()
    client.start()
    connect()
    client.subscribe('c1', 0)
    current().receive({ type: 'event', conversation_id: 'c1', event: ev('c1', 1) })
    current().receive({ type: 'event', conversation_id: 'c1', event: ev('c1', 2) })
    current().receive({ type: 'event', conversation_id: 'c1', event: ev('c1', 2) })
    current().receive({ type: 'event', conversation_id: 'c1', event: ev('c1', 1) })
    current().receive({ type: 'event', conversation_id: 'c1', event: ev('c1', 3) })
    expect(delivered('c1')).toEqual([1, 2, 3])
  })

  it('re-subscribes from the last contiguous seq on a gap and fills it from the replay', () => {
    const { client, current, connect, delivered } = setup()
    client.start()
    connect()
    client.subscribe('c1', 0)
    current().receive({ type: 'subscribed', conversation_id: 'c1', last_seq: 0 })
    current().receive({ type: 'event', conversation_id: 'c1', event: ev('c1', 1) })
    current().receive({ type: 'event', conversation_id: 'c1', event: ev('c1', 4) })
    current().receive({ type: 'event', conversation_id: 'c1', event: ev('c1', 5) })
    const subs = current().framesOfType('subscribe')
    expect(subs).toEqual([
      { type: 'subscribe', conversation_id: 'c1', after_seq: 0 },
      { type: 'subscribe', conversation_id: 'c1', after_seq: 1 },
    ])
    expect(delivered('c1')).toEqual([1])
    for (const s of [2, 3, 4, 5]) current().receive({ type: 'event', conversation_id: 'c1', event: ev('c1', s) })
    current().receive({ type: 'subscribed', conversation_id: 'c1', last_seq: 5 })
    expect(delivered('c1')).toEqual([1, 2, 3, 4, 5])
    expect(current().framesOfType('subscribe')).toHaveLength(2)
  })

  it('resumes every subscription from its last contiguous seq after a reconnect', () => {
    const { client, sockets, current, connect, delivered } = setup()
    client.subscribe('c1', 10)
    client.subscribe('c2', 0)
    client.start()
    connect()
    current().receive({ type: 'event', conversation_id: 'c1', event: ev('c1', 11) })
    current().receive({ type: 'event', conversation_id: 'c1', event: ev('c1', 12) })
    current().receive({ type: 'event', conversation_id: 'c2', event: ev('c2', 1) })
    current().drop(1006)
    expect(client.state).toBe('reconnecting')

    vi.advanceTimersByTime(899) // 1 s minus jitter (random 0.5 → 900 ms)
    expect(sockets).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(sockets).toHaveLength(2)
    connect()
    const subs = current().framesOfType('subscribe')
    expect(subs).toContainEqual({ type: 'subscribe', conversation_id: 'c1', after_seq: 12 })
    expect(subs).toContainEqual({ type: 'subscribe', conversation_id: 'c2', after_seq: 1 })
    // replayed duplicate is dropped, new one delivered
    current().receive({ type: 'event', conversation_id: 'c1', event: ev('c1', 12) })
    current().receive({ type: 'event', conversation_id: 'c1', event: ev('c1', 13) })
    expect(delivered('c1')).toEqual([11, 12, 13])
  })

  it('re-sends unacknowledged messages with the same client_id after reconnecting', () => {
    const { client, current, connect, events } = setup()
    client.start()
    connect()
    client.send({ client_id: 'k1', conversation_id: 'c1', body: 'hello' })
    client.send({ client_id: 'k2', conversation_id: 'c1', body: 'world', attachment_ids: ['a1'] })
    expect(current().framesOfType('send').map((f) => f.client_id)).toEqual(['k1', 'k2'])
    current().receive({ type: 'ack', client_id: 'k1', conversation_id: 'c1', seq: 7, event_id: 'e7', duplicate: false })
    expect(events).toContainEqual({ type: 'ack', clientId: 'k1', conversationId: 'c1', seq: 7, eventId: 'e7', duplicate: false })
    current().drop(1001)
    vi.advanceTimersByTime(1000)
    connect()
    expect(current().framesOfType('send')).toEqual([
      { type: 'send', client_id: 'k2', conversation_id: 'c1', body: 'world', attachment_ids: ['a1'] },
    ])
    current().receive({ type: 'ack', client_id: 'k2', conversation_id: 'c1', seq: 8, event_id: 'e8', duplicate: true })
    expect(client.outbox.size).toBe(0)
  })

  it('queues sends made while disconnected and flushes them on ready', () => {
    const { client, current, connect } = setup()
    client.send({ client_id: 'k1', conversation_id: 'c1', body: 'offline' })
    client.start()
    current().open()
    expect(current().framesOfType('send')).toHaveLength(0)
    current().receive({ type: 'ready', user })
    expect(current().framesOfType('send').map((f) => f.client_id)).toEqual(['k1'])
    void connect
  })

  it('reports a rejected send and stops re-sending it', () => {
    const { client, current, connect, events } = setup()
    client.start()
    connect()
    client.send({ client_id: 'k1', conversation_id: 'c1', body: 'x' })
    current().receive({ type: 'error', code: 'validation_failed', message: 'too long', ref: 'k1' })
    expect(events).toContainEqual({ type: 'send_failed', clientId: 'k1', code: 'validation_failed', message: 'too long' })
    expect(client.outbox.has('k1')).toBe(false)
  })

  it('pings, and treats 60 s of silence as a dead connection', () => {
    const { client, sockets, current, connect } = setup()
    client.start()
    connect()
    vi.advanceTimersByTime(25000)
    expect(current().framesOfType('ping').length).toBeGreaterThanOrEqual(1)
    current().receive({ type: 'pong' })
    vi.advanceTimersByTime(59000)
    expect(sockets).toHaveLength(1)
    vi.advanceTimersByTime(1000)
    expect(sockets[0].closedWith).toBe(4000)
    expect(client.state).toBe('reconnecting')
    vi.advanceTimersByTime(1000)
    expect(sockets).toHaveLength(2)
  })

  it('backs off exponentially and resets after a successful ready', () => {
    const { client, sockets, current, connect } = setup()
    client.start()
    current().drop() // attempt 0 → 900 ms with random 0.5
    vi.advanceTimersByTime(900)
    expect(sockets).toHaveLength(2)
    current().drop() // attempt 1 → 1800 ms
    vi.advanceTimersByTime(1799)
    expect(sockets).toHaveLength(2)
    vi.advanceTimersByTime(1)
    expect(sockets).toHaveLength(3)
    connect()
    current().drop()
    vi.advanceTimersByTime(900)
    expect(sockets).toHaveLength(4)
  })

  it('does not reconnect after 4001 or after stop()', () => {
    const a = setup()
    a.client.start()
    a.connect()
    a.current().drop(4001)
    expect(a.client.state).toBe('unauthorized')
    vi.advanceTimersByTime(60000)
    expect(a.sockets).toHaveLength(1)

    const b = setup()
    b.client.start()
    b.connect()
    b.client.stop()
    expect(b.sockets[0].closedWith).toBe(1000)
    vi.advanceTimersByTime(60000)
    expect(b.sockets).toHaveLength(1)
  })

  it('stops following an unsubscribed conversation', () => {
    const { client, current, connect, delivered } = setup()
    client.start()
    connect()
    client.subscribe('c1', 0)
    client.unsubscribe('c1')
    expect(current().framesOfType('unsubscribe')).toEqual([{ type: 'unsubscribe', conversation_id: 'c1' }])
    current().receive({ type: 'event', conversation_id: 'c1', event: ev('c1', 1) })
    expect(delivered()).toEqual([])
  })
  it('passes routing frames on: viewers, transfer, mention, resync, busy status', () => {
    const { client, current, connect, events } = setup()
    client.start()
    connect()
    current().receive({ type: 'viewers', conversation_id: 'c1', viewers: [{ id: 'u2', name: 'Bo' }, null] })
    current().receive({ type: 'transfer', conversation_id: 'c1', from: { id: 'u2', name: 'Bo' }, note: 'refund' })
    current().receive({ type: 'mention', conversation_id: 'c1', event: { ...ev('c1', 4), kind: 'note' } })
    current().receive({ type: 'resync' })
    current().receive({ type: 'agent_status', user_id: 'u2', status: 'busy' })
    const got = events.filter((e) => e.type !== 'state' && e.type !== 'ready')
    expect(got).toEqual([
      { type: 'viewers', conversationId: 'c1', viewers: [{ id: 'u2', name: 'Bo' }] },
      { type: 'transfer', conversationId: 'c1', from: { id: 'u2', name: 'Bo' }, note: 'refund' },
      { type: 'mention', conversationId: 'c1', event: { ...ev('c1', 4), kind: 'note' } },
      { type: 'resync' },
      { type: 'agent_status', userId: 'u2', status: 'busy' },
    ])
    expect(client.setStatus('busy')).toBe(true)
    expect(current().framesOfType('status')).toEqual([{ type: 'status', status: 'busy' }])
  })
})
