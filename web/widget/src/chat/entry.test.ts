import { describe, expect, it } from 'vitest';
import { groupForSend, readEntryOptions, showEntry } from './entry';

const A = { group_id: 'g-a', label: '售前咨询' };
const B = { group_id: 'g-b', label: '订单与售后' };

describe('readEntryOptions', () => {
  it('keeps well-formed options in order', () => {
    expect(readEntryOptions([A, B])).toEqual([A, B]);
    expect(readEntryOptions([{ group_id: 'g', label: '  Billing ' }])).toEqual([{ group_id: 'g', label: 'Billing' }]);
  });

  it('drops anything malformed, duplicates and more than ten', () => {
    expect(readEntryOptions(undefined)).toEqual([]);
    expect(readEntryOptions('x')).toEqual([]);
    expect(readEntryOptions([null, { group_id: 1, label: 'x' }, { group_id: 'g' }, { group_id: 'g', label: ' ' }, A, { ...A, label: 'again' }])).toEqual([A]);
    const many = Array.from({ length: 12 }, (_, i) => ({ group_id: `g${i}`, label: `L${i}` }));
    expect(readEntryOptions(many)).toHaveLength(10);
  });

  it('keeps markup in labels as plain strings (the widget renders them as text)', () => {
    expect(readEntryOptions([{ group_id: 'g', label: '<img src=x onerror=alert(1)>' }])[0].label).toBe('<img src=x onerror=alert(1)>');
  });
});

describe('showEntry', () => {
  it('shows the menu only before the first message', () => {
    expect(showEntry([A, B], false, 0)).toBe(true);
    expect(showEntry([], false, 0)).toBe(false);
    expect(showEntry([A], true, 0)).toBe(false);
    expect(showEntry([A], false, 1)).toBe(false);
  });
});

describe('groupForSend', () => {
  it('sends the pick with the message that starts the conversation', () => {
    expect(groupForSend([A, B], 'g-b', false)).toBe('g-b');
  });

  it('sends nothing without a pick (the default group applies), once a conversation exists, or for a stale pick', () => {
    expect(groupForSend([A, B], null, false)).toBeUndefined();
    expect(groupForSend([A, B], 'g-b', true)).toBeUndefined();
    expect(groupForSend([A], 'g-b', false)).toBeUndefined();
  });
});
