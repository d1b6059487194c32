// The access-patrol command line: check-config lists every problem; owners explains routing for a
// resource by reading its tags from the sandbox AWS server through the SDK's endpoint variables.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type AwsSandbox, startAwsSandbox } from '../../sandbox/aws.ts';
import { demoData } from '../../sandbox/fixtures/demo-org.ts';
import { main, run } from '../../src/cli.ts';
import { AuditLog } from '../../src/store/audit.ts';
import { RoleBackupStore } from '../../src/store/backups.ts';
import { FindingStore } from '../../src/store/findings.ts';
import { keys } from '../../src/store/keys.ts';
import { makeFindingState } from '../factories/finding.ts';
import { fakeSlack } from '../helpers/fake-slack.ts';
import { REDIS_URL, uniquePrefix, wipePrefix } from '../helpers/runtime.ts';

let out: string;
let err: string;
let dir: string;

beforeEach(async () => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err += String(chunk);
    return true;
  });
  dir = await mkdtemp(join(tmpdir(), 'ap-cli-'));
});

afterEach(() => {
  vi.restoreAllMocks();
});

async function configFile(text: string): Promise<string> {
  const path = join(dir, 'access-patrol.yml');
  await writeFile(path, text);
  return path;
}

const GOOD = `regions: [us-east-1, eu-west-1]
slack:
  defaultChannel: "#sec-alerts"
  adminChannel: "#access-patrol-admin"
routing:
  - name: channel tag
    match: { tag: { key: access-patrol-channel } }
  - name: prod account
    match: { accountId: "222222222222" }
    channel: "#prod-security"
`;

describe('command line mistakes', () => {
  it('names an unknown command before reading any configuration', async () => {
    expect(await main(['sacn'], {})).toBe(2);
    expect(err).toMatch(
      /^access-patrol: unknown command "sacn" \(did you mean scan\?\)\nusage: access-patrol <command>/,
    );
    expect(err).not.toMatch(/configuration|SLACK_BOT_TOKEN/);
  });

  it('reports an unknown option in one line with the command’s usage, exit 2, no stack', async () => {
    expect(await main(['scan', '--regoin', 'eu-west-1'], {})).toBe(2);
    expect(err).toBe(
      'access-patrol scan: unknown option --regoin (did you mean --region?)\nusage: access-patrol scan [--region r]...\n',
    );
    err = '';
    expect(await main(['owners', 'arn:a', 'arn:b'], {})).toBe(2);
    expect(err).toBe(
      'access-patrol owners: unexpected argument "arn:b"\nusage: access-patrol owners <resource-arn> [--account <12-digit account id>]\n',
    );
    err = '';
    expect(await main(['audit', 'exprot'], {})).toBe(2);
    expect(err).toMatch(
      /^access-patrol audit: unknown audit command "exprot"\nusage: access-patrol audit export/,
    );
  });

  it('prints a command’s usage for --help, without configuration', async () => {
    expect(await main(['digest', '--help'], {})).toBe(0);
    expect(out).toBe('usage: access-patrol digest [--dry-run]\n');
    expect(await main([], {})).toBe(2);
    expect(err).toMatch(/^access-patrol: no command given\nusage:/);
  });

  it('turns a failure of a command into one line (run, the binary’s entry)', async () => {
    // A config path that is a directory passes the env check and fails reading, as a real mistake would.
    const code = await run(['check-config'], { SLACK_BOT_TOKEN: 'xoxb-1', ACCESS_PATROL_CONFIG: dir });
    expect(code).toBe(2);
    expect(err).toMatch(/expected a readable YAML config file .* got a directory/);
    expect(err).not.toMatch(/\n\s+at /);
  });
});

describe('access-patrol check-config', () => {
  it('rejects a cron pattern the scheduler would refuse, and the .env.example placeholder token', async () => {
    const code = await main(['check-config'], {
      SLACK_BOT_TOKEN: 'xoxb-your-bot-token',
      ACCESS_PATROL_CONFIG: await configFile(
        `${GOOD}digest:\n  cron: "99 99 * * *"\n  timezone: Mars/Base\n`,
      ),
    });
    expect(code).toBe(2);
    expect(err).toMatch(
      /env\.SLACK_BOT_TOKEN: expected .*not a placeholder, got the placeholder "xoxb-your-bot-token"/,
    );
    expect(err).toMatch(
      /digest\.cron: expected a cron pattern .*cron-parser: Constraint error, got value 99/,
    );
    expect(err).toMatch(/digest\.timezone: expected an IANA time zone/);
  });

  it('accepts a valid environment and config file', async () => {
    const code = await main(['check-config'], {
      SLACK_BOT_TOKEN: 'xoxb-1-2-abc',
      ACCESS_PATROL_CONFIG: await configFile(GOOD),
    });
    expect(code).toBe(0);
    expect(out).toMatch(/configuration OK: 2 region\(s\), 2 routing rule\(s\)/);
  });

  it('lists every problem of the environment and the file at once and exits 2', async () => {
    const code = await main(['check-config'], {
      SLACK_BOT_TOKEN: 'xoxp-this-is-a-user-token-not-a-bot-one',
      ACCESS_PATROL_CONFIG: await configFile(`regions: [mars]
scan:
  intervalMinute: 15
slack:
  defaultChannel: security
`),
    });
    expect(code).toBe(2);
    expect(err).toMatch(/env\.SLACK_BOT_TOKEN/);
    expect(err).not.toContain('xoxp-this-is-a-user-token-not-a-bot-one');
    expect(err).toMatch(/regions\[0\]/);
    expect(err).toMatch(/scan\.intervalMinute.*did you mean intervalMinutes/);
    expect(err).toMatch(/slack\.defaultChannel/);
    expect(err).toMatch(/slack\.adminChannel/);
  });

  it('says which file is missing', async () => {
    const code = await main(['check-config'], {
      SLACK_BOT_TOKEN: 'xoxb-1',
      ACCESS_PATROL_CONFIG: join(dir, 'nope.yml'),
    });
    expect(code).toBe(2);
    expect(err).toContain('nope.yml');
  });
});

describe('access-patrol owners', () => {
  let aws: AwsSandbox;
  beforeEach(async () => {
    aws = await startAwsSandbox({ data: demoData(new Date()) });
  });
  afterEach(async () => {
    await aws.close();
  });

  it('explains which rule routes a tagged role and why', async () => {
    const env = {
      SLACK_BOT_TOKEN: 'xoxb-1',
      ACCESS_PATROL_CONFIG: await configFile(GOOD),
    };
    for (const [k, v] of Object.entries({
      AWS_ENDPOINT_URL_IAM: aws.url,
      AWS_ENDPOINT_URL_STS: aws.url,
      AWS_ACCESS_KEY_ID: 'AKIASANDBOXCLI000001',
      AWS_SECRET_ACCESS_KEY: 'sandbox',
      AWS_REGION: 'us-east-1',
    })) {
      vi.stubEnv(k, v);
    }
    const code = await main(['owners', 'arn:aws:iam::222222222222:role/ci-deployer'], env);
    expect(err).not.toMatch(/access-patrol/);
    expect(code).toBe(0);
    expect(out).toMatch(/AWS::IAM::Role, account 222222222222/);
    expect(out).toMatch(/channel tag/);
    expect(out).toMatch(/→ #team-platform \(rule 'channel tag'\)/);
    expect(aws.counts().GetRole).toBeGreaterThanOrEqual(1);
  });

  describe('an S3 bucket ARN, which carries no account', () => {
    const BUCKET = 'arn:aws:s3:::logs-prod';
    const envFor = async () => {
      for (const [k, v] of Object.entries({
        AWS_ENDPOINT_URL_IAM: aws.url,
        AWS_ENDPOINT_URL_STS: aws.url,
        AWS_ENDPOINT_URL_RESOURCE_GROUPS_TAGGING_API: aws.url,
        AWS_ACCESS_KEY_ID: 'AKIASANDBOXCLI000001',
        AWS_SECRET_ACCESS_KEY: 'sandbox',
        AWS_REGION: 'us-east-1',
      })) {
        vi.stubEnv(k, v);
      }
      return {
        SLACK_BOT_TOKEN: 'xoxb-1',
        ACCESS_PATROL_CONFIG: await configFile(`${GOOD}tags:\n  useResourceGroupsTaggingApi: true\n`),
      };
    };

    it('asks for --account, an option the command has, and reads nothing from AWS', async () => {
      const code = await main(['owners', BUCKET], await envFor());
      expect(code).toBe(2);
      expect(err).toBe(
        `access-patrol owners: "${BUCKET}" carries no account id (S3 bucket ARNs never carry one): add --account <12-digit id>, the account that owns it, for the rules on accountId and the tag read\n`,
      );
      expect(out).toBe('');
      expect(aws.counts().GetResources ?? 0).toBe(0);
      err = '';
      expect(await main(['owners', '--help'], {})).toBe(0);
      expect(out).toBe('usage: access-patrol owners <resource-arn> [--account <12-digit account id>]\n');
      out = '';
      expect(await main(['--help'], {})).toBe(0);
      expect(out).toMatch(
        /owners <resource-arn> \[--account id\]\n.*\n\s+--account names the 12-digit account/,
      );
    });

    it('with --account evaluates the account rules and reads the tags in that account', async () => {
      const code = await main(['owners', BUCKET, '--account', '222222222222'], await envFor());
      expect(err).toBe('');
      expect(code).toBe(0);
      expect(out).toBe(
        [
          `${BUCKET} (AWS::S3::Bucket, account 222222222222 from --account, us-east-1)`,
          "rule 'channel tag' (#1): yes — tag access-patrol-channel is set ('#team-platform'); channel #team-platform from the tag",
          "rule 'prod account' (#2): yes — accountId 222222222222 is in [222222222222]",
          "→ #team-platform (rule 'channel tag'), owner alice@example.com",
          '',
        ].join('\n'),
      );
      expect(aws.counts().GetResources).toBe(1);
    });

    it('refuses an --account that is not 12 digits, or that contradicts the ARN', async () => {
      const env = await envFor();
      expect(await main(['owners', BUCKET, '--account', '2222-2222-2222'], env)).toBe(2);
      expect(err).toBe(
        'access-patrol owners: --account must be a 12-digit AWS account id (got "2222-2222-2222")\nusage: access-patrol owners <resource-arn> [--account <12-digit account id>]\n',
      );
      err = '';
      const role = 'arn:aws:iam::222222222222:role/ci-deployer';
      expect(await main(['owners', role, '--account', '333333333333'], env)).toBe(2);
      expect(err).toBe(
        `access-patrol owners: "${role}" names account 222222222222, not 333333333333: leave --account out for an ARN that carries its account\n`,
      );
      expect(out).toBe('');
    });
  });

  it('rejects something that is not an ARN', async () => {
    const code = await main(['owners', 'logs-prod'], {
      SLACK_BOT_TOKEN: 'xoxb-1',
      ACCESS_PATROL_CONFIG: await configFile(GOOD),
    });
    expect(code).toBe(2);
    expect(err).toMatch(/not an ARN/);
  });
});

describe('access-patrol digest', () => {
  let prefix: string;
  let env: Record<string, string>;
  const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();

  beforeEach(async () => {
    prefix = uniquePrefix('cli');
    env = {
      SLACK_BOT_TOKEN: 'xoxb-1',
      REDIS_URL,
      ACCESS_PATROL_CONFIG: await configFile(`regions: [eu-west-1]
slack:
  defaultChannel: "#sec-alerts"
  adminChannel: "#access-patrol-admin"
  postIntervalMs: 0
redis:
  keyPrefix: "${prefix}"
digest:
  emptyWeek: skip
`),
    };
    const redis = new Redis(REDIS_URL);
    try {
      await new FindingStore(redis, keys(prefix)).set(
        'f-open',
        makeFindingState({
          updatedAt: daysAgo(40),
          routeChannel: '#payments',
          analyzerArn: 'arn:aws:access-analyzer:eu-west-1:111111111111:analyzer/org',
          createdAt: daysAgo(40),
          firstSeen: daysAgo(40),
          ownerEmail: 'dana@example.com',
        }),
      );
    } finally {
      await redis.quit();
    }
  });
  afterEach(async () => {
    await wipePrefix(prefix);
  });

  it('--dry-run prints what each owner would get and sends nothing', async () => {
    const slack = fakeSlack();
    const code = await main(['digest', '--dry-run'], env);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(
      /^digest \d{4}-W\d{2} \(\d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}, UTC\): dry run, nothing sent/,
    );
    expect(out).toContain('→ channel #payments\n=== WEEKLY ACCESS DIGEST: #PAYMENTS ===');
    expect(out).toContain('*Open* 1 · *Overdue* 1 · *New* 0');
    expect(out).toContain(
      'ExternalAccess on `arn:aws:s3:::payments-exports` (`222222222222`, eu-west-1): open 40 days',
    );
    expect(out).toContain('→ channel #sec-alerts: nothing (empty week, emptyWeek: skip)');
    expect(out).toContain('→ DM to dana@example.com (the Slack user with this e-mail)');
    expect(slack.calls).toEqual([]);
    // Nothing recorded: a real run afterwards still sends.
    const redis = new Redis(REDIS_URL);
    try {
      expect(await redis.keys(`${prefix}digest*`)).toEqual([]);
    } finally {
      await redis.quit();
    }
  });

  it.each([
    ['not_in_channel', 'not in #payments'],
    ['channel_not_found', '#payments not found'],
  ])(
    'says the digest went to the default channel when the owner channel answers %s',
    async (error, words) => {
      const slack = fakeSlack();
      slack.users['dana@example.com'] = { id: 'U0DANA' };
      slack.failChannel('#payments', error);
      expect(await main(['digest'], env)).toBe(0);
      expect(err).toBe('');
      const lines = out.split('\n');
      expect(lines[0]).toMatch(/^digest \d{4}-W\d{2}: sent 2, already sent 0, skipped 1$/);
      expect(lines.slice(1)).toEqual([
        `  sent to #sec-alerts (fallback: ${words})`,
        '  sent to dana@example.com (DM D0DANA)',
        '',
      ]);
      // Slack was asked for #payments first, then got the digest in the default channel with a note.
      const posts = slack.byMethod('chat.postMessage').map((c) => c.args.channel);
      expect(posts).toEqual(['#payments', '#sec-alerts', 'D0DANA']);
      expect(JSON.stringify(slack.posted[0]!.blocks)).toContain(
        'Digest of #payments, which the bot cannot post to',
      );
      // The App Home's "last digest" of the default channel is not replaced by #payments' digest.
      const redis = new Redis(REDIS_URL);
      try {
        expect(await redis.exists(`${prefix}digest-last:ch-#sec-alerts`)).toBe(0);
        const last = JSON.parse((await redis.get(`${prefix}digest-last:ch-#payments`)) ?? '{}');
        expect(last).toMatchObject({ channel: '#sec-alerts' });
      } finally {
        await redis.quit();
      }
    },
  );

  it('--dry-run says a channel the bot could not post to last time will likely get its digest elsewhere', async () => {
    fakeSlack();
    const redis = new Redis(REDIS_URL);
    try {
      // What a delivery that fell back leaves behind (the admin notice's record, jobs/deliver.ts).
      await redis.set(`${prefix}notice:channel:#payments`, 'not_in_channel');
    } finally {
      await redis.quit();
    }
    expect(await main(['digest', '--dry-run'], env)).toBe(0);
    expect(out).toContain(
      "→ channel #payments, likely #sec-alerts instead (the bot's last post there: not in #payments)\n",
    );
    expect(out).toContain('→ channel #sec-alerts: nothing (empty week, emptyWeek: skip)');
  });

  it('without --dry-run sends the digests now, and a second run sends nothing more', async () => {
    const slack = fakeSlack();
    slack.users['dana@example.com'] = { id: 'U0DANA' };
    expect(await main(['digest'], env)).toBe(0);
    expect(out).toMatch(/sent 2, already sent 0, skipped 1/);
    expect(out).toContain('sent to #payments');
    expect(out).toContain('sent to dana@example.com (DM D0DANA)');
    expect(slack.posted.map((p) => p.channel)).toEqual(['#payments', 'D0DANA']);
    out = '';
    expect(await main(['digest'], env)).toBe(0);
    expect(out).toMatch(/sent 0, already sent 2, skipped 1/);
    expect(slack.posted).toHaveLength(2);
  });
});

describe('access-patrol scan', () => {
  let aws: AwsSandbox;
  let prefix: string;
  beforeEach(async () => {
    aws = await startAwsSandbox({ data: demoData(new Date(), { burst: false }) });
    prefix = uniquePrefix('cliscan');
    for (const [k, v] of Object.entries({
      AWS_ENDPOINT_URL_ACCESSANALYZER: aws.url,
      AWS_ENDPOINT_URL_IAM: aws.url,
      AWS_ENDPOINT_URL_STS: aws.url,
      AWS_ACCESS_KEY_ID: 'AKIASANDBOXCLI000001',
      AWS_SECRET_ACCESS_KEY: 'sandbox',
      AWS_REGION: 'us-east-1',
    })) {
      vi.stubEnv(k, v);
    }
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await aws.close();
    await wipePrefix(prefix);
  });

  it('reports an analyzer that kept failing in its summary and exits 1; the next scan retries it', async () => {
    const slack = fakeSlack();
    aws.faults.internalError.push({ region: 'eu-west-1', operation: 'ListFindingsV2' });
    const env = {
      SLACK_BOT_TOKEN: 'xoxb-1',
      REDIS_URL,
      ACCESS_PATROL_CONFIG: await configFile(`regions: [us-east-1, eu-west-1]
scan:
  attempts: 2
  retryDelayMs: 10
slack:
  defaultChannel: "#sec-alerts"
  adminChannel: "#access-patrol-admin"
  postIntervalMs: 0
redis:
  keyPrefix: "${prefix}"
`),
    };

    expect(await main(['scan'], env)).toBe(1);
    expect(out).toMatch(
      /^scan \S+: 2 region\(s\), 4 analyzer\(s\) scanned, 1 failed, \d+ active finding\(s\)/,
    );
    expect(out).toContain(
      'FAILED arn:aws:access-analyzer:eu-west-1:111111111111:analyzer/org-external after 2 attempt(s): ',
    );
    const notices = slack.posted.filter((p) => p.channel === '#access-patrol-admin').map((p) => p.text);
    expect(notices).toContain(
      'Scanning analyzer org-external (eu-west-1) failed: its findings were not checked in this scan.',
    );

    aws.faults.internalError.length = 0;
    out = '';
    expect(await main(['scan'], env)).toBe(0);
    expect(out).toMatch(/5 analyzer\(s\) scanned, 0 failed/);
  }, 60_000);
});

describe('access-patrol restore-role', () => {
  let aws: AwsSandbox;
  let prefix: string;
  beforeEach(async () => {
    aws = await startAwsSandbox({ data: demoData(new Date()) });
    prefix = uniquePrefix('rr');
  });
  afterEach(async () => {
    await aws.close();
    await wipePrefix(prefix);
  });

  it('recreates a deleted role from its newest backup without Slack, and audits it', async () => {
    const redis = new Redis(REDIS_URL);
    const store = new RoleBackupStore(redis, keys(prefix), 365);
    const backup = {
      version: 1 as const,
      accountId: '111111111111',
      roleName: 'old-batch',
      arn: 'arn:aws:iam::111111111111:role/old-batch',
      path: '/',
      assumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'batch.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      }),
      tags: [{ Key: 'team', Value: 'data' }],
      inlinePolicies: [
        {
          name: 'read-reports',
          document: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::reports/*' }],
          }),
        },
      ],
      attachedPolicyArns: [],
      instanceProfileNames: [],
    };
    await store.save({ ...backup, description: 'older', takenAt: '2026-01-01T00:00:00.000Z' });
    await store.save({ ...backup, description: 'newest', takenAt: '2026-02-01T00:00:00.000Z' });
    await redis.quit();
    for (const [k, v] of Object.entries({
      AWS_ENDPOINT_URL_IAM: aws.url,
      AWS_ENDPOINT_URL_STS: aws.url,
      AWS_ACCESS_KEY_ID: 'AKIASANDBOXCLI000002',
      AWS_SECRET_ACCESS_KEY: 'sandbox',
      AWS_REGION: 'us-east-1',
    }))
      vi.stubEnv(k, v);
    const env = {
      SLACK_BOT_TOKEN: 'xoxb-1',
      REDIS_URL,
      ACCESS_PATROL_CONFIG: await configFile(`${GOOD}redis: { keyPrefix: "${prefix}" }\n`),
    };

    expect(await main(['restore-role', '111111111111', 'old-batch', '--list'], env)).toBe(0);
    expect(
      out
        .trim()
        .split('\n')
        .map((l) => l.split('  ')[0]),
    ).toEqual(['2026-02-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z']);
    out = '';
    expect(await main(['restore-role', '111111111111', 'old-batch'], env)).toBe(0);
    expect(out).toMatch(
      /restored arn:aws:iam::111111111111:role\/old-batch from the backup taken 2026-02-01/,
    );
    const role = aws.data.roles.find((r) => r.account === '111111111111' && r.name === 'old-batch');
    expect(role).toMatchObject({ description: 'newest', tags: { team: 'data' } });
    expect(Object.keys(role?.inlinePolicies ?? {})).toEqual(['read-reports']);

    const check = new Redis(REDIS_URL);
    const entries = await new AuditLog(check, keys(prefix), { retentionDays: 30, maxEntries: 1000 }).query({
      user: 'cli',
    });
    await check.quit();
    expect(entries).toMatchObject([
      { action: 'restore-role', outcome: 'succeeded', accountId: '111111111111' },
    ]);

    out = '';
    err = '';
    expect(await main(['restore-role', '111111111111', 'never-deleted'], env)).toBe(1);
    expect(err).toMatch(
      /no backup of never-deleted in 111111111111 \(backups are kept 365 days; --list shows them\)/,
    );
  });
});
