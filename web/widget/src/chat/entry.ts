// The entry menu (咨询入口): groups the channel lets the visitor pick before the chat starts
// (no DOM; unit-tested). The choice travels as `group_id` with the visitor's first message; a
// message written without choosing goes to the channel's default group.

export interface EntryOption {
  group_id: string;
  label: string;
}

/** Most buttons shown, whatever the server sends (the server allows 10). */
const MAX_OPTIONS = 10;

/** The usable options of a session response: well-formed, unique, at most ten, in order. */
export function readEntryOptions(raw: unknown): EntryOption[] {
  const out: EntryOption[] = [];
  if (!Array.isArray(raw)) return out;
  for (const o of raw) {
    if (out.length >= MAX_OPTIONS) break;
    const id = o && typeof o.group_id === 'string' ? o.group_id : '';
    const label = o && typeof o.label === 'string' ? o.label.trim() : '';
    if (id && label && !out.some((x) => x.group_id === id)) out.push({ group_id: id, label });
  }
  return out;
}

/**
 * Whether to show the menu: there are options and the visitor has no conversation yet, nor a
 * first message on its way (after that the conversation's group is settled).
 */
export function showEntry(options: readonly EntryOption[], hasConversation: boolean, pending: number): boolean {
  return options.length > 0 && !hasConversation && pending === 0;
}

/** The group to send with a message: the visitor's pick, while it starts the conversation. */
export function groupForSend(options: readonly EntryOption[], chosen: string | null, hasConversation: boolean): string | undefined {
  if (hasConversation || !chosen) return undefined;
  return options.some((o) => o.group_id === chosen) ? chosen : undefined;
}
