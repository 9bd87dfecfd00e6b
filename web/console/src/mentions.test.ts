import { describe, expect, it } from 'vitest'
import { insertMention, mentionQuery, mentionSegments, mentionSuggestions } from './mentions'

const people = [
  { id: '1', name: 'Ana' },
  { id: '2', name: 'Ana Li' },
  { id: '3', name: 'Bo' },
  { id: '4', name: '小王' },
  { id: '5', name: 'Diana' },
]

describe('mentionQuery', () => {
  it('finds the @query before the caret', () => {
    expect(mentionQuery('hi @an', 6)).toEqual({ start: 3, query: 'an' })
    expect(mentionQuery('@', 1)).toEqual({ start: 0, query: '' })
    expect(mentionQuery('cc @小', 5)).toEqual({ start: 3, query: '小' })
    expect(mentionQuery('ask @Ana L', 10)).toEqual({ start: 4, query: 'Ana L' })
  })

  it('ignores e-mail addresses, line breaks and text after the caret', () => {
    expect(mentionQuery('mail ana@exa', 12)).toBeNull()
    expect(mentionQuery('@ana\nnext', 9)).toBeNull()
    expect(mentionQuery('@ bo', 4)).toBeNull()
    expect(mentionQuery('no mention', 10)).toBeNull()
    expect(mentionQuery('hi @an', 2)).toBeNull()
  })
})

describe('mentionSuggestions', () => {
  it('lists prefix matches first, then other matches', () => {
    expect(mentionSuggestions(people, 'an').map((p) => p.name)).toEqual(['Ana', 'Ana Li', 'Diana'])
    expect(mentionSuggestions(people, '').length).toBe(5)
    expect(mentionSuggestions(people, '王').map((p) => p.name)).toEqual(['小王'])
    expect(mentionSuggestions(people, 'zz')).toEqual([])
  })

  it('closes when the query is already a full name', () => {
    expect(mentionSuggestions(people, 'bo')).toEqual([])
    expect(mentionSuggestions(people, 'Ana L').map((p) => p.name)).toEqual(['Ana Li'])
  })
})

describe('insertMention', () => {
  it('replaces the query with @Name and a space', () => {
    expect(insertMention('hi @an', 3, 6, 'Ana Li')).toEqual({ text: 'hi @Ana Li ', caret: 11 })
    expect(insertMention('@b please', 0, 2, 'Bo')).toEqual({ text: '@Bo please', caret: 3 })
  })
})

describe('mentionSegments', () => {
  const names = people.map((p) => p.name)
  it('prefers the longest name and needs a boundary, like the server', () => {
    const segs = mentionSegments('@ana li please check, cc @小王 and @Bob', names)
    expect(segs.filter((s) => s.kind === 'mention').map((s) => s.text)).toEqual(['@ana li', '@小王'])
    expect(segs.map((s) => s.text).join('')).toBe('@ana li please check, cc @小王 and @Bob')
  })

  it('leaves text without mentions alone', () => {
    expect(mentionSegments('mail ana@example.com', names)).toEqual([{ kind: 'text', text: 'mail ana@example.com' }])
    expect(mentionSegments('', names)).toEqual([])
  })
})
