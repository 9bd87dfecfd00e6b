import { describe, expect, it } from 'vitest'
import en from './en'
import zhCN from './zh-CN'

function flatten(obj: Record<string, unknown>, prefix = ''): Map<string, string> {
  const out = new Map<string, string>()
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k
    if (v && typeof v === 'object') for (const [kk, vv] of flatten(v as Record<string, unknown>, key)) out.set(kk, vv)
    else out.set(key, String(v))
  }
  return out
}

const placeholders = (s: string) => [...s.matchAll(/\{\s*([a-zA-Z_]\w*)\s*\}/g)].map((m) => m[1]).sort()

describe('catalogues', () => {
  const a = flatten(en)
  const b = flatten(zhCN)

  it('have exactly the same keys', () => {
    const onlyEn = [...a.keys()].filter((k) => !b.has(k))
    const onlyZh = [...b.keys()].filter((k) => !a.has(k))
    expect(onlyEn).toEqual([])
    expect(onlyZh).toEqual([])
    expect(a.size).toBeGreaterThan(100)
  })

  it('use the same placeholders for each key', () => {
    for (const [key, value] of a) expect([key, placeholders(b.get(key) ?? '')]).toEqual([key, placeholders(value)])
  })

  it('have no empty strings and no unescaped vue-i18n special characters', () => {
    for (const [key, value] of [...a, ...b]) {
      expect([key, value.trim().length > 0]).toEqual([key, true])
      // a bare @ starts a linked message and | separates plural forms in vue-i18n
      expect([key, /(^|[^{'])@|\|/.test(value)]).toEqual([key, false])
    }
  })

  it('are actually translated', () => {
    expect(b.get('login.submit')).not.toBe(a.get('login.submit'))
    expect(b.get('inbox.views.mine')).toBe('我的')
  })
})
