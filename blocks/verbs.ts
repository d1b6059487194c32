// The /access command's vocabulary: its verbs, the syntax and purpose of each. The parser checks
// input against it; the help message and every usage hint are built from it.

export const VERBS = [
  'help',
  'findings',
  'show',
  'scan',
  'archive',
  'unarchive',
  'rescan',
  'owners',
  'audit',
  'status',
  'generate-policy',
  'validate',
  'digest',
  'snooze',
  'rules',
] as const;
export type Verb = (typeof VERBS)[number];

/** Command syntax and what it does, per verb: the source of `USAGE` and of the help message. */
export const VERB_HELP: Record<Verb, { syntax: string; description: string }> = {
  help: { syntax: '/access help [command]', description: 'List the commands, or explain one.' },
  findings: {
    syntax:
      '/access findings [--type T] [--account A] [--region R] [--severity S] [--older-than 30d] [--status active|archived|resolved] [--page N]',
    description: 'List findings, filtered and paged.',
  },
  show: { syntax: '/access show <finding-id>', description: 'Show one finding with its details.' },
  scan: { syntax: '/access scan [region]', description: 'Scan now, in every configured region or in one.' },
  archive: {
    syntax: '/access archive <finding-id> --reason "..." [--until YYYY-MM-DD]',
    description: 'Archive a finding as accepted, with a reason, optionally until a date.',
  },
  unarchive: {
    syntax: '/access unarchive <finding-id>',
    description: 'Make an archived finding active again.',
  },
  rescan: { syntax: '/access rescan <finding-id>', description: 'Re-check the resource behind a finding.' },
  owners: {
    syntax: '/access owners <arn> [--account <account-id>]',
    description: 'Say who owns a resource and where its findings go.',
  },
  audit: {
    syntax: '/access audit [--finding <finding-id>] [--user @name] [--last 20]',
    description: 'Show who did what: archives, rescans, role changes.',
  },
  status: { syntax: '/access status', description: 'Show analyzers, the last scan and the queues.' },
  'generate-policy': {
    syntax:
      '/access generate-policy <role-or-user-arn> [--days 30] [--trail <trail-arn>] [--regions all|r1,r2]',
    description: 'Generate a least-privilege policy from CloudTrail activity.',
  },
  validate: {
    syntax: '/access validate',
    description: 'Paste a policy to validate: ValidatePolicy, and a public-access check for a resource type.',
  },
  digest: { syntax: '/access digest', description: 'Show this channel’s weekly digest now (only to you).' },
  snooze: {
    syntax: '/access snooze <finding-id> --days 1|7|30 --reason "..."',
    description: "Pause a finding's aging reminders for a while, with a reason; it stays active.",
  },
  rules: {
    syntax: '/access rules',
    description:
      'List the archive rules of every analyzer with the findings each matches; delete one with its button.',
  },
};

/** One line per verb: syntax, then what it does. */
export const USAGE: Record<Verb, string> = Object.fromEntries(
  VERBS.map((v) => [v, `${VERB_HELP[v].syntax} — ${VERB_HELP[v].description}`]),
) as Record<Verb, string>;

export function isVerb(s: string): s is Verb {
  return (VERBS as readonly string[]).includes(s);
}
