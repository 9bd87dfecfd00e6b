import { describe, expect, it } from 'vitest'
import { fieldError, moved, patternLines, toRequest } from './autoReplies'

describe('auto-replies', () => {
  it('places the server message next to its rule and field', () => {
    expect(fieldError('rules[2].keywords (“订单”): invalid pattern “订单(”: unclosed group')).toEqual({
      index: 2,
      field: 'keywords',
      text: 'invalid pattern “订单(”: unclosed group',
    })
    expect(fieldError('rules[0].channel_ids: no channel x in this workspace')).toEqual({
      index: 0,
      field: 'channel_ids',
      text: 'no channel x in this workspace',
    })
    expect(fieldError('at most 200 auto-reply rules')).toBeNull()
  })

  it('moves rules within bounds', () => {
    expect(moved(['a', 'b', 'c'], 0, 1)).toEqual(['b', 'a', 'c'])
    expect(moved(['a', 'b', 'c'], 2, -1)).toEqual(['a', 'c', 'b'])
    expect(moved(['a', 'b', 'c'], 0, -1)).toEqual(['a', 'b', 'c'])
    expect(moved(['a', 'b', 'c'], 2, 1)).toEqual(['a', 'b', 'c'])
  })

  it('splits patterns by line only, keeping commas', () => {
    expect(patternLines(' \\d{1,3}\n\n订单\\d+ \r\n')).toEqual(['\\d{1,3}', '订单\\d+'])
  })

  it('sends no hit count', () => {
    const r = { id: 'x', name: 'n', keywords: ['k'], mode: 'exact' as const, channel_ids: [], window: null, reply: 'r', buttons: [], enabled: true, hits: 3 }
    expect(toRequest(r)).not.toHaveProperty('hits')
  })
})
