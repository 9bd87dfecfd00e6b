import { describe, expect, it } from 'vitest';
import { catalogues, pickLocale, translate } from './i18n';

describe('i18n', () => {
  it('both catalogues have exactly the same keys, none empty', () => {
    const en = Object.keys(catalogues.en).sort();
    const zh = Object.keys(catalogues['zh-CN']).sort();
    expect(zh).toEqual(en);
    for (const cat of Object.values(catalogues)) for (const v of Object.values(cat)) expect(v.trim()).not.toBe('');
  });

  it('keeps the same {placeholders} in both languages', () => {
    const vars = (s: string) => (s.match(/\{\w+\}/g) || []).sort();
    for (const k of Object.keys(catalogues.en) as (keyof typeof catalogues.en)[]) {
      expect(vars(catalogues['zh-CN'][k]), k).toEqual(vars(catalogues.en[k]));
    }
  });

  it('has the offline notice the product promises', () => {
    expect(catalogues.en.offlineNotice).toBe('No agent is online right now. Leave a message and we will reply as soon as possible.');
    expect(catalogues['zh-CN'].offlineNotice).toBe('当前没有客服在线，请留言，我们会尽快回复。');
    expect(catalogues.en.newMessage).toBe('New message');
    expect(catalogues['zh-CN'].newMessage).toBe('新消息');
  });

  it('picks zh-CN for any zh* language, else en; the first given wins', () => {
    expect(pickLocale('zh-TW')).toBe('zh-CN');
    expect(pickLocale('ZH')).toBe('zh-CN');
    expect(pickLocale('en-GB')).toBe('en');
    expect(pickLocale('fr')).toBe('en');
    expect(pickLocale(null, '', 'zh-CN')).toBe('zh-CN');
    expect(pickLocale('en', 'zh-CN')).toBe('en');
    expect(pickLocale()).toBe('en');
  });

  it('fills placeholders', () => {
    expect(translate('en', 'joined', { name: 'Ana' })).toBe('Ana joined the conversation');
    expect(translate('zh-CN', 'uploading', { name: 'a.png' })).toBe('正在上传 a.png…');
  });
});
