// Mirrors the unit tests of crates/parley-domain/src/template.rs.
import { describe, expect, it } from 'vitest';
import { fillTemplate, type TemplateValues } from './template';

const values: TemplateValues = {
  'visitor.name': '王芳',
  'page.title': '价格 - Acme',
  'page.url': 'https://acme.test/pricing',
  'agent.name': '小李',
  'channel.name': '官网',
};

describe('fillTemplate', () => {
  it('fills every variable', () => {
    expect(fillTemplate('{visitor.name}您好，我是{agent.name}（{channel.name}）。您在看「{page.title}」{page.url}', values)).toBe(
      '王芳您好，我是小李（官网）。您在看「价格 - Acme」https://acme.test/pricing',
    );
  });

  it('uses the inline fallback, then the caller fallback, for missing values', () => {
    const fb = { 'visitor.name': '访客' };
    expect(fillTemplate('{visitor.name|朋友}你好', {}, fb)).toBe('朋友你好');
    expect(fillTemplate('{visitor.name}你好', {}, fb)).toBe('访客你好');
    expect(fillTemplate('看{page.title}', {}, fb)).toBe('看');
    expect(fillTemplate('{ visitor.name | 朋友 }', { 'visitor.name': '  ' })).toBe(' 朋友 ');
    expect(fillTemplate('{visitor.name|朋友}', values, fb)).toBe('王芳');
  });

  it('leaves unknown and unbalanced braces as written', () => {
    expect(fillTemplate('{order.id} {}', values)).toBe('{order.id} {}');
    expect(fillTemplate('a { b', values)).toBe('a { b');
    expect(fillTemplate('{{visitor.name}}', values)).toBe('{王芳}');
    expect(fillTemplate('} {visitor.name', values)).toBe('} {visitor.name');
    expect(fillTemplate('{x|y}', values)).toBe('{x|y}');
  });

  it('does not fill values again', () => {
    const v = { 'visitor.name': '{page.url}', 'page.url': 'https://acme.test' };
    expect(fillTemplate('{visitor.name} {page.url}', v)).toBe('{page.url} https://acme.test');
  });
});
