import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseEnv as parseDotEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  type Env,
  formatProblems,
  loadDotEnv,
  parseEnv,
  requireWebEnv,
  slackApiBase,
} from '../../src/config/env.ts';
import { loadAll, loadConfigFile, parseConfigText } from '../../src/config/load.ts';
import type { ConfigProblem } from '../../src/config/problems.ts';
import { boltLogger, createLogger } from '../../src/log.ts';

const MINIMAL = `
regions: [eu-west-1]
slack:
  defaultChannel: "#security"
  adminChannel: C0123456789
`;

const BOT_TOKEN = 'xoxb-1111111111-2222222222-abcdefghijklmnopqrstuvwx';

function problemsOf(text: string): ConfigProblem[] {
  const result = parseConfigText(text, 'test.yml');
  if (result.ok) throw new Error('expected problems, config was valid');
  return result.problems;
}

describe('parseConfigText', () => {
  it('accepts a minimal config and fills every default', () => {
    const result = parseConfigText(MINIMAL, 'test.yml');
    expect(result).toEqual({
      ok: true,
      config: {
        regions: ['eu-west-1'],
        scan: {
          intervalMinutes: 30,
          concurrency: 4,
          pageSize: 100,
          detailConcurrency: 4,
          expectedAnalyzerKinds: ['external', 'internal', 'unused'],
          attempts: 8,
          retryDelayMs: 2000,
        },
        workers: {
          deliverConcurrency: 8,
          actionsConcurrency: 4,
          maxStalledCount: 5,
          stalledIntervalMs: 15_000,
          lockMs: 30_000,
        },
        shutdown: { graceMs: 20_000 },
        slack: {
          defaultChannel: '#security',
          adminChannel: 'C0123456789',
          burstThreshold: 10,
          postIntervalMs: 1100,
        },
        accounts: {},
        aws: {
          rateLimits: {
            accessAnalyzer: { perSecond: 10, burst: 10 },
            tagging: { perSecond: 5, burst: 5 },
            iam: { perSecond: 10, burst: 10 },
          },
        },
        tags: { ownerEmailTag: 'owner', useResourceGroupsTaggingApi: false },
        routing: [],
        severity: { overrides: {} },
        redis: { keyPrefix: 'ap:', resolvedRetentionDays: 90 },
        consoleUrl: 'https://console.aws.amazon.com',
        permissions: {
          admins: { users: [], userGroups: [] },
          archive: { users: [], userGroups: [], ownerChannelMembers: true },
          unarchive: { users: [], userGroups: [], ownerChannelMembers: true },
          rescan: { users: [], userGroups: [], ownerChannelMembers: true },
          'generate-policy': { users: [], userGroups: [], ownerChannelMembers: true },
          'delete-role': { users: [], userGroups: [], ownerChannelMembers: false },
          'restore-role': { users: [], userGroups: [], ownerChannelMembers: false },
          scan: { users: [], userGroups: [], ownerChannelMembers: false },
          snooze: { users: [], userGroups: [], ownerChannelMembers: true },
          recommend: { users: [], userGroups: [], ownerChannelMembers: true },
          read: { users: [], userGroups: [], ownerChannelMembers: true },
          'block-public-access': { users: [], userGroups: [], ownerChannelMembers: false, channels: [] },
          'deactivate-key': { users: [], userGroups: [], ownerChannelMembers: false, channels: [] },
          'remove-password': { users: [], userGroups: [], ownerChannelMembers: false, channels: [] },
          'remove-external-access': { users: [], userGroups: [], ownerChannelMembers: false, channels: [] },
          'delete-key': { users: [], userGroups: [], ownerChannelMembers: false },
          'quarantine-role': { users: [], userGroups: [], ownerChannelMembers: false, channels: [] },
          'apply-recommendation': { users: [], userGroups: [], ownerChannelMembers: false, channels: [] },
          'archive-rule': { users: [], userGroups: [], ownerChannelMembers: false },
          'create-analyzer': { users: [], userGroups: [], ownerChannelMembers: false },
        },
        audit: { retentionDays: 400, maxEntries: 1_000_000 },
        roles: {
          minUnusedDays: 90,
          protectTagKeys: ['access-patrol:protect'],
          backupRetentionDays: 365,
          unusedRole: 'quarantine',
          quarantineDays: 30,
        },
        fixes: { backupRetentionDays: 90, deleteInactiveKeyAfterDays: 30, rescanDelaySeconds: 60 },
        aging: {
          slaDays: {
            'public-access': 1,
            'cross-account-access': 7,
            'internal-access': 14,
            'unused-role': 30,
            'unused-credential': 30,
            'unused-permission': 30,
          },
          remindEveryDays: 3,
          escalateAfterReminders: 3,
          sweepCron: '0 8 * * *',
          timezone: 'UTC',
        },
        digest: {
          cron: '0 9 * * 1',
          timezone: 'UTC',
          emptyWeek: 'all-clear',
          dmOwners: true,
          overdueLimit: 10,
        },
      },
    });
  });

  it('rejects cron patterns and time zones that BullMQ’s cron-parser would refuse at start', () => {
    const problems = problemsOf(
      `${MINIMAL}digest:\n  cron: "99 99 * * *"\naging:\n  sweepCron: "0 8 * *"\n  timezone: Europe/Paris\n`,
    );
    expect(problems.map((p) => [p.path, p.got])).toEqual([
      ['digest.cron', '"99 99 * * *"'],
      ['aging.sweepCron', '"0 8 * *"'],
    ]);
    expect(problems[0]!.expected).toMatch(/cron-parser: Constraint error, got value 99 expected range 0-59/);
    expect(problems[1]!.expected).toMatch(/five or six fields/);
    // Six fields (with seconds) and named days are what cron-parser accepts too.
    expect(parseConfigText(`${MINIMAL}digest:\n  cron: "0 30 9 * * MON-FRI"\n`, 'test.yml').ok).toBe(true);
  });

  it('says to quote a channel name that YAML read as a comment', () => {
    const problems = problemsOf(`
regions: [eu-west-1]
slack:
  defaultChannel: #security
  adminChannel: C0123456789
routing:
  - match: { accountId: "111111111111" }
    channel:   # a real comment, no value
`);
    expect(problems.map((p) => [p.path, p.got])).toEqual([
      [
        'slack.defaultChannel',
        'null (YAML reads the unquoted "#security" as a comment: quote it, "#security")',
      ],
      ['routing[0].channel', 'null'],
    ]);
  });

  it('rejects a digest section with an unknown empty-week mode, time zone or key', () => {
    const result = parseConfigText(
      `${MINIMAL}digest:\n  emptyWeek: silent\n  timezone: Mars/Olympus\n  overdueLimit: 0\n  extra: 1\n`,
      'test.yml',
    );
    expect(result.ok).toBe(false);
    const paths = result.ok ? [] : result.problems.map((p) => p.path);
    expect(paths).toEqual(['digest.emptyWeek', 'digest.timezone', 'digest.overdueLimit', 'digest.extra']);
  });

  it('rejects a Delete key offer later than the backup it reads is kept', () => {
    const result = parseConfigText(
      `${MINIMAL}fixes:\n  backupRetentionDays: 20\n  deleteInactiveKeyAfterDays: 30\n`,
      'test.yml',
    );
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems.map((p) => p.path)).toEqual(['fixes.deleteInactiveKeyAfterDays']);
    expect(problems[0]!.expected).toMatch(/at most fixes.backupRetentionDays/);
    expect(problems[0]!.got).toBe('30');
  });

  it('lists every problem at once, in file order, with path, position, expectation and value', () => {
    const problems = problemsOf(`regions: [eu-west-1, eu-west-1]
scan:
  intervalMinute: 15
slack:
  defaultChannel: security
  adminChannel: "#admin"
routing:
  - name: prod
    match: { accountId: "22222222222" }
    channel: "#prod"
  - name: prod
    match: { region: eu-west-1 }
    channel: "#eu"
`);
    expect(problems).toEqual([
      {
        path: 'regions[1]',
        at: 'test.yml:1:22',
        expected: 'each region listed once',
        got: '"eu-west-1" again (also regions[0])',
      },
      {
        path: 'scan.intervalMinute',
        at: 'test.yml:3:3',
        expected:
          'no such key (did you mean intervalMinutes? known: intervalMinutes, concurrency, pageSize, detailConcurrency, expectedAnalyzerKinds, attempts, retryDelayMs)',
        got: '15',
      },
      {
        path: 'slack.defaultChannel',
        at: 'test.yml:5:19',
        expected: 'a Slack channel id such as C0123456789 or a name such as #security-alerts',
        got: '"security"',
      },
      {
        path: 'routing[0].match.accountId',
        at: 'test.yml:9:25',
        expected: 'a 12-digit AWS account id',
        got: '"22222222222"',
      },
      {
        path: 'routing[1].name',
        at: 'test.yml:11:11',
        expected: 'a rule name no other rule uses',
        got: '"prod" (also routing[0].name)',
      },
    ]);
    expect(formatProblems(problems).split('\n')).toHaveLength(5);
  });

  const cases: { name: string; yaml: string; problem: Partial<ConfigProblem> }[] = [
    {
      name: 'a routing owner that is not a Slack user id',
      yaml: 'regions: [eu-west-1]\nslack: { defaultChannel: "#a", adminChannel: "#b" }\nrouting:\n  - match: { accountId: "222222222222" }\n    channel: "#p"\n    owners: { users: ["@dana"] }\n',
      problem: {
        path: 'routing[0].owners.users[0]',
        expected: 'a Slack user id such as U0123456789 (W… on Enterprise Grid)',
        got: '"@dana"',
      },
    },
    {
      name: 'a missing required key',
      yaml: 'regions: [eu-west-1]\nslack: { defaultChannel: "#a" }\n',
      problem: {
        path: 'slack.adminChannel',
        expected: 'a Slack channel id such as C0123456789 or a name such as #security-alerts (required)',
        got: 'nothing',
      },
    },
    {
      name: 'a number out of range',
      yaml: `${MINIMAL}scan: { intervalMinutes: 1 }\n`,
      problem: { path: 'scan.intervalMinutes', expected: 'a number ≥ 5', got: '1' },
    },
    {
      name: 'a wrong type',
      yaml: `${MINIMAL}scan: { concurrency: lots }\n`,
      problem: { path: 'scan.concurrency', expected: 'a number', got: '"lots"' },
    },
    {
      name: 'a bad element inside a list condition',
      yaml: `${MINIMAL}routing: [{ match: { findingType: [ExternalAccess, Public] }, channel: "#x" }]\n`,
      problem: { path: 'routing[0].match.findingType[1]', got: '"Public"' },
    },
    {
      name: 'a rule without conditions',
      yaml: `${MINIMAL}routing: [{ match: {}, channel: "#x" }]\n`,
      problem: { path: 'routing[0].match', expected: expect.stringContaining('at least one condition') },
    },
    {
      name: 'a rule with neither channel nor tag',
      yaml: `${MINIMAL}routing: [{ match: { region: eu-west-1 } }]\n`,
      problem: { path: 'routing[0].channel', expected: expect.stringContaining('`tag` condition') },
    },
    {
      name: 'a rule on a region that is not scanned',
      yaml: `${MINIMAL}routing: [{ match: { region: [eu-west-1, eu-wset-1] }, channel: "#x" }]\n`,
      problem: {
        path: 'routing[0].match.region[1]',
        expected: 'one of the scanned regions (eu-west-1)',
        got: '"eu-wset-1"',
      },
    },
    {
      name: 'an account key that is not an account id',
      yaml: `${MINIMAL}accounts: { prod: { name: Prod } }\n`,
      problem: { path: 'accounts.prod', expected: 'a key that is a 12-digit AWS account id', got: '"prod"' },
    },
    {
      name: 'an unknown severity category',
      yaml: `${MINIMAL}severity: { overrides: { public: high } }\n`,
      problem: {
        path: 'severity.overrides.public',
        expected: expect.stringContaining('known: public-access, cross-account-access'),
      },
    },
    {
      name: 'an unknown top-level key',
      yaml: `${MINIMAL}region: eu-west-1\n`,
      problem: {
        path: 'region',
        expected: expect.stringContaining('did you mean regions?'),
        at: 'test.yml:6:1',
      },
    },
    {
      name: 'a long value, truncated',
      yaml: `${MINIMAL}consoleUrl: ${'x'.repeat(200)}\n`,
      problem: { path: 'consoleUrl', got: `"${'x'.repeat(58)}…` },
    },
    {
      name: 'a document that is not a mapping',
      yaml: '- eu-west-1\n',
      problem: { path: '(top level)', expected: 'a mapping', got: '["eu-west-1"]' },
    },
  ];
  it.each(cases)('reports $name', ({ yaml, problem }) => {
    expect(problemsOf(yaml)).toContainEqual(expect.objectContaining(problem));
  });

  it('reports YAML syntax errors with line and column, before any schema check', () => {
    const problems = problemsOf('regions: [eu-west-1]\nslack:\n  defaultChannel: a: b\n');
    expect(problems).toEqual([
      {
        path: 'YAML syntax',
        at: 'test.yml:3:19',
        expected: 'valid YAML',
        got: 'Nested mappings are not allowed in compact mappings',
      },
    ]);
  });

  it('reports a duplicated key as a YAML error', () => {
    expect(problemsOf(`${MINIMAL}regions: [us-east-1]\n`)[0]).toMatchObject({
      path: 'YAML syntax',
      got: expect.stringContaining('unique'),
    });
  });

  it('keeps the leading zero of unquoted account ids', () => {
    const result = parseConfigText(
      `${MINIMAL}accounts:\n  012345678901: { name: sandbox }\nrouting: [{ match: { accountId: 012345678901 }, channel: "#s" }]\n`,
      'test.yml',
    );
    expect(result.ok && result.config.accounts).toEqual({ '012345678901': { name: 'sandbox' } });
    expect(result.ok && result.config.routing[0]?.match.accountId).toBe('012345678901');
  });

  it('accepts config.example.yml', async () => {
    const text = await readFile(new URL('../../config.example.yml', import.meta.url), 'utf8');
    const result = parseConfigText(text, 'config.example.yml');
    expect(result.ok ? [] : formatProblems(result.problems)).toEqual([]);
  });
});

describe('loadConfigFile', () => {
  it('turns a missing file into one clear problem', async () => {
    const result = await loadConfigFile('/nonexistent/access-patrol.yml');
    expect(result).toEqual({
      ok: false,
      problems: [
        {
          path: '/nonexistent/access-patrol.yml',
          expected: 'a readable YAML config file (set ACCESS_PATROL_CONFIG to its path)',
          got: 'no such file',
        },
      ],
    });
  });
});

describe('parseEnv', () => {
  it('applies defaults to a minimal environment', () => {
    expect(parseEnv({ SLACK_BOT_TOKEN: BOT_TOKEN })).toEqual({
      ok: true,
      value: {
        slackBotToken: BOT_TOKEN,
        redisUrl: 'redis://127.0.0.1:6379',
        redisCluster: false,
        configPath: './access-patrol.yml',
        logLevel: 'info',
        port: 3000,
        awsMaxAttempts: 5,
        awsRetryMode: 'standard',
      } satisfies Env,
    });
  });

  it('reads every variable, treats blank as unset and falls back to AWS_DEFAULT_REGION', () => {
    const result = parseEnv({
      SLACK_BOT_TOKEN: ` ${BOT_TOKEN}\n`,
      SLACK_SIGNING_SECRET: 'abc123',
      SLACK_APP_TOKEN: '',
      SLACK_API_URL: 'http://127.0.0.1:4000',
      REDIS_URL: 'rediss://:pw@redis.internal:6380/2',
      REDIS_CLUSTER: 'TRUE',
      ACCESS_PATROL_CONFIG: '/etc/access-patrol.yml',
      LOG_LEVEL: 'DEBUG',
      PORT: '8080',
      AWS_DEFAULT_REGION: 'eu-central-1',
      AWS_MAX_ATTEMPTS: ' 8 ',
      AWS_RETRY_MODE: 'ADAPTIVE',
    });
    expect(result).toEqual({
      ok: true,
      value: {
        slackBotToken: BOT_TOKEN,
        slackSigningSecret: 'abc123',
        slackApiUrl: 'http://127.0.0.1:4000/api/',
        redisUrl: 'rediss://:pw@redis.internal:6380/2',
        redisCluster: true,
        configPath: '/etc/access-patrol.yml',
        logLevel: 'debug',
        port: 8080,
        awsRegion: 'eu-central-1',
        awsMaxAttempts: 8,
        awsRetryMode: 'adaptive',
      },
    });
  });

  it('lists every problem and never prints a secret in full', () => {
    const wrongToken = 'xoxp-1111111111-2222222222-secretsecretsecret';
    const result = parseEnv({
      SLACK_BOT_TOKEN: wrongToken,
      SLACK_APP_TOKEN: 'xoxb-not-an-app-token-but-long',
      REDIS_URL: 'http://user:hunter2@localhost',
      LOG_LEVEL: 'loud',
      PORT: '80a',
      AWS_REGION: 'Europe',
    });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems.map((p) => p.path)).toEqual([
      'env.SLACK_BOT_TOKEN',
      'env.SLACK_APP_TOKEN',
      'env.REDIS_URL',
      'env.LOG_LEVEL',
      'env.PORT',
      'env.AWS_REGION',
    ]);
    const text = formatProblems(problems);
    expect(text).not.toContain(wrongToken);
    expect(text).not.toContain('secretsecret');
    expect(text).not.toContain('not-an-app-token');
    expect(text).not.toContain('hunter2');
    expect(problems[0]).toEqual({
      path: 'env.SLACK_BOT_TOKEN',
      expected: 'a Slack bot token starting with xoxb-',
      got: `"xoxp-…" (${wrongToken.length} characters, hidden)`,
    });
  });

  it('reports a missing bot token', () => {
    expect(parseEnv({})).toEqual({
      ok: false,
      problems: [
        { path: 'env.SLACK_BOT_TOKEN', expected: 'a Slack bot token starting with xoxb-', got: 'unset' },
      ],
    });
  });

  const urls: [string, string][] = [
    ['https://slack.com', 'https://slack.com/api/'],
    ['https://slack.com/', 'https://slack.com/api/'],
    ['https://slack.com/api', 'https://slack.com/api/'],
    ['https://slack.com/api/', 'https://slack.com/api/'],
    ['http://localhost:4000/slack/', 'http://localhost:4000/slack/api/'],
  ];
  it.each(urls)('normalises SLACK_API_URL %s to %s', (input, expected) => {
    expect(slackApiBase(input)).toBe(expected);
  });
});

describe('placeholders and .env', () => {
  it('rejects every placeholder of .env.example, naming the variable', async () => {
    const example = parseDotEnv(await readFile(new URL('../../.env.example', import.meta.url), 'utf8'));
    expect(example.SLACK_BOT_TOKEN).toBe('xoxb-your-bot-token');
    const result = parseEnv({
      ...example,
      SLACK_SIGNING_SECRET: 'your-signing-secret',
      SLACK_APP_TOKEN: 'xapp-xxxx',
    });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems.map((p) => p.path)).toEqual([
      'env.SLACK_BOT_TOKEN',
      'env.SLACK_SIGNING_SECRET',
      'env.SLACK_APP_TOKEN',
    ]);
    expect(problems[0]!.got).toMatch(/^the placeholder "xoxb-your-bot-token"/);
    expect(
      parseEnv({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: '8f742231b10e8888abcd99yyyzzz85a5' }).ok,
    ).toBe(true);
  });

  it('reads .env into the variables the process does not set, and nothing when there is none', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ap-env-'));
    const path = join(dir, '.env');
    await writeFile(path, `# comment\nSLACK_BOT_TOKEN=${BOT_TOKEN}\nLOG_LEVEL=debug\nPORT="4001"\n`);
    const env: NodeJS.ProcessEnv = { LOG_LEVEL: 'warn' };
    expect(loadDotEnv(env, path)).toBe(path);
    expect(env).toEqual({ SLACK_BOT_TOKEN: BOT_TOKEN, LOG_LEVEL: 'warn', PORT: '4001' });
    const untouched: NodeJS.ProcessEnv = {};
    expect(loadDotEnv(untouched, join(dir, 'missing.env'))).toBeUndefined();
    expect(untouched).toEqual({});
  });
});

describe('requireWebEnv', () => {
  const base = parseEnv({ SLACK_BOT_TOKEN: BOT_TOKEN });
  const env = base.ok ? base.value : (undefined as never);

  it('prefers Socket Mode when an app token is set', () => {
    expect(requireWebEnv({ ...env, slackAppToken: 'xapp-1', slackSigningSecret: 's' })).toEqual({
      ok: true,
      value: { mode: 'socket', appToken: 'xapp-1' },
    });
  });

  it('uses HTTP with the signing secret otherwise', () => {
    expect(requireWebEnv({ ...env, slackSigningSecret: 's' })).toEqual({
      ok: true,
      value: { mode: 'http', signingSecret: 's' },
    });
  });

  it('needs one of the two', () => {
    expect(requireWebEnv(env)).toMatchObject({ ok: false, problems: [{ path: 'env.SLACK_SIGNING_SECRET' }] });
  });
});

describe('loadAll', () => {
  it('combines environment and config file problems', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'access-patrol-config-'));
    const file = join(dir, 'access-patrol.yml');
    await writeFile(
      file,
      'regions: [eu-west-1]\nslack: { defaultChannel: "#a", adminChannel: "#b" }\nscans: {}\n',
    );
    const result = await loadAll({ ACCESS_PATROL_CONFIG: file, PORT: 'eighty' });
    expect(result.ok ? [] : result.problems.map((p) => p.path)).toEqual([
      'env.SLACK_BOT_TOKEN',
      'env.PORT',
      'scans',
    ]);
  });

  it('returns env and config when both are valid', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'access-patrol-config-'));
    const file = join(dir, 'access-patrol.yml');
    await writeFile(file, MINIMAL);
    const result = await loadAll({ ACCESS_PATROL_CONFIG: file, SLACK_BOT_TOKEN: BOT_TOKEN });
    expect(result).toMatchObject({ ok: true, env: { configPath: file }, config: { regions: ['eu-west-1'] } });
  });
});

describe('logging keeps secrets out', () => {
  function collect() {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
        done();
      },
    });
    return { lines, destination };
  }

  it('redacts token and secret fields and Slack tokens inside messages', () => {
    const { lines, destination } = collect();
    const log = createLogger({ level: 'info', destination });
    log.info(
      {
        env: { SLACK_BOT_TOKEN: BOT_TOKEN },
        client: { botToken: BOT_TOKEN, signingSecret: 'sig' },
        req: { headers: { authorization: `Bearer ${BOT_TOKEN}` } },
        creds: { Credentials: { SecretAccessKey: 'aws-secret', SessionToken: 'aws-session' } },
        keep: 'visible',
      },
      `calling with ${BOT_TOKEN}`,
    );
    const text = JSON.stringify(lines);
    expect(text).not.toContain('abcdefghijklmnop');
    expect(text).not.toContain('aws-secret');
    expect(text).not.toContain('aws-session');
    expect(text).not.toContain('"sig"');
    expect(text).toContain('visible');
    expect(lines[0]?.msg).toBe('calling with xoxb-[REDACTED]');
  });

  it('writes readable lines with --pretty, scrubbed like the JSON ones', () => {
    let text = '';
    const destination = new Writable({
      write(chunk, _enc, done) {
        text += String(chunk);
        done();
      },
    });
    const log = createLogger({ level: 'info', pretty: true, destination, secrets: ['aws-secret-value-1'] });
    log.warn({ scanId: 'scan-1', key: 'aws-secret-value-1' }, `could not post with ${BOT_TOKEN}`);
    expect(text).toMatch(
      /^\[\d\d:\d\d:\d\d\] WARN: could not post with xoxb-\[REDACTED\]\n\s+scanId: "scan-1"\n\s+key: "\[REDACTED\]"\n$/,
    );
  });

  it('adapts pino to Bolt’s logger', () => {
    const { lines, destination } = collect();
    const bolt = boltLogger(createLogger({ level: 'info', destination }));
    bolt.setName('bolt-app');
    bolt.debug('hidden');
    bolt.error('failed to post', new Error('channel_not_found'), { channel: 'C1' });
    expect(bolt.getLevel()).toBe('info');
    bolt.setLevel('debug' as Parameters<typeof bolt.setLevel>[0]);
    bolt.debug('now shown');
    expect(lines).toMatchObject([
      {
        level: 50,
        name: 'bolt-app',
        component: 'slack',
        msg: 'failed to post',
        err: { message: 'channel_not_found' },
        data: { channel: 'C1' },
      },
      { level: 20, msg: 'now shown' },
    ]);
  });
});

describe('docs/configuration.md and config.example.yml', () => {
  it('has every config table generated from the schema (npm run gen:docs)', async () => {
    const { renderConfigDoc } = await import('../../scripts/config-docs.ts');
    const committed = await readFile(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    expect(committed, 'docs/configuration.md is stale: run npm run gen:docs').toBe(await renderConfigDoc());
  });

  it('shows every top-level key in config.example.yml, which validates', async () => {
    const { configSchema } = await import('../../src/config/schema.ts');
    const text = await readFile(new URL('../../config.example.yml', import.meta.url), 'utf8');
    const keys = Object.keys(configSchema.shape);
    for (const key of keys) expect(text, key).toMatch(new RegExp(`^${key}:`, 'm'));
    expect(parseConfigText(text, 'config.example.yml').ok).toBe(true);
  });
});
