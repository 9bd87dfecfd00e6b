// Entry of dist/widget/chat.js. Reads the configuration the loader left on the window.Parley
// stub (or, when chat.js is embedded directly, its own data-parley-* attributes), mounts the
// widget, and replaces the stub with the real command function, replaying queued commands.

import { Widget, type WidgetConfig } from './widget';

type ParleyFn = ((command?: unknown, ...args: unknown[]) => void) & {
  q?: ArrayLike<unknown>[];
  _c?: WidgetConfig;
  loaded?: boolean;
};

const win = window as unknown as { Parley?: ParleyFn };

function readConfig(): WidgetConfig | null {
  const c = win.Parley && win.Parley._c;
  if (c && c.key && c.base) return c;
  const s = (document.currentScript || document.querySelector('script[data-parley-key]')) as HTMLScriptElement | null;
  const key = s && s.getAttribute('data-parley-key');
  if (!s || !key || !s.src) return null;
  return { key, base: new URL('..', s.src).href.replace(/\/$/, ''), locale: s.getAttribute('data-parley-locale') };
}

const cfg = readConfig();
if (cfg && !(win.Parley && win.Parley.loaded)) {
  const start = () => {
    const widget = new Widget(cfg);
    const queued = Array.from((win.Parley && win.Parley.q) || []);
    const api: ParleyFn = (command) => {
      if (command === 'open') widget.setOpen(true);
      else if (command === 'close') widget.setOpen(false);
      else if (command === 'toggle') widget.toggle();
    };
    api.loaded = true;
    api._c = cfg;
    win.Parley = api;
    for (const args of queued) api(...Array.from(args));
  };
  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start);
}
