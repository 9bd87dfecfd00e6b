// Small fetch wrapper for /api/v1: JSON in and out, CSRF header on writes,
// typed errors from the `{error:{code,message}}` shape, 401 → sign-in page.

export const API_BASE = '/api/v1'

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  /** Seconds from the `retry-after` header (429), if given. */
  readonly retryAfter: number | null

  constructor(status: number, code: string, message: string, retryAfter: number | null = null) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.retryAfter = retryAfter
  }
}

export interface RequestOptions {
  /** Do not run the 401 handler (used by login and the initial session probe). */
  skipAuthRedirect?: boolean
  signal?: AbortSignal
}

let csrfToken = ''
let unauthorizedHandler: (() => void) | null = null

export function setCsrfToken(token: string): void {
  csrfToken = token
}

export function onUnauthorized(handler: () => void): void {
  unauthorizedHandler = handler
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  options: RequestOptions = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  let payload: BodyInit | undefined
  if (body instanceof FormData) {
    payload = body
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json'
    payload = JSON.stringify(body)
  }
  if (WRITE_METHODS.has(method) && csrfToken) headers['x-csrf-token'] = csrfToken

  let res: Response
  try {
    res = await fetch(API_BASE + path, {
      method,
      headers,
      body: payload,
      credentials: 'same-origin',
      signal: options.signal,
    })
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e
    throw new ApiError(0, 'network', e instanceof Error ? e.message : String(e))
  }

  if (res.ok) {
    if (res.status === 204) return undefined as T
    const text = await res.text()
    return (text ? JSON.parse(text) : undefined) as T
  }

  const error = await parseError(res)
  if (res.status === 401 && !options.skipAuthRedirect && unauthorizedHandler) unauthorizedHandler()
  throw error
}

async function parseError(res: Response): Promise<ApiError> {
  let code = statusCode(res.status)
  let message = res.statusText || code
  try {
    const data = (await res.json()) as { error?: { code?: unknown; message?: unknown } }
    if (data && data.error) {
      if (typeof data.error.code === 'string') code = data.error.code
      if (typeof data.error.message === 'string') message = data.error.message
    }
  } catch {
    /* body was not JSON */
  }
  const ra = Number(res.headers.get('retry-after'))
  return new ApiError(res.status, code, message, Number.isFinite(ra) && ra > 0 ? ra : null)
}

function statusCode(status: number): string {
  switch (status) {
    case 400: return 'bad_request'
    case 401: return 'unauthorized'
    case 403: return 'forbidden'
    case 404: return 'not_found'
    case 409: return 'conflict'
    case 413: return 'payload_too_large'
    case 415: return 'unsupported_media_type'
    case 422: return 'validation_failed'
    case 429: return 'rate_limited'
    default: return 'internal'
  }
}

export const api = {
  get: <T>(path: string, options?: RequestOptions) => request<T>('GET', path, undefined, options),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) => request<T>('POST', path, body ?? {}, options),
  put: <T>(path: string, body?: unknown, options?: RequestOptions) => request<T>('PUT', path, body ?? {}, options),
  patch: <T>(path: string, body?: unknown, options?: RequestOptions) => request<T>('PATCH', path, body ?? {}, options),
  del: <T>(path: string, options?: RequestOptions) => request<T>('DELETE', path, undefined, options),
}

/** List endpoints answer `{items: [...]}`; accept a bare array too. */
export function itemsOf<T>(data: T[] | { items: T[] } | null | undefined): T[] {
  if (Array.isArray(data)) return data
  return data?.items ?? []
}

/** Query string from defined values only. */
export function qs(params: Record<string, string | number | null | undefined>): string {
  const sp = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') sp.set(k, String(v))
  const s = sp.toString()
  return s ? `?${s}` : ''
}
