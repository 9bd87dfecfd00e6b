// Knowledge-base console logic (unit-tested): the article list's text filter merged with the
// server's search, category reordering, and what an editor's form would change.

import type { KbArticle, KbCategory, KbLocale, KbSearchHit } from './types'

/** Keywords are at most 30 of at most 50 characters (the server's parse_keywords). */
export const KEYWORD_RULES = { maxCount: 30, maxLength: 50, lowercase: false }

/** Case-insensitive match of every word of `q` in the title, keywords or tags. */
export function matchesText(a: Pick<KbArticle, 'title' | 'keywords' | 'tags'>, q: string): boolean {
  const words = q.toLowerCase().split(/\s+/).filter(Boolean)
  if (!words.length) return true
  const hay = [a.title, ...a.keywords, ...a.tags].join('\n').toLowerCase()
  return words.every((w) => hay.includes(w))
}

/**
 * The rows to show for a search: the server's ranked hits first (published articles found by
 * meaning, in Chinese or English), then the listed articles whose text matches (drafts
 * included), each article once. Hits are shown as their listed row when it is loaded, so the
 * row carries the editor's state; other filters still apply to hits.
 */
export function searchRows(listed: KbArticle[], q: string, hits: KbSearchHit[], keep: (a: KbArticle) => boolean): KbArticle[] {
  const byId = new Map(listed.map((a) => [a.id, a]))
  const out: KbArticle[] = []
  const seen = new Set<string>()
  for (const h of hits) {
    const row = byId.get(h.article.id)
    if (row && keep(row) && !seen.has(row.id)) {
      out.push(row)
      seen.add(row.id)
    }
  }
  for (const a of listed) if (!seen.has(a.id) && matchesText(a, q)) out.push(a)
  return out
}

/** Categories in display order. */
export function sortCategories(list: KbCategory[]): KbCategory[] {
  return [...list].sort((a, b) => a.position - b.position || a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
}

/**
 * Moves a category one place up (-1) or down (+1) and numbers all 0, 1, 2 … again. Returns
 * only the categories whose position changes (to PATCH), or nothing at an end.
 */
export function moveCategory(list: KbCategory[], id: string, dir: -1 | 1): { id: string; position: number }[] {
  const order = sortCategories(list)
  const i = order.findIndex((c) => c.id === id)
  const j = i + dir
  if (i < 0 || j < 0 || j >= order.length) return []
  ;[order[i], order[j]] = [order[j], order[i]]
  return order.map((c, position) => ({ id: c.id, position, was: c.position })).filter((c) => c.position !== c.was).map(({ id, position }) => ({ id, position }))
}

export interface ArticleForm {
  title: string
  body_markdown: string
  keywords: string[]
  tags: string[]
  locale: KbLocale
  category_id: string | null
}

export function formOf(a: KbArticle | null, question = ''): ArticleForm {
  if (a) return { title: a.title, body_markdown: a.body_markdown, keywords: [...a.keywords], tags: [...a.tags], locale: a.locale, category_id: a.category_id }
  // A new article for a question the bot could not answer starts from that question: as the
  // title, and as a keyword (within the keyword length limit) so the bot finds it next time.
  const q = question.trim()
  const latin = q !== '' && !/[\u4e00-\u9fff]/.test(q)
  return {
    title: q.slice(0, 200),
    body_markdown: '',
    keywords: q && q.length <= 50 ? [q] : [],
    tags: [],
    locale: latin ? 'en' : 'zh-CN',
    category_id: null,
  }
}

const same = (x: string[], y: string[]) => x.length === y.length && x.every((v, i) => v === y[i])

/** The PATCH body for what the form changed (empty: nothing to save). */
export function articlePatch(a: KbArticle, f: ArticleForm): Partial<ArticleForm> {
  const p: Partial<ArticleForm> = {}
  if (f.title.trim() !== a.title) p.title = f.title
  if (f.body_markdown.trimEnd() !== a.body_markdown) p.body_markdown = f.body_markdown
  if (!same(f.keywords, a.keywords)) p.keywords = f.keywords
  if (!same(f.tags, a.tags)) p.tags = f.tags
  if (f.locale !== a.locale) p.locale = f.locale
  if (f.category_id !== a.category_id) p.category_id = f.category_id
  return p
}

/** Published with a newer draft on top: the public still sees `published_version`. */
export function hasUnpublishedChanges(a: KbArticle): boolean {
  return a.status === 'published' && a.published_version !== null && a.published_version !== a.version
}

/** Share of "yes" among the votes, 0-100, or null without votes. */
export function helpfulPercent(a: Pick<KbArticle, 'helpful_yes' | 'helpful_no'>): number | null {
  const n = a.helpful_yes + a.helpful_no
  return n ? Math.round((100 * a.helpful_yes) / n) : null
}

/** Enough votes to judge, and most say it did not help: worth rewriting. */
export function isWeak(a: Pick<KbArticle, 'helpful_yes' | 'helpful_no'>): boolean {
  const p = helpfulPercent(a)
  return p !== null && a.helpful_yes + a.helpful_no >= 3 && p < 50
}
