// `@Name` mentions in internal notes (unit-tested): finding the query under the caret,
// suggesting colleagues, inserting the choice, and highlighting mentions the way the server
// reads them (longest name first, case-insensitive, a name must not run into a letter/digit).

export interface Mentionable {
  id: string
  name: string
}

export interface MentionQuery {
  /** Index of the `@`. */
  start: number
  /** What follows the `@` up to the caret. */
  query: string
}

const MAX_QUERY = 40

/** The `@query` being typed just before `caret`, if any. */
export function mentionQuery(text: string, caret: number): MentionQuery | null {
  const before = text.slice(0, Math.max(0, Math.min(caret, text.length)))
  const at = before.lastIndexOf('@')
  if (at < 0) return null
  // `ana@example.com` is an e-mail address, not a mention.
  if (at > 0 && /[\p{L}\p{N}._-]/u.test(before[at - 1])) return null
  const query = before.slice(at + 1)
  if (query.length > MAX_QUERY || /[\n\r@]/.test(query) || /^\s/.test(query)) return null
  return { start: at, query }
}

/**
 * Colleagues whose name matches `query` (names starting with it first, then containing it).
 * Empty when the query already is somebody's full name: nothing left to complete, so Enter
 * can send.
 */
export function mentionSuggestions<T extends Mentionable>(people: readonly T[], query: string, limit = 8): T[] {
  const q = query.trim().toLowerCase()
  if (q && people.some((p) => p.name.toLowerCase() === q)) return []
  const starts: T[] = []
  const contains: T[] = []
  for (const p of people) {
    const n = p.name.toLowerCase()
    if (!q || n.startsWith(q)) starts.push(p)
    else if (n.includes(q)) contains.push(p)
  }
  const byName = (a: T, b: T) => a.name.localeCompare(b.name)
  return [...starts.sort(byName), ...contains.sort(byName)].slice(0, limit)
}

/** Replaces `@query` (from `start` to `caret`) with `@Name ` and returns the new text and caret. */
export function insertMention(text: string, start: number, caret: number, name: string): { text: string; caret: number } {
  const after = text.slice(caret)
  const insert = `@${name}` + (/^\s/.test(after) ? '' : ' ')
  const out = text.slice(0, start) + insert + after
  return { text: out, caret: start + insert.length }
}

export type MentionSegment = { kind: 'text'; text: string } | { kind: 'mention'; text: string; name: string }

const WORD = /[\p{L}\p{N}]/u

/** Splits a note into text and `@Name` mention segments (names as the server matches them). */
export function mentionSegments(body: string, names: readonly string[]): MentionSegment[] {
  const sorted = [...new Set(names.filter((n) => n.trim()))].sort((a, b) => [...b].length - [...a].length)
  const taken: { start: number; end: number; name: string }[] = []
  const lower = body.toLowerCase()
  const sameLength = lower.length === body.length
  for (const name of sorted) {
    const needle = `@${name.toLowerCase()}`
    let from = 0
    for (;;) {
      const i = sameLength ? lower.indexOf(needle, from) : indexOfFolded(body, needle, from)
      if (i < 0) break
      const end = i + needle.length
      const next = body.slice(end, end + 2)
      const boundary = !next || !WORD.test([...next][0])
      if (boundary && !taken.some((t) => i < t.end && t.start < end)) taken.push({ start: i, end, name })
      from = end
    }
  }
  taken.sort((a, b) => a.start - b.start)
  const out: MentionSegment[] = []
  let last = 0
  for (const t of taken) {
    if (t.start > last) out.push({ kind: 'text', text: body.slice(last, t.start) })
    out.push({ kind: 'mention', text: body.slice(t.start, t.end), name: t.name })
    last = t.end
  }
  if (last < body.length) out.push({ kind: 'text', text: body.slice(last) })
  return out
}

function indexOfFolded(body: string, needle: string, from: number): number {
  for (let i = body.indexOf('@', from); i >= 0; i = body.indexOf('@', i + 1)) {
    if (body.slice(i, i + needle.length).toLowerCase() === needle) return i
  }
  return -1
}
