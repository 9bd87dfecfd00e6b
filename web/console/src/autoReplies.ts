// Keyword auto-replies (关键词自动回复): the shapes the console edits and how the server's
// validation messages are placed next to their field (unit-tested).

export type MatchMode = 'exact' | 'contains' | 'regex'

export interface TimeWindow {
  /** HH:MM, inclusive. */
  start: string
  /** HH:MM, exclusive; before `start` means the window crosses midnight. */
  end: string
  time_zone: string
}

export interface AutoReplyRule {
  id?: string
  name: string
  keywords: string[]
  mode: MatchMode
  channel_ids: string[]
  window: TimeWindow | null
  /** Only for visitors with one of these tags; empty: everyone. */
  visitor_tags?: string[]
  reply: string
  buttons: string[]
  enabled: boolean
  /** Messages it answered (read-only). */
  hits?: number
}

export const MAX_BUTTONS = 5
export const KEYWORD_RULES = { maxCount: 30, maxLength: 100, lowercase: false }
export const BUTTON_RULES = { maxCount: MAX_BUTTONS, maxLength: 40, lowercase: false }

/** What the server accepts for one rule (hits are the server's). */
export function toRequest(r: AutoReplyRule): Omit<AutoReplyRule, 'hits'> {
  return {
    id: r.id,
    name: r.name,
    keywords: r.keywords,
    mode: r.mode,
    channel_ids: r.channel_ids,
    window: r.window,
    visitor_tags: r.visitor_tags ?? [],
    reply: r.reply,
    buttons: r.buttons,
    enabled: r.enabled,
  }
}

/** `list` with the item at `i` moved by `delta` places (clamped); a new array. */
export function moved<T>(list: readonly T[], i: number, delta: number): T[] {
  const out = [...list]
  const j = Math.max(0, Math.min(out.length - 1, i + delta))
  if (i < 0 || i >= out.length || i === j) return out
  const [item] = out.splice(i, 1)
  out.splice(j, 0, item)
  return out
}

/** Regex patterns are edited one per line (they may contain commas). */
export function patternLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter(Boolean)
}

export interface FieldError {
  index: number
  field: string
  text: string
}

/** `rules[2].keywords (“订单”): invalid pattern …` → rule 2, field `keywords`, the rest. */
export function fieldError(message: string): FieldError | null {
  const m = /^rules\[(\d+)\]\.([a-z_]+)(?: \(“[^”]*”\))?: ([\s\S]*)$/.exec(message)
  if (!m) return null
  return { index: Number(m[1]), field: m[2], text: m[3] }
}

/** The browser's own time zone, the default for a new window. */
export function localTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
  } catch {
    return 'UTC'
  }
}
