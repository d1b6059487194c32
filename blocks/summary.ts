// The parent message of a burst: many new findings for one channel in one scan become one summary,
// with each finding posted in its thread.
import type { KnownBlock } from '@slack/types';
import { FINDING_TYPES, type Finding, type FindingType, SEVERITIES } from '../src/findings/model.ts';
import type { Assessed } from '../src/findings/severity.ts';
import { channelRef, code, escapeMrkdwn } from './escape.ts';
import { findingHeadline, SEVERITY_EMOJI } from './finding.ts';
import {
  capBlocks,
  context,
  fitHeader,
  fitMessageText,
  LIMITS,
  type SlackMessage,
  section,
  truncate,
} from './limits.ts';

export interface BurstItem {
  finding: Finding;
  severity: Assessed;
  accountName?: string;
}

export interface BurstCounts {
  total: number;
  byType: Partial<Record<string, number>>;
  bySeverity: Partial<Record<string, number>>;
}

export interface BurstSummaryInput {
  channel: string;
  /** The findings to list (only the worst SUMMARY_WORST are named). */
  items: readonly BurstItem[];
  /**
   * Counts over the whole burst when `items` holds only its worst few (a large first scan keeps
   * counters and the worst items in Redis, not every finding). Computed from `items` when absent.
   */
  counts?: BurstCounts;
  now: Date;
}

/** How many findings the summary lists by name. */
export const SUMMARY_WORST = 10;
const LINE_MAX = 280;

const TYPE_WORDS: Record<FindingType, [string, string]> = {
  ExternalAccess: ['external access', 'external access'],
  InternalAccess: ['internal access', 'internal access'],
  UnusedIAMRole: ['unused role', 'unused roles'],
  UnusedIAMUserAccessKey: ['unused access key', 'unused access keys'],
  UnusedIAMUserPassword: ['unused password', 'unused passwords'],
  UnusedPermission: ['unused permission', 'unused permissions'],
};

function createdAtMs(f: Finding): number {
  const t = Date.parse(f.createdAt);
  return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t;
}

/** Worst first: severity rank, then oldest first, then id (so the order is total). */
export function worstFirst(items: readonly BurstItem[]): BurstItem[] {
  return [...items].sort(
    (a, b) =>
      a.severity.rank - b.severity.rank ||
      createdAtMs(a.finding) - createdAtMs(b.finding) ||
      (a.finding.id < b.finding.id ? -1 : a.finding.id > b.finding.id ? 1 : 0),
  );
}

function itemLine(item: BurstItem, now: Date): string {
  const f = item.finding;
  const head = findingHeadline(f, now).mrkdwn;
  const acct = item.accountName
    ? `${code(f.accountId, 40)} (${escapeMrkdwn(truncate(item.accountName, 60))})`
    : code(f.accountId, 40);
  return truncate(
    `${SEVERITY_EMOJI[item.severity.severity]} ${head}: ${acct}, ${escapeMrkdwn(f.region)}`,
    LINE_MAX,
  );
}

export function burstSummaryMessage(input: BurstSummaryInput): SlackMessage {
  const { items, now } = input;
  const n = input.counts?.total ?? items.length;
  const title = n === 1 ? '1 new access finding' : `${n} new access findings`;

  const bySeverity = new Map<string, number>();
  const byType = new Map<string, number>();
  if (input.counts) {
    for (const [k, v] of Object.entries(input.counts.bySeverity)) if (v) bySeverity.set(k, v);
    for (const [k, v] of Object.entries(input.counts.byType)) if (v) byType.set(k, v);
  } else {
    for (const { finding, severity } of items) {
      bySeverity.set(severity.severity, (bySeverity.get(severity.severity) ?? 0) + 1);
      byType.set(finding.findingType, (byType.get(finding.findingType) ?? 0) + 1);
    }
  }
  const severityCounts = SEVERITIES.flatMap((s) => {
    const c = bySeverity.get(s);
    return c ? [{ s, c }] : [];
  });
  const typeCounts = FINDING_TYPES.flatMap((t) => {
    const c = byType.get(t);
    return c ? [`${c} ${TYPE_WORDS[t][c === 1 ? 0 : 1]}`] : [];
  });

  const blocks: KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: fitHeader(title) } }];
  if (n > 0) {
    const sev = severityCounts.map(({ s, c }) => `${SEVERITY_EMOJI[s]} ${c} ${s}`).join('  ·  ');
    blocks.push(section(`*By severity:* ${sev}\n*By type:* ${typeCounts.join(', ')}`));
    blocks.push({ type: 'divider' });
    const worst = worstFirst(items).slice(0, SUMMARY_WORST);
    const heading = n > SUMMARY_WORST ? `*The ${SUMMARY_WORST} most severe*\n` : '';
    let body = heading;
    for (const item of worst) {
      const line = itemLine(item, now);
      if (body.length + line.length + 1 > LIMITS.sectionText) break;
      body += `${line}\n`;
    }
    blocks.push(section(body.trimEnd()));
  }
  const shown = Math.min(n, SUMMARY_WORST);
  const more = n > shown ? `${n - shown} more not listed here. ` : '';
  blocks.push(
    context([`${more}Details for each finding are in this thread. For ${channelRef(input.channel)}.`]),
  );

  const sevText = severityCounts.map(({ s, c }) => `${c} ${s}`).join(', ');
  return {
    text: fitMessageText(sevText ? `${title}: ${sevText}` : title),
    blocks: capBlocks(blocks),
  };
}
