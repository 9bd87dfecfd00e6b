// Alerts for new visitor activity: a WebAudio chime, desktop notifications and a
// blinking document title. No audio files, no dependencies.

import { reactive } from 'vue'

const MUTE_KEY = 'parley.notify.muted'

export type DesktopPermission = NotificationPermission | 'unsupported'

export const alerts = reactive({
  muted: readMuted(),
  permission: desktopPermission(),
  unseen: 0,
})

function readMuted(): boolean {
  try {
    return localStorage.getItem(MUTE_KEY) === '1'
  } catch {
    return false
  }
}

export function setMuted(muted: boolean): void {
  alerts.muted = muted
  try {
    localStorage.setItem(MUTE_KEY, muted ? '1' : '0')
  } catch {
    /* ignore */
  }
}

function desktopPermission(): DesktopPermission {
  if (typeof window === 'undefined' || !('Notification' in window) || !window.isSecureContext) return 'unsupported'
  return Notification.permission
}

/** Must run from a user gesture (the bell button). */
export async function requestDesktopPermission(): Promise<DesktopPermission> {
  if (alerts.permission === 'unsupported') return 'unsupported'
  unlockAudio()
  try {
    alerts.permission = await Notification.requestPermission()
  } catch {
    alerts.permission = Notification.permission
  }
  return alerts.permission
}

// ---------------------------------------------------------------------------
// sound

let audio: AudioContext | null = null

/** Browsers only allow audio after a gesture: create/resume the context on the first one. */
export function unlockAudio(): void {
  try {
    const Ctor = window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext
    if (!Ctor) return
    if (!audio) audio = new Ctor()
    if (audio.state === 'suspended') void audio.resume()
  } catch {
    audio = null
  }
}

export function installAudioUnlock(): void {
  const once = () => {
    unlockAudio()
    window.removeEventListener('pointerdown', once)
    window.removeEventListener('keydown', once)
  }
  window.addEventListener('pointerdown', once)
  window.addEventListener('keydown', once)
}

/** Two short soft notes. */
export function playChime(): void {
  if (!audio || audio.state !== 'running') return
  const start = audio.currentTime + 0.01
  const notes: [number, number][] = [
    [880, 0],
    [1318.5, 0.12],
  ]
  for (const [freq, offset] of notes) {
    const osc = audio.createOscillator()
    const gain = audio.createGain()
    osc.type = 'sine'
    osc.frequency.value = freq
    const t0 = start + offset
    gain.gain.setValueAtTime(0.0001, t0)
    gain.gain.exponentialRampToValueAtTime(0.18, t0 + 0.015)
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + 0.28)
    osc.connect(gain).connect(audio.destination)
    osc.start(t0)
    osc.stop(t0 + 0.3)
  }
}

// ---------------------------------------------------------------------------
// desktop

export function showDesktop(title: string, body: string, tag: string, onClick: () => void): void {
  if (alerts.permission !== 'granted') return
  try {
    const n = new Notification(title, { body, tag, silent: true })
    n.onclick = () => {
      window.focus()
      onClick()
      n.close()
    }
    setTimeout(() => n.close(), 15_000)
  } catch {
    /* some platforms only allow notifications from a service worker */
  }
}

// ---------------------------------------------------------------------------
// title

let baseTitle = typeof document !== 'undefined' ? document.title : 'Parley'
let blinkTimer: ReturnType<typeof setInterval> | null = null
let blinkText: (count: number) => string = (n) => `(${n}) Parley`

/** The app's own title (kept while blinking and restored afterwards). */
export function setBaseTitle(title: string): void {
  baseTitle = title
  if (!blinkTimer) document.title = title
}

let blinkOn = false

export function blinkTitle(count: number, text: (count: number) => string): void {
  alerts.unseen = count
  blinkText = text
  if (blinkTimer) {
    if (blinkOn) document.title = blinkText(alerts.unseen)
    return
  }
  const tick = () => {
    blinkOn = !blinkOn
    document.title = blinkOn ? blinkText(alerts.unseen) : baseTitle
  }
  blinkOn = false
  tick()
  blinkTimer = setInterval(tick, 1000)
}

export function stopBlink(): void {
  alerts.unseen = 0
  if (blinkTimer) clearInterval(blinkTimer)
  blinkTimer = null
  blinkOn = false
  document.title = baseTitle
}
