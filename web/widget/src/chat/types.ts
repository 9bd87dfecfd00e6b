// JSON shapes of docs/protocol.md that the widget uses.

export interface Attachment {
  id: string;
  filename: string;
  content_type: string;
  size: number;
  is_image: boolean;
  url: string;
}

export type SenderKind = 'visitor' | 'agent' | 'system' | 'bot';

/** Under an automatic message: without `url` a click sends `label`; with one it opens the page. */
export interface Button {
  label: string;
  url?: string | null;
}

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
  buttons?: Button[];
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
  visitor: { id: string; name: string | null; email: string | null; phone?: string | null };
  conversation: ConversationRef | null;
  channel: {
    name: string;
    color: string;
    welcome_text: string | null;
    entry_points?: { group_id: string; label: string }[];
    /** Shown as a message from the channel this many seconds after the panel opens (0: off). */
    greeting_text?: string;
    greeting_delay_secs?: number;
  };
  agents_online: boolean;
  /** Whether the team is working now; closed: the off-hours notice and the leave-a-message form. */
  business_hours?: { open: boolean; next_open_at: string | null; next_open_text: string | null };
}

export interface LeaveResponse {
  conversation_id: string;
  event: ChatEvent;
  duplicate: boolean;
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

/** A help-centre article suggested while the visitor types. */
export interface ArticleSuggestion {
  id: string;
  title: string;
  url: string;
}
