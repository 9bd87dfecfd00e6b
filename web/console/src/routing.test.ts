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
