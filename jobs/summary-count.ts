// A burst summary counts what its thread holds, not what the scan meant to post: a finding that
// joined another card, went elsewhere or is still on its way is not in the thread. Each reply that
// lands (posted now, or found again after a lost answer or a crash) is recorded with the burst's
// state (src/store/bursts.ts); the summary message is redrawn from those records every
// SUMMARY_REFRESH replies and when the delivery ends.
import { type BurstCounts, burstSummaryMessage } from '../blocks/summary.ts';
import type { OutgoingMessage, PostedMessage } from '../src/slack/client.ts';
import type { FindingState } from '../src/store/findings.ts';
import type { JobDeps } from './deps.ts';

/** What the burst tally needs of a card in Slack: its message, type and severity. */
export type DeliveredCard = Pick<Partial<FindingState>, 'ts' | 'threadTs' | 'findingType' | 'severity'>;

/** Replies between two redraws of the summary while a delivery runs. */
export const SUMMARY_REFRESH = 25;

/** The summary message over `counts`, listing the burst's worst findings. */
export async function summaryMessage(
  deps: JobDeps,
  scanId: string,
  channel: string,
  counts: BurstCounts,
): Promise<OutgoingMessage> {
  const worst = await deps.bursts.worst(scanId, channel);
  return burstSummaryMessage({
    channel,
    counts,
    items: worst.map((w) => ({ ...w, accountName: deps.config.accounts[w.finding.accountId]?.name })),
    now: deps.now(),
  });
}

export class SummaryTally {
  private sinceRefresh = 0;

  constructor(
    private readonly deps: JobDeps,
    private readonly scanId: string,
    private readonly channel: string,
    private readonly summary: PostedMessage,
  ) {}

  /**
   * Records the finding when its card is a reply in the summary's thread; `card` is the card as
   * delivery just left it (read from the store when not given).
   */
  async record(findingId: string, card?: DeliveredCard): Promise<void> {
    const state = card ?? (await this.deps.store.get(findingId));
    if (!state?.ts || state.threadTs !== this.summary.ts) return;
    const added = await this.deps.bursts.recordInThread(this.scanId, this.channel, {
      findingId,
      findingType: state.findingType ?? '',
      severity: state.severity ?? '',
    });
    if (added && ++this.sinceRefresh >= SUMMARY_REFRESH) await this.refresh();
  }

  /** Redraws the summary when the count it shows is not what the thread holds. Returns the count. */
  async refresh(): Promise<number> {
    this.sinceRefresh = 0;
    const { counts, shown } = await this.deps.bursts.thread(this.scanId, this.channel);
    if (shown === counts.total) return counts.total;
    const msg = await summaryMessage(this.deps, this.scanId, this.channel, counts);
    await this.deps.slack.update(this.summary.channel, this.summary.ts, msg);
    await this.deps.bursts.setShown(this.scanId, this.channel, counts.total);
    return counts.total;
  }
}
