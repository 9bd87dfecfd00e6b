// Short-lived messages in the corner: errors of background actions and live alerts
// (a conversation handed to you, a mention).

import { reactive } from 'vue'

export type ToastKind = 'info' | 'success' | 'error' | 'alert'

export interface Toast {
  id: number
  kind: ToastKind
  title?: string
  text: string
  /** Clicking the toast runs this (e.g. opens the conversation), then closes it. */
  action?: () => void
}

export const toasts = reactive<Toast[]>([])

let nextId = 1
const MAX = 4

export function pushToast(t: Omit<Toast, 'id'>, ttlMs = t.kind === 'alert' ? 12_000 : 6_000): number {
  const id = nextId++
  toasts.push({ ...t, id })
  while (toasts.length > MAX) toasts.shift()
  if (ttlMs > 0) setTimeout(() => dismissToast(id), ttlMs)
  return id
}

export function dismissToast(id: number): void {
  const i = toasts.findIndex((x) => x.id === id)
  if (i >= 0) toasts.splice(i, 1)
}

export function clearToasts(): void {
  toasts.splice(0)
}
