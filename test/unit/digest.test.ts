import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allClearMessage,
  digestMessage,
  messageUrl,
  trend,
  unknownOwnerEmailsNotice,
} from '../../blocks/digest.ts';
import { HOME_BLOCKS, HOME_FINDINGS, type HomeFinding, homeView } from '../../blocks/home.ts';
import { assertWithinLimits, limitViolations } from '../../blocks/limits.ts';
import { renderText } from '../../blocks/render.ts';
import { configSchema } from '../../src/config/schema.ts';
import { computeDigest, type DigestRow, digestWeek, isEmptyDigest } from '../../src/findings/digest.ts';

const config = configSchema.parse({
  regions: ['eu-west-1'],
  slack: { defaultChannel: 'C0DEFAULT', adminChannel: 'C0ADMIN' },
});
const SLA = { timezone: 'UTC', aging: config.aging };
/** Monday 2030-05-20 09:00 UTC: the digest covers Monday 13 to Sunday 19 May (ISO week 20). */
const NOW = new Date('2030-05-20T09:00:00Z');

const row = (id: string, over: Partial<DigestRow>): DigestRow => ({
  id,
  status: 'ACTIVE',
  routeChannel: '#payments',
  findingType: 'ExternalAccess',
  severity: 'high',
  category: 'cross-account-access',
  createdAt: '2030-05-18T10:00:00Z',
  firstSeen: '2030-05-18T10:05:00Z',
  ...over,
});

describe('digestWeek', () => {
  it('is the 7 calendar days before the run day, named by ISO week', () => {
    expect(digestWeek(NOW, 'UTC')).toEqual({
      id: '2030-W21',
      previousId: '2030-W20',
      from: '2030-05-13',
      to: '2030-05-19',
    });
  });

  it('counts days in the configured time zone', () => {
    // 23:30 UTC on Sunday is already Monday in Tokyo: a new ISO week there, not yet in UTC.
    const late = new Date('2030-05-19T23:30:00Z');
    expect(digestWeek(late, 'Asia/Tokyo')).toMatchObject({ id: '2030-W21', from: '2030-05-13' });
    expect(digestWeek(late, 'UTC')).toMatchObject({ id: '2030-W20', from: '2030-05-12' });
  });

  it('is one id for every run day of an ISO week', () => {
    const ids = [20, 21, 22, 23, 24, 25, 26].map(
      (d) => digestWeek(new Date(`2030-05-${d}T12:00:00Z`), 'UTC').id,
    );
    expect(new Set(ids)).toEqual(new Set(['2030-W21']));
  });
});

describe('computeDigest', () => {
  const rows: DigestRow[] = [
    // Open, new this week, not overdue.
    row('new-1', {}),
    // Open, first seen long ago, overdue: 20 and 12 days old against a 7-day SLA.
    row('old-20', {
      createdAt: '2030-04-30T08:00:00Z',
      firstSeen: '2030-04-30T08:10:00Z',
      severity: 'critical',
    }),
    row('old-12', { createdAt: '2030-05-08T08:00:00Z', firstSeen: '2030-05-08T08:10:00Z' }),
    // Overdue but snoozed: not listed, not counted as overdue.
    row('snoozed', {
      createdAt: '2030-04-01T08:00:00Z',
      firstSeen: '2030-04-01T08:00:00Z',
      snoozedUntil: '2030-06-01T00:00:00Z',
    }),
    // Unused role, open 10 days of its 30: open, not overdue.
    row('role', {
      findingType: 'UnusedIAMRole',
      category: 'unused-role',
      severity: 'low',
      createdAt: '2030-05-10T00:00:00Z',
      firstSeen: '2030-05-10T00:00:00Z',
    }),
    // Resolved on Wednesday, once after a role deletion from Slack; one resolved the week before.
    row('res-1', {
      status: 'RESOLVED',
      updatedAt: '2030-05-15T12:00:00Z',
      firstSeen: '2030-05-01T00:00:00Z',
    }),
    row('res-2', {
      status: 'RESOLVED',
      updatedAt: '2030-05-16T12:00:00Z',
      firstSeen: '2030-05-01T00:00:00Z',
      deletedBy: 'U0DELETER',
    }),
    row('res-old', {
      status: 'RESOLVED',
      updatedAt: '2030-05-12T23:00:00Z',
      firstSeen: '2030-05-01T00:00:00Z',
    }),
    // Archived from Slack this week (audit says who), archived in the console this week, and from
    // Slack before the week.
    row('arc-slack', { status: 'ARCHIVED', archivedBy: 'U0ALICE', firstSeen: '2030-05-01T00:00:00Z' }),
    row('arc-slack-2', { status: 'ARCHIVED', archivedBy: 'U0ALICE', firstSeen: '2030-05-01T00:00:00Z' }),
    row('arc-bob', { status: 'ARCHIVED', archivedBy: 'U0BOB', firstSeen: '2030-05-01T00:00:00Z' }),
    row('arc-console', {
      status: 'ARCHIVED',
      updatedAt: '2030-05-17T10:00:00Z',
      firstSeen: '2030-05-01T00:00:00Z',
    }),
    row('arc-before', { status: 'ARCHIVED', archivedBy: 'U0CAROL', firstSeen: '2030-05-01T00:00:00Z' }),
  ];
  const archives = [
    { findingId: 'arc-slack', actor: 'U0ALICE', at: '2030-05-14T10:00:00Z' },
    { findingId: 'arc-slack-2', actor: 'U0ALICE', at: '2030-05-19T22:00:00Z' },
    { findingId: 'arc-bob', actor: 'U0BOB', at: '2030-05-13T00:30:00Z' },
    { findingId: 'arc-before', actor: 'U0CAROL', at: '2030-05-12T10:00:00Z' },
  ];

  it('counts open by type and severity, new, resolved and archived this week, with who', () => {
    const d = computeDigest(rows, archives, NOW, SLA);
    expect(d.counts).toEqual({ open: 5, overdue: 2, new: 1, resolved: 2, archived: 4 });
    expect(d.byType).toEqual([
      ['ExternalAccess', 4],
      ['UnusedIAMRole', 1],
    ]);
    expect(d.bySeverity).toEqual([
      ['critical', 1],
      ['high', 3],
      ['low', 1],
    ]);
    expect(d.archivedBy).toEqual([
      { by: 'U0ALICE', count: 2 },
      { by: 'U0BOB', count: 1 },
      { by: null, count: 1 },
    ]);
    expect(d.resolvedAfterDeletion).toEqual([{ by: 'U0DELETER', count: 1 }]);
  });

  it('lists overdue findings oldest first, skipping snoozed ones', () => {
    const d = computeDigest(rows, archives, NOW, SLA);
    expect(d.overdue.map((o) => [o.id, o.ageDays, o.overdueDays])).toEqual([
      ['old-20', 20, 13],
      ['old-12', 12, 5],
    ]);
  });

  it('carries last week’s counts for the trend', () => {
    const prev = { open: 2, overdue: 3, new: 0, resolved: 0, archived: 0 };
    expect(computeDigest(rows, archives, NOW, SLA, prev).previous).toEqual(prev);
  });

  it('is empty when nothing is open and nothing happened', () => {
    expect(isEmptyDigest(computeDigest([], [], NOW, SLA))).toBe(true);
    expect(isEmptyDigest(computeDigest([rows[5]!], [], NOW, SLA))).toBe(false);
    expect(isEmptyDigest(computeDigest([rows[7]!], [], NOW, SLA))).toBe(true);
  });
});

describe('trend', () => {
  it('shows arrows against last week, nothing without a snapshot', () => {
    expect(trend(14, 11)).toBe(' (▲3 since last week)');
    expect(trend(4, 5)).toBe(' (▼1 since last week)');
    expect(trend(4, 4)).toBe(' (no change since last week)');
    expect(trend(4, undefined)).toBe('');
  });
});

describe('messageUrl', () => {
  it('links a message by channel id and ts when the workspace URL is a slack.com one', () => {
    expect(messageUrl('https://acme.slack.com/', 'C0PAY1234', '1716192000.000100')).toBe(
      'https://acme.slack.com/archives/C0PAY1234/p1716192000000100',
    );
    expect(messageUrl(undefined, 'C0PAY1234', '1.2')).toBeUndefined();
    expect(messageUrl('https://acme.slack.com', '#payments', '1.2')).toBeUndefined();
    expect(messageUrl('https://evil.example.com', 'C0PAY1234', '1.2')).toBeUndefined();
  });
});

const HOSTILE = '<!channel> *bold* `code` @here <https://evil.example|click> & _x_';

function overdueEntry(i: number, over: Record<string, string> = {}) {
  return {
    id: `f-${i}`,
    findingType: 'ExternalAccess',
    severity: 'critical',
    createdAt: '2030-04-30T08:00:00Z',
    ageDays: 20,
    slaDays: 7,
    overdueDays: 13,
    resourceArn: `arn:aws:s3:::bucket-${i}`,
    resourceType: 'AWS::S3::Bucket',
    accountId: '111111111111',
    region: 'eu-west-1',
    analyzerArn: 'arn:aws:access-analyzer:eu-west-1:111111111111:analyzer/org',
    channel: 'C0PAY1234',
    ts: '1716192000.000100',
    ...over,
  };
}

describe('digestMessage', () => {
  const data = computeDigest(
    [row('a', {}), row('b', { createdAt: '2030-04-30T08:00:00Z', firstSeen: '2030-04-30T08:00:00Z' })],
    [],
    NOW,
    SLA,
    { open: 1, overdue: 0, new: 0, resolved: 0, archived: 0 },
  );

  it('shows counts with trends, the overdue list with links and the finding buttons', () => {
    const msg = digestMessage({
      owner: { kind: 'channel', channel: '#payments' },
      data,
      overdue: [overdueEntry(1)],
      timezone: 'UTC',
      consoleUrl: 'https://console.aws.amazon.com',
      workspaceUrl: 'https://acme.slack.com',
      buttons: true,
    });
    assertWithinLimits(msg);
    expect(msg.text).toBe(
      'Weekly access digest for #payments: 2 open (1 overdue), 1 new, 0 resolved, 0 archived',
    );
    const text = renderText(msg);
    expect(text).toContain('*Open* 2 (▲1 since last week) · *Overdue* 1 (▲1 since last week) · *New* 1');
    expect(text).toContain('message (https://acme.slack.com/archives/C0PAY1234/p1716192000000100)');
    const actions = msg.blocks.filter((b) => b.type === 'actions');
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({ block_id: 'digest_overdue_0' });
    const ids = (actions[0] as { elements: { action_id: string; value?: string }[] }).elements.map(
      (e) => e.action_id,
    );
    expect(ids).toEqual([
      'finding_open_console',
      'finding_archive',
      'finding_archive_similar',
      'finding_rescan',
      'finding_snooze',
    ]);
    expect(JSON.parse((actions[0] as { elements: { value?: string }[] }).elements[1]!.value!)).toEqual({
      f: 'f-1',
      a: 'arn:aws:access-analyzer:eu-west-1:111111111111:analyzer/org',
      r: 'eu-west-1',
    });
  });

  it('leaves the buttons out of DMs', () => {
    const msg = digestMessage({
      owner: { kind: 'user' },
      data,
      overdue: [overdueEntry(1)],
      timezone: 'UTC',
      consoleUrl: 'https://console.aws.amazon.com',
      buttons: false,
    });
    expect(msg.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(msg.text).toMatch(/^Weekly access digest for your resources/);
  });

  it('says how many overdue findings are not listed', () => {
    const d = { ...data, counts: { ...data.counts, overdue: 25 } };
    const msg = digestMessage({
      owner: { kind: 'channel', channel: 'C0PAY1234' },
      data: d,
      overdue: Array.from({ length: 20 }, (_, i) => overdueEntry(i)),
      timezone: 'UTC',
      consoleUrl: 'https://console.aws.amazon.com',
      buttons: true,
    });
    expect(limitViolations(msg)).toEqual([]);
    expect(renderText(msg)).toContain('*Overdue, oldest first* (20 of 25; 5 more not listed)');
  });

  it('escapes AWS-supplied text: no mentions, links or formatting get through', () => {
    const msg = digestMessage({
      owner: { kind: 'channel', channel: '#payments' },
      data: { ...data, byType: [[HOSTILE, 1]], bySeverity: [[HOSTILE, 1]] },
      overdue: [
        overdueEntry(1, {
          findingType: HOSTILE,
          severity: HOSTILE,
          resourceArn: `arn:aws:s3:::${HOSTILE}${'x'.repeat(3000)}`,
          region: HOSTILE,
          accountId: HOSTILE,
        }),
      ],
      timezone: 'UTC',
      consoleUrl: 'https://console.aws.amazon.com',
      workspaceUrl: 'https://acme.slack.com',
      buttons: true,
    });
    expect(limitViolations(msg)).toEqual([]);
    // Every text Slack renders (button values and URLs are data, not text).
    const texts: string[] = [];
    JSON.stringify(msg.blocks, (key, value) => {
      if (key === 'text' && typeof value === 'string') texts.push(value);
      return value;
    });
    const json = texts.join('\n');
    expect(json).toContain('&lt;!channel&gt;');
    expect(json).not.toContain('<!channel>');
    expect(json).not.toContain('<https://evil');
    expect(json).not.toMatch(/(^|[^\u200B])@here/);
  });
});

describe('allClearMessage and unknownOwnerEmailsNotice', () => {
  it('is one line', () => {
    const msg = allClearMessage(
      { kind: 'channel', channel: '#payments' },
      { from: '2030-05-13', to: '2030-05-19' },
    );
    expect(msg.blocks).toHaveLength(1);
    expect(renderText(msg)).toBe(
      '✅ *All clear* for #payments (2030-05-13 to 2030-05-19): nothing open, nothing new.',
    );
  });

  it('quotes addresses safely', () => {
    const msg = unknownOwnerEmailsNotice(['<!here>@evil.example', 'gone@example.com']);
    assertWithinLimits(msg);
    expect(JSON.stringify(msg.blocks)).not.toContain('<!here>');
  });
});

describe('homeView', () => {
  const finding = (i: number, over: Partial<HomeFinding> = {}): HomeFinding => ({
    id: `f-${i}`,
    findingType: 'ExternalAccess',
    severity: 'high',
    resourceArn: `arn:aws:s3:::bucket-${i}`,
    accountId: '111111111111',
    region: 'eu-west-1',
    channel: 'C0PAY1234',
    ts: `1716192000.${String(i).padStart(6, '0')}`,
    ...over,
  });

  it('stays within the Home tab’s 100 blocks however many findings there are, and says how many are left out', () => {
    const view = homeView({
      findings: Array.from({ length: 500 }, (_, i) => finding(i)),
      total: 500,
      overdue: 0,
      byEmail: true,
      workspaceUrl: 'https://acme.slack.com',
    });
    expect(view.blocks.length).toBeLessThanOrEqual(HOME_BLOCKS);
    expect(limitViolations({ text: 'home', blocks: view.blocks.slice(0, 50) })).toEqual([]);
    expect(limitViolations({ text: 'home', blocks: view.blocks.slice(50) })).toEqual([]);
    expect(renderText({ text: '', blocks: view.blocks })).toContain(
      `${500 - HOME_FINDINGS} more not shown. \`/access findings\` lists and filters them all.`,
    );
  });

  it('escapes AWS-supplied text and marks overdue findings', () => {
    const view = homeView({
      findings: [
        finding(1, {
          findingType: HOSTILE,
          severity: HOSTILE,
          resourceArn: HOSTILE,
          region: HOSTILE,
          overdue: { ageDays: 20, slaDays: 7, overdueDays: 13 },
        }),
      ],
      total: 1,
      overdue: 1,
      byEmail: false,
      lastDigest: {
        week: '2030-W21',
        at: '2030-05-20T07:00:00.000Z',
        channel: 'D0DANA001',
        ts: '1.2',
        text: HOSTILE,
      },
    });
    const json = JSON.stringify(view.blocks);
    expect(json).not.toContain('<!channel>');
    expect(json).not.toContain('<https://evil');
  });
});

describe('digest and Home builders never exceed a Slack limit', () => {
  const hostile = fc.oneof(
    fc.constantFrom(HOSTILE, '<!channel>', '&&&&', '`', '*', '_', '\u202e', ''),
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.string({ unit: 'binary', minLength: 400, maxLength: 3500 }),
  );
  const count = fc.nat({ max: 100_000 });
  const entry = fc.record({
    findingType: hostile,
    severity: hostile,
    resourceArn: hostile,
    accountId: hostile,
    region: hostile,
    ageDays: fc.nat({ max: 4000 }),
    slaDays: fc.integer({ min: 1, max: 3650 }),
    overdueDays: fc.nat({ max: 4000 }),
  });

  it('digestMessage', () => {
    fc.assert(
      fc.property(
        fc.array(entry, { maxLength: 20 }),
        fc.array(fc.tuple(hostile, count), { maxLength: 30 }),
        fc.record({ open: count, overdue: count, new: count, resolved: count, archived: count }),
        fc.array(fc.record({ by: fc.option(hostile, { nil: null }), count }), { maxLength: 30 }),
        fc.boolean(),
        (items, byType, counts, archivedBy, buttons) => {
          const msg = digestMessage({
            owner: { kind: 'channel', channel: '#payments' },
            data: {
              week: digestWeek(NOW, 'UTC'),
              counts,
              byType,
              bySeverity: byType,
              archivedBy,
              resolvedAfterDeletion: [],
              previous: counts,
            },
            overdue: items.map((e, i) => ({
              ...overdueEntry(i),
              ...e,
            })),
            timezone: 'UTC',
            consoleUrl: 'https://console.aws.amazon.com',
            workspaceUrl: 'https://acme.slack.com',
            buttons,
          });
          expect(limitViolations(msg)).toEqual([]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('homeView', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 120 }), hostile, (items, digestText) => {
        const view = homeView({
          findings: items.map((e, i) => ({ id: `f-${i}`, ...e, overdue: e })),
          total: items.length,
          overdue: items.length,
          byEmail: true,
          lastDigest: {
            week: '2030-W21',
            at: NOW.toISOString(),
            channel: 'C0PAY1234',
            ts: '1.2',
            text: digestText,
          },
          workspaceUrl: 'https://acme.slack.com',
        });
        expect(view.blocks.length).toBeLessThanOrEqual(HOME_BLOCKS);
        expect(limitViolations({ text: 'home', blocks: view.blocks.slice(0, 50) })).toEqual([]);
        expect(limitViolations({ text: 'home', blocks: view.blocks.slice(50) })).toEqual([]);
      }),
      { numRuns: 40 },
    );
  });
});
