// Small DOM and formatting helpers. User data only ever becomes text nodes or attribute values.

type Child = Node | string | null | undefined | false;

/** h('div', {class: 'x', testid: 'parley-foo'}, child…); `testid` becomes data-testid. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Record<string, string | null | undefined> | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs)
    for (const k in attrs) {
      const v = attrs[k];
      if (v == null) continue;
      if (k === 'class') el.className = v;
      else el.setAttribute(k === 'testid' ? 'data-testid' : k, v);
    }
  for (const c of children) if (c) el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

const URL_RE = /\bhttps?:\/\/[^\s<>"'`\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]+/gi;

/** Splits text into plain and URL parts; trailing punctuation stays outside the link. */
export function splitLinks(text: string): { text: string; href?: string }[] {
  const out: { text: string; href?: string }[] = [];
  let last = 0;
  URL_RE.lastIndex = 0;
  for (let m = URL_RE.exec(text); m; m = URL_RE.exec(text)) {
    let url = m[0];
    while (/[.,;:!?)\]}]$/.test(url) && !(url.endsWith(')') && url.indexOf('(') >= 0)) url = url.slice(0, -1);
    if (m.index > last) out.push({ text: text.slice(last, m.index) });
    out.push({ text: url, href: url });
    last = m.index + url.length;
    URL_RE.lastIndex = last;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}

/** Text with http(s) URLs turned into safe links. */
export function linkified(text: string): DocumentFragment {
  const f = document.createDocumentFragment();
  for (const part of splitLinks(text)) {
    f.appendChild(
      part.href
        ? h('a', { href: part.href, target: '_blank', rel: 'noopener noreferrer nofollow' }, part.text)
        : document.createTextNode(part.text),
    );
  }
  return f;
}

/** "Ana Li" → "AL", "王小明" → "王", "" → "?" */
export function initials(name: string | null | undefined): string {
  const words = (name || '').trim().split(/\s+/).filter(Boolean);
  if (!words.length) return '?';
  const first = Array.from(words[0])[0] || '?';
  if (/[^\u0000-\u024f]/.test(first) || words.length === 1) return first.toUpperCase();
  return (first + (Array.from(words[words.length - 1])[0] || '')).toUpperCase();
}

export function formatSize(n: number): string {
  if (!(n >= 0)) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KB`;
  return `${(n / 1048576).toFixed(1)} MB`;
}

/** Server URL for a path or absolute http(s) URL; null for anything else (javascript:, data: …). */
export function resolveUrl(base: string, url: string | null | undefined): string | null {
  if (!url) return null;
  if (url.startsWith('/') && !url.startsWith('//')) return base + url;
  try {
    const u = new URL(url, base + '/');
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

/** A #rgb/#rrggbb colour, or the fallback. */
export function safeColor(c: string | null | undefined, fallback: string): string {
  return c && /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(c.trim()) ? c.trim() : fallback;
}

/** White or near-black, whichever reads better on the given #colour. */
export function textOn(color: string): string {
  let hex = color.slice(1);
  if (hex.length === 3) hex = hex.replace(/./g, '$&$&');
  const n = parseInt(hex, 16);
  const lin = (v: number) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
  };
  const L = 0.2126 * lin((n >> 16) & 255) + 0.7152 * lin((n >> 8) & 255) + 0.0722 * lin(n & 255);
  return L > 0.45 ? '#1b1f24' : '#ffffff';
}

export function clockTime(iso: string | null | undefined): string {
  const d = iso ? new Date(iso) : new Date();
  if (isNaN(d.getTime())) return '';
  return `${d.getHours()}:${String(d.getMinutes()).padStart(2, '0')}`;
}
