// Access Analyzer behind nock, answered by the AWS sandbox's own Access Analyzer (sandbox/aws/api.ts):
// the same operations, checks, paging and errors as the sandbox server the end-to-end tests and the
// demo use, without a port. Tests keep their view of it: analyzers and findings per region (mutated
// in place between calls), finding recommendations by finding id (the sandbox's own records), the
// requests answered, and injected faults (a throttled listing, a region whose ListAnalyzers is denied).
import type { AnalyzerSummary, FindingDetails, GetFindingV2Response } from '@aws-sdk/client-accessanalyzer';
import nock from 'nock';
import { createAccessAnalyzerApi } from '../../sandbox/aws/api.ts';
import {
  FindingStore,
  type SandboxAnalyzer,
  type SandboxData,
  type SandboxFinding,
  type SandboxRecommendationRecord,
  type WireDetail,
} from '../../sandbox/types.ts';
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
  /** Set to answer ListAnalyzers in this region with AccessDeniedException. */
  listAnalyzersError?: 'AccessDeniedException';
}

export interface FakeAwsRequest {
  op: string;
  region: string;
  id?: string;
  /** Recommendation requests: the query parameters and the body as sent. */
  analyzerArn?: string;
  nextToken?: string;
  maxResults?: string;
  body?: string;
}

export interface FakeAws {
  regions: Map<string, FakeRegion>;
  /**
   * Finding recommendations by finding id, as the sandbox holds them (live): put a record to start
   * from a recommendation AWS already has, or to say what GenerateFindingRecommendation does next.
   */
  recommendations: Record<string, SandboxRecommendationRecord>;
  requests: FakeAwsRequest[];
  /** Answer the next N ListFindingsV2 calls in a region with ThrottlingException + Retry-After: 1. */
  throttleList(region: string, times: number): void;
  count(op: string): number;
  reset(): void;
}

/** The operations tests drive through this stand-in. */
const ROUTES: { method: 'get' | 'post' | 'put'; path: string | RegExp; query?: true }[] = [
  { method: 'get', path: '/analyzer' },
  { method: 'post', path: '/findingv2' },
  { method: 'put', path: '/finding' },
  { method: 'post', path: '/resource/scan' },
  { method: 'get', path: /^\/findingv2\/[^/?]+/ },
  { method: 'post', path: /^\/recommendation\/[^/?]+/, query: true },
  { method: 'get', path: /^\/recommendation\/[^/?]+/ },
];

const RECOMMENDATION_OPS = new Set(['GenerateFindingRecommendation', 'GetFindingRecommendation']);

const iso = (d: Date | string | undefined) => (d === undefined ? undefined : new Date(d).toISOString());

function sandboxAnalyzer(a: AnalyzerSummary, region: string): SandboxAnalyzer {
  return {
    arn: a.arn!,
    name: a.name!,
    type: a.type!,
    region,
    account: a.arn!.split(':')[4]!,
    createdAt: iso(a.createdAt)!,
    status: a.status as SandboxAnalyzer['status'],
    ...(a.statusReason?.code && { statusReason: a.statusReason.code }),
    ...(a.lastResourceAnalyzed && { lastResourceAnalyzed: a.lastResourceAnalyzed }),
    ...(a.lastResourceAnalyzedAt && { lastResourceAnalyzedAt: iso(a.lastResourceAnalyzedAt) }),
    ...(a.tags && { tags: a.tags }),
  };
}

function sandboxFinding(f: FakeFinding, analyzerArn: string): SandboxFinding {
  const s = f.summary;
  return {
    id: s.id,
    analyzerArn,
    resource: s.resource!,
    resourceType: s.resourceType!,
    resourceOwnerAccount: s.resourceOwnerAccount!,
    findingType: s.findingType!,
    status: s.status as SandboxFinding['status'],
    createdAt: iso(s.createdAt)!,
    updatedAt: iso(s.updatedAt)!,
    analyzedAt: iso(s.analyzedAt)!,
    ...(s.error && { error: s.error }),
    // As the SDK sent them: timestamps become ISO-8601 text.
    details: JSON.parse(JSON.stringify(f.details)) as WireDetail[],
  };
}

export function fakeAccessAnalyzer(regions: Record<string, { analyzers?: AnalyzerSummary[] }>): FakeAws {
  const state: FakeAws = {
    regions: new Map(),
    recommendations: {},
    requests: [],
    throttleList(region, times) {
      api.faults.throttleNext!.push({ region, operation: 'ListFindingsV2', times });
    },
    count(op) {
      return state.requests.filter((r) => r.op === op).length;
    },
    reset() {
      state.requests.length = 0;
    },
  };
  const data: SandboxData = {
    callerAccount: CALLER_ACCOUNT,
    accounts: [{ id: CALLER_ACCOUNT, name: 'caller' }],
    regions: Object.keys(regions),
    analyzers: [],
    findings: new FindingStore(),
    roles: [],
    users: [],
    resources: {},
    recommendations: state.recommendations,
  };
  const api = createAccessAnalyzerApi(data);

  /** The sandbox's data as the test has set it by now; returns each sandbox finding with the test's. */
  const sync = (): [SandboxFinding, FakeFinding][] => {
    const pairs: [SandboxFinding, FakeFinding][] = [];
    data.analyzers = [];
    data.findings = new FindingStore();
    data.recommendations = state.recommendations;
    api.faults.accessDenied = [];
    for (const [region, reg] of state.regions) {
      data.analyzers.push(...reg.analyzers.map((a) => sandboxAnalyzer(a, region)));
      for (const [arn, list] of reg.findings) {
        for (const f of list) pairs.push([data.findings.add(sandboxFinding(f, arn)), f]);
      }
      if (reg.listAnalyzersError) api.faults.accessDenied.push({ region, operation: 'ListAnalyzers' });
    }
    return pairs;
  };

  /** What the test reads back of a request (the finding ids and status of an update, the resource of a scan). */
  const idOf = (operation: string, url: URL, body: Record<string, unknown>): string | undefined => {
    if (operation === 'GetFindingV2' || RECOMMENDATION_OPS.has(operation))
      return decodeURIComponent(url.pathname.split('/')[2] ?? '');
    if (operation === 'UpdateFindings')
      return `${((body.ids as string[] | undefined) ?? []).join(',')}=${String(body.status)}`;
    if (operation === 'StartResourceScan') return String(body.resourceArn);
    return undefined;
  };

  for (const [region, r] of Object.entries(regions)) {
    const analyzers = r.analyzers ?? [
      analyzerSummary({
        name: 'org-external',
        arn: `arn:aws:access-analyzer:${region}:${CALLER_ACCOUNT}:analyzer/org-external`,
      }),
    ];
    state.regions.set(region, { analyzers, findings: new Map(analyzers.map((a) => [a.arn!, []])) });
    const host = `https://access-analyzer.${region}.amazonaws.com`;
    for (const route of ROUTES) {
      const scope = nock(host).persist();
      const interceptor =
        route.method === 'get' || route.query
          ? scope[route.method](route.path).query(true)
          : scope[route.method](route.path);
      interceptor.reply(function (uri, body) {
        const raw =
          body === undefined || body === '' ? '' : typeof body === 'string' ? body : JSON.stringify(body);
        const url = new URL(uri, host);
        const pairs = sync();
        const authorization = this.req.headers.authorization;
        const a = api.answer({
          method: route.method.toUpperCase(),
          url,
          authorization: Array.isArray(authorization) ? authorization[0] : authorization,
          body: raw,
        });
        let parsed: Record<string, unknown> = {};
        try {
          if (raw) parsed = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          // the sandbox answered a body it could not read; there is nothing more to record
        }
        state.requests.push({
          op: a.operation,
          region: a.region ?? region,
          ...optional(idOf(a.operation, url, parsed)),
          ...(RECOMMENDATION_OPS.has(a.operation) && recommendationRequest(url, raw)),
        });
        // What the sandbox changed (UpdateFindings) shows in the test's findings.
        for (const [sf, f] of pairs) {
          if (sf.status !== f.summary.status) f.summary.status = sf.status;
          if (sf.updatedAt !== iso(f.summary.updatedAt)) f.summary.updatedAt = new Date(sf.updatedAt);
        }
        return [a.status, JSON.stringify(a.body), { 'content-type': 'application/json', ...a.headers }];
      });
    }
  }
  return state;
}

/** What a recommendation request sent: its query parameters and body. */
function recommendationRequest(url: URL, body: string): Omit<FakeAwsRequest, 'op' | 'region' | 'id'> {
  const q = url.searchParams;
  return {
    body,
    ...(q.has('analyzerArn') && { analyzerArn: q.get('analyzerArn')! }),
    ...(q.has('nextToken') && { nextToken: q.get('nextToken')! }),
    ...(q.has('maxResults') && { maxResults: q.get('maxResults')! }),
  };
}

function optional(id: string | undefined): { id?: string } {
  return id === undefined ? {} : { id };
}
