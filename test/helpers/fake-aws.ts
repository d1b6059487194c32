// A stateful Access Analyzer behind nock, for integration tests: analyzers and findings per region,
// ListFindingsV2 paging, GetFindingV2, and injectable faults. Records every request it answers.
import type { AnalyzerSummary, FindingDetails, GetFindingV2Response } from '@aws-sdk/client-accessanalyzer';
import nock from 'nock';
import { analyzerSummary, CALLER_ACCOUNT, externalAccessDetail, findingSummaryV2 } from '../factories/aws.ts';

export interface FakeFinding {
  summary: Omit<GetFindingV2Response, 'findingDetails'> & { id: string; status: string };
  details: FindingDetails[];
}

/** A finding on `resource` in `ownerAccount` that grants access to the outside account 999988887777. */
export function crossAccountFinding(id: string, resource: string, ownerAccount: string): FakeFinding {
  return {
    summary: findingSummaryV2({ id, resource, resourceOwnerAccount: ownerAccount }) as never,
    details: [externalAccessDetail({ principal: { AWS: '999988887777' } })],
  };
}

export interface FakeRegion {
  analyzers: AnalyzerSummary[];
  /** Findings per analyzer ARN. */
  findings: Map<string, FakeFinding[]>;
  /** Error code to answer ListAnalyzers with (e.g. AccessDeniedException). */
  listAnalyzersError?: string;
}

export interface FakeAws {
  regions: Map<string, FakeRegion>;
  requests: { op: string; region: string; id?: string }[];
  /** Answer the next N ListFindingsV2 calls in a region with ThrottlingException + Retry-After: 1. */
  throttleList(region: string, times: number): void;
  count(op: string): number;
  reset(): void;
}

function status(code: string): number {
  return code === 'AccessDeniedException'
    ? 403
    : code === 'ThrottlingException'
      ? 429
      : code === 'ResourceNotFoundException'
        ? 404
        : 400;
}

export function fakeAccessAnalyzer(regions: Record<string, { analyzers?: AnalyzerSummary[] }>): FakeAws {
  const state: FakeAws = {
    regions: new Map(),
    requests: [],
    throttleList(region, times) {
      throttles.set(region, times);
    },
    count(op) {
      return state.requests.filter((r) => r.op === op).length;
    },
    reset() {
      state.requests.length = 0;
    },
  };
  const throttles = new Map<string, number>();
  for (const [region, r] of Object.entries(regions)) {
    const analyzers = r.analyzers ?? [
      analyzerSummary({
        name: 'org-external',
        arn: `arn:aws:access-analyzer:${region}:${CALLER_ACCOUNT}:analyzer/org-external`,
      }),
    ];
    state.regions.set(region, { analyzers, findings: new Map(analyzers.map((a) => [a.arn!, []])) });
    const host = `https://access-analyzer.${region}.amazonaws.com`;
    const err = (code: string, extra: Record<string, string> = {}) =>
      [status(code), { message: `${code} (fake)` }, { 'x-amzn-errortype': code, ...extra }] as const;

    nock(host)
      .persist()
      .get('/analyzer')
      .query(true)
      .reply(() => {
        state.requests.push({ op: 'ListAnalyzers', region });
        const reg = state.regions.get(region)!;
        if (reg.listAnalyzersError) return err(reg.listAnalyzersError);
        return [200, { analyzers: reg.analyzers }];
      });
    nock(host)
      .persist()
      .post('/findingv2')
      .reply((_uri, body) => {
        state.requests.push({ op: 'ListFindingsV2', region });
        const left = throttles.get(region) ?? 0;
        if (left > 0) {
          throttles.set(region, left - 1);
          return err('ThrottlingException', { 'retry-after': '1' });
        }
        const b = (typeof body === 'string' ? JSON.parse(body) : body) as {
          analyzerArn: string;
          maxResults?: number;
          nextToken?: string;
        };
        const all = (state.regions.get(region)!.findings.get(b.analyzerArn) ?? []).filter(
          (f) => f.summary.status === 'ACTIVE',
        );
        const size = b.maxResults ?? 100;
        const start = b.nextToken ? Number(b.nextToken) : 0;
        const page = all.slice(start, start + size).map((f) => f.summary);
        const next = start + size < all.length ? String(start + size) : undefined;
        return [200, { findings: page, ...(next ? { nextToken: next } : {}) }];
      });
    nock(host)
      .persist()
      .put('/finding')
      .reply((_uri, body) => {
        const b = (typeof body === 'string' ? JSON.parse(body) : body) as {
          analyzerArn: string;
          ids: string[];
          status: string;
        };
        state.requests.push({ op: 'UpdateFindings', region, id: `${b.ids.join(',')}=${b.status}` });
        for (const f of state.regions.get(region)!.findings.get(b.analyzerArn) ?? []) {
          if (b.ids.includes(f.summary.id)) {
            f.summary.status = b.status as typeof f.summary.status;
            f.summary.updatedAt = new Date();
          }
        }
        return [200, {}];
      });
    nock(host)
      .persist()
      .post('/resource/scan')
      .reply((_uri, body) => {
        const b = (typeof body === 'string' ? JSON.parse(body) : body) as { resourceArn: string };
        state.requests.push({ op: 'StartResourceScan', region, id: b.resourceArn });
        return [200, {}];
      });
    nock(host)
      .persist()
      .get(/^\/findingv2\/[^/?]+/)
      .query(true)
      .reply((uri) => {
        const url = new URL(uri, host);
        const id = decodeURIComponent(url.pathname.split('/')[2]!);
        state.requests.push({ op: 'GetFindingV2', region, id });
        const arn = url.searchParams.get('analyzerArn')!;
        const f = state.regions
          .get(region)!
          .findings.get(arn)
          ?.find((x) => x.summary.id === id);
        if (!f) return err('ResourceNotFoundException');
        return [200, { ...f.summary, findingDetails: f.details }];
      });
  }
  return state;
}
