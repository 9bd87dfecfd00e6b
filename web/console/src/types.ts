// Shapes of the Parley protocol (docs/protocol.md §2).

export type Role = 'admin' | 'supervisor' | 'agent'
export type AgentStatus = 'online' | 'away'
export type ConversationStatus = 'open' | 'resolved'
export type SenderKind = 'visitor' | 'agent' | 'system'
export type InboxView = 'mine' | 'unassigned' | 'all'

export interface User {
  id: string
  email: string
  name: string
  role: Role
  status: AgentStatus
  avatar_url: string | null
}

export interface Workspace {
  id: string
  name: string
  [key: string]: unknown
}

export interface Session {
  user: User
  workspace: Workspace
  csrf_token: string
}

export interface Channel {
  id: string
  kind: 'website'
  name: string
  widget_key: string
  color: string
  welcome_text: string
  allowed_origins: string[]
  created_at: string
  snippet: string
}

export interface Visitor {
  id: string
  name: string | null
  email: string | null
  display_name: string
  current_url: string | null
  current_title: string | null
  referrer: string | null
  user_agent: string | null
  browser: string | null
  os: string | null
  language: string | null
  ip: string | null
  first_seen_at: string
  last_seen_at: string
}

export interface PersonRef {
  id: string
  name: string
  avatar_url: string | null
}

export interface LastMessage {
  body: string
  sender_kind: SenderKind
  created_at: string
}

export interface Conversation {
  id: string
  channel_id: string
  channel_name: string
  status: ConversationStatus
  visitor: { id: string; display_name: string; name: string | null; email: string | null }
  assignee: PersonRef | null
  last_seq: number
  unread_count: number
  last_message: LastMessage | null
  created_at: string
  updated_at: string
}

export interface Attachment {
  id: string
  filename: string
  content_type: string
  size: number
  is_image: boolean
  url: string
}

export interface ConvEvent {
  id: string
  conversation_id: string
  seq: number
  kind: 'message' | 'status' | 'assignment'
  created_at: string
  sender: { kind: SenderKind; id: string | null; name: string | null; avatar_url: string | null }
  client_id: string | null
  body: string | null
  attachments: Attachment[]
  status: ConversationStatus | null
  assignee: PersonRef | null
}

export interface ApiToken {
  id: string
  name: string
  created_at: string
  last_used_at?: string | null
  prefix?: string | null
}

export interface Page<T> {
  items: T[]
  next_cursor: string | null
}

export interface EventPage {
  items: ConvEvent[]
  has_more: boolean
}
