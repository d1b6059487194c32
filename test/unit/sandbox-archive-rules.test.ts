// The AWS sandbox's archive rules and CreateAnalyzer, driven by the real SDK v3 client: what AWS
// accepts, the errors it answers with, and ApplyArchiveRule archiving the matching ACTIVE findings.
import {
  AccessAnalyzerClient,
  ApplyArchiveRuleCommand,
  ConflictException,
  CreateAnalyzerCommand,
  CreateArchiveRuleCommand,
  DeleteArchiveRuleCommand,
  GetArchiveRuleCommand,
  GetFindingV2Command,
  ListArchiveRulesCommand,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  UpdateFindingsCommand,
  ValidationException,
} from '@aws-sdk/client-accessanalyzer';
import { afterEach, describe, expect, it } from 'vitest';
import { ARCHIVE_RULES_PER_ANALYZER } from '../../sandbox/aws/access-analyzer.ts';
import { type AwsSandbox, startAwsSandbox } from '../../sandbox/aws.ts';
import { DEMO_ANALYZERS, DEMO_FINDING_IDS, demoData } from '../../sandbox/fixtures/demo-org.ts';
import { filterMatches, filterValuesOf } from '../../src/findings/archive-rule.ts';
import { normalizeFinding } from '../../src/findings/normalize.ts';

const NOW = new Date('2026-11-29T12:00:00.000Z');
let sandbox: AwsSandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function start() {
  sandbox = await startAwsSandbox({ data: demoData(NOW, { burst: true }) });
  return new AccessAnalyzerClient({
    region: 'us-east-1',
    endpoint: sandbox.url,
    credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'secret' },
    maxAttempts: 1,
  });
}

const UNUSED_ROLES = {
  findingType: { eq: ['UnusedIAMRole'] },
  resource: { contains: ['sandbox-experiment-'] },
};

describe('archive rules in the sandbox', () => {
  it('creates, lists, gets and deletes a rule; a deleted rule is not found', async () => {
    const aa = await start();
    await aa.send(
      new CreateArchiveRuleCommand({ analyzerName: 'org-unused', ruleName: 'sandbox', filter: UNUSED_ROLES }),
    );
    const listed = await aa.send(new ListArchiveRulesCommand({ analyzerName: 'org-unused' }));
    expect(listed.archiveRules?.map((r) => [r.ruleName, r.filter])).toEqual([['sandbox', UNUSED_ROLES]]);
    const got = await aa.send(new GetArchiveRuleCommand({ analyzerName: 'org-unused', ruleName: 'sandbox' }));
    expect(got.archiveRule?.filter).toEqual(UNUSED_ROLES);
    await aa.send(new DeleteArchiveRuleCommand({ analyzerName: 'org-unused', ruleName: 'sandbox' }));
    await expect(
      aa.send(new GetArchiveRuleCommand({ analyzerName: 'org-unused', ruleName: 'sandbox' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      aa.send(new DeleteArchiveRuleCommand({ analyzerName: 'org-unused', ruleName: 'sandbox' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it.each([
    ['status', { status: { eq: ['ACTIVE'] } }, /status cannot be used in an archive rule/],
    ['id', { id: { eq: [DEMO_FINDING_IDS.burst[0]!] } }, /id cannot be used in an archive rule/],
    ['an unknown key', { owner: { eq: ['x'] } }, /Invalid filter key: owner/],
    ['no criterion', {}, /at least one criterion/],
    ['an empty criterion', { resourceType: {} }, /needs one of eq, neq, contains or exists/],
    [
      'more than 20 values',
      { resource: { eq: Array.from({ length: 21 }, (_, i) => `r${i}`) } },
      /1 to 20 values/,
    ],
  ])('refuses a filter with %s (ValidationException) and keeps no rule', async (_what, filter, message) => {
    const aa = await start();
    const err = await aa
      .send(new CreateArchiveRuleCommand({ analyzerName: 'org-unused', ruleName: 'bad', filter }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationException);
    expect((err as Error).message).toMatch(message);
    expect((await aa.send(new ListArchiveRulesCommand({ analyzerName: 'org-unused' }))).archiveRules).toEqual(
      [],
    );
  });

  it('answers ConflictException for a second rule of the same name and ServiceQuotaExceeded past 100', async () => {
    const aa = await start();
    const make = (ruleName: string) =>
      aa.send(new CreateArchiveRuleCommand({ analyzerName: 'org-unused', ruleName, filter: UNUSED_ROLES }));
    await make('dup');
    await expect(make('dup')).rejects.toBeInstanceOf(ConflictException);
    for (let i = 1; i < ARCHIVE_RULES_PER_ANALYZER; i++) await make(`r${i}`);
    await expect(make('one-too-many')).rejects.toBeInstanceOf(ServiceQuotaExceededException);
  });

  it('ApplyArchiveRule archives the ACTIVE findings the rule matches, and only those', async () => {
    const aa = await start();
    const data = sandbox!.data;
    const activeBefore = [...data.findings.all()].filter((f) => f.status === 'ACTIVE').map((f) => f.id);
    await aa.send(
      new CreateArchiveRuleCommand({ analyzerName: 'org-unused', ruleName: 'sandbox', filter: UNUSED_ROLES }),
    );
    await aa.send(new ApplyArchiveRuleCommand({ analyzerArn: DEMO_ANALYZERS.usUnused, ruleName: 'sandbox' }));
    const archivedNow = [...data.findings.all()]
      .filter((f) => f.status === 'ARCHIVED' && activeBefore.includes(f.id))
      .map((f) => f.id)
      .sort();
    expect(archivedNow).toEqual([...DEMO_FINDING_IDS.burst].sort());
    await expect(
      aa.send(new ApplyArchiveRuleCommand({ analyzerArn: DEMO_ANALYZERS.usUnused, ruleName: 'nope' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('archives a finding generated or updated after a rule exists when the rule matches it; findings from before wait for ApplyArchiveRule', async () => {
    const aa = await start();
    const data = sandbox!.data;
    const status = async (id: string) =>
      (await aa.send(new GetFindingV2Command({ analyzerArn: DEMO_ANALYZERS.usUnused, id }))).status;
    const [first, second] = DEMO_FINDING_IDS.burst;
    await aa.send(
      new CreateArchiveRuleCommand({
        analyzerName: 'org-unused',
        ruleName: 'experiments',
        filter: { findingType: { eq: ['UnusedIAMRole'] }, resource: { contains: ['sandbox-experiment-0'] } },
      }),
    );
    // There before the rule: still ACTIVE.
    expect(await status(first!)).toBe('ACTIVE');

    // New: a matching one and one the rule does not match; and an old one AWS analyzed again.
    const template = data.findings.get(first!)!;
    const later = new Date(Date.parse(template.updatedAt) + 60_000).toISOString();
    const fresh = (id: string, role: string) =>
      data.findings.add({
        ...structuredClone(template),
        id,
        resource: template.resource.replace(/sandbox-experiment-\d+$/, role),
        createdAt: later,
        updatedAt: later,
      });
    fresh('new-match', 'sandbox-experiment-07b');
    fresh('new-other', 'reporting-reader');
    data.findings.update(second!, { updatedAt: later });

    expect(await status('new-match')).toBe('ARCHIVED');
    expect(await status('new-other')).toBe('ACTIVE');
    expect(await status(second!)).toBe('ARCHIVED');
    expect(await status(first!)).toBe('ACTIVE');

    // Unarchived by someone: the rule does not take it back until AWS updates it again.
    await aa.send(
      new UpdateFindingsCommand({
        analyzerArn: DEMO_ANALYZERS.usUnused,
        ids: ['new-match'],
        status: 'ACTIVE',
      }),
    );
    expect(await status('new-match')).toBe('ACTIVE');
    expect(await status('new-match')).toBe('ACTIVE');

    // Deleted: nothing new is archived by it.
    await aa.send(new DeleteArchiveRuleCommand({ analyzerName: 'org-unused', ruleName: 'experiments' }));
    fresh('after-delete', 'sandbox-experiment-08b');
    expect(await status('after-delete')).toBe('ACTIVE');
  });

  it('matches detail keys as the bot counts them: the bot and the sandbox agree on every demo finding', async () => {
    await start();
    const data = sandbox!.data;
    const findings = [...data.findings.all()].filter((f) => !f.error);
    const analyzerOf = (arn: string) => data.analyzers.find((a) => a.arn === arn)!;
    const { compileFilter } = await import('../../sandbox/aws/finding-filter.ts');
    // Every filter a demo access finding's own principals and conditions make.
    for (const f of findings) {
      const a = analyzerOf(f.analyzerArn);
      const details = f.details ?? data.detailsFor?.(f) ?? [];
      const mine = normalizeFinding(
        [
          {
            ...f,
            findingDetails: details,
            createdAt: new Date(f.createdAt),
            updatedAt: new Date(f.updatedAt),
            analyzedAt: new Date(f.analyzedAt),
          },
        ] as never,
        { arn: a.arn, region: a.region },
      );
      const values = filterValuesOf(mine);
      for (const [key, vals] of Object.entries(values)) {
        const filter = { [key]: { eq: vals.slice(0, 1) } };
        const sandboxSays = compileFilter(filter, { archiveRule: true });
        for (const g of findings) {
          const ga = analyzerOf(g.analyzerArn);
          const gDetails = g.details ?? data.detailsFor?.(g) ?? [];
          const other = normalizeFinding(
            [
              {
                ...g,
                findingDetails: gDetails,
                createdAt: new Date(g.createdAt),
                updatedAt: new Date(g.updatedAt),
                analyzedAt: new Date(g.analyzedAt),
              },
            ] as never,
            { arn: ga.arn, region: ga.region },
          );
          const bot = filterMatches(filter, {
            findingType: other.findingType,
            resourceArn: other.resourceArn,
            resourceType: other.resourceType,
            accountId: other.accountId,
            filterValues: filterValuesOf(other),
          });
          expect(bot, `${key}=${vals[0]} on ${g.id}`).toBe(sandboxSays(g, data));
        }
      }
    }
  });
});

describe('CreateAnalyzer in the sandbox', () => {
  it('creates an analyzer, refuses its name twice (ConflictException) and a second account-level one of a type', async () => {
    const aa = await start();
    const eu = new AccessAnalyzerClient({
      region: 'eu-west-1',
      endpoint: sandbox!.url,
      credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'secret' },
      maxAttempts: 1,
    });
    const made = await eu.send(
      new CreateAnalyzerCommand({ analyzerName: 'new-unused', type: 'ACCOUNT_UNUSED_ACCESS' }),
    );
    expect(made.arn).toMatch(/^arn:aws:access-analyzer:eu-west-1:\d{12}:analyzer\/new-unused$/);
    await expect(
      eu.send(new CreateAnalyzerCommand({ analyzerName: 'new-unused', type: 'ACCOUNT_UNUSED_ACCESS' })),
    ).rejects.toBeInstanceOf(ConflictException);
    await expect(
      eu.send(new CreateAnalyzerCommand({ analyzerName: 'another-unused', type: 'ACCOUNT_UNUSED_ACCESS' })),
    ).rejects.toBeInstanceOf(ServiceQuotaExceededException);
    await expect(
      aa.send(new CreateAnalyzerCommand({ analyzerName: '1bad', type: 'ACCOUNT' })),
    ).rejects.toBeInstanceOf(ValidationException);
    await expect(
      aa.send(new CreateAnalyzerCommand({ analyzerName: 'ok-name', type: 'NOT_A_TYPE' as never })),
    ).rejects.toBeInstanceOf(ValidationException);
  });

  it('answers a retried CreateAnalyzer (same client token) with the analyzer it made', async () => {
    const aa = await start();
    const input = { analyzerName: 'retried', type: 'ORGANIZATION' as const, clientToken: 'token-1' };
    const first = await aa.send(new CreateAnalyzerCommand(input));
    const again = await aa.send(new CreateAnalyzerCommand(input));
    expect(again.arn).toBe(first.arn);
    expect(sandbox!.data.analyzers.filter((a) => a.name === 'retried')).toHaveLength(1);
  });
});
