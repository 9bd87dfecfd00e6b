// The open conversation: history, live events, pending sends, typing, visitor.

import { reactive } from 'vue'
import { api, ApiError, qs } from '../api'
import type { Viewer } from '../realtime'
import type { Attachment, Conversation, ConvEvent, EventPage, Visitor } from '../types'
import { uuid } from '../util'
import { features, noteMissing } from './features'
import { applyConversation, patchConversation } from './inbox'
import { session } from './session'
import { client } from './socket'

const PAGE = 50
const ACK_TIMEOUT_MS = 20_000
const TYPING_EXPIRY_MS = 6_000

export type PendingState = 'sending' | 'failed' | 'sent'

export interface PendingMessage {
  clientId: string
  /** A reply to the visitor, or an internal note (sent over REST only). */
  kind: 'message' | 'note'
  conversationId: string
  body: string
  attachments: Attachment[]
  state: PendingState
  seq: number | null
  error: string | null
  createdAt: string
}

export interface TypingInfo {
  kind: 'visitor' | 'agent' | 'system'
  name: string | null
  draft: string | null
}

export const chat = reactive({
  id: null as string | null,
  conversation: null as Conversation | null,
  visitor: null as Visitor | null,
  events: [] as ConvEvent[],
  hasMore: false,
  loading: false,
  loadingOlder: false,
  error: null as unknown,
  typing: null as TypingInfo | null,
  /** Colleagues who have this conversation open right now (not me). */
  viewers: [] as Viewer[],
  /** Bumped whenever a live event is appended (the pane scrolls on it). */
  liveTick: 0,
})

/** Sends not yet confirmed by their event, across conversations, by client_id. */
export const pending = reactive(new Map<string, PendingMessage>())

let generation = 0
let typingTimer: ReturnType<typeof setTimeout> | null = null
const ackTimers = new Map<string, ReturnType<typeof setTimeout>>()
const lastReadSent = new Map<string, number>()

// ---------------------------------------------------------------------------
// opening and history

export async function openConversation(id: string): Promise<void> {
  if (chat.id === id && (chat.conversation || chat.loading)) return
  closeConversation()
  const g = ++generation
  chat.id = id
  chat.loading = true
  try {
    const detail = await api.get<{ conversation: Conversation; visitor: Visitor }>(`/conversations/${id}`)
    if (g !== generation) return
    chat.conversation = detail.conversation
    chat.visitor = detail.visitor
    const before = detail.conversation.last_seq + 1
    const page = await api.get<EventPage>(`/conversations/${id}/events${qs({ before_seq: before, limit: PAGE })}`)
    if (g !== generation) return
    chat.events = mergeEvents([], page.items)
    chat.hasMore = page.has_more
    const top = Math.max(detail.conversation.last_seq, lastSeq())
    for (const p of [...pending.values()]) {
      if (p.conversationId === id && (p.state === 'sent' || hasClientId(p.clientId))) pending.delete(p.clientId)
    }
    client.subscribe(id, top)
    markRead()
  } catch (e) {
    if (g === generation) chat.error = e
  } finally {
    if (g === generation) chat.loading = false
  }
}

export function closeConversation(): void {
  generation++
  if (chat.id) client.unsubscribe(chat.id)
  if (chat.id) client.typing(chat.id, false)
  chat.id = null
  chat.conversation = null
  chat.visitor = null
  chat.events = []
  chat.hasMore = false
  chat.loading = false
  chat.loadingOlder = false
  chat.error = null
  chat.viewers = []
  setTyping(null)
}

export async function loadOlder(): Promise<boolean> {
  if (!chat.id || !chat.hasMore || chat.loadingOlder || chat.events.length === 0) return false
  const g = generation
  const id = chat.id
  chat.loadingOlder = true
  try {
    const page = await api.get<EventPage>(`/conversations/${id}/events${qs({ before_seq: chat.events[0].seq, limit: PAGE })}`)
    if (g !== generation) return false
    chat.events = mergeEvents(chat.events, page.items)
    chat.hasMore = page.has_more
    return page.items.length > 0
  } catch (e) {
    if (g === generation) chat.error = e
    return false
  } finally {
    if (g === generation) chat.loadingOlder = false
  }
}

/** Merge by seq, ascending, without duplicates. */
export function mergeEvents(current: ConvEvent[], incoming: ConvEvent[]): ConvEvent[] {
  const bySeq = new Map<number, ConvEvent>()
  for (const e of current) bySeq.set(e.seq, e)
  for (const e of incoming) bySeq.set(e.seq, e)
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq)
}

function lastSeq(): number {
  return chat.events.length ? chat.events[chat.events.length - 1].seq : 0
}

function hasClientId(clientId: string): boolean {
  return chat.events.some((e) => e.client_id === clientId)
}

// ---------------------------------------------------------------------------
// live input

export function applyEvent(conversationId: string, ev: ConvEvent): void {
  if (ev.client_id && pending.has(ev.client_id)) {
    pending.delete(ev.client_id)
    clearAckTimer(ev.client_id)
  }
  if (conversationId !== chat.id) return
  const isNewest = ev.seq > lastSeq()
  chat.events = isNewest ? [...chat.events, ev] : mergeEvents(chat.events, [ev])
  const c = chat.conversation
  if (c) {
    c.last_seq = Math.max(c.last_seq, ev.seq)
    applyToConversation(c, ev)
    if (ev.kind === 'message' && ev.sender.kind === 'agent' && !c.assignee && ev.sender.id && ev.sender.name) {
      c.assignee = { id: ev.sender.id, name: ev.sender.name, avatar_url: ev.sender.avatar_url }
    }
  }
  if (ev.kind === 'message' && chat.typing && ev.sender.kind === chat.typing.kind) setTyping(null)
  chat.liveTick++
  markRead()
}

/** What an event changes in the conversation's summary. */
function applyToConversation(c: Conversation, ev: ConvEvent): void {
  if (ev.kind === 'status' && ev.status) c.status = ev.status
  if (ev.kind === 'assignment') {
    c.assignee = ev.assignee
    if (ev.assignee) c.queued_at = null
  }
  if (ev.kind === 'queued') {
    c.assignee = null
    c.queued_at = c.queued_at ?? ev.created_at
  }
}

export function applyAck(clientId: string, seq: number): void {
  clearAckTimer(clientId)
  const p = pending.get(clientId)
  if (!p) return
  if (p.conversationId === chat.id && chat.events.some((e) => e.seq === seq || e.client_id === clientId)) {
    pending.delete(clientId)
    return
  }
  p.state = 'sent'
  p.seq = seq
  p.error = null
}

export function applySendFailed(clientId: string, code: string, message: string): void {
  clearAckTimer(clientId)
  const p = pending.get(clientId)
  if (!p) return
  p.state = 'failed'
  p.error = code || message
}

export function applyTyping(conversationId: string, kind: TypingInfo['kind'], fromId: string | null, name: string | null, typing: boolean, draft: string | null): void {
  if (conversationId !== chat.id) return
  if (kind === 'agent' && fromId && fromId === session.user?.id) return
  setTyping(typing ? { kind, name, draft: draft && draft.trim() ? draft : null } : null)
}

export function applyVisitor(v: Visitor): void {
  if (chat.visitor && chat.visitor.id === v.id) chat.visitor = v
  if (chat.conversation && chat.conversation.visitor.id === v.id) {
    chat.conversation.visitor = { id: v.id, display_name: v.display_name, name: v.name, email: v.email }
  }
}

/** An inbox frame for the open conversation keeps the header in sync. */
export function applyConversationSummary(c: Conversation): void {
  if (!chat.conversation || chat.conversation.id !== c.id) return
  const cur = chat.conversation
  cur.status = c.status
  cur.assignee = c.assignee
  cur.last_seq = Math.max(cur.last_seq, c.last_seq)
  if (c.tags !== undefined) cur.tags = c.tags
  if (c.follow_up !== undefined) cur.follow_up = c.follow_up
  if (c.queued_at !== undefined) cur.queued_at = c.queued_at
  if (c.group_id !== undefined) cur.group_id = c.group_id
}

/** A `viewers` frame: who else has the conversation open. */
export function applyViewers(conversationId: string, viewers: Viewer[]): void {
  if (conversationId !== chat.id) return
  const me = session.user?.id
  chat.viewers = viewers.filter((v) => v.id !== me)
}

function setTyping(info: TypingInfo | null): void {
  if (typingTimer) clearTimeout(typingTimer)
  typingTimer = null
  chat.typing = info
  if (info) typingTimer = setTimeout(() => (chat.typing = null), TYPING_EXPIRY_MS)
}

// ---------------------------------------------------------------------------
// sending

export function sendMessage(body: string, attachments: Attachment[]): void {
  const id = chat.id
  if (!id) return
  const clientId = uuid()
  pending.set(clientId, {
    clientId,
    kind: 'message',
    conversationId: id,
    body,
    attachments,
    state: 'sending',
    seq: null,
    error: null,
    createdAt: new Date().toISOString(),
  })
  dispatch(pending.get(clientId)!)
}

export function retryMessage(clientId: string): void {
  const p = pending.get(clientId)
  if (!p || p.state !== 'failed') return
  p.state = 'sending'
  p.error = null
  if (p.kind === 'note') void sendNoteViaRest(p)
  else dispatch(p, true)
}

/** An internal note: only colleagues see it; `@Name` mentions someone. REST, idempotent by client_id. */
export function sendNote(body: string): void {
  const id = chat.id
  if (!id || !body.trim()) return
  const clientId = uuid()
  pending.set(clientId, {
    clientId,
    kind: 'note',
    conversationId: id,
    body,
    attachments: [],
    state: 'sending',
    seq: null,
    error: null,
    createdAt: new Date().toISOString(),
  })
  void sendNoteViaRest(pending.get(clientId)!)
}

async function sendNoteViaRest(p: PendingMessage): Promise<void> {
  try {
    const res = await api.post<{ event: ConvEvent; duplicate?: boolean }>(`/conversations/${p.conversationId}/notes`, {
      client_id: p.clientId,
      body: p.body,
    })
    const ev = eventOf(res)
    if (!ev) {
      pending.delete(p.clientId)
      return
    }
    if (p.conversationId === chat.id) {
      chat.events = mergeEvents(chat.events, [ev])
      if (chat.conversation) chat.conversation.last_seq = Math.max(chat.conversation.last_seq, ev.seq)
    }
    pending.delete(p.clientId)
  } catch (e) {
    noteMissing('notes', e)
    applySendFailed(p.clientId, e instanceof ApiError ? e.code : 'network', e instanceof Error ? e.message : '')
  }
}

/**
 * Over the socket when it is up (or coming back: the outbox delivers on reconnect);
 * over REST, with the same idempotency key, when there is no socket or the user
 * retries while it is down.
 */
function dispatch(p: PendingMessage, preferRest = false): void {
  const frame = {
    client_id: p.clientId,
    conversation_id: p.conversationId,
    body: p.body,
    attachment_ids: p.attachments.map((a) => a.id),
  }
  const reconnecting = client.state === 'connecting' || client.state === 'reconnecting'
  if (client.isReady || (reconnecting && !preferRest)) {
    client.send(frame)
    startAckTimer(p.clientId)
  } else {
    void sendViaRest(p.clientId, frame)
  }
}

async function sendViaRest(clientId: string, frame: { conversation_id: string; client_id: string; body: string; attachment_ids: string[] }): Promise<void> {
  try {
    const res = await api.post<{ event: ConvEvent; duplicate: boolean }>(`/conversations/${frame.conversation_id}/messages`, {
      client_id: frame.client_id,
      body: frame.body,
      attachment_ids: frame.attachment_ids.length ? frame.attachment_ids : undefined,
    })
    client.outbox.remove(clientId)
    applyAck(clientId, res.event.seq)
    if (frame.conversation_id === chat.id) {
      chat.events = mergeEvents(chat.events, [res.event])
      pending.delete(clientId)
    }
  } catch (e) {
    applySendFailed(clientId, e instanceof ApiError ? e.code : 'network', e instanceof Error ? e.message : '')
  }
}

function startAckTimer(clientId: string): void {
  clearAckTimer(clientId)
  ackTimers.set(
    clientId,
    setTimeout(() => {
      ackTimers.delete(clientId)
      const p = pending.get(clientId)
      // Stays in the outbox: a late ack still confirms it; meanwhile offer a retry.
      if (p && p.state === 'sending') {
        p.state = 'failed'
        p.error = 'timeout'
      }
    }, ACK_TIMEOUT_MS),
  )
}

function clearAckTimer(clientId: string): void {
  const t = ackTimers.get(clientId)
  if (t) clearTimeout(t)
  ackTimers.delete(clientId)
}

/** Attach a file: upload, answering the Attachment to reference in the send. */
export async function uploadFile(file: File): Promise<Attachment> {
  const form = new FormData()
  form.append('file', file, file.name)
  return api.post<Attachment>('/uploads', form)
}

// ---------------------------------------------------------------------------
// actions

/** Actions answer either the Event itself or `{event}`. */
function eventOf(res: unknown): ConvEvent | null {
  if (!res || typeof res !== 'object') return null
  const r = res as { event?: ConvEvent; seq?: unknown }
  if (r.event && typeof r.event.seq === 'number') return r.event
  if (typeof r.seq === 'number') return res as ConvEvent
  return null
}

async function runAction(path: string, body: unknown): Promise<void> {
  const id = chat.id
  if (!id) return
  const ev = eventOf(await api.post<unknown>(`/conversations/${id}/${path}`, body))
  if (chat.id !== id || !ev) return
  chat.events = mergeEvents(chat.events, [ev])
  const c = chat.conversation
  if (!c) return
  applyToConversation(c, ev)
  c.last_seq = Math.max(c.last_seq, ev.seq)
  c.updated_at = ev.created_at
  applyConversation({ ...c })
}

export const resolveConversation = () => runAction('resolve', {})
export const reopenConversation = () => runAction('reopen', {})
export const assignToMe = () => runAction('assign', { assignee_id: session.user?.id ?? null })

export interface TransferTarget {
  toUserId?: string | null
  toGroupId?: string | null
  note?: string
}

/** Hands the conversation to a colleague or a group, with a note for them. */
export async function transferConversation(target: TransferTarget): Promise<void> {
  const body: Record<string, string> = {}
  if (target.toUserId) body.to_user_id = target.toUserId
  else if (target.toGroupId) body.to_group_id = target.toGroupId
  const note = target.note?.trim()
  if (note) body.note = note
  try {
    await runAction('transfer', body)
  } catch (e) {
    noteMissing('transfer', e, false)
    throw e
  }
}

/** 强制接入: supervisors and admins take a conversation whatever the caps. */
export async function takeOver(): Promise<void> {
  try {
    await runAction('take_over', {})
  } catch (e) {
    noteMissing('takeOver', e, false)
    throw e
  }
}

function syncSummary(id: string, patch: Partial<Conversation>): void {
  if (chat.conversation && chat.conversation.id === id) Object.assign(chat.conversation, patch)
  patchConversation(id, patch)
}

/** Replaces the tags (optimistic; put back on failure). */
export async function setTags(tags: string[]): Promise<void> {
  const c = chat.conversation
  if (!c || !features.tags) return
  const id = c.id
  const before = c.tags ?? []
  syncSummary(id, { tags })
  try {
    const res = await api.put<{ tags?: string[] } | undefined>(`/conversations/${id}/tags`, { tags })
    if (res && Array.isArray(res.tags)) syncSummary(id, { tags: res.tags })
  } catch (e) {
    syncSummary(id, { tags: before })
    noteMissing('tags', e, false)
    throw e
  }
}

/** The 待跟进 marker (optimistic; put back on failure). */
export async function setFollowUp(followUp: boolean): Promise<void> {
  const c = chat.conversation
  if (!c || !features.followUp) return
  const id = c.id
  const before = !!c.follow_up
  syncSummary(id, { follow_up: followUp })
  try {
    const res = await api.put<{ follow_up?: boolean } | undefined>(`/conversations/${id}/follow_up`, { follow_up: followUp })
    if (res && typeof res.follow_up === 'boolean') syncSummary(id, { follow_up: res.follow_up })
  } catch (e) {
    syncSummary(id, { follow_up: before })
    noteMissing('followUp', e, false)
    throw e
  }
}

// ---------------------------------------------------------------------------
// typing and read

let typingSentAt = 0
let typingStopTimer: ReturnType<typeof setTimeout> | null = null

/** Call on every keystroke: typing:true at most every 3 s, typing:false after 4 s idle. */
export function noteTyping(): void {
  const id = chat.id
  if (!id) return
  const now = Date.now()
  if (now - typingSentAt > 3000) {
    typingSentAt = now
    client.typing(id, true)
  }
  if (typingStopTimer) clearTimeout(typingStopTimer)
  typingStopTimer = setTimeout(() => stopTyping(), 4000)
}

export function stopTyping(): void {
  if (typingStopTimer) clearTimeout(typingStopTimer)
  typingStopTimer = null
  if (typingSentAt && chat.id) client.typing(chat.id, false)
  typingSentAt = 0
}

export function windowIsAttended(): boolean {
  return typeof document !== 'undefined' && !document.hidden && document.hasFocus()
}

/** Mark the open conversation read up to its newest event, when someone is looking. */
export function markRead(): void {
  const id = chat.id
  if (!id || !windowIsAttended()) return
  const seq = lastSeq()
  if (seq === 0) return
  patchConversation(id, { unread_count: 0 })
  if ((lastReadSent.get(id) ?? 0) >= seq) return
  lastReadSent.set(id, seq)
  if (!client.read(id, seq)) {
    api.post(`/conversations/${id}/read`, { seq }).catch(() => lastReadSent.delete(id))
  }
}
