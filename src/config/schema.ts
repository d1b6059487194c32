// The config file schema (YAML named by ACCESS_PATROL_CONFIG). Unknown keys are errors.
// Each key's `.meta({ description })` is its entry in docs/configuration.md, whose tables are generated
// from this file (`npm run gen:docs`); `docType` and `docDefault` say what the schema alone cannot.
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
const channel = z.string({ error: CHANNEL_TEXT }).regex(CHANNEL, CHANNEL_TEXT).meta({ docType: 'channel' });
const region = z.string({ error: REGION_TEXT }).regex(AWS_REGION, REGION_TEXT).meta({ docType: 'region' });
const accountId = z
  .string({ error: ACCOUNT_TEXT })
  .regex(ACCOUNT_ID, ACCOUNT_TEXT)
  .meta({ docType: 'account id' });
/** One value or a non-empty list of them (any-of); `what` describes one value for error messages. */
const oneOrMany = <T extends z.ZodType>(t: T, what: string, docType: string) =>
  z.union([t, z.array(t).min(1)], { error: `${what}, or a list of them` }).meta({ docType });

const matchSchema = z
  .strictObject({
    tag: z
      .strictObject({
        key: z
          .string()
          .min(1)
          .max(128)
          .meta({ description: 'The resource has this tag.', docDefault: 'required in `tag`' }),
        value: z.string().min(1).max(256).optional().meta({
          description: "The tag's value matches this glob (`*` any text, `?` one character).",
          docType: 'glob, 1–256 characters',
          docDefault: 'any value',
        }),
      })
      .optional(),
    accountId: oneOrMany(accountId, ACCOUNT_TEXT, 'account id or list')
      .optional()
      .meta({ description: "The resource's account is one of these.", docDefault: '—' }),
    region: oneOrMany(region, REGION_TEXT, 'region or list, each one of `regions`')
      .optional()
      .meta({ description: "The finding's region is one of these.", docDefault: '—' }),
    resourceType: oneOrMany(
      z.string().regex(/^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$/, 'a resource type like AWS::S3::Bucket'),
      'a resource type like AWS::S3::Bucket',
      '`AWS::Service::Type` or list',
    )
      .optional()
      .meta({ description: 'e.g. `AWS::S3::Bucket`, `AWS::IAM::Role`.', docDefault: '—' }),
    findingType: oneOrMany(
      z.enum(FINDING_TYPES, { error: `one of ${FINDING_TYPES.join(', ')}` }),
      `a finding type (${FINDING_TYPES.join(', ')})`,
      'finding type or list',
    )
      .optional()
      .meta({
        description: FINDING_TYPES.map((t) => `\`${t}\``)
          .join(', ')
          .concat('.'),
        docDefault: '—',
      }),
    /** `*` and `?` stay within one `:`/`/` segment, `**` crosses them. */
    resourceArn: oneOrMany(
      z.string().startsWith('arn:', 'an ARN glob starting with arn:'),
      'an ARN glob starting with arn:',
      'ARN glob or list',
    )
      .optional()
      .meta({ description: 'See [ARN globs](#arn-globs).', docDefault: '—' }),
  })
  .refine((m) => Object.values(m).some((v) => v !== undefined), {
    message: 'at least one condition (tag, accountId, region, resourceType, findingType, resourceArn)',
  })
  .meta({ description: 'Conditions; all must hold.', docType: 'mapping, at least one condition' });

const SLACK_USER_TEXT = 'a Slack user id such as U0123456789 (W… on Enterprise Grid)';
const USER_GROUP_TEXT = 'a Slack user group id such as S0123456789';
const slackUser = z
  .string({ error: SLACK_USER_TEXT })
  .regex(/^[UW][A-Z0-9]{2,}$/, SLACK_USER_TEXT)
  .meta({ docType: 'Slack user id (`U…`, `W…`)' });
const userGroup = z
  .string({ error: USER_GROUP_TEXT })
  .regex(/^S[A-Z0-9]{2,}$/, USER_GROUP_TEXT)
  .meta({ docType: 'Slack user group id (`S…`)' });

const ruleSchema = z
  .strictObject({
    name: z.string().min(1).max(80).optional().meta({
      description: "Shown in explanations and stored with the finding's owner.",
      docType: 'text, 1–80 characters, unique',
      docDefault: '`rule #n`',
    }),
    match: matchSchema,
    channel: channel.optional().meta({
      description:
        "Where matching findings go. Only a rule with a `tag` condition may omit it; then the tag's value is the channel.",
      docDefault: "the tag's value",
    }),
    /** People mentioned in the SLA reminders of this rule's findings (jobs/aging.ts). */
    owners: z
      .strictObject({
        users: z.array(slackUser).default([]).meta({
          description:
            "Mentioned in the [aging](#aging) reminders of this rule's findings, so an overdue finding reaches its owners, not only its channel; they may also take the owner actions on them (see [Permissions](#permissions)).",
        }),
        userGroups: z
          .array(userGroup)
          .default([])
          .meta({ description: 'Mentioned the same way (`@payments-oncall`).' }),
      })
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
  'read',
  'block-public-access',
  'deactivate-key',
  'remove-password',
  'remove-external-access',
  'delete-key',
  'quarantine-role',
  'apply-recommendation',
  'archive-rule',
  'create-analyzer',
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
const KEY_WHY =
  'false: a deleted access key cannot be brought back (AWS never shows its secret again), and anyone may join a channel';
const RULE_WHY =
  "false: an archive rule archives every matching finding, today's and future ones, whichever channel owns them";
const ANALYZER_WHY = 'false: an analyzer covers a whole region (or the organization) and is billed';

/**
 * A one-click fix (and its Undo): admins and those listed by default; the owners of a finding only
 * where the config says so, for every owner channel (`ownerChannelMembers`) or for some (`channels`).
 */
const fixAction = z
  .strictObject({
    ...people,
    ownerChannelMembers: z.boolean().default(false),
    channels: z.array(z.string().min(1)).default([]),
  })
  .prefault({});
const FIX_WHO =
  "admins and those listed by default; the finding's owners too with `ownerChannelMembers: true`, or only for findings owned by the channels in `channels` (ids or `#names` as the routing rules name them). Undo needs the same permission";

const action = <T extends z.ZodType>(schema: T, description: string): T =>
  schema.meta({ description, docLeaf: true }) as T;
const OWNER = "the finding's owners (members of its owner channel, its routing rule's `owners`) by default";
const NOT_CHANNEL = 'never channel members';
const permissionsSchema = z
  .strictObject({
    admins: z
      .strictObject(people)
      .prefault({})
      .meta({ description: '`users` and `userGroups` who may do every action.', docLeaf: true }),
    archive: action(ownerAction, `Archive a finding; ${OWNER}.`),
    unarchive: action(ownerAction, `Unarchive a finding; ${OWNER}.`),
    rescan: action(ownerAction, `Rescan a finding's resource; ${OWNER}.`),
    'generate-policy': action(
      ownerAction,
      `Generate a least-privilege policy from CloudTrail; ${OWNER} (\`/access generate-policy\` names no finding, so there only admins and those listed).`,
    ),
    'delete-role': action(
      restrictedAction(ROLE_ACTION_WHY),
      `Delete an unused IAM role (a backup is kept); ${NOT_CHANNEL}.`,
    ),
    'restore-role': action(
      restrictedAction(ROLE_ACTION_WHY),
      `Recreate a deleted role from its backup; ${NOT_CHANNEL}.`,
    ),
    scan: action(restrictedAction(SCAN_WHY), `Start a full scan now; ${NOT_CHANNEL}.`),
    snooze: action(ownerAction, `Snooze or unsnooze a finding's aging reminders; ${OWNER}.`),
    recommend: action(
      ownerAction,
      `Ask AWS for a recommendation on an unused-permissions finding; ${OWNER}.`,
    ),
    'block-public-access': action(
      fixAction,
      `Turn on every Block Public Access setting of a public S3 bucket (Undo puts the saved settings back); ${FIX_WHO}.`,
    ),
    'deactivate-key': action(
      fixAction,
      `Make an unused access key inactive (Undo makes it active); ${FIX_WHO}.`,
    ),
    'remove-password': action(
      fixAction,
      `Delete an unused console password (Undo sets a new one, sent only to the person who clicks); ${FIX_WHO}.`,
    ),
    'remove-external-access': action(
      fixAction,
      `Remove a finding's external principals from a role's trust policy (Undo restores the saved policy); ${FIX_WHO}.`,
    ),
    'delete-key': action(
      restrictedAction(KEY_WHY),
      `Delete an access key that Deactivate key made inactive \`fixes.deleteInactiveKeyAfterDays\` ago (cannot be undone); ${NOT_CHANNEL}.`,
    ),
    'quarantine-role': action(
      fixAction,
      `Quarantine an unused role: a deny-all inline policy and a tag with the dates; the role is deleted (with a backup) when the quarantine ends. Still needed (the Undo) lifts it; ${FIX_WHO}.`,
    ),
    'apply-recommendation': action(
      fixAction,
      `Apply AWS's recommendation on an unused-permissions finding: create the recommended policy, attach it, detach the old one (Undo reverses each step); ${FIX_WHO}.`,
    ),
    'archive-rule': action(
      restrictedAction(RULE_WHY),
      `Create an archive rule from a finding (Archive similar) and delete archive rules (\`/access rules\`); ${NOT_CHANNEL}.`,
    ),
    'create-analyzer': action(
      restrictedAction(ANALYZER_WHY),
      `Create a missing analyzer from the coverage notice's Create analyzer button; admins only unless listed here, ${NOT_CHANNEL}.`,
    ),
    read: action(
      ownerAction,
      "See findings, their details and audit trail with `/access findings`, `show` and `audit`: admins and those listed see every finding; by default a finding's owners see their own.",
    ),
  } satisfies Record<(typeof PERMISSION_ACTIONS)[number] | 'admins', z.ZodType>)
  .prefault({});

const auditSchema = z
  .strictObject({
    retentionDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .default(400)
      .meta({ description: 'Entries older than this are dropped.' }),
    maxEntries: z
      .number()
      .int()
      .min(1000)
      .max(100_000_000)
      .default(1_000_000)
      .meta({ description: 'The stream keeps at most about this many entries, whatever their age.' }),
  })
  .prefault({});

/**
 * A cron pattern, checked by cron-parser, the parser BullMQ's job schedulers use, so a pattern that
 * passes here is one the scheduler accepts at start.
 */
const CRON_TEXT = 'a cron pattern such as "0 8 * * *" (minute hour day-of-month month day-of-week)';
const cron = z
  .string({ error: CRON_TEXT })
  .superRefine((pattern, ctx) => {
    const problem = cronProblem(pattern);
    if (problem) ctx.addIssue({ code: 'custom', message: `${CRON_TEXT}; ${problem}` });
  })
  .meta({ docType: 'cron pattern' });
const TIMEZONE_TEXT = 'an IANA time zone such as UTC or Europe/Berlin';
const timezone = z
  .string({ error: TIMEZONE_TEXT })
  .refine(isTimeZone, TIMEZONE_TEXT)
  .meta({ docType: 'IANA time zone' });

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
    slaDays: z
      .strictObject({
        'public-access': slaDays(1),
        'cross-account-access': slaDays(7),
        'internal-access': slaDays(14),
        'unused-role': slaDays(30),
        'unused-credential': slaDays(30),
        'unused-permission': slaDays(30),
      } satisfies Record<(typeof SEVERITY_CATEGORIES)[number], z.ZodType>)
      .prefault({})
      .meta({
        description:
          'Days a finding of each category may stay ACTIVE; it is overdue from the next day on. Categories as in [`severity`](#severity).',
        docType: 'mapping of category → integer 1–3650',
        docDefault:
          '`public-access: 1`, `cross-account-access: 7`, `internal-access: 14`, `unused-role: 30`, `unused-credential: 30`, `unused-permission: 30`',
        docLeaf: true,
      }),
    remindEveryDays: z
      .number()
      .int()
      .min(1)
      .max(365)
      .default(3)
      .meta({ description: 'Days between two reminders on the same overdue finding.' }),
    escalateAfterReminders: z.number().int().min(1).max(100).default(3).meta({
      description: 'After this many reminders, one escalation message goes to `escalationChannel`.',
    }),
    escalationChannel: channel
      .optional()
      .meta({ description: 'Where escalations go.', docDefault: '`slack.adminChannel`' }),
    sweepCron: cron.default('0 8 * * *').meta({
      description:
        "When the sweep runs (minute hour day-of-month month day-of-week), in `timezone`. Checked with cron-parser, the parser BullMQ's scheduler uses.",
    }),
    timezone: timezone
      .default('UTC')
      .meta({ description: 'Time zone of `sweepCron` and of day counting, e.g. `Europe/Berlin`.' }),
  })
  .superRefine(patternInZone('sweepCron'))
  .prefault({});

/** The weekly digest per owner channel (and per owner by e-mail), and when it is sent. */
const digestSchema = z
  .strictObject({
    cron: cron.default('0 9 * * 1').meta({
      description:
        "When the digest is sent (Mondays 09:00), in `timezone`. Checked with cron-parser, the parser BullMQ's scheduler uses.",
    }),
    timezone: timezone
      .default('UTC')
      .meta({ description: "Time zone of `cron` and of the week's calendar days." }),
    emptyWeek: z.enum(['all-clear', 'skip'], { error: 'all-clear or skip' }).default('all-clear').meta({
      description:
        'A channel with nothing open and nothing new, resolved or archived gets a one-line all-clear, or nothing.',
    }),
    dmOwners: z.boolean().default(true).meta({
      description:
        "Also DM each owner their own resources' digest. Owners are known by the e-mail in the [`tags.ownerEmailTag`](#tags) tag; Slack finds the person with `users.lookupByEmail`. An address no Slack user has is reported to `slack.adminChannel` once. Owners with nothing to report get no DM.",
    }),
    overdueLimit: z
      .number()
      .int()
      .min(1)
      .max(20)
      .default(10)
      .meta({ description: 'Overdue findings listed with their buttons; the rest are counted.' }),
  })
  .superRefine(patternInZone('cron'))
  .prefault({});
const TRAIL_ARN_TEXT =
  'a CloudTrail trail ARN such as arn:aws:cloudtrail:us-east-1:123456789012:trail/org-trail';
const trailArn = z
  .string({ error: TRAIL_ARN_TEXT })
  .regex(/^arn:aws[-a-z]*:cloudtrail:[a-z]{2}(-[a-z]+)+-\d:\d{12}:trail\/\S+$/, TRAIL_ARN_TEXT)
  .meta({ docType: 'CloudTrail trail ARN' });
const ACCESS_ROLE_TEXT =
  "an IAM role ARN such as arn:aws:iam::{accountId}:role/service-role/AccessAnalyzerMonitorServiceRole ({accountId} is replaced by the principal's account)";

/** Least-privilege policy generation from CloudTrail (Access Analyzer StartPolicyGeneration). */
const policyGenerationSchema = z.strictObject({
  accessRoleArn: z
    .string({ error: ACCESS_ROLE_TEXT })
    .regex(/^arn:aws[-a-z]*:iam::(\d{12}|\{accountId\}):role\/\S+$/, ACCESS_ROLE_TEXT)
    .meta({
      description:
        "The service role Access Analyzer assumes to read the trail (trusts `access-analyzer.amazonaws.com`). `{accountId}` is replaced by the principal's account, so one entry serves every account with the same role name, e.g. `arn:aws:iam::{accountId}:role/service-role/AccessAnalyzerMonitorServiceRole`.",
      docType: 'role ARN, `{accountId}` allowed',
    }),
  accessRoleArnByAccount: z
    .record(accountId, z.string().regex(/^arn:aws[-a-z]*:iam::\d{12}:role\/\S+$/, ACCESS_ROLE_TEXT))
    .default({})
    .meta({
      description: 'Accounts whose service role differs from `accessRoleArn`.',
      docType: 'mapping of account id → role ARN',
    }),
  trails: z.array(trailArn).default([]).meta({
    description:
      'Trails read when a request names none (typically the organization trail). With none configured, every request must name one.',
  }),
  region: region.optional().meta({
    description: 'Where generation (and `/access validate`) runs.',
    docDefault: 'first of `regions`',
  }),
  defaultDays: z.number().int().min(1).max(90).default(30).meta({
    description:
      "Days of activity read when a request does not say (the modal's initial value, `--days` when absent).",
  }),
  firstPollSeconds: z
    .number()
    .positive()
    .max(3600)
    .default(30)
    .meta({ description: 'Wait before the first GetGeneratedPolicy.' }),
  maxPollSeconds: z
    .number()
    .positive()
    .max(3600)
    .default(300)
    .meta({ description: 'Longest wait between two polls.' }),
  maxWaitMinutes: z
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(120)
    .meta({
      description:
        "A generation still running after this long is canceled (so the account's queue moves on); a request kept waiting this long by a generation started outside the bot is dropped.",
    }),
  dailyQuota: z.number().int().min(1).max(1000).default(50).meta({
    description:
      "Generations AWS allows per account in 24 hours (5 in some regions; canceled ones count). The bot counts its own starts per account over a rolling 24 hours and refuses beyond this without calling AWS; AWS's own 402 is reported the same way.",
  }),
});

/** A client-side AWS request rate (src/aws/rate-limit.ts). */
const rateLimit = (perSecond: number, burst: number) =>
  z
    .strictObject({
      perSecond: z.number().min(0).max(10_000).meta({ description: 'Requests per second; 0: not paced.' }),
      burst: z
        .number()
        .int()
        .min(1)
        .max(10_000)
        .optional()
        .meta({ description: 'Requests at once after a quiet period; default `perSecond`.' }),
    })
    .default({ perSecond, burst });

export const configSchema = z.strictObject({
  regions: z.array(region, { error: `a list of AWS regions such as [eu-west-1]` }).min(1).meta({
    description:
      'Regions to scan. Each is checked for an external-access and an internal-access analyzer; all of them together for one unused-access analyzer (see `scan.expectedAnalyzerKinds`).',
    docType: 'list of region, at least one, no repeats',
  }),
  scan: z
    .strictObject({
      intervalMinutes: z
        .number()
        .int()
        .min(5)
        .max(1440)
        .default(30)
        .meta({ description: 'Minutes between full scans.' }),
      concurrency: z.number().int().min(1).max(32).default(4).meta({
        description:
          "Analyzer scans running at once across regions, at least 3 per configured region plus one: each region's requests are paced by its own bucket (`aws.rateLimits`), so every region's analyzers are scanned at once and a scan takes as long as its busiest region needs.",
      }),
      pageSize: z
        .number()
        .int()
        .min(1)
        .max(1000)
        .default(100)
        .meta({ description: '`ListFindingsV2` page size.' }),
      detailConcurrency: z
        .number()
        .int()
        .min(1)
        .max(32)
        .default(4)
        .meta({ description: '`GetFindingV2` calls in flight at once per analyzer scan.' }),
      expectedAnalyzerKinds: z
        .array(z.enum(ANALYZER_KINDS, { error: `one of ${ANALYZER_KINDS.join(', ')}` }))
        .refine((kinds) => new Set(kinds).size === kinds.length, 'each analyzer kind listed once')
        .default([...ANALYZER_KINDS])
        .meta({
          description:
            'Analyzer kinds the bot expects, as AWS analyses them: `external` and `internal` in every scanned region; `unused` once for the account or organisation, in any one scanned region (unused access does not change with the region and is billed per analyzer, so the bot never asks for one per region). What is missing, and more than one unused-access analyzer for the same account or organisation, is reported to `slack.adminChannel` with the `create-analyzer` type to use. `[]` turns the check off (duplicates are still reported).',
          docType: 'list of `external`, `internal`, `unused`, no repeats',
          docDefault: 'all three',
        }),
      attempts: z.number().int().min(1).max(50).default(8).meta({
        description:
          "Attempts of each scan job (one analyzer's listing, the finalize step, and the scan queue's other jobs), the first included. An analyzer that still fails is reported (admin notice, `/access status`, `scan` exit code) and tried again by the next scan.",
      }),
      retryDelayMs: z.number().int().min(1).max(60_000).default(2000).meta({
        description:
          "Wait before the first retry of a scan job; it doubles each attempt (with jitter, at most 60 s) and is never shorter than the `Retry-After` AWS sent with a ThrottlingException. The SDK's own retries (standard mode, `Retry-After` honoured) come first.",
      }),
    })
    .prefault({})
    .meta({ description: 'Scan schedule and concurrency.' }),
  workers: z
    .strictObject({
      deliverConcurrency: z.number().int().min(1).max(64).default(8).meta({
        description:
          "Channels one worker process writes to at once. A channel waiting for its pacing (`slack.postIntervalMs`) holds no slot: its job waits in BullMQ's delayed set and any worker process resumes it, so this does not cap how many channels are delivered in parallel, only how many Slack writes one process has under way.",
      }),
      actionsConcurrency: z.number().int().min(1).max(64).default(4).meta({
        description:
          'Action jobs (archive, rescan, delete role, policy generation, ...) one worker process runs at once.',
      }),
      maxStalledCount: z.number().int().min(1).max(100).default(5).meta({
        description:
          "How many times a job may be taken over from a worker that died while running it (a crash, `kill -9`, an out-of-memory kill) before it fails for good. Every job is idempotent, so a taken-over job resumes where it stopped; BullMQ's default of 1 would fail a job for good after two crashes in a row.",
      }),
      stalledIntervalMs: z.number().int().min(1000).max(300_000).default(15_000).meta({
        description:
          "How often each worker looks for jobs whose worker died (their lock, `lockMs`, expired) and takes them over. A dead worker's job resumes within about `lockMs` plus this.",
      }),
      lockMs: z.number().int().min(2000).max(600_000).default(30_000).meta({
        description:
          "How long a running job's lock lasts; its worker renews it every half of that. A job whose worker died is taken over once its lock has expired. Shorter takes dead workers' jobs over sooner, but a process whose event loop stalls for longer than this loses its running jobs to another worker while still running them.",
      }),
    })
    .prefault({})
    .meta({
      description: 'How much work each worker process takes on at once, and how it survives crashes.',
    }),
  shutdown: z
    .strictObject({
      graceMs: z.number().int().min(0).max(600_000).default(20_000).meta({
        description:
          'On SIGTERM or SIGINT a worker stops taking jobs and lets running ones finish for up to this long; then it hands back what is still running (delivery and analyzer listings stop at their next safe point and go back to the queue, any other job is taken over by another worker) and exits. Keep it a few seconds under the grace your orchestrator gives (docker-compose.yml: `stop_grace_period: 25s`; Kubernetes: `terminationGracePeriodSeconds`, 30 by default).',
      }),
    })
    .prefault({})
    .meta({ description: 'Stopping a process without losing work.' }),
  slack: z
    .strictObject({
      defaultChannel: channel.meta({ description: 'Where findings go when no routing rule matches.' }),
      adminChannel: channel.meta({ description: 'Operational messages for the people running the bot.' }),
      burstThreshold: z.number().int().min(1).max(1000).default(10).meta({
        description:
          'More new findings than this for one channel in one scan are posted as one summary message with the findings in its thread.',
      }),
      postIntervalMs: z.number().int().min(0).max(60_000).default(1100).meta({
        description:
          'Pause between two posts to the same channel (Slack allows about one message per second per channel).',
      }),
      workspaceUrl: z
        .url()
        .optional()
        .meta({ description: 'e.g. `https://acme.slack.com`, used to build links to messages.' }),
    })
    .meta({ description: 'Channels and posting behaviour.' }),
  accounts: z
    .record(z.string().regex(ACCOUNT_ID, ACCOUNT_TEXT), z.strictObject({ name: z.string().min(1).max(80) }))
    .default({})
    .meta({
      description: 'Friendly names shown next to account ids.',
      docType: 'mapping of account id → `{ name }`',
    }),
  organization: z
    .strictObject({
      memberRoleName: z
        .string({ error: 'an IAM role name' })
        .regex(/^[\w+=,.@-]{1,64}$/, 'an IAM role name')
        .meta({
          description: 'Role the bot assumes in member accounts to read tags and act there.',
          docType: 'IAM role name',
          docDefault: 'required if `organization` is present',
        }),
      externalId: z.string().min(2).max(1224).optional().meta({
        description: "External id passed to `AssumeRole`, if the member role's trust policy requires one.",
      }),
      sessionDurationSeconds: z
        .number()
        .int()
        .min(900)
        .max(43_200)
        .default(3600)
        .meta({ description: 'Duration of the assumed-role sessions.' }),
    })
    .optional()
    .meta({
      description: 'How to act in member accounts. Absent: the bot only works in its own account.',
    }),
  aws: z
    .strictObject({
      rateLimits: z
        .strictObject({
          accessAnalyzer: rateLimit(10, 10).meta({
            description:
              'IAM Access Analyzer requests per second per region (ListAnalyzers, ListFindingsV2, GetFindingV2, and the actions). AWS publishes no request rate for these operations (its quota page lists analyzers, archive rules and policy generations only) and answers 429 ThrottlingException above it; the bot keeps below this rate on its own, shared by every analyzer scan of the region in this process, so a scan paces itself instead of being throttled. Raise it when AWS allows more; 0 turns pacing off (the SDK and the job retries still handle 429).',
            docDefault: '`{ perSecond: 10, burst: 10 }`',
          }),
          tagging: rateLimit(5, 5).meta({
            description:
              'Resource Groups Tagging API `GetResources` requests per second per region (each reads the tags of up to 100 resources). AWS documents that this operation has a per-second rate limit and names it in Service Quotas; 0 turns pacing off.',
            docDefault: '`{ perSecond: 5, burst: 5 }`',
          }),
          iam: rateLimit(10, 10).meta({
            description:
              "IAM requests per second (GetRole, ListUserTags and the role actions). IAM's rate is shared by every caller in the account and is not published; 0 turns pacing off.",
            docDefault: '`{ perSecond: 10, burst: 10 }`',
          }),
        })
        .prefault({})
        .meta({
          description:
            'Client-side token buckets: one per service and region, refilled at `perSecond`, holding `burst` requests. Every attempt, SDK retries included, waits for a token.',
        }),
    })
    .prefault({})
    .meta({ description: 'How the bot calls AWS.' }),
  tags: z
    .strictObject({
      ownerEmailTag: z.string().min(1).max(128).default('owner').meta({
        description:
          "Tag whose value is the owner's e-mail. It is read whenever routing reads the resource's tags (a rule with a `tag` condition was evaluated) and fills the route's owner e-mail, which is saved with the finding: the [digest](#digest) DMs that owner, and the App Home shows them their findings.",
      }),
      useResourceGroupsTaggingApi: z.boolean().default(false).meta({
        description:
          "Read tags of non-IAM resources (S3, KMS, SQS …) with the Resource Groups Tagging API. When `false`, only IAM roles' and users' tags are read, and tag rules do not match other resources.",
      }),
    })
    .prefault({})
    .meta({ description: 'Which resource tags mean what.' }),
  routing: z
    .array(ruleSchema)
    .default([])
    .meta({ description: 'Who owns which finding; see [Routing](#routing).', docType: 'list of rules' }),
  severity: z
    .strictObject({
      overrides: z
        .partialRecord(z.enum(SEVERITY_CATEGORIES), z.enum(SEVERITIES))
        .default({})
        .meta({
          description: `Categories: ${SEVERITY_CATEGORIES.map((c) => `\`${c}\``).join(', ')}. Severities: ${SEVERITIES.map((c) => `\`${c}\``).join(', ')}.`,
          docType: 'mapping of category → severity',
        }),
    })
    .prefault({})
    .meta({ description: 'Severity overrides.' }),
  redis: z
    .strictObject({
      keyPrefix: z
        .string()
        .regex(/^[A-Za-z0-9_{}-]{1,32}:?$/, 'letters, digits, _ - { } and an optional trailing colon')
        .default('ap:')
        .meta({
          description:
            'Prefix of every key access-patrol writes. On Redis Cluster use a hash tag, e.g. `{ap}:`.',
          docType: '1–32 of letters, digits, `_ - { }`, optional trailing `:`',
        }),
      resolvedRetentionDays: z.number().int().min(1).max(3650).default(90).meta({
        description:
          'Days the state of a RESOLVED finding is kept after its message was updated (AWS deletes RESOLVED findings after 90 days). Archived findings are kept.',
      }),
    })
    .prefault({})
    .meta({ description: 'Redis key layout.' }),
  consoleUrl: z.url().default('https://console.aws.amazon.com').meta({
    description: 'AWS console host for "Open in console" links (change for GovCloud or China partitions).',
  }),
  roles: z
    .strictObject({
      minUnusedDays: z.number().int().min(30).max(400).default(90).meta({
        description:
          'A role whose GetRole `RoleLastUsed` is more recent than this is never deleted (checked when the confirm dialog is filled in and again just before deleting).',
      }),
      protectTagKeys: z.array(z.string().min(1).max(128)).default(['access-patrol:protect']).meta({
        description: 'A role carrying any of these tags is never deleted.',
        docType: 'list of tag keys',
      }),
      backupRetentionDays: z.number().int().min(7).max(3650).default(365).meta({
        description:
          "How long the backup taken before a deletion is kept in Redis (the Restore button needs it). The same backup is also posted in the finding's thread.",
      }),
      unusedRole: z.enum(['quarantine', 'delete', 'both']).default('quarantine').meta({
        description:
          'What the card of an unused role offers: `quarantine` (Quarantine role: a deny-all policy now, the deletion with a backup when the quarantine ends unless someone clicks Still needed), `delete` (Delete role at once, with a backup), or `both`. `quarantine` is the recommended choice for production: it is reversible in one click, nothing is lost, and a workload that still uses the role fails loudly (AccessDenied) instead of the role vanishing.',
      }),
      quarantineDays: z.number().int().min(1).max(365).default(30).meta({
        description:
          'How long a quarantine lasts before the role is deleted (re-checked first: the deny-all policy still in place, the role not used since).',
      }),
    })
    .prefault({})
    .meta({ description: 'Safety rules for quarantining and deleting unused roles from Slack.' }),
  fixes: z
    .strictObject({
      backupRetentionDays: z.number().int().min(1).max(3650).default(90).meta({
        description:
          'How long what a one-click fix changed is kept in Redis (the Undo button needs it); after that Undo says the backup is gone.',
      }),
      deleteInactiveKeyAfterDays: z.number().int().min(1).max(3650).default(30).meta({
        description:
          "After Deactivate key, the key's card thread offers Delete key (admins and those under `permissions.delete-key`) once the key has stayed inactive this many days. Deleting cannot be undone, so it is never automatic; keep it at most `backupRetentionDays`, since the offer reads the fix's backup.",
      }),
      rescanDelaySeconds: z.number().int().min(0).max(3600).default(60).meta({
        description:
          'After a fix of external access, the bot asks AWS to rescan the resource and reads the finding again this many seconds later to show the result.',
      }),
    })
    .refine((f) => f.deleteInactiveKeyAfterDays <= f.backupRetentionDays, {
      path: ['deleteInactiveKeyAfterDays'],
      message:
        'must be at most fixes.backupRetentionDays: the Delete key offer reads the backup of the deactivation, which is gone after that many days',
    })
    .prefault({})
    .meta({
      description: 'One-click fixes from the finding card (Block public access, Deactivate key, ...).',
    }),
  permissions: permissionsSchema.meta({ description: 'Who may do what; see [Permissions](#permissions).' }),
  audit: auditSchema.meta({ description: 'Retention of the audit log; see [Audit](#audit).' }),
  aging: agingSchema.meta({ description: 'SLA reminders and escalation of findings left open.' }),
  digest: digestSchema.meta({ description: 'The weekly digest per owner channel and per owner e-mail.' }),
  policyGeneration: policyGenerationSchema.optional().meta({
    description:
      'Least-privilege policy generation from CloudTrail. Absent: Generate policy and `/access generate-policy` answer which key to set.',
  }),
});

export type AppConfig = z.infer<typeof configSchema>;
export type RoutingRule = AppConfig['routing'][number];
export type RuleMatch = RoutingRule['match'];
