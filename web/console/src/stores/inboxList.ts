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
  return true
}

const activity = (c: Conversation) => Date.parse(c.updated_at) || 0

/**
 * Apply a created/changed conversation to a list sorted by newest activity:
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
  const at = rest.findIndex((x) => activity(x) <= activity(c))
  if (at === -1) {
    if (hasMorePages && rest.length > 0) return rest
    return [...rest, c]
  }
  return [...rest.slice(0, at), c, ...rest.slice(at)]
}

/** Append a further page, skipping ids already present (a conversation can move between pages). */
export function appendPage(items: Conversation[], page: Conversation[]): Conversation[] {
  const seen = new Set(items.map((c) => c.id))
  return [...items, ...page.filter((c) => !seen.has(c.id))]
}
