// The sandbox's Access Analyzer policy tools and the IAM reads they need, hooked into sandbox/aws/access-analyzer.ts and iam.ts:
// StartPolicyGeneration / GetGeneratedPolicy / CancelPolicyGeneration (one generation at a time per
// account: 409 ConflictException; a rolling 24-hour quota: 402 ServiceQuotaExceededException; a
// generation stays IN_PROGRESS for `pollsUntilDone` polls), ValidatePolicy, CheckNoNewAccess,
// CheckNoPublicAccess; and IAM GetPolicy, GetPolicyVersion and the user policy reads.
import { randomUUID } from 'node:crypto';
import { allowedActions, coveredBy } from '../../src/findings/policy-actions.ts';
import type { SandboxData, SandboxPolicyGeneration, SandboxRole, SandboxUser } from '../types.ts';
import { attachedPoliciesXml, policyNamesXml } from './iam-xml.ts';

export interface PolicyCtx {
  region: string | undefined;
  account: string;
}

type Fault = (status: number, code: string, message: string, extra?: Record<string, unknown>) => Error;

export interface PolicyRoute {
  operation: string;
  run: (ctx: PolicyCtx, q: URLSearchParams, body: () => Record<string, unknown>) => unknown;
}

const DAY_MS = 86_400_000;
const PRINCIPAL_ARN = /^arn:[^:]*:iam::[^:]*:(role|user)\/.{1,576}$/;
const POLICY_CHECKS_DOC =
  'https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html';
const POLICY_TYPES = new Set([
  'IDENTITY_POLICY',
  'RESOURCE_POLICY',
  'SERVICE_CONTROL_POLICY',
  'RESOURCE_CONTROL_POLICY',
]);
const PUBLIC_CHECK_TYPES = new Set([
  'AWS::DynamoDB::Table',
  'AWS::DynamoDB::Stream',
  'AWS::EFS::FileSystem',
  'AWS::OpenSearchService::Domain',
  'AWS::Kinesis::Stream',
  'AWS::Kinesis::StreamConsumer',
  'AWS::KMS::Key',
  'AWS::Lambda::Function',
  'AWS::S3::Bucket',
  'AWS::S3::AccessPoint',
  'AWS::S3Express::DirectoryBucket',
  'AWS::S3::Glacier',
  'AWS::S3Outposts::Bucket',
  'AWS::S3Outposts::AccessPoint',
  'AWS::SecretsManager::Secret',
  'AWS::SNS::Topic',
  'AWS::SQS::Queue',
  'AWS::IAM::AssumeRolePolicyDocument',
  'AWS::S3Tables::TableBucket',
  'AWS::ApiGateway::RestApi',
  'AWS::CodeArtifact::Domain',
  'AWS::Backup::BackupVault',
  'AWS::CloudTrail::Dashboard',
  'AWS::CloudTrail::EventDataStore',
  'AWS::S3Tables::Table',
  'AWS::S3Express::AccessPoint',
]);
const VALIDATE_RESOURCE_TYPES = new Set([
  'AWS::S3::Bucket',
  'AWS::S3::AccessPoint',
  'AWS::S3::MultiRegionAccessPoint',
  'AWS::S3ObjectLambda::AccessPoint',
  'AWS::IAM::AssumeRolePolicyDocument',
  'AWS::DynamoDB::Table',
]);
/** A few AWS managed policies the demo organisation attaches, abridged. */
const AWS_MANAGED: Record<string, Record<string, unknown>> = {
  'arn:aws:iam::aws:policy/ReadOnlyAccess': {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: [
          'ec2:Describe*',
          'ecr:Get*',
          'ecr:Describe*',
          'ecr:List*',
          's3:Get*',
          's3:List*',
          'iam:Get*',
          'iam:List*',
          'logs:Get*',
          'logs:Describe*',
        ],
        Resource: '*',
      },
    ],
  },
  'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess': {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['s3:Get*', 's3:List*', 's3:Describe*'], Resource: '*' }],
  },
};

function validation(fault: Fault, field: string, message: string): Error {
  return fault(400, 'ValidationException', message, {
    reason: 'fieldValidationFailed',
    fieldList: [{ name: field, message }],
  });
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function time(v: unknown): number | undefined {
  if (typeof v === 'number') return v * 1000; // epoch seconds, as the SDK may serialise
  if (typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

type Statement = Record<string, unknown>;
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

function statements(doc: Record<string, unknown>): Statement[] {
  return list(doc.Statement).filter((s): s is Statement => !!s && typeof s === 'object');
}

/** A user's or group's attached policies as one page of IAM's listing. */
const attachedListing = (h: { attachedPolicies?: string[] | undefined }) =>
  `${attachedPoliciesXml(h.attachedPolicies ?? [])}<IsTruncated>false</IsTruncated>`;

/** A user's or group's inline policy names as one page of IAM's listing. */
const inlineListing = (h: { inlinePolicies?: Record<string, unknown> | undefined }) =>
  `${policyNamesXml(Object.keys(h.inlinePolicies ?? {}))}<IsTruncated>false</IsTruncated>`;

/** A reason of a failed Check*: the statement's index, and its Sid where it has one. */
function reasonAt(st: Statement, i: number, description: string): Record<string, unknown> {
  return { description, statementIndex: i, ...(typeof st.Sid === 'string' ? { statementId: st.Sid } : {}) };
}

/** A Check* answer: FAIL with its reasons, or PASS. */
function checkResult(reasons: Record<string, unknown>[], message: { fail: string; pass: string }) {
  return reasons.length
    ? { result: 'FAIL', message: message.fail, reasons }
    : { result: 'PASS', message: message.pass, reasons: [] };
}

/** Whether AWS has this AWS managed policy (the few the stand-in knows). */
export function isKnownAwsManagedPolicy(arn: string): boolean {
  return Object.hasOwn(AWS_MANAGED, arn);
}

export function createPolicySandbox(data: SandboxData, fault: Fault) {
  data.policyGenerations ??= [];
  const generations = data.policyGenerations;
  const tools = () => data.policyTools ?? {};

  const principalOf = (arn: string): SandboxRole | SandboxUser | undefined => {
    const m = /^arn:[^:]*:iam::(\d{12}):(role|user)\/(?:.*\/)?([^/]+)$/.exec(arn);
    if (!m) return undefined;
    const [, account, kind, name] = m as unknown as [string, string, string, string];
    return kind === 'role'
      ? (data.roles.find((r) => r.account === account && r.name === name) ?? data.lookupRole?.(account, name))
      : (data.users.find((u) => u.account === account && u.name === name) ??
          data.lookupUser?.(account, name));
  };

  /** What CloudTrail "saw": configured activity, else every other action of the inline policies. */
  const activityOf = (arn: string): string[] => {
    const configured = tools().activity?.[arn];
    if (configured) return configured;
    const p = principalOf(arn);
    const actions = Object.values(p?.inlinePolicies ?? {})
      .flatMap((d) => statements(d))
      .filter((st) => st.Effect === 'Allow')
      .flatMap((st) => list(st.Action).map(String))
      .filter((a) => !a.includes('*') && !a.includes('?'));
    const used = actions.filter((_, i) => i % 2 === 0);
    return used.length ? used : ['sts:GetCallerIdentity'];
  };

  /** A generated policy: one statement per service, actions in AWS's ServiceName:ActionName case. */
  const generatedPolicy = (arn: string): string => {
    const byService = new Map<string, string[]>();
    for (const a of activityOf(arn)) {
      const [svc, name = ''] = a.split(':') as [string, string?];
      const action = `${svc.toLowerCase()}:${name.charAt(0).toUpperCase()}${name.slice(1)}`;
      byService.set(svc.toLowerCase(), [...(byService.get(svc.toLowerCase()) ?? []), action]);
    }
    return JSON.stringify({
      Version: '2012-10-17',
      Statement: [...byService.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([svc, actions]) => ({
          Sid: `${svc.replace(/[^a-z0-9]/gi, '')}Access`,
          Effect: 'Allow',
          Action: [...new Set(actions)].sort(),
          Resource: '*',
        })),
    });
  };

  const finish = (g: SandboxPolicyGeneration) => {
    const failure = tools().failPrincipals?.[g.principalArn];
    g.completedOn = new Date().toISOString();
    if (failure) {
      g.status = 'FAILED';
      g.jobError = failure;
    } else if (!principalOf(g.principalArn)) {
      g.status = 'FAILED';
      g.jobError = {
        code: 'RESOURCE_NOT_FOUND_ERROR',
        message: `The principal ${g.principalArn} does not exist.`,
      };
    } else {
      g.status = 'SUCCEEDED';
    }
  };

  const jobOf = (ctx: PolicyCtx, jobId: string): SandboxPolicyGeneration => {
    const g = generations.find((x) => x.jobId === jobId && x.account === ctx.account);
    if (!g) throw validation(fault, 'jobId', `Policy generation job ${jobId} was not found.`);
    return g;
  };

  const ops = {
    StartPolicyGeneration(ctx: PolicyCtx, body: Record<string, unknown>) {
      const details = (body.policyGenerationDetails ?? {}) as Record<string, unknown>;
      const principalArn = str(details.principalArn);
      if (!principalArn || !PRINCIPAL_ARN.test(principalArn)) {
        throw validation(
          fault,
          'policyGenerationDetails.principalArn',
          `Invalid principal ARN: ${String(details.principalArn)}`,
        );
      }
      const trail = (body.cloudTrailDetails ?? {}) as Record<string, unknown>;
      const trails = list(trail.trails) as Record<string, unknown>[];
      if (
        trails.length === 0 ||
        trails.some((t) => !/^arn:[^:]*:cloudtrail:/.test(String(t.cloudTrailArn)))
      ) {
        throw validation(
          fault,
          'cloudTrailDetails.trails',
          'At least one trail with a CloudTrail trail ARN is required.',
        );
      }
      if (!/^arn:[^:]*:iam::\d{12}:role\//.test(String(trail.accessRole))) {
        throw validation(
          fault,
          'cloudTrailDetails.accessRole',
          `Invalid access role: ${String(trail.accessRole)}`,
        );
      }
      const start = time(trail.startTime);
      const end = time(trail.endTime) ?? Date.now();
      if (start === undefined)
        throw validation(fault, 'cloudTrailDetails.startTime', 'startTime is required.');
      if (end - start > 90 * DAY_MS + 60_000) {
        throw validation(fault, 'cloudTrailDetails', 'The time range cannot exceed 90 days.');
      }
      const token = str(body.clientToken);
      const same = token && generations.find((g) => g.account === ctx.account && g.clientToken === token);
      if (same) return { jobId: same.jobId };
      const running = generations.find((g) => g.account === ctx.account && g.status === 'IN_PROGRESS');
      if (running) {
        throw fault(
          409,
          'ConflictException',
          `A policy generation job is already in progress: ${running.jobId}.`,
          {
            resourceId: running.jobId,
            resourceType: 'PolicyGeneration',
          },
        );
      }
      const quota = tools().dailyQuota ?? 50;
      const recent = generations.filter(
        (g) => g.account === ctx.account && Date.parse(g.startedOn) > Date.now() - DAY_MS,
      );
      if (recent.length >= quota) {
        throw fault(
          402,
          'ServiceQuotaExceededException',
          `You have exceeded the limit of ${quota} policy generations per day.`,
          {
            resourceId: principalArn,
            resourceType: 'PolicyGeneration',
          },
        );
      }
      const g: SandboxPolicyGeneration = {
        jobId: randomUUID(),
        account: ctx.account,
        principalArn,
        status: 'IN_PROGRESS',
        startedOn: new Date().toISOString(),
        polls: 0,
        trails,
        startTime: new Date(start).toISOString(),
        endTime: new Date(end).toISOString(),
        ...(token ? { clientToken: token } : {}),
      };
      generations.push(g);
      return { jobId: g.jobId };
    },

    GetGeneratedPolicy(ctx: PolicyCtx, jobId: string) {
      const g = jobOf(ctx, jobId);
      g.polls++;
      if (g.status === 'IN_PROGRESS' && g.polls > (tools().pollsUntilDone ?? 3)) finish(g);
      const out: Record<string, unknown> = {
        jobDetails: {
          jobId: g.jobId,
          status: g.status,
          startedOn: g.startedOn,
          ...(g.completedOn ? { completedOn: g.completedOn } : {}),
          ...(g.jobError ? { jobError: g.jobError } : {}),
        },
      };
      if (g.status === 'SUCCEEDED') {
        out.generatedPolicyResult = {
          properties: {
            isComplete: tools().isComplete ?? true,
            principalArn: g.principalArn,
            cloudTrailProperties: {
              trailProperties: g.trails.map((t) => ({
                cloudTrailArn: t.cloudTrailArn,
                allRegions: t.allRegions ?? false,
                ...(t.regions ? { regions: t.regions } : {}),
              })),
              startTime: g.startTime,
              endTime: g.endTime,
            },
          },
          generatedPolicies: [{ policy: generatedPolicy(g.principalArn) }],
        };
      }
      return out;
    },

    CancelPolicyGeneration(ctx: PolicyCtx, jobId: string) {
      const g = jobOf(ctx, jobId);
      if (g.status === 'IN_PROGRESS') {
        g.status = 'CANCELED';
        g.completedOn = new Date().toISOString();
      }
      return {};
    },

    ValidatePolicy(_ctx: PolicyCtx, q: URLSearchParams, body: Record<string, unknown>) {
      const text = str(body.policyDocument);
      if (!text) throw validation(fault, 'policyDocument', 'policyDocument is required.');
      if (!POLICY_TYPES.has(String(body.policyType))) {
        throw validation(fault, 'policyType', `Invalid policyType: ${String(body.policyType)}`);
      }
      const resourceType = body.validatePolicyResourceType;
      if (resourceType !== undefined) {
        if (body.policyType !== 'RESOURCE_POLICY') {
          throw validation(
            fault,
            'validatePolicyResourceType',
            'validatePolicyResourceType applies to RESOURCE_POLICY only.',
          );
        }
        if (!VALIDATE_RESOURCE_TYPES.has(String(resourceType))) {
          throw validation(
            fault,
            'validatePolicyResourceType',
            `Invalid validatePolicyResourceType: ${String(resourceType)}`,
          );
        }
      }
      const findings = validate(text, resourceType !== undefined);
      const size = Number(q.get('maxResults') ?? 100) || 100;
      const start = Number(q.get('nextToken') ?? 0) || 0;
      const out: Record<string, unknown> = { findings: findings.slice(start, start + size) };
      if (start + size < findings.length) out.nextToken = String(start + size);
      return out;
    },

    CheckNoNewAccess(_ctx: PolicyCtx, body: Record<string, unknown>) {
      const fresh = parsed(fault, body.newPolicyDocument, 'newPolicyDocument');
      const existing = parsed(fault, body.existingPolicyDocument, 'existingPolicyDocument');
      if (body.policyType !== 'IDENTITY_POLICY' && body.policyType !== 'RESOURCE_POLICY') {
        throw fault(400, 'InvalidParameterException', `Invalid policyType: ${String(body.policyType)}`);
      }
      const granted = allowedActions([JSON.stringify(existing)]).actions;
      // A resource policy grants to principals: a principal no Allow statement of the existing policy
      // names is new access too.
      const principalsOf = (st: Record<string, unknown>): string[] =>
        st.Principal === '*'
          ? ['AWS:*']
          : Object.entries((st.Principal ?? {}) as Record<string, unknown>).flatMap(([k, v]) =>
              list(v).map((x) => `${k}:${String(x)}`),
            );
      const trusted = new Set(
        statements(existing)
          .filter((st) => st.Effect === 'Allow')
          .flatMap(principalsOf),
      );
      const reasons: Record<string, unknown>[] = [];
      statements(fresh).forEach((st, i) => {
        if (st.Effect !== 'Allow') return;
        const newPrincipals =
          body.policyType === 'RESOURCE_POLICY' ? principalsOf(st).filter((x) => !trusted.has(x)) : [];
        const extra = [
          ...list(st.Action)
            .map(String)
            .filter((a) => !coveredBy(a, granted)),
          ...newPrincipals.map((x) => `principal ${x}`),
        ];
        if (extra.length) {
          reasons.push(
            reasonAt(st, i, `New access in the statement with index: ${i} (${extra.join(', ')}).`),
          );
        }
      });
      return checkResult(reasons, {
        fail: 'The modified permissions grant new access compared to your existing policy.',
        pass: 'The policy document does not grant new access compared to the existing policy.',
      });
    },

    CheckNoPublicAccess(_ctx: PolicyCtx, body: Record<string, unknown>) {
      const doc = parsed(fault, body.policyDocument, 'policyDocument');
      if (!PUBLIC_CHECK_TYPES.has(String(body.resourceType))) {
        throw fault(400, 'InvalidParameterException', `Invalid resourceType: ${String(body.resourceType)}`);
      }
      const reasons: Record<string, unknown>[] = [];
      statements(doc).forEach((st, i) => {
        const p = st.Principal as unknown;
        const everyone =
          p === '*' ||
          (!!p && typeof p === 'object' && list((p as Record<string, unknown>).AWS).includes('*'));
        if (st.Effect === 'Allow' && everyone && st.Condition === undefined) {
          reasons.push(reasonAt(st, i, `Public access granted in the following statement with index: ${i}.`));
        }
      });
      return checkResult(reasons, {
        fail: 'The resource policy grants public access for the given resource type.',
        pass: 'The resource policy does not grant public access for the given resource type.',
      });
    },
  };

  return {
    /** The Access Analyzer route of a policy-tools request, or undefined when it is not one. */
    route(method: string, path: string): PolicyRoute | undefined {
      const seg = path.split('/').filter(Boolean).map(decodeURIComponent);
      if (seg[0] !== 'policy') return undefined;
      if (method === 'PUT' && path === '/policy/generation') {
        return { operation: 'StartPolicyGeneration', run: (c, _q, b) => ops.StartPolicyGeneration(c, b()) };
      }
      if (method === 'GET' && seg[1] === 'generation' && seg.length === 3) {
        return { operation: 'GetGeneratedPolicy', run: (c) => ops.GetGeneratedPolicy(c, seg[2]!) };
      }
      if (method === 'PUT' && seg[1] === 'generation' && seg.length === 3) {
        return { operation: 'CancelPolicyGeneration', run: (c) => ops.CancelPolicyGeneration(c, seg[2]!) };
      }
      if (method === 'POST' && path === '/policy/validation') {
        return { operation: 'ValidatePolicy', run: (c, q, b) => ops.ValidatePolicy(c, q, b()) };
      }
      if (method === 'POST' && path === '/policy/check-no-new-access') {
        return { operation: 'CheckNoNewAccess', run: (c, _q, b) => ops.CheckNoNewAccess(c, b()) };
      }
      if (method === 'POST' && path === '/policy/check-no-public-access') {
        return { operation: 'CheckNoPublicAccess', run: (c, _q, b) => ops.CheckNoPublicAccess(c, b()) };
      }
      return undefined;
    },

    /** IAM (awsQuery) handlers returning the inner XML of `<OpResult>`. */
    iamOps(
      xml: (s: string) => string,
    ): Record<string, (ctx: PolicyCtx, p: URLSearchParams) => string | null> {
      const noSuch = (what: string) => fault(404, 'NoSuchEntity', `${what} cannot be found.`);
      const managed = (arn: string) => data.managedPolicies?.[arn] ?? AWS_MANAGED[arn];
      const userOf = (ctx: PolicyCtx, name: string | null): SandboxUser => {
        const u =
          data.users.find((x) => x.account === ctx.account && x.name === name) ??
          (name ? data.lookupUser?.(ctx.account, name) : undefined) ??
          (data.strictAccounts ? undefined : data.users.find((x) => x.name === name));
        if (!u) throw noSuch(`The user with name ${name}`);
        return u;
      };
      const groupOf = (ctx: PolicyCtx, name: string | null) => {
        const g =
          (data.groups ?? []).find((x) => x.account === ctx.account && x.name === name) ??
          (data.strictAccounts ? undefined : (data.groups ?? []).find((x) => x.name === name));
        if (!g) throw noSuch(`The group with name ${name}`);
        return g;
      };
      const encoded = (doc: Record<string, unknown>) => xml(encodeURIComponent(JSON.stringify(doc)));
      /** GetUserPolicy and GetGroupPolicy: the holder's inline policy named by PolicyName. */
      const inlinePolicy = (
        kind: 'User' | 'Group',
        holder: { name: string; inlinePolicies?: Record<string, Record<string, unknown>> | undefined },
        p: URLSearchParams,
      ) => {
        const name = p.get('PolicyName') ?? '';
        const doc = holder.inlinePolicies?.[name];
        if (!doc) throw noSuch(`The ${kind.toLowerCase()} policy with name ${name}`);
        return `<${kind}Name>${xml(holder.name)}</${kind}Name><PolicyName>${xml(name)}</PolicyName><PolicyDocument>${encoded(doc)}</PolicyDocument>`;
      };
      return {
        GetPolicy(_ctx, p) {
          const arn = p.get('PolicyArn') ?? '';
          if (!managed(arn)) throw noSuch(`Policy ${arn}`);
          const name = arn.slice(arn.lastIndexOf('/') + 1);
          return (
            `<Policy><PolicyName>${xml(name)}</PolicyName><Arn>${xml(arn)}</Arn>` +
            `<DefaultVersionId>v1</DefaultVersionId><AttachmentCount>1</AttachmentCount><IsAttachable>true</IsAttachable></Policy>`
          );
        },
        GetPolicyVersion(_ctx, p) {
          const arn = p.get('PolicyArn') ?? '';
          const doc = managed(arn);
          if (!doc || p.get('VersionId') !== 'v1')
            throw noSuch(`Policy ${arn} version ${p.get('VersionId')}`);
          return `<PolicyVersion><Document>${encoded(doc)}</Document><VersionId>v1</VersionId><IsDefaultVersion>true</IsDefaultVersion></PolicyVersion>`;
        },
        ListAttachedUserPolicies: (ctx, p) => attachedListing(userOf(ctx, p.get('UserName'))),
        ListUserPolicies: (ctx, p) => inlineListing(userOf(ctx, p.get('UserName'))),
        ListGroupsForUser(ctx, p) {
          const u = userOf(ctx, p.get('UserName'));
          const members = (u.groups ?? [])
            .map((g) => groupOf(ctx, g))
            .map(
              (g) =>
                `<member><Path>/</Path><GroupName>${xml(g.name)}</GroupName><GroupId>AGPA${g.account}${g.name.length}</GroupId>` +
                `<Arn>arn:aws:iam::${g.account}:group/${xml(g.name)}</Arn><CreateDate>2024-01-01T00:00:00Z</CreateDate></member>`,
            )
            .join('');
          return `<Groups>${members}</Groups><IsTruncated>false</IsTruncated>`;
        },
        ListAttachedGroupPolicies: (ctx, p) => attachedListing(groupOf(ctx, p.get('GroupName'))),
        ListGroupPolicies: (ctx, p) => inlineListing(groupOf(ctx, p.get('GroupName'))),
        GetGroupPolicy: (ctx, p) => inlinePolicy('Group', groupOf(ctx, p.get('GroupName')), p),
        GetUserPolicy: (ctx, p) => inlinePolicy('User', userOf(ctx, p.get('UserName')), p),
      };
    },
  };
}

function parsed(fault: Fault, v: unknown, field: string): Record<string, unknown> {
  try {
    const doc = JSON.parse(String(v)) as unknown;
    if (doc && typeof doc === 'object' && !Array.isArray(doc)) return doc as Record<string, unknown>;
  } catch {
    // below
  }
  throw fault(400, 'InvalidParameterException', `${field} is not a valid policy document.`);
}

/** Plausible ValidatePolicy findings for the mistakes people paste most. */
function validate(text: string, resourceChecks = false): Record<string, unknown>[] {
  const finding = (findingType: string, issueCode: string, details: string, path: unknown[] = []) => ({
    findingType,
    issueCode,
    findingDetails: details,
    learnMoreLink: `${POLICY_CHECKS_DOC}#access-analyzer-reference-policy-checks-${findingType.toLowerCase().replace('_', '-')}-${issueCode.toLowerCase().replace(/_/g, '-')}`,
    locations: [
      {
        path: path.map((p) => (typeof p === 'number' ? { index: p } : { value: p })),
        span: { start: { line: 1, column: 0, offset: 0 }, end: { line: 1, column: 1, offset: 1 } },
      },
    ],
  });
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('not an object');
  } catch {
    return [
      finding('ERROR', 'JSON_SYNTAX_ERROR', 'Fix the JSON syntax error: the policy is not a JSON object.'),
    ];
  }
  const out: Record<string, unknown>[] = [];
  if (doc.Version === undefined) {
    out.push(
      finding(
        'SUGGESTION',
        'MISSING_VERSION',
        'We recommend that you specify the Version element to help you with debugging permission issues.',
      ),
    );
  } else if (doc.Version !== '2012-10-17') {
    out.push(
      finding('WARNING', 'OUTDATED_VERSION', 'Update the Version element to 2012-10-17.', ['Version']),
    );
  }
  statements(doc).forEach((st, i) => {
    const actions = list(st.Action).map(String);
    const resources = list(st.Resource).map(String);
    if (Array.isArray(st.Action) && actions.length === 0) {
      out.push(
        finding(
          'SUGGESTION',
          'EMPTY_ARRAY_ACTION',
          'This statement includes no actions and does not affect the policy.',
          ['Statement', i, 'Action'],
        ),
      );
    }
    for (const a of actions) {
      if (a !== '*' && !/^[a-z0-9-]+:[A-Za-z0-9*?]+$/.test(a)) {
        out.push(
          finding('ERROR', 'INVALID_ACTION', `The action ${a} does not exist.`, ['Statement', i, 'Action']),
        );
      }
    }
    if (resourceChecks && st.Principal === undefined && st.NotPrincipal === undefined) {
      out.push(
        finding('ERROR', 'MISSING_PRINCIPAL', 'Add a Principal element to the policy statement.', [
          'Statement',
          i,
        ]),
      );
    }
    const passRole = actions.some((a) => a === '*' || /^iam:(\*|passrole|pass\*|p\*)$/i.test(a));
    if (st.Effect === 'Allow' && passRole && resources.includes('*')) {
      out.push(
        finding(
          'SECURITY_WARNING',
          'PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE',
          'Using the iam:PassRole action with wildcards (*) in the action and the resource can be overly permissive because it allows iam:PassRole permissions on all resources.',
          ['Statement', i],
        ),
      );
    }
  });
  return out;
}
