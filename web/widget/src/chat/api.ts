// REST calls of the widget API (docs/protocol.md §4).

import type { ArticleSuggestion, Attachment, LeaveResponse, Page, SessionResponse } from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(url: string, init: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch {
    throw new ApiError(0, 'network', '');
  }
  let data: unknown = null;
  try {
    data = await res.json();
  } catch {
    /* empty or non-JSON body */
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, (err && err.code) || 'http_' + res.status, (err && err.message) || '');
  }
  return data as T;
}

export function startSession(
  base: string,
  widgetKey: string,
  visitorToken: string | null,
  page: Page,
  language: string,
): Promise<SessionResponse> {
  return call<SessionResponse>(`${base}/api/widget/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ widget_key: widgetKey, visitor_token: visitorToken, page, language }),
  });
}

export function uploadFile(base: string, visitorToken: string, file: File): Promise<Attachment> {
  const form = new FormData();
  form.append('file', file, file.name);
  return call<Attachment>(`${base}/api/widget/v1/uploads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${visitorToken}` },
    body: form,
  });
}

/** The leave-a-message form; `client_id` makes a retry safe. */
export function leaveMessage(
  base: string,
  visitorToken: string,
  body: { name?: string; email?: string; phone?: string; message: string; client_id: string },
): Promise<LeaveResponse> {
  return call<LeaveResponse>(`${base}/api/widget/v1/leave_message`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${visitorToken}` },
    body: JSON.stringify(body),
  });
}

/** Help articles for what the visitor is typing (A15); at most three. */
export function suggestArticles(base: string, visitorToken: string, q: string): Promise<{ items: ArticleSuggestion[] }> {
  return call<{ items: ArticleSuggestion[] }>(`${base}/api/widget/v1/kb/suggest?q=${encodeURIComponent(q)}`, {
    headers: { authorization: `Bearer ${visitorToken}` },
  });
}
