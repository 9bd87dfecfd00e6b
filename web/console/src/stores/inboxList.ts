// Pure list operations for the conversation list (unit-tested).

import type { Conversation, ConversationStatus, InboxView } from '../types'

export interface InboxFilter {
  view: InboxView
  status: ConversationStatus
  meId: string | null
}

export function matchesFilter(c: Conversation, f: InboxFilter): boolean {
  if (c.status !== f.status) return false
  if (f.view === 'mine') return !!c.assignee && c.assignee.id === f.meId
  if (f.view === 'unassigned') return !c.assignee
  if (f.view === 'queued') return !c.assignee && !!c.queued_at
  return true
}

const activity = (c: Conversation) => Date.parse(c.updated_at) || 0

/** Lists sort by this, highest first: newest activity, or in the queue view the longest wait. */
function rank(c: Conversation, view: InboxView): number {
  if (view === 'queued') return -(Date.parse(c.queued_at ?? '') || Number.MAX_SAFE_INTEGER)
  return activity(c)
}

/** The queue view lists the longest-waiting conversation first; the others keep the server's order. */
export function sortForView(items: Conversation[], view: InboxView): Conversation[] {
  if (view !== 'queued') return items
  return [...items].sort((a, b) => rank(b, view) - rank(a, view))
}

/**
 * Apply a created/changed conversation to a list sorted by newest activity (queue view:
 * longest wait first):
 * drop it when it no longer matches the filter, otherwise (re)insert it at its
 * place. When more pages exist and it sorts after everything loaded, it is left
 * for "load more" instead.
 */
export function upsertConversation(
  items: Conversation[],
  c: Conversation,
  f: InboxFilter,
  hasMorePages: boolean,
): Conversation[] {
  const rest = items.filter((x) => x.id !== c.id)
  if (!matchesFilter(c, f)) return rest
  const at = rest.findIndex((x) => rank(x, f.view) <= rank(c, f.view))
  if (at === -1) {
    if (hasMorePages && rest.length > 0 && f.view !== 'queued') return rest
    return [...rest, c]
  }
  return [...rest.slice(0, at), c, ...rest.slice(at)]
}

/** Append a further page, skipping ids already present (a conversation can move between pages). */
export function appendPage(items: Conversation[], page: Conversation[]): Conversation[] {
  const seen = new Set(items.map((c) => c.id))
  return [...items, ...page.filter((c) => !seen.has(c.id))]
}
