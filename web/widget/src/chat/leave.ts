// The leave-a-message form (留言): shown when the team is not working, and when a queued visitor
// waited too long. Pure checks first (unit-tested); the server checks the same again.

import { h } from './dom';
import type { MessageKey } from './i18n';

export interface LeaveFields {
  name: string;
  contact: string;
  message: string;
}

export interface LeaveBody {
  name?: string;
  email?: string;
  phone?: string;
  message: string;
}

const EMAIL_RE = /^[^\s@]+@[^\s@.][^\s@]*\.[^\s@]*[^\s@.]$/;

/** A phone number as people type it: 6–15 digits with an optional +, spaces, dashes, dots, brackets. */
export function isPhone(s: string): boolean {
  const v = s.trim();
  const digits = (v.match(/\d/g) || []).length;
  return /^\+?[\d\s\-.()]+$/.test(v) && digits >= 6 && digits <= 15;
}

/** One contact field takes an e-mail address or a phone number: the `@` tells which. */
export function leaveBody(f: LeaveFields): LeaveBody | { error: MessageKey } {
  const contact = f.contact.trim();
  const message = f.message.trim();
  if (!contact) return { error: 'leaveNeedContact' };
  const body: LeaveBody = { message };
  if (contact.includes('@')) {
    if (!EMAIL_RE.test(contact) || contact.length > 254) return { error: 'leaveBadEmail' };
    body.email = contact;
  } else {
    if (!isPhone(contact)) return { error: 'leaveBadPhone' };
    body.phone = contact;
  }
  if (!message) return { error: 'leaveNeedMessage' };
  if (message.length > 5000) return { error: 'tooLong' };
  const name = f.name.trim();
  if (name) body.name = name.slice(0, 60);
  return body;
}

export interface LeaveFormOptions {
  t: (key: MessageKey, vars?: Record<string, string>) => string;
  /** Re-run on language changes. */
  bind: (apply: () => void) => void;
  /** Sends the form; a rejection's message is shown. */
  submit: (body: LeaveBody) => Promise<void>;
}

/** The form inside the message list; `notice` is the off-hours line above it. */
export class LeaveForm {
  readonly el: HTMLFormElement;
  private nameIn: HTMLInputElement;
  private contactIn: HTMLInputElement;
  private messageIn: HTMLTextAreaElement;
  private errorEl: HTMLDivElement;
  private doneEl: HTMLDivElement;
  private fieldsEl: HTMLDivElement;
  private button: HTMLButtonElement;
  private introEl: HTMLDivElement;
  private intro: () => string = () => '';

  constructor(private o: LeaveFormOptions) {
    const label = (key: MessageKey, input: HTMLElement) => {
      const span = h('span', { class: 'lf-label' });
      o.bind(() => (span.textContent = o.t(key)));
      return h('label', { class: 'lf-field' }, span, input);
    };
    this.introEl = h('div', { class: 'lf-intro', testid: 'parley-leave-intro' });
    this.nameIn = h('input', { type: 'text', maxlength: '60', autocomplete: 'name', testid: 'parley-leave-name' });
    this.contactIn = h('input', { type: 'text', maxlength: '254', autocomplete: 'tel', inputmode: 'email', testid: 'parley-leave-contact' });
    this.messageIn = h('textarea', { rows: '3', maxlength: '5000', testid: 'parley-leave-message' });
    this.errorEl = h('div', { class: 'lf-error', role: 'alert', testid: 'parley-leave-error', hidden: '' });
    this.button = h('button', { type: 'submit', class: 'lf-send', testid: 'parley-leave-submit' });
    o.bind(() => {
      this.button.textContent = o.t('leaveSubmit');
      this.contactIn.placeholder = o.t('leaveContactHint');
      this.messageIn.placeholder = o.t('leaveMessageHint');
      this.introEl.textContent = this.intro();
    });
    this.fieldsEl = h(
      'div',
      { class: 'lf-fields' },
      label('leaveName', this.nameIn),
      label('leaveContact', this.contactIn),
      label('leaveMessageLabel', this.messageIn),
      this.errorEl,
      this.button,
    );
    this.doneEl = h('div', { class: 'lf-done', role: 'status', testid: 'parley-leave-done', hidden: '' });
    o.bind(() => (this.doneEl.textContent = o.t('leaveDone')));
    const title = h('div', { class: 'lf-title' });
    o.bind(() => (title.textContent = o.t('leaveTitle')));
    this.el = h('form', { class: 'leave', testid: 'parley-leave', novalidate: '', hidden: '' }, title, this.introEl, this.fieldsEl, this.doneEl);
    // A correction clears the complaint about the previous attempt.
    this.el.addEventListener('input', () => (this.errorEl.hidden = true));
    this.el.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.send();
    });
  }

  /** Shows the form (again) with `intro` above it, pre-filled from what the visitor gave before. */
  show(intro: () => string, prefill: { name?: string | null; contact?: string | null } = {}): void {
    this.intro = intro;
    this.introEl.textContent = intro();
    if (prefill.name && !this.nameIn.value) this.nameIn.value = prefill.name;
    if (prefill.contact && !this.contactIn.value) this.contactIn.value = prefill.contact;
    if (this.el.hidden) {
      this.fieldsEl.hidden = false;
      this.doneEl.hidden = true;
    }
    this.el.hidden = false;
  }

  hide(): void {
    this.el.hidden = true;
  }

  private async send(): Promise<void> {
    const body = leaveBody({ name: this.nameIn.value, contact: this.contactIn.value, message: this.messageIn.value });
    if ('error' in body) return this.fail(this.o.t(body.error));
    this.button.disabled = true;
    this.errorEl.hidden = true;
    try {
      await this.o.submit(body);
      this.messageIn.value = '';
      this.fieldsEl.hidden = true;
      this.doneEl.hidden = false;
    } catch (e) {
      this.fail((e instanceof Error && e.message) || this.o.t('leaveFailed'));
    } finally {
      this.button.disabled = false;
    }
  }

  private fail(text: string): void {
    this.errorEl.textContent = text;
    this.errorEl.hidden = false;
  }
}
