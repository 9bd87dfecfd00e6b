import { describe, expect, it } from 'vitest'
import {
  addMember,
  addStep,
  availableSteps,
  clampPriority,
  membersPayload,
  moveStep,
  parseOptionalSecs,
  parseTier,
  removeStep,
  STEPS,
  defaultHoursForm,
  formatClock,
  hoursPayload,
  hoursToForm,
  parseClock,
  timeZoneOptions,
} from './routing'
import type { RoutingStep } from './types'

describe('policy list', () => {
  const p: RoutingStep[] = ['sticky', 'skill', 'least_load']

  it('adds a step at the end, once', () => {
    expect(addStep(p, 'score')).toEqual(['sticky', 'skill', 'least_load', 'score'])
    expect(addStep(p, 'skill')).toEqual(p)
    expect(addStep(p, 'bogus')).toEqual(p)
    expect(addStep([], 'round_robin')).toEqual(['round_robin'])
  })

  it('offers only steps not yet used, in the catalogue order', () => {
    expect(availableSteps(p)).toEqual(['priority', 'round_robin', 'score'])
    expect(availableSteps([])).toEqual([...STEPS])
    expect(availableSteps([...STEPS])).toEqual([])
  })

  it('removes by index and ignores bad indexes', () => {
    expect(removeStep(p, 1)).toEqual(['sticky', 'least_load'])
    expect(removeStep(p, 5)).toEqual(p)
    expect(removeStep(p, -1)).toEqual(p)
  })

  it('moves up and down within bounds, without touching the input', () => {
    expect(moveStep(p, 2, -1)).toEqual(['sticky', 'least_load', 'skill'])
    expect(moveStep(p, 0, 1)).toEqual(['skill', 'sticky', 'least_load'])
    expect(moveStep(p, 0, -1)).toEqual(p)
    expect(moveStep(p, 2, 1)).toEqual(p)
    expect(p).toEqual(['sticky', 'skill', 'least_load'])
  })
})

describe('members', () => {
  it('adds once with a clamped priority', () => {
    const m = addMember([], { id: 'a', name: 'Ana' })
    expect(m).toEqual([{ user_id: 'a', name: 'Ana', priority: 1 }])
    expect(addMember(m, { id: 'a', name: 'Ana' }, 3)).toEqual(m)
    expect(addMember(m, { id: 'b', name: 'Bo' }, 12)[1].priority).toBe(9)
  })

  it('clamps priorities to 1-9', () => {
    expect(clampPriority(0)).toBe(1)
    expect(clampPriority('4')).toBe(4)
    expect(clampPriority(99)).toBe(9)
    expect(clampPriority('x')).toBe(1)
  })

  it('sends members served first at the top, otherwise in the order shown', () => {
    const out = membersPayload([
      { user_id: 'a', name: 'A', priority: 2 },
      { user_id: 'b', name: 'B', priority: 1 },
      { user_id: 'c', name: 'C', priority: 2 },
    ])
    expect(out).toEqual([
      { user_id: 'b', priority: 1 },
      { user_id: 'a', priority: 2 },
      { user_id: 'c', priority: 2 },
    ])
  })
})

describe('numeric fields', () => {
  it('reads optional timeouts', () => {
    expect(parseOptionalSecs('')).toBeNull()
    expect(parseOptionalSecs('  ')).toBeNull()
    expect(parseOptionalSecs(null)).toBeNull()
    expect(parseOptionalSecs('60')).toBe(60)
    expect(parseOptionalSecs(300)).toBe(300)
    expect(parseOptionalSecs('4')).toBe('invalid')
    expect(parseOptionalSecs('1.5')).toBe('invalid')
    expect(parseOptionalSecs('-10')).toBe('invalid')
    expect(parseOptionalSecs('90000')).toBe('invalid')
  })

  it('reads the tier', () => {
    expect(parseTier('1')).toBe(1)
    expect(parseTier(9)).toBe(9)
    expect(parseTier('0')).toBe('invalid')
    expect(parseTier('')).toBe('invalid')
    expect(parseTier('10')).toBe('invalid')
  })
})

describe('working hours form', () => {
  it('converts clock times, midnight at the end included', () => {
    expect(parseClock('09:30')).toBe(570)
    expect(parseClock('24:00')).toBe(1440)
    expect(parseClock('24:01')).toBeNull()
    expect(parseClock('9:7')).toBeNull()
    expect(parseClock('')).toBeNull()
    expect(formatClock(570)).toBe('09:30')
    expect(formatClock(1440)).toBe('00:00')
  })

  it('is always open until enabled', () => {
    const f = defaultHoursForm('Asia/Shanghai')
    expect(hoursPayload(f)).toBeNull()
    f.enabled = true
    f.days.sat = { on: true, start: '10:00', end: '16:00', more: [] }
    expect(hoursPayload(f)).toEqual({
      time_zone: 'Asia/Shanghai',
      days: {
        mon: [[540, 1080]],
        tue: [[540, 1080]],
        wed: [[540, 1080]],
        thu: [[540, 1080]],
        fri: [[540, 1080]],
        sat: [[600, 960]],
        sun: [],
      },
    })
  })

  it('reads an end of 00:00 as midnight and rejects backwards ranges', () => {
    const f = defaultHoursForm('UTC')
    f.enabled = true
    f.days.sun = { on: true, start: '22:00', end: '00:00', more: [] }
    const p = hoursPayload(f)
    expect(p !== 'invalid' && p?.days.sun).toEqual([[1320, 1440]])
    f.days.mon.end = '08:00'
    expect(hoursPayload(f)).toBe('invalid')
    f.days.mon = { on: true, start: '', end: '10:00', more: [] }
    expect(hoursPayload(f)).toBe('invalid')
    f.days.mon.on = false
    expect(hoursPayload(f)).not.toBe('invalid')
  })

  it('round-trips a group’s hours, keeping ranges the form does not show', () => {
    const hours = {
      time_zone: 'America/New_York',
      days: { mon: [[540, 720], [780, 1080]] as [number, number][], sat: [[600, 960]] as [number, number][] },
    }
    const f = hoursToForm(hours, 'Asia/Shanghai')
    expect(f.enabled).toBe(true)
    expect(f.timeZone).toBe('America/New_York')
    expect(f.days.mon).toEqual({ on: true, start: '09:00', end: '12:00', more: [[780, 1080]] })
    expect(f.days.tue.on).toBe(false)
    expect(hoursPayload(f)).toEqual({
      time_zone: 'America/New_York',
      days: { mon: [[540, 720], [780, 1080]], tue: [], wed: [], thu: [], fri: [], sat: [[600, 960]], sun: [] },
    })
    const none = hoursToForm(null, 'Europe/Berlin')
    expect(none.enabled).toBe(false)
    expect(none.timeZone).toBe('Europe/Berlin')
  })

  it('offers the group’s and the browser’s zone when they are not common', () => {
    const z = timeZoneOptions('Asia/Kathmandu', 'Asia/Shanghai', 'Asia/Kathmandu')
    expect(z[0]).toBe('Asia/Kathmandu')
    expect(z.filter((x) => x === 'Asia/Shanghai')).toHaveLength(1)
  })
})
