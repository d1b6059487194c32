// Coverage notices and throttling, end to end: real Redis and BullMQ workers, the sandbox AWS server
// over real HTTP (analyzers per region, a per-region 429 rate limit, failures half way through a
// listing), Slack behind nock. Asserts the admin notices a person reads, the AWS calls made, and
// what the scan reports.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { statusReply } from '../../blocks/command-replies.ts';
import {
  type AwsSandbox,
  FindingStore,
  type SandboxAnalyzer,
  type SandboxData,
  type SandboxFinding,
  startAwsSandbox,
} from '../../sandbox/aws.ts';
import type { AppConfig } from '../../src/config/schema.ts';
import { JOBS } from '../../src/queue/index.ts';
import type { Runtime } from '../../src/runtime.ts';
import { type FakeSlack, fakeSlack } from '../helpers/fake-slack.ts';
import { testConfig, testRuntime, wipePrefix } from '../helpers/runtime.ts';

const ADMIN = '111111111111';
const MEMBER = '222222222222';
const US = 'us-east-1';
const EU = 'eu-west-1';
const SECURITY_HUB = 'securityhubv2.amazonaws.com';
const T0 = '2026-11-01T00:00:00.000Z';

const arnOf = (region: string, name: string) => `arn:aws:access-analyzer:${region}:${ADMIN}:analyzer/${name}`;
function analyzer(
  region: string,
  name: string,
  type: string,
  extra: Partial<SandboxAnalyzer> = {},
): SandboxAnalyzer {
  return {
    arn: arnOf(region, name),
    name,
    type,
    region,
    account: ADMIN,
    createdAt: T0,
    status: 'ACTIVE',
    ...extra,
  };
}
/** External, internal and (unless told otherwise) unused access for the organisation, per region. */
const orgRegion = (region: string, opts: { unused?: boolean } = {}) => [
  analyzer(region, 'org-external', 'ORGANIZATION'),
  analyzer(
    region,
    'org-internal',
    region === US ? 'ORGANIZATION_INTERNAL_ACCESS' : 'ACCOUNT_INTERNAL_ACCESS',
  ),
  ...(opts.unused ? [analyzer(region, 'org-unused', 'ORGANIZATION_UNUSED_ACCESS')] : []),
];

function unusedRole(id: string, analyzerArn: string, role: string): SandboxFinding {
  return {
    id,
    analyzerArn,
    resource: `arn:aws:iam::${MEMBER}:role/${role}`,
    resourceType: 'AWS::IAM::Role',
    resourceOwnerAccount: MEMBER,
    findingType: 'UnusedIAMRole',
    status: 'ACTIVE',
    createdAt: T0,
    updatedAt: T0,
    analyzedAt: T0,
    details: [{ unusedIamRoleDetails: { lastAccessed: '2026-06-01T00:00:00.000Z' } }],
  };
}
function unusedPermission(id: string, analyzerArn: string, role: string): SandboxFinding {
  return {
    ...unusedRole(id, analyzerArn, role),
    findingType: 'UnusedPermission',
    details: [{ unusedPermissionDetails: { serviceNamespace: 's3', actions: [{ action: 'DeleteBucket' }] } }],
  };
}
function sharedBucket(id: string, analyzerArn: string): SandboxFinding {
  return {
    id,
    analyzerArn,
    resource: `arn:aws:s3:::bucket-${id}`,
    resourceType: 'AWS::S3::Bucket',
    resourceOwnerAccount: MEMBER,
    findingType: 'ExternalAccess',
    status: 'ACTIVE',
    createdAt: T0,
    updatedAt: T0,
    analyzedAt: T0,
    details: [
      {
        externalAccessDetails: {
          action: ['s3:GetObject'],
          condition: {},
          isPublic: false,
          principal: { AWS: '999988887777' },
          sources: [{ type: 'POLICY' }],
        },
      },
    ],
  };
}

function sandboxData(analyzers: SandboxAnalyzer[], findings: SandboxFinding[] = []): SandboxData {
  return {
    callerAccount: ADMIN,
    accounts: [
      { id: ADMIN, name: 'security' },
      { id: MEMBER, name: 'prod' },
    ],
    regions: [US, EU],
    analyzers,
    findings: new FindingStore(findings),
    roles: [],
    users: [],
    resources: {},
  };
}

let aws: AwsSandbox;
let slack: FakeSlack;
let config: AppConfig;
let rt: Runtime | undefined;

async function start(
  data: SandboxData,
  opts: { sdkAttempts?: number; config?: Record<string, unknown> } = {},
) {
  aws = await startAwsSandbox({ data });
  config = testConfig({
    regions: [US, EU],
    accounts: { [ADMIN]: { name: 'security' }, [MEMBER]: { name: 'prod' } },
    scan: { pageSize: 10, retryDelayMs: 20, ...((opts.config?.scan as object) ?? {}) },
    ...Object.fromEntries(Object.entries(opts.config ?? {}).filter(([k]) => k !== 'scan')),
  });
  rt = testRuntime(config, {
    aws: {
      credentials: { accessKeyId: 'AKIASANDBOXTEST00001', secretAccessKey: 'sandbox' },
      endpoints: { accessAnalyzer: aws.url, iam: aws.url, sts: aws.url, tagging: aws.url },
      maxAttempts: opts.sdkAttempts ?? 1,
    },
  });
  rt.startWorkers();
}
const scan = () => rt!.scanNow({ timeoutMs: 60_000 });
const admin = () => slack.posted.filter((p) => p.channel === 'C0ADMIN');
const adminText = () => admin().map((p) => `${p.text}\n${JSON.stringify(p.blocks)}`);
const postedIds = () =>
  slack.posted
    .map(
      (p) =>
        (p.metadata as { event_payload?: { finding_id?: string } } | undefined)?.event_payload?.finding_id,
    )
    .filter((id): id is string => id !== undefined && !id.startsWith('summary-'));

beforeEach(() => {
  slack = fakeSlack();
});

afterEach(async () => {
  await rt?.close();
  rt = undefined;
  await aws?.close();
  await wipePrefix(config.redis.keyPrefix);
});

describe('coverage notices', () => {
  it('accepts one unused-access analyzer in one region for the whole organisation: no notice anywhere', async () => {
    await start(sandboxData([...orgRegion(US, { unused: true }), ...orgRegion(EU)]));

    const report = await scan();

    expect(admin()).toEqual([]);
    expect(report.finalize.analyzers.filter((a) => !a.ok)).toEqual([]);
    // Five analyzers scanned: nothing asks eu-west-1 for an unused-access analyzer of its own.
    expect(report.run.analyzers).toBe(5);
  });

  it('reports two unused-access analyzers of the organisation in one notice naming both, once', async () => {
    await start(sandboxData([...orgRegion(US, { unused: true }), ...orgRegion(EU, { unused: true })]));

    await scan();
    await scan();

    expect(admin()).toHaveLength(1);
    const [notice] = adminText();
    expect(notice).toContain(
      '2 unused-access analyzers cover the organization (org-unused in us-east-1, org-unused in eu-west-1): same findings, billed per analyzer.',
    );
    expect(notice).toContain(
      'aws accessanalyzer delete-analyzer --region eu-west-1 --analyzer-name org-unused',
    );

    // One deleted: told once that it is resolved.
    aws.data.analyzers = aws.data.analyzers.filter((a) => a.arn !== arnOf(EU, 'org-unused'));
    await scan();
    expect(admin()).toHaveLength(2);
    expect(admin()[1]!.text).toMatch(/^Resolved: one unused-access analyzer per account or organization now/);
  });

  it('names a missing external analyzer with the create-analyzer type that fits the organisation', async () => {
    await start(
      sandboxData([
        ...orgRegion(US, { unused: true }),
        analyzer(EU, 'org-internal', 'ACCOUNT_INTERNAL_ACCESS'),
      ]),
    );

    await scan();

    expect(admin()).toHaveLength(1);
    expect(admin()[0]!.text).toBe(
      'No external-access analyzer in eu-west-1: resources shared outside the account or organization there are not being checked.',
    );
    expect(adminText()[0]).toContain(
      '`aws accessanalyzer create-analyzer --region eu-west-1 --analyzer-name access-patrol-external --type ORGANIZATION`',
    );
    expect(adminText()[0]).not.toMatch(/unused/i);
  });

  it('asks an account without organisation analyzers for ACCOUNT types, and one unused analyzer, not one per region', async () => {
    await start(sandboxData([analyzer(US, 'external', 'ACCOUNT'), analyzer(EU, 'external', 'ACCOUNT')]), {
      config: { scan: { expectedAnalyzerKinds: ['external', 'unused'] } },
    });

    await scan();

    expect(admin()).toHaveLength(1);
    expect(admin()[0]!.text).toBe(
      'No unused-access analyzer for account 111111111111 in the scanned regions (us-east-1, eu-west-1).',
    );
    const text = adminText()[0]!;
    expect(text.match(/create-analyzer/g)).toHaveLength(1);
    expect(text).toContain(
      '--region us-east-1 --analyzer-name access-patrol-unused --type ACCOUNT_UNUSED_ACCESS',
    );
    expect(text).toContain(
      'An account-level analyzer does not see the other accounts in the config (`222222222222`)',
    );

    // Created in eu-west-1 only: covered everywhere.
    aws.data.analyzers.push(analyzer(EU, 'unused', 'ACCOUNT_UNUSED_ACCESS'));
    await scan();
    expect(admin()).toHaveLength(2);
    expect(admin()[1]!.text).toBe('Resolved: an unused-access analyzer covers account 111111111111 again.');
  });

  it('does not judge unused access from one region of a `scan --region`', async () => {
    await start(sandboxData([...orgRegion(US), ...orgRegion(EU, { unused: true })]));

    await rt!.scanNow({ regions: [US], timeoutMs: 30_000 });

    expect(admin()).toEqual([]);
  });
});

describe('a service-linked unused-access analyzer', () => {
  const LINKED = arnOf(US, '_AccessAnalyzerForSecurityHub-abc');
  const linkedData = () =>
    sandboxData(
      [
        analyzer(US, 'external', 'ACCOUNT'),
        analyzer(EU, 'external', 'ACCOUNT'),
        analyzer(US, '_AccessAnalyzerForSecurityHub-abc', 'ACCOUNT_UNUSED_ACCESS', {
          managedBy: SECURITY_HUB,
        }),
      ],
      [unusedPermission('sl-perm', LINKED, 'app-backend'), unusedRole('sl-role', LINKED, 'old-batch')],
    );

  it('is read when it is the only unused source: findings posted read-only, archive refused without calling AWS', async () => {
    await start(linkedData(), { config: { scan: { expectedAnalyzerKinds: ['external', 'unused'] } } });

    await scan();

    expect(postedIds().sort()).toEqual(['sl-perm', 'sl-role']);
    const card = JSON.stringify(
      slack.posted.find((p) => p.channel === 'C0DEFAULT' && /s3/.test(JSON.stringify(p.blocks)))?.blocks,
    );
    expect(card).toContain(`Read-only: its analyzer is managed by \`${SECURITY_HUB}\``);
    expect(card).not.toContain('"Archive"');
    expect(card).not.toContain('Show recommendation');
    expect(card).toContain('"Snooze"');
    expect(admin()).toHaveLength(1);
    expect(admin()[0]!.text).toBe(
      'Unused access for account 111111111111 comes only from the service-linked analyzer \u02CDAccessAnalyzerForSecurityHub-abc; its findings are shown read-only.',
    );

    // A click from an old message: refused in words, no UpdateFindings sent to AWS.
    const before = aws.counts().UpdateFindings ?? 0;
    const result = await rt!.runAction(JOBS.archive, {
      findingId: 'sl-role',
      analyzerArn: LINKED,
      region: US,
      userId: 'U0ALICE',
      replyChannel: 'C0DEFAULT',
      requestTs: '1795000000.000100',
      reason: 'not needed',
    } as never);
    expect(result).toMatchObject({ outcome: 'stale', status: 'ACTIVE' });
    expect(aws.counts().UpdateFindings ?? 0).toBe(before);
    expect(aws.data.findings.get('sl-role')?.status).toBe('ACTIVE');
    const ephemeral = slack.byMethod('chat.postEphemeral').map((c) => String(c.args.text));
    expect(ephemeral.some((t) => /read-only \(managed by securityhubv2\.amazonaws\.com\)/.test(t))).toBe(
      true,
    );
  });

  it('is not read once an analyzer of your own covers the account, and the notice says so once', async () => {
    await start(linkedData(), { config: { scan: { expectedAnalyzerKinds: ['external', 'unused'] } } });
    await scan();
    const listed = aws.requests.filter((r) => r.operation === 'ListFindingsV2').length;

    aws.data.analyzers.push(analyzer(EU, 'unused', 'ACCOUNT_UNUSED_ACCESS'));
    aws.requests.length = 0;
    const report = await scan();

    expect(report.finalize.analyzers.map((a) => a.name).sort()).toEqual(['external', 'external', 'unused']);
    expect(listed).toBeGreaterThan(0);
    expect(admin()).toHaveLength(2);
    expect(admin()[1]!.text).toMatch(
      /^Resolved: unused access for account 111111111111 now comes from an unused-access analyzer of your own/,
    );
  });

  it('no longer holds a card open once the bot stops reading it', async () => {
    await start(linkedData(), { config: { scan: { expectedAnalyzerKinds: ['external', 'unused'] } } });
    await scan();
    const card = await rt!.deps.store.get('sl-role');
    expect(card?.status).toBe('ACTIVE');

    // An analyzer of your own reports the same unused role under its own id: it joins the card.
    const own = analyzer(EU, 'unused', 'ACCOUNT_UNUSED_ACCESS');
    aws.data.analyzers.push(own);
    aws.data.findings.add(unusedRole('own-role', own.arn, 'old-batch'));
    await scan();
    expect(postedIds().filter((id) => id === 'sl-role' || id === 'own-role')).toEqual(['sl-role']);

    // AWS resolves it there; the service-linked analyzer, no longer read, does not keep it open.
    aws.data.findings.update('own-role', { status: 'RESOLVED', updatedAt: '2026-11-20T00:00:00.000Z' });
    await scan();
    expect((await rt!.deps.store.get('sl-role'))?.status).toBe('RESOLVED');
    expect(slack.byMethod('chat.update').some((c) => /Resolved/.test(String(c.args.text)))).toBe(true);
  });
});

describe('finished scan jobs', () => {
  it('are removed after the last 100, so Redis does not grow with the number of scans', async () => {
    const findings = Array.from({ length: 5 }, (_, i) => sharedBucket(`eu-${i}`, arnOf(EU, 'org-external')));
    await start(sandboxData([...orgRegion(US, { unused: true }), ...orgRegion(EU)], findings));
    const first = await scan();
    const firstAnalyzerJob = JOBS.scanAnalyzer;
    const firstIds = (await rt!.deps.queues.scan.getCompleted(0, -1))
      .filter((j) => j.name === firstAnalyzerJob)
      .map((j) => j.id!);
    expect(firstIds).toHaveLength(5);
    // 5 analyzer jobs, the finalize step and the run: 7 jobs a scan, 16 scans are 112.
    let last = first;
    for (let i = 1; i < 16; i++) last = await scan();

    const completed = await rt!.deps.queues.scan.getJobCounts('completed');
    expect(completed.completed).toBeLessThanOrEqual(100);
    expect(completed.completed).toBeGreaterThan(90);
    for (const id of firstIds) expect(await rt!.deps.queues.scan.getJob(id)).toBeUndefined();
    // The newest scan's jobs are still there to look at.
    expect(await rt!.deps.queues.scan.getJob(last.run.finalizeJobId)).toBeDefined();
    expect(postedIds()).toHaveLength(5);
  }, 90_000);
});

describe('throttling', () => {
  it('completes a scan against a 429-limited sandbox: every finding arrives once, 0 analyzers failed', async () => {
    const findings = [
      ...Array.from({ length: 25 }, (_, i) => sharedBucket(`us-ext-${i}`, arnOf(US, 'org-external'))),
      ...Array.from({ length: 25 }, (_, i) =>
        unusedRole(`us-unused-${i}`, arnOf(US, 'org-unused'), `role-${i}`),
      ),
      ...Array.from({ length: 20 }, (_, i) => sharedBucket(`eu-ext-${i}`, arnOf(EU, 'org-external'))),
    ];
    await start(sandboxData([...orgRegion(US, { unused: true }), ...orgRegion(EU)], findings), {
      sdkAttempts: 3,
      config: { scan: { concurrency: 4, detailConcurrency: 4, attempts: 10 } },
    });
    aws.faults.rateLimit = { perSecond: 8, burst: 8 };

    const report = await scan();

    expect(aws.throttled()).toBeGreaterThan(0);
    expect(report.finalize.analyzers.filter((a) => !a.ok)).toEqual([]);
    expect(report.finalize.analyzers).toHaveLength(5);
    // Counted once each, whichever attempt of its analyzer's job queued it.
    expect(report.finalize.analyzers.reduce((n, a) => n + a.new, 0)).toBe(findings.length);
    const ids = postedIds();
    expect(ids).toHaveLength(findings.length);
    expect(new Set(ids).size).toBe(findings.length);
    const last = (await rt!.status()).lastScan as unknown as { failedAnalyzers: number };
    expect(last.failedAnalyzers).toBe(0);
  }, 90_000);

  it('paces itself below the rate AWS allows: the same scan gets no 429 at all', async () => {
    const findings = [
      ...Array.from({ length: 25 }, (_, i) => sharedBucket(`us-ext-${i}`, arnOf(US, 'org-external'))),
      ...Array.from({ length: 25 }, (_, i) =>
        unusedRole(`us-unused-${i}`, arnOf(US, 'org-unused'), `role-${i}`),
      ),
      ...Array.from({ length: 20 }, (_, i) => sharedBucket(`eu-ext-${i}`, arnOf(EU, 'org-external'))),
    ];
    await start(sandboxData([...orgRegion(US, { unused: true }), ...orgRegion(EU)], findings), {
      sdkAttempts: 3,
      config: {
        scan: { concurrency: 4, detailConcurrency: 4, attempts: 10 },
        // The bot's bucket per region: the sandbox's rate, a smaller burst (requests in flight
        // arrive a little bunched; the sandbox's fuller bucket absorbs that).
        aws: { rateLimits: { accessAnalyzer: { perSecond: 8, burst: 4 } } },
      },
    });
    aws.faults.rateLimit = { perSecond: 8, burst: 8 };
    const started = Date.now();

    const report = await scan();

    expect(aws.throttled()).toBe(0);
    expect(report.finalize.analyzers.filter((a) => !a.ok)).toEqual([]);
    const ids = postedIds();
    expect(ids).toHaveLength(findings.length);
    expect(new Set(ids).size).toBe(findings.length);
    // us-east-1 is the busiest region: 50 GetFindingV2 + its listings at 8 per second, less the burst.
    const usRequests = aws.requests.filter((r) => r.region === US && r.service === 'access-analyzer').length;
    expect(Date.now() - started).toBeGreaterThanOrEqual(((usRequests - 4) / 8) * 1000 - 200);
  }, 90_000);

  it('resolves nothing when a listing fails half way, and reports the analyzer by notice and status', async () => {
    const findings = Array.from({ length: 25 }, (_, i) => sharedBucket(`eu-${i}`, arnOf(EU, 'org-external')));
    await start(sandboxData([...orgRegion(US, { unused: true }), ...orgRegion(EU)], findings), {
      config: { scan: { attempts: 2 } },
    });
    await scan();
    expect(postedIds()).toHaveLength(25);
    slack.reset();

    // AWS resolves one finding; then the next listing fails after its first page, every attempt.
    aws.data.findings.update('eu-3', { status: 'RESOLVED', updatedAt: '2026-11-20T00:00:00.000Z' });
    aws.faults.internalError.push({ region: EU, operation: 'ListFindingsV2', nextPagesOnly: true });
    const report = await scan();

    const failed = report.finalize.analyzers.filter((a) => !a.ok);
    expect(failed).toEqual([
      expect.objectContaining({
        analyzerArn: arnOf(EU, 'org-external'),
        name: 'org-external',
        failed: true,
        attempts: 2,
        error: expect.stringContaining('InternalServerException'),
      }),
    ]);
    expect(slack.byMethod('chat.update')).toEqual([]);
    expect((await rt!.deps.store.get('eu-3'))?.status).toBe('ACTIVE');
    expect(admin()).toHaveLength(1);
    expect(admin()[0]!.text).toBe(
      'Scanning analyzer org-external (eu-west-1) failed: its findings were not checked in this scan.',
    );
    expect(adminText()[0]).toContain('failed after 2 attempts');
    const status = statusReply(await rt!.status());
    expect(JSON.stringify(status.blocks)).toContain('*1 failed*');
    expect(JSON.stringify(status.blocks)).toContain('`org-external` eu-west-1');

    // The next scan tries again: the finding is resolved, the notice says the analyzer is back.
    aws.faults.internalError.length = 0;
    await scan();
    expect((await rt!.deps.store.get('eu-3'))?.status).toBe('RESOLVED');
    expect(admin()).toHaveLength(2);
    expect(admin()[1]!.text).toBe(
      'Resolved in eu-west-1: the bot has a complete scan of analyzer org-external again.',
    );
  }, 60_000);
});
