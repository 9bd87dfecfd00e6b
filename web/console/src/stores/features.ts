// Server features this console uses that an older (or half-upgraded) server may not have yet.
// A 404/405 from one of their endpoints switches the matching control off instead of leaving
// a button that can only fail; the user gets one toast saying so.

import { reactive } from 'vue'
import { isMissingEndpoint } from '../errors'
import { t } from '../i18n'
import { pushToast } from './toasts'

export { isMissingEndpoint }

export type Feature = 'notes' | 'transfer' | 'takeOver' | 'tags' | 'followUp' | 'overview' | 'queuedView' | 'groups'

export const features = reactive<Record<Feature, boolean>>({
  notes: true,
  transfer: true,
  takeOver: true,
  tags: true,
  followUp: true,
  overview: true,
  queuedView: true,
  groups: true,
})

/** Switches `feature` off when `e` says its endpoint is missing; true if it did. */
export function noteMissing(feature: Feature, e: unknown, toast = true): boolean {
  if (!isMissingEndpoint(e)) return false
  const was = features[feature]
  features[feature] = false
  if (was && toast) pushToast({ kind: 'error', text: t('errors.unavailable') })
  return true
}
