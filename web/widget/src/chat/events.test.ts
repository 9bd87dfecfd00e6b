import { describe, expect, it } from 'vitest';
import { eventLine, queueText } from './events';
import type { ChatEvent } from './types';

function ev(kind: string, extra: Partial<ChatEvent> = {}): ChatEvent {
  return {
    id: 'e',
    conversation_id: 'c',
    seq: 3,
    kind,
    created_at: '2024-01-01T00:00:00Z',
    sender: { kind: 'system', id: null, name: null, avatar_url: null },
    ...extra,
  };
}

describe('eventLine', () => {
  it('shows messages, status changes and joins', () => {
    expect(eventLine(ev('message'))).toBe('message');
    expect(eventLine(ev('status', { status: 'resolved' }))).toBe('resolved');
    expect(eventLine(ev('status', { status: 'open' }))).toBe('reopened');
    expect(eventLine(ev('status', { status: 'open', seq: 1 }))).toBeNull();
    expect(eventLine(ev('assignment', { assignee: { id: 'a', name: 'Ana', avatar_url: null } }))).toBe('joined');
    expect(eventLine(ev('assignment', { assignee: null }))).toBeNull();
  });

  it('skips internal placeholders, queued events, notes and unknown kinds', () => {
    expect(eventLine(ev('internal'))).toBeNull();
    expect(eventLine(ev('queued'))).toBeNull();
    expect(eventLine(ev('note', { body: 'secret' }))).toBeNull();
    expect(eventLine(ev('something_new'))).toBeNull();
  });
});

describe('queueText', () => {
  it('names the position, and says "next" for the first', () => {
    expect(queueText('en', 3)).toBe('You are number 3 in the queue (2 ahead of you) — an agent will be with you shortly');
    expect(queueText('en', 1)).toBe('You are next — an agent will be with you shortly');
    expect(queueText('zh-CN', 4)).toBe('您排在第 4 位，前面还有 3 位访客，请稍候');
    expect(queueText('zh-CN', 1)).toBe('下一位就是您，请稍候');
  });

  it('offers to leave a message after the queue timeout, while still queued', () => {
    expect(queueText('zh-CN', 2, true)).toBe('客服都在忙，请在这里留下您的问题和联系方式，我们会尽快回复您。');
    expect(queueText('en', 1, true)).toContain('Leave your question');
    expect(queueText('en', null, true)).toBeNull();
  });

  it('is null when not queued', () => {
    expect(queueText('en', null)).toBeNull();
    expect(queueText('en', undefined)).toBeNull();
    expect(queueText('en', 0)).toBeNull();
    expect(queueText('en', NaN)).toBeNull();
  });
});
