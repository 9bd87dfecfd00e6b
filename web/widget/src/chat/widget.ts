// The chat UI: launcher, panel, message list and composer, inside an open shadow root.

import css from './style.css?inline';
import { ApiError, leaveMessage, startSession, suggestArticles, uploadFile } from './api';
import { chime, TitleBlinker, unlockAudio } from './attention';
import { clockTime, formatSize, h, initials, linkified, resolveUrl, safeColor, textOn } from './dom';
import { EMOJI } from './emoji';
import { groupForSend, readEntryOptions, showEntry, type EntryOption } from './entry';
import { eventLine, queueText } from './events';
import { pickLocale, translate, type Locale, type MessageKey } from './i18n';
import { LeaveForm, type LeaveBody } from './leave';
import { fillTemplate } from './template';
import {
  backoffDelay,
  newClientId,
  Outbox,
  RealtimeClient,
  safeStorage,
  TypingThrottle,
  type ConnState,
  type StorageLike,
} from './realtime';
import type { ArticleSuggestion, Attachment, Button, ChatEvent, Page, SenderKind } from './types';

export interface WidgetConfig {
  key: string;
  base: string;
  locale?: string | null;
}

const DEFAULT_COLOR = '#1f6feb';
const MAX_BODY = 5000;

const ICONS = {
  chat: 'M12 3C6.5 3 2 6.8 2 11.5c0 2.4 1.2 4.6 3.1 6.1L4 21.5l4.6-2.2c1.1.3 2.2.5 3.4.5 5.5 0 10-3.8 10-8.5S17.5 3 12 3z',
  down: 'M7.4 8.6 12 13.2l4.6-4.6L18 10l-6 6-6-6z',
  close: 'M18.3 5.7 12 12l6.3 6.3-1.4 1.4L10.6 13.4 4.3 19.7l-1.4-1.4L9.2 12 2.9 5.7l1.4-1.4 6.3 6.3 6.3-6.3z',
  send: 'M3.4 20.4 21 12 3.4 3.6 3.4 10.1 16 12 3.4 13.9z',
  smile:
    'M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm0 18a8 8 0 1 1 0-16 8 8 0 0 1 0 16zm-3.5-9a1.5 1.5 0 1 0 0-3 1.5 1.5 0 0 0 0 3zm7 0a1.5 1.5 0 1 0 0-3 1.5 1.5 0 0 0 0 3zM12 17.5c2.3 0 4.3-1.5 5-3.5H7c.7 2 2.7 3.5 5 3.5z',
  clip: 'M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6h-1.5z',
  file: 'M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8l-6-6zm-1 7V3.5L18.5 9H13z',
};

function icon(name: keyof typeof ICONS): SVGSVGElement {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  const p = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  p.setAttribute('d', ICONS[name]);
  svg.appendChild(p);
  return svg;
}

function currentPage(): Page {
  return { url: location.href, title: document.title, referrer: document.referrer };
}

interface MsgData {
  kind: SenderKind;
  body: string;
  attachments: Attachment[];
  name: string | null;
  avatar: string | null;
  time: string | null;
  buttons?: Button[];
}

export class Widget {
  private storage: StorageLike | null = safeStorage();
  private locale: Locale;
  private token: string | null;
  private outbox: Outbox;
  private rt: RealtimeClient;
  private typingOut: TypingThrottle;
  private blinker: TitleBlinker;

  private isOpen = false;
  private unread = 0;
  private agentsOnline: boolean | null = null;
  private conn: ConnState = 'waiting';
  private fatal: MessageKey | null = null;
  private channelName: string | null = null;
  /** The channel's greeting (主动邀请语), shown once per browser session after the panel opens. */
  private greeting: { text: string; delay: number } | null = null;
  private greetTimer: ReturnType<typeof setTimeout> | undefined;
  private visitorName: string | null = null;
  private activeConv: string | null = null;
  private seen: Record<string, number>;
  private live = new Set<string>();
  private sessionReady: Promise<void>;
  private resolveSession!: () => void;
  private typingTimer: ReturnType<typeof setTimeout> | null = null;
  private uploading = '';
  private stick = true;
  /** The channel's entry options (咨询入口) and the one the visitor picked, before the chat starts. */
  private entryOptions: EntryOption[] = [];
  private chosenGroup: string | null = null;
  /** Where the visitor waits in the queue, if they do. */
  private waiting: { conv: string; position: number; leaveMessage?: boolean } | null = null;
  /** Outside business hours: when the team is back, in words (null: not known). */
  private offHours: { when: string | null } | null = null;
  private offHoursEl!: HTMLDivElement;
  private leave!: LeaveForm;
  private visitorContact: { name: string | null; contact: string | null } = { name: null, contact: null };

  private byClient = new Map<string, HTMLElement>();
  private bySeq = new Map<string, HTMLElement>();
  private convEls = new Map<string, HTMLElement>();
  private i18nBindings: (() => void)[] = [];

  // elements
  private root!: HTMLDivElement;
  private launcher!: HTMLButtonElement;
  private badge!: HTMLSpanElement;
  private panel!: HTMLDivElement;
  private headerAvatar!: HTMLDivElement;
  private titleEl!: HTMLDivElement;
  private agentNameEl!: HTMLSpanElement;
  private statusEl!: HTMLSpanElement;
  private subEl!: HTMLDivElement;
  private errorEl!: HTMLDivElement;
  private errorText!: HTMLSpanElement;
  private noticeEl!: HTMLDivElement;
  private list!: HTMLDivElement;
  private welcomeEl!: HTMLDivElement;
  private welcomeBody!: HTMLDivElement;
  private pendingEl!: HTMLDivElement;
  private entryEl!: HTMLDivElement;
  private entryList!: HTMLDivElement;
  private typingEl!: HTMLDivElement;
  private emojiGrid!: HTMLDivElement;
  private statusLine!: HTMLDivElement;
  private queueEl!: HTMLDivElement;
  private queueTextEl!: HTMLSpanElement;
  private input!: HTMLTextAreaElement;
  private suggestEl!: HTMLElement;
  private suggestTimer: ReturnType<typeof setTimeout> | undefined;
  private suggestSeq = 0;
  private sendBtn!: HTMLButtonElement;
  private fileInput!: HTMLInputElement;

  constructor(private cfg: WidgetConfig) {
    const s = this.storage;
    const k = cfg.key;
    this.locale = pickLocale(this.load(`parley:lang`), cfg.locale, navigator.language);
    this.token = this.load(`parley:vt:${k}`);
    this.seen = this.loadJson<Record<string, number>>(`parley:seen:${k}`) || {};
    this.outbox = new Outbox(s, `parley:outbox:${k}`);
    this.blinker = new TitleBlinker(() => `(${this.unread}) ${this.t('newMessage')}`);
    this.sessionReady = new Promise((r) => (this.resolveSession = r));
    this.typingOut = new TypingThrottle((typing, draft) => {
      if (this.activeConv) this.rt.sendTyping(this.activeConv, typing, draft);
    });
    this.rt = new RealtimeClient({
      url: cfg.base.replace(/^http/i, 'ws') + '/ws/widget',
      getToken: () => this.token,
      renewSession: () => this.session(),
      outbox: this.outbox,
      listener: {
        onState: (st) => {
          this.conn = st;
          this.renderStatus();
        },
        onReady: (online) => this.setOnline(online),
        onPresence: (online) => this.setOnline(online),
        onEvents: (conv, events) => this.onEvents(conv, events),
        onSubscribed: (conv) => {
          this.live.add(conv);
        },
        onConversation: (c) => {
          this.convEl(c.id);
          if (c.status !== 'resolved' || !this.activeConv) this.activeConv = c.id;
          this.renderEntry();
        },
        onAck: (ack, item) => {
          this.activeConv = ack.conversation_id;
          this.rt.addConversation({ id: ack.conversation_id, status: 'open', last_seq: ack.seq });
          const el = this.byClient.get(ack.client_id);
          if (el && el.dataset.pending) {
            this.place(el, ack.conversation_id, ack.seq);
            this.fillMeta(el, item ? item.created_at : null, false);
          }
          this.renderStatus();
          this.renderEntry();
        },
        onSendFailed: (item, code, message) => {
          const el = this.byClient.get(item.client_id);
          if (el) {
            el.removeAttribute('data-pending');
            el.setAttribute('data-failed', 'true');
            el.classList.add('failed');
            const meta = el.querySelector('.meta');
            if (meta) meta.textContent = this.t('failed');
          }
          this.showError(message || code);
          this.renderEntry();
          // A refused pick may mean the options changed: fetch them again.
          if (item.group_id) this.session().catch(() => undefined);
        },
        onTyping: (f) => {
          if (f.from && f.from.kind === 'agent') this.setTyping(!!f.typing);
        },
        onQueue: (conv, position) => this.setQueue(conv, position),
        onLeaveMessage: (conv) => {
          if (this.waiting && this.waiting.conv === conv) {
            this.waiting.leaveMessage = true;
            this.renderQueue();
            this.showLeave();
          }
        },
        onFatal: () => this.setFatal('originDenied'),
      },
    });
    this.build();
    this.trackPages();
    for (const item of this.outbox.items()) this.addPending(item);
    this.boot();
  }

  // ---- storage

  private load(key: string): string | null {
    try {
      return this.storage ? this.storage.getItem(key) : null;
    } catch {
      return null;
    }
  }

  private loadJson<T>(key: string): T | null {
    try {
      const v = this.load(key);
      return v ? (JSON.parse(v) as T) : null;
    } catch {
      return null;
    }
  }

  private store(key: string, value: string): void {
    try {
      if (this.storage) this.storage.setItem(key, value);
    } catch {
      /* ignore */
    }
  }

  // ---- i18n

  private t(key: MessageKey, vars?: Record<string, string>): string {
    return translate(this.locale, key, vars);
  }

  /** Runs `apply` now and again whenever the language changes. */
  private bind(apply: () => void): void {
    apply();
    this.i18nBindings.push(apply);
  }

  private text(el: HTMLElement, key: MessageKey, vars?: () => Record<string, string>): void {
    this.bind(() => {
      el.textContent = this.t(key, vars && vars());
    });
  }

  private setLocale(l: Locale): void {
    this.locale = l;
    this.store('parley:lang', l);
    this.root.setAttribute('lang', l);
    for (const f of this.i18nBindings) f();
  }

  // ---- building the DOM

  private build(): void {
    const host = h('div', { id: 'parley-widget' });
    const shadow = host.attachShadow({ mode: 'open' });
    // A constructed stylesheet is not subject to the host page's CSP style-src; <style> is the fallback.
    let adopted = false;
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      (shadow as ShadowRoot & { adoptedStyleSheets: CSSStyleSheet[] }).adoptedStyleSheets = [sheet];
      adopted = true;
    } catch {
      /* older browsers */
    }
    if (!adopted) shadow.appendChild(h('style', null, css));

    this.badge = h('span', { class: 'badge', testid: 'parley-unread', hidden: '' }, '0');
    this.launcher = h('button', { class: 'launcher', type: 'button', testid: 'parley-launcher' }, icon('chat'), this.badge);
    this.bind(() => this.launcher.setAttribute('aria-label', this.t(this.isOpen ? 'close' : 'open')));
    this.launcher.addEventListener('click', () => {
      unlockAudio();
      this.setOpen(!this.isOpen);
    });

    // header
    this.headerAvatar = h('div', { class: 'avatar', 'aria-hidden': 'true' });
    this.titleEl = h('div', { class: 'title', testid: 'parley-header-title' });
    this.bind(() => (this.titleEl.textContent = this.channelName || this.t('title')));
    this.agentNameEl = h('span', { class: 'agent-name', testid: 'parley-agent-name', hidden: '' });
    this.statusEl = h('span', null);
    this.subEl = h('div', { class: 'sub' }, h('span', { class: 'dot' }), this.agentNameEl, this.statusEl);
    const langBtn = h('button', { class: 'hbtn', type: 'button', testid: 'parley-lang' });
    this.bind(() => {
      langBtn.textContent = this.t('langTarget');
      langBtn.title = this.t('language');
      langBtn.setAttribute('aria-label', this.t('language'));
    });
    langBtn.addEventListener('click', () => this.setLocale(this.locale === 'en' ? 'zh-CN' : 'en'));
    const closeBtn = h('button', { class: 'hbtn', type: 'button' }, icon('down'));
    this.bind(() => closeBtn.setAttribute('aria-label', this.t('close')));
    closeBtn.addEventListener('click', () => this.setOpen(false));
    const header = h('div', { class: 'header' }, this.headerAvatar, h('div', { class: 'hd-text' }, this.titleEl, this.subEl), langBtn, closeBtn);
    this.headerAvatar.textContent = '';
    this.headerAvatar.appendChild(icon('chat'));

    // banners
    this.errorText = h('span', null);
    const dismiss = h('button', { type: 'button' }, '×');
    this.bind(() => dismiss.setAttribute('aria-label', this.t('dismiss')));
    dismiss.addEventListener('click', () => this.hideError());
    this.errorEl = h('div', { class: 'error', testid: 'parley-error', role: 'alert', hidden: '' }, this.errorText, dismiss);
    this.noticeEl = h('div', { class: 'notice', testid: 'parley-offline-notice', hidden: '' });
    this.text(this.noticeEl, 'offlineNotice');
    this.offHoursEl = h('div', { class: 'notice', testid: 'parley-off-hours', role: 'status', hidden: '' });
    this.bind(() => {
      const oh = this.offHours;
      this.offHoursEl.textContent = oh ? (oh.when ? this.t('offHours', { when: oh.when }) : this.t('offHoursNoTime')) : '';
    });

    // messages
    this.welcomeBody = h('div', { class: 'body' });
    this.welcomeEl = h(
      'div',
      { class: 'msg agent welcome', testid: 'parley-welcome', hidden: '' },
      h('div', { class: 'col' }, h('div', { class: 'bubble' }, this.welcomeBody)),
    );
    // The entry menu: buttons under the welcome text until the first message is sent.
    const entryPrompt = h('div', { class: 'entry-prompt', id: 'parley-entry-prompt' });
    this.text(entryPrompt, 'entryPrompt');
    this.entryList = h('div', { class: 'entry-options' });
    this.entryEl = h(
      'div',
      { class: 'entry', testid: 'parley-entry', role: 'group', 'aria-labelledby': 'parley-entry-prompt', hidden: '' },
      entryPrompt,
      this.entryList,
    );
    this.pendingEl = h('div', { class: 'pending-list' });
    this.list = h('div', { class: 'messages', testid: 'parley-messages', role: 'log', 'aria-live': 'polite' }, this.welcomeEl, this.entryEl, this.pendingEl);
    // Stay at the bottom when the list shrinks (a notice appears, the keyboard opens) if we were there.
    this.leave = new LeaveForm({ t: (k, v) => this.t(k, v), bind: (f) => this.bind(f), submit: (b) => this.submitLeave(b) });
    this.list.appendChild(this.leave.el);
    this.list.addEventListener('scroll', () => (this.stick = this.nearBottom()), { passive: true });
    if (typeof ResizeObserver === 'function') new ResizeObserver(() => this.stick && this.scrollDown()).observe(this.list);

    this.typingEl = h('div', { class: 'typing', testid: 'parley-typing', hidden: '' });
    this.text(this.typingEl, 'typing');

    this.emojiGrid = h('div', { class: 'emojis', hidden: '' });
    for (const e of EMOJI) {
      const b = h('button', { type: 'button' }, e);
      b.addEventListener('click', () => this.insertText(e));
      this.emojiGrid.appendChild(b);
    }

    this.statusLine = h('div', { class: 'status', hidden: '' });
    this.queueTextEl = h('span');
    this.queueEl = h(
      'div',
      { class: 'queue', testid: 'parley-queue', role: 'status', 'aria-live': 'polite', hidden: '' },
      h('span', { class: 'qdot', 'aria-hidden': 'true' }),
      this.queueTextEl,
    );
    this.bind(() => this.renderQueue());

    // composer
    this.input = h('textarea', { testid: 'parley-input', rows: '1' });
    this.bind(() => {
      this.input.placeholder = this.t('placeholder');
      this.input.setAttribute('aria-label', this.t('placeholder'));
    });
    this.input.addEventListener('input', () => {
      this.autosize();
      this.typingOut.input(this.input.value);
      this.suggestSoon();
    });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        this.sendText();
      }
    });
    const emojiBtn = h('button', { class: 'cbtn', type: 'button', testid: 'parley-emoji' }, icon('smile'));
    this.bind(() => {
      emojiBtn.title = this.t('emoji');
      emojiBtn.setAttribute('aria-label', this.t('emoji'));
    });
    emojiBtn.addEventListener('click', () => {
      this.emojiGrid.hidden = !this.emojiGrid.hidden;
      emojiBtn.setAttribute('aria-expanded', String(!this.emojiGrid.hidden));
    });
    this.fileInput = h('input', { type: 'file', testid: 'parley-file' });
    this.fileInput.addEventListener('change', () => {
      const f = this.fileInput.files && this.fileInput.files[0];
      this.fileInput.value = '';
      if (f) void this.sendFile(f);
    });
    const attach = h('label', { class: 'cbtn' }, icon('clip'), this.fileInput);
    this.bind(() => {
      attach.title = this.t('attach');
      this.fileInput.setAttribute('aria-label', this.t('attach'));
    });
    this.sendBtn = h('button', { class: 'cbtn send', type: 'button', testid: 'parley-send' }, icon('send'));
    this.bind(() => {
      this.sendBtn.title = this.t('send');
      this.sendBtn.setAttribute('aria-label', this.t('send'));
    });
    this.sendBtn.addEventListener('click', () => this.sendText());
    const composer = h('div', { class: 'composer' }, this.input, emojiBtn, attach, this.sendBtn);
    this.suggestEl = h('div', { class: 'suggest', testid: 'parley-suggest', hidden: '' });

    this.panel = h(
      'div',
      { class: 'panel', testid: 'parley-panel', role: 'dialog', hidden: '' },
      header,
      this.errorEl,
      this.noticeEl,
      this.offHoursEl,
      this.list,
      this.typingEl,
      this.emojiGrid,
      this.statusLine,
      this.queueEl,
      this.suggestEl,
      composer,
    );
    this.bind(() => this.panel.setAttribute('aria-label', this.channelName || this.t('title')));
    this.panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.setOpen(false);
    });
    this.panel.addEventListener('pointerdown', unlockAudio);

    this.root = h('div', { class: 'root', lang: this.locale }, this.panel, this.launcher);
    shadow.appendChild(this.root);
    this.bind(() => this.renderStatus());
    this.bind(() => this.renderBadge());
    document.body.appendChild(host);

    document.addEventListener('visibilitychange', () => this.attention());
    window.addEventListener('online', () => this.rt.nudge());
  }

  // ---- session and connection

  private async boot(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.session();
        this.hideError(true);
        this.resolveSession();
        this.rt.start();
        return;
      } catch (e) {
        const status = e instanceof ApiError ? e.status : 0;
        if (status === 403) return this.setFatal('originDenied');
        if (status >= 400 && status < 500 && status !== 408 && status !== 429) return this.setFatal('unavailable');
        if (attempt >= 1) this.showError(this.t('unreachable'), true);
        await new Promise((r) => setTimeout(r, backoffDelay(attempt)));
      }
    }
  }

  /** POST /session: at start, and again when the socket says the token is no longer valid. */
  private async session(): Promise<void> {
    const page = currentPage();
    const res = await startSession(this.cfg.base, this.cfg.key, this.token, page, navigator.language || '');
    if (this.token && res.visitor_token !== this.token) {
      // A new visitor: the old one's conversations are not ours to subscribe to any more.
      this.rt.forgetConversations();
      this.activeConv = null;
    }
    this.token = res.visitor_token;
    this.store(`parley:vt:${this.cfg.key}`, res.visitor_token);
    const ch = res.channel || { name: '', color: DEFAULT_COLOR, welcome_text: null };
    this.channelName = ch.name || null;
    this.titleEl.textContent = this.channelName || this.t('title');
    this.panel.setAttribute('aria-label', this.channelName || this.t('title'));
    const color = safeColor(ch.color, DEFAULT_COLOR);
    this.root.style.setProperty('--c', color);
    this.root.style.setProperty('--ct', textOn(color));
    this.welcomeBody.textContent = '';
    this.visitorName = res.visitor.name;
    if (ch.welcome_text) this.welcomeBody.appendChild(linkified(this.withVars(ch.welcome_text)));
    this.greeting = ch.greeting_text && ch.greeting_delay_secs ? { text: ch.greeting_text, delay: Math.min(ch.greeting_delay_secs, 600) } : null;
    if (this.isOpen) this.scheduleGreeting();
    this.welcomeEl.hidden = !ch.welcome_text;
    this.entryOptions = readEntryOptions(ch.entry_points);
    if (!this.entryOptions.some((o) => o.group_id === this.chosenGroup)) this.chosenGroup = null;
    this.setHours(res.business_hours, res.visitor);
    this.setOnline(!!res.agents_online);
    if (res.conversation) {
      this.convEl(res.conversation.id);
      this.activeConv = res.conversation.id;
      this.rt.addConversation(res.conversation);
    }
    this.renderEntry();
    this.rt.setPage(page, true);
  }

  private setFatal(key: MessageKey): void {
    this.fatal = key;
    this.rt.stop();
    this.showError(this.t(key), true);
    this.input.disabled = true;
    this.sendBtn.disabled = true;
    this.fileInput.disabled = true;
    this.renderStatus();
    this.renderEntry();
  }

  // ---- the entry menu

  private renderEntry(): void {
    const show = !this.fatal && showEntry(this.entryOptions, !!this.activeConv, this.outbox.items().length);
    this.entryEl.hidden = !show;
    this.entryList.textContent = '';
    if (!show) return;
    for (const o of this.entryOptions) {
      const on = o.group_id === this.chosenGroup;
      const b = h('button', { type: 'button', class: 'opt', testid: 'parley-entry-option', 'data-group-id': o.group_id, 'aria-pressed': String(on) }, o.label);
      b.addEventListener('click', () => {
        this.chosenGroup = o.group_id;
        this.renderEntry();
        this.input.focus();
      });
      this.entryList.appendChild(b);
    }
  }

  private setOnline(online: boolean): void {
    this.agentsOnline = online;
    // Outside business hours the off-hours notice says it better.
    this.noticeEl.hidden = online || !!this.offHours;
    this.renderStatus();
  }

  private renderStatus(): void {
    if (!this.statusEl) return;
    const ready = this.conn === 'ready' && !this.fatal;
    this.subEl.classList.toggle('on', ready && this.agentsOnline === true);
    this.statusEl.textContent = this.t(this.fatal ? 'offline' : ready ? (this.agentsOnline ? 'online' : 'offline') : 'connecting');
    // Below the list: an upload in progress, or messages waiting for the connection.
    const waiting = !ready && !this.fatal && this.outbox.items().length > 0;
    this.statusLine.hidden = !this.uploading && !waiting;
    this.statusLine.textContent = this.uploading ? this.t('uploading', { name: this.uploading }) : this.t('connecting');
  }

  // ---- errors

  private errorSticky = false;

  private showError(message: string, sticky = false): void {
    this.errorText.textContent = message;
    this.errorEl.hidden = false;
    this.errorSticky = sticky;
  }

  /** `force` also clears sticky errors (those that describe a state, not an action). */
  private hideError(force = false): void {
    if (this.fatal || (this.errorSticky && !force)) return;
    this.errorEl.hidden = true;
    this.errorSticky = false;
  }

  // ---- open / close and attention

  setOpen(open: boolean): void {
    if (this.isOpen === open) return;
    this.isOpen = open;
    this.panel.hidden = !open;
    this.root.classList.toggle('open', open);
    this.launcher.replaceChild(icon(open ? 'down' : 'chat'), this.launcher.firstChild as Node);
    this.launcher.setAttribute('aria-expanded', String(open));
    this.launcher.setAttribute('aria-label', this.t(open ? 'close' : 'open'));
    if (open) {
      this.scrollDown();
      if (!this.input.disabled && window.innerWidth > 480) this.input.focus();
      this.scheduleGreeting();
    } else {
      this.emojiGrid.hidden = true;
      clearTimeout(this.greetTimer);
      this.greetTimer = undefined;
    }
    this.attention();
  }

  toggle(): void {
    this.setOpen(!this.isOpen);
  }

  // ---- welcome and greeting texts

  /** The channel's text with its variables filled from this page and visitor. */
  private withVars(text: string): string {
    const name = this.channelName;
    return fillTemplate(
      text,
      { 'visitor.name': this.visitorName, 'page.title': document.title, 'page.url': location.href, 'channel.name': name },
      { 'page.title': location.href, 'agent.name': name },
    );
  }

  private get greetedKey(): string {
    return `parley:greeted:${this.cfg.key}`;
  }

  /** Starts the greeting's clock while the panel is open, for a visitor not yet chatting. */
  private scheduleGreeting(): void {
    const g = this.greeting;
    if (!g || this.greetTimer !== undefined || this.activeConv || this.fatal) return;
    try {
      if (sessionStorage.getItem(this.greetedKey)) return;
    } catch {
      /* no session storage: greet on every page */
    }
    this.greetTimer = setTimeout(() => this.showGreeting(g.text), g.delay * 1000);
  }

  /** A message from the channel under the welcome text; a prompt, not stored. */
  private showGreeting(text: string): void {
    if (!this.isOpen || this.activeConv) return;
    try {
      sessionStorage.setItem(this.greetedKey, '1');
    } catch {
      /* shown anyway */
    }
    const name = this.channelName || this.t('agent');
    const body = h('div', { class: 'body', testid: 'parley-greeting-body' }, linkified(this.withVars(text)));
    const el = h(
      'div',
      { class: 'msg agent', testid: 'parley-greeting' },
      this.avatar(name, null),
      h('div', { class: 'col' }, h('div', { class: 'who' }, name), h('div', { class: 'bubble' }, body)),
    );
    this.list.insertBefore(el, this.entryEl);
    this.scrollDown();
  }

  private get watching(): boolean {
    return this.isOpen && document.visibilityState !== 'hidden';
  }

  /** Clears unread state when the visitor can see the panel; keeps the title blinking otherwise. */
  private attention(): void {
    if (this.watching) {
      this.unread = 0;
      this.blinker.stop();
      let changed = false;
      for (const conv of this.rt.conversationIds()) {
        const last = this.rt.lastSeq(conv);
        if (last > (this.seen[conv] || 0)) {
          this.seen[conv] = last;
          this.rt.sendRead(conv, last);
          changed = true;
        }
      }
      if (changed) this.store(`parley:seen:${this.cfg.key}`, JSON.stringify(this.seen));
    } else if (this.unread > 0) {
      this.blinker.start();
    }
    this.renderBadge();
  }

  private renderBadge(): void {
    if (!this.badge) return;
    this.badge.textContent = String(this.unread);
    this.badge.hidden = this.unread === 0;
    this.badge.setAttribute('aria-label', `${this.unread} ${this.t('unread')}`);
  }

  private setTyping(on: boolean): void {
    if (this.typingTimer) clearTimeout(this.typingTimer);
    this.typingTimer = null;
    const wasNear = this.nearBottom();
    this.typingEl.hidden = !on;
    if (on) this.typingTimer = setTimeout(() => this.setTyping(false), 6000);
    if (wasNear) this.scrollDown();
  }

  // ---- queue

  private setQueue(conv: string, position: number | null): void {
    if (position === null) {
      if (this.waiting && this.waiting.conv !== conv) return;
      this.waiting = null;
    } else {
      this.waiting = { conv, position, leaveMessage: this.waiting?.conv === conv && !!this.waiting.leaveMessage };
    }
    this.renderQueue();
  }

  // ---- business hours and the leave-a-message form

  private setHours(bh: { open: boolean; next_open_text: string | null } | undefined, v: { name: string | null; email: string | null; phone?: string | null }): void {
    this.visitorContact = { name: v.name, contact: v.phone || v.email };
    const closed = !!bh && !bh.open;
    this.offHours = closed ? { when: bh!.next_open_text } : null;
    this.offHoursEl.hidden = !closed;
    this.offHoursEl.textContent = closed ? (bh!.next_open_text ? this.t('offHours', { when: bh!.next_open_text }) : this.t('offHoursNoTime')) : '';
    if (closed) this.showLeave();
  }

  /** The form, introduced by the off-hours line or, after a long wait in the queue, by the queue's. */
  private showLeave(): void {
    this.leave.show(() => this.t(this.offHours ? 'leaveIntro' : 'leaveMessage'), this.visitorContact);
    if (this.stick) this.scrollDown();
  }

  private async submitLeave(body: LeaveBody): Promise<void> {
    await this.sessionReady;
    if (!this.token) throw new Error(this.t('leaveFailed'));
    try {
      const res = await leaveMessage(this.cfg.base, this.token, { ...body, client_id: newClientId() });
      this.visitorContact = { name: body.name || this.visitorContact.name, contact: body.phone || body.email || null };
      this.convEl(res.conversation_id);
      this.activeConv = res.conversation_id;
      this.rt.addConversation({ id: res.conversation_id, status: 'open', last_seq: 0 });
      this.renderEntry();
    } catch (e) {
      // The server's words for a refused field; anything else gets the generic line.
      if (e instanceof ApiError && e.status === 422 && e.message) throw new Error(e.message);
      throw new Error(this.t('leaveFailed'));
    }
  }

  private renderQueue(): void {
    if (!this.queueEl) return;
    const wasNear = this.nearBottom();
    const text = this.waiting ? queueText(this.locale, this.waiting.position, this.waiting.leaveMessage) : null;
    this.queueEl.hidden = !text;
    this.queueTextEl.textContent = text || '';
    if (this.waiting) this.queueEl.setAttribute('data-position', String(this.waiting.position));
    else this.queueEl.removeAttribute('data-position');
    if (wasNear) this.scrollDown();
  }

  // ---- messages

  private convEl(id: string): HTMLElement {
    let el = this.convEls.get(id);
    if (el) return el;
    el = h('div', { class: 'conv', 'data-conversation-id': id });
    this.convEls.set(id, el);
    this.list.insertBefore(el, this.pendingEl);
    return el;
  }

  /** Puts a conversation's block in order of its first event's time (older conversations first). */
  private orderConv(id: string, firstAt: string): void {
    const el = this.convEl(id);
    el.dataset.first = firstAt;
    let before: Element = this.pendingEl;
    for (let c = this.welcomeEl.nextElementSibling; c && c !== this.pendingEl; c = c.nextElementSibling) {
      const f = (c as HTMLElement).dataset.first;
      if (c !== el && f && f > firstAt) {
        before = c;
        break;
      }
    }
    if (el.nextElementSibling !== before) this.list.insertBefore(el, before);
  }

  /** Moves a message element to its seq position in its conversation. */
  private place(el: HTMLElement, conv: string, seq: number): void {
    const box = this.convEl(conv);
    const key = `${conv}:${seq}`;
    el.setAttribute('data-seq', String(seq));
    el.removeAttribute('data-pending');
    this.bySeq.set(key, el);
    let before: Element | null = null;
    for (let c = box.lastElementChild; c; c = c.previousElementSibling) {
      if (c === el) continue;
      if (Number(c.getAttribute('data-seq')) > seq) before = c;
      else break;
    }
    if (el.parentNode !== box || el.nextElementSibling !== before) box.insertBefore(el, before);
  }

  private onEvents(conv: string, events: ChatEvent[]): void {
    const near = this.nearBottom();
    let ownNew = false;
    for (const ev of events) {
      if (ev.seq === 1) this.orderConv(conv, ev.created_at || '');
      const line = eventLine(ev);
      // An agent took the conversation (live, not a replay): it no longer waits.
      const done = line === 'joined' || line === 'resolved';
      if (done && this.live.has(conv) && this.waiting && this.waiting.conv === conv) this.setQueue(conv, null);
      if (line === null) continue;
      if (line === 'message') {
        const sender = ev.sender || { kind: 'system', id: null, name: null, avatar_url: null };
        const data: MsgData = {
          kind: sender.kind === 'visitor' || sender.kind === 'agent' || sender.kind === 'bot' ? sender.kind : 'system',
          body: ev.body || '',
          attachments: ev.attachments || [],
          name: sender.name,
          avatar: sender.avatar_url,
          time: ev.created_at,
          buttons: ev.buttons,
        };
        let el = (ev.client_id && this.byClient.get(ev.client_id)) || this.bySeq.get(`${conv}:${ev.seq}`);
        if (!el) el = h('div', { testid: 'parley-message' });
        this.fill(el, data, false);
        this.place(el, conv, ev.seq);
        if (ev.client_id) this.byClient.set(ev.client_id, el);
        if (data.kind === 'agent') {
          this.setAgent(sender.name, sender.avatar_url);
          this.setTyping(false);
          if (ev.seq > (this.seen[conv] || 0) && !this.watching) {
            this.unread++;
            if (this.live.has(conv)) chime();
          }
        } else if (data.kind === 'visitor' && this.live.has(conv)) {
          ownNew = true;
        }
      } else {
        this.systemLine(conv, ev);
      }
    }
    this.attention();
    if (near || ownNew) this.scrollDown();
  }

  /** Status and assignment lines. Only the assignee's name is used: never `note`. */
  private systemLine(conv: string, ev: ChatEvent): void {
    const key = eventLine(ev);
    if (!key || key === 'message') return;
    const name = (ev.assignee && ev.assignee.name) || '';
    const k = key;
    const el = h('div', { class: 'sys', testid: 'parley-event', 'data-kind': ev.kind });
    this.bind(() => (el.textContent = this.t(k, { name })));
    this.place(el, conv, ev.seq);
  }

  private setAgent(name: string | null, avatar: string | null): void {
    const n = name || this.t('agent');
    this.agentNameEl.textContent = n;
    this.agentNameEl.hidden = false;
    this.headerAvatar.textContent = '';
    this.headerAvatar.appendChild(this.avatar(n, avatar, true));
  }

  private avatar(name: string, url: string | null, bare = false): Node {
    const src = resolveUrl(this.cfg.base, url);
    const inner: Node = src ? h('img', { src, alt: '' }) : document.createTextNode(initials(name));
    if (bare) return inner;
    return h('div', { class: 'avatar', 'aria-hidden': 'true' }, inner);
  }

  private fill(el: HTMLElement, d: MsgData, pending: boolean): void {
    el.className = `msg ${d.kind}`;
    el.setAttribute('data-sender-kind', d.kind);
    el.removeAttribute('data-failed');
    if (pending) el.setAttribute('data-pending', 'true');
    else el.removeAttribute('data-pending');
    el.textContent = '';
    const body = h('div', { class: 'body', testid: 'parley-message-body' });
    if (d.body) body.appendChild(linkified(d.body));
    const atts = h('div', { class: 'atts' });
    for (const a of d.attachments) {
      const url = resolveUrl(this.cfg.base, a.url);
      if (!url) continue;
      if (a.is_image) {
        const img = h('img', { src: url, alt: a.filename || '', loading: 'lazy' });
        img.addEventListener('load', () => this.nearBottom(200) && this.scrollDown());
        atts.appendChild(h('a', { href: url, target: '_blank', rel: 'noopener noreferrer nofollow', class: 'image' }, img));
      } else {
        atts.appendChild(
          h(
            'a',
            { href: url, target: '_blank', rel: 'noopener noreferrer nofollow', download: a.filename || '', class: 'file' },
            icon('file'),
            h('span', null, h('b', null, a.filename || 'file'), h('br'), h('small', null, formatSize(a.size))),
          ),
        );
      }
    }
    const col = h('div', { class: 'col' });
    const left = d.kind === 'agent' || d.kind === 'bot';
    if (left && d.name) col.appendChild(h('div', { class: 'who' }, d.name));
    col.appendChild(h('div', { class: 'bubble' }, body, atts));
    if (d.buttons && d.buttons.length) col.appendChild(this.buttons(d.buttons));
    col.appendChild(h('div', { class: 'meta' }));
    if (left) el.appendChild(this.avatar(d.name || this.t('agent'), d.avatar));
    el.appendChild(col);
    this.fillMeta(el, d.time, pending);
  }

  /** The bot's suggestions: a click sends the label as the visitor's message; links open. */
  private buttons(list: Button[]): HTMLElement {
    const row = h('div', { class: 'btns', testid: 'parley-buttons' });
    for (const b of list) {
      if (b.url) {
        const href = resolveUrl(this.cfg.base, b.url);
        if (href) row.appendChild(h('a', { class: 'btn', href, target: '_blank', rel: 'noopener noreferrer', testid: 'parley-button' }, b.label));
        continue;
      }
      const btn = h('button', { type: 'button', class: 'btn', testid: 'parley-button' }, b.label);
      btn.addEventListener('click', () => {
        if (this.fatal) return;
        this.queue({ client_id: newClientId(), body: b.label, created_at: new Date().toISOString() });
      });
      row.appendChild(btn);
    }
    return row;
  }

  private fillMeta(el: HTMLElement, time: string | null, pending: boolean): void {
    const meta = el.querySelector('.meta');
    if (meta) meta.textContent = pending ? this.t('sending') : clockTime(time);
  }

  private addPending(item: { client_id: string; body: string; attachments?: Attachment[]; created_at: string }): HTMLElement {
    const el = h('div', { testid: 'parley-message', 'data-client-id': item.client_id });
    this.fill(el, { kind: 'visitor', body: item.body, attachments: item.attachments || [], name: null, avatar: null, time: item.created_at }, true);
    this.byClient.set(item.client_id, el);
    this.pendingEl.appendChild(el);
    return el;
  }

  private nearBottom(slack = 80): boolean {
    const l = this.list;
    return l.scrollHeight - l.scrollTop - l.clientHeight < slack;
  }

  private scrollDown(): void {
    this.list.scrollTop = this.list.scrollHeight;
    this.stick = true;
  }

  // ---- composing and sending

  private autosize(): void {
    const i = this.input;
    i.style.height = '36px';
    i.style.height = Math.min(120, Math.max(36, i.scrollHeight)) + 'px';
  }

  private insertText(s: string): void {
    const i = this.input;
    const start = i.selectionStart ?? i.value.length;
    const end = i.selectionEnd ?? i.value.length;
    i.value = i.value.slice(0, start) + s + i.value.slice(end);
    i.selectionStart = i.selectionEnd = start + s.length;
    i.focus();
    this.autosize();
    this.typingOut.input(i.value);
  }

  /** Help articles for what the visitor is typing, once they pause (A15). */
  private suggestSoon(): void {
    clearTimeout(this.suggestTimer);
    const q = this.input.value.trim();
    if (!this.token || q.length < 2) {
      this.suggestSeq++;
      this.showSuggestions([]);
      return;
    }
    this.suggestTimer = setTimeout(() => {
      const seq = ++this.suggestSeq;
      suggestArticles(this.cfg.base, this.token!, q).then(
        (r) => seq === this.suggestSeq && this.showSuggestions(r.items || []),
        () => seq === this.suggestSeq && this.showSuggestions([]),
      );
    }, 350);
  }

  private showSuggestions(items: ArticleSuggestion[]): void {
    const el = this.suggestEl;
    el.textContent = '';
    const links = items
      .map((a) => ({ a, href: resolveUrl(this.cfg.base, a.url) }))
      .filter((x) => x.href)
      .map((x) => h('a', { href: x.href!, target: '_blank', rel: 'noopener noreferrer', testid: 'parley-suggestion' }, x.a.title));
    el.hidden = links.length === 0;
    if (links.length) el.append(h('div', { class: 'stitle' }, this.t('suggestTitle')), ...links);
  }

  private sendText(): void {
    if (this.fatal) return;
    const body = this.input.value.replace(/^\s+|\s+$/g, '');
    if (!body) return;
    if (Array.from(body).length > MAX_BODY) {
      this.showError(this.t('tooLong'));
      return;
    }
    this.hideError();
    this.queue({ client_id: newClientId(), body, created_at: new Date().toISOString() });
    this.input.value = '';
    this.autosize();
    this.showSuggestions([]);
    this.typingOut.stop();
    this.emojiGrid.hidden = true;
  }

  private queue(item: { client_id: string; body: string; attachment_ids?: string[]; attachments?: Attachment[]; created_at: string }): void {
    const group = groupForSend(this.entryOptions, this.chosenGroup, !!this.activeConv);
    const out = group ? { ...item, group_id: group } : item;
    this.addPending(out);
    this.rt.send(out);
    this.scrollDown();
    this.renderStatus();
    this.renderEntry();
  }

  private async sendFile(file: File): Promise<void> {
    if (this.fatal) return;
    this.hideError();
    this.uploading = file.name;
    this.renderStatus();
    try {
      await this.sessionReady;
      let att: Attachment;
      try {
        att = await uploadFile(this.cfg.base, this.token || '', file);
      } catch (e) {
        if (!(e instanceof ApiError) || e.status !== 401) throw e;
        await this.session();
        att = await uploadFile(this.cfg.base, this.token || '', file);
      }
      this.queue({ client_id: newClientId(), body: '', attachment_ids: [att.id], attachments: [att], created_at: new Date().toISOString() });
    } catch (e) {
      this.showError((e instanceof ApiError && e.message) || this.t('uploadFailed'));
    } finally {
      this.uploading = '';
      this.renderStatus();
    }
  }

  // ---- page changes

  private trackPages(): void {
    const notify = () => {
      if (this.token) this.rt.setPage(currentPage());
    };
    const later = () => setTimeout(notify, 50);
    const hist = history as History & Record<string, unknown>;
    for (const m of ['pushState', 'replaceState'] as const) {
      const orig = history[m];
      hist[m] = function (this: History, ...args: Parameters<History['pushState']>) {
        const r = orig.apply(this, args);
        later();
        return r;
      };
    }
    window.addEventListener('popstate', later);
    window.addEventListener('hashchange', later);
  }
}
