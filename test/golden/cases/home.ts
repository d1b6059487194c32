import { type HomeFinding, homeView } from '../../../blocks/home.ts';
import type { GoldenCases } from '../golden.ts';
import { INJECTION, LONG, WORKSPACE } from './inputs.ts';

/** Markup AWS text could carry, as the digest unit tests use it. */
const HOSTILE = '<!channel> *bold* `code` @here <https://evil.example|click> & _x_';

const finding = (i: number, overrides: Partial<HomeFinding> = {}): HomeFinding => ({
  id: `0f1e2d3c-0000-4000-8000-00000000020${i}`,
  findingType: 'ExternalAccess',
  severity: 'critical',
  resourceArn: `arn:aws:s3:::payments-exports-${i}`,
  accountId: '222222222222',
  region: 'eu-west-1',
  channel: 'C0PAY0001',
  ts: `170000000${i}.000100`,
  ...overrides,
});

export const homeCases: GoldenCases = {
  homeView: {
    'overdue-first-with-last-digest': () =>
      homeView({
        findings: [
          finding(1, { overdue: { ageDays: 9, slaDays: 1, overdueDays: 8 } }),
          finding(2, { findingType: 'UnusedIAMRole', severity: 'medium' }),
          finding(3, { channel: '#team-payments', ts: undefined }),
        ],
        total: 3,
        overdue: 1,
        byEmail: true,
        lastDigest: {
          week: '2025-W09',
          at: '2025-03-03T08:00:00.000Z',
          channel: 'C0PAY0001',
          ts: '1700000009.000100',
          text: '5 open findings, 2 overdue',
        },
        workspaceUrl: WORKSPACE,
      }),
    'nothing-open-email-unknown': () => homeView({ findings: [], total: 0, overdue: 0, byEmail: false }),
    'nothing-open-no-digest-yet': () => homeView({ findings: [], total: 0, overdue: 0, byEmail: true }),
    'hostile-overdue-dm-digest': () =>
      homeView({
        findings: [
          {
            id: 'f-1',
            findingType: HOSTILE,
            severity: HOSTILE,
            resourceArn: HOSTILE,
            accountId: '111111111111',
            region: HOSTILE,
            channel: 'C0PAY1234',
            ts: '1716192000.000001',
            overdue: { ageDays: 20, slaDays: 7, overdueDays: 13 },
          },
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
      }),
    'more-than-shown-hostile': () =>
      homeView({
        findings: Array.from({ length: 45 }, (_, i) =>
          finding(i, {
            resourceArn: `arn:aws:s3:::${INJECTION}-${i}`,
            findingType: i === 0 ? LONG : INJECTION,
          }),
        ),
        total: 60,
        overdue: 0,
        byEmail: true,
      }),
  },
};
