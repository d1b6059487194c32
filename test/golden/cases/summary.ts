import { burstSummaryMessage } from '../../../blocks/summary.ts';
import { FINDING_TYPES } from '../../../src/findings/model.ts';
import { assessSeverity } from '../../../src/findings/severity.ts';
import { F_NOW, makeFinding } from '../../factories/finding.ts';
import type { GoldenCases } from '../golden.ts';
import { INJECTION } from './inputs.ts';

function items(n: number, accountName = 'prod') {
  return Array.from({ length: n }, (_, i) => {
    const f = makeFinding({
      findingType: FINDING_TYPES[i % FINDING_TYPES.length]!,
      id: `id-${String(i).padStart(3, '0')}`,
      createdAt: `2025-02-${String(1 + (i % 28)).padStart(2, '0')}T00:00:00.000Z`,
    });
    return { finding: f, severity: assessSeverity(f), accountName };
  });
}

export const summaryCases: GoldenCases = {
  burstSummaryMessage: {
    'forty-two-worst-ten-listed': () =>
      burstSummaryMessage({ channel: '#team-data', items: items(42), now: F_NOW }),
    'one-finding-singular': () =>
      burstSummaryMessage({ channel: 'C0123456789', items: items(1), now: F_NOW }),
    'counts-from-redis-hostile-account': () =>
      burstSummaryMessage({
        channel: 'C0123456789',
        items: items(3, INJECTION),
        counts: {
          total: 5000,
          byType: { ExternalAccess: 4000, UnusedIAMRole: 1000 },
          bySeverity: { critical: 4000, medium: 1000 },
        },
        now: F_NOW,
      }),
  },
};
