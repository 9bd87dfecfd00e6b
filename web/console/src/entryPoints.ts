// Pure helpers for a channel's entry options (咨询入口, unit-tested): the ordered list of groups
// the visitor picks from before the chat starts, each with an optional label for visitors.

import type { EntryPoint } from './types'

/** As many as the server allows (and the widget shows). */
export const MAX_ENTRY_POINTS = 10
/** Longest label, in characters (as the server counts them). */
export const MAX_ENTRY_LABEL = 40

export type EntryMode = 'single' | 'choose'

/** A channel with options lets the visitor choose; otherwise it routes to one group. */
export function entryMode(list: readonly EntryPoint[] | null | undefined): EntryMode {
  return list && list.length ? 'choose' : 'single'
}

/** Appends a group (empty label = its name) unless it is already an option or the list is full. */
export function addOption(list: readonly EntryPoint[], groupId: string): EntryPoint[] {
  if (!groupId || list.length >= MAX_ENTRY_POINTS || list.some((o) => o.group_id === groupId)) return [...list]
  return [...list, { group_id: groupId, label: '' }]
}

export function removeOption(list: readonly EntryPoint[], index: number): EntryPoint[] {
  if (index < 0 || index >= list.length) return [...list]
  return [...list.slice(0, index), ...list.slice(index + 1)]
}

/** Moves the option at `index` by `delta` (-1 up, +1 down); out-of-range moves change nothing. */
export function moveOption(list: readonly EntryPoint[], index: number, delta: number): EntryPoint[] {
  const to = index + delta
  if (index < 0 || index >= list.length || to < 0 || to >= list.length) return [...list]
  const out = [...list]
  const [o] = out.splice(index, 1)
  out.splice(to, 0, o)
  return out
}

/** Groups that can still be added, in the order given. */
export function addableGroups<G extends { id: string }>(list: readonly EntryPoint[], groups: readonly G[]): G[] {
  if (list.length >= MAX_ENTRY_POINTS) return []
  return groups.filter((g) => !list.some((o) => o.group_id === g.id))
}

export type EntryProblem =
  | { key: 'entryEmpty' }
  | { key: 'entryTooMany'; max: number }
  | { key: 'entryLabelTooLong'; n: number; max: number }
  | { key: 'entryUnknown'; n: number }

/**
 * What keeps the list from being saved in `mode`, checked before the server does: none to
 * choose from, too many, a label too long, or a group that no longer exists.
 */
export function entryProblem(mode: EntryMode, list: readonly EntryPoint[], groupIds: readonly string[]): EntryProblem | null {
  if (mode === 'single') return null
  if (list.length === 0) return { key: 'entryEmpty' }
  if (list.length > MAX_ENTRY_POINTS) return { key: 'entryTooMany', max: MAX_ENTRY_POINTS }
  for (let i = 0; i < list.length; i++) {
    if (!groupIds.includes(list[i].group_id)) return { key: 'entryUnknown', n: i + 1 }
    if ([...list[i].label.trim()].length > MAX_ENTRY_LABEL) return { key: 'entryLabelTooLong', n: i + 1, max: MAX_ENTRY_LABEL }
  }
  return null
}

/** The `entry_points` of PATCH /channels/{id}: none in single mode, labels trimmed. */
export function entryPayload(mode: EntryMode, list: readonly EntryPoint[]): EntryPoint[] {
  if (mode === 'single') return []
  return list.map((o) => ({ group_id: o.group_id, label: o.label.trim() }))
}

/** What the visitor reads on an option's button. */
export function visitorLabel(o: EntryPoint, groupName: string | null | undefined): string {
  return o.label.trim() || groupName || ''
}
