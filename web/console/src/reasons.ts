// Routing explanations arrive as structured clauses (the server's `Reason`); this renders
// them in the reader's language. Clauses this console does not know (a newer server's) are
// left out rather than shown raw.

import type { Reason } from './types'

type Translate = (key: string, params?: Record<string, unknown>) => string

/** One clause, or null when the code is unknown. */
export function reasonClause(r: Reason, t: Translate): string | null {
  switch (r.code) {
    case 'sticky':
      return t('chat.reason.sticky', { agent: r.agent })
    case 'skill':
      return t('chat.reason.skill', { skills: r.skills.join('+') })
    case 'no_skill':
      return t('chat.reason.noSkill', { skills: r.skills.join('+') })
    case 'tier':
      return t(r.overflow ? 'chat.reason.tierOverflow' : 'chat.reason.tier', { tier: r.tier })
    case 'least_load':
      return t('chat.reason.leastLoad', { agent: r.agent, load: r.load, capacity: r.capacity })
    case 'score':
      return t('chat.reason.score', { agent: r.agent, score: r.score })
    case 'round_robin':
      return t('chat.reason.roundRobin', { agent: r.agent })
    case 'no_room':
      return t('chat.reason.noRoom')
    case 'outside_hours':
      return t('chat.reason.outsideHours')
    case 'no_reply':
      return t('chat.reason.noReply', { secs: r.secs })
    case 'agent_offline':
      return t('chat.reason.agentOffline')
    case 'keyword':
      return r.group ? t('chat.reason.keywordTo', { keyword: r.keyword, group: r.group }) : t('chat.reason.keyword', { keyword: r.keyword })
    case 'escalated':
      return r.group ? t('chat.reason.escalatedTo', { keyword: r.keyword, group: r.group }) : t('chat.reason.escalated', { keyword: r.keyword })
    case 'transfer':
      return r.group ? t('chat.reason.transferTo', { by: r.by, group: r.group }) : t('chat.reason.transfer', { by: r.by })
    case 'taken_over':
      return t('chat.reason.takenOver', { by: r.by })
    case 'released':
      return t('chat.reason.released')
    case 'visitor_chose':
      return t('chat.reason.visitorChose', { group: r.group })
    case 'bot_handoff':
      return t(`chat.reason.bot.${r.trigger}`)
    default:
      return null
  }
}

/**
 * The whole explanation: clauses joined by the locale's separator; a group clause prefixes the
 * clause after it ("售前：最少负载 …").
 */
export function explain(reasons: readonly Reason[] | null | undefined, t: Translate): string {
  const out: string[] = []
  let group: string | null = null
  for (const r of reasons ?? []) {
    if (r.code === 'group') {
      group = r.name
      continue
    }
    const clause = reasonClause(r, t)
    if (clause === null) continue
    out.push(group === null ? clause : t('chat.reason.inGroup', { group, clause }))
    group = null
  }
  if (group !== null) out.push(group)
  return out.join(t('chat.reason.sep'))
}
