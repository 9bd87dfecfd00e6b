// The team's and my quick replies, loaded once and kept in step with my own edits.

import { reactive } from 'vue'
import { api, itemsOf } from '../api'
import type { QuickReply } from '../types'
import type { ReplyContext } from '../quickReplies'
import { chat } from './chat'
import { session } from './session'

export const quickReplies = reactive({
  items: [] as QuickReply[],
  loaded: false,
  loading: false,
  /** Bumped on every change, so suggestions can refresh. */
  version: 0,
})

let inflight: Promise<void> | null = null

export function loadQuickReplies(force = false): Promise<void> {
  if (quickReplies.loaded && !force) return Promise.resolve()
  if (inflight) return inflight
  quickReplies.loading = true
  inflight = api
    .get<{ items: QuickReply[] }>('/quick_replies')
    .then((data) => {
      quickReplies.items = itemsOf(data)
      quickReplies.loaded = true
      quickReplies.version++
    })
    .finally(() => {
      quickReplies.loading = false
      inflight = null
    })
  return inflight
}

export interface QuickReplyDraft {
  shortcut: string
  title: string
  text: string
  category: string
}

export async function createQuickReply(scope: QuickReply['scope'], draft: QuickReplyDraft): Promise<QuickReply> {
  const r = await api.post<QuickReply>('/quick_replies', { scope, ...draft })
  quickReplies.items = [...quickReplies.items, r]
  quickReplies.version++
  return r
}

export async function updateQuickReply(id: string, draft: QuickReplyDraft): Promise<QuickReply> {
  const r = await api.patch<QuickReply>(`/quick_replies/${id}`, draft)
  quickReplies.items = quickReplies.items.map((x) => (x.id === id ? r : x))
  quickReplies.version++
  return r
}

export async function deleteQuickReply(id: string): Promise<void> {
  await api.del(`/quick_replies/${id}`)
  quickReplies.items = quickReplies.items.filter((x) => x.id !== id)
  quickReplies.version++
}

/**
 * Values for a reply's variables in the open conversation. A visitor who has not given a name
 * fills `{visitor.name}` with '' (never their generated display name, never a raw `{…}`).
 */
export function replyContext(): ReplyContext {
  return {
    visitorName: chat.visitor?.name ?? chat.conversation?.visitor.name ?? null,
    agentName: session.user?.name ?? null,
    channelName: chat.conversation?.channel_name ?? null,
  }
}
