import {
  allClearMessage,
  type DigestMessageInput,
  type DigestOverdueEntry,
  digestMessage,
  unknownOwnerEmailsNotice,
} from '../../../blocks/digest.ts';
import { F_EXTERNAL_ANALYZER } from '../../factories/finding.ts';
import type { GoldenCases } from '../golden.ts';
import { CONSOLE, INJECTION, LONG, USER, WORKSPACE } from './inputs.ts';

const week = { id: '2025-W09', previousId: '2025-W08', from: '2025-02-24', to: '2025-03-02' };

const overdue = (i: number, overrides: Partial<DigestOverdueEntry> = {}): DigestOverdueEntry => ({
  id: `0f1e2d3c-0000-4000-8000-00000000010${i}`,
  findingType: 'ExternalAccess',
  severity: 'critical',
  createdAt: '2025-02-20T09:30:00.000Z',
  ageDays: 9,
  slaDays: 1,
  overdueDays: 8,
  resourceArn: `arn:aws:s3:::payments-exports-${i}`,
  resourceType: 'AWS::S3::Bucket',
  accountId: '222222222222',
  region: 'eu-west-1',
  analyzerArn: F_EXTERNAL_ANALYZER,
  channel: 'C0PAY0001',
  ts: `170000000${i}.000100`,
  ...overrides,
});

const input = (overrides: Partial<DigestMessageInput> = {}): DigestMessageInput => ({
  owner: { kind: 'channel', channel: 'C0PAY0001' },
  data: {
    week,
    counts: { open: 5, overdue: 2, new: 3, resolved: 4, archived: 2 },
    previous: { open: 6, overdue: 2, new: 1, resolved: 0, archived: 1 },
    byType: [
      ['ExternalAccess', 3],
      ['UnusedIAMRole', 2],
    ],
    bySeverity: [
      ['critical', 2],
      ['medium', 3],
    ],
    archivedBy: [
      { by: USER, count: 1 },
      { by: null, count: 1 },
    ],
    resolvedAfterDeletion: [{ by: 'U0BOB0001', count: 1 }],
  },
  overdue: [
    overdue(1),
    overdue(2, { findingType: 'UnusedIAMRole', severity: 'medium', resourceType: 'AWS::IAM::Role' }),
  ],
  timezone: 'Europe/Berlin',
  consoleUrl: CONSOLE,
  workspaceUrl: WORKSPACE,
  buttons: true,
  ...overrides,
});

export const digestCases: GoldenCases = {
  digestMessage: {
    'channel-with-buttons': () => digestMessage(input()),
    'dm-without-buttons-or-snapshot': () =>
      digestMessage(
        input({
          owner: { kind: 'user' },
          buttons: false,
          workspaceUrl: undefined,
          data: { ...input().data, previous: undefined, archivedBy: [], resolvedAfterDeletion: [] },
        }),
      ),
    'nothing-overdue': () =>
      digestMessage(
        input({
          overdue: [],
          data: { ...input().data, counts: { open: 2, overdue: 0, new: 1, resolved: 0, archived: 0 } },
        }),
      ),
    'hostile-long-values': () =>
      digestMessage(
        input({
          owner: { kind: 'channel', channel: INJECTION },
          overdue: [
            overdue(1, {
              resourceArn: `arn:aws:s3:::${INJECTION}-${LONG}`,
              findingType: INJECTION,
              channel: INJECTION,
            }),
          ],
          timezone: INJECTION,
        }),
      ),
  },
  allClearMessage: {
    channel: () => allClearMessage({ kind: 'channel', channel: 'C0PAY0001' }, week),
    dm: () => allClearMessage({ kind: 'user' }, week),
  },
  unknownOwnerEmailsNotice: {
    'two-addresses': () => unknownOwnerEmailsNotice(['dana@example.com', `${INJECTION}@example.com`]),
    'mention-in-an-address': () => unknownOwnerEmailsNotice(['<!here>@evil.example', 'gone@example.com']),
    'more-than-twenty': () =>
      unknownOwnerEmailsNotice(Array.from({ length: 25 }, (_, i) => `owner-${i}@example.com`)),
  },
};
