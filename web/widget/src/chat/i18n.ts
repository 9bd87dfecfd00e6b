// The widget's two catalogues. Both must have exactly the same keys (checked by i18n.test.ts).

export type Locale = 'en' | 'zh-CN';

const en = {
  title: 'Chat with us',
  open: 'Open chat',
  close: 'Close chat',
  online: 'Online',
  offline: 'Offline',
  connecting: 'Connecting…',
  offlineNotice: 'No agent is online right now. Leave a message and we will reply as soon as possible.',
  placeholder: 'Type a message…',
  send: 'Send',
  emoji: 'Emoji',
  attach: 'Send an image or file',
  typing: 'Agent is typing…',
  newMessage: 'New message',
  sending: 'Sending…',
  failed: 'Not sent',
  uploading: 'Uploading {name}…',
  uploadFailed: 'The upload failed. Please try again.',
  tooLong: 'The message is too long (at most 5,000 characters).',
  originDenied: 'Chat is not available on this website.',
  unavailable: 'Chat is not available right now.',
  unreachable: 'Cannot reach the chat service. Retrying…',
  resolved: 'The conversation was closed.',
  reopened: 'The conversation was reopened.',
  joined: '{name} joined the conversation',
  agent: 'Agent',
  dismiss: 'Dismiss',
  language: 'Switch language',
  langTarget: '中文',
  unread: 'unread messages',
  queueAt: 'You are number {n} in the queue ({ahead} ahead of you) — an agent will be with you shortly',
  queueNext: 'You are next — an agent will be with you shortly',
  leaveMessage: 'All our agents are still busy. Leave your question and how to reach you here — we will get back to you.',
  entryPrompt: 'What can we help you with?',
  suggestTitle: 'These articles may help:',
  offHours: 'We are away right now and will be back {when}.',
  offHoursNoTime: 'We are away right now.',
  leaveTitle: 'Leave a message',
  leaveIntro: 'Leave your question and how to reach you — we will get back to you.',
  leaveName: 'Name',
  leaveContact: 'Phone or e-mail',
  leaveContactHint: 'So we can reply',
  leaveMessageLabel: 'Message',
  leaveMessageHint: 'What can we help you with?',
  leaveSubmit: 'Send message',
  leaveDone: 'Thank you! Your message was sent — we will get back to you as soon as we can.',
  leaveFailed: 'The message could not be sent. Please try again.',
  leaveNeedContact: 'Please leave a phone number or an e-mail address.',
  leaveBadEmail: 'This e-mail address does not look right.',
  leaveBadPhone: 'This phone number does not look right (6 to 15 digits).',
  leaveNeedMessage: 'Please write your message.',
};

export type MessageKey = keyof typeof en;

const zh: Record<MessageKey, string> = {
  title: '在线客服',
  open: '打开聊天',
  close: '关闭聊天',
  online: '在线',
  offline: '离线',
  connecting: '正在连接…',
  offlineNotice: '当前没有客服在线，请留言，我们会尽快回复。',
  placeholder: '请输入消息…',
  send: '发送',
  emoji: '表情',
  attach: '发送图片或文件',
  typing: '客服正在输入…',
  newMessage: '新消息',
  sending: '发送中…',
  failed: '发送失败',
  uploading: '正在上传 {name}…',
  uploadFailed: '上传失败，请重试。',
  tooLong: '消息过长（最多 5000 字）。',
  originDenied: '此网站未开通在线客服。',
  unavailable: '在线客服暂不可用。',
  unreachable: '无法连接客服系统，正在重试…',
  resolved: '对话已结束。',
  reopened: '对话已重新打开。',
  joined: '{name} 已接入对话',
  agent: '客服',
  dismiss: '关闭',
  language: '切换语言',
  langTarget: 'EN',
  unread: '条未读消息',
  queueAt: '您排在第 {n} 位，前面还有 {ahead} 位访客，请稍候',
  queueNext: '下一位就是您，请稍候',
  leaveMessage: '客服都在忙，请在这里留下您的问题和联系方式，我们会尽快回复您。',
  entryPrompt: '请选择咨询类型',
  suggestTitle: '这些文章也许能帮到您：',
  offHours: '当前非工作时间，我们将于 {when} 回来。',
  offHoursNoTime: '当前非工作时间。',
  leaveTitle: '给我们留言',
  leaveIntro: '请留下您的问题和联系方式，我们会尽快回复您。',
  leaveName: '姓名',
  leaveContact: '手机或邮箱',
  leaveContactHint: '方便我们联系您',
  leaveMessageLabel: '留言内容',
  leaveMessageHint: '请描述您的问题',
  leaveSubmit: '提交留言',
  leaveDone: '留言已提交，我们会尽快联系您。',
  leaveFailed: '留言提交失败，请重试。',
  leaveNeedContact: '请留下手机号或邮箱。',
  leaveBadEmail: '邮箱格式不正确。',
  leaveBadPhone: '手机号格式不正确（6 到 15 位数字）。',
  leaveNeedMessage: '请填写留言内容。',
};

export const catalogues: Record<Locale, Record<MessageKey, string>> = { en, 'zh-CN': zh };

/** zh* → zh-CN, anything else → en. */
export function pickLocale(...candidates: (string | null | undefined)[]): Locale {
  for (const c of candidates) {
    if (!c) continue;
    const v = c.trim().toLowerCase();
    if (!v) continue;
    return v.startsWith('zh') ? 'zh-CN' : 'en';
  }
  return 'en';
}

export function translate(locale: Locale, key: MessageKey, vars?: Record<string, string>): string {
  let s = catalogues[locale][key] ?? catalogues.en[key];
  if (vars) for (const k in vars) s = s.split(`{${k}}`).join(vars[k]);
  return s;
}
