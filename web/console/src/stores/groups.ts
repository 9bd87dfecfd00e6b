// Routing groups (GET /groups), shared by settings, the channel editor, the transfer dialog
// and the supervisor view.

import { reactive } from 'vue'
import { api, itemsOf } from '../api'
import type { Group } from '../types'
import { features, isMissingEndpoint } from './features'

export const groups = reactive({
  items: [] as Group[],
  loaded: false,
  loading: false,
  error: null as unknown,
})

let inflight: Promise<void> | null = null

export function loadGroups(force = false): Promise<void> {
  if ((groups.loaded && !force) || !features.groups) return Promise.resolve()
  if (inflight) return inflight
  groups.loading = true
  inflight = (async () => {
    try {
      groups.items = itemsOf(await api.get<Group[] | { items: Group[] }>('/groups'))
      groups.loaded = true
      groups.error = null
    } catch (e) {
      if (isMissingEndpoint(e)) {
        features.groups = false
        groups.items = []
        groups.loaded = true
      } else {
        groups.error = e
      }
    } finally {
      groups.loading = false
      inflight = null
    }
  })()
  return inflight
}

export function upsertGroup(g: Group): void {
  const i = groups.items.findIndex((x) => x.id === g.id)
  if (i >= 0) groups.items[i] = g
  else groups.items = [...groups.items, g]
}

export function groupName(id: string | null | undefined): string | null {
  if (!id) return null
  return groups.items.find((g) => g.id === id)?.name ?? null
}

export function resetGroups(): void {
  groups.items = []
  groups.loaded = false
}
