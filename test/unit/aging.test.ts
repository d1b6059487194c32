import { describe, expect, it } from 'vitest';
import { agingEscalation, agingReminder } from '../../blocks/aging.ts';
import { assertWithinLimits } from '../../blocks/limits.ts';
import { configSchema } from '../../src/config/schema.ts';
import { agingState, findingCategory } from '../../src/findings/aging.ts';

const aging = configSchema.parse({
  regions: ['eu-west-1'],
  slack: { defaultChannel: 'C0DEFAULT', adminChannel: 'C0ADMIN' },
}).aging;
const NOW = new Date('2030-05-20T08:00:00Z');

describe('agingState', () => {
  it('counts calendar days against the category SLA', () => {
    expect(
      agingState({ createdAt: '2030-05-08T17:00:00Z', category: 'cross-account-access' }, NOW, aging),
    ).toEqual({ category: 'cross-account-access', ageDays: 12, slaDays: 7, overdueDays: 5, overdue: true });
  });

  it('is not overdue on the last day of the SLA', () => {
    expect(
      agingState({ createdAt: '2030-05-13T23:59:00Z', category: 'cross-account-access' }, NOW, aging),
    ).toMatchObject({
      ageDays: 7,
      overdueDays: 0,
      overdue: false,
    });
  });

  it('uses each category SLA (public 1 day, unused 30)', () => {
    expect(
      agingState({ createdAt: '2030-05-18T00:00:00Z', category: 'public-access' }, NOW, aging),
    ).toMatchObject({
      slaDays: 1,
      overdueDays: 1,
      overdue: true,
    });
    expect(
      agingState({ createdAt: '2030-05-01T00:00:00Z', category: 'unused-role' }, NOW, aging),
    ).toMatchObject({
      slaDays: 30,
      overdue: false,
    });
  });

  it('counts days in the configured time zone', () => {
    // 23:30 UTC on the 12th is already the 13th in Berlin; 06:00 UTC on the 20th is the 20th in both.
    const created = { createdAt: '2030-05-12T23:30:00Z', category: 'cross-account-access' };
    expect(agingState(created, NOW, aging)?.ageDays).toBe(8);
    expect(agingState(created, NOW, { ...aging, timezone: 'Europe/Berlin' })?.ageDays).toBe(7);
    // Late evening in New York is still the previous day.
    const late = new Date('2030-05-21T02:00:00Z');
    expect(agingState(created, late, { ...aging, timezone: 'America/New_York' })?.ageDays).toBe(8);
  });

  it('honours configured SLAs and derives a missing category from the finding type', () => {
    const cfg = { ...aging, slaDays: { ...aging.slaDays, 'internal-access': 3 } };
    expect(
      agingState({ createdAt: '2030-05-15T00:00:00Z', findingType: 'InternalAccess' }, NOW, cfg),
    ).toMatchObject({ category: 'internal-access', slaDays: 3, overdueDays: 2 });
    expect(findingCategory({ findingType: 'ExternalAccess' })).toBe('cross-account-access');
    expect(findingCategory({ findingType: 'UnusedIAMUserPassword' })).toBe('unused-credential');
    expect(findingCategory({ category: 'public-access', findingType: 'ExternalAccess' })).toBe(
      'public-access',
    );
    expect(agingState({ createdAt: '2030-05-01T00:00:00Z', findingType: 'Other' }, NOW, aging)).toBeNull();
    expect(agingState({ createdAt: 'nonsense', category: 'public-access' }, NOW, aging)).toBeNull();
  });
});

describe('aging messages', () => {
  it('says how long the finding is open against its SLA', () => {
    const msg = agingReminder({ ageDays: 12, slaDays: 7, overdueDays: 5, reminder: 1, escalateAfter: 3 });
    expect(msg.text).toBe('Reminder: this finding is open 12 days, 5 days over its 7-day SLA');
  });

  it('escapes AWS values in the escalation and stays within limits', () => {
    const msg = agingEscalation({
      ageDays: 12,
      slaDays: 7,
      overdueDays: 5,
      findingId: 'f-1',
      findingType: 'ExternalAccess',
      resourceArn: 'arn:aws:s3:::<!channel>*x*',
      accountId: '222222222222',
      region: 'eu-west-1',
      severity: 'high',
      reminders: 3,
      channel: 'C0PROD001',
      permalink: 'https://acme.slack.com/archives/C0PROD001/p1700000001000100',
    });
    assertWithinLimits(msg);
    const shown = JSON.stringify(msg.blocks);
    expect(shown).not.toContain('<!channel>');
  });
});
