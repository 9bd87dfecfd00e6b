import { describe, expect, it } from 'vitest';
import { isPhone, leaveBody } from './leave';

describe('leave-a-message form', () => {
  it('takes an e-mail address or a phone number in one field', () => {
    expect(leaveBody({ name: ' 王小明 ', contact: 'ming@example.com', message: ' 请回电 ' })).toEqual({
      name: '王小明',
      email: 'ming@example.com',
      message: '请回电',
    });
    expect(leaveBody({ name: '', contact: '+86 138-0013-8000', message: '报价' })).toEqual({ phone: '+86 138-0013-8000', message: '报价' });
  });

  it('says what is missing or wrong', () => {
    expect(leaveBody({ name: 'a', contact: '', message: 'x' })).toEqual({ error: 'leaveNeedContact' });
    expect(leaveBody({ name: 'a', contact: 'ming@', message: 'x' })).toEqual({ error: 'leaveBadEmail' });
    expect(leaveBody({ name: 'a', contact: 'call me', message: 'x' })).toEqual({ error: 'leaveBadPhone' });
    expect(leaveBody({ name: 'a', contact: '13800138000', message: '  ' })).toEqual({ error: 'leaveNeedMessage' });
  });

  it('knows phone numbers', () => {
    expect(isPhone('13800138000')).toBe(true);
    expect(isPhone('(021) 6888 8888')).toBe(true);
    expect(isPhone('12345')).toBe(false);
    expect(isPhone('1380013800012345678')).toBe(false);
    expect(isPhone('+86+138')).toBe(false);
  });
});
