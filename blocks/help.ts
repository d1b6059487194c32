// Replies to `/access help` and to a command that could not be parsed. Everything the person typed
// comes back escaped: error strings from the parser mark echoed input with backticks, shown as code.
import type { KnownBlock } from '@slack/types';
import { code, escapeMrkdwn } from './escape.ts';
import { capBlocks, context, fitHeader, fitMessageText, type SlackMessage, section } from './limits.ts';
import { isVerb, USAGE, VERB_HELP, VERBS, type Verb } from './verbs.ts';

/** What each flag means, for the help of one verb. */
const DETAILS: Partial<Record<Verb, readonly string[]>> = {
  findings: [
    '--type: external, internal, unused-role, unused-key, unused-password, unused-permission',
    '--account: a 12-digit account id or an account name from the config',
    '--region: an AWS region, like eu-west-1',
    '--severity: critical, high, medium, low or info',
    '--older-than: an age like 30d, 2w or 12h',
    '--status: active (the default view), archived or resolved',
    '--page: which page of results, from 1',
  ],
  archive: [
    '--reason: why this access is acceptable; quote it when it has spaces',
    '--until: when the finding comes back, a date within a year (YYYY-MM-DD)',
  ],
  owners: ['--account: the 12-digit account that owns the resource, for ARNs that carry none (S3 buckets)'],
  audit: [
    '--finding: only what happened to this finding',
    '--user: only what this person did',
    '--last: how many entries, 1 to 200 (default 20)',
  ],
  snooze: [
    '--days: how long the reminders pause: 1, 7 or 30 days',
    '--reason: why the reminders can wait; quote it when it has spaces',
  ],
  'generate-policy': [
    '--days: days of CloudTrail activity to read, 1 to 90 (default 30)',
    '--trail: the trail to read, if not the one in the config',
    '--regions: all (the default) or regions separated by commas',
  ],
  rules: [
    'for admins and those who may read every finding; counts are the findings the bot knows that each rule matches',
    'make a rule from a finding with its Archive similar button: the form shows how many active findings it would archive first',
    'Delete rule (admins and those listed under permissions.archive-rule) removes it from AWS; what it archived stays archived',
  ],
  validate: [
    'opens a form: paste the policy document (JSON), pick identity, resource or SCP',
    'optionally pick a resource type (S3 bucket, KMS key, SQS queue…) to check for public access too',
    'the findings come back to you only (ephemeral), with issue codes and links to the AWS docs',
  ],
};

const EXAMPLES: Record<Verb, readonly string[]> = {
  help: ['/access help', '/access help archive'],
  findings: [
    '/access findings',
    '/access findings --type external --severity critical',
    '/access findings --account 123456789012 --region eu-west-1 --older-than 30d --page 2',
    '/access findings --status archived',
  ],
  show: ['/access show 3f2a9c1e-8b7d-4e6f-a5c4-2d1b0e9f8a7c'],
  scan: ['/access scan', '/access scan eu-west-1'],
  archive: [
    '/access archive 3f2a9c1e-8b7d-4e6f-a5c4-2d1b0e9f8a7c --reason "Shared with our auditor"',
    '/access archive 3f2a9c1e-8b7d-4e6f-a5c4-2d1b0e9f8a7c --reason migration --until 2027-03-01',
  ],
  unarchive: ['/access unarchive 3f2a9c1e-8b7d-4e6f-a5c4-2d1b0e9f8a7c'],
  rescan: ['/access rescan 3f2a9c1e-8b7d-4e6f-a5c4-2d1b0e9f8a7c'],
  owners: [
    '/access owners arn:aws:iam::123456789012:role/ci-deployer',
    '/access owners arn:aws:s3:::payments-exports --account 123456789012',
  ],
  audit: ['/access audit', '/access audit --user @alice --last 50', '/access audit --finding 3f2a9c1e'],
  status: ['/access status'],
  'generate-policy': [
    '/access generate-policy arn:aws:iam::123456789012:role/ci-deployer',
    '/access generate-policy arn:aws:iam::123456789012:role/ci-deployer --days 60 --regions eu-west-1,us-east-1',
  ],
  validate: ['/access validate'],
  digest: ['/access digest'],
  rules: ['/access rules'],
  snooze: [
    '/access snooze 3f2a9c1e-8b7d-4e6f-a5c4-2d1b0e9f8a7c --days 7 --reason "Fix ships Friday, SEC-42"',
  ],
};

const GROUPS: readonly { title: string; verbs: readonly Verb[] }[] = [
  {
    title: 'Findings',
    verbs: ['findings', 'show', 'archive', 'unarchive', 'rescan', 'snooze', 'owners', 'generate-policy'],
  },
  { title: 'Operations', verbs: ['scan', 'status', 'audit', 'digest', 'rules', 'validate', 'help'] },
];

function usageLine(verb: Verb): string {
  return `${code(VERB_HELP[verb].syntax)}\n${escapeMrkdwn(VERB_HELP[verb].description)}`;
}

function overviewBlocks(): KnownBlock[] {
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: fitHeader('/access commands') } },
  ];
  for (const g of GROUPS) {
    blocks.push(section(`*${g.title}*\n${g.verbs.map(usageLine).join('\n')}`));
  }
  blocks.push(context([`${code('/access help <command>')} shows the flags and examples of one command.`]));
  return blocks;
}

/**
 * A mrkdwn rendering of a parser error: backtick-marked parts become code spans (escaped by `code`),
 * the rest is escaped text. An error with unpaired backticks is escaped as a whole.
 */
export function renderError(error: string): string {
  const parts = error.split('`');
  if (parts.length % 2 === 0) return escapeMrkdwn(error);
  return parts.map((p, i) => (i % 2 === 1 ? code(p) : escapeMrkdwn(p))).join('');
}

/** Help for every command, or the usage, flags and examples of one. */
export function helpMessage(verb?: string): SlackMessage {
  const v = verb?.toLowerCase();
  if (v === undefined || !isVerb(v)) {
    return {
      text: fitMessageText(`/access commands: ${VERBS.join(', ')}`),
      blocks: capBlocks(overviewBlocks()),
    };
  }
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: fitHeader(`/access ${v}`) } },
    section(usageLine(v)),
  ];
  const details = DETAILS[v];
  if (details !== undefined) blocks.push(section(details.map((d) => `• ${escapeMrkdwn(d)}`).join('\n')));
  blocks.push(section(`*Examples*\n${EXAMPLES[v].map((e) => code(e)).join('\n')}`));
  return { text: fitMessageText(USAGE[v]), blocks: capBlocks(blocks) };
}

/** What was wrong with a command, in plain words, and how that command is used. */
export function commandErrorMessage(error: { verb?: string; error: string }): SlackMessage {
  const problem = `:warning: ${renderError(error.error)}`;
  const verb = error.verb?.toLowerCase();
  if (verb === undefined || !isVerb(verb)) {
    return {
      text: fitMessageText(problem),
      blocks: capBlocks([section(problem), ...overviewBlocks()]),
    };
  }
  return {
    text: fitMessageText(problem),
    blocks: capBlocks([
      section(problem),
      section(`*Usage*\n${usageLine(verb)}`),
      context([`${code(`/access help ${verb}`)} for flags and examples.`]),
    ]),
  };
}
