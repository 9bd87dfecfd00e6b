// The signed-in user and the CSRF token.

import { reactive } from 'vue'
import { api, ApiError, setCsrfToken } from '../api'
import type { AgentStatus, Session, User, Workspace } from '../types'
import { client } from './socket'

export const session = reactive({
  user: null as User | null,
  workspace: null as Workspace | null,
  checked: false,
})

function apply(s: Session): void {
  session.user = s.user
  session.workspace = s.workspace
  session.checked = true
  setCsrfToken(s.csrf_token)
}

export function clearSession(): void {
  session.user = null
  session.workspace = null
  setCsrfToken('')
}

/** Probe the cookie session once; true when signed in. */
export async function ensureSession(): Promise<boolean> {
  if (session.user) return true
  if (session.checked) return false
  try {
    apply(await api.get<Session>('/auth/me', { skipAuthRedirect: true }))
    return true
  } catch (e) {
    // Only a definite 401 settles it; a network error is retried on the next navigation.
    if (e instanceof ApiError && e.status === 401) {
      session.checked = true
      return false
    }
    throw e
  }
}

export async function login(email: string, password: string): Promise<void> {
  apply(await api.post<Session>('/auth/login', { email, password }, { skipAuthRedirect: true }))
}

export async function logout(): Promise<void> {
  try {
    await api.post('/auth/logout', {}, { skipAuthRedirect: true })
  } finally {
    clearSession()
  }
}

export async function changePassword(current: string, next: string): Promise<void> {
  const res = await api.post<{ csrf_token?: string }>('/auth/password', {
    current_password: current,
    new_password: next,
  })
  if (res && typeof res.csrf_token === 'string') setCsrfToken(res.csrf_token)
}

/**
 * online / busy / away. REST first (it persists the choice); a server whose REST endpoint
 * does not take `busy` yet still gets it over the socket, which does.
 */
export async function setMyStatus(status: AgentStatus): Promise<void> {
  const previous = session.user?.status
  if (session.user) session.user.status = status
  try {
    await api.put('/me/status', { status })
  } catch (e) {
    const refused = e instanceof ApiError && (e.code === 'bad_request' || e.code === 'validation_failed')
    if (refused && status === 'busy' && client.setStatus(status)) return
    if (session.user && previous) session.user.status = previous
    throw e
  }
}

export const isAdmin = (): boolean => session.user?.role === 'admin'
export const canAssignOthers = (): boolean => session.user?.role === 'admin' || session.user?.role === 'supervisor'
/** Supervisors and admins: take over, supervisor view, colleagues' load. */
export const isSupervisor = canAssignOthers
