// The weekly digest message (a channel's, or an owner's DM) and its one-line all-clear.
import type { KnownBlock } from '@slack/types';
import type { UnusedRoleChoice } from '../src/findings/card-actions.ts';
import type { DigestCounts, OverdueFinding, OwnerDigestData } from '../src/findings/digest.ts';
import type { Severity } from '../src/findings/model.ts';
import { agingPhrase } from './aging.ts';
import { CHANNEL_ID, channelRef, code, escapeMrkdwn, link, userRef } from './escape.ts';
import { findingButtons, SEVERITY_EMOJI } from './finding.ts';
import { capBlocks, context, fitHeader, messageText, type SlackMessage, section } from './limits.ts';

/** An overdue finding as listed: the numbers plus what the line and its buttons need. */
export interface DigestOverdueEntry extends OverdueFinding {
  resourceArn: string;
  resourceType: string;
  accountId: string;
  region: string;
  analyzerArn: string;
  /** Where the finding's message is. */
  channel?: string;
  ts?: string;
}

export type DigestOwner = { kind: 'channel'; channel: string } | { kind: 'user' };

export interface DigestMessageInput {
  owner: DigestOwner;
  data: Omit<OwnerDigestData, 'overdue'>;
  /** The overdue findings to list (at most `overdueLimit`, oldest first). */
  overdue: readonly DigestOverdueEntry[];
  timezone: string;
  consoleUrl: string;
  /** What an unused role's buttons offer (config `roles.unusedRole`). */
  unusedRole?: UnusedRoleChoice;
  /** e.g. https://acme.slack.com, for links to each finding's message. */
  workspaceUrl?: string;
  /** Finding buttons under each overdue finding (channel digests; not in DMs or previews elsewhere). */
  buttons: boolean;
}

const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

/**
 * A link to a message without chat.getPermalink (the rule `/access findings` uses): the workspace
 * URL must be a plain https://<name>.slack.com and the channel an id.
 */
export function messageUrl(
  workspaceUrl: string | undefined,
  channel?: string,
  ts?: string,
): string | undefined {
  const base = workspaceUrl?.replace(/\/$/, '');
  if (!base || !/^https:\/\/[a-z0-9-]+\.slack\.com$/.test(base)) return undefined;
  if (!channel || !ts || !CHANNEL_ID.test(channel) || !/^\d+\.\d+$/.test(ts)) return undefined;
  return `${base}/archives/${channel}/p${ts.replace('.', '')}`;
}

/** "(▲3 since last week)", "(▼1 since last week)", "(no change since last week)"; empty without a snapshot. */
export function trend(current: number, previous: number | undefined): string {
  if (previous === undefined) return '';
  const d = current - previous;
  if (d === 0) return ' (no change since last week)';
  return ` (${d > 0 ? '▲' : '▼'}${Math.abs(d)} since last week)`;
}

function who(by: string | null): string {
  if (by === null) return 'outside Slack';
  return userRef(by);
}

function ownerTitle(owner: DigestOwner): { mrkdwn: string; plain: string } {
  if (owner.kind === 'user') return { mrkdwn: 'your resources', plain: 'your resources' };
  const plainName = CHANNEL_ID.test(owner.channel) ? 'this channel' : owner.channel;
  return { mrkdwn: channelRef(owner.channel), plain: plainName };
}

function headline(c: DigestCounts, prev: DigestCounts | undefined): string {
  return [
    `*Open* ${c.open}${trend(c.open, prev?.open)}`,
    `*Overdue* ${c.overdue}${trend(c.overdue, prev?.overdue)}`,
    `*New* ${c.new}`,
    `*Resolved* ${c.resolved}`,
    `*Archived* ${c.archived}`,
  ].join(' · ');
}

function countLines(items: readonly [string, number][], label: (k: string) => string): string {
  if (items.length === 0) return 'None';
  return items.map(([k, n]) => `${label(k)}: ${n}`).join('\n');
}

function severityLabel(s: string): string {
  const emoji = SEVERITY_EMOJI[s as Severity];
  return emoji ? `${emoji} ${escapeMrkdwn(s)}` : escapeMrkdwn(s);
}

function overdueLine(e: DigestOverdueEntry, workspaceUrl: string | undefined): string {
  const url = messageUrl(workspaceUrl, e.channel, e.ts);
  const where = url ? ` · ${link(url, 'message')}` : e.channel ? ` · in ${channelRef(e.channel)}` : '';
  return (
    `${severityLabel(e.severity)} ${escapeMrkdwn(e.findingType)} on ${code(e.resourceArn, 300)} ` +
    `(${code(e.accountId, 40)}, ${escapeMrkdwn(e.region)}): ${escapeMrkdwn(agingPhrase(e))}${where}`
  );
}

/** The digest of one owner for one week. */
export function digestMessage(input: DigestMessageInput): SlackMessage {
  const { data, owner } = input;
  const c = data.counts;
  const title = ownerTitle(owner);
  const weekText = `${data.week.from} to ${data.week.to}`;
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: fitHeader(`Weekly access digest: ${title.plain}`) } },
    section(headline(c, data.previous)),
  ];
  if (c.open > 0) {
    blocks.push(
      section(undefined, [
        `*Open by type*\n${countLines(data.byType, (k) => escapeMrkdwn(k))}`,
        `*Open by severity*\n${countLines(data.bySeverity, severityLabel)}`,
      ]),
    );
  }
  const happened: string[] = [];
  if (c.new > 0) happened.push(`🆕 *${c.new} new* this week.`);
  if (c.resolved > 0) {
    const deleted = data.resolvedAfterDeletion.map((r) => `${r.count} after a role deletion by ${who(r.by)}`);
    happened.push(`✅ *${c.resolved} resolved*${deleted.length ? ` (${deleted.join(', ')})` : ''}.`);
  }
  if (c.archived > 0) {
    const by = data.archivedBy.map((a) => `${who(a.by)} (${a.count})`).join(', ');
    happened.push(`🗄️ *${c.archived} archived* by ${by}.`);
  }
  if (happened.length) blocks.push(section(happened.join('\n')));

  if (input.overdue.length > 0) {
    const more = c.overdue - input.overdue.length;
    blocks.push(
      section(
        `⏰ *Overdue, oldest first*${more > 0 ? ` (${input.overdue.length} of ${c.overdue}; ${more} more not listed)` : ''}:`,
      ),
    );
    input.overdue.forEach((e, i) => {
      blocks.push(section(overdueLine(e, input.workspaceUrl)));
      // The region goes into the button's console URL; a stored one is always a real region.
      if (input.buttons && AWS_REGION.test(e.region))
        blocks.push(
          findingButtons(
            e as Parameters<typeof findingButtons>[0],
            input.consoleUrl,
            `digest_overdue_${i}`,
            input.unusedRole,
          ),
        );
    });
  }
  blocks.push(context([`Week ${escapeMrkdwn(weekText)}, days in ${escapeMrkdwn(input.timezone)}`]));

  const text = messageText(
    `Weekly access digest for ${title.plain}: ${c.open} open (${c.overdue} overdue), ${c.new} new, ` +
      `${c.resolved} resolved, ${c.archived} archived`,
  );
  // The context line is the last block; keep it when the list is long.
  return { text, blocks: capBlocks(blocks) };
}

/** The one line sent for a week with nothing open and nothing new. */
export function allClearMessage(owner: DigestOwner, week: { from: string; to: string }): SlackMessage {
  const title = ownerTitle(owner);
  const days = `${week.from} to ${week.to}`;
  return {
    text: messageText(`All clear for ${title.plain} (${days}): nothing open, nothing new.`),
    blocks: [
      section(`✅ *All clear* for ${title.mrkdwn} (${escapeMrkdwn(days)}): nothing open, nothing new.`),
    ],
  };
}

/** An admin notice: owner tags name addresses of no active Slack user (sent once per address). */
export function unknownOwnerEmailsNotice(emails: readonly string[]): SlackMessage {
  const list = emails.slice(0, 20).map((e) => code(e, 200));
  const more = emails.length > list.length ? ` and ${emails.length - list.length} more` : '';
  return {
    text: messageText(`Owner e-mails the digest cannot DM: ${emails.join(', ')}`),
    blocks: [
      section(
        `📭 The digest could not DM these owners: no active Slack user has the address ${list.join(', ')}${more}. ` +
          'Fix the owner tag on their resources; each address is reported once.',
      ),
    ],
  };
}
