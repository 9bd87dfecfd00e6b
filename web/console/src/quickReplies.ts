// Quick replies in the composer (unit-tested): the `/query` being typed, filtering the replies
// for it, filling in variables, and the text a suggested article inserts.

export interface ReplyLike {
  shortcut: string
  title: string
  text: string
  category: string
}

/** Values for the variables a reply may contain; missing ones are filled in as ''. */
export interface ReplyContext {
  visitorName?: string | null
  agentName?: string | null
  channelName?: string | null
}

const MAX_QUERY = 40

/**
 * The quick-reply search being typed: the composer starts with `/` and the caret is still in
 * that first word. Returns what follows the `/` up to the caret, or null.
 */
export function slashQuery(text: string, caret: number): string | null {
  if (!text.startsWith('/')) return null
  const before = text.slice(1, Math.max(1, Math.min(caret, text.length)))
  if (caret < 1 || before.length > MAX_QUERY || /\s/.test(before)) return null
  return before
}

/**
 * Replies matching `query`, best first: shortcut starting with it, then shortcut, title,
 * category and text containing it (case-insensitive; each word of the query must match
 * somewhere). An empty query lists everything in its order.
 */
export function filterReplies<T extends ReplyLike>(replies: readonly T[], query: string, limit = 10): T[] {
  const words = query.trim().toLowerCase().split(/\s+/).filter(Boolean)
  if (words.length === 0) return replies.slice(0, limit)
  const ranked: { r: T; rank: number; i: number }[] = []
  replies.forEach((r, i) => {
    const fields = [r.shortcut, r.title, r.category, r.text].map((f) => f.toLowerCase())
    if (!words.every((w) => fields.some((f) => f.includes(w)))) return
    const w = words[0]
    let rank = 5
    if (fields[0].startsWith(w)) rank = 0
    else if (fields[0].includes(w)) rank = 1
    else if (fields[1].includes(w)) rank = 2
    else if (fields[2].includes(w)) rank = 3
    else rank = 4
    ranked.push({ r, rank, i })
  })
  ranked.sort((a, b) => a.rank - b.rank || a.i - b.i)
  return ranked.slice(0, limit).map((x) => x.r)
}

const VARIABLE = /\{\s*([a-z]+\.[a-z]+)\s*\}/gi

/**
 * Fills `{visitor.name}`, `{agent.name}` and `{channel.name}` (any letter case, spaces inside
 * the braces allowed). A known variable without a value becomes '' (never a raw `{…}` in front
 * of a visitor); unknown variables stay as typed.
 */
export function fillVariables(text: string, ctx: ReplyContext): string {
  const values: Record<string, string | null | undefined> = {
    'visitor.name': ctx.visitorName,
    'agent.name': ctx.agentName,
    'channel.name': ctx.channelName,
  }
  return text.replace(VARIABLE, (whole, name: string) => {
    const key = name.toLowerCase()
    if (!(key in values)) return whole
    return (values[key] ?? '').trim()
  })
}

/**
 * The composer after choosing a reply for the `/query` that ends at `caret`: the `/query` is
 * replaced by the reply's text; what followed the caret stays.
 */
export function applyReply(text: string, caret: number, replyText: string): { text: string; caret: number } {
  const rest = text.slice(Math.max(0, Math.min(caret, text.length)))
  return { text: replyText + rest, caret: replyText.length }
}

export interface ArticleLike {
  title: string
  excerpt: string
  url: string
}

/** What a suggested article inserts: its title, a short excerpt and its help-centre link. */
export function articleText(a: ArticleLike, origin: string): string {
  const link = /^https?:\/\//.test(a.url) ? a.url : origin.replace(/\/+$/, '') + a.url
  return [a.title, a.excerpt, link].filter((s) => s.trim()).join('\n')
}

/** Inserts `insert` into `text` at the selection, on a line of its own when text surrounds it. */
export function insertAt(text: string, start: number, end: number, insert: string): { text: string; caret: number } {
  const before = text.slice(0, start)
  const after = text.slice(end)
  const lead = before && !before.endsWith('\n') ? '\n' : ''
  const trail = after && !after.startsWith('\n') ? '\n' : ''
  const next = before + lead + insert + trail + after
  return { text: next, caret: (before + lead + insert).length }
}
