// Getting the visitor's attention: a short synthesized chime and a blinking page title.

let ctx: AudioContext | null = null;

function audio(): AudioContext | null {
  if (ctx) return ctx;
  const AC = (window as unknown as { AudioContext?: typeof AudioContext; webkitAudioContext?: typeof AudioContext })
    .AudioContext || (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
  if (!AC) return null;
  try {
    ctx = new AC();
  } catch {
    ctx = null;
  }
  return ctx;
}

/** Call from a user gesture so later chimes are allowed by autoplay policies. */
export function unlockAudio(): void {
  const a = audio();
  if (a && a.state === 'suspended') a.resume().catch(() => undefined);
}

/** Two short sine notes (no audio file). Silently does nothing where audio is blocked. */
export function chime(): void {
  const a = audio();
  if (!a) return;
  try {
    if (a.state === 'suspended') a.resume().catch(() => undefined);
    const t = a.currentTime + 0.01;
    [880, 1320].forEach((freq, i) => {
      const o = a.createOscillator();
      const g = a.createGain();
      o.type = 'sine';
      o.frequency.value = freq;
      const s = t + i * 0.12;
      g.gain.setValueAtTime(0.0001, s);
      g.gain.exponentialRampToValueAtTime(0.18, s + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, s + 0.2);
      o.connect(g);
      g.connect(a.destination);
      o.start(s);
      o.stop(s + 0.22);
    });
  } catch {
    /* ignore */
  }
}

/** Alternates document.title with a notice, and puts the original back when stopped. */
export class TitleBlinker {
  private timer: ReturnType<typeof setInterval> | null = null;
  private original = '';
  private shown = '';

  constructor(private text: () => string) {}

  get running(): boolean {
    return this.timer !== null;
  }

  start(): void {
    if (this.timer) return;
    this.original = document.title;
    this.tick();
    this.timer = setInterval(() => this.tick(), 1000);
  }

  private tick(): void {
    const cur = document.title;
    // The page changed its own title meanwhile (single-page apps): that is the one to restore.
    if (cur !== this.shown && cur !== this.original) this.original = cur;
    this.shown = cur === this.shown ? this.original : this.text();
    document.title = this.shown;
  }

  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
    if (document.title === this.shown) document.title = this.original;
    this.shown = '';
  }
}
