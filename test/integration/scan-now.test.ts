// A scan asked for now (`access-patrol scan`): every call is its own scan, even two asked for in the
// same millisecond. Real Redis and BullMQ, the AWS sandbox over HTTP, Slack behind nock.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type AwsSandbox, FindingStore as SandboxFindings, startAwsSandbox } from '../../sandbox/aws.ts';
import { JOBS } from '../../src/queue/index.ts';
import type { Runtime } from '../../src/runtime.ts';
import { type FakeSlack, fakeSlack } from '../helpers/fake-slack.ts';
import { testConfig, testRuntime, wipePrefix } from '../helpers/runtime.ts';

const ACCOUNT = '111111111111';
const REGION = 'us-east-1';
const ANALYZER = `arn:aws:access-analyzer:${REGION}:${ACCOUNT}:analyzer/org-external`;
const AT = '2026-11-20T00:00:00.000Z';
/** Both calls read this clock: the same millisecond, every time. */
const FROZEN = new Date('2026-12-02T12:00:00.000Z');

let aws: AwsSandbox | undefined;
let slack: FakeSlack | undefined;
let rt: Runtime | undefined;
let prefix = '';

afterEach(async () => {
  vi.restoreAllMocks();
  await rt?.close();
  await aws?.close();
  await wipePrefix(prefix);
  rt = aws = slack = undefined;
});

async function start() {
  aws = await startAwsSandbox({
    data: {
      callerAccount: ACCOUNT,
      accounts: [{ id: ACCOUNT, name: 'security' }],
      regions: [REGION],
      analyzers: [
        {
          arn: ANALYZER,
          name: 'org-external',
          type: 'ORGANIZATION',
          region: REGION,
          account: ACCOUNT,
          createdAt: '2026-01-01T00:00:00.000Z',
          status: 'ACTIVE',
        },
      ],
      findings: new SandboxFindings([
        {
          id: 'f-bucket',
          analyzerArn: ANALYZER,
          resource: 'arn:aws:s3:::shared-reports',
          resourceType: 'AWS::S3::Bucket',
          resourceOwnerAccount: ACCOUNT,
          findingType: 'ExternalAccess',
          status: 'ACTIVE',
          createdAt: AT,
          updatedAt: AT,
          analyzedAt: AT,
          details: [
            {
              externalAccessDetails: {
                principal: { AWS: '999988887777' },
                action: ['s3:GetObject'],
                condition: {},
                isPublic: false,
                sources: [{ type: 'POLICY' }],
              },
            },
          ],
        },
      ]),
      roles: [],
      users: [],
      resources: {},
    },
  });
  slack = fakeSlack();
  const config = testConfig({ regions: [REGION], scan: { expectedAnalyzerKinds: ['external'] } });
  prefix = config.redis.keyPrefix;
  const url = aws.url;
  rt = testRuntime(config, {
    now: () => new Date(FROZEN),
    aws: {
      credentials: { accessKeyId: 'AKIASANDBOXSCANNOW01', secretAccessKey: 'sandbox' },
      endpoints: { accessAnalyzer: url, iam: url, sts: url, tagging: url, s3: url },
      maxAttempts: 1,
    },
  });
  rt.startWorkers();
  return { rt, slack };
}

describe('scan now', () => {
  it('runs two scans for two calls in the same millisecond, each caller getting its own report', async () => {
    const { rt, slack } = await start();
    // The process clock stands still too, for whatever reads it to name the scan, until both scans
    // are queued (the pipeline itself needs a clock that moves).
    const clock = vi.spyOn(Date, 'now').mockReturnValue(FROZEN.getTime());
    const add = rt.queues.scan.add.bind(rt.queues.scan);
    let queued = 0;
    vi.spyOn(rt.queues.scan, 'add').mockImplementation(async (...args) => {
      const job = await add(...args);
      if (args[0] === JOBS.scanRun && ++queued === 2) clock.mockRestore();
      return job;
    });

    const [a, b] = await Promise.all([rt.scanNow({ timeoutMs: 30_000 }), rt.scanNow({ timeoutMs: 30_000 })]);

    expect(a.run.scanId).not.toBe(b.run.scanId);
    const runs = await rt.deps.queues.scan.getJobs(['completed']);
    const scanRuns = runs.filter((j) => j.name === JOBS.scanRun);
    expect(scanRuns).toHaveLength(2);
    expect(new Set(scanRuns.map((j) => j.id)).size).toBe(2);
    // Both scans read the analyzer; the finding still has one card.
    expect(aws!.counts().ListFindingsV2).toBeGreaterThanOrEqual(2);
    const cards = slack.posted.filter(
      (p) => (p.metadata as { event_type?: string } | undefined)?.event_type === 'access_patrol_finding',
    );
    expect(cards).toHaveLength(1);
  });
});
