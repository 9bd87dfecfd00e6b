// Guided flows as the console edits them: the server's shape, plus the small pure helpers the
// editor needs (blank flows and steps, ids that do not clash).

export type FlowAction =
  | { action: 'step'; step: string }
  | { action: 'link'; url: string }
  | { action: 'human' }
  | { action: 'end' }

export type FlowOption = { label: string } & FlowAction

export interface FlowStep {
  id: string
  text: string
  options: FlowOption[]
}

export interface Flow {
  id: string
  name: string
  enabled: boolean
  triggers: string[]
  steps: FlowStep[]
}

/** The first id of the form `${base}-N` (or `base`) not in `taken`. */
export function freeId(base: string, taken: readonly string[]): string {
  if (!taken.includes(base)) return base
  for (let n = 2; ; n++) if (!taken.includes(`${base}-${n}`)) return `${base}-${n}`
}

export function blankFlow(taken: readonly string[]): Flow {
  return { id: freeId('flow', taken), name: '', enabled: true, triggers: [], steps: [{ id: 'start', text: '', options: [] }] }
}

export function blankStep(flow: Flow): FlowStep {
  return { id: freeId('step', flow.steps.map((s) => s.id)), text: '', options: [] }
}

/** Changes an option's action, keeping what fits the new one. */
export function withAction(o: FlowOption, action: FlowAction['action'], firstStep: string): FlowOption {
  switch (action) {
    case 'step':
      return { label: o.label, action, step: o.action === 'step' ? o.step : firstStep }
    case 'link':
      return { label: o.label, action, url: o.action === 'link' ? o.url : 'https://' }
    default:
      return { label: o.label, action }
  }
}

/** Comma- or newline-separated phrases (either comma width), trimmed, empty ones dropped. */
export function splitPhrases(text: string): string[] {
  return text
    .split(/[,，\n]/)
    .map((s) => s.trim())
    .filter(Boolean)
}
