import { describe, expect, it } from 'vitest'
import { appendPage, matchesFilter, sortForView, upsertConversation, type InboxFilter } from './inboxList'
import type { Conversation } from '../types'

function conv(id: string, minute: number, extra: Partial<Conversation> = {}): Conversation {
  const t = new Date(Date.UTC(2024, 0, 1, 12, minute)).toISOString()
  return {
    id,
    channel_id: 'ch',
    channel_name: 'Main',
    status: 'open',
    visitor: { id: `v-${id}`, display_name: `Visitor ${id}`, name: null, email: null },
    assignee: null,
    last_seq: 1,
    unread_count: 0,
    last_message: null,
    created_at: t,
    updated_at: t,
    ...extra,
  }
}

const all: InboxFilter = { view: 'all', status: 'open', meId: 'me' }

describe('matchesFilter', () => {
  it('filters by view and status', () => {
    const mine = conv('a', 1, { assignee: { id: 'me', name: 'Me', avatar_url: null } })
    const other = conv('b', 1, { assignee: { id: 'x', name: 'X', avatar_url: null } })
    const free = conv('c', 1)
    expect(matchesFilter(mine, { ...all, view: 'mine' })).toBe(true)
    expect(matchesFilter(other, { ...all, view: 'mine' })).toBe(false)
    expect(matchesFilter(free, { ...all, view: 'unassigned' })).toBe(true)
    expect(matchesFilter(mine, { ...all, view: 'unassigned' })).toBe(false)
    expect(matchesFilter(conv('d', 1, { status: 'resolved' }), all)).toBe(false)
    const waiting = conv('q', 1, { queued_at: '2024-01-01T12:00:00Z' })
    expect(matchesFilter(waiting, { ...all, view: 'queued' })).toBe(true)
    expect(matchesFilter(free, { ...all, view: 'queued' })).toBe(false)
    expect(matchesFilter({ ...waiting, assignee: { id: 'x', name: 'X', avatar_url: null } }, { ...all, view: 'queued' })).toBe(false)
  })
})

describe('upsertConversation', () => {
  it('moves an updated conversation to the top', () => {
    const items = [conv('a', 3), conv('b', 2), conv('c', 1)]
    const out = upsertConversation(items, conv('c', 4, { unread_count: 2 }), all, false)
    expect(out.map((c) => c.id)).toEqual(['c', 'a', 'b'])
    expect(out[0].unread_count).toBe(2)
  })

  it('inserts a new conversation and removes one that stops matching', () => {
    const items = [conv('a', 3), conv('b', 2)]
    expect(upsertConversation(items, conv('n', 5), all, false).map((c) => c.id)).toEqual(['n', 'a', 'b'])
    const resolved = conv('a', 6, { status: 'resolved' })
    expect(upsertConversation(items, resolved, all, false).map((c) => c.id)).toEqual(['b'])
  })

  it('leaves old activity beyond the loaded page to load-more', () => {
    const items = [conv('a', 3), conv('b', 2)]
    expect(upsertConversation(items, conv('z', 0), all, true).map((c) => c.id)).toEqual(['a', 'b'])
    expect(upsertConversation(items, conv('z', 0), all, false).map((c) => c.id)).toEqual(['a', 'b', 'z'])
  })

  it('appendPage skips duplicates', () => {
    expect(appendPage([conv('a', 3)], [conv('a', 3), conv('b', 1)]).map((c) => c.id)).toEqual(['a', 'b'])
  })

  it('keeps the queue view longest wait first', () => {
    const q = (id: string, minute: number, waitedSince: number) =>
      conv(id, minute, { queued_at: new Date(Date.UTC(2024, 0, 1, 11, waitedSince)).toISOString() })
    const f: InboxFilter = { ...all, view: 'queued' }
    const items = sortForView([q('new', 9, 30), q('old', 1, 5), q('mid', 5, 20)], 'queued')
    expect(items.map((c) => c.id)).toEqual(['old', 'mid', 'new'])
    // a fresh message does not move it up: waiting time decides
    expect(upsertConversation(items, q('new', 10, 30), f, true).map((c) => c.id)).toEqual(['old', 'mid', 'new'])
    expect(upsertConversation(items, q('older', 11, 1), f, true).map((c) => c.id)).toEqual(['older', 'old', 'mid', 'new'])
    expect(sortForView(items, 'all')).toBe(items)
  })
})
