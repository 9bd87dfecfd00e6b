// Editing short label lists shown as chips (unit-tested): conversation tags and agent skills.
// The rules mirror the server's (parse_tags / parse_skills) so the UI can say no before it asks.

export interface ChipRules {
  /** Most entries in the list. */
  maxCount: number
  /** Most characters per entry. */
  maxLength: number
  /** Store entries lower-cased (skills are). */
  lowercase: boolean
}

export const TAG_RULES: ChipRules = { maxCount: 20, maxLength: 30, lowercase: false }
export const SKILL_RULES: ChipRules = { maxCount: 30, maxLength: 40, lowercase: true }

export type ChipProblem = 'too_long' | 'too_many' | null

/** Splits typed text into entries: commas (also the full-width ，、) and line breaks separate. */
export function splitChips(raw: string): string[] {
  return raw
    .split(/[,，、\n\r]+/)
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter(Boolean)
}

/**
 * Adds the entries typed in `raw` to `list`: trimmed, case-insensitively de-duplicated.
 * Stops at the first entry that breaks a rule and reports which.
 */
export function addChips(list: readonly string[], raw: string, rules: ChipRules): { list: string[]; problem: ChipProblem } {
  const out = [...list]
  for (let entry of splitChips(raw)) {
    if (rules.lowercase) entry = entry.toLowerCase()
    if ([...entry].length > rules.maxLength) return { list: out, problem: 'too_long' }
    if (out.some((x) => x.toLowerCase() === entry.toLowerCase())) continue
    if (out.length >= rules.maxCount) return { list: out, problem: 'too_many' }
    out.push(entry)
  }
  return { list: out, problem: null }
}

export function removeChip(list: readonly string[], chip: string): string[] {
  return list.filter((x) => x !== chip)
}

export function sameChips(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const x = a ?? []
  const y = b ?? []
  return x.length === y.length && x.every((v, i) => v === y[i])
}
