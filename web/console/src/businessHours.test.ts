import { describe, expect, it } from 'vitest'
import { isDate, isPayloadError, localToday, newSpecialDay, toForm, toPayload } from './businessHours'
import type { WorkspaceHours } from './types'

const saved: WorkspaceHours = {
  enabled: true,
  time_zone: 'Asia/Shanghai',
  days: { mon: [[540, 1080]], sat: [[600, 720], [780, 960]] },
  special_days: [
    { date: '2026-09-27', ranges: [[540, 1080]], note: '调休' },
    { date: '2026-10-01', ranges: [], note: '国庆节' },
  ],
  off_hours_text: null,
  open_now: false,
  next_open_at: null,
}

describe('business hours form', () => {
  it('round-trips the saved hours, keeping extra ranges', () => {
    const form = toForm(saved)
    expect(form.special[0]).toMatchObject({ date: '2026-09-27', closed: false, start: '09:00', end: '18:00', note: '调休' })
    expect(form.special[1]).toMatchObject({ date: '2026-10-01', closed: true })
    const p = toPayload(form)
    if (isPayloadError(p)) throw new Error(p.error)
    expect(p.days.mon).toEqual([[540, 1080]])
    expect(p.days.sat).toEqual([[600, 720], [780, 960]])
    expect(p.days.sun).toEqual([])
    expect(p.special_days).toEqual(saved.special_days)
    expect(p.off_hours_text).toBeNull()
  })

  it('sorts special days and refuses bad dates, duplicates and backwards ranges', () => {
    const form = toForm({ ...saved, special_days: [] })
    form.special = [newSpecialDay('2026-10-02'), newSpecialDay('2026-10-01')]
    const p = toPayload(form)
    if (isPayloadError(p)) throw new Error(p.error)
    expect(p.special_days.map((d) => d.date)).toEqual(['2026-10-01', '2026-10-02'])

    form.special = [newSpecialDay('2026-02-30')]
    expect(toPayload(form)).toEqual({ error: 'date', date: '2026-02-30' })
    form.special = [newSpecialDay('2026-10-01'), newSpecialDay('2026-10-01')]
    expect(toPayload(form)).toEqual({ error: 'duplicate', date: '2026-10-01' })
    form.special = [{ ...newSpecialDay('2026-09-27'), closed: false, start: '18:00', end: '09:00' }]
    expect(toPayload(form)).toEqual({ error: 'range', date: '2026-09-27' })
    // An end of 00:00 is midnight.
    form.special = [{ ...newSpecialDay('2026-09-27'), closed: false, start: '20:00', end: '00:00' }]
    const ok = toPayload(form)
    if (isPayloadError(ok)) throw new Error(ok.error)
    expect(ok.special_days[0].ranges).toEqual([[1200, 1440]])
  })

  it('keeps the reply text trimmed, empty meaning the built-in one', () => {
    const form = toForm(saved)
    form.offHoursText = '  下班啦，{next_open} 见 '
    const p = toPayload(form)
    if (isPayloadError(p)) throw new Error(p.error)
    expect(p.off_hours_text).toBe('下班啦，{next_open} 见')
  })

  it('knows real dates', () => {
    expect(isDate('2024-02-29')).toBe(true)
    expect(isDate('2026-02-29')).toBe(false)
    expect(isDate('2026-1-01')).toBe(false)
    expect(localToday(new Date(2026, 9, 1, 23, 30))).toBe('2026-10-01')
  })
})
