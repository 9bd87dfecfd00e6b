// Wires the realtime client to the stores, and decides when to alert.

import type { Router } from 'vue-router'
import { t } from '../i18n'
import { alerts, blinkTitle, installAudioUnlock, playChime, showDesktop, stopBlink } from '../notify'
import type { Conversation } from '../types'
import {
  applyAck,
  applyConversationSummary,
  applyEvent,
  applySendFailed,
  applyTyping,
  applyVisitor,
  chat,
  markRead,
  pending,
  windowIsAttended,
} from './chat'
import { applyConversation, inbox, patchConversation, reloadInbox, seenConversations } from './inbox'
import { clearSession, session } from './session'
import { client } from './socket'

let unlisten: (() => void) | null = null
let domCleanup: (() => void) | null = null
let connectedBefore = false

export function startLive(router: Router): void {
  if (unlisten) return
  connectedBefore = false
  unlisten = client.on((e) => {
    switch (e.type) {
      case 'ready':
        if (session.user && e.user) session.user = { ...session.user, ...e.user }
        // Back after a drop: inbox frames may have been missed, refresh the list.
        if (connectedBefore) void reloadInbox()
        connectedBefore = true
        break
      case 'event':
        applyEvent(e.conversationId, e.event)
        break
      case 'ack':
        applyAck(e.clientId, e.seq)
        break
      case 'send_failed':
        applySendFailed(e.clientId, e.code, e.message)
        break
      case 'inbox':
        onInbox(e.conversation, router)
        break
      case 'typing':
        applyTyping(e.conversationId, e.from.kind, e.from.id, e.from.name, e.typing, e.draft)
        break
      case 'visitor':
        applyVisitor(e.visitor)
        for (const c of inbox.items) {
          if (c.visitor.id === e.visitor.id) {
            patchConversation(c.id, {
              visitor: { id: e.visitor.id, display_name: e.visitor.display_name, name: e.visitor.name, email: e.visitor.email },
            })
          }
        }
        break
      case 'state':
        if (e.state === 'unauthorized') {
          clearSession()
          void router.push({ name: 'login', query: { next: router.currentRoute.value.fullPath, expired: '1' } })
        }
        break
      default:
        break
    }
  })

  installAudioUnlock()
  const onFocus = () => {
    stopBlink()
    markRead()
  }
  const onVisible = () => {
    if (!document.hidden) onFocus()
  }
  const onOnline = () => client.reconnectNow()
  window.addEventListener('focus', onFocus)
  document.addEventListener('visibilitychange', onVisible)
  window.addEventListener('online', onOnline)
  domCleanup = () => {
    window.removeEventListener('focus', onFocus)
    document.removeEventListener('visibilitychange', onVisible)
    window.removeEventListener('online', onOnline)
  }
  client.start()
}

export function stopLive(): void {
  unlisten?.()
  unlisten = null
  domCleanup?.()
  domCleanup = null
  client.stop()
  // Unsent messages belong to this session only: never replay them for someone else.
  for (const p of client.outbox.pending()) client.outbox.remove(p.client_id)
  pending.clear()
  stopBlink()
}

function messageKey(c: Conversation): string | null {
  return c.last_message ? `${c.last_message.created_at}|${c.last_message.sender_kind}|${c.last_seq}` : null
}

function onInbox(c: Conversation, router: Router): void {
  const before = seenConversations.get(c.id)
  const attended = windowIsAttended()
  const isOpen = chat.id === c.id
  if (isOpen && attended) c = { ...c, unread_count: 0 }
  applyConversation(c)
  applyConversationSummary(c)

  const last = c.last_message
  if (!last || last.sender_kind !== 'visitor') return
  if (before && messageKey(before) === messageKey(c)) return
  if (before && before.last_seq >= c.last_seq) return
  if (c.status !== 'open') return
  if (c.assignee && c.assignee.id !== session.user?.id) return
  if (isOpen && attended) return

  const recent = Date.now() - Date.parse(c.created_at) < 120_000
  const isNew = !before && recent
  raiseAlert(c, isNew, router)
}

function raiseAlert(c: Conversation, isNew: boolean, router: Router): void {
  if (alerts.muted) return
  playChime()
  const title = t(isNew ? 'notify.newConversation' : 'notify.newMessage')
  const name = c.visitor.name || c.visitor.display_name
  const text = c.last_message?.body?.trim() || t('notify.attachment')
  showDesktop(`${title} · ${name}`, text.slice(0, 200), `parley-${c.id}`, () => {
    void router.push({ name: 'conversation', params: { id: c.id } })
  })
  if (!windowIsAttended()) blinkTitle(alerts.unseen + 1, (n) => t('notify.title', { count: n }))
}
