import { describe, expect, it } from 'vitest'
import { applyReply, articleText, fillVariables, filterReplies, insertAt, slashQuery } from './quickReplies'

const replies = [
  { shortcut: 'hi', title: '问候', text: '您好，{visitor.name}！我是{agent.name}。', category: '常用' },
  { shortcut: 'refund', title: '退款流程', text: '退款3个工作日内到账。', category: '售后' },
  { shortcut: 'ship', title: '发货时间', text: '付款后48小时内发货，可以退换。', category: '物流' },
  { shortcut: 'thanks', title: 'Thank you', text: 'Thanks for contacting {channel.name}!', category: 'English' },
]

describe('slashQuery', () => {
  it('reads the /query at the start up to the caret', () => {
    expect(slashQuery('/', 1)).toBe('')
    expect(slashQuery('/ref', 4)).toBe('ref')
    expect(slashQuery('/refund more', 3)).toBe('re')
    expect(slashQuery('/退款', 3)).toBe('退款')
  })
  it('is null elsewhere', () => {
    expect(slashQuery('a /ref', 6)).toBeNull()
    expect(slashQuery('/ref x', 6)).toBeNull()
    expect(slashQuery('/ref', 0)).toBeNull()
    expect(slashQuery('', 0)).toBeNull()
    expect(slashQuery('/a\nb', 4)).toBeNull()
    expect(slashQuery('/' + 'x'.repeat(41), 42)).toBeNull()
  })
})

describe('filterReplies', () => {
  const shortcuts = (q: string) => filterReplies(replies, q).map((r) => r.shortcut)
  it('lists everything for an empty query', () => {
    expect(shortcuts('')).toEqual(['hi', 'refund', 'ship', 'thanks'])
    expect(filterReplies(replies, '', 2)).toHaveLength(2)
  })
  it('ranks shortcut prefixes first, then shortcut, title, category and text', () => {
    expect(shortcuts('th')).toEqual(['thanks'])
    expect(shortcuts('h')).toEqual(['hi', 'ship', 'thanks'])
    expect(shortcuts('退')).toEqual(['refund', 'ship'])
    expect(shortcuts('售后')).toEqual(['refund'])
    expect(shortcuts('物流')).toEqual(['ship'])
    expect(shortcuts('REF')).toEqual(['refund'])
    expect(shortcuts('contacting')).toEqual(['thanks'])
    expect(shortcuts('zzz')).toEqual([])
  })
  it('needs every word to match', () => {
    expect(shortcuts('退款 到账')).toEqual(['refund'])
    expect(shortcuts('退款 发货')).toEqual([])
  })
})

describe('fillVariables', () => {
  it('fills the known variables', () => {
    expect(fillVariables(replies[0].text, { visitorName: '王小明', agentName: '小李' })).toBe('您好，王小明！我是小李。')
    expect(fillVariables('Thanks for contacting {channel.name}!', { channelName: 'Shop' })).toBe('Thanks for contacting Shop!')
    expect(fillVariables('{ Visitor.Name } and {visitor.name}', { visitorName: 'Ann' })).toBe('Ann and Ann')
  })
  it('leaves no raw known variable when a value is missing', () => {
    expect(fillVariables('您好，{visitor.name}！', { visitorName: null })).toBe('您好，！')
    expect(fillVariables('Hi {visitor.name}', {})).toBe('Hi ')
    expect(fillVariables('{agent.name}', { agentName: '  ' })).toBe('')
  })
  it('keeps unknown variables and other braces as typed', () => {
    expect(fillVariables('订单 {order.id}，{visitor.name}', { visitorName: 'Ann' })).toBe('订单 {order.id}，Ann')
    expect(fillVariables('{json} {visitor} {}', { visitorName: 'Ann' })).toBe('{json} {visitor} {}')
  })
  it('does not treat a value as a variable', () => {
    expect(fillVariables('{visitor.name}', { visitorName: '{agent.name}', agentName: 'X' })).toBe('{agent.name}')
  })
})

describe('applyReply and insertAt', () => {
  it('replaces the /query and keeps what follows the caret', () => {
    expect(applyReply('/re', 3, '退款3个工作日内到账。')).toEqual({ text: '退款3个工作日内到账。', caret: 11 })
    expect(applyReply('/re tail', 3, 'X')).toEqual({ text: 'X tail', caret: 1 })
  })
  it('inserts on its own line', () => {
    expect(insertAt('', 0, 0, 'A')).toEqual({ text: 'A', caret: 1 })
    expect(insertAt('hello', 5, 5, 'A')).toEqual({ text: 'hello\nA', caret: 7 })
    expect(insertAt('ab', 1, 1, 'X')).toEqual({ text: 'a\nX\nb', caret: 3 })
  })
})

describe('articleText', () => {
  it('is the title, excerpt and absolute help-centre link', () => {
    expect(articleText({ title: '发货时间说明', excerpt: '付款后48小时内发货。', url: '/help/wk_1/articles/a1' }, 'https://chat.shop.test/')).toBe(
      '发货时间说明\n付款后48小时内发货。\nhttps://chat.shop.test/help/wk_1/articles/a1',
    )
    expect(articleText({ title: 'T', excerpt: '', url: 'https://x.test/a' }, 'https://y.test')).toBe('T\nhttps://x.test/a')
  })
})
