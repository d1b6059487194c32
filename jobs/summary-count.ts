// A burst summary counts what its thread holds, not what the scan meant to post: a finding that
// joined another card, went elsewhere or is still on its way is not in the thread. Each reply that
// lands (posted now, or found again after a lost answer or a crash) is recorded in the summary's
// scratch hash (`in:<finding id>` = type and severity); the summary message is redrawn from those
// records every SUMMARY_REFRESH replies and when the delivery ends.

import { type BurstCounts, burstSummaryMessage } from '../blocks/summary.ts';
import type { Finding } from '../src/findings/model.ts';
import type { Assessed } from '../src/findings/severity.ts';
import type { OutgoingMessage, PostedMessage } from '../src/slack/client.ts';
import type { JobDeps } from './deps.ts';

/** Replies between two redraws of the summary while a delivery runs. */
export const SUMMARY_REFRESH = 25;

const IN = 'in:';

/** The summary message over `counts`, listing the burst's worst findings. */
export async function summaryMessage(
  deps: JobDeps,
  scanId: string,
  channel: string,
  counts: BurstCounts,
): Promise<OutgoingMessage> {
  const worst = (await deps.redis.zrange(deps.keys.burstWorst(scanId, channel), 0, 9)).map(
    (raw) => JSON.parse(raw) as { finding: Finding; severity: Assessed },
  );
  return burstSummaryMessage({
    channel,
    counts,
    items: worst.map((w) => ({ ...w, accountName: deps.config.accounts[w.finding.accountId]?.name })),
    now: deps.now(),
  });
}

/** Counts by type and severity of the replies recorded in a summary's hash. */
export function threadCounts(saved: Record<string, string>): BurstCounts {
  const counts: BurstCounts = { total: 0, byType: {}, bySeverity: {} };
  for (const [k, v] of Object.entries(saved)) {
    if (!k.startsWith(IN)) continue;
    const [type = '', severity = ''] = v.split('|');
    counts.total++;
    counts.byType[type] = (counts.byType[type] ?? 0) + 1;
    counts.bySeverity[severity] = (counts.bySeverity[severity] ?? 0) + 1;
  }
  return counts;
}

export class SummaryTally {
  private sinceRefresh = 0;

  constructor(
    private readonly deps: JobDeps,
    private readonly scanId: string,
    private readonly channel: string,
    private readonly summary: PostedMessage,
  ) {}

  /** Records the finding when its card is a reply in the summary's thread. */
  async record(findingId: string): Promise<void> {
    const state = await this.deps.store.get(findingId);
    if (!state?.ts || state.threadTs !== this.summary.ts) return;
    const key = this.deps.keys.summary(this.scanId, this.channel);
    const added = await this.deps.redis.hset(
      key,
      `${IN}${findingId}`,
      `${state.findingType}|${state.severity}`,
    );
    if (added && ++this.sinceRefresh >= SUMMARY_REFRESH) await this.refresh();
  }

  /** Redraws the summary when the count it shows is not what the thread holds. Returns the count. */
  async refresh(): Promise<number> {
    this.sinceRefresh = 0;
    const key = this.deps.keys.summary(this.scanId, this.channel);
    const saved = await this.deps.redis.hgetall(key);
    const counts = threadCounts(saved);
    if (saved.shown === String(counts.total)) return counts.total;
    const msg = await summaryMessage(this.deps, this.scanId, this.channel, counts);
    await this.deps.slack.update(this.summary.channel, this.summary.ts, msg);
    await this.deps.redis.hset(key, 'shown', String(counts.total));
    return counts.total;
  }
}
