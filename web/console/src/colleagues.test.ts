import { describe, expect, it } from 'vitest'
import { loadRatio, transferCandidates } from './colleagues'
import type { OverviewAgent, User } from './types'

const users: Pick<User, 'id' | 'name' | 'status' | 'capacity'>[] = [
  { id: 'me', name: 'Me', status: 'online', capacity: 5 },
  { id: 'a', name: 'Ana', status: 'away', capacity: 3 },
  { id: 'b', name: 'Bo', status: 'online', capacity: 3 },
  { id: 'c', name: 'Cy', status: 'online', capacity: 3 },
  { id: 'd', name: 'Di', status: 'busy', capacity: 3 },
]

describe('transferCandidates', () => {
  it('leaves out the caller and sorts online first', () => {
    const out = transferCandidates(users, null, 'me')
    expect(out.map((c) => c.id)).toEqual(['b', 'c', 'd', 'a'])
    expect(out[0]).toEqual({ id: 'b', name: 'Bo', status: 'online', load: null, capacity: 3 })
  })

  it('uses the overview for load and status, least loaded first', () => {
    const agents: OverviewAgent[] = [
      { id: 'b', name: 'Bo', status: 'online', load: 3, capacity: 3 },
      { id: 'c', name: 'Cy', status: 'online', load: 1, capacity: 3 },
      { id: 'a', name: 'Ana', status: 'offline', load: 0, capacity: 3 },
    ]
    const out = transferCandidates(users, agents, 'me')
    expect(out.map((c) => c.id)).toEqual(['c', 'b', 'd', 'a'])
    expect(out[3].status).toBe('offline')
  })

  it('prefers live status frames', () => {
    const out = transferCandidates(users, null, 'me', new Map([['a', 'online' as const]]))
    expect(out[0].id).toBe('a')
  })

  it('computes load ratios', () => {
    expect(loadRatio(1, 4)).toBe(0.25)
    expect(loadRatio(null, 4)).toBe(0)
    expect(loadRatio(0, 0)).toBe(1)
  })
})
