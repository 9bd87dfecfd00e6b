// Pure helpers for the workspace's business hours page (unit-tested): the weekly grid reuses the
// group form's (routing.ts); special days (holidays and 调休 working days) are edited here.

import { formatClock, hoursPayload, hoursToForm, parseClock, type HoursForm } from './routing'
import type { MinuteRange, SpecialDay, WorkspaceHours, WorkspaceHoursInput } from './types'

export interface SpecialDayForm {
  /** 'YYYY-MM-DD' as an <input type="date"> gives it. */
  date: string
  /** Closed all day (a holiday); otherwise open start–end that day. */
  closed: boolean
  start: string
  end: string
  note: string
  /** Further ranges of the day, kept unchanged. */
  more: MinuteRange[]
}

export interface BusinessHoursForm {
  enabled: boolean
  week: HoursForm
  special: SpecialDayForm[]
  offHoursText: string
}

export function toForm(h: WorkspaceHours): BusinessHoursForm {
  const week = hoursToForm({ time_zone: h.time_zone, days: h.days }, h.time_zone)
  return {
    enabled: h.enabled,
    week,
    special: h.special_days.map(specialToForm),
    offHoursText: h.off_hours_text ?? '',
  }
}

function specialToForm(d: SpecialDay): SpecialDayForm {
  const [first, ...more] = d.ranges ?? []
  return first
    ? { date: d.date, closed: false, start: formatClock(first[0]), end: formatClock(first[1]), note: d.note ?? '', more: more.map((r) => [r[0], r[1]]) }
    : { date: d.date, closed: true, start: '09:00', end: '18:00', note: d.note ?? '', more: [] }
}

/** A new row: a holiday on `date` (today by default, in the browser's calendar). */
export function newSpecialDay(date = localToday()): SpecialDayForm {
  return { date, closed: true, start: '09:00', end: '18:00', note: '', more: [] }
}

export function localToday(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}`
}

/** A real calendar date written YYYY-MM-DD. */
export function isDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s)
  if (!m) return false
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])))
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3])
}

export type PayloadError = { error: 'week' | 'date' | 'duplicate' | 'range'; date?: string }

/** The PUT body, or what is wrong (checked again by the server). */
export function toPayload(form: BusinessHoursForm): WorkspaceHoursInput | PayloadError {
  const week = hoursPayload({ ...form.week, enabled: true })
  if (week === 'invalid' || week === null) return { error: 'week' }
  const seen = new Set<string>()
  const special_days: SpecialDay[] = []
  for (const d of form.special) {
    const date = d.date.trim()
    if (!isDate(date)) return { error: 'date', date }
    if (seen.has(date)) return { error: 'duplicate', date }
    seen.add(date)
    let ranges: MinuteRange[] = []
    if (!d.closed) {
      const start = parseClock(d.start)
      let end = parseClock(d.end)
      if (end === 0) end = 1440
      if (start === null || end === null || start >= end || start >= 1440) return { error: 'range', date }
      ranges = [[start, end], ...d.more.map((r): MinuteRange => [r[0], r[1]])]
    }
    const note = d.note.trim()
    special_days.push(note ? { date, ranges, note } : { date, ranges })
  }
  special_days.sort((a, b) => a.date.localeCompare(b.date))
  const text = form.offHoursText.trim()
  return {
    enabled: form.enabled,
    time_zone: week.time_zone,
    days: week.days,
    special_days,
    off_hours_text: text ? text : null,
  }
}

export function isPayloadError(p: WorkspaceHoursInput | PayloadError): p is PayloadError {
  return 'error' in p
}
