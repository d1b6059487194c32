// Notices for the admin channel: things an operator must fix for the bot to see everything.
import type { ActionsBlock, ContextBlock, KnownBlock } from '@slack/types';
import type { MissingAnalyzer, Zone } from '../src/findings/coverage.ts';
import { type AnalyzerInfo, type AnalyzerKind, accountOfArn } from '../src/findings/model.ts';
import { channelRef, code, escapeMrkdwn, plain, userRef } from './escape.ts';
import { ACTION_IDS } from './ids.ts';
import {
  capBlocks,
  context,
  fitButtonValue,
  fitMessageText,
  type SlackMessage,
  section,
  truncate,
} from './limits.ts';

const KIND_WORDS: Record<AnalyzerKind, { analyzer: string; unchecked: string }> = {
  external: {
    analyzer: 'external-access',
    unchecked: 'resources shared outside the account or organization',
  },
  internal: {
    analyzer: 'internal-access',
    unchecked: 'access to critical resources from inside the account or organization',
  },
  unused: {
    analyzer: 'unused-access',
    unchecked: 'unused roles, keys and permissions',
  },
};

function message(text: string, body: string, extra: string[] = [], more: KnownBlock[] = []): SlackMessage {
  const blocks: KnownBlock[] = [section(body)];
  if (extra.length > 0) blocks.push(context(extra));
  blocks.push(...more);
  return { text: fitMessageText(text), blocks: capBlocks(blocks) };
}

function createCommand(region: string, kind: AnalyzerKind, type: string): string {
  return code(
    `aws accessanalyzer create-analyzer --region ${region} --analyzer-name access-patrol-${kind} --type ${type}`,
  );
}

/** Names an account by its id and, when the config has one, its friendly name. */
export type AccountNamer = (accountId: string) => string | undefined;

function accountWords(id: string, name: AccountNamer | undefined): string {
  const n = name?.(id);
  return `account ${code(id)}${n ? ` (${escapeMrkdwn(truncate(n, 80))})` : ''}`;
}

/** The zone of trust in words: "the organization (administered from account `1111…` (security))". */
export function zoneWords(zone: Zone, name?: AccountNamer): string {
  if (zone.kind === 'organization') {
    return zone.adminAccount
      ? `the organization (administered from ${accountWords(zone.adminAccount, name)})`
      : 'the organization';
  }
  return zone.accountId ? accountWords(zone.accountId, name) : "the bot's account";
}

/** Regional analyzer kinds (external, internal access) missing in one region. */
export function analyzerMissingNotice(input: {
  region: string;
  missing: readonly MissingAnalyzer[];
  /** The organisation's analyzers are administered from this account. */
  organization?: boolean;
}): SlackMessage {
  const region = escapeMrkdwn(input.region);
  const lines = input.missing.map((m) => {
    const w = KIND_WORDS[m.kind];
    return `No ${w.analyzer} analyzer in ${region}: ${w.unchecked} there are not being checked.`;
  });
  const notes = input.missing.flatMap((m) =>
    m.orgInternalElsewhere
      ? [
          `AWS allows one organization-level internal access analyzer per organization (${code(m.orgInternalElsewhere.name, 120)} in ${escapeMrkdwn(m.orgInternalElsewhere.region)}): in ${region} use an account-level one, in the account that owns the resources.`,
        ]
      : [],
  );
  const fixes = input.missing.map((m) => createCommand(input.region, m.kind, m.type));
  const orgTypes = input.organization && input.missing.some((m) => m.type.startsWith('ORGANIZATION'));
  const from = orgTypes
    ? " (organization-level ones from this account: it administers the organization's analyzers)"
    : '';
  const body = [
    `⚠️ ${lines.join('\n')}`,
    ...notes,
    `Analyzers of these types work per region: create ${input.missing.length === 1 ? 'it' : 'them'} in ${region}${from}, or remove the region from \`regions\` in the config.`,
  ].join('\n');
  const buttons = input.missing.flatMap(
    (m) => createAnalyzerButton({ region: input.region, kind: m.kind, type: m.type }) ?? [],
  );
  return message(lines.join(' ') || `No analyzers missing in ${region}.`, body, fixes, buttons);
}

/** No unused-access analyzer for the zone of trust in any scanned region. */
export function unusedAnalyzerMissingNotice(input: {
  zone: Zone;
  create: { type: string; region: string };
  scannedRegions: readonly string[];
  /** Accounts named in the config besides the zone's (an account-level analyzer does not see them). */
  otherAccounts?: readonly string[];
  /** A service-linked analyzer that covers only its own account. */
  partialServiceLinked?: AnalyzerInfo;
  accountName?: AccountNamer;
}): SlackMessage {
  const zone = zoneWords(input.zone, input.accountName);
  const regions = input.scannedRegions.map(escapeMrkdwn).join(', ');
  const headline = `No unused-access analyzer for ${zone} in the scanned regions (${regions}): unused roles, keys and permissions are not being checked.`;
  const lines = [
    `⚠️ ${headline}`,
    'Unused access is analysed once per account or organization, in any one region: its findings are the same in every region and it is billed per analyzer, so one is enough. If you have one in a region the bot does not scan, add that region to `regions`; otherwise create one.',
  ];
  if (input.partialServiceLinked) {
    const sl = input.partialServiceLinked;
    lines.push(
      `The service-linked analyzer ${code(sl.name, 120)} (managed by ${code(sl.managedBy ?? '', 120)}) covers only ${zoneWords({ kind: 'account', ...(accountOfArn(sl.arn) ? { accountId: accountOfArn(sl.arn)! } : {}) }, input.accountName)}.`,
    );
  }
  const others = input.otherAccounts ?? [];
  if (input.zone.kind === 'account' && others.length > 0) {
    lines.push(
      `An account-level analyzer does not see the other accounts in the config (${others
        .slice(0, 10)
        .map((a) => code(a))
        .join(
          ', ',
        )}${others.length > 10 ? ', …' : ''}): one ${code('ORGANIZATION_UNUSED_ACCESS')} analyzer, created from the organization's management account or delegated administrator, covers every member account.`,
    );
  }
  const text = `No unused-access analyzer for ${plainZone(input.zone)} in the scanned regions (${input.scannedRegions.join(', ')}).`;
  return message(
    escapeMrkdwn(text),
    lines.join('\n'),
    [createCommand(input.create.region, 'unused', input.create.type)],
    [createAnalyzerButton({ region: input.create.region, kind: 'unused', type: input.create.type })].flatMap(
      (b) => b ?? [],
    ),
  );
}

function plainZone(zone: Zone): string {
  if (zone.kind === 'organization') return 'the organization';
  return zone.accountId ? `account ${zone.accountId}` : "the bot's account";
}

/** More than one customer-managed unused-access analyzer for one zone of trust. */
export function duplicateUnusedAnalyzersNotice(input: {
  zone: Zone;
  analyzers: readonly AnalyzerInfo[];
  accountName?: AccountNamer;
}): SlackMessage {
  const zone = zoneWords(input.zone, input.accountName);
  const named = input.analyzers.map((a) => `${code(a.name, 120)} (${escapeMrkdwn(a.region)})`);
  const body = [
    `💸 ${input.analyzers.length} unused-access analyzers cover ${zone}: ${named.join(', ')}.`,
    'Same findings, billed per analyzer: unused access does not depend on the region, so each one reports the same unused roles, keys and permissions again. Keep one (check their tracking periods and exclusions with `get-analyzer`) and delete the others.',
  ].join('\n');
  const fixes = input.analyzers
    .slice(1, 10)
    .map((a) =>
      code(`aws accessanalyzer delete-analyzer --region ${a.region} --analyzer-name ${a.name}`, 300),
    );
  const text = `${input.analyzers.length} unused-access analyzers cover ${plainZone(input.zone)} (${input.analyzers
    .map((a) => `${a.name} in ${a.region}`)
    .join(', ')}): same findings, billed per analyzer.`;
  return message(escapeMrkdwn(truncate(text, 2000)), body, fixes);
}

/** The only unused-access source of the zone is a service-linked analyzer: its findings are shown read-only. */
export function serviceLinkedUnusedNotice(input: {
  zone: Zone;
  analyzer: AnalyzerInfo;
  accountName?: AccountNamer;
}): SlackMessage {
  const a = input.analyzer;
  const zone = zoneWords(input.zone, input.accountName);
  const body = [
    `ℹ️ Unused access for ${zone} comes only from ${code(a.name, 120)} (${escapeMrkdwn(a.region)}), a service-linked analyzer managed by ${code(a.managedBy ?? '', 120)}. Its settings belong to that service (Security Hub's: a fixed 90-day window, at no extra cost).`,
    'The bot posts its findings read-only: AWS lets no one else change a service-linked analyzer or its findings, so their messages have no Archive, Unarchive or Show recommendation button. To triage unused access from Slack, create an unused-access analyzer of your own.',
  ].join('\n');
  const text = `Unused access for ${plainZone(input.zone)} comes only from the service-linked analyzer ${a.name}; its findings are shown read-only.`;
  return message(escapeMrkdwn(truncate(text, 2000)), body);
}

/** An analyzer's scan failed after every retry: its findings were not checked this time. */
export function analyzerScanFailedNotice(input: {
  analyzer: Pick<AnalyzerInfo, 'arn' | 'name' | 'region'>;
  error: string;
  attempts: number;
}): SlackMessage {
  const a = input.analyzer;
  const body = [
    `⚠️ Scanning analyzer ${code(a.name, 120)} (${escapeMrkdwn(a.region)}) failed after ${input.attempts} attempt${input.attempts === 1 ? '' : 's'}: ${escapeMrkdwn(truncate(input.error, 500))}`,
    'Its findings were not checked in this scan: new ones were not posted and none was marked resolved. The next scan tries again.',
  ].join('\n');
  const text = `Scanning analyzer ${truncate(a.name, 120)} (${a.region}) failed: its findings were not checked in this scan.`;
  return message(escapeMrkdwn(text), body, [`Analyzer ARN ${code(a.arn, 400)}`]);
}

const STATUS_REASONS: Record<string, string> = {
  AWS_SERVICE_ACCESS_DISABLED: 'trusted access for IAM Access Analyzer was turned off in AWS Organizations',
  DELEGATED_ADMINISTRATOR_DEREGISTERED:
    'this account is no longer the delegated administrator for IAM Access Analyzer',
  ORGANIZATION_DELETED: 'the organization it analyzed was deleted',
  SERVICE_LINKED_ROLE_CREATION_FAILED:
    'the service-linked role AWSServiceRoleForAccessAnalyzer could not be created',
};

const STATUS_WORDS: Record<string, string> = {
  FAILED: 'has failed',
  DISABLED: 'is disabled',
  CREATING: 'is still being created',
};

/** An analyzer that exists but is not ACTIVE (FAILED, DISABLED, …). */
export function analyzerNotActiveNotice(input: { analyzer: AnalyzerInfo }): SlackMessage {
  const a = input.analyzer;
  const what = STATUS_WORDS[a.status] ?? `has status ${escapeMrkdwn(a.status)}`;
  const reason =
    a.statusReason === undefined
      ? ''
      : `: ${STATUS_REASONS[a.statusReason] ?? escapeMrkdwn(truncate(a.statusReason, 500))}`;
  const kind = KIND_WORDS[a.kind]?.analyzer ?? 'access';
  const region = escapeMrkdwn(a.region);
  const headline = `Analyzer ${code(a.name, 120)} (${kind}, ${region}) ${what}${reason}.`;
  const body = `⚠️ ${headline}\nIts findings are not being updated until it is ACTIVE again.`;
  const text = `Analyzer ${escapeMrkdwn(truncate(a.name, 120))} (${kind}, ${region}) ${what}${reason}.`;
  return message(text, body, [`Analyzer ARN ${code(a.arn, 400)}`]);
}

const SERVICE_OF_OPERATION: Record<string, string> = {
  AssumeRole: 'sts',
  GetCallerIdentity: 'sts',
  GetRole: 'iam',
  GetUser: 'iam',
  ListRoleTags: 'iam',
  ListUserTags: 'iam',
  DeleteRole: 'iam',
  GetResources: 'tag',
};

/** The bot was denied an AWS call while scanning. */
export function scanAccessDeniedNotice(input: {
  region: string;
  analyzerArn?: string;
  operation: string;
  message: string;
}): SlackMessage {
  const op = code(input.operation, 80);
  const region = escapeMrkdwn(input.region);
  const service = SERVICE_OF_OPERATION[input.operation] ?? 'access-analyzer';
  const body = [
    `🚫 Access denied calling ${op} in ${region}${input.analyzerArn ? ` (analyzer ${code(input.analyzerArn, 300)})` : ''}.`,
    `AWS said: ${escapeMrkdwn(truncate(input.message, 1000))}`,
    `Findings there are not being checked. Allow ${code(`${service}:${input.operation}`, 120)} for the bot's role (check SCPs and permission boundaries too).`,
  ].join('\n');
  const text = `Access denied calling ${escapeMrkdwn(truncate(input.operation, 80))} in ${region}: findings there are not being checked.`;
  return message(text, body);
}

const CHANNEL_ERROR_HINTS: Record<string, string> = {
  not_in_channel: 'Invite the bot to the channel.',
  channel_not_found:
    'Check the channel name in the routing rule or tag, and invite the bot if it is private.',
  is_archived: 'The channel is archived: unarchive it or change the routing rule.',
};

/** Posting to a routed channel failed; its findings went to the default channel. */
export function channelFallbackNotice(input: {
  channel: string;
  error: string;
  /** How many findings are affected, when known. */
  findingCount?: number;
}): SlackMessage {
  const ch = channelRef(input.channel);
  const err = code(input.error, 80);
  const its =
    input.findingCount === undefined
      ? 'its findings go'
      : input.findingCount === 1
        ? 'its finding goes'
        : `its ${input.findingCount} findings go`;
  const hint = CHANNEL_ERROR_HINTS[input.error] ?? 'Invite the bot or fix the routing rule.';
  const body = `⚠️ Could not post to ${ch} (${err}); ${its} to the default channel. ${hint}`;
  const text = `Could not post to ${escapeMrkdwn(input.channel)} (${escapeMrkdwn(truncate(input.error, 80))}); ${its} to the default channel.`;
  return message(text, body);
}

/** A context line on a finding posted in the default channel instead of its own. */
export function fallbackNoteBlock(channel: string, error: string): ContextBlock {
  return context(
    [`↪️ Posted here because ${channelRef(channel)} could not be used (${code(error, 80)}).`],
    'finding_fallback_note',
  );
}

/** A problem reported earlier is gone (analyzer created, access granted, analyzer active again). */
export function coverageRestoredNotice(input: { region?: string; what: string }): SlackMessage {
  const what = escapeMrkdwn(truncate(input.what, 300));
  if (input.region === undefined) {
    return message(`Resolved: ${what}.`, `✅ Resolved: ${what}.`);
  }
  const region = escapeMrkdwn(input.region);
  return message(
    `Resolved in ${region}: the bot has ${what} again.`,
    `✅ Resolved in ${region}: the bot has ${what} again.`,
  );
}

const AWS_REGION = /^[a-z]{2}(-[a-z0-9]+)+-\d{1,2}$/;

/** The coverage notice's button: creates the missing analyzer (the job works out the type again). */
export function createAnalyzerButton(input: {
  region: string;
  kind: AnalyzerKind;
  type: string;
}): ActionsBlock | undefined {
  // Regions come from the config; anything else gets no button (its value would not name a region).
  if (!AWS_REGION.test(input.region)) return undefined;
  const name = `access-patrol-${input.kind}`;
  return {
    type: 'actions',
    block_id: `create_analyzer_${input.kind}`,
    elements: [
      {
        type: 'button',
        action_id: ACTION_IDS.createAnalyzer,
        text: { type: 'plain_text', text: 'Create analyzer' },
        style: 'primary',
        value: fitButtonValue(JSON.stringify({ r: input.region, k: input.kind })),
        confirm: {
          title: { type: 'plain_text', text: 'Create this analyzer?' },
          text: {
            type: 'plain_text',
            text: plain(
              `Create ${input.type} analyzer ${name} in ${input.region}? The bot checks coverage again first.${input.kind === 'unused' ? ' AWS bills it per IAM role or user analysed, each month.' : ''}`,
              300,
            ),
          },
          confirm: { type: 'plain_text', text: 'Create analyzer' },
          deny: { type: 'plain_text', text: 'Cancel' },
        },
      },
    ],
  };
}

/** What a Create analyzer request did: created, or nothing (covered already, or AWS refused), and why. */
export function createAnalyzerNote(input: {
  userId: string;
  region: string;
  kind: AnalyzerKind;
  outcome: 'created' | 'covered' | 'refused';
  name?: string;
  type?: string;
  why?: string;
}): SlackMessage {
  const w = KIND_WORDS[input.kind].analyzer;
  const region = escapeMrkdwn(input.region);
  if (input.outcome === 'created') {
    const body = `✅ ${userRef(input.userId)} created the ${w} analyzer ${code(input.name ?? '', 120)} (${code(input.type ?? '', 60)}) in ${region}. The next scan finds it and reports the coverage restored.`;
    return message(
      escapeMrkdwn(`Created the ${w} analyzer ${input.name ?? ''} (${input.type ?? ''}) in ${input.region}.`),
      body,
    );
  }
  const why = escapeMrkdwn(truncate(input.why ?? '', 1000));
  const lead = input.outcome === 'covered' ? 'ℹ️ Nothing was done' : '🚫 Nothing was done';
  return message(escapeMrkdwn(`Nothing was done: ${truncate(input.why ?? '', 300)}`), `${lead}: ${why}`);
}
