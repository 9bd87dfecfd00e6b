// Locale-aware formatting of times and sizes.

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

const rtfCache = new Map<string, Intl.RelativeTimeFormat>()
function rtf(locale: string): Intl.RelativeTimeFormat {
  let f = rtfCache.get(locale)
  if (!f) {
    f = new Intl.RelativeTimeFormat(locale, { numeric: 'auto', style: 'short' })
    rtfCache.set(locale, f)
  }
  return f
}

function startOfDay(t: number): number {
  const d = new Date(t)
  d.setHours(0, 0, 0, 0)
  return d.getTime()
}

/** "just now", "5 min ago", "3 hr ago", "yesterday", then a short date. */
export function relativeTime(iso: string | null | undefined, now: number, locale: string, justNow: string): string {
  if (!iso) return ''
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return ''
  const diff = now - t
  if (diff < 45_000) return justNow
  if (diff < HOUR) return rtf(locale).format(-Math.round(diff / MINUTE), 'minute')
  if (diff < 12 * HOUR || startOfDay(t) === startOfDay(now)) return rtf(locale).format(-Math.round(diff / HOUR), 'hour')
  const days = Math.round((startOfDay(now) - startOfDay(t)) / DAY)
  if (days < 7) return rtf(locale).format(-days, 'day')
  const sameYear = new Date(t).getFullYear() === new Date(now).getFullYear()
  return new Intl.DateTimeFormat(locale, sameYear ? { month: 'short', day: 'numeric' } : { dateStyle: 'medium' }).format(t)
}

export function clockTime(iso: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' }).format(Date.parse(iso))
}

export function dateTime(iso: string | null | undefined, locale: string): string {
  if (!iso) return ''
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return ''
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(t)
}

/** Day separator label: today / yesterday (localised words from the caller) or a full date. */
export function dayLabel(iso: string, now: number, locale: string, today: string, yesterday: string): string {
  const t = Date.parse(iso)
  const days = Math.round((startOfDay(now) - startOfDay(t)) / DAY)
  if (days === 0) return today
  if (days === 1) return yesterday
  return new Intl.DateTimeFormat(locale, { dateStyle: 'full' }).format(t)
}

export function sameDay(a: string, b: string): boolean {
  return startOfDay(Date.parse(a)) === startOfDay(Date.parse(b))
}

export function fileSize(bytes: number, locale: string): string {
  const units = ['B', 'KB', 'MB', 'GB']
  let v = bytes
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  const n = new Intl.NumberFormat(locale, { maximumFractionDigits: i === 0 ? 0 : 1 }).format(v)
  return `${n} ${units[i]}`
}

const unitCache = new Map<string, Intl.NumberFormat>()
function unitFormat(locale: string, unit: 'second' | 'minute' | 'hour'): Intl.NumberFormat {
  const key = `${locale}|${unit}`
  let f = unitCache.get(key)
  if (!f) {
    f = new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'short' })
    unitCache.set(key, f)
  }
  return f
}

/** A waiting time: "45 sec", "12 min", "1 hr 5 min" (zh-CN: "45秒", "12分钟", "1小时5分钟"). */
export function duration(totalSecs: number | null | undefined, locale: string): string {
  if (totalSecs === null || totalSecs === undefined || !Number.isFinite(totalSecs)) return ''
  const secs = Math.max(0, Math.floor(totalSecs))
  if (secs < 60) return unitFormat(locale, 'second').format(secs)
  const mins = Math.floor(secs / 60)
  if (mins < 60) return unitFormat(locale, 'minute').format(mins)
  const hours = Math.floor(mins / 60)
  const rest = mins % 60
  const h = unitFormat(locale, 'hour').format(hours)
  if (rest === 0) return h
  const sep = locale.toLowerCase().startsWith('zh') ? '' : ' '
  return h + sep + unitFormat(locale, 'minute').format(rest)
}

/** Seconds from an RFC 3339 time to `now` (ms), never negative; null when there is no time. */
export function secondsSince(iso: string | null | undefined, now: number): number | null {
  if (!iso) return null
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return null
  return Math.max(0, Math.floor((now - t) / 1000))
}
