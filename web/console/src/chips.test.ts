import { describe, expect, it } from 'vitest'
import { addChips, removeChip, sameChips, SKILL_RULES, splitChips, TAG_RULES } from './chips'

describe('chips', () => {
  it('splits on commas (also full-width) and line breaks', () => {
    expect(splitChips(' VIP, 退款，售后、 a  b \n c ')).toEqual(['VIP', '退款', '售后', 'a b', 'c'])
    expect(splitChips(' , ')).toEqual([])
  })

  it('adds tags once, case-insensitively, keeping their case', () => {
    expect(addChips(['VIP'], 'vip, 退款', TAG_RULES)).toEqual({ list: ['VIP', '退款'], problem: null })
  })

  it('lower-cases skills', () => {
    expect(addChips([], 'English, Billing', SKILL_RULES).list).toEqual(['english', 'billing'])
  })

  it('refuses entries that are too long and lists that are too full', () => {
    expect(addChips([], 'x'.repeat(31), TAG_RULES)).toEqual({ list: [], problem: 'too_long' })
    const full = Array.from({ length: 20 }, (_, i) => `t${i}`)
    expect(addChips(full, 'one more', TAG_RULES).problem).toBe('too_many')
    expect(addChips(full, 't3', TAG_RULES).problem).toBeNull()
  })

  it('removes and compares', () => {
    expect(removeChip(['a', 'b'], 'a')).toEqual(['b'])
    expect(sameChips(['a'], ['a'])).toBe(true)
    expect(sameChips(undefined, [])).toBe(true)
    expect(sameChips(['a', 'b'], ['b', 'a'])).toBe(false)
  })
})
