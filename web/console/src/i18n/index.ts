import { createI18n } from 'vue-i18n'
import en from './en'
import zhCN from './zh-CN'

export type Locale = 'zh-CN' | 'en'
export const LOCALES: Locale[] = ['zh-CN', 'en']
const STORAGE_KEY = 'parley.locale'

/** Stored choice first, then the browser language: zh* → zh-CN, anything else → en. */
export function detectLocale(stored: string | null, browserLanguages: readonly string[]): Locale {
  if (stored === 'zh-CN' || stored === 'en') return stored
  for (const lang of browserLanguages) {
    if (!lang) continue
    return lang.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en'
  }
  return 'en'
}

function readStored(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY)
  } catch {
    return null
  }
}

const initial = detectLocale(
  readStored(),
  typeof navigator === 'undefined' ? [] : navigator.languages?.length ? navigator.languages : [navigator.language],
)

export const i18n = createI18n({
  legacy: false,
  locale: initial,
  fallbackLocale: 'en',
  messages: { en, 'zh-CN': zhCN },
  missingWarn: false,
  fallbackWarn: false,
})

if (typeof document !== 'undefined') document.documentElement.lang = initial

export function currentLocale(): Locale {
  return i18n.global.locale.value as Locale
}

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale
  document.documentElement.lang = locale
  try {
    localStorage.setItem(STORAGE_KEY, locale)
  } catch {
    /* private mode */
  }
}

/** Shorthand for non-component code. */
export const t = (key: string, values?: Record<string, unknown>): string =>
  values ? i18n.global.t(key, values) : i18n.global.t(key)
