// Variables in the channel's welcome and greeting texts, with the rules of the server's
// parley_domain::template (crates/parley-domain/src/template.rs): `{visitor.name}`,
// `{page.title}`, `{page.url}`, `{agent.name}`, `{channel.name}`; a missing or blank value takes
// the inline fallback (`{visitor.name|朋友}`), else the caller's, else nothing; anything else in
// braces stays as written; values are inserted as they are, never filled again.

export type TemplateValues = Partial<Record<'visitor.name' | 'page.title' | 'page.url' | 'agent.name' | 'channel.name', string | null>>;

const NAMES = ['visitor.name', 'page.title', 'page.url', 'agent.name', 'channel.name'];

export function fillTemplate(template: string, values: TemplateValues, fallback: TemplateValues = {}): string {
  let out = '';
  let rest = template;
  for (;;) {
    const open = rest.indexOf('{');
    if (open < 0) break;
    out += rest.slice(0, open);
    const after = rest.slice(open + 1);
    const close = after.indexOf('}');
    // The placeholder ends at the first `}`; a `{` before it means this brace is text.
    if (close < 0 || after.slice(0, close).includes('{')) {
      out += '{';
      rest = after;
      continue;
    }
    const inner = after.slice(0, close);
    const bar = inner.indexOf('|');
    const name = (bar < 0 ? inner : inner.slice(0, bar)).trim() as keyof TemplateValues;
    if (NAMES.includes(name)) {
      const v = values[name];
      if (v && v.trim()) out += v;
      else if (bar >= 0) out += inner.slice(bar + 1);
      else out += fallback[name] || '';
    } else {
      out += '{' + inner + '}';
    }
    rest = after.slice(close + 1);
  }
  return out + rest;
}
