import { describe, expect, it } from 'vitest'
import { articlePatch, formOf, hasUnpublishedChanges, helpfulPercent, isWeak, matchesText, moveCategory, searchRows } from './kb'
import type { KbArticle, KbCategory, KbSearchHit } from './types'

function art(id: string, over: Partial<KbArticle> = {}): KbArticle {
  return {
    id,
    category_id: null,
    locale: 'zh-CN',
    title: `文章 ${id}`,
    body_markdown: '',
    keywords: [],
    tags: [],
    status: 'draft',
    version: 1,
    published_version: null,
    published_at: null,
    views: 0,
    helpful_yes: 0,
    helpful_no: 0,
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
    ...over,
  }
}

const hit = (a: KbArticle): KbSearchHit => ({ article: { ...a, published_at: '2026-01-01T00:00:00Z' }, confidence: 0.9 })
const cat = (id: string, position: number): KbCategory => ({ id, name: id, position, created_at: '' })

describe('article search', () => {
  it('matches every word in title, keywords or tags, ignoring case', () => {
    const a = art('a', { title: 'Refund policy', keywords: ['退款'], tags: ['Billing'] })
    expect(matchesText(a, 'refund billing')).toBe(true)
    expect(matchesText(a, '退款')).toBe(true)
    expect(matchesText(a, 'refund shipping')).toBe(false)
    expect(matchesText(a, '  ')).toBe(true)
  })

  it('puts the server hits first, then text matches, each once, keeping other filters', () => {
    const ship = art('ship', { title: '发货时间', status: 'published', published_version: 1 })
    const draft = art('draft', { title: '发货草稿' })
    const en = art('en', { title: 'Shipping', locale: 'en', status: 'published', published_version: 1 })
    const rows = searchRows([draft, ship, en], '发货', [hit(ship), hit(en)], (a) => a.locale === 'zh-CN')
    expect(rows.map((r) => r.id)).toEqual(['ship', 'draft'])
  })

  it('ignores hits that are not in the loaded list', () => {
    expect(searchRows([], 'x', [hit(art('gone'))], () => true)).toEqual([])
  })
})

describe('category order', () => {
  it('swaps neighbours and renumbers only what changes', () => {
    const list = [cat('a', 0), cat('b', 1), cat('c', 2)]
    expect(moveCategory(list, 'c', -1)).toEqual([
      { id: 'c', position: 1 },
      { id: 'b', position: 2 },
    ])
    expect(moveCategory(list, 'a', -1)).toEqual([])
    expect(moveCategory(list, 'c', 1)).toEqual([])
  })

  it('repairs gaps and ties while moving', () => {
    const list = [cat('a', 5), cat('b', 5), cat('c', 9)]
    expect(moveCategory(list, 'a', 1)).toEqual([
      { id: 'b', position: 0 },
      { id: 'a', position: 1 },
      { id: 'c', position: 2 },
    ])
  })
})

describe('editor form', () => {
  it('sends only what changed', () => {
    const a = art('a', { title: 'T', body_markdown: 'body', keywords: ['k'], category_id: 'c1' })
    const f = formOf(a)
    expect(articlePatch(a, f)).toEqual({})
    f.title = ' T '
    f.body_markdown = 'body\n\n'
    expect(articlePatch(a, f)).toEqual({})
    f.keywords = ['k', 'k2']
    f.category_id = null
    f.locale = 'en'
    expect(articlePatch(a, f)).toEqual({ keywords: ['k', 'k2'], category_id: null, locale: 'en' })
  })

  it('starts new articles in Chinese without a category', () => {
    expect(formOf(null)).toEqual({ title: '', body_markdown: '', keywords: [], tags: [], locale: 'zh-CN', category_id: null })
  })

  it('tells unpublished changes and the helpful share', () => {
    expect(hasUnpublishedChanges(art('a', { status: 'published', version: 3, published_version: 2 }))).toBe(true)
    expect(hasUnpublishedChanges(art('a', { status: 'published', version: 2, published_version: 2 }))).toBe(false)
    expect(hasUnpublishedChanges(art('a'))).toBe(false)
    expect(helpfulPercent({ helpful_yes: 3, helpful_no: 1 })).toBe(75)
    expect(helpfulPercent({ helpful_yes: 0, helpful_no: 0 })).toBeNull()
  })

  it('flags articles most voters say did not help, once there are a few votes', () => {
    expect(isWeak({ helpful_yes: 1, helpful_no: 3 })).toBe(true)
    expect(isWeak({ helpful_yes: 0, helpful_no: 2 })).toBe(false)
    expect(isWeak({ helpful_yes: 2, helpful_no: 2 })).toBe(false)
  })
})

describe('a new article for an unanswered question', () => {
  it('starts from the question as title and keyword, in its language', () => {
    expect(formOf(null, ' 火星仓库营业吗 ')).toMatchObject({ title: '火星仓库营业吗', keywords: ['火星仓库营业吗'], locale: 'zh-CN' })
    expect(formOf(null, 'where is my kickback')).toMatchObject({ title: 'where is my kickback', locale: 'en' })
    expect(formOf(null, '长'.repeat(60)).keywords).toEqual([])
    expect(formOf(null)).toMatchObject({ title: '', keywords: [], locale: 'zh-CN' })
  })
})
