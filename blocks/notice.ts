// Notices for the admin channel: things an operator must fix for the bot to see everything.
import type { ContextBlock, KnownBlock } from '@slack/types';
import type { AnalyzerInfo, AnalyzerKind } from '../src/findings/model.ts';
import { channelRef, code, escapeMrkdwn } from './escape.ts';
import { capBlocks, context, fitMessageText, type SlackMessage, section, truncate } from './limits.ts';

const KIND_WORDS: Record<AnalyzerKind, { analyzer: string; unchecked: string; type: string }> = {
  external: {
    analyzer: 'external-access',
    unchecked: 'resources shared outside the account or organization',
    type: 'ACCOUNT',
  },
  internal: {
    analyzer: 'internal-access',
    unchecked: 'access to critical resources from inside the account or organization',
    type: 'ACCOUNT_INTERNAL_ACCESS',
  },
  unused: {
    analyzer: 'unused-access',
    unchecked: 'unused roles, keys and permissions',
    type: 'ACCOUNT_UNUSED_ACCESS',
  },
};

function message(text: string, body: string, extra: string[] = []): SlackMessage {
  const blocks: KnownBlock[] = [section(body)];
  if (extra.length > 0) blocks.push(context(extra));
  return { text: fitMessageText(text), blocks: capBlocks(blocks) };
}

/** No analyzer of these kinds in a region. */
export function analyzerMissingNotice(input: {
  region: string;
  kinds: readonly AnalyzerKind[];
}): SlackMessage {
  const region = escapeMrkdwn(input.region);
  const kinds = [...new Set(input.kinds)];
  const lines = kinds.map((k) => {
    const w = KIND_WORDS[k];
    return `No ${w.analyzer} analyzer in ${region}: ${w.unchecked} there are not being checked.`;
  });
  const fixes = kinds.map((k) =>
    code(
      `aws accessanalyzer create-analyzer --region ${input.region} --analyzer-name access-patrol-${k} --type ${KIND_WORDS[k].type}`,
    ),
  );
  const body = `⚠️ ${lines.join('\n')}\nCreate ${kinds.length === 1 ? 'it' : 'them'} (use the ORGANIZATION types from the delegated administrator account), or remove the region from \`regions\` in the config.`;
  return message(lines.join(' ') || `No analyzers missing in ${region}.`, body, fixes);
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
export function coverageRestoredNotice(input: { region: string; what: string }): SlackMessage {
  const region = escapeMrkdwn(input.region);
  const what = escapeMrkdwn(truncate(input.what, 200));
  return message(
    `Resolved in ${region}: the bot has ${what} again.`,
    `✅ Resolved in ${region}: the bot has ${what} again.`,
  );
}
