// Colleagues as the transfer dialog and the supervisor view list them (unit-tested).

import type { OverviewAgent, Presence, User } from './types'

export interface Colleague {
  id: string
  name: string
  status: Presence
  /** Open conversations now, when known (supervisor overview). */
  load: number | null
  capacity: number | null
}

const RANK: Record<Presence, number> = { online: 0, busy: 1, away: 2, offline: 3 }

export function presenceRank(s: string | null | undefined): number {
  return RANK[(s ?? 'offline') as Presence] ?? 3
}

/** Load relative to capacity, 0..1+ (full = 1); a capacity of 0 counts as full. */
export function loadRatio(load: number | null, capacity: number | null): number {
  if (load === null || capacity === null) return 0
  if (capacity <= 0) return load > 0 ? Infinity : 1
  return load / capacity
}

/**
 * Everybody one could hand a conversation to, but `meId`: from the overview when there is one
 * (it knows load and live status), else from the user list. Online first, then busy, away,
 * offline; within each, the least loaded first, then by name.
 */
export function transferCandidates(
  users: readonly Pick<User, 'id' | 'name' | 'status' | 'capacity'>[],
  agents: readonly OverviewAgent[] | null,
  meId: string | null,
  liveStatus: ReadonlyMap<string, Presence> = new Map(),
): Colleague[] {
  const byId = new Map<string, Colleague>()
  for (const u of users) {
    byId.set(u.id, { id: u.id, name: u.name, status: liveStatus.get(u.id) ?? u.status, load: null, capacity: u.capacity ?? null })
  }
  for (const a of agents ?? []) {
    byId.set(a.id, { id: a.id, name: a.name, status: liveStatus.get(a.id) ?? a.status, load: a.load, capacity: a.capacity })
  }
  return [...byId.values()]
    .filter((c) => c.id !== meId)
    .sort(
      (a, b) =>
        presenceRank(a.status) - presenceRank(b.status) ||
        loadRatio(a.load, a.capacity) - loadRatio(b.load, b.capacity) ||
        a.name.localeCompare(b.name),
    )
}
