// Entry of dist/widget/loader.js, the file a site embeds:
//   <script async src="https://HOST/widget/loader.js" data-parley-key="wk_…"></script>
// It stays tiny: it finds its own tag, leaves the configuration on a window.Parley command-queue
// stub (Parley('open') / Parley('close') are queued until the UI is up), and loads chat.js from
// the same folder. window.Parley is the only global the widget defines.

type Stub = ((...args: unknown[]) => void) & {
  q?: ArrayLike<unknown>[];
  _c?: { key: string; base: string; locale: string | null };
  loaded?: boolean;
};

(() => {
  const w = window as unknown as { Parley?: Stub };
  if (w.Parley && w.Parley._c) return; // already embedded on this page
  const s = (document.currentScript || document.querySelector('script[data-parley-key]')) as HTMLScriptElement | null;
  const key = s && s.getAttribute('data-parley-key');
  if (!s || !key || !s.src) return;
  const P: Stub =
    w.Parley ||
    function () {
      // eslint-disable-next-line prefer-rest-params
      (P.q = P.q || []).push(arguments);
    };
  // https://HOST/prefix/widget/loader.js → https://HOST/prefix
  P._c = { key, base: new URL('..', s.src).href.replace(/\/$/, ''), locale: s.getAttribute('data-parley-locale') };
  w.Parley = P;
  const c = document.createElement('script');
  c.async = true;
  c.src = new URL('chat.js' + new URL(s.src).search, s.src).href;
  c.setAttribute('data-parley-chat', '');
  (document.head || document.documentElement).appendChild(c);
})();
