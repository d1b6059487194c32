// The AWS sandbox's Access Analyzer without a port: what a request (method, URL, headers, body) is
// answered, from the same code the HTTP server runs (sandbox/aws/access-analyzer.ts with the policy
// tools). The integration tests' nock interceptors answer from it (test/helpers/fake-aws.ts).
import type { SandboxData } from '../types.ts';
import { type AccessAnalyzerAnswer, type AwsSandboxFaults, createAccessAnalyzer } from './access-analyzer.ts';
import { createPolicySandbox } from './policy-tools.ts';
import { createSts } from './sts.ts';
import { AwsFault, type AwsRequestRecord, contextOf, requestLog } from './wire.ts';

export interface AccessAnalyzerRequest {
  method: string;
  /** The request URL (path and query; the host is not read). */
  url: string | URL;
  /** The SigV4 Authorization header: the region and the account come from it. */
  authorization?: string;
  body?: string;
}

export interface AccessAnalyzerApi {
  answer(req: AccessAnalyzerRequest): AccessAnalyzerAnswer & { region: string | undefined };
  /** Live fault injection, as the server's. */
  faults: AwsSandboxFaults;
  /** Every request, in arrival order. */
  requests: AwsRequestRecord[];
}

export function createAccessAnalyzerApi(data: SandboxData): AccessAnalyzerApi {
  const { requests, record } = requestLog();
  const faults: AwsSandboxFaults = { accessDenied: [], internalError: [], throttleNext: [] };
  const sts = createSts(data);
  const policyTools = createPolicySandbox(
    data,
    (status, code, message, extra) => new AwsFault(status, code, message, extra),
  );
  const accessAnalyzer = createAccessAnalyzer(data, faults, record, policyTools.route);
  return {
    faults,
    requests,
    answer(req) {
      const ctx = contextOf(req.authorization, (akid) => sts.accountOfKey(akid));
      const url = typeof req.url === 'string' ? new URL(req.url, 'http://sandbox') : req.url;
      return { ...accessAnalyzer.answer(req.method, url, ctx, req.body ?? ''), region: ctx.region };
    },
  };
}
