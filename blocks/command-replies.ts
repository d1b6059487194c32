// Ephemeral replies to /access verbs that read state: show, audit, status.
import type { KnownBlock } from '@slack/types';
import type { StoredAuditEntry } from '../src/store/audit.ts';
import type { FindingState, ListedFinding } from '../src/store/findings.ts';
import { code, escapeMrkdwn, userRef } from './escape.ts';
import { capBlocks, context, messageText, type SlackMessage, section, truncate } from './limits.ts';

const CHANNEL_ID = /^[CGD][A-Z0-9]{6,}$/;
const channelLink = (c: string) => (CHANNEL_ID.test(c) ? `<#${c}>` : escapeMrkdwn(c));

export function findingSummaryReply(id: string, s: FindingState | null): SlackMessage {
  if (!s) {
    return {
      text: messageText(`No finding ${truncate(id, 80)} is known to access-patrol`),
      blocks: [
        section(`No finding ${code(id, 80)} is known to access-patrol (it may not have been scanned yet).`),
      ],
    };
  }
  const where = s.channel
    ? `Message in ${channelLink(s.channel)}${s.ts ? ` (ts ${escapeMrkdwn(s.ts)})` : ''}`
    : 'Not posted yet';
  const archived =
    s.status === 'ARCHIVED' && s.archivedBy
      ? `\nArchived by ${userRef(s.archivedBy)}: ${escapeMrkdwn(truncate(s.archiveReason ?? '', 300))}${s.archiveUntil ? `, until ${escapeMrkdwn(s.archiveUntil)}` : ''}`
      : '';
  return {
    text: messageText(`Finding ${id}: ${s.findingType} ${s.status}`),
    blocks: capBlocks([
      section(
        `*${escapeMrkdwn(s.findingType)}* on ${code(s.resourceArn, 400)}\nStatus *${escapeMrkdwn(s.status.toLowerCase())}*, severity *${escapeMrkdwn(s.severity)}*, account ${code(s.accountId)}, ${escapeMrkdwn(s.region)}${archived}`,
      ),
      context([`Finding ${code(id, 80)} · ${where} · first seen ${escapeMrkdwn(s.firstSeen.slice(0, 10))}`]),
    ]),
  };
}

/** `/access audit`; `scope` says what was left out for someone who may not read everything. */
export function auditReply(entries: StoredAuditEntry[], scope?: string): SlackMessage {
  const scopeNote = scope ? [context([`Showing ${escapeMrkdwn(scope)}.`])] : [];
  if (entries.length === 0)
    return { text: 'No audit entries match', blocks: [section('No audit entries match.'), ...scopeNote] };
  const lines = entries.map((e) => {
    const who = userRef(e.actor);
    const finding = e.findingId ? ` ${code(e.findingId, 40)}` : '';
    const extra = e.error
      ? `: ${escapeMrkdwn(truncate(e.error, 120))}`
      : e.detail
        ? `: ${escapeMrkdwn(truncate(e.detail, 120))}`
        : '';
    return `${escapeMrkdwn(e.at.slice(0, 16).replace('T', ' '))} ${who} *${escapeMrkdwn(e.action)}*${finding} ${escapeMrkdwn(e.outcome)}${extra}`;
  });
  const blocks: KnownBlock[] = [];
  let chunk = '';
  for (const line of lines) {
    if (chunk.length + line.length + 1 > 2900) {
      blocks.push(section(chunk));
      chunk = '';
    }
    chunk += `${line}\n`;
  }
  if (chunk) blocks.push(section(chunk.trimEnd()));
  blocks.push(...scopeNote);
  return {
    text: entries.length === 1 ? '1 audit entry' : `${entries.length} audit entries`,
    blocks: capBlocks(blocks),
  };
}

export interface StatusView {
  lastScan: {
    scanId: string;
    at: string;
    analyzers: {
      analyzerArn?: string;
      name?: string;
      region: string;
      ok: boolean;
      active: number;
      error?: string;
      failed?: boolean;
    }[];
  } | null;
  queues: Record<string, { waiting: number; active: number; delayed: number; failed: number }>;
}

function failedCount(v: StatusView): string {
  const n = v.lastScan?.analyzers.filter((a) => !a.ok).length ?? 0;
  return n > 0 ? `*${n} failed*, ` : '';
}

export function statusReply(v: StatusView): SlackMessage {
  const scan = v.lastScan
    ? `Last scan ${escapeMrkdwn(v.lastScan.at.slice(0, 16).replace('T', ' '))} UTC: ${v.lastScan.analyzers.length} analyzer(s), ${failedCount(v)}${v.lastScan.analyzers.reduce((n, a) => n + a.active, 0)} active finding(s)` +
      v.lastScan.analyzers
        .filter((a) => !a.ok)
        .map(
          (a) =>
            `\n⚠️ ${a.name ? `${code(a.name, 120)} ` : ''}${escapeMrkdwn(a.region)}: ${escapeMrkdwn(truncate(a.error ?? 'failed', 200))}${a.failed ? ' (not checked; the next scan retries)' : ''}`,
        )
        .join('')
    : 'No scan has finished yet.';
  const byRegion = new Map<string, number>();
  for (const a of v.lastScan?.analyzers ?? [])
    byRegion.set(a.region, (byRegion.get(a.region) ?? 0) + a.active);
  const regions = [...byRegion].map(([r, n]) => `${escapeMrkdwn(r)}: ${n}`).join(', ');
  const queues = Object.entries(v.queues)
    .map(
      ([q, c]) =>
        `*${escapeMrkdwn(q)}* waiting ${c.waiting}, active ${c.active}, delayed ${c.delayed}, failed ${c.failed}`,
    )
    .join('\n');
  return {
    text: messageText(v.lastScan ? `Last scan ${v.lastScan.at}` : 'No scan has finished yet'),
    blocks: capBlocks([
      section(scan + (regions ? `\nActive by region: ${regions}` : '')),
      section(queues || 'No queues'),
    ]),
  };
}

export const FINDINGS_PAGE_SIZE = 10;

/** One page of `/access findings`, worst first then oldest, each linking to its message. */
export function findingsListReply(input: {
  items: ListedFinding[];
  page: number;
  total: number;
  truncated: boolean;
  filterText: string;
  /** e.g. https://acme.slack.com, for links straight to each message. */
  workspaceUrl?: string;
}): SlackMessage {
  const pages = Math.max(1, Math.ceil(input.total / FINDINGS_PAGE_SIZE));
  if (input.total === 0) {
    return {
      text: 'No findings match',
      blocks: [section(`No findings match ${escapeMrkdwn(input.filterText)}.`)],
    };
  }
  const lines = input.items.map((f) => {
    const where =
      f.channel && f.ts
        ? input.workspaceUrl &&
          /^https:\/\/[a-z0-9-]+\.slack\.com$/.test(input.workspaceUrl) &&
          CHANNEL_ID.test(f.channel)
          ? `<${input.workspaceUrl}/archives/${f.channel}/p${f.ts.replace('.', '')}|message>`
          : `in ${channelLink(f.channel)}`
        : 'not posted yet';
    return `• *${escapeMrkdwn(f.severity)}* ${escapeMrkdwn(f.findingType)} ${code(f.resourceArn, 200)} (${code(f.accountId)}, ${escapeMrkdwn(f.region)}, since ${escapeMrkdwn((f.createdAt ?? '').slice(0, 10))}) ${code(f.id, 40)} ${where}`;
  });
  const more = input.truncated ? ' (the search stopped at 5000 matches; narrow it with filters)' : '';
  return {
    text: `${input.total} findings match, page ${input.page} of ${pages}`,
    blocks: capBlocks([
      section(`*${input.total} findings* match ${escapeMrkdwn(input.filterText)}${more}`),
      section(lines.join('\n')),
      context([
        input.page < pages
          ? `Page ${input.page} of ${pages}. Next: \`/access findings … --page ${input.page + 1}\``
          : `Page ${input.page} of ${pages}.`,
      ]),
    ]),
  };
}

/** `/access owners`: the rule-by-rule explanation, shown verbatim (it quotes tag values). */
export function ownersReply(result: { ok: true; text: string } | { ok: false; error: string }): SlackMessage {
  if (!result.ok) {
    return {
      text: messageText(result.error),
      blocks: [section(`⚠️ ${escapeMrkdwn(truncate(result.error, 2000))}`)],
    };
  }
  const chunks: string[] = [];
  for (let i = 0; i < result.text.length && chunks.length < 10; i += 2800)
    chunks.push(result.text.slice(i, i + 2800));
  return {
    text: messageText(result.text.split('\n').at(-1) ?? 'owners'),
    blocks: capBlocks(chunks.map((c) => section(`\`\`\`${escapeMrkdwn(c.replace(/`/g, 'ˋ'))}\`\`\``))),
  };
}
