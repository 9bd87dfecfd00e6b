// JSON shapes of docs/protocol.md that the widget uses.

export interface Attachment {
  id: string;
  filename: string;
  content_type: string;
  size: number;
  is_image: boolean;
  url: string;
}

export type SenderKind = 'visitor' | 'agent' | 'system';

export interface Sender {
  kind: SenderKind;
  id: string | null;
  name: string | null;
  avatar_url: string | null;
}

export interface Person {
  id: string;
  name: string;
  avatar_url: string | null;
}

export interface ChatEvent {
  id: string;
  conversation_id: string;
  seq: number;
  kind: 'message' | 'status' | 'assignment' | string;
  created_at: string;
  sender: Sender;
  client_id?: string | null;
  body?: string | null;
  attachments?: Attachment[];
  status?: 'open' | 'resolved' | null;
  assignee?: Person | null;
}

export interface ConversationRef {
  id: string;
  status: 'open' | 'resolved' | string;
  last_seq: number;
}

export interface Page {
  url: string;
  title: string;
  referrer: string;
}

export interface SessionResponse {
  visitor_token: string;
  visitor: { id: string; name: string | null; email: string | null };
  conversation: ConversationRef | null;
  channel: { name: string; color: string; welcome_text: string | null; entry_points?: { group_id: string; label: string }[] };
  agents_online: boolean;
}

export interface AckFrame {
  type: 'ack';
  client_id: string;
  conversation_id: string;
  seq: number;
  event_id: string;
  duplicate: boolean;
}

export interface TypingFrame {
  type: 'typing';
  conversation_id: string;
  from: { kind: SenderKind; id: string | null; name: string | null };
  typing: boolean;
}

/** A message the visitor wrote that the server has not acknowledged yet. */
export interface OutboxItem {
  client_id: string;
  body: string;
  attachment_ids?: string[];
  /** The entry option picked before this first message (sent as `group_id`). */
  group_id?: string;
  /** Kept only to show the pending message; not sent. */
  attachments?: Attachment[];
  created_at: string;
}
