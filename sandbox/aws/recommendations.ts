// Finding recommendations for the AWS sandbox (sandbox/aws/access-analyzer.ts routes to them):
// GenerateFindingRecommendation (POST /recommendation/{id}?analyzerArn=, no body, empty 200) and
// GetFindingRecommendation (GET /recommendation/{id}, paginated recommendedSteps). Like AWS, a
// recommendation is IN_PROGRESS for a while (here: a number of GETs), then SUCCEEDED or FAILED;
// asking again replaces it. The recommendations live in the sandbox data (`data.recommendations`), so
// a test can start from any state: one already made, one that fails with a given error, steps of its
// own, a Generate that is refused.
//
// What it recommends for a role with unused permissions: for each attached managed policy (or one
// stand-in policy when the role has none), CREATE_POLICY with a scoped-down document (read actions of
// the services the role still uses) to replace it, then DETACH_POLICY of the original. Identity Center
// roles (AWSReservedSSO_…) and IAM users FAIL, as AWS does not support them (a user in a group, an
// Identity Center role); the error codes are the sandbox's own.
import type {
  SandboxData,
  SandboxFinding,
  SandboxRecommendation,
  SandboxRecommendationRecord,
  SandboxRole,
  WireRecommendedStep,
} from '../types.ts';

export interface RecommendationFault {
  status: number;
  code: string;
  message: string;
}

export interface SandboxRecommendations {
  /** The operation for a request, or undefined when the path is not a recommendation path. */
  route(
    method: string,
    seg: readonly string[],
  ): { operation: string; run: (analyzerArn: string | null, q: URLSearchParams) => unknown } | undefined;
}

export interface SandboxRecommendationOptions {
  /** GetFindingRecommendation answers IN_PROGRESS this many times after a Generate; default 2. */
  inProgressPolls?: number;
  /** recommendedSteps per page when the request gives no maxResults; default 100. */
  pageSize?: number;
  now?: () => Date;
}

type Step = WireRecommendedStep;

export function sandboxRecommendations(
  data: SandboxData,
  fault: (f: RecommendationFault) => Error,
  opts: SandboxRecommendationOptions = {},
): SandboxRecommendations {
  const recordOf = (id: string): SandboxRecommendationRecord => {
    data.recommendations ??= {};
    data.recommendations[id] ??= {};
    return data.recommendations[id];
  };
  const now = opts.now ?? (() => new Date());
  const inProgressPolls = opts.inProgressPolls ?? 2;

  const findingOf = (analyzerArn: string | null, id: string): SandboxFinding => {
    if (!analyzerArn)
      throw fault({ status: 400, code: 'ValidationException', message: 'analyzerArn is required' });
    const f = data.findings.get(id);
    if (!f || f.analyzerArn !== analyzerArn) {
      throw fault({ status: 404, code: 'ResourceNotFoundException', message: `Finding ${id} not found.` });
    }
    return f;
  };

  const generate = (analyzerArn: string | null, id: string) => {
    const f = findingOf(analyzerArn, id);
    if (f.findingType !== 'UnusedPermission') {
      throw fault({
        status: 400,
        code: 'ValidationException',
        message: 'Recommendations are supported only for unused permissions findings.',
      });
    }
    const record = recordOf(id);
    const plan = record.onGenerate ?? {};
    if ('fault' in plan) throw fault(plan.fault);
    record.current = { startedAt: now().toISOString(), inProgressPolls, ...plan };
    return undefined;
  };

  const get = (analyzerArn: string | null, id: string, q: URLSearchParams) => {
    const f = findingOf(analyzerArn, id);
    const m: SandboxRecommendation | undefined = data.recommendations?.[id]?.current;
    if (!m)
      throw fault({
        status: 404,
        code: 'ResourceNotFoundException',
        message: `No recommendation for ${id}.`,
      });
    const base = {
      startedAt: m.startedAt,
      resourceArn: f.resource,
      recommendationType: 'UnusedPermissionRecommendation',
    };
    const token = q.get('nextToken');
    const size = pageSizeOf(q.get('maxResults'), opts.pageSize ?? 100, fault);
    if (!token && m.inProgressPolls > 0) {
      m.inProgressPolls--;
      return { ...base, status: 'IN_PROGRESS' };
    }
    m.completedAt ??= now().toISOString();
    const failed =
      m.status === 'FAILED'
        ? (m.error ?? { code: 'SERVICE_ERROR', message: 'The recommendation could not be made.' })
        : m.status === undefined
          ? unsupportedReason(f, data)
          : undefined;
    if (failed) return { ...base, completedAt: m.completedAt, status: 'FAILED', error: failed };
    const steps = m.steps ?? stepsFor(f, data);
    const perPage = Math.min(size, m.pageSize ?? size);
    const start = token ? Number.parseInt(token.replace(/^p/, ''), 10) : 0;
    if (!Number.isInteger(start) || start < 0 || start > steps.length) {
      throw fault({ status: 400, code: 'ValidationException', message: 'Invalid pagination token' });
    }
    const out: Record<string, unknown> = {
      ...base,
      completedAt: m.completedAt,
      status: 'SUCCEEDED',
      recommendedSteps: steps.slice(start, start + perPage),
    };
    if (start + perPage < steps.length) out.nextToken = `p${start + perPage}`;
    return out;
  };

  return {
    route(method, seg) {
      if (seg[0] !== 'recommendation' || seg.length !== 2) return undefined;
      const id = seg[1]!;
      if (method === 'POST')
        return { operation: 'GenerateFindingRecommendation', run: (a) => generate(a, id) };
      if (method === 'GET') return { operation: 'GetFindingRecommendation', run: (a, q) => get(a, id, q) };
      return undefined;
    },
  };
}

function pageSizeOf(v: string | null, dflt: number, fault: (f: RecommendationFault) => Error): number {
  if (v === null || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw fault({ status: 400, code: 'ValidationException', message: `Invalid maxResults: ${v}` });
  }
  return n;
}

function roleOf(f: SandboxFinding, data: SandboxData): SandboxRole | undefined {
  const name = f.resource.split('/').pop();
  return data.roles.find((r) => r.account === f.resourceOwnerAccount && r.name === name);
}

function unsupportedReason(
  f: SandboxFinding,
  data: SandboxData,
): { code: string; message: string } | undefined {
  if (f.resourceType === 'AWS::IAM::User') {
    return {
      code: 'UNSUPPORTED_PRINCIPAL',
      message: 'Recommendations are not supported for an IAM user who is a member of a group.',
    };
  }
  const name = f.resource.split('/').pop() ?? '';
  if (
    name.startsWith('AWSReservedSSO_') ||
    roleOf(f, data)?.path?.startsWith('/aws-reserved/sso.amazonaws.com/')
  ) {
    return {
      code: 'UNSUPPORTED_PRINCIPAL',
      message: 'Recommendations are not supported for IAM Identity Center roles.',
    };
  }
  return undefined;
}

interface WireService {
  serviceNamespace?: string;
  lastAccessed?: string;
}

/** The services the role still uses: those in the finding with a last access (some actions unused). */
function usedServices(f: SandboxFinding, data: SandboxData): string[] {
  const details = (f.details ?? data.detailsFor?.(f) ?? []) as { unusedPermissionDetails?: WireService }[];
  const used = details.flatMap((d) => {
    const u = d.unusedPermissionDetails;
    return u?.serviceNamespace && u.lastAccessed ? [u.serviceNamespace] : [];
  });
  return [...new Set(used)].sort();
}

function stepsFor(f: SandboxFinding, data: SandboxData): Step[] {
  const role = roleOf(f, data);
  const account = f.resourceOwnerAccount;
  const name = f.resource.split('/').pop() ?? 'role';
  const policies = role?.attachedPolicies?.length
    ? role.attachedPolicies
    : [`arn:aws:iam::${account}:policy/${name}-permissions`];
  const services = usedServices(f, data);
  const document = JSON.stringify({
    Version: '2012-10-17',
    Statement: services.length
      ? [
          {
            Effect: 'Allow',
            Action: services.flatMap((s) => [`${s}:Get*`, `${s}:List*`, `${s}:Describe*`]),
            Resource: '*',
          },
        ]
      : [],
  });
  return policies.flatMap((arn): Step[] => [
    {
      unusedPermissionsRecommendedStep: {
        recommendedAction: 'CREATE_POLICY',
        existingPolicyId: arn,
        recommendedPolicy: document,
        policyUpdatedAt: f.updatedAt,
      },
    },
    { unusedPermissionsRecommendedStep: { recommendedAction: 'DETACH_POLICY', existingPolicyId: arn } },
  ]);
}
