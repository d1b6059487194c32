// A local AWS that speaks the wire protocols the real SDK v3 clients use: Access Analyzer (REST-JSON,
// sandbox/aws/access-analyzer.ts), IAM and STS (awsQuery, XML responses: iam.ts, sts.ts, query.ts)
// the Resource Groups Tagging API (JSON 1.1, tagging.ts) and S3's Block Public Access (REST XML,
// s3.ts). One node:http server on 127.0.0.1 serves all five; point the clients at it with `endpoint` or AWS_ENDPOINT_URL_*.
//
// The region of a request comes from the SigV4 credential scope, the account from the access key id:
// keys issued by AssumeRole encode the assumed account (`ASIA<account>XXXX`), any other key is
// `data.callerAccount`. Signatures are not checked.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SandboxData } from '../types.ts';
import { type AwsRateLimit, type AwsSandboxFaults, createAccessAnalyzer } from './access-analyzer.ts';
import { createIam } from './iam.ts';
import { createPolicySandbox } from './policy-tools.ts';
import { handleQuery } from './query.ts';
import { createS3, isS3Request } from './s3.ts';
import { createSts } from './sts.ts';
import { createTagging } from './tagging.ts';
import { AwsFault, type AwsRequestRecord, contextOf, requestLog, sendJson, xml } from './wire.ts';

export type { AwsRateLimit, AwsRequestRecord, AwsSandboxFaults };

export interface AwsSandboxOptions {
  port?: number;
  data: SandboxData;
  throttleEvery?: number;
  /** Access Analyzer answers 429 above this per-region request rate. */
  rateLimit?: AwsRateLimit;
  accessDenied?: { region: string; operation?: string }[];
  /** A seeded fraction of Access Analyzer requests throttled or failing with 500 (AwsSandboxFaults.random). */
  randomFaults?: AwsSandboxFaults['random'];
}

export interface AwsSandbox {
  url: string;
  close(): Promise<void>;
  /** Every request, in arrival order (live). */
  requests: AwsRequestRecord[];
  /** Requests per operation name, e.g. `{ ListFindingsV2: 12, GetFindingV2: 40 }` (throttled ones included). */
  counts(): Record<string, number>;
  /** Access Analyzer requests answered 429 ThrottlingException so far. */
  throttled(): number;
  /** The live data: changes are seen by the next request. */
  data: SandboxData;
  /** Live fault injection: change it between calls. */
  faults: AwsSandboxFaults;
}

export async function startAwsSandbox(opts: AwsSandboxOptions): Promise<AwsSandbox> {
  const data = opts.data;
  const { requests, record } = requestLog();
  const faults: AwsSandboxFaults = {
    throttleEvery: opts.throttleEvery,
    rateLimit: opts.rateLimit,
    accessDenied: [...(opts.accessDenied ?? [])],
    internalError: [],
    random: opts.randomFaults,
  };

  const policyTools = createPolicySandbox(
    data,
    (status, code, message, extra) => new AwsFault(status, code, message, extra),
  );
  const accessAnalyzer = createAccessAnalyzer(data, faults, record, policyTools.route);
  const iam = createIam(data, policyTools.iamOps(xml));
  const sts = createSts(data);
  const tagging = createTagging(data, record);
  const s3 = createS3(data, record);

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://sandbox');
      const ctx = contextOf(req.headers.authorization, (akid) => sts.accountOfKey(akid));
      try {
        const target = req.headers['x-amz-target'];
        if (typeof target === 'string') tagging.handle(res, ctx, target, raw);
        else if (isS3Request(req, url, ctx)) s3.handle(req, res, ctx, url, raw);
        else if (req.method === 'POST' && url.pathname === '/' && /^Action=|&Action=/.test(raw)) {
          // IAM and STS share the protocol: the credential scope names the service, else the API version.
          const p = new URLSearchParams(raw);
          const isSts =
            ctx.scopeService === 'sts' || (ctx.scopeService !== 'iam' && p.get('Version') === '2011-06-15');
          handleQuery(res, ctx, p, isSts ? sts : iam, record);
        } else accessAnalyzer.handle(req, res, ctx, url, raw);
      } catch (err) {
        sendJson(res, 500, { message: String(err) }, 'application/json', {
          'x-amzn-ErrorType': 'InternalServerException',
        });
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    data,
    faults,
    counts() {
      const c: Record<string, number> = {};
      for (const r of requests) c[r.operation] = (c[r.operation] ?? 0) + 1;
      return c;
    },
    throttled: () => accessAnalyzer.throttled(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
