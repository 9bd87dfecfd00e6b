import { describe, expect, it } from 'vitest'
import { duration, secondsSince } from './format'

describe('duration', () => {
  it('shows seconds, minutes, hours and minutes', () => {
    expect(duration(45, 'en')).toBe('45 sec')
    expect(duration(12 * 60 + 30, 'en')).toBe('12 min')
    expect(duration(3600 + 5 * 60, 'en')).toBe('1 hr 5 min')
    expect(duration(7200, 'en')).toBe('2 hr')
    expect(duration(3600 + 5 * 60, 'zh-CN')).toBe('1小时5分钟')
    expect(duration(null, 'en')).toBe('')
    expect(duration(-3, 'en')).toBe('0 sec')
  })

  it('counts seconds since a time', () => {
    const now = Date.parse('2024-01-01T12:00:00Z')
    expect(secondsSince('2024-01-01T11:59:00Z', now)).toBe(60)
    expect(secondsSince('2024-01-01T12:01:00Z', now)).toBe(0)
    expect(secondsSince(null, now)).toBeNull()
  })
})
