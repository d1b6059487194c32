// Access Analyzer (REST-JSON): analyzers, ListFindingsV2 with filters and resumable tokens,
// GetFindingV2 with paged details, UpdateFindings, StartResourceScan, finding recommendations
// (sandbox/aws/recommendations.ts) and the policy tools (sandbox/aws/policy-tools.ts), behind the
// faults a test can inject: throttling (every Nth request, or a per-region rate), access denied and
// internal errors. `answer` is transport-free: the HTTP server (server.ts) and the integration tests'
// nock interceptors (test/helpers/fake-aws.ts) both write what it returns.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { seededRandom } from '../random.ts';
import type { SandboxAnalyzer, SandboxArchiveRule, SandboxData, SandboxFinding } from '../types.ts';
import { archiveOnArrival } from './archive-on-arrival.ts';
import { compileFilter } from './finding-filter.ts';
import type { PolicyRoute } from './policy-tools.ts';
import { type AwsRateLimit, tokenBuckets } from './rate-limit.ts';
import { sandboxRecommendations } from './recommendations.ts';
import {
  AwsFault,
  asFault,
  type Ctx,
  isoNow,
  parseJsonBody,
  type RecordRequest,
  sendJson,
  validation,
} from './wire.ts';

export type { AwsRateLimit };

export interface AwsSandboxFaults {
  /** Every Nth Access Analyzer request answers 429 ThrottlingException with Retry-After: 1. */
  throttleEvery?: number | undefined;
  /** Per-region request rate of Access Analyzer (undefined: unlimited). Live: change it between calls. */
  rateLimit?: AwsRateLimit | undefined;
  /** Access Analyzer requests in these regions (optionally only this operation) answer 403. */
  accessDenied: { region: string; operation?: string }[];
  /**
   * Access Analyzer requests in these regions (optionally only this operation, and only requests
   * for a next page: a listing that fails half way) answer 500 InternalServerException.
   */
  internalError: { region: string; operation?: string; nextPagesOnly?: boolean }[];
  /**
   * A seeded fraction of Access Analyzer requests (any region) answer 429 ThrottlingException
   * (`throttled`, Retry-After: 1) or 500 InternalServerException (`internalError`), before acting.
   */
  random?: { seed?: number; throttled?: number; internalError?: number } | undefined;
  /**
   * The next `times` Access Analyzer requests in a region (optionally only this operation) answer 429
   * ThrottlingException with Retry-After: 1; `times` counts down as they are answered.
   */
  throttleNext?: { region: string; operation?: string; times: number }[];
}

/** What the Access Analyzer stand-in answers a request: its operation, HTTP status, JSON body and headers. */
export interface AccessAnalyzerAnswer {
  operation: string;
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

const ANALYZER_TYPES = new Set([
  'ACCOUNT',
  'ORGANIZATION',
  'ACCOUNT_UNUSED_ACCESS',
  'ORGANIZATION_UNUSED_ACCESS',
  'ACCOUNT_INTERNAL_ACCESS',
  'ORGANIZATION_INTERNAL_ACCESS',
]);
/** Analyzer and archive rule names (the model's patterns). */
const ANALYZER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,254}$/;
const RULE_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,254}$/;
/** Service quotas (IAM User Guide, "IAM and AWS STS quotas": Access Analyzer). */
export const ARCHIVE_RULES_PER_ANALYZER = 100;
/** Account-level analyzers per type per Region: 1; organization-level external or unused: 5 per type. */
const ANALYZERS_PER_TYPE = (type: string) =>
  type.startsWith('ACCOUNT') || type === 'ORGANIZATION_INTERNAL_ACCESS' ? 1 : 5;
const DEFAULT_FINDINGS_PAGE = 100;
const DEFAULT_DETAILS_PAGE = 50;
const DEFAULT_ANALYZERS_PAGE = 100;
const MAX_PAGE = 1000;

export function createAccessAnalyzer(
  data: SandboxData,
  faults: AwsSandboxFaults,
  record: RecordRequest,
  /** The policy tools' routes, tried first. */
  policyTools: (method: string, path: string) => PolicyRoute | undefined,
) {
  const takeToken = tokenBuckets(() => faults.rateLimit);
  const rules = archiveOnArrival(data);
  let requests = 0;
  let throttledCount = 0;

  const analyzerByArn = (arn: unknown, ctx: Ctx): SandboxAnalyzer => {
    if (typeof arn !== 'string' || arn === '') {
      throw validation('analyzerArn', 'analyzerArn is required', 'fieldValidationFailed');
    }
    if (!/^arn:[^:]*:access-analyzer:[^:]*:[^:]*:analyzer\/.{1,255}$/.test(arn)) {
      throw validation('analyzerArn', `Invalid analyzer ARN: ${arn}`, 'fieldValidationFailed');
    }
    const a = data.analyzers.find((x) => x.arn === arn);
    if (!a || a.region !== ctx.region || a.account !== ctx.account) {
      throw new AwsFault(404, 'ResourceNotFoundException', `Analyzer ${arn} not found.`, {
        resourceId: arn,
        resourceType: 'AWS::AccessAnalyzer::Analyzer',
      });
    }
    return a;
  };

  /**
   * A service-linked analyzer belongs to the service that manages it: its findings are read-only to
   * everyone else (AWS documents no exact error for this; the sandbox refuses with AccessDenied).
   */
  const writableAnalyzer = (a: SandboxAnalyzer, operation: string, ctx: Ctx): SandboxAnalyzer => {
    if (a.managedBy) {
      throw new AwsFault(
        403,
        'AccessDeniedException',
        `User: arn:aws:iam::${ctx.account}:user/access-patrol is not authorized to perform: access-analyzer:${operation} on resource: ${a.arn} because it is a service-linked analyzer managed by ${a.managedBy}`,
      );
    }
    return a;
  };

  /** An analyzer of this account and region by name (archive rules and GetAnalyzer name their analyzer). */
  const analyzerNamed = (name: string, ctx: Ctx, pattern = ANALYZER_NAME): SandboxAnalyzer => {
    if (!pattern.test(name)) {
      throw validation('analyzerName', `Invalid analyzer name: ${name}`, 'fieldValidationFailed');
    }
    const a = data.analyzers.find(
      (x) => x.name === name && x.region === ctx.region && x.account === ctx.account,
    );
    if (!a) {
      throw new AwsFault(404, 'ResourceNotFoundException', `Analyzer ${name} not found.`, {
        resourceId: name,
        resourceType: 'AWS::AccessAnalyzer::Analyzer',
      });
    }
    return a;
  };
  const ruleNameOf = (v: unknown): string => {
    if (typeof v !== 'string' || !RULE_NAME.test(v)) {
      throw validation('ruleName', `Invalid rule name: ${String(v)}`, 'fieldValidationFailed');
    }
    return v;
  };
  const ruleOf = (a: SandboxAnalyzer, ruleName: string): SandboxArchiveRule => {
    const rule = (a.archiveRules ?? []).find((r) => r.ruleName === ruleName);
    if (!rule) {
      throw new AwsFault(404, 'ResourceNotFoundException', `Archive rule ${ruleName} not found.`, {
        resourceId: ruleName,
        resourceType: 'AWS::AccessAnalyzer::ArchiveRule',
      });
    }
    return rule;
  };
  /** The client token each analyzer was created with, so a retried CreateAnalyzer is not a conflict. */
  const createTokens = new Map<string, string>();

  const analyzerOps = {
    ListAnalyzers(ctx: Ctx, q: URLSearchParams) {
      const type = q.get('type');
      if (type !== null && !ANALYZER_TYPES.has(type)) {
        throw validation('type', `Invalid analyzer type: ${type}`, 'fieldValidationFailed');
      }
      const all = data.analyzers.filter(
        (a) => a.region === ctx.region && a.account === ctx.account && (type === null || a.type === type),
      );
      const size = pageSize(q.get('maxResults'), DEFAULT_ANALYZERS_PAGE);
      const start = q.get('nextToken') ? decodeToken(q.get('nextToken')!, 'la', type ?? '').i : 0;
      const page = all.slice(start, start + size);
      const out: Record<string, unknown> = { analyzers: page.map((a) => analyzerJson(a, false)) };
      if (start + size < all.length) out.nextToken = encodeToken({ k: 'la', a: type ?? '', i: start + size });
      return out;
    },

    GetAnalyzer(ctx: Ctx, name: string) {
      // analyzerName is a name (pattern [A-Za-z][A-Za-z0-9_.-]*), never an ARN.
      return { analyzer: analyzerJson(analyzerNamed(name, ctx, /^[A-Za-z][A-Za-z0-9_.-]{0,254}$/), true) };
    },

    ListFindingsV2(ctx: Ctx, body: Record<string, unknown>) {
      const analyzer = analyzerByArn(body.analyzerArn, ctx);
      const matches = compileFilter(body.filter);
      const size = pageSize(body.maxResults, DEFAULT_FINDINGS_PAGE);
      const list = data.findings.forAnalyzer(analyzer.arn);
      let start = 0;
      if (body.nextToken !== undefined && body.nextToken !== null) {
        if (typeof body.nextToken !== 'string') throw badToken();
        start = resumeIndex(decodeToken(body.nextToken, 'lf', analyzer.arn), list);
      }
      const page: SandboxFinding[] = [];
      let i = start;
      for (; i < list.length && page.length < size; i++) {
        const f = list[i]!;
        if (matches(f, data)) page.push(f);
      }
      // Look ahead, so that the last page has no token.
      while (i < list.length && !matches(list[i]!, data)) i++;
      const out: Record<string, unknown> = { findings: page.map(summaryJson) };
      if (i < list.length) out.nextToken = encodeToken({ k: 'lf', a: analyzer.arn, i, l: list[i]!.id });
      return out;
    },

    GetFindingV2(ctx: Ctx, id: string, q: URLSearchParams) {
      const analyzer = analyzerByArn(q.get('analyzerArn') ?? undefined, ctx);
      const f = data.findings.get(id);
      if (!f || f.analyzerArn !== analyzer.arn) {
        throw new AwsFault(404, 'ResourceNotFoundException', `Finding ${id} not found.`, {
          resourceId: id,
          resourceType: 'AWS::AccessAnalyzer::Finding',
        });
      }
      const details = f.error ? [] : (f.details ?? data.detailsFor?.(f) ?? []);
      const size = pageSize(q.get('maxResults'), DEFAULT_DETAILS_PAGE);
      const token = q.get('nextToken');
      const start = token ? decodeToken(token, 'gf', id).i : 0;
      const out: Record<string, unknown> = {
        ...summaryJson(f),
        findingDetails: details.slice(start, start + size),
      };
      if (start + size < details.length) out.nextToken = encodeToken({ k: 'gf', a: id, i: start + size });
      return out;
    },

    UpdateFindings(ctx: Ctx, body: Record<string, unknown>) {
      const analyzer = writableAnalyzer(analyzerByArn(body.analyzerArn, ctx), 'UpdateFindings', ctx);
      if (body.status === undefined || body.status === null) {
        throw validation('status', 'status is required', 'fieldValidationFailed');
      }
      if (body.status !== 'ACTIVE' && body.status !== 'ARCHIVED') {
        throw validation('status', `Invalid status: ${String(body.status)}`, 'fieldValidationFailed');
      }
      const list = data.findings.forAnalyzer(analyzer.arn);
      let targets: SandboxFinding[];
      if (Array.isArray(body.ids)) {
        targets = body.ids.map((id) => {
          const f = data.findings.get(String(id));
          if (!f || f.analyzerArn !== analyzer.arn) {
            throw new AwsFault(404, 'ResourceNotFoundException', `Finding ${String(id)} not found.`, {
              resourceId: String(id),
              resourceType: 'AWS::AccessAnalyzer::Finding',
            });
          }
          return f;
        });
      } else if (typeof body.resourceArn === 'string') {
        targets = list.filter((f) => f.resource === body.resourceArn);
      } else {
        throw validation('ids', 'Either ids or resourceArn is required', 'fieldValidationFailed');
      }
      const now = isoNow();
      for (const f of targets) {
        if (f.status === 'RESOLVED') continue;
        f.status = body.status;
        f.updatedAt = now;
      }
      return undefined;
    },

    CreateAnalyzer(ctx: Ctx, body: Record<string, unknown>) {
      const name = body.analyzerName;
      if (typeof name !== 'string' || !ANALYZER_NAME.test(name)) {
        throw validation('analyzerName', `Invalid analyzer name: ${String(name)}`, 'fieldValidationFailed');
      }
      const type = body.type;
      if (typeof type !== 'string' || !ANALYZER_TYPES.has(type)) {
        throw validation('type', `Invalid analyzer type: ${String(type)}`, 'fieldValidationFailed');
      }
      const here = data.analyzers.filter((a) => a.region === ctx.region && a.account === ctx.account);
      const same = here.find((a) => a.name === name);
      if (same) {
        // A retry with the same client token gets the analyzer it created.
        if (typeof body.clientToken === 'string' && createTokens.get(same.arn) === body.clientToken) {
          return { arn: same.arn };
        }
        throw new AwsFault(409, 'ConflictException', `Analyzer ${name} already exists.`, {
          resourceId: name,
          resourceType: 'AWS::AccessAnalyzer::Analyzer',
        });
      }
      const ofType = here.filter((a) => a.type === type && !a.managedBy && a.status !== 'DISABLED');
      if (ofType.length >= ANALYZERS_PER_TYPE(type)) {
        throw new AwsFault(
          402,
          'ServiceQuotaExceededException',
          `The number of analyzers of type ${type} in ${ctx.region} has reached its quota (${ANALYZERS_PER_TYPE(type)}).`,
          { resourceId: name, resourceType: 'AWS::AccessAnalyzer::Analyzer' },
        );
      }
      const analyzer: SandboxAnalyzer = {
        arn: `arn:aws:access-analyzer:${ctx.region}:${ctx.account}:analyzer/${name}`,
        name,
        type,
        region: ctx.region ?? '',
        account: ctx.account,
        createdAt: isoNow(),
        status: 'ACTIVE',
        tags: (body.tags as Record<string, string> | undefined) ?? {},
        archiveRules: [],
      };
      if (body.configuration && typeof body.configuration === 'object') {
        analyzer.configuration = body.configuration as Record<string, unknown>;
      }
      data.analyzers.push(analyzer);
      if (typeof body.clientToken === 'string') createTokens.set(analyzer.arn, body.clientToken);
      return { arn: analyzer.arn };
    },

    CreateArchiveRule(ctx: Ctx, analyzerName: string, body: Record<string, unknown>) {
      const analyzer = writableAnalyzer(analyzerNamed(analyzerName, ctx), 'CreateArchiveRule', ctx);
      const ruleName = ruleNameOf(body.ruleName);
      compileFilter(body.filter, { archiveRule: true });
      analyzer.archiveRules ??= [];
      const rules = analyzer.archiveRules;
      if (rules.some((r) => r.ruleName === ruleName)) {
        throw new AwsFault(409, 'ConflictException', `Archive rule ${ruleName} already exists.`, {
          resourceId: ruleName,
          resourceType: 'AWS::AccessAnalyzer::ArchiveRule',
        });
      }
      if (rules.length >= ARCHIVE_RULES_PER_ANALYZER) {
        throw new AwsFault(
          402,
          'ServiceQuotaExceededException',
          `Analyzer ${analyzer.name} has ${rules.length} archive rules, the most allowed.`,
          { resourceId: ruleName, resourceType: 'AWS::AccessAnalyzer::ArchiveRule' },
        );
      }
      const now = isoNow();
      rules.push({
        ruleName,
        filter: structuredClone(body.filter) as SandboxArchiveRule['filter'],
        createdAt: now,
        updatedAt: now,
      });
      return undefined;
    },

    ListArchiveRules(ctx: Ctx, analyzerName: string, q: URLSearchParams) {
      const analyzer = analyzerNamed(analyzerName, ctx);
      const all = analyzer.archiveRules ?? [];
      const size = pageSize(q.get('maxResults'), DEFAULT_ANALYZERS_PAGE);
      const start = q.get('nextToken') ? decodeToken(q.get('nextToken')!, 'lr', analyzer.arn).i : 0;
      const out: Record<string, unknown> = { archiveRules: all.slice(start, start + size) };
      if (start + size < all.length)
        out.nextToken = encodeToken({ k: 'lr', a: analyzer.arn, i: start + size });
      return out;
    },

    GetArchiveRule(ctx: Ctx, analyzerName: string, ruleName: string) {
      const analyzer = analyzerNamed(analyzerName, ctx);
      return { archiveRule: ruleOf(analyzer, ruleName) };
    },

    DeleteArchiveRule(ctx: Ctx, analyzerName: string, ruleName: string) {
      const analyzer = writableAnalyzer(analyzerNamed(analyzerName, ctx), 'DeleteArchiveRule', ctx);
      const rule = ruleOf(analyzer, ruleName);
      analyzer.archiveRules = (analyzer.archiveRules ?? []).filter((r) => r !== rule);
      return undefined;
    },

    ApplyArchiveRule(ctx: Ctx, body: Record<string, unknown>) {
      const analyzer = writableAnalyzer(analyzerByArn(body.analyzerArn, ctx), 'ApplyArchiveRule', ctx);
      const rule = ruleOf(analyzer, ruleNameOf(body.ruleName));
      const matches = compileFilter(rule.filter, { archiveRule: true });
      const now = isoNow();
      for (const f of data.findings.forAnalyzer(analyzer.arn)) {
        if (f.status === 'ACTIVE' && matches(f, data)) {
          f.status = 'ARCHIVED';
          f.updatedAt = now;
        }
      }
      return undefined;
    },

    StartResourceScan(ctx: Ctx, body: Record<string, unknown>) {
      const analyzer = analyzerByArn(body.analyzerArn, ctx);
      if (analyzer.type !== 'ACCOUNT' && analyzer.type !== 'ORGANIZATION') {
        throw new AwsFault(
          400,
          'ValidationException',
          'Resource scans are supported only for external access analyzers.',
          {
            reason: 'notSupported',
          },
        );
      }
      if (typeof body.resourceArn !== 'string' || body.resourceArn === '') {
        throw validation('resourceArn', 'resourceArn is required', 'fieldValidationFailed');
      }
      return undefined;
    },
  };

  const recommendations = sandboxRecommendations(data, (f) => new AwsFault(f.status, f.code, f.message));

  /** Which Access Analyzer operation a request is, and how to run it. */
  const routeAnalyzer = (
    method: string,
    path: string,
  ): {
    operation: string;
    run: (ctx: Ctx, q: URLSearchParams, body: () => Record<string, unknown>) => unknown;
  } => {
    const seg = path.split('/').filter(Boolean).map(decodeURIComponent);
    const policyRoute = policyTools(method, path);
    if (policyRoute) return policyRoute;
    if (method === 'GET' && path === '/analyzer') {
      return { operation: 'ListAnalyzers', run: (c, q) => analyzerOps.ListAnalyzers(c, q) };
    }
    if (method === 'PUT' && path === '/analyzer') {
      return { operation: 'CreateAnalyzer', run: (c, _q, b) => analyzerOps.CreateAnalyzer(c, b()) };
    }
    if (seg[0] === 'analyzer' && seg[2] === 'archive-rule' && seg.length === 3) {
      if (method === 'PUT') {
        return {
          operation: 'CreateArchiveRule',
          run: (c, _q, b) => analyzerOps.CreateArchiveRule(c, seg[1]!, b()),
        };
      }
      if (method === 'GET') {
        return { operation: 'ListArchiveRules', run: (c, q) => analyzerOps.ListArchiveRules(c, seg[1]!, q) };
      }
    }
    if (seg[0] === 'analyzer' && seg[2] === 'archive-rule' && seg.length === 4) {
      if (method === 'GET') {
        return { operation: 'GetArchiveRule', run: (c) => analyzerOps.GetArchiveRule(c, seg[1]!, seg[3]!) };
      }
      if (method === 'DELETE') {
        return {
          operation: 'DeleteArchiveRule',
          run: (c) => analyzerOps.DeleteArchiveRule(c, seg[1]!, seg[3]!),
        };
      }
    }
    if (method === 'PUT' && path === '/archive-rule') {
      return { operation: 'ApplyArchiveRule', run: (c, _q, b) => analyzerOps.ApplyArchiveRule(c, b()) };
    }
    if (method === 'GET' && seg[0] === 'analyzer' && seg.length === 2) {
      return { operation: 'GetAnalyzer', run: (c) => analyzerOps.GetAnalyzer(c, seg[1]!) };
    }
    if (method === 'POST' && path === '/findingv2') {
      return { operation: 'ListFindingsV2', run: (c, _q, b) => analyzerOps.ListFindingsV2(c, b()) };
    }
    if (method === 'GET' && seg[0] === 'findingv2' && seg.length === 2) {
      return { operation: 'GetFindingV2', run: (c, q) => analyzerOps.GetFindingV2(c, seg[1]!, q) };
    }
    if (method === 'PUT' && path === '/finding') {
      return { operation: 'UpdateFindings', run: (c, _q, b) => analyzerOps.UpdateFindings(c, b()) };
    }
    if (method === 'POST' && path === '/resource/scan') {
      return { operation: 'StartResourceScan', run: (c, _q, b) => analyzerOps.StartResourceScan(c, b()) };
    }
    const recommendation = recommendations.route(method, seg);
    if (recommendation) {
      return {
        operation: recommendation.operation,
        run: (c, q) => {
          const a = analyzerByArn(q.get('analyzerArn') ?? undefined, c);
          if (recommendation.operation === 'GenerateFindingRecommendation') {
            writableAnalyzer(a, recommendation.operation, c);
          }
          return recommendation.run(a.arn, q);
        },
      };
    }
    return {
      operation: `Unknown:${method} ${path}`,
      run: () => {
        throw new AwsFault(
          404,
          'UnknownOperationException',
          `The sandbox does not implement ${method} ${path}.`,
        );
      },
    };
  };

  let draw: (() => number) | undefined;
  let drawSeed: number | undefined;
  /** The answer to one request, without a transport (the HTTP server and tests' interceptors write it). */
  const answer = (method: string, url: URL, ctx: Ctx, raw: string): AccessAnalyzerAnswer => {
    const route = routeAnalyzer(method, url.pathname);
    const entry = record('access-analyzer', route.operation, ctx);
    requests++;
    rules.arrive();
    try {
      const random = faults.random;
      if (random && (random.throttled || random.internalError)) {
        if (!draw || drawSeed !== (random.seed ?? 1)) {
          drawSeed = random.seed ?? 1;
          draw = seededRandom(drawSeed);
        }
        const r = draw();
        if (r < (random.throttled ?? 0)) {
          throw new AwsFault(429, 'ThrottlingException', 'Rate exceeded', {}, { 'Retry-After': '1' });
        }
        if (r < (random.throttled ?? 0) + (random.internalError ?? 0)) {
          throw new AwsFault(500, 'InternalServerException', 'Internal server error');
        }
      }
      if (faults.throttleEvery && requests % faults.throttleEvery === 0) {
        throw new AwsFault(429, 'ThrottlingException', 'Rate exceeded', {}, { 'Retry-After': '1' });
      }
      const next = faults.throttleNext?.find(
        (t) => t.times > 0 && t.region === ctx.region && (!t.operation || t.operation === route.operation),
      );
      if (next) {
        next.times--;
        throw new AwsFault(429, 'ThrottlingException', 'Rate exceeded', {}, { 'Retry-After': '1' });
      }
      const wait = takeToken(ctx.region ?? '');
      if (wait !== undefined) {
        throw new AwsFault(429, 'ThrottlingException', 'Rate exceeded', {}, { 'Retry-After': String(wait) });
      }
      if (
        faults.accessDenied.some(
          (d) => d.region === ctx.region && (!d.operation || d.operation === route.operation),
        )
      ) {
        throw new AwsFault(
          403,
          'AccessDeniedException',
          `User: arn:aws:iam::${ctx.account}:user/access-patrol is not authorized to perform: access-analyzer:${route.operation} in region ${ctx.region}`,
        );
      }
      const body = () => parseJsonBody(raw);
      if (
        faults.internalError.some(
          (f) =>
            f.region === ctx.region &&
            (!f.operation || f.operation === route.operation) &&
            (!f.nextPagesOnly || url.searchParams.has('nextToken') || /"nextToken"\s*:\s*"/.test(raw)),
        )
      ) {
        throw new AwsFault(500, 'InternalServerException', 'Internal server error');
      }
      const out = route.run(ctx, url.searchParams, body);
      entry.status = 200;
      return { operation: route.operation, status: 200, body: out ?? {}, headers: {} };
    } catch (err) {
      const f = asFault(err);
      entry.status = f.status;
      if (f.code === 'ThrottlingException') throttledCount++;
      return {
        operation: route.operation,
        status: f.status,
        body: { message: f.message, ...f.extra },
        headers: { 'x-amzn-ErrorType': f.code, ...f.headers },
      };
    } finally {
      rules.settle();
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse, ctx: Ctx, url: URL, raw: string) => {
    const a = answer(req.method ?? 'GET', url, ctx, raw);
    sendJson(res, a.status, a.body, 'application/json', a.headers);
  };

  return {
    answer,
    handle,
    /** Requests answered 429 ThrottlingException so far. */
    throttled: () => throttledCount,
  };
}

function badToken(): AwsFault {
  return validation('nextToken', 'Invalid pagination token', 'fieldValidationFailed');
}

function pageSize(v: unknown, dflt: number): number {
  if (v === null || v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw validation('maxResults', `Invalid maxResults: ${String(v)}`, 'fieldValidationFailed');
  return Math.min(n, MAX_PAGE);
}

interface Token {
  /** kind: la (ListAnalyzers), lf (ListFindingsV2), gf (GetFindingV2), lr (ListArchiveRules) */
  k: string;
  /** what the token belongs to: analyzer type, analyzer ARN, finding id */
  a: string;
  i: number;
  /** id of the finding at index i when issued, to resume correctly after removals */
  l?: string;
}

function encodeToken(t: Token): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

function decodeToken(s: string, kind: string, owner: string): Token {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Token;
    if (t.k === kind && t.a === owner && Number.isInteger(t.i) && t.i >= 0) return t;
  } catch {
    // fall through
  }
  throw badToken();
}

function resumeIndex(t: Token, list: readonly SandboxFinding[]): number {
  if (t.l === undefined || list[t.i]?.id === t.l) return Math.min(t.i, list.length);
  // The list changed since the token was issued: resume at the finding it pointed to, if still there.
  const j = list.findIndex((f) => f.id === t.l);
  return j >= 0 ? j : Math.min(t.i, list.length);
}

function summaryJson(f: SandboxFinding): Record<string, unknown> {
  const out: Record<string, unknown> = {
    analyzedAt: f.analyzedAt,
    createdAt: f.createdAt,
    id: f.id,
    resource: f.resource,
    resourceType: f.resourceType,
    resourceOwnerAccount: f.resourceOwnerAccount,
    status: f.status,
    updatedAt: f.updatedAt,
    findingType: f.findingType,
  };
  if (f.error !== undefined) out.error = f.error;
  return out;
}

function analyzerJson(a: SandboxAnalyzer, withConfiguration: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    arn: a.arn,
    name: a.name,
    type: a.type,
    createdAt: a.createdAt,
    status: a.status,
    tags: a.tags ?? {},
  };
  if (a.lastResourceAnalyzed) out.lastResourceAnalyzed = a.lastResourceAnalyzed;
  if (a.lastResourceAnalyzedAt) out.lastResourceAnalyzedAt = a.lastResourceAnalyzedAt;
  if (a.statusReason) out.statusReason = { code: a.statusReason };
  if (a.managedBy) out.managedBy = a.managedBy;
  if (withConfiguration && a.configuration) out.configuration = a.configuration;
  return out;
}
