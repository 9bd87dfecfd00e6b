// Turn any thrown value into a message for people, in the current language.
import { ApiError } from './api'
import { t } from './i18n'

const KNOWN = new Set([
  'network',
  'unauthorized',
  'forbidden',
  'csrf_failed',
  'not_found',
  'conflict',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'internal',
])

export function errorText(e: unknown): string {
  if (!e) return ''
  if (isMissingEndpoint(e)) return t('errors.unavailable')
  if (e instanceof ApiError) {
    if (e.code === 'validation_failed' || e.code === 'bad_request') return t(`errors.${e.code}`, { message: e.message })
    if (e.code === 'conflict' && e.message && e.message !== 'conflict') return `${t('errors.conflict')} (${e.message})`
    if (KNOWN.has(e.code)) return t(`errors.${e.code}`)
    return t('errors.generic', { message: e.message || e.code })
  }
  if (typeof e === 'string') return KNOWN.has(e) ? t(`errors.${e}`) : t('errors.generic', { message: e })
  return t('errors.generic', { message: e instanceof Error ? e.message : String(e) })
}

/**
 * The endpoint itself is missing, not an unknown id behind a known endpoint: those answer
 * 404 with a message like "conversation not found"; a missing route answers "no such
 * endpoint" (or a bare 404 from a proxy), a wrong method 405.
 */
export function isMissingEndpoint(e: unknown): boolean {
  if (!(e instanceof ApiError)) return false
  if (e.status === 405) return true
  return e.status === 404 && !/^[a-z_ ]+ not found$/.test(e.message)
}
