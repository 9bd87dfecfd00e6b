import { describe, expect, it } from 'vitest';
import { formatSize, initials, resolveUrl, safeColor, splitLinks, textOn } from './dom';

describe('splitLinks', () => {
  it('finds http(s) URLs and leaves trailing punctuation out', () => {
    expect(splitLinks('see https://a.example/x?y=1. ok')).toEqual([
      { text: 'see ' },
      { text: 'https://a.example/x?y=1', href: 'https://a.example/x?y=1' },
      { text: '. ok' },
    ]);
    expect(splitLinks('看这里：https://a.example/p，谢谢')).toEqual([
      { text: '看这里：' },
      { text: 'https://a.example/p', href: 'https://a.example/p' },
      { text: '，谢谢' },
    ]);
  });

  it('never links other schemes', () => {
    expect(splitLinks('javascript:alert(1) <b>x</b>')).toEqual([{ text: 'javascript:alert(1) <b>x</b>' }]);
  });
});

describe('helpers', () => {
  it('initials', () => {
    expect(initials('Ana')).toBe('A');
    expect(initials('ana li')).toBe('AL');
    expect(initials('王小明')).toBe('王');
    expect(initials('')).toBe('?');
  });

  it('resolveUrl prefixes server paths and refuses unsafe schemes', () => {
    expect(resolveUrl('https://p.example', '/files/1/k/a.png')).toBe('https://p.example/files/1/k/a.png');
    expect(resolveUrl('https://p.example', 'https://cdn.example/a.png')).toBe('https://cdn.example/a.png');
    expect(resolveUrl('https://p.example', 'javascript:alert(1)')).toBeNull();
    expect(resolveUrl('https://p.example', null)).toBeNull();
  });

  it('colours and sizes', () => {
    expect(safeColor('#1f6feb', '#000')).toBe('#1f6feb');
    expect(safeColor('red;background:url(x)', '#000')).toBe('#000');
    expect(textOn('#1f6feb')).toBe('#ffffff');
    expect(textOn('#ffeb3b')).toBe('#1b1f24');
    expect(formatSize(512)).toBe('512 B');
    expect(formatSize(48213)).toBe('47 KB');
    expect(formatSize(3 * 1048576)).toBe('3.0 MB');
  });
});
