import { describe, expect, it } from 'vitest'
import {
  addableGroups,
  addOption,
  entryMode,
  entryPayload,
  entryProblem,
  MAX_ENTRY_LABEL,
  MAX_ENTRY_POINTS,
  moveOption,
  removeOption,
  visitorLabel,
} from './entryPoints'
import type { EntryPoint } from './types'

const pre: EntryPoint = { group_id: 'g-pre', label: '' }
const after: EntryPoint = { group_id: 'g-after', label: '订单与售后' }

describe('entry options list', () => {
  it('starts in the mode the channel is in', () => {
    expect(entryMode([])).toBe('single')
    expect(entryMode(undefined)).toBe('single')
    expect(entryMode([pre])).toBe('choose')
  })

  it('adds a group once, with an empty label, up to the maximum', () => {
    expect(addOption([pre], 'g-after')).toEqual([pre, { group_id: 'g-after', label: '' }])
    expect(addOption([pre], 'g-pre')).toEqual([pre])
    expect(addOption([pre], '')).toEqual([pre])
    const full = Array.from({ length: MAX_ENTRY_POINTS }, (_, i) => ({ group_id: `g${i}`, label: '' }))
    expect(addOption(full, 'g-new')).toHaveLength(MAX_ENTRY_POINTS)
  })

  it('reorders and removes without touching the input', () => {
    const list = [pre, after]
    expect(moveOption(list, 1, -1)).toEqual([after, pre])
    expect(moveOption(list, 0, -1)).toEqual(list)
    expect(moveOption(list, 1, 1)).toEqual(list)
    expect(removeOption(list, 0)).toEqual([after])
    expect(removeOption(list, 5)).toEqual(list)
    expect(list).toEqual([pre, after])
  })

  it('offers only groups that are not options yet', () => {
    const groups = [{ id: 'g-pre' }, { id: 'g-after' }, { id: 'g-tech' }]
    expect(addableGroups([pre], groups).map((g) => g.id)).toEqual(['g-after', 'g-tech'])
  })
})

describe('checking and saving', () => {
  const ids = ['g-pre', 'g-after']

  it('needs at least one option to let the visitor choose', () => {
    expect(entryProblem('choose', [], ids)).toEqual({ key: 'entryEmpty' })
    expect(entryProblem('single', [], ids)).toBeNull()
    expect(entryProblem('choose', [pre, after], ids)).toBeNull()
  })

  it('names the option with a long label or a deleted group', () => {
    const long = { group_id: 'g-after', label: '长'.repeat(MAX_ENTRY_LABEL + 1) }
    expect(entryProblem('choose', [pre, long], ids)).toEqual({ key: 'entryLabelTooLong', n: 2, max: MAX_ENTRY_LABEL })
    expect(entryProblem('choose', [pre, { ...long, label: ` ${'长'.repeat(MAX_ENTRY_LABEL)} ` }], ids)).toBeNull()
    expect(entryProblem('choose', [{ group_id: 'gone', label: '' }], ids)).toEqual({ key: 'entryUnknown', n: 1 })
  })

  it('sends trimmed labels in order, and nothing when routing to one group', () => {
    expect(entryPayload('choose', [{ ...after, label: ' 订单与售后 ' }, pre])).toEqual([after, pre])
    expect(entryPayload('single', [pre, after])).toEqual([])
  })

  it('shows the group name for an empty label', () => {
    expect(visitorLabel(pre, '售前')).toBe('售前')
    expect(visitorLabel(after, '售后')).toBe('订单与售后')
  })
})
