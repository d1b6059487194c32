// The Slack Web API on the wire, as @slack/web-api 8 speaks it: form-encoded bodies whose nested
// fields are JSON-stringified (JSON bodies too), and JSON or plain-text answers.
import type { ServerResponse } from 'node:http';
import { reply } from '../http.ts';

const JSON_FIELDS = new Set(['blocks', 'attachments', 'metadata', 'view']);

/** Form fields are strings; the WebClient JSON-stringifies objects and arrays, so parse those back. */
export function decodeBody(raw: string, contentType: string): Record<string, unknown> {
  if (raw.trim() === '') return {};
  if (contentType.includes('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    if (JSON_FIELDS.has(k)) {
      try {
        out[k] = JSON.parse(v);
        continue;
      } catch {
        // not JSON: keep the string (Slack would answer invalid_blocks_format)
      }
    }
    out[k] = v;
  }
  return out;
}

export function bool(v: unknown): boolean {
  return v === true || v === 'true' || v === '1' || v === 1;
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  reply(res, status, 'text/plain; charset=utf-8', text);
}

export function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  reply(res, status, 'application/json; charset=utf-8', JSON.stringify(body), headers);
}
