// The awsQuery protocol IAM and STS speak: a form-encoded POST with `Action` and `Version`, answered
// with `<ActionResponse><ActionResult>…` XML, or an `<ErrorResponse>` with the fault's code.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { AwsFault, asFault, type Ctx, type RecordRequest, sendXml, xml } from './wire.ts';

/** An operation returns the inner XML of `<OpResult>`, or null for operations with no result. */
export type QueryOp = (ctx: Ctx, p: URLSearchParams) => string | null;

export interface QueryService {
  /** iam | sts, as the request log names it. */
  name: string;
  /** The XML namespace of its answers. */
  namespace: string;
  ops: Record<string, QueryOp>;
}

export function handleQuery(
  res: ServerResponse,
  ctx: Ctx,
  p: URLSearchParams,
  service: QueryService,
  record: RecordRequest,
): void {
  const action = p.get('Action') ?? '';
  const ns = service.namespace;
  const entry = record(service.name, action || 'Unknown', ctx);
  const requestId = randomUUID();
  try {
    const op = service.ops[action];
    if (!op) {
      throw new AwsFault(
        400,
        'InvalidAction',
        `Could not find operation ${action} for version ${p.get('Version')}`,
      );
    }
    const inner = op(ctx, p);
    entry.status = 200;
    sendXml(
      res,
      200,
      `<${action}Response xmlns="${ns}">` +
        (inner === null ? '' : `<${action}Result>${inner}</${action}Result>`) +
        `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
    );
  } catch (err) {
    const f = asFault(err);
    entry.status = f.status;
    sendXml(
      res,
      f.status,
      `<ErrorResponse xmlns="${ns}"><Error><Type>${f.status >= 500 ? 'Receiver' : 'Sender'}</Type>` +
        `<Code>${xml(f.code)}</Code><Message>${xml(f.message)}</Message></Error>` +
        `<RequestId>${requestId}</RequestId></ErrorResponse>`,
    );
  }
}

/** awsQuery list members: `Tags.member.1.Key=a&Tags.member.1.Value=b` → `[{ Key: 'a', Value: 'b' }]`. */
export function memberList(p: URLSearchParams, name: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  const prefix = `${name}.member.`;
  for (const [k, v] of p) {
    if (!k.startsWith(prefix)) continue;
    const [index, field] = k.slice(prefix.length).split('.');
    const i = Number(index) - 1;
    if (!Number.isInteger(i) || i < 0 || !field) continue;
    out[i] = { ...out[i], [field]: v };
  }
  return out.filter((m) => m !== undefined);
}

/** The ValidationError of a value that fails its constraint; `detail` is AWS's "Member must…" where it gives one. */
export function invalidValue(field: string, value: string, detail?: string): AwsFault {
  return new AwsFault(
    400,
    'ValidationError',
    `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint${detail ? `: ${detail}` : ''}`,
  );
}

/** A parameter IAM requires, or its ValidationError. */
export function required(p: URLSearchParams, name: string): string {
  const v = p.get(name);
  if (v === null || v === '') {
    throw new AwsFault(
      400,
      'ValidationError',
      `1 validation error detected: Value null at '${name[0]!.toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return v;
}
