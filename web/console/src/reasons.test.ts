import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import en from './i18n/en'
import zhCN from './i18n/zh-CN'
import { explain } from './reasons'
import type { Reason } from './types'

function translator(locale: 'en' | 'zh-CN') {
  const i18n = createI18n({ legacy: false, locale, messages: { en, 'zh-CN': zhCN } })
  return (key: string, params?: Record<string, unknown>) => i18n.global.t(key, params ?? {})
}

describe('routing explanations', () => {
  const timeout: Reason[] = [
    { code: 'no_reply', secs: 60 },
    { code: 'group', name: '售前' },
    { code: 'tier', tier: 2, overflow: true },
    { code: 'least_load', agent: 'Bo', load: 1, capacity: 3 },
  ]

  it('reads in Chinese with the group prefixing its first clause', () => {
    expect(explain(timeout, translator('zh-CN'))).toBe(
      '60 秒内未回复；售前：优先级第 2 级（更高级别已满）；最少负载：Bo 当前 1/3 个对话',
    )
  })

  it('reads in English', () => {
    expect(explain(timeout, translator('en'))).toBe(
      'no reply within 60 s; 售前: priority tier 2 (higher tiers full); least load: Bo has 1/3 chats',
    )
  })

  it('says where a transfer or keyword sent the conversation', () => {
    const t = translator('zh-CN')
    expect(explain([{ code: 'transfer', by: 'Ana', group: '财务' }], t)).toBe('Ana 转接至 财务')
    expect(explain([{ code: 'transfer', by: 'Ana', group: null }], t)).toBe('Ana 转接')
    expect(explain([{ code: 'keyword', keyword: '退款', group: null }, { code: 'group', name: '售后' }, { code: 'no_room' }], t)).toBe(
      '关键词“退款”；售后：暂无有空位的客服',
    )
  })

  it('says when a group is outside its working hours', () => {
    const r: Reason[] = [{ code: 'group', name: '售前' }, { code: 'outside_hours' }]
    expect(explain(r, translator('zh-CN'))).toBe('售前：非工作时间')
    expect(explain(r, translator('en'))).toBe('售前: outside working hours')
  })

  it('leaves out clauses it does not know and copes with nothing', () => {
    const t = translator('en')
    const future = [{ code: 'moon_phase', phase: 'full' }, { code: 'released' }] as unknown as Reason[]
    expect(explain(future, t)).toBe('back to the unassigned list')
    expect(explain(undefined, t)).toBe('')
    expect(explain([{ code: 'group', name: '售前' }], t)).toBe('售前')
  })

  it('keeps user-chosen names as text, not markup', () => {
    const out = explain([{ code: 'sticky', agent: '<b>Ann</b>' }], translator('en'))
    expect(out).toBe('<b>Ann</b> served this visitor before')
  })
})
