// Realtime client for the agent WebSocket (/ws/agent), see docs/protocol.md §5.
//
// Framework-free. The sequence bookkeeping (SeqTracker), the unacknowledged-send
// outbox (Outbox) and the backoff (backoffDelay) are plain and socket-free; the
// RealtimeClient takes a socket factory so tests can drive it with a fake socket.

import type { AgentStatus, Conversation, ConvEvent, Presence, SenderKind, User, Visitor } from './types'

// ---------------------------------------------------------------------------
// Sequence tracking

/**
 * What to do with an incoming event:
 * - `accept`: it is the next contiguous one (the tracker advanced);
 * - `duplicate`: already held, ignore it;
 * - `gap`: events are missing, re-subscribe from `lastSeq()`;
 * - `ahead`: out of order while a re-subscription is under way, ignore it
 *   (the server replays it);
 * - `untracked`: not a conversation we follow.
 */
export type SeqVerdict = 'accept' | 'duplicate' | 'gap' | 'ahead' | 'untracked'

export class SeqTracker {
  private readonly last = new Map<string, number>()
  private readonly resyncing = new Set<string>()

  /** Follow a conversation whose events up to `afterSeq` the caller already holds. */
  track(conversationId: string, afterSeq: number): void {
    this.last.set(conversationId, Math.max(0, afterSeq))
    this.resyncing.delete(conversationId)
  }

  untrack(conversationId: string): void {
    this.last.delete(conversationId)
    this.resyncing.delete(conversationId)
  }

  has(conversationId: string): boolean {
    return this.last.has(conversationId)
  }

  /** Last contiguous seq held, or undefined when not tracked. */
  lastSeq(conversationId: string): number | undefined {
    return this.last.get(conversationId)
  }

  conversations(): string[] {
    return [...this.last.keys()]
  }

  accept(conversationId: string, seq: number): SeqVerdict {
    const last = this.last.get(conversationId)
    if (last === undefined) return 'untracked'
    if (seq <= last) return 'duplicate'
    if (seq === last + 1) {
      this.last.set(conversationId, seq)
      return 'accept'
    }
    if (this.resyncing.has(conversationId)) return 'ahead'
    this.resyncing.add(conversationId)
    return 'gap'
  }

  /** A (re-)subscribe frame went out: hold off further gap reports until `subscribed`. */
  markResyncing(conversationId: string): void {
    if (this.last.has(conversationId)) this.resyncing.add(conversationId)
  }

  /**
   * The server confirmed a subscription and reported its last seq. Returns true
   * when events are still missing, i.e. the caller must re-subscribe.
   */
  subscribed(conversationId: string, serverLastSeq: number): boolean {
    this.resyncing.delete(conversationId)
    const last = this.last.get(conversationId)
    if (last === undefined || serverLastSeq <= last) return false
    this.resyncing.add(conversationId)
    return true
  }

  /** The connection dropped: subscriptions are gone, so is any pending resync. */
  connectionLost(): void {
    this.resyncing.clear()
  }
}

// ---------------------------------------------------------------------------
// Outbox of sends not yet acknowledged

export interface SendFrame {
  type: 'send'
  client_id: string
  conversation_id: string
  body: string
  attachment_ids?: string[]
}

export class Outbox {
  private readonly items = new Map<string, SendFrame>()

  add(frame: SendFrame): void {
    this.items.set(frame.client_id, frame)
  }

  /** Remove an acknowledged (or definitively rejected) send; true if it was held. */
  remove(clientId: string): boolean {
    return this.items.delete(clientId)
  }

  has(clientId: string): boolean {
    return this.items.has(clientId)
  }

  /** Unacknowledged sends, oldest first. */
  pending(): SendFrame[] {
    return [...this.items.values()]
  }

  get size(): number {
    return this.items.size
  }
}

// ---------------------------------------------------------------------------
// Backoff

export const BACKOFF_BASE_MS = 1000
export const BACKOFF_CAP_MS = 30000

/** Delay before reconnect attempt `attempt` (0-based): 1 s, 2 s, 4 s … capped at 30 s, minus up to 20 % jitter. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const exp = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, Math.min(attempt, 16)))
  return Math.round(exp * (0.8 + 0.2 * random()))
}

// ---------------------------------------------------------------------------
// Frames and events

export interface TypingFrom {
  kind: Exclude<SenderKind, 'bot'>
  id: string | null
  name: string | null
}

/** A colleague as the `viewers` and `transfer` frames name them. */
export interface Viewer {
  id: string
  name: string
}

export type ServerFrame =
  | { type: 'ready'; heartbeat_ms?: number; user: User }
  | { type: 'event'; conversation_id: string; event: ConvEvent }
  | { type: 'subscribed'; conversation_id: string; last_seq: number }
  | { type: 'ack'; client_id: string; conversation_id: string; seq: number; event_id: string; duplicate: boolean }
  | { type: 'inbox'; conversation: Conversation }
  | { type: 'typing'; conversation_id: string; from: TypingFrom; typing: boolean; draft?: string | null }
  | { type: 'visitor'; visitor: Visitor }
  | { type: 'agent_status'; user_id: string; status: Presence }
  | { type: 'viewers'; conversation_id: string; viewers: Viewer[] }
  | { type: 'transfer'; conversation_id: string; from: Viewer | null; note?: string | null }
  | { type: 'mention'; conversation_id: string; event: ConvEvent }
  | { type: 'resync' }
  | { type: 'error'; code: string; message: string; ref?: string | null }
  | { type: 'pong' }

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed' | 'unauthorized'

export type RealtimeEvent =
  | { type: 'state'; state: ConnectionState }
  | { type: 'ready'; user: User }
  | { type: 'event'; conversationId: string; event: ConvEvent }
  | { type: 'subscribed'; conversationId: string; lastSeq: number }
  | { type: 'ack'; clientId: string; conversationId: string; seq: number; eventId: string; duplicate: boolean }
  | { type: 'send_failed'; clientId: string; code: string; message: string }
  | { type: 'inbox'; conversation: Conversation }
  | { type: 'typing'; conversationId: string; from: TypingFrom; typing: boolean; draft: string | null }
  | { type: 'visitor'; visitor: Visitor }
  | { type: 'agent_status'; userId: string; status: Presence }
  | { type: 'viewers'; conversationId: string; viewers: Viewer[] }
  | { type: 'transfer'; conversationId: string; from: Viewer | null; note: string | null }
  | { type: 'mention'; conversationId: string; event: ConvEvent }
  | { type: 'resync' }
  | { type: 'error'; code: string; message: string; ref: string | null }

export type RealtimeListener = (event: RealtimeEvent) => void

// ---------------------------------------------------------------------------
// Socket abstraction

export interface SocketLike {
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
  onopen: ((ev: unknown) => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
  onclose: ((ev: { code: number; reason?: string }) => void) | null
  onerror: ((ev: unknown) => void) | null
}

export type SocketFactory = (url: string) => SocketLike

export interface RealtimeOptions {
  url: string | (() => string)
  createSocket?: SocketFactory
  random?: () => number
  now?: () => number
  /** Ping interval; replaced by the server's `heartbeat_ms` from `ready`. */
  heartbeatMs?: number
  /** Silence after which the connection counts as dead. */
  deadAfterMs?: number
}

const OPEN = 1
const WATCHDOG_MS = 5000

export const CLOSE_NORMAL = 1000
export const CLOSE_HEARTBEAT = 4000
export const CLOSE_UNAUTHENTICATED = 4001
export const CLOSE_ORIGIN = 4003

export function agentSocketUrl(loc: { protocol: string; host: string } = location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws/agent`
}

// ---------------------------------------------------------------------------
// Client

export class RealtimeClient {
  readonly seq = new SeqTracker()
  readonly outbox = new Outbox()

  private readonly listeners = new Set<RealtimeListener>()
  private readonly createSocket: SocketFactory
  private readonly random: () => number
  private readonly now: () => number
  private readonly deadAfterMs: number
  private heartbeatMs: number

  private ws: SocketLike | null = null
  private ready = false
  private stopped = true
  private attempt = 0
  private lastSeen = 0
  private lastPing = 0
  private watchdog: ReturnType<typeof setInterval> | null = null
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null
  private _state: ConnectionState = 'idle'

  constructor(private readonly options: RealtimeOptions) {
    this.createSocket = options.createSocket ?? ((url) => new WebSocket(url) as unknown as SocketLike)
    this.random = options.random ?? Math.random
    this.now = options.now ?? (() => Date.now())
    this.heartbeatMs = options.heartbeatMs ?? 25000
    this.deadAfterMs = options.deadAfterMs ?? 60000
  }

  get state(): ConnectionState {
    return this._state
  }

  get isReady(): boolean {
    return this.ready
  }

  on(listener: RealtimeListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  start(): void {
    if (!this.stopped) return
    this.stopped = false
    this.attempt = 0
    this.connect()
  }

  stop(): void {
    this.stopped = true
    this.clearTimers()
    const ws = this.ws
    this.ws = null
    this.ready = false
    this.seq.connectionLost()
    if (ws) {
      detach(ws)
      try { ws.close(CLOSE_NORMAL, 'bye') } catch { /* already closed */ }
    }
    this.setState('closed')
  }

  /** Skip the backoff wait (e.g. the browser came back online). */
  reconnectNow(): void {
    if (this.stopped || this.ws) return
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer)
    this.reconnectTimer = null
    this.connect()
  }

  // -- commands --------------------------------------------------------------

  subscribe(conversationId: string, afterSeq: number): void {
    this.seq.track(conversationId, afterSeq)
    if (this.ready) this.sendSubscribe(conversationId)
  }

  unsubscribe(conversationId: string): void {
    if (!this.seq.has(conversationId)) return
    this.seq.untrack(conversationId)
    if (this.ready) this.write({ type: 'unsubscribe', conversation_id: conversationId })
  }

  /** Queue a message; it is (re-)sent until acknowledged or rejected. */
  send(frame: Omit<SendFrame, 'type'>): void {
    const full: SendFrame = { type: 'send', ...frame }
    if (!full.attachment_ids || full.attachment_ids.length === 0) delete full.attachment_ids
    this.outbox.add(full)
    if (this.ready) this.write(full)
  }

  typing(conversationId: string, typing: boolean): boolean {
    return this.ready && this.write({ type: 'typing', conversation_id: conversationId, typing })
  }

  /** Returns false when not connected (the caller can use REST instead). */
  read(conversationId: string, seq: number): boolean {
    return this.ready && this.write({ type: 'read', conversation_id: conversationId, seq })
  }

  setStatus(status: AgentStatus): boolean {
    return this.ready && this.write({ type: 'status', status })
  }

  // -- connection ------------------------------------------------------------

  private connect(): void {
    this.reconnectTimer = null
    this.setState(this.attempt === 0 ? 'connecting' : 'reconnecting')
    const url = typeof this.options.url === 'function' ? this.options.url() : this.options.url
    let ws: SocketLike
    try {
      ws = this.createSocket(url)
    } catch {
      this.scheduleReconnect()
      return
    }
    this.ws = ws
    ws.onopen = () => {
      if (ws !== this.ws) return
      this.lastSeen = this.now()
      this.lastPing = this.lastSeen
      this.write({ type: 'hello' })
      this.startWatchdog()
    }
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return
      this.lastSeen = this.now()
      if (typeof ev.data !== 'string') return
      let frame: ServerFrame
      try {
        frame = JSON.parse(ev.data) as ServerFrame
      } catch {
        return
      }
      if (frame && typeof frame === 'object' && typeof frame.type === 'string') this.handle(frame)
    }
    ws.onclose = (ev) => {
      if (ws !== this.ws) return
      this.handleClose(ev.code)
    }
    ws.onerror = () => {
      /* onclose follows */
    }
  }

  private handleClose(code: number): void {
    const ws = this.ws
    this.ws = null
    if (ws) detach(ws)
    this.ready = false
    this.seq.connectionLost()
    this.clearTimers()
    if (this.stopped) {
      this.setState('closed')
      return
    }
    if (code === CLOSE_UNAUTHENTICATED) {
      this.stopped = true
      this.setState('unauthorized')
      return
    }
    if (code === CLOSE_ORIGIN) {
      this.stopped = true
      this.setState('closed')
      return
    }
    this.scheduleReconnect()
  }

  private scheduleReconnect(): void {
    const delay = backoffDelay(this.attempt, this.random)
    this.attempt += 1
    this.setState('reconnecting')
    this.reconnectTimer = setTimeout(() => this.connect(), delay)
  }

  private startWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog)
    this.watchdog = setInterval(() => {
      const now = this.now()
      if (now - this.lastSeen >= this.deadAfterMs) {
        const ws = this.ws
        if (ws) {
          detach(ws)
          try { ws.close(CLOSE_HEARTBEAT, 'heartbeat timeout') } catch { /* ignore */ }
        }
        this.handleClose(CLOSE_HEARTBEAT)
        return
      }
      if (now - this.lastPing >= this.heartbeatMs) {
        this.lastPing = now
        this.write({ type: 'ping' })
      }
    }, Math.min(WATCHDOG_MS, this.heartbeatMs))
  }

  private clearTimers(): void {
    if (this.watchdog) clearInterval(this.watchdog)
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer)
    this.watchdog = null
    this.reconnectTimer = null
  }

  private write(frame: object): boolean {
    const ws = this.ws
    if (!ws || ws.readyState !== OPEN) return false
    try {
      ws.send(JSON.stringify(frame))
      return true
    } catch {
      return false
    }
  }

  private sendSubscribe(conversationId: string): void {
    const afterSeq = this.seq.lastSeq(conversationId)
    if (afterSeq === undefined) return
    this.seq.markResyncing(conversationId)
    this.write({ type: 'subscribe', conversation_id: conversationId, after_seq: afterSeq })
  }

  // -- incoming --------------------------------------------------------------

  private handle(frame: ServerFrame): void {
    switch (frame.type) {
      case 'ready': {
        this.ready = true
        this.attempt = 0
        if (typeof frame.heartbeat_ms === 'number' && frame.heartbeat_ms >= 1000) {
          this.heartbeatMs = frame.heartbeat_ms
          this.startWatchdog()
        }
        this.setState('open')
        this.emit({ type: 'ready', user: frame.user })
        for (const id of this.seq.conversations()) this.sendSubscribe(id)
        for (const pending of this.outbox.pending()) this.write(pending)
        break
      }
      case 'event': {
        const id = frame.conversation_id ?? frame.event?.conversation_id
        if (!frame.event || !id) return
        const verdict = this.seq.accept(id, frame.event.seq)
        if (verdict === 'accept') this.emit({ type: 'event', conversationId: id, event: frame.event })
        else if (verdict === 'gap') this.write({ type: 'subscribe', conversation_id: id, after_seq: this.seq.lastSeq(id) })
        break
      }
      case 'subscribed': {
        if (this.seq.subscribed(frame.conversation_id, frame.last_seq)) this.sendSubscribe(frame.conversation_id)
        this.emit({ type: 'subscribed', conversationId: frame.conversation_id, lastSeq: frame.last_seq })
        break
      }
      case 'ack': {
        this.outbox.remove(frame.client_id)
        this.emit({
          type: 'ack',
          clientId: frame.client_id,
          conversationId: frame.conversation_id,
          seq: frame.seq,
          eventId: frame.event_id,
          duplicate: !!frame.duplicate,
        })
        break
      }
      case 'error': {
        const ref = frame.ref ?? null
        if (ref && this.outbox.remove(ref)) {
          this.emit({ type: 'send_failed', clientId: ref, code: frame.code, message: frame.message })
        } else {
          if (ref && this.seq.has(ref)) this.seq.untrack(ref)
          this.emit({ type: 'error', code: frame.code, message: frame.message, ref })
        }
        break
      }
      case 'inbox':
        this.emit({ type: 'inbox', conversation: frame.conversation })
        break
      case 'typing':
        this.emit({
          type: 'typing',
          conversationId: frame.conversation_id,
          from: frame.from,
          typing: !!frame.typing,
          draft: frame.draft ?? null,
        })
        break
      case 'visitor':
        this.emit({ type: 'visitor', visitor: frame.visitor })
        break
      case 'agent_status':
        this.emit({ type: 'agent_status', userId: frame.user_id, status: frame.status })
        break
      case 'viewers':
        if (!frame.conversation_id) return
        this.emit({
          type: 'viewers',
          conversationId: frame.conversation_id,
          viewers: Array.isArray(frame.viewers) ? frame.viewers.filter((v) => v && typeof v.id === 'string') : [],
        })
        break
      case 'transfer':
        if (!frame.conversation_id) return
        this.emit({ type: 'transfer', conversationId: frame.conversation_id, from: frame.from ?? null, note: frame.note ?? null })
        break
      case 'mention': {
        const id = frame.conversation_id ?? frame.event?.conversation_id
        if (!id || !frame.event) return
        this.emit({ type: 'mention', conversationId: id, event: frame.event })
        break
      }
      case 'resync':
        this.emit({ type: 'resync' })
        break
      case 'pong':
        break
    }
  }

  private setState(state: ConnectionState): void {
    if (this._state === state) return
    this._state = state
    this.emit({ type: 'state', state })
  }

  private emit(event: RealtimeEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event)
      } catch (e) {
        console.error('realtime listener failed', e)
      }
    }
  }
}

function detach(ws: SocketLike): void {
  ws.onopen = null
  ws.onmessage = null
  ws.onclose = null
  ws.onerror = null
}
