// Pure helpers for editing routing groups (unit-tested): the ordered policy list, member
// priorities, the optional numeric fields and the working hours of the group form.

import type { GroupMember, MinuteRange, RoutingStep, Weekday, WeeklyHours } from './types'

/** Every routing step, in the order the picker offers them. */
export const STEPS: readonly RoutingStep[] = ['sticky', 'skill', 'priority', 'least_load', 'round_robin', 'score']

export function isStep(v: unknown): v is RoutingStep {
  return typeof v === 'string' && (STEPS as readonly string[]).includes(v)
}

/** Steps not yet in the policy (a step appears at most once). */
export function availableSteps(policy: readonly RoutingStep[]): RoutingStep[] {
  return STEPS.filter((s) => !policy.includes(s))
}

/** Appends a step; unknown or already present steps leave the list as it is. */
export function addStep(policy: readonly RoutingStep[], step: string): RoutingStep[] {
  if (!isStep(step) || policy.includes(step)) return [...policy]
  return [...policy, step]
}

export function removeStep(policy: readonly RoutingStep[], index: number): RoutingStep[] {
  if (index < 0 || index >= policy.length) return [...policy]
  return [...policy.slice(0, index), ...policy.slice(index + 1)]
}

/** Moves the step at `index` by `delta` (-1 up, +1 down); out-of-range moves change nothing. */
export function moveStep(policy: readonly RoutingStep[], index: number, delta: number): RoutingStep[] {
  const to = index + delta
  if (index < 0 || index >= policy.length || to < 0 || to >= policy.length) return [...policy]
  const out = [...policy]
  const [s] = out.splice(index, 1)
  out.splice(to, 0, s)
  return out
}

export const MIN_PRIORITY = 1
export const MAX_PRIORITY = 9

export function clampPriority(n: unknown): number {
  const v = Math.round(Number(n))
  if (!Number.isFinite(v)) return MIN_PRIORITY
  return Math.min(MAX_PRIORITY, Math.max(MIN_PRIORITY, v))
}

/** Adds a member (priority 1) unless already there. */
export function addMember(members: readonly GroupMember[], user: { id: string; name: string }, priority = 1): GroupMember[] {
  if (members.some((m) => m.user_id === user.id)) return [...members]
  return [...members, { user_id: user.id, name: user.name, priority: clampPriority(priority) }]
}

/** Members as PUT /groups/{id}/members wants them: served first at the top, stable otherwise. */
export function membersPayload(members: readonly GroupMember[]): { user_id: string; priority: number }[] {
  return [...members]
    .map((m, i) => ({ m, i }))
    .sort((a, b) => clampPriority(a.m.priority) - clampPriority(b.m.priority) || a.i - b.i)
    .map(({ m }) => ({ user_id: m.user_id, priority: clampPriority(m.priority) }))
}

/**
 * An optional whole number of seconds from a form field: '' → null (none); otherwise an
 * integer within [min, max], or 'invalid'.
 */
export function parseOptionalSecs(raw: string | number | null | undefined, min = 5, max = 86_400): number | null | 'invalid' {
  const s = raw === null || raw === undefined ? '' : String(raw).trim()
  if (s === '') return null
  if (!/^\d+$/.test(s)) return 'invalid'
  const n = Number(s)
  return n >= min && n <= max ? n : 'invalid'
}

/** Tier 1-9 (1 = first line). */
export function parseTier(raw: string | number | null | undefined): number | 'invalid' {
  const s = raw === null || raw === undefined ? '' : String(raw).trim()
  if (!/^\d+$/.test(s)) return 'invalid'
  const n = Number(s)
  return n >= 1 && n <= 9 ? n : 'invalid'
}

// Working hours: the form has one range per day; further ranges (set through the API) are kept.

export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']

/** Zones offered in the picker; the group's own and the browser's are added when missing. */
export const COMMON_TIME_ZONES: readonly string[] = [
  'Asia/Shanghai',
  'Asia/Hong_Kong',
  'Asia/Taipei',
  'Asia/Tokyo',
  'Asia/Seoul',
  'Asia/Singapore',
  'Asia/Kolkata',
  'Asia/Dubai',
  'Europe/London',
  'Europe/Paris',
  'Europe/Berlin',
  'Europe/Moscow',
  'America/New_York',
  'America/Chicago',
  'America/Denver',
  'America/Los_Angeles',
  'America/Sao_Paulo',
  'Australia/Sydney',
  'Pacific/Auckland',
  'UTC',
]

export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
  } catch {
    return 'UTC'
  }
}

/** The picker's options: the common zones, with any of `extra` not among them first. */
export function timeZoneOptions(...extra: string[]): string[] {
  const missing = [...new Set(extra.filter((z) => z && !COMMON_TIME_ZONES.includes(z)))]
  return [...missing, ...COMMON_TIME_ZONES]
}

export interface DayForm {
  on: boolean
  /** 'HH:MM' as an <input type="time"> gives it. */
  start: string
  end: string
  /** Further ranges of the day, kept unchanged. */
  more: MinuteRange[]
}

export interface HoursForm {
  enabled: boolean
  timeZone: string
  days: Record<Weekday, DayForm>
}

/** 540 → '09:00'; 1440 (midnight at the end of the day) → '00:00'. */
export function formatClock(minutes: number): string {
  const m = ((Math.round(minutes) % 1440) + 1440) % 1440
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`
}

/** 'HH:MM' → minutes after midnight, or null. '24:00' is accepted (1440). */
export function parseClock(raw: string): number | null {
  const m = /^(\d{1,2}):(\d{2})$/.exec(raw.trim())
  if (!m) return null
  const h = Number(m[1])
  const min = Number(m[2])
  if (min > 59 || h > 24 || (h === 24 && min !== 0)) return null
  return h * 60 + min
}

/** A new group's form: Monday to Friday 09:00–18:00 in `timeZone`, but not yet enabled. */
export function defaultHoursForm(timeZone: string): HoursForm {
  const days = {} as Record<Weekday, DayForm>
  for (const d of WEEKDAYS) {
    days[d] = { on: d !== 'sat' && d !== 'sun', start: '09:00', end: '18:00', more: [] }
  }
  return { enabled: false, timeZone, days }
}

/** The form for a group's hours; `null` (always open) gives the default, disabled. */
export function hoursToForm(hours: WeeklyHours | null | undefined, fallbackZone: string): HoursForm {
  const form = defaultHoursForm(hours?.time_zone || fallbackZone)
  if (!hours) return form
  form.enabled = true
  for (const d of WEEKDAYS) {
    const ranges = hours.days[d] ?? []
    const [first, ...more] = ranges
    form.days[d] = first
      ? { on: true, start: formatClock(first[0]), end: formatClock(first[1]), more: more.map((r) => [r[0], r[1]]) }
      : { on: false, start: '09:00', end: '18:00', more: [] }
  }
  return form
}

/**
 * The `hours` field of a group request: null when always open, 'invalid' when an open day's
 * times are missing or its start is not before its end. An end of 00:00 means midnight.
 */
export function hoursPayload(form: HoursForm): WeeklyHours | null | 'invalid' {
  if (!form.enabled) return null
  if (!form.timeZone.trim()) return 'invalid'
  const days: Partial<Record<Weekday, MinuteRange[]>> = {}
  for (const d of WEEKDAYS) {
    const day = form.days[d]
    if (!day.on) {
      days[d] = []
      continue
    }
    const start = parseClock(day.start)
    let end = parseClock(day.end)
    if (end === 0) end = 1440
    if (start === null || end === null || start >= end || start >= 1440) return 'invalid'
    days[d] = [[start, end], ...day.more.map((r): MinuteRange => [r[0], r[1]])]
  }
  return { time_zone: form.timeZone.trim(), days }
}
