// The people of the workspace (GET /users), kept for the mention picker, the transfer dialog
// and names, with live presence from `agent_status` frames.

import { reactive } from 'vue'
import { api, itemsOf } from '../api'
import type { Presence, User } from '../types'

export const people = reactive({
  users: [] as User[],
  loaded: false,
  loading: false,
  error: null as unknown,
  /** Live status by user id (includes `offline`, which GET /users does not know). */
  presence: new Map<string, Presence>(),
})

let inflight: Promise<void> | null = null

export function loadPeople(force = false): Promise<void> {
  if (people.loaded && !force) return Promise.resolve()
  if (inflight) return inflight
  people.loading = true
  inflight = (async () => {
    try {
      people.users = itemsOf(await api.get<User[] | { items: User[] }>('/users'))
      people.loaded = true
      people.error = null
    } catch (e) {
      people.error = e
    } finally {
      people.loading = false
      inflight = null
    }
  })()
  return inflight
}

export function applyAgentStatus(userId: string, status: Presence): void {
  people.presence.set(userId, status)
  const u = people.users.find((x) => x.id === userId)
  if (u && status !== 'offline') u.status = status
}

export function presenceOf(userId: string): Presence | null {
  return people.presence.get(userId) ?? people.users.find((u) => u.id === userId)?.status ?? null
}

export function resetPeople(): void {
  people.users = []
  people.loaded = false
  people.presence.clear()
}
