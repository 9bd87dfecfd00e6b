// Pure helpers for editing routing groups (unit-tested): the ordered policy list, member
// priorities and the optional numeric fields of the group form.

import type { GroupMember, RoutingStep } from './types'

/** Every routing step, in the order the picker offers them. */
export const STEPS: readonly RoutingStep[] = ['sticky', 'skill', 'priority', 'least_load', 'round_robin', 'score']

export function isStep(v: unknown): v is RoutingStep {
  return typeof v === 'string' && (STEPS as readonly string[]).includes(v)
}

/** Steps not yet in the policy (a step appears at most once). */
export function availableSteps(policy: readonly RoutingStep[]): RoutingStep[] {
  return STEPS.filter((s) => !policy.includes(s))
}

/** Appends a step; unknown or already present steps leave the list as it is. */
export function addStep(policy: readonly RoutingStep[], step: string): RoutingStep[] {
  if (!isStep(step) || policy.includes(step)) return [...policy]
  return [...policy, step]
}

export function removeStep(policy: readonly RoutingStep[], index: number): RoutingStep[] {
  if (index < 0 || index >= policy.length) return [...policy]
  return [...policy.slice(0, index), ...policy.slice(index + 1)]
}

/** Moves the step at `index` by `delta` (-1 up, +1 down); out-of-range moves change nothing. */
export function moveStep(policy: readonly RoutingStep[], index: number, delta: number): RoutingStep[] {
  const to = index + delta
  if (index < 0 || index >= policy.length || to < 0 || to >= policy.length) return [...policy]
  const out = [...policy]
  const [s] = out.splice(index, 1)
  out.splice(to, 0, s)
  return out
}

export const MIN_PRIORITY = 1
export const MAX_PRIORITY = 9

export function clampPriority(n: unknown): number {
  const v = Math.round(Number(n))
  if (!Number.isFinite(v)) return MIN_PRIORITY
  return Math.min(MAX_PRIORITY, Math.max(MIN_PRIORITY, v))
}

/** Adds a member (priority 1) unless already there. */
export function addMember(members: readonly GroupMember[], user: { id: string; name: string }, priority = 1): GroupMember[] {
  if (members.some((m) => m.user_id === user.id)) return [...members]
  return [...members, { user_id: user.id, name: user.name, priority: clampPriority(priority) }]
}

/** Members as PUT /groups/{id}/members wants them: served first at the top, stable otherwise. */
export function membersPayload(members: readonly GroupMember[]): { user_id: string; priority: number }[] {
  return [...members]
    .map((m, i) => ({ m, i }))
    .sort((a, b) => clampPriority(a.m.priority) - clampPriority(b.m.priority) || a.i - b.i)
    .map(({ m }) => ({ user_id: m.user_id, priority: clampPriority(m.priority) }))
}

/**
 * An optional whole number of seconds from a form field: '' → null (none); otherwise an
 * integer within [min, max], or 'invalid'.
 */
export function parseOptionalSecs(raw: string | number | null | undefined, min = 5, max = 86_400): number | null | 'invalid' {
  const s = raw === null || raw === undefined ? '' : String(raw).trim()
  if (s === '') return null
  if (!/^\d+$/.test(s)) return 'invalid'
  const n = Number(s)
  return n >= min && n <= max ? n : 'invalid'
}

/** Tier 1-9 (1 = first line). */
export function parseTier(raw: string | number | null | undefined): number | 'invalid' {
  const s = raw === null || raw === undefined ? '' : String(raw).trim()
  if (!/^\d+$/.test(s)) return 'invalid'
  const n = Number(s)
  return n >= 1 && n <= 9 ? n : 'invalid'
}
