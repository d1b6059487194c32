import { agingEscalation, agingReminder } from '../../../blocks/aging.ts';
import type { GoldenCases } from '../golden.ts';
import { INJECTION } from './inputs.ts';

const facts = { ageDays: 12, slaDays: 7, overdueDays: 5 };

export const agingCases: GoldenCases = {
  agingReminder: {
    'first-reminder': () => agingReminder({ ...facts, reminder: 1, escalateAfter: 3 }),
    'escalating-reminder': () =>
      agingReminder({
        ageDays: 2,
        slaDays: 1,
        overdueDays: 1,
        reminder: 3,
        escalateAfter: 3,
        escalatedTo: 'C0ESC0001',
      }),
    'after-escalation-mentions-owners': () =>
      agingReminder({
        ...facts,
        reminder: 4,
        escalateAfter: 3,
        owners: { users: ['U0BOB0001', '<!channel>'], userGroups: ['S0SEC0001', 'bad group'] },
      }),
  },
  agingEscalation: {
    'permalink-hostile-arn': () =>
      agingEscalation({
        ...facts,
        findingId: 'f-1',
        findingType: 'ExternalAccess',
        resourceArn: `arn:aws:s3:::${INJECTION}*x*`,
        accountId: '222222222222',
        region: 'eu-west-1',
        severity: 'high',
        reminders: 3,
        channel: 'C0PROD001',
        permalink: 'https://acme.slack.com/archives/C0PROD001/p1700000001000100',
      }),
    'channel-only': () =>
      agingEscalation({
        ...facts,
        findingId: 'f-2',
        findingType: 'UnusedIAMRole',
        resourceArn: 'arn:aws:iam::111111111111:role/ci-deployer',
        accountId: '111111111111',
        region: 'eu-west-1',
        severity: 'medium',
        reminders: 3,
        channel: 'C0PROD001',
      }),
  },
};
