// What the visitor sees of each event and of the queue (no DOM; unit-tested).

import { translate, type Locale, type MessageKey } from './i18n';
import type { ChatEvent } from './types';

/**
 * How an event shows in the visitor's list:
 * - `message`: a chat bubble;
 * - a status/assignment line key (`resolved`, `reopened`, `joined`);
 * - null: nothing. Internal notes reach visitors only as `internal` placeholders (kept for the
 *   gapless seq, never shown); `queued` is covered by the queue line above the composer; and the
 *   internal `note` of routing/transfer events is never shown, whatever the server sends.
 */
export function eventLine(ev: ChatEvent): 'message' | MessageKey | null {
  switch (ev.kind) {
    case 'message':
      return 'message';
    case 'status':
      return ev.status === 'resolved' ? 'resolved' : ev.seq > 1 ? 'reopened' : null;
    case 'assignment':
      return ev.assignee ? 'joined' : null;
    default:
      return null; // internal, queued, note, and kinds newer than this widget
  }
}

/** The queue line, or null when the visitor is not (or no longer) waiting. */
export function queueText(locale: Locale, position: number | null | undefined, leaveMessage = false): string | null {
  if (typeof position !== 'number' || !isFinite(position) || position < 1) return null;
  if (leaveMessage) return translate(locale, 'leaveMessage');
  const n = Math.floor(position);
  if (n === 1) return translate(locale, 'queueNext');
  return translate(locale, 'queueAt', { n: String(n), ahead: String(n - 1) });
}
