// S3 (REST XML, path-style) for a bucket's Block Public Access settings: GET, PUT and DELETE
// `/<bucket>?publicAccessBlock`. A bucket without a configuration answers 404
// NoSuchPublicAccessBlockConfiguration; a bucket of another account (x-amz-expected-bucket-owner, or
// credentials of another account) 403 AccessDenied; an unknown bucket 404 NoSuchBucket; a request
// signed for another region 301 PermanentRedirect, as S3 does. S3 control's account-level settings
// are `/v20180820/configuration/publicAccessBlock` with the account in x-amz-account-id (signed for
// s3, like S3): another account than the credentials' is 403 AccessDenied.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxData, SandboxPublicAccessBlock } from '../types.ts';
import { reanalyze } from './reanalyze.ts';
import { AwsFault, asFault, type Ctx, type RecordRequest, xml } from './wire.ts';

const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const FIELDS = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const;

const CONTROL_PATH = '/v20180820/configuration/publicAccessBlock';

export function isS3Request(_req: IncomingMessage, url: URL, ctx: Ctx): boolean {
  return (
    ctx.scopeService === 's3' || url.searchParams.has('publicAccessBlock') || url.pathname === CONTROL_PATH
  );
}

const OPERATIONS: Record<string, string> = {
  GET: 'GetPublicAccessBlock',
  PUT: 'PutPublicAccessBlock',
  DELETE: 'DeletePublicAccessBlock',
};
const operationOf = (method: string) => OPERATIONS[method] ?? `Unknown:${method}`;
const newRequestId = () => randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();

const configXml = (c: SandboxPublicAccessBlock) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<PublicAccessBlockConfiguration xmlns="${S3_NS}">${FIELDS.map(
    (f) => `<${f}>${c[f]}</${f}>`,
  ).join('')}</PublicAccessBlockConfiguration>`;

function send(res: ServerResponse, status: number, body: string, requestId: string): void {
  res.writeHead(status, {
    'content-type': 'application/xml',
    'x-amz-request-id': requestId,
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** GetPublicAccessBlock's answer: the configuration, or 404 where there is none (`owner` names the bucket or account). */
function sendConfig(
  res: ServerResponse,
  entry: { status?: number },
  config: SandboxPublicAccessBlock | null | undefined,
  requestId: string,
  owner: Record<string, string>,
): void {
  if (!config) {
    throw new AwsFault(
      404,
      'NoSuchPublicAccessBlockConfiguration',
      'The public access block configuration was not found',
      owner,
    );
  }
  entry.status = 200;
  send(res, 200, configXml(config), requestId);
}

function parseConfig(raw: string): SandboxPublicAccessBlock {
  if (!/<PublicAccessBlockConfiguration[\s>]/.test(raw)) {
    throw new AwsFault(
      400,
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
    );
  }
  const out = {} as SandboxPublicAccessBlock;
  for (const f of FIELDS) {
    const m = new RegExp(`<${f}>\\s*(true|false)\\s*</${f}>`).exec(raw);
    out[f] = m?.[1] === 'true';
  }
  return out;
}

function fail(res: ServerResponse, entry: { status?: number }, err: unknown, requestId: string): void {
  const f = asFault(err);
  entry.status = f.status;
  const extra = Object.entries(f.extra)
    .map(([k, v]) => `<${k}>${xml(String(v))}</${k}>`)
    .join('');
  send(
    res,
    f.status,
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xml(f.code)}</Code><Message>${xml(f.message)}</Message>${extra}<RequestId>${requestId}</RequestId></Error>`,
    requestId,
  );
}

export function createS3(data: SandboxData, record: RecordRequest) {
  const handle = (req: IncomingMessage, res: ServerResponse, ctx: Ctx, url: URL, raw: string) => {
    if (url.pathname === CONTROL_PATH) return handleControl(req, res, ctx, raw);
    const bucketName = decodeURIComponent(url.pathname.split('/').filter(Boolean)[0] ?? '');
    const method = req.method ?? 'GET';
    const operation = url.searchParams.has('publicAccessBlock')
      ? operationOf(method)
      : `Unknown:${method} ${url.pathname}`;
    const entry = record('s3', operation, ctx);
    const requestId = newRequestId();
    try {
      if (operation.startsWith('Unknown')) {
        throw new AwsFault(
          501,
          'NotImplemented',
          `The sandbox does not implement ${method} ${url.pathname}${url.search}.`,
        );
      }
      const bucket = data.buckets?.[bucketName];
      if (!bucket)
        throw new AwsFault(404, 'NoSuchBucket', 'The specified bucket does not exist', {
          BucketName: bucketName,
        });
      const expected = req.headers['x-amz-expected-bucket-owner'];
      if ((typeof expected === 'string' && expected !== bucket.account) || ctx.account !== bucket.account) {
        throw new AwsFault(403, 'AccessDenied', 'Access Denied');
      }
      if (ctx.region && ctx.region !== bucket.region) {
        throw new AwsFault(
          301,
          'PermanentRedirect',
          'The bucket you are attempting to access must be addressed using the specified endpoint.',
          { BucketName: bucketName },
        );
      }
      const arn = `arn:aws:s3:::${bucketName}`;
      if (operation === 'GetPublicAccessBlock') {
        sendConfig(res, entry, bucket.publicAccessBlock, requestId, { BucketName: bucketName });
        return;
      }
      if (operation === 'PutPublicAccessBlock') {
        bucket.publicAccessBlock = parseConfig(raw);
        reanalyze(data, arn);
        entry.status = 200;
        send(res, 200, '', requestId);
        return;
      }
      bucket.publicAccessBlock = null;
      reanalyze(data, arn);
      entry.status = 204;
      res.writeHead(204, { 'x-amz-request-id': requestId });
      res.end();
    } catch (err) {
      fail(res, entry, err, requestId);
    }
  };

  /** S3 control: GetPublicAccessBlock, PutPublicAccessBlock, DeletePublicAccessBlock for an account. */
  const handleControl = (req: IncomingMessage, res: ServerResponse, ctx: Ctx, raw: string) => {
    const method = req.method ?? 'GET';
    const operation = operationOf(method);
    const entry = record('s3control', operation, ctx);
    const requestId = newRequestId();
    try {
      if (operation.startsWith('Unknown')) {
        throw new AwsFault(405, 'MethodNotAllowed', `The specified method is not allowed: ${method}.`);
      }
      const account = req.headers['x-amz-account-id'];
      if (typeof account !== 'string' || !/^\d{12}$/.test(account)) {
        throw new AwsFault(400, 'InvalidRequest', 'Missing or invalid x-amz-account-id header.');
      }
      if (account !== ctx.account) throw new AwsFault(403, 'AccessDenied', 'Access Denied');
      data.accountPublicAccessBlocks ??= {};
      const before = data.accountPublicAccessBlocks[account] ?? null;
      if (operation === 'GetPublicAccessBlock') {
        sendConfig(res, entry, before, requestId, { AccountId: account });
        return;
      }
      data.accountPublicAccessBlocks[account] =
        operation === 'PutPublicAccessBlock' ? parseConfig(raw) : null;
      // Every bucket of the account is analyzed again.
      for (const [name, b] of Object.entries(data.buckets ?? {})) {
        if (b.account === account) reanalyze(data, `arn:aws:s3:::${name}`);
      }
      entry.status = operation === 'PutPublicAccessBlock' ? 200 : 204;
      res.writeHead(entry.status, { 'x-amz-request-id': requestId });
      res.end();
    } catch (err) {
      fail(res, entry, err, requestId);
    }
  };
  return { handle };
}
