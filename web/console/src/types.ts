// Shapes of the Parley protocol (docs/protocol.md §2).

export type Role = 'admin' | 'supervisor' | 'agent'
export type AgentStatus = 'online' | 'busy' | 'away'
/** A colleague's presence as `agent_status` frames report it. */
export type Presence = AgentStatus | 'offline'
export type ConversationStatus = 'open' | 'resolved'
export type SenderKind = 'visitor' | 'agent' | 'system' | 'bot'
export type InboxView = 'mine' | 'unassigned' | 'queued' | 'all'
export type EventKind = 'message' | 'status' | 'assignment' | 'queued' | 'note'

export interface User {
  id: string
  email: string
  name: string
  role: Role
  status: AgentStatus
  avatar_url: string | null
  /** 最大接待数: most conversations at once (0-100). Absent on servers without routing. */
  capacity?: number
  /** Skill tags used by the `skill` routing step. */
  skills?: string[]
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
  /** Shown by the widget as a message from the channel after `greeting_delay_secs` (0: off). */
  greeting_text?: string
  greeting_delay_secs?: number
  allowed_origins: string[]
  created_at: string
  snippet: string
  /** Conversations are routed to this group; null: agents pick them up by hand. */
  group_id?: string | null
  /** Groups the visitor picks from before the chat starts, in order (empty: no choice). */
  entry_points?: EntryPoint[]
  /** The FAQ bot that answers first; null or absent: none. */
  bot?: BotSettings | null
}

export interface BotSettings {
  enabled: boolean
  name: string
  miss_limit: number
  handoff_keywords: string[]
}

/** An option of a channel's entry menu; an empty label shows the group's name. */
export interface EntryPoint {
  group_id: string
  label: string
}

export interface Visitor {
  id: string
  name: string | null
  email: string | null
  /** Given in the leave-a-message form. */
  phone?: string | null
  /** Set by agents (VIP, 老客户 …); auto-reply rules may be limited to them. */
  tags?: string[]
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
  group_id?: string | null
  /** Set while the conversation waits in a queue. */
  queued_at?: string | null
  tags?: string[]
  /** 待跟进 */
  follow_up?: boolean
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
  kind: EventKind
  created_at: string
  sender: { kind: SenderKind; id: string | null; name: string | null; avatar_url: string | null }
  client_id: string | null
  body: string | null
  attachments: Attachment[]
  status: ConversationStatus | null
  assignee: PersonRef | null
  /** A colleague's transfer note (older events: an English routing explanation). Internal. */
  note?: string | null
  /** Why the system did this, clause by clause (see reasons.ts). Internal: empty for visitors. */
  reason?: Reason[]
  /** Under a bot's message: related questions it offered, a help-centre link. */
  buttons?: { label: string; url?: string | null }[]
}

/** One clause of a routing explanation, tagged by `code` (the server's `Reason`). */
export type Reason =
  | { code: 'group'; name: string }
  | { code: 'sticky'; agent: string }
  | { code: 'skill'; skills: string[] }
  | { code: 'no_skill'; skills: string[] }
  | { code: 'tier'; tier: number; overflow: boolean }
  | { code: 'least_load'; agent: string; load: number; capacity: number }
  | { code: 'score'; agent: string; score: number }
  | { code: 'round_robin'; agent: string }
  | { code: 'no_room' }
  | { code: 'outside_hours' }
  | { code: 'no_reply'; secs: number }
  | { code: 'agent_offline' }
  | { code: 'keyword'; keyword: string; group: string | null }
  | { code: 'escalated'; keyword: string; group: string | null }
  | { code: 'transfer'; by: string; group: string | null }
  | { code: 'taken_over'; by: string }
  | { code: 'released' }
  | { code: 'visitor_chose'; group: string }
  | { code: 'bot_handoff'; trigger: 'asked' | 'keyword' | 'misses' }

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

// -- routing -----------------------------------------------------------------

export type RoutingStep = 'sticky' | 'skill' | 'priority' | 'least_load' | 'round_robin' | 'score'

export interface GroupMember {
  user_id: string
  name: string
  /** 1 is served first (1-9). */
  priority: number
}

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun'

/** `[start, end)` minutes after local midnight (0-1440). */
export type MinuteRange = [number, number]

export interface WeeklyHours {
  /** IANA time zone, e.g. Asia/Shanghai. */
  time_zone: string
  days: Partial<Record<Weekday, MinuteRange[]>>
}

/** A date with its own hours in the workspace calendar; no ranges: closed all day. */
export interface SpecialDay {
  /** YYYY-MM-DD in the workspace's time zone. */
  date: string
  ranges: MinuteRange[]
  note?: string | null
}

/** PUT /workspace/hours. */
export interface WorkspaceHoursInput {
  enabled: boolean
  time_zone: string
  days: Partial<Record<Weekday, MinuteRange[]>>
  special_days: SpecialDay[]
  /** `{next_open}` becomes when the team is back; null: the built-in text. */
  off_hours_text: string | null
}

export interface WorkspaceHours extends WorkspaceHoursInput {
  open_now: boolean
  next_open_at: string | null
}

export interface Group {
  id: string
  name: string
  policy: RoutingStep[]
  tier: number
  reply_timeout_secs: number | null
  queue_timeout_secs: number | null
  /** Weekly working hours; null = always open. */
  hours?: WeeklyHours | null
  members: GroupMember[]
  created_at: string
}

export interface OverviewGroup {
  id: string
  name: string
  queue_length: number
  longest_wait_secs: number | null
  agents_online: number
}

export interface OverviewAgent {
  id: string
  name: string
  status: Presence
  load: number
  capacity: number
}

export interface SupervisorOverview {
  groups: OverviewGroup[]
  agents: OverviewAgent[]
  open: number
  unassigned: number
  queued: number
}

/** 快捷回复: `team` replies are shared; `personal` ones only their owner sees. */
export interface QuickReply {
  id: string
  scope: 'team' | 'personal'
  owner_id: string | null
  shortcut: string
  title: string
  text: string
  category: string
  created_at: string
  updated_at: string
}

export interface ArticleSuggestion {
  id: string
  title: string
  excerpt: string
  /** The article in the help centre, relative to Parley's address. */
  url: string
  confidence: number
}

/** Suggestions for the visitor's last message (`seq`; null when the visitor has not written). */
export interface Suggestions {
  seq: number | null
  message: string | null
  articles: ArticleSuggestion[]
  quick_replies: QuickReply[]
}

// -- knowledge base ------------------------------------------------------------

export type KbLocale = 'zh-CN' | 'en'
export type ArticleStatus = 'draft' | 'published'

export interface KbCategory {
  id: string
  name: string
  /** Smaller comes first. */
  position: number
  created_at: string
}

/** The current version as editors see it, with publishing state and counters. */
export interface KbArticle {
  id: string
  category_id: string | null
  locale: KbLocale
  title: string
  body_markdown: string
  keywords: string[]
  tags: string[]
  status: ArticleStatus
  version: number
  published_version: number | null
  published_at: string | null
  views: number
  helpful_yes: number
  helpful_no: number
  created_at: string
  updated_at: string
}

export interface KbArticleVersion {
  article_id: string
  version: number
  title: string
  body_markdown: string
  keywords: string[]
  tags: string[]
  restored_from: number | null
  edited_by: string
  created_at: string
}

export interface KbSearchHit {
  /** The published version, with current counters. */
  article: Omit<KbArticle, 'status' | 'published_version' | 'created_at' | 'updated_at' | 'body_markdown'> & { body_markdown: string; published_at: string }
  confidence: number
}

/** A question the FAQ bot could not answer. */
export interface UnansweredQuestion {
  id: string
  channel_id: string
  conversation_id: string
  question: string
  article_id: string | null
  resolved_at: string | null
  created_at: string
}
