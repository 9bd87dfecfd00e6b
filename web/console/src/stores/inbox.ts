// Conversation list state: current view/status filter, loaded pages, live updates.

import { reactive } from 'vue'
import { api, ApiError, qs } from '../api'
import type { Conversation, ConversationStatus, InboxView, Page } from '../types'
import { features } from './features'
import { appendPage, matchesFilter, sortForView, upsertConversation, type InboxFilter } from './inboxList'
import { session } from './session'

const VIEW_KEY = 'parley.inbox.view'
const PAGE_SIZE = 50

function storedView(): InboxView {
  try {
    const v = localStorage.getItem(VIEW_KEY)
    if (v === 'mine' || v === 'unassigned' || v === 'queued' || v === 'all') return v
  } catch {
    /* ignore */
  }
  return 'all'
}

export const inbox = reactive({
  view: storedView(),
  status: 'open' as ConversationStatus,
  items: [] as Conversation[],
  nextCursor: null as string | null,
  loading: false,
  loadingMore: false,
  error: null as unknown,
  /** Bumped on every inbox frame (the supervisor view refreshes on it). */
  tick: 0,
})

let generation = 0

/** Conversations seen so far (any list), by id: for notifications. */
export const seenConversations = new Map<string, Conversation>()

function remember(list: Conversation[]): void {
  for (const c of list) if (!seenConversations.has(c.id)) seenConversations.set(c.id, c)
}

function filter(): InboxFilter {
  return { view: inbox.view, status: inbox.status, meId: session.user?.id ?? null }
}

/**
 * A server without `view=queued` answers 400: read the unassigned list then and keep the
 * conversations that have `queued_at`.
 */
function serverView(): InboxView {
  return inbox.view === 'queued' && !features.queuedView ? 'unassigned' : inbox.view
}

function path(before: string | null): string {
  return `/conversations${qs({ view: serverView(), status: inbox.status, limit: PAGE_SIZE, before })}`
}

async function fetchPage(before: string | null): Promise<Page<Conversation>> {
  let page: Page<Conversation>
  try {
    page = await api.get<Page<Conversation>>(path(before))
  } catch (e) {
    if (!(inbox.view === 'queued' && features.queuedView && e instanceof ApiError && e.code === 'bad_request')) throw e
    features.queuedView = false
    page = await api.get<Page<Conversation>>(path(before))
  }
  if (inbox.view === 'queued' && !features.queuedView) {
    const f = filter()
    return { items: page.items.filter((c) => matchesFilter(c, f)), next_cursor: page.next_cursor }
  }
  return page
}

export async function reloadInbox(): Promise<void> {
  const g = ++generation
  inbox.loading = true
  inbox.error = null
  try {
    const page = await fetchPage(null)
    if (g !== generation) return
    remember(page.items)
    inbox.items = sortForView(page.items, inbox.view)
    inbox.nextCursor = page.next_cursor ?? null
  } catch (e) {
    if (g === generation) inbox.error = e
  } finally {
    if (g === generation) inbox.loading = false
  }
}

export async function loadMoreInbox(): Promise<void> {
  if (!inbox.nextCursor || inbox.loadingMore || inbox.loading) return
  const g = generation
  inbox.loadingMore = true
  try {
    const page = await fetchPage(inbox.nextCursor)
    if (g !== generation) return
    remember(page.items)
    inbox.items = sortForView(appendPage(inbox.items, page.items), inbox.view)
    inbox.nextCursor = page.next_cursor ?? null
  } catch (e) {
    if (g === generation) inbox.error = e
  } finally {
    inbox.loadingMore = false
  }
}

export function setView(view: InboxView): void {
  if (inbox.view === view) return
  inbox.view = view
  try {
    localStorage.setItem(VIEW_KEY, view)
  } catch {
    /* ignore */
  }
  void reloadInbox()
}

export function setStatusFilter(status: ConversationStatus): void {
  if (inbox.status === status) return
  inbox.status = status
  void reloadInbox()
}

/** A conversation changed (inbox frame, or a local action's result). */
export function applyConversation(c: Conversation): void {
  seenConversations.set(c.id, c)
  inbox.items = upsertConversation(inbox.items, c, filter(), inbox.nextCursor !== null)
}

export function patchConversation(id: string, patch: Partial<Conversation>): void {
  const i = inbox.items.findIndex((c) => c.id === id)
  const current = i >= 0 ? inbox.items[i] : undefined
  const changed = current && (Object.keys(patch) as (keyof Conversation)[]).some((k) => current[k] !== patch[k])
  if (current && changed) inbox.items[i] = { ...current, ...patch }
  const seen = seenConversations.get(id)
  if (seen) seenConversations.set(id, { ...seen, ...patch })
}

export function findConversation(id: string): Conversation | undefined {
  return inbox.items.find((c) => c.id === id) ?? seenConversations.get(id)
}

export function resetInbox(): void {
  generation++
  inbox.items = []
  inbox.nextCursor = null
  inbox.error = null
  seenConversations.clear()
}
