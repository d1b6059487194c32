import { describe, expect, it } from 'vitest';
import { assertWithinLimits } from '../../blocks/limits.ts';
import { renderText } from '../../blocks/render.ts';
import { burstSummaryMessage, worstFirst } from '../../blocks/summary.ts';
import { FINDING_TYPES } from '../../src/findings/model.ts';
import { assessSeverity } from '../../src/findings/severity.ts';
import { F_NOW, makeCrossAccountFinding, makeFinding } from '../factories/finding.ts';

function items(n: number) {
  return Array.from({ length: n }, (_, i) => {
    const f = makeFinding({
      findingType: FINDING_TYPES[i % FINDING_TYPES.length]!,
      id: `id-${String(i).padStart(3, '0')}`,
      createdAt: `2025-02-${String(1 + (i % 28)).padStart(2, '0')}T00:00:00.000Z`,
    });
    return { finding: f, severity: assessSeverity(f), accountName: 'prod' };
  });
}

describe('burstSummaryMessage', () => {
  it('counts by severity and type, lists the worst 10, points to the thread', () => {
    const m = burstSummaryMessage({ channel: '#team-data', items: items(42), now: F_NOW });
    assertWithinLimits(m);
    expect(m.text).toBe('42 new access findings: 7 critical, 14 medium, 21 low');
    expect(m.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: '42 new access findings' },
    });
    const out = renderText(m);
    const listed = out.split('\n').filter((l) => /^[🔴🟠🟡🔵⚪] /u.test(l));
    expect(listed).toHaveLength(10);
    expect(listed.slice(0, 7).every((l) => l.startsWith('🔴 S3 bucket `logs-prod` is public'))).toBe(true);
  });

  it('orders by severity rank, then oldest first, then id', () => {
    const high = makeCrossAccountFinding({ id: 'h', createdAt: '2025-01-01T00:00:00.000Z' });
    const critNew = makeFinding({ id: 'c2', createdAt: '2025-02-01T00:00:00.000Z' });
    const critOld = makeFinding({ id: 'c1', createdAt: '2025-01-15T00:00:00.000Z' });
    const critOldB = makeFinding({ id: 'c0', createdAt: '2025-01-15T00:00:00.000Z' });
    const sorted = worstFirst(
      [high, critNew, critOld, critOldB].map((f) => ({ finding: f, severity: assessSeverity(f) })),
    );
    expect(sorted.map((x) => x.finding.id)).toEqual(['c0', 'c1', 'c2', 'h']);
  });

  it('singular wording and a short list for a small burst', () => {
    const m = burstSummaryMessage({ channel: 'C0123456789', items: items(1), now: F_NOW });
    assertWithinLimits(m);
    expect(m.text).toBe('1 new access finding: 1 critical');
    expect(renderText(m)).not.toContain('most severe');
  });
});
