// What every service of the AWS sandbox shares: the context of a request (region, account), the
// error a handler throws (AwsFault), the request log, and the bytes on the wire: JSON bodies and
// errors (REST-JSON, JSON 1.1) and XML text (awsQuery, sandbox/aws/query.ts).
import { randomBytes, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { reply } from '../http.ts';

/** Who asks, and where: from the SigV4 credential scope and the access key id. */
export interface Ctx {
  region: string | undefined;
  account: string;
  accessKeyId: string | undefined;
  scopeService: string | undefined;
}

/**
 * The context of a request from its SigV4 Authorization header: the region and service of the
 * credential scope, and the account the access key id belongs to.
 */
export function contextOf(authorization: string | undefined, accountOfKey: (akid?: string) => string): Ctx {
  const scope = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization ?? '');
  return {
    region: scope?.[2],
    accessKeyId: scope?.[1],
    scopeService: scope?.[3],
    account: accountOfKey(scope?.[1]),
  };
}

export interface AwsRequestRecord {
  /** access-analyzer | iam | sts | tagging */
  service: string;
  /** e.g. ListFindingsV2, GetRole, AssumeRole, GetResources */
  operation: string;
  region?: string;
  /** Account of the credentials that made the call. */
  account: string;
  /** HTTP status of the answer. */
  status: number;
}

/** Logs a request as it arrives; the handler sets `status` when it answers. */
export type RecordRequest = (service: string, operation: string, ctx: Ctx) => AwsRequestRecord;

/** A request log and the function that appends to it. */
export function requestLog(): { requests: AwsRequestRecord[]; record: RecordRequest } {
  const requests: AwsRequestRecord[] = [];
  const record: RecordRequest = (service, operation, ctx) => {
    const r: AwsRequestRecord = { service, operation, account: ctx.account, status: 0 };
    if (ctx.region !== undefined) r.region = ctx.region;
    requests.push(r);
    return r;
  };
  return { requests, record };
}

/** An error answer; thrown by handlers, written by each protocol in its own format. */
export class AwsFault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function asFault(err: unknown): AwsFault {
  if (err instanceof AwsFault) return err;
  return new AwsFault(500, 'InternalServerException', `sandbox error: ${String(err)}`);
}

/** A JSON protocol's ValidationException, with the field it is about. */
export function validation(field: string, message: string, reason: string): AwsFault {
  return new AwsFault(400, 'ValidationException', message, { reason, fieldList: [{ name: field, message }] });
}

/** A JSON request body: an object, or nothing. */
export function parseJsonBody(raw: string): Record<string, unknown> {
  if (raw.trim() === '') return {};
  try {
    const v = JSON.parse(raw) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new AwsFault(400, 'ValidationException', 'Could not parse request body', { reason: 'cannotParse' });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  contentType: string,
  headers: Record<string, string> = {},
): void {
  reply(res, status, contentType, JSON.stringify(body), { 'x-amzn-RequestId': randomUUID(), ...headers });
}

export function sendXml(res: ServerResponse, status: number, body: string): void {
  reply(res, status, 'text/xml', body, { 'x-amzn-RequestId': randomUUID() });
}

/** Text escaped for XML. */
export function xml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`,
  );
}

const KEY_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** `n` characters of the alphabet AWS uses in access key ids and entity ids. */
export function randomChars(n: number): string {
  const bytes = randomBytes(n);
  let s = '';
  for (const b of bytes) s += KEY_CHARS[b % KEY_CHARS.length];
  return s;
}

export function isoNow(): string {
  return new Date().toISOString();
}
