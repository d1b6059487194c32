// A local AWS that speaks the wire protocols the real SDK v3 clients use: Access Analyzer (REST-JSON),
// IAM and STS (awsQuery, XML responses) and the Resource Groups Tagging API (JSON 1.1). One node:http
// server on 127.0.0.1 serves all four; point the clients at it with `endpoint` or AWS_ENDPOINT_URL_*.
//
// The region of a request comes from the SigV4 credential scope, the account from the access key id:
// keys issued by AssumeRole encode the assumed account (`ASIA<account>XXXX`), any other key is
// `data.callerAccount`. Signatures are not checked.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPolicySandbox } from './aws-policy.ts';
import { sandboxRecommendations } from './recommendations.ts';
import type {
  SandboxAnalyzer,
  SandboxData,
  SandboxFinding,
  SandboxInstanceProfile,
  SandboxResource,
  SandboxRole,
  SandboxUser,
} from './types.ts';

export * from './types.ts';

/**
 * Access Analyzer's request rate, per region, as a token bucket: `burst` requests at once, refilled
 * at `perSecond`. A request that finds the bucket empty answers 429 ThrottlingException as AWS
 * does on the wire (x-amzn-ErrorType, a JSON `message`, Retry-After in whole seconds).
 */
export interface AwsRateLimit {
  perSecond: number;
  /** Bucket size; default `perSecond` (at least 1). */
  burst?: number;
}

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
}

export interface AwsSandboxOptions {
  port?: number;
  data: SandboxData;
  throttleEvery?: number;
  /** Access Analyzer answers 429 above this per-region request rate. */
  rateLimit?: AwsRateLimit;
  accessDenied?: { region: string; operation?: string }[];
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

const IAM_NS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const TAGGING_PREFIX = 'ResourceGroupsTaggingAPI_20170126.';
const ANALYZER_TYPES = new Set([
  'ACCOUNT',
  'ORGANIZATION',
  'ACCOUNT_UNUSED_ACCESS',
  'ORGANIZATION_UNUSED_ACCESS',
  'ACCOUNT_INTERNAL_ACCESS',
  'ORGANIZATION_INTERNAL_ACCESS',
]);
const FINDING_STATUSES = new Set(['ACTIVE', 'ARCHIVED', 'RESOLVED']);
const DEFAULT_FINDINGS_PAGE = 100;
const DEFAULT_DETAILS_PAGE = 50;
const DEFAULT_ANALYZERS_PAGE = 100;
const MAX_PAGE = 1000;

/** An error answer; thrown by handlers, written by the dispatcher in the service's own format. */
class AwsFault extends Error {
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

interface Ctx {
  region: string | undefined;
  account: string;
  accessKeyId: string | undefined;
  scopeService: string | undefined;
}

interface Issued {
  account: string;
  roleName: string;
  sessionName: string;
}

export async function startAwsSandbox(opts: AwsSandboxOptions): Promise<AwsSandbox> {
  const data = opts.data;
  const requests: AwsRequestRecord[] = [];
  const faults: AwsSandboxFaults = {
    throttleEvery: opts.throttleEvery,
    rateLimit: opts.rateLimit,
    accessDenied: [...(opts.accessDenied ?? [])],
    internalError: [],
  };
  const buckets = new Map<string, { tokens: number; at: number }>();
  /** Takes a token from the region's bucket; the seconds to wait when there is none. */
  const takeToken = (region: string): number | undefined => {
    const limit = faults.rateLimit;
    if (!limit || !(limit.perSecond > 0)) return undefined;
    const size = Math.max(1, limit.burst ?? limit.perSecond);
    const now = performance.now();
    const b = buckets.get(region) ?? { tokens: size, at: now };
    b.tokens = Math.min(size, b.tokens + ((now - b.at) / 1000) * limit.perSecond);
    b.at = now;
    buckets.set(region, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / limit.perSecond));
  };
  let throttledCount = 0;
  const issued = new Map<string, Issued>();
  let analyzerRequests = 0;
  const policyTools = createPolicySandbox(
    data,
    (status, code, message, extra) => new AwsFault(status, code, message, extra),
  );

  const accountOfKey = (akid: string | undefined): string => {
    if (!akid) return data.callerAccount;
    const hit = issued.get(akid);
    if (hit) return hit.account;
    const m = /^ASIA(\d{12})/.exec(akid);
    if (m && data.accounts.some((a) => a.id === m[1])) return m[1]!;
    return data.callerAccount;
  };

  // ---------------------------------------------------------------- Access Analyzer (REST-JSON)

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
      if (!/^[A-Za-z][A-Za-z0-9_.-]{0,254}$/.test(name)) {
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
      return { analyzer: analyzerJson(a, true) };
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
    const policyRoute = policyTools.route(method, path);
    if (policyRoute) return policyRoute;
    if (method === 'GET' && path === '/analyzer') {
      return { operation: 'ListAnalyzers', run: (c, q) => analyzerOps.ListAnalyzers(c, q) };
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

  const handleAnalyzer = (req: IncomingMessage, res: ServerResponse, ctx: Ctx, url: URL, raw: string) => {
    const route = routeAnalyzer(req.method ?? 'GET', url.pathname);
    const record = rec('access-analyzer', route.operation, ctx);
    analyzerRequests++;
    try {
      if (faults.throttleEvery && analyzerRequests % faults.throttleEvery === 0) {
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
      record.status = 200;
      sendJson(res, 200, out ?? {}, 'application/json');
    } catch (err) {
      const f = asFault(err);
      record.status = f.status;
      if (f.code === 'ThrottlingException') throttledCount++;
      sendJson(res, f.status, { message: f.message, ...f.extra }, 'application/json', {
        'x-amzn-ErrorType': f.code,
        ...f.headers,
      });
    }
  };

  // ---------------------------------------------------------------- IAM and STS (awsQuery)

  /** `account|name` of generated (lookupRole) roles deleted since start: lookupRole must not revive them. */
  const deletedRoles = new Set<string>();

  const roleOf = (ctx: Ctx, name: string | undefined): SandboxRole => {
    if (!name) throw new AwsFault(400, 'ValidationError', 'RoleName is required', {}, {});
    const found =
      data.roles.find((r) => r.name === name && r.account === ctx.account) ??
      (deletedRoles.has(`${ctx.account}|${name}`) ? undefined : data.lookupRole?.(ctx.account, name)) ??
      (data.strictAccounts ? undefined : data.roles.find((r) => r.name === name));
    if (!found) throw new AwsFault(404, 'NoSuchEntity', `The role with name ${name} cannot be found.`);
    return found;
  };

  const userOf = (ctx: Ctx, name: string | undefined): SandboxUser => {
    if (!name) throw new AwsFault(400, 'ValidationError', 'UserName is required');
    const found =
      data.users.find((u) => u.name === name && u.account === ctx.account) ??
      data.lookupUser?.(ctx.account, name) ??
      (data.strictAccounts ? undefined : data.users.find((u) => u.name === name));
    if (!found) throw new AwsFault(404, 'NoSuchEntity', `The user with name ${name} cannot be found.`);
    return found;
  };

  /** An IAM handler returns the inner XML of `<OpResult>`, or null for operations with no result. */
  const iamOps: Record<string, (ctx: Ctx, p: URLSearchParams) => string | null> = {
    GetRole(ctx, p) {
      return `<Role>${roleXml(roleOf(ctx, p.get('RoleName') ?? undefined))}</Role>`;
    },
    ListRoleTags(ctx, p) {
      const role = roleOf(ctx, p.get('RoleName') ?? undefined);
      return tagPageXml(role.tags, p);
    },
    GetUser(ctx, p) {
      const u = userOf(ctx, p.get('UserName') ?? undefined);
      return `<User>${userXml(u)}</User>`;
    },
    ListUserTags(ctx, p) {
      const u = userOf(ctx, p.get('UserName') ?? undefined);
      return tagPageXml(u.tags, p);
    },

    ListAttachedRolePolicies(ctx, p) {
      const role = roleOf(ctx, p.get('RoleName') ?? undefined);
      const { page, tail } = listPage(role.attachedPolicies ?? [], p, 'ap');
      const members = page
        .map(
          (arn) =>
            `<member><PolicyName>${xml(policyNameOf(arn))}</PolicyName><PolicyArn>${xml(arn)}</PolicyArn></member>`,
        )
        .join('');
      return `<AttachedPolicies>${members}</AttachedPolicies>${tail}`;
    },
    ListRolePolicies(ctx, p) {
      const role = roleOf(ctx, p.get('RoleName') ?? undefined);
      const { page, tail } = listPage(Object.keys(role.inlinePolicies ?? {}), p, 'rp');
      return `<PolicyNames>${page.map((n) => `<member>${xml(n)}</member>`).join('')}</PolicyNames>${tail}`;
    },
    GetRolePolicy(ctx, p) {
      const role = roleOf(ctx, p.get('RoleName') ?? undefined);
      const name = required(p, 'PolicyName');
      const doc = role.inlinePolicies?.[name];
      if (!doc) throw noSuchRolePolicy(name);
      return (
        `<RoleName>${xml(role.name)}</RoleName><PolicyName>${xml(name)}</PolicyName>` +
        `<PolicyDocument>${xml(encodeURIComponent(JSON.stringify(doc)))}</PolicyDocument>`
      );
    },
    ListInstanceProfilesForRole(ctx, p) {
      const role = roleOf(ctx, p.get('RoleName') ?? undefined);
      const { page, tail } = listPage(profilesOfRole(role), p, 'ip');
      return `<InstanceProfiles>${page.map((ip) => `<member>${profileXml(ip)}</member>`).join('')}</InstanceProfiles>${tail}`;
    },
    GetInstanceProfile(ctx, p) {
      return `<InstanceProfile>${profileXml(profileOf(ctx.account, required(p, 'InstanceProfileName')))}</InstanceProfile>`;
    },

    RemoveRoleFromInstanceProfile(ctx, p) {
      const role = roleOf(ctx, p.get('RoleName') ?? undefined);
      const profile = profileOf(role.account, required(p, 'InstanceProfileName'));
      if (!profile.roles.includes(role.name)) {
        throw new AwsFault(404, 'NoSuchEntity', `The role with name ${role.name} cannot be found.`);
      }
      if (isServiceLinked(role)) throw unmodifiable(role);
      profile.roles = profile.roles.filter((n) => n !== role.name);
      return null;
    },
    DetachRolePolicy(ctx, p) {
      const role = mutableRoleOf(ctx, p.get('RoleName') ?? undefined);
      const arn = required(p, 'PolicyArn');
      if (!(role.attachedPolicies ?? []).includes(arn)) {
        throw new AwsFault(404, 'NoSuchEntity', `Policy ${arn} was not found.`);
      }
      role.attachedPolicies = (role.attachedPolicies ?? []).filter((a) => a !== arn);
      return null;
    },
    DeleteRolePolicy(ctx, p) {
      const role = mutableRoleOf(ctx, p.get('RoleName') ?? undefined);
      const name = required(p, 'PolicyName');
      if (!role.inlinePolicies?.[name]) throw noSuchRolePolicy(name);
      delete role.inlinePolicies[name];
      return null;
    },
    DeleteRole(ctx, p) {
      const role = mutableRoleOf(ctx, p.get('RoleName') ?? undefined);
      const conflict = (what: string) =>
        new AwsFault(409, 'DeleteConflict', `Cannot delete entity, must ${what} first.`);
      if (profilesOfRole(role).length > 0) throw conflict('remove roles from instance profile');
      if ((role.attachedPolicies ?? []).length > 0) throw conflict('detach all policies');
      if (Object.keys(role.inlinePolicies ?? {}).length > 0) throw conflict('delete policies');
      data.roles.splice(data.roles.indexOf(role), 1);
      deletedRoles.add(`${role.account}|${role.name}`);
      return null;
    },

    CreateRole(ctx, p) {
      const name = required(p, 'RoleName');
      if (!/^[\w+=,.@-]{1,64}$/.test(name)) {
        throw new AwsFault(
          400,
          'ValidationError',
          `1 validation error detected: Value '${name}' at 'roleName' failed to satisfy constraint`,
        );
      }
      const path = p.get('Path') ?? '/';
      if (!/^\/([\x21-\x7e]*\/)?$/.test(path)) {
        throw new AwsFault(
          400,
          'ValidationError',
          `1 validation error detected: Value '${path}' at 'path' failed to satisfy constraint`,
        );
      }
      if (
        data.roles.some((r) => r.account === ctx.account && r.name === name) ||
        (!deletedRoles.has(`${ctx.account}|${name}`) && data.lookupRole?.(ctx.account, name))
      ) {
        throw new AwsFault(409, 'EntityAlreadyExists', `Role with name ${name} already exists.`);
      }
      const role: SandboxRole = {
        account: ctx.account,
        name,
        path,
        roleId: `AROA${randomChars(17)}`,
        createDate: isoNow(),
        assumeRolePolicyDocument: policyDocument(required(p, 'AssumeRolePolicyDocument')),
        maxSessionDuration: 3600,
      };
      const description = p.get('Description');
      if (description !== null) role.description = description;
      const duration = p.get('MaxSessionDuration');
      if (duration !== null) {
        const n = Number(duration);
        if (!Number.isInteger(n) || n < 3600 || n > 43_200) {
          throw new AwsFault(
            400,
            'ValidationError',
            `1 validation error detected: Value '${duration}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200`,
          );
        }
        role.maxSessionDuration = n;
      }
      const boundary = p.get('PermissionsBoundary');
      if (boundary !== null) role.permissionsBoundaryArn = policyArn(boundary);
      const tags = memberList(p, 'Tags');
      if (tags.length > 50)
        throw new AwsFault(409, 'LimitExceeded', 'Cannot exceed quota for TagsPerRole: 50.');
      if (tags.length > 0) {
        role.tags = Object.fromEntries(tags.map((t) => [t.Key ?? '', t.Value ?? '']));
      }
      deletedRoles.delete(`${ctx.account}|${name}`);
      data.roles.push(role);
      return `<Role>${roleXml(role)}</Role>`;
    },
    PutRolePolicy(ctx, p) {
      const role = mutableRoleOf(ctx, p.get('RoleName') ?? undefined);
      const name = required(p, 'PolicyName');
      const doc = policyDocument(required(p, 'PolicyDocument'));
      if (isServiceLinked(role)) throw unmodifiable(role);
      role.inlinePolicies = { ...role.inlinePolicies, [name]: doc };
      return null;
    },
    AttachRolePolicy(ctx, p) {
      const role = mutableRoleOf(ctx, p.get('RoleName') ?? undefined);
      const arn = policyArn(required(p, 'PolicyArn'));
      if (isServiceLinked(role)) throw unmodifiable(role);
      const attached = role.attachedPolicies ?? [];
      if (!attached.includes(arn)) {
        if (attached.length >= 20) {
          throw new AwsFault(409, 'LimitExceeded', 'Cannot exceed quota for PoliciesPerRole: 20');
        }
        role.attachedPolicies = [...attached, arn];
      }
      return null;
    },
    CreateInstanceProfile(ctx, p) {
      const name = required(p, 'InstanceProfileName');
      data.instanceProfiles ??= [];
      const profiles = data.instanceProfiles;
      if (profiles.some((ip) => ip.account === ctx.account && ip.name === name)) {
        throw new AwsFault(409, 'EntityAlreadyExists', `Instance Profile ${name} already exists.`);
      }
      const profile: SandboxInstanceProfile = {
        account: ctx.account,
        name,
        path: p.get('Path') ?? '/',
        instanceProfileId: `AIPA${randomChars(17)}`,
        createDate: isoNow(),
        roles: [],
      };
      profiles.push(profile);
      return `<InstanceProfile>${profileXml(profile)}</InstanceProfile>`;
    },
    AddRoleToInstanceProfile(ctx, p) {
      const role = roleOf(ctx, p.get('RoleName') ?? undefined);
      const profile = profileOf(role.account, required(p, 'InstanceProfileName'));
      if (profile.roles.length > 0) {
        throw new AwsFault(
          409,
          'LimitExceeded',
          'Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1',
        );
      }
      profile.roles.push(role.name);
      return null;
    },
  };

  /** A role about to change: generated (lookupRole) roles are kept from now on, so the change sticks. */
  const mutableRoleOf = (ctx: Ctx, name: string | undefined): SandboxRole => {
    const role = roleOf(ctx, name);
    if (isServiceLinked(role)) throw unmodifiable(role);
    if (!data.roles.includes(role)) data.roles.push(role);
    return role;
  };

  const profileOf = (account: string, name: string): SandboxInstanceProfile => {
    const all = data.instanceProfiles ?? [];
    const found =
      all.find((ip) => ip.account === account && ip.name === name) ??
      (data.strictAccounts ? undefined : all.find((ip) => ip.name === name));
    if (!found) throw new AwsFault(404, 'NoSuchEntity', `Instance Profile ${name} cannot be found.`);
    return found;
  };

  const profilesOfRole = (role: SandboxRole): SandboxInstanceProfile[] =>
    (data.instanceProfiles ?? []).filter((ip) => ip.account === role.account && ip.roles.includes(role.name));

  const profileXml = (ip: SandboxInstanceProfile): string => {
    const path = ip.path ?? '/';
    const roles = ip.roles
      .map((n) => data.roles.find((r) => r.account === ip.account && r.name === n))
      .filter((r): r is SandboxRole => r !== undefined);
    return (
      `<Path>${xml(path)}</Path><InstanceProfileName>${xml(ip.name)}</InstanceProfileName>` +
      `<InstanceProfileId>${xml(ip.instanceProfileId ?? `AIPA${ip.account}${idSuffix(ip.name)}`)}</InstanceProfileId>` +
      `<Arn>arn:aws:iam::${ip.account}:instance-profile${xml(path)}${xml(ip.name)}</Arn>` +
      `<CreateDate>${ip.createDate}</CreateDate>` +
      `<Roles>${roles.map((r) => `<member>${roleXml(r)}</member>`).join('')}</Roles>`
    );
  };

  const stsOps: Record<string, (ctx: Ctx, p: URLSearchParams) => string> = {
    GetCallerIdentity(ctx) {
      const hit = ctx.accessKeyId ? issued.get(ctx.accessKeyId) : undefined;
      if (hit) {
        return (
          `<Arn>arn:aws:sts::${hit.account}:assumed-role/${xml(hit.roleName)}/${xml(hit.sessionName)}</Arn>` +
          `<UserId>AROA${hit.account}EXAMPLE:${xml(hit.sessionName)}</UserId><Account>${hit.account}</Account>`
        );
      }
      const user = data.callerUserName ?? 'access-patrol';
      return (
        `<Arn>arn:aws:iam::${ctx.account}:user/${xml(user)}</Arn>` +
        `<UserId>AIDA${ctx.account}EXAMPLE</UserId><Account>${ctx.account}</Account>`
      );
    },
    AssumeRole(ctx, p) {
      const roleArn = p.get('RoleArn') ?? '';
      const session = p.get('RoleSessionName') ?? '';
      if (!/^[\w+=,.@-]{2,64}$/.test(session)) {
        throw new AwsFault(
          400,
          'ValidationError',
          `1 validation error detected: Value '${session}' at 'roleSessionName' failed to satisfy constraint`,
        );
      }
      const duration = Number(p.get('DurationSeconds') ?? 3600);
      if (!Number.isInteger(duration) || duration < 900 || duration > 43_200) {
        throw new AwsFault(
          400,
          'ValidationError',
          `The requested DurationSeconds ${duration} exceeds the allowed range`,
        );
      }
      const m = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
      const denied = () =>
        new AwsFault(
          403,
          'AccessDenied',
          `User: arn:aws:iam::${ctx.account}:user/${data.callerUserName ?? 'access-patrol'} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
        );
      if (!m) throw new AwsFault(400, 'ValidationError', `${roleArn} is invalid`);
      const [, account, roleName] = m as unknown as [string, string, string];
      if (!data.accounts.some((a) => a.id === account)) throw denied();
      const member = data.memberRole;
      if (member) {
        if (roleName !== member.name) throw denied();
        if (member.externalId !== undefined && p.get('ExternalId') !== member.externalId) throw denied();
      } else if (!data.roles.some((r) => r.account === account && r.name === roleName)) {
        throw denied();
      }
      const akid = `ASIA${account}${randomChars(4)}`;
      issued.set(akid, { account, roleName, sessionName: session });
      const expiration = new Date(Date.now() + duration * 1000).toISOString();
      return (
        `<AssumedRoleUser><AssumedRoleId>AROA${account}EXAMPLE:${xml(session)}</AssumedRoleId>` +
        `<Arn>arn:aws:sts::${account}:assumed-role/${xml(roleName)}/${xml(session)}</Arn></AssumedRoleUser>` +
        `<Credentials><AccessKeyId>${akid}</AccessKeyId>` +
        `<SecretAccessKey>${randomBytes(30).toString('base64')}</SecretAccessKey>` +
        `<SessionToken>${randomBytes(96).toString('base64')}</SessionToken>` +
        `<Expiration>${expiration}</Expiration></Credentials><PackedPolicySize>0</PackedPolicySize>`
      );
    },
  };

  const policyIamOps = policyTools.iamOps(xml);

  const handleQuery = (res: ServerResponse, ctx: Ctx, raw: string) => {
    const p = new URLSearchParams(raw);
    const action = p.get('Action') ?? '';
    const isSts =
      ctx.scopeService === 'sts' || (ctx.scopeService !== 'iam' && p.get('Version') === '2011-06-15');
    const service = isSts ? 'sts' : 'iam';
    const ns = isSts ? STS_NS : IAM_NS;
    const record = rec(service, action || 'Unknown', ctx);
    const requestId = randomUUID();
    try {
      const op = (isSts ? stsOps : { ...policyIamOps, ...iamOps })[action];
      if (!op)
        throw new AwsFault(
          400,
          'InvalidAction',
          `Could not find operation ${action} for version ${p.get('Version')}`,
        );
      const inner = op(ctx, p);
      record.status = 200;
      sendXml(
        res,
        200,
        `<${action}Response xmlns="${ns}">` +
          (inner === null ? '' : `<${action}Result>${inner}</${action}Result>`) +
          `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
      );
    } catch (err) {
      const f = asFault(err);
      record.status = f.status;
      sendXml(
        res,
        f.status,
        `<ErrorResponse xmlns="${ns}"><Error><Type>${f.status >= 500 ? 'Receiver' : 'Sender'}</Type>` +
          `<Code>${xml(f.code)}</Code><Message>${xml(f.message)}</Message></Error>` +
          `<RequestId>${requestId}</RequestId></ErrorResponse>`,
      );
    }
  };

  // ---------------------------------------------------------------- Resource Groups Tagging API (JSON 1.1)

  const resourceOf = (arn: string): SandboxResource | undefined =>
    data.resources[arn] ?? data.lookupResource?.(arn);

  const visible = (r: SandboxResource, ctx: Ctx) =>
    (r.region === undefined || r.region === ctx.region) &&
    (!data.strictAccounts || r.account === ctx.account);

  const handleTagging = (res: ServerResponse, ctx: Ctx, target: string, raw: string) => {
    const operation = target.startsWith(TAGGING_PREFIX) ? target.slice(TAGGING_PREFIX.length) : target;
    const record = rec('tagging', operation, ctx);
    try {
      if (operation !== 'GetResources') {
        throw new AwsFault(400, 'UnknownOperationException', `The sandbox does not implement ${target}`);
      }
      const body = parseJsonBody(raw);
      const mappings: { ResourceARN: string; Tags: { Key: string; Value: string }[] }[] = [];
      const toTags = (t: Record<string, string>) => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));
      if (Array.isArray(body.ResourceARNList)) {
        if (body.ResourceARNList.length > 100) {
          throw new AwsFault(400, 'InvalidParameterException', 'ResourceARNList can hold at most 100 ARNs');
        }
        for (const arn of body.ResourceARNList) {
          const r = resourceOf(String(arn));
          if (r && visible(r, ctx)) mappings.push({ ResourceARN: String(arn), Tags: toTags(r.tags) });
        }
      } else {
        const filters = Array.isArray(body.TagFilters)
          ? (body.TagFilters as { Key?: string; Values?: string[] }[])
          : [];
        for (const [arn, r] of Object.entries(data.resources)) {
          if (!visible(r, ctx)) continue;
          const ok = filters.every(
            (f) =>
              f.Key !== undefined &&
              f.Key in r.tags &&
              (!f.Values?.length || f.Values.includes(r.tags[f.Key]!)),
          );
          if (ok) mappings.push({ ResourceARN: arn, Tags: toTags(r.tags) });
        }
      }
      record.status = 200;
      sendJson(
        res,
        200,
        { PaginationToken: '', ResourceTagMappingList: mappings },
        'application/x-amz-json-1.1',
      );
    } catch (err) {
      const f = asFault(err);
      record.status = f.status;
      sendJson(res, f.status, { __type: f.code, Message: f.message }, 'application/x-amz-json-1.1', {
        'x-amzn-ErrorType': f.code,
      });
    }
  };

  // ---------------------------------------------------------------- dispatch

  const rec = (service: string, operation: string, ctx: Ctx): AwsRequestRecord => {
    const r: AwsRequestRecord = { service, operation, account: ctx.account, status: 0 };
    if (ctx.region !== undefined) r.region = ctx.region;
    requests.push(r);
    return r;
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://sandbox');
      const scope = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(
        String(req.headers.authorization ?? ''),
      );
      const ctx: Ctx = {
        region: scope?.[2],
        accessKeyId: scope?.[1],
        scopeService: scope?.[3],
        account: accountOfKey(scope?.[1]),
      };
      try {
        const target = req.headers['x-amz-target'];
        if (typeof target === 'string') handleTagging(res, ctx, target, raw);
        else if (req.method === 'POST' && url.pathname === '/' && /^Action=|&Action=/.test(raw)) {
          handleQuery(res, ctx, raw);
        } else handleAnalyzer(req, res, ctx, url, raw);
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
    throttled: () => throttledCount,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

// -------------------------------------------------------------------- helpers

function validation(field: string, message: string, reason: string): AwsFault {
  return new AwsFault(400, 'ValidationException', message, { reason, fieldList: [{ name: field, message }] });
}

function badToken(): AwsFault {
  return validation('nextToken', 'Invalid pagination token', 'fieldValidationFailed');
}

function asFault(err: unknown): AwsFault {
  if (err instanceof AwsFault) return err;
  return new AwsFault(500, 'InternalServerException', `sandbox error: ${String(err)}`);
}

function parseJsonBody(raw: string): Record<string, unknown> {
  if (raw.trim() === '') return {};
  try {
    const v = JSON.parse(raw) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new AwsFault(400, 'ValidationException', 'Could not parse request body', { reason: 'cannotParse' });
}

function pageSize(v: unknown, dflt: number): number {
  if (v === null || v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw validation('maxResults', `Invalid maxResults: ${String(v)}`, 'fieldValidationFailed');
  return Math.min(n, MAX_PAGE);
}

interface Token {
  /** kind: la (ListAnalyzers), lf (ListFindingsV2), gf (GetFindingV2) */
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

const SUMMARY_FIELDS = new Set([
  'id',
  'resource',
  'resourceType',
  'resourceOwnerAccount',
  'status',
  'findingType',
  'error',
]);
const DETAIL_KEYS = /^(isPublic|principal\..+|condition\..+|resourceControlPolicyRestriction)$/;

type Criterion = { eq?: string[]; neq?: string[]; contains?: string[]; exists?: boolean };

/** ListFindingsV2 `filter` → predicate. Summary keys, plus isPublic/principal.*\/condition.* from the details. */
function compileFilter(filter: unknown): (f: SandboxFinding, data: SandboxData) => boolean {
  if (filter === undefined || filter === null) return () => true;
  if (typeof filter !== 'object' || Array.isArray(filter))
    throw validation('filter', 'Invalid filter', 'fieldValidationFailed');
  const tests: ((f: SandboxFinding, data: SandboxData) => boolean)[] = [];
  for (const [key, raw] of Object.entries(filter as Record<string, Criterion>)) {
    if (!SUMMARY_FIELDS.has(key) && !DETAIL_KEYS.test(key)) {
      throw validation(`filter.${key}`, `Invalid filter key: ${key}`, 'fieldValidationFailed');
    }
    const c = raw ?? {};
    for (const op of ['eq', 'neq', 'contains'] as const) {
      const list = c[op];
      if (list === undefined) continue;
      if (!Array.isArray(list) || list.length < 1 || list.length > 20) {
        throw validation(`filter.${key}.${op}`, `${op} takes 1 to 20 values`, 'fieldValidationFailed');
      }
      if (key === 'status' && list.some((s) => !FINDING_STATUSES.has(s))) {
        throw validation('filter.status', `Invalid status value: ${list.join(',')}`, 'fieldValidationFailed');
      }
    }
    const valuesOf = (f: SandboxFinding, data: SandboxData): string[] => {
      if (SUMMARY_FIELDS.has(key)) {
        const v = (f as unknown as Record<string, unknown>)[key];
        return v === undefined ? [] : [String(v)];
      }
      const details = f.details ?? data.detailsFor?.(f) ?? [];
      const out: string[] = [];
      for (const d of details) {
        const inner = (d.externalAccessDetails ?? d.internalAccessDetails) as
          | Record<string, unknown>
          | undefined;
        if (!inner) continue;
        if (key === 'isPublic') out.push(String(inner.isPublic === true));
        else if (key === 'resourceControlPolicyRestriction') {
          if (inner.resourceControlPolicyRestriction !== undefined)
            out.push(String(inner.resourceControlPolicyRestriction));
        } else {
          const [group, ...rest] = key.split('.');
          const obj = inner[group!] as Record<string, unknown> | undefined;
          const v = obj?.[rest.join('.')];
          if (v !== undefined) out.push(...(Array.isArray(v) ? v.map(String) : [String(v)]));
        }
      }
      return out;
    };
    tests.push((f, data) => {
      const values = valuesOf(f, data);
      if (c.eq && !values.some((v) => c.eq!.includes(v))) return false;
      if (c.neq && values.some((v) => c.neq!.includes(v))) return false;
      if (c.contains && !values.some((v) => c.contains!.some((s) => v.includes(s)))) return false;
      if (c.exists !== undefined && values.length > 0 !== c.exists) return false;
      return true;
    });
  }
  return (f, data) => tests.every((t) => t(f, data));
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

function xml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`,
  );
}

function tagsXml(tags: Record<string, string> | undefined): string {
  return Object.entries(tags ?? {})
    .map(([k, v]) => `<member><Key>${xml(k)}</Key><Value>${xml(v)}</Value></member>`)
    .join('');
}

function roleXml(r: SandboxRole): string {
  const path = r.path ?? '/';
  let s =
    `<Path>${xml(path)}</Path><RoleName>${xml(r.name)}</RoleName>` +
    `<RoleId>${xml(r.roleId ?? `AROA${r.account}${idSuffix(r.name)}`)}</RoleId>` +
    `<Arn>arn:aws:iam::${r.account}:role${xml(path)}${xml(r.name)}</Arn>` +
    `<CreateDate>${r.createDate}</CreateDate>`;
  if (r.assumeRolePolicyDocument) {
    s += `<AssumeRolePolicyDocument>${xml(encodeURIComponent(JSON.stringify(r.assumeRolePolicyDocument)))}</AssumeRolePolicyDocument>`;
  }
  if (r.description !== undefined) s += `<Description>${xml(r.description)}</Description>`;
  s += `<MaxSessionDuration>${r.maxSessionDuration ?? 3600}</MaxSessionDuration>`;
  if (r.permissionsBoundaryArn) {
    s +=
      '<PermissionsBoundary><PermissionsBoundaryType>Policy</PermissionsBoundaryType>' +
      `<PermissionsBoundaryArn>${xml(r.permissionsBoundaryArn)}</PermissionsBoundaryArn></PermissionsBoundary>`;
  }
  if (r.tags && Object.keys(r.tags).length > 0) s += `<Tags>${tagsXml(r.tags)}</Tags>`;
  s += '<RoleLastUsed>';
  if (r.lastUsed?.date) s += `<LastUsedDate>${r.lastUsed.date}</LastUsedDate>`;
  if (r.lastUsed?.region) s += `<Region>${xml(r.lastUsed.region)}</Region>`;
  s += '</RoleLastUsed>';
  return s;
}

function userXml(u: SandboxUser): string {
  const path = u.path ?? '/';
  let s =
    `<Path>${xml(path)}</Path><UserName>${xml(u.name)}</UserName>` +
    `<UserId>${xml(u.userId ?? `AIDA${u.account}${idSuffix(u.name)}`)}</UserId>` +
    `<Arn>arn:aws:iam::${u.account}:user${xml(path)}${xml(u.name)}</Arn>` +
    `<CreateDate>${u.createDate}</CreateDate>`;
  if (u.passwordLastUsed) s += `<PasswordLastUsed>${u.passwordLastUsed}</PasswordLastUsed>`;
  if (u.tags && Object.keys(u.tags).length > 0) s += `<Tags>${tagsXml(u.tags)}</Tags>`;
  return s;
}

/** ListRoleTags / ListUserTags: Marker is the index of the next tag, MaxItems defaults to 100. */
function tagPageXml(tags: Record<string, string> | undefined, p: URLSearchParams): string {
  const all = Object.entries(tags ?? {});
  const max = Number(p.get('MaxItems') ?? 100);
  if (!Number.isInteger(max) || max < 1 || max > 1000) {
    throw new AwsFault(400, 'ValidationError', `Invalid MaxItems ${p.get('MaxItems')}`);
  }
  let start = 0;
  const marker = p.get('Marker');
  if (marker) {
    start = Number(Buffer.from(marker, 'base64url').toString('utf8').replace(/^tag:/, ''));
    if (!Number.isInteger(start) || start < 0) throw new AwsFault(400, 'ValidationError', 'Invalid Marker');
  }
  const page = all.slice(start, start + max);
  const truncated = start + max < all.length;
  let s = `<Tags>${page.map(([k, v]) => `<member><Key>${xml(k)}</Key><Value>${xml(v)}</Value></member>`).join('')}</Tags>`;
  s += `<IsTruncated>${truncated}</IsTruncated>`;
  if (truncated) s += `<Marker>${Buffer.from(`tag:${start + max}`).toString('base64url')}</Marker>`;
  return s;
}

/** IAM List* paging: Marker is the index of the next item, MaxItems 1-1000 (default 100). */
function listPage<T>(all: readonly T[], p: URLSearchParams, kind: string): { page: T[]; tail: string } {
  const max = Number(p.get('MaxItems') ?? 100);
  if (!Number.isInteger(max) || max < 1 || max > 1000) {
    throw new AwsFault(400, 'ValidationError', `Invalid MaxItems ${p.get('MaxItems')}`);
  }
  let start = 0;
  const marker = p.get('Marker');
  if (marker) {
    const m = /^([a-z]+):(\d+)$/.exec(Buffer.from(marker, 'base64url').toString('utf8'));
    if (!m || m[1] !== kind) throw new AwsFault(400, 'ValidationError', 'Invalid Marker');
    start = Number(m[2]);
  }
  const page = all.slice(start, start + max);
  const truncated = start + max < all.length;
  let tail = `<IsTruncated>${truncated}</IsTruncated>`;
  if (truncated) tail += `<Marker>${Buffer.from(`${kind}:${start + max}`).toString('base64url')}</Marker>`;
  return { page, tail };
}

/** awsQuery list members: `Tags.member.1.Key=a&Tags.member.1.Value=b` → `[{ Key: 'a', Value: 'b' }]`. */
function memberList(p: URLSearchParams, name: string): Record<string, string>[] {
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

function required(p: URLSearchParams, name: string): string {
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

function policyDocument(raw: string): Record<string, unknown> {
  try {
    const v = JSON.parse(raw) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new AwsFault(400, 'MalformedPolicyDocument', 'This policy contains invalid Json');
}

function policyArn(arn: string): string {
  if (!/^arn:aws[\w-]*:iam::(aws|\d{12}):policy\/.+/.test(arn)) {
    throw new AwsFault(400, 'InvalidInput', `ARN ${arn} is not valid.`);
  }
  return arn;
}

function policyNameOf(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

function isServiceLinked(role: SandboxRole): boolean {
  return (role.path ?? '/').startsWith('/aws-service-role/');
}

function unmodifiable(role: SandboxRole): AwsFault {
  return new AwsFault(
    400,
    'UnmodifiableEntity',
    `Cannot perform the operation on the protected role '${role.name}' - this role is only modifiable by AWS`,
  );
}

function noSuchRolePolicy(name: string): AwsFault {
  return new AwsFault(404, 'NoSuchEntity', `The role policy with name ${name} cannot be found.`);
}

function idSuffix(name: string): string {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h.toString(36).toUpperCase().padStart(8, '0').slice(0, 8);
}

const KEY_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function randomChars(n: number): string {
  const bytes = randomBytes(n);
  let s = '';
  for (const b of bytes) s += KEY_CHARS[b % KEY_CHARS.length];
  return s;
}

function isoNow(): string {
  return new Date().toISOString();
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  contentType: string,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'x-amzn-RequestId': randomUUID(),
    ...headers,
  });
  res.end(text);
}

function sendXml(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'text/xml',
    'content-length': Buffer.byteLength(body),
    'x-amzn-RequestId': randomUUID(),
  });
  res.end(body);
}
