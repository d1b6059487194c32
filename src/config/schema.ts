// The config file schema (YAML named by ACCESS_PATROL_CONFIG). Unknown keys are errors.
// docs/configuration.md documents every key; keep the two in step.
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { type AnalyzerKind, FINDING_TYPES, SEVERITIES, SEVERITY_CATEGORIES } from '../findings/model.ts';

const ANALYZER_KINDS = ['external', 'internal', 'unused'] as const satisfies readonly AnalyzerKind[];
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const ACCOUNT_ID = /^\d{12}$/;
/** A channel id (C…/G…) or a #name; chat.postMessage accepts both. */
export const CHANNEL = /^(#[a-z0-9][a-z0-9._-]{0,79}|[CGD][A-Z0-9]{6,})$/;

const CHANNEL_TEXT = 'a Slack channel id such as C0123456789 or a name such as #security-alerts';
const REGION_TEXT = 'an AWS region such as eu-west-1';
const ACCOUNT_TEXT = 'a 12-digit AWS account id';
const channel = z.string({ error: CHANNEL_TEXT }).regex(CHANNEL, CHANNEL_TEXT);
const region = z.string({ error: REGION_TEXT }).regex(AWS_REGION, REGION_TEXT);
const accountId = z.string({ error: ACCOUNT_TEXT }).regex(ACCOUNT_ID, ACCOUNT_TEXT);
/** One value or a non-empty list of them (any-of); `what` describes one value for error messages. */
const oneOrMany = <T extends z.ZodType>(t: T, what: string) =>
  z.union([t, z.array(t).min(1)], { error: `${what}, or a list of them` });

const matchSchema = z
  .strictObject({
    tag: z
      .strictObject({
        key: z.string().min(1).max(128),
        /** Glob on the tag value (`*`, `?`); omit to match any value. */
        value: z.string().min(1).max(256).optional(),
      })
      .optional(),
    accountId: oneOrMany(accountId, ACCOUNT_TEXT).optional(),
    region: oneOrMany(region, REGION_TEXT).optional(),
    resourceType: oneOrMany(
      z.string().regex(/^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$/, 'a resource type like AWS::S3::Bucket'),
      'a resource type like AWS::S3::Bucket',
    ).optional(),
    findingType: oneOrMany(
      z.enum(FINDING_TYPES, { error: `one of ${FINDING_TYPES.join(', ')}` }),
      `a finding type (${FINDING_TYPES.join(', ')})`,
    ).optional(),
    /** Glob on the resource ARN: `*` and `?` stay within one `:`/`/` segment, `**` crosses them. */
    resourceArn: oneOrMany(
      z.string().startsWith('arn:', 'an ARN glob starting with arn:'),
      'an ARN glob starting with arn:',
    ).optional(),
  })
  .refine((m) => Object.values(m).some((v) => v !== undefined), {
    message: 'at least one condition (tag, accountId, region, resourceType, findingType, resourceArn)',
  });

const SLACK_USER_TEXT = 'a Slack user id such as U0123456789 (W… on Enterprise Grid)';
const USER_GROUP_TEXT = 'a Slack user group id such as S0123456789';
const slackUser = z.string({ error: SLACK_USER_TEXT }).regex(/^[UW][A-Z0-9]{2,}$/, SLACK_USER_TEXT);
const userGroup = z.string({ error: USER_GROUP_TEXT }).regex(/^S[A-Z0-9]{2,}$/, USER_GROUP_TEXT);

const ruleSchema = z
  .strictObject({
    name: z.string().min(1).max(80).optional(),
    match: matchSchema,
    /** Where matching findings go. Omit on a tag rule to use the tag's value as the channel. */
    channel: channel.optional(),
    /** People mentioned in the SLA reminders of this rule's findings (jobs/aging.ts). */
    owners: z
      .strictObject({ users: z.array(slackUser).default([]), userGroups: z.array(userGroup).default([]) })
      .optional(),
  })
  .refine((r) => r.channel !== undefined || r.match.tag !== undefined, {
    message: 'a channel, or a `tag` condition whose value is then the channel',
    path: ['channel'],
  });

// --- permissions and audit ------------------------------------------------------------------------

/** What people may ask the bot to do; each has an entry under `permissions`. */
export const PERMISSION_ACTIONS = [
  'archive',
  'unarchive',
  'rescan',
  'delete-role',
  'restore-role',
  'generate-policy',
  'scan',
  'snooze',
  'recommend',
] as const;

const people = {
  /** Slack user ids allowed. */
  users: z.array(slackUser).default([]),
  /** Slack user group ids whose members are allowed. */
  userGroups: z.array(userGroup).default([]),
};
/** An action on one finding that the people of the finding's owner channel may take by default. */
const ownerAction = z
  .strictObject({ ...people, ownerChannelMembers: z.boolean().default(true) })
  .prefault({});
/** An action that channel membership must never grant: `ownerChannelMembers` can only be false. */
const restrictedAction = (why: string) =>
  z
    .strictObject({ ...people, ownerChannelMembers: z.literal(false, { error: why }).default(false) })
    .prefault({});
const ROLE_ACTION_WHY =
  'false: deleting or restoring an IAM role can break every workload that uses it, and anyone may join ' +
  'a channel, so only admins and the users and userGroups listed here may do it';
const SCAN_WHY = 'false: a scan covers every finding, not one owner channel';

const permissionsSchema = z
  .strictObject({
    /** May do every action. */
    admins: z.strictObject(people).prefault({}),
    archive: ownerAction,
    unarchive: ownerAction,
    rescan: ownerAction,
    'generate-policy': ownerAction,
    'delete-role': restrictedAction(ROLE_ACTION_WHY),
    'restore-role': restrictedAction(ROLE_ACTION_WHY),
    scan: restrictedAction(SCAN_WHY),
    /** Snooze or unsnooze a finding's aging reminders. */
    snooze: ownerAction,
    /** Ask AWS for a recommendation on an unused-permissions finding. */
    recommend: ownerAction,
  } satisfies Record<(typeof PERMISSION_ACTIONS)[number] | 'admins', z.ZodType>)
  .prefault({});

const auditSchema = z
  .strictObject({
    /** Entries older than this many days are trimmed (approximately: whole stream nodes at a time). */
    retentionDays: z.number().int().min(1).max(3650).default(400),
    /** The stream is capped at about this many entries, whatever their age. */
    maxEntries: z.number().int().min(1000).max(100_000_000).default(1_000_000),
  })
  .prefault({});

/**
 * A cron pattern, checked by cron-parser, the parser BullMQ's job schedulers use, so a pattern that
 * passes here is one the scheduler accepts at start.
 */
const CRON_TEXT = 'a cron pattern such as "0 8 * * *" (minute hour day-of-month month day-of-week)';
const cron = z.string({ error: CRON_TEXT }).superRefine((pattern, ctx) => {
  const problem = cronProblem(pattern);
  if (problem) ctx.addIssue({ code: 'custom', message: `${CRON_TEXT}; ${problem}` });
});
const TIMEZONE_TEXT = 'an IANA time zone such as UTC or Europe/Berlin';
const timezone = z.string({ error: TIMEZONE_TEXT }).refine(isTimeZone, TIMEZONE_TEXT);

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** What cron-parser says is wrong with `pattern` (in `tz`), or undefined when it can compute a next run. */
export function cronProblem(pattern: string, tz?: string): string | undefined {
  if (!/^\S+( \S+){4,5}$/.test(pattern.trim())) return 'five or six fields separated by spaces';
  try {
    CronExpressionParser.parse(pattern, { ...(tz !== undefined && { tz }) }).next();
    return undefined;
  } catch (err) {
    return `cron-parser: ${(err as Error).message}`;
  }
}

/** The pattern and zone as BullMQ combines them: a zone cron-parser cannot use would fail at start. */
function patternInZone(patternKey: string) {
  return (value: Record<string, unknown>, ctx: z.RefinementCtx) => {
    const pattern = value[patternKey];
    const tz = value.timezone;
    if (typeof pattern !== 'string' || typeof tz !== 'string' || !isTimeZone(tz) || cronProblem(pattern))
      return;
    const problem = cronProblem(pattern, tz);
    if (problem)
      ctx.addIssue({ code: 'custom', path: ['timezone'], message: `${TIMEZONE_TEXT}; ${problem}` });
  };
}
const slaDays = (d: number) => z.number().int().min(1).max(3650).default(d);

/** Reminders on findings left open past their SLA, and escalation after repeated reminders. */
const agingSchema = z
  .strictObject({
    /** Days a finding of each category may stay ACTIVE before it is overdue. */
    slaDays: z
      .strictObject({
        'public-access': slaDays(1),
        'cross-account-access': slaDays(7),
        'internal-access': slaDays(14),
        'unused-role': slaDays(30),
        'unused-credential': slaDays(30),
        'unused-permission': slaDays(30),
      } satisfies Record<(typeof SEVERITY_CATEGORIES)[number], z.ZodType>)
      .prefault({}),
    /** Days between two reminders on the same overdue finding. */
    remindEveryDays: z.number().int().min(1).max(365).default(3),
    /** The reminder that makes this many escalates once to `escalationChannel`. */
    escalateAfterReminders: z.number().int().min(1).max(100).default(3),
    /** Where escalations go; absent: slack.adminChannel. */
    escalationChannel: channel.optional(),
    /** When the sweep runs, and the time zone of both the pattern and of day counting. */
    sweepCron: cron.default('0 8 * * *'),
    timezone: timezone.default('UTC'),
  })
  .superRefine(patternInZone('sweepCron'))
  .prefault({});

/** The weekly digest per owner channel (and per owner by e-mail), and when it is sent. */
const digestSchema = z
  .strictObject({
    /** When the digest job runs, in `timezone`; the week it reports is the 7 calendar days before. */
    cron: cron.default('0 9 * * 1'),
    timezone: timezone.default('UTC'),
    /** A channel with nothing open and nothing new: a one-line all-clear, or no message at all. */
    emptyWeek: z.enum(['all-clear', 'skip'], { error: 'all-clear or skip' }).default('all-clear'),
    /** Also send each owner (known by the `tags.ownerEmailTag` tag) a DM about their own resources. */
    dmOwners: z.boolean().default(true),
    /** Overdue findings listed (oldest first) with their buttons; the rest are counted. */
    overdueLimit: z.number().int().min(1).max(20).default(10),
  })
  .superRefine(patternInZone('cron'))
  .prefault({});
const TRAIL_ARN_TEXT =
  'a CloudTrail trail ARN such as arn:aws:cloudtrail:us-east-1:123456789012:trail/org-trail';
const trailArn = z
  .string({ error: TRAIL_ARN_TEXT })
  .regex(/^arn:aws[-a-z]*:cloudtrail:[a-z]{2}(-[a-z]+)+-\d:\d{12}:trail\/\S+$/, TRAIL_ARN_TEXT);
const ACCESS_ROLE_TEXT =
  "an IAM role ARN such as arn:aws:iam::{accountId}:role/service-role/AccessAnalyzerMonitorServiceRole ({accountId} is replaced by the principal's account)";

/** Least-privilege policy generation from CloudTrail (Access Analyzer StartPolicyGeneration). */
const policyGenerationSchema = z.strictObject({
  /**
   * The service role Access Analyzer assumes to read the trail. `{accountId}` becomes the account of
   * the principal, so one entry serves every account that has the same role name.
   */
  accessRoleArn: z
    .string({ error: ACCESS_ROLE_TEXT })
    .regex(/^arn:aws[-a-z]*:iam::(\d{12}|\{accountId\}):role\/\S+$/, ACCESS_ROLE_TEXT),
  /** Per-account access roles, for accounts whose role differs from `accessRoleArn`. */
  accessRoleArnByAccount: z
    .record(accountId, z.string().regex(/^arn:aws[-a-z]*:iam::\d{12}:role\/\S+$/, ACCESS_ROLE_TEXT))
    .default({}),
  /** Trails read when a request names none. */
  trails: z.array(trailArn).default([]),
  /** Region where generation runs; absent: the first of `regions`. */
  region: region.optional(),
  /** Days of activity read when a request does not say. */
  defaultDays: z.number().int().min(1).max(90).default(30),
  /** GetGeneratedPolicy polling: the first check after `firstPollSeconds`, each wait twice the last, up to `maxPollSeconds`. */
  firstPollSeconds: z.number().positive().max(3600).default(30),
  maxPollSeconds: z.number().positive().max(3600).default(300),
  /** A generation still running after this long is canceled and reported. */
  maxWaitMinutes: z
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(120),
  /** Generations AWS allows per account in 24 hours (50; 5 in some regions). Canceled ones count. */
  dailyQuota: z.number().int().min(1).max(1000).default(50),
});

export const configSchema = z.strictObject({
  /** Regions to scan; each is checked for external and internal access analyzers, and all of them together for one unused-access analyzer. */
  regions: z.array(region, { error: `a list of AWS regions such as [eu-west-1]` }).min(1),
  scan: z
    .strictObject({
      intervalMinutes: z.number().int().min(5).max(1440).default(30),
      /** Analyzer scans running at once across regions. */
      concurrency: z.number().int().min(1).max(32).default(4),
      /** ListFindingsV2 page size. */
      pageSize: z.number().int().min(1).max(1000).default(100),
      /** GetFindingV2 calls in flight at once per analyzer scan. */
      detailConcurrency: z.number().int().min(1).max(32).default(4),
      /**
       * Analyzer kinds the bot expects; a missing one is reported to the admin channel. External and
       * internal access are expected in every scanned region, unused access once for the account or
       * organisation, in any scanned region. An empty list turns the check off.
       */
      expectedAnalyzerKinds: z
        .array(z.enum(ANALYZER_KINDS, { error: `one of ${ANALYZER_KINDS.join(', ')}` }))
        .refine((kinds) => new Set(kinds).size === kinds.length, 'each analyzer kind listed once')
        .default([...ANALYZER_KINDS]),
      /** Attempts of each scan job (one analyzer's listing, the finalize step), retries included. */
      attempts: z.number().int().min(1).max(50).default(8),
      /** First wait before a scan job is retried; it doubles each time (with jitter, up to 60 s) and is never shorter than AWS's Retry-After. */
      retryDelayMs: z.number().int().min(1).max(60_000).default(2000),
    })
    .prefault({}),
  slack: z.strictObject({
    defaultChannel: channel,
    adminChannel: channel,
    /** More new findings than this for one channel in one scan become a summary with a thread. */
    burstThreshold: z.number().int().min(1).max(1000).default(10),
    /** Pause between two posts to the same channel (Slack allows about one per second). */
    postIntervalMs: z.number().int().min(0).max(60_000).default(1100),
    /** Slack workspace URL used for links, e.g. https://acme.slack.com */
    workspaceUrl: z.url().optional(),
  }),
  /** Friendly names for account ids, shown next to the id. */
  accounts: z
    .record(z.string().regex(ACCOUNT_ID, ACCOUNT_TEXT), z.strictObject({ name: z.string().min(1).max(80) }))
    .default({}),
  organization: z
    .strictObject({
      /** Role the bot assumes in member accounts to read tags and act there. */
      memberRoleName: z.string({ error: 'an IAM role name' }).regex(/^[\w+=,.@-]{1,64}$/, 'an IAM role name'),
      externalId: z.string().min(2).max(1224).optional(),
      sessionDurationSeconds: z.number().int().min(900).max(43_200).default(3600),
    })
    .optional(),
  tags: z
    .strictObject({
      /** Tag whose value is the owner's e-mail. */
      ownerEmailTag: z.string().min(1).max(128).default('owner'),
      /** Read tags of non-IAM resources with the Resource Groups Tagging API. */
      useResourceGroupsTaggingApi: z.boolean().default(false),
    })
    .prefault({}),
  routing: z.array(ruleSchema).default([]),
  severity: z
    .strictObject({
      overrides: z.partialRecord(z.enum(SEVERITY_CATEGORIES), z.enum(SEVERITIES)).default({}),
    })
    .prefault({}),
  redis: z
    .strictObject({
      keyPrefix: z
        .string()
        .regex(/^[A-Za-z0-9_{}-]{1,32}:?$/, 'letters, digits, _ - { } and an optional trailing colon')
        .default('ap:'),
      /** Days the state of a RESOLVED finding is kept (AWS deletes them after 90 days). */
      resolvedRetentionDays: z.number().int().min(1).max(3650).default(90),
    })
    .prefault({}),
  /** AWS partition console host, for "Open in console" links. */
  consoleUrl: z.url().default('https://console.aws.amazon.com'),
  /** Safety rules for deleting unused roles from Slack. */
  roles: z
    .strictObject({
      /** A role used more recently than this (GetRole RoleLastUsed) is never deleted. */
      minUnusedDays: z.number().int().min(30).max(400).default(90),
      /** A role carrying any of these tag keys is never deleted. */
      protectTagKeys: z.array(z.string().min(1).max(128)).default(['access-patrol:protect']),
      /** How long role backups are kept in Redis. */
      backupRetentionDays: z.number().int().min(7).max(3650).default(365),
    })
    .prefault({}),
  /** Who may do what; see docs/configuration.md#permissions. */
  permissions: permissionsSchema,
  /** The audit stream of who did what. */
  audit: auditSchema,
  /** SLA reminders and escalation of findings left open. */
  aging: agingSchema,
  /** The weekly digest. */
  digest: digestSchema,
  /** Least-privilege policy generation; absent: generate-policy requests are answered with what to set. */
  policyGeneration: policyGenerationSchema.optional(),
});

export type AppConfig = z.infer<typeof configSchema>;
export type RoutingRule = AppConfig['routing'][number];
export type RuleMatch = RoutingRule['match'];
