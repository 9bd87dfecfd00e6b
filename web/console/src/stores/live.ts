// Wires the realtime client to the stores, and decides when to alert.

import type { Router } from 'vue-router'
import { t } from '../i18n'
import { alerts, blinkTitle, installAudioUnlock, playChime, showDesktop, stopBlink } from '../notify'
import type { Viewer } from '../realtime'
import type { Conversation, ConvEvent } from '../types'
import {
  applyAck,
  applyConversationSummary,
  applyEvent,
  applySendFailed,
  applyTyping,
  applyViewers,
  applyVisitor,
  chat,
  markRead,
  pending,
  windowIsAttended,
} from './chat'
import { resetGroups } from './groups'
import { applyConversation, findConversation, inbox, patchConversation, reloadInbox, seenConversations } from './inbox'
import { applyAgentStatus, resetPeople } from './people'
import { clearSession, session } from './session'
import { client } from './socket'
import { clearToasts, pushToast } from './toasts'

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
        inbox.tick++
        onInbox(e.conversation, router)
        break
      case 'resync':
        inbox.tick++
        void reloadInbox()
        break
      case 'agent_status':
        applyAgentStatus(e.userId, e.status)
        if (session.user && e.userId === session.user.id && e.status !== 'offline') session.user.status = e.status
        break
      case 'viewers':
        applyViewers(e.conversationId, e.viewers)
        break
      case 'transfer':
        onTransfer(e.conversationId, e.from, e.note, router)
        break
      case 'mention':
        onMention(e.conversationId, e.event, router)
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
  resetPeople()
  resetGroups()
  clearToasts()
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
  const title = t(isNew ? 'notify.newConversation' : 'notify.newMessage')
  const name = c.visitor.name || c.visitor.display_name
  const text = c.last_message?.body?.trim() || t('notify.attachment')
  alertAbout(c.id, `${title} · ${name}`, text, router)
}

/** Sound, desktop notification and title blink, like a new message (unless muted). */
function alertAbout(conversationId: string, title: string, body: string, router: Router, tag = `parley-${conversationId}`): void {
  if (alerts.muted) return
  playChime()
  showDesktop(title, body.slice(0, 200), tag, () => openConversation(conversationId, router))
  if (!windowIsAttended()) blinkTitle(alerts.unseen + 1, (n) => t('notify.title', { count: n }))
}

function openConversation(id: string, router: Router): void {
  void router.push({ name: 'conversation', params: { id } })
}

function visitorLabel(conversationId: string): string {
  const c = findConversation(conversationId) ?? (chat.conversation?.id === conversationId ? chat.conversation : undefined)
  return c ? c.visitor.name || c.visitor.display_name : ''
}

/** A colleague handed me a conversation. */
function onTransfer(conversationId: string, from: Viewer | null, note: string | null, router: Router): void {
  const name = from?.name || t('chat.ev.system')
  const clean = note?.trim() || ''
  const text = clean ? t('notify.transferredNote', { name, note: clean }) : t('notify.transferred', { name })
  const visitor = visitorLabel(conversationId)
  pushToast({
    kind: 'alert',
    title: visitor ? t('notify.transferTitleWith', { visitor }) : t('notify.transferTitle'),
    text,
    action: () => openConversation(conversationId, router),
  })
  alertAbout(conversationId, t('notify.transferTitle'), text, router, `parley-transfer-${conversationId}`)
}

/** A colleague mentioned me in an internal note. */
function onMention(conversationId: string, ev: ConvEvent, router: Router): void {
  if (ev.sender.id && ev.sender.id === session.user?.id) return
  const name = ev.sender.name || t('chat.ev.system')
  const body = ev.body?.trim() || ''
  const text = t('notify.mentioned', { name })
  pushToast({ kind: 'alert', title: text, text: body, action: () => openConversation(conversationId, router) })
  if (chat.id === conversationId && windowIsAttended()) {
    if (!alerts.muted) playChime()
    return
  }
  alertAbout(conversationId, text, body, router, `parley-mention-${ev.id || ev.seq}`)
}
