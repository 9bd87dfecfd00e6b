import { describe, expect, it } from 'vitest'
import { blankFlow, blankStep, freeId, splitPhrases, withAction } from './flows'

describe('guided flow editing', () => {
  it('finds ids that do not clash', () => {
    expect(freeId('flow', [])).toBe('flow')
    expect(freeId('flow', ['flow', 'flow-2'])).toBe('flow-3')
    const f = blankFlow(['flow'])
    expect(f.id).toBe('flow-2')
    expect(f.steps.map((s) => s.id)).toEqual(['start'])
    f.steps.push(blankStep(f))
    expect(blankStep(f).id).toBe('step-2')
  })

  it('keeps what fits when an option changes its action', () => {
    const o = { label: '登录问题', action: 'step' as const, step: 'login' }
    expect(withAction(o, 'link', 'start')).toEqual({ label: '登录问题', action: 'link', url: 'https://' })
    expect(withAction(o, 'step', 'start')).toEqual(o)
    expect(withAction({ label: 'x', action: 'human' }, 'step', 'start')).toEqual({ label: 'x', action: 'step', step: 'start' })
    expect(withAction(o, 'end', 'start')).toEqual({ label: '登录问题', action: 'end' })
  })

  it('splits trigger phrases on either comma and new lines', () => {
    expect(splitPhrases('账号， 登录,\n 密码 ,,')).toEqual(['账号', '登录', '密码'])
  })
})
