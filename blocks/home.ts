// The App Home tab: the viewer's open findings (overdue first) and the last digest of their channels.
import type { KnownBlock } from '@slack/types';
import type { Severity } from '../src/findings/model.ts';
import { agingPhrase } from './aging.ts';
import { messageUrl } from './digest.ts';
import { channelRef, code, escapeMrkdwn, link } from './escape.ts';
import { SEVERITY_EMOJI } from './finding.ts';
import { capBlocks, context, fitHeader, section, truncate } from './limits.ts';

/** Blocks in a Home tab (Slack's limit; messages have 50). */
export const HOME_BLOCKS = 100;
/** Findings listed, one block each, leaving room for the header, the summary and the last digest. */
export const HOME_FINDINGS = 40;

export interface HomeFinding {
  id: string;
  findingType: string;
  severity: string;
  resourceArn: string;
  accountId: string;
  region: string;
  channel?: string;
  ts?: string;
  /** Set when the finding is past its SLA. */
  overdue?: { ageDays: number; slaDays: number; overdueDays: number };
}

export interface HomeInput {
  /** Open findings the viewer owns, in display order (overdue first); may be longer than shown. */
  findings: readonly HomeFinding[];
  total: number;
  overdue: number;
  /** Whether the viewer's e-mail was known (owner tags matched on it). */
  byEmail: boolean;
  lastDigest?: { week: string; at: string; channel: string; ts: string; text: string };
  workspaceUrl?: string;
}

function findingLine(f: HomeFinding, workspaceUrl: string | undefined): string {
  const emoji = SEVERITY_EMOJI[f.severity as Severity] ?? '';
  const url = messageUrl(workspaceUrl, f.channel, f.ts);
  const where = url ? ` · ${link(url, 'message')}` : f.channel ? ` · in ${channelRef(f.channel)}` : '';
  const late = f.overdue ? ` · ⏰ ${escapeMrkdwn(agingPhrase(f.overdue))}` : '';
  return (
    `${emoji} *${escapeMrkdwn(f.severity)}* ${escapeMrkdwn(f.findingType)} on ${code(f.resourceArn, 300)} ` +
    `(${code(f.accountId, 40)}, ${escapeMrkdwn(f.region)})${late}${where}`
  );
}

export function homeView(input: HomeInput): { type: 'home'; blocks: KnownBlock[] } {
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: fitHeader('Your access findings') } },
  ];
  const whose = input.byEmail
    ? 'routed to your channels or on resources tagged with your e-mail'
    : 'routed to your channels';
  if (input.total === 0) {
    blocks.push(section(`✅ No open findings ${whose}.`));
  } else {
    blocks.push(
      section(`*${input.total} open* (${input.overdue} overdue) ${whose}; overdue first, then worst first.`),
    );
    const shown = input.findings.slice(0, HOME_FINDINGS);
    for (const f of shown) blocks.push(section(findingLine(f, input.workspaceUrl)));
    if (input.total > shown.length) {
      blocks.push(
        context([
          `${input.total - shown.length} more not shown. \`/access findings\` lists and filters them all.`,
        ]),
      );
    }
  }
  blocks.push({ type: 'divider' });
  const d = input.lastDigest;
  if (d) {
    const url = messageUrl(input.workspaceUrl, d.channel, d.ts);
    const to = d.channel.startsWith('D') ? 'you' : channelRef(d.channel);
    const where = url ? ` · ${link(url, 'open it')}` : '';
    blocks.push(
      section(
        `*Last digest* (sent ${escapeMrkdwn(d.at.slice(0, 10))} to ${to}): ` +
          `${escapeMrkdwn(truncate(d.text, 1000))}${where}`,
      ),
    );
  } else {
    blocks.push(context(['No digest has been sent to your channels yet.']));
  }
  return { type: 'home', blocks: capBlocks(blocks, HOME_BLOCKS) };
}
