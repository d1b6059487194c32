// Messages and modals of least-privilege policy generation and policy validation. Everything that
// comes from AWS (policies, finding details, error messages) goes through the escape helpers.
import type { KnownBlock, ModalView, PlainTextOption } from '@slack/types';
import { formatISO } from 'date-fns/formatISO';
import type { CheckResult, GeneratedPolicyResult, PolicyFinding, PolicyType } from '../src/aws/policy.ts';
import type { ActionComparison } from '../src/findings/policy-actions.ts';
import { code, escapeMrkdwn, plain, verbatimJson, verbatimText } from './escape.ts';
import {
  capBlocks,
  context,
  messageText,
  preformattedMessages,
  type SlackMessage,
  section,
  truncate,
} from './limits.ts';
import { formModal } from './modals.ts';
import { bold, fitLines, freeText, ident, identifierList, type Line, person, richLines } from './rich.ts';

export interface GenerationSubject {
  principalArn: string;
  accountId: string;
  days: number;
  userId: string;
}

function subject(s: GenerationSubject): Line {
  return [ident(s.principalArn, 300), ` (${s.days} days of CloudTrail activity)`];
}

/** Ephemeral: the request waits behind others in the same account. */
export function generationQueuedNote(input: {
  ahead: number;
  accountId: string;
  principalArn: string;
}): SlackMessage {
  const ahead = `${input.ahead} ${input.ahead === 1 ? 'request' : 'requests'}`;
  return {
    text: messageText(`Queued, ${ahead} ahead of you in account ${input.accountId}`),
    blocks: [
      richLines([
        [
          '⏳ Policy generation for ',
          ident(input.principalArn, 300),
          ` is queued, ${ahead} ahead of you in account `,
          ident(input.accountId, 40),
          '.',
        ],
      ]),
      context([
        'AWS runs one policy generation at a time per account; yours starts when the ones before it finish.',
      ]),
    ],
  };
}

/** Ephemeral: a generation not started by the bot holds the account; the request keeps its place. */
export function generationConflictNote(input: { accountId: string; retryInSeconds: number }): SlackMessage {
  return {
    text: messageText(`Another policy generation is running in account ${input.accountId}; retrying`),
    blocks: [
      richLines([
        [
          '⏳ AWS says another policy generation is already running in account ',
          ident(input.accountId, 40),
          ` (not one this bot started). Your request keeps its place and is tried again in about ${Math.max(1, Math.round(input.retryInSeconds))} seconds.`,
        ],
      ]),
    ],
  };
}

/** Ephemeral: the account's daily limit is reached. */
export function generationQuotaNote(input: {
  accountId: string;
  quota: number;
  tryAfter: Date;
}): SlackMessage {
  const at = `${formatISO(input.tryAfter).slice(0, 16).replace('T', ' ')} UTC`;
  return {
    text: messageText(
      `Daily limit of ${input.quota} policy generations reached in account ${input.accountId}`,
    ),
    blocks: [
      richLines([
        [
          `🛑 The daily limit of ${input.quota} policy generations is reached in account `,
          ident(input.accountId, 40),
          ` (canceled generations count too). Nothing was started; try again after ${at}.`,
        ],
      ]),
    ],
  };
}

/** Ephemeral: a policy request or check could not be done. */
export function policyFailedNote(what: string, error: string): SlackMessage {
  return {
    text: messageText(`Could not ${what}: ${truncate(error, 200)}`),
    blocks: [
      section(`⚠️ Could not ${escapeMrkdwn(what)}: ${escapeMrkdwn(truncate(error, 1500))}`),
      context(['Nothing was changed in IAM.']),
    ],
  };
}

/** Ephemeral: policy generation is not set up. */
export function notConfiguredNote(what: string): SlackMessage {
  return {
    text: messageText(`${what} is not configured`),
    blocks: [section(`ℹ️ ${escapeMrkdwn(what)}. Nothing was started.`)],
  };
}

/** The note in the thread while a generation runs; updated in place at each poll. */
export function generationProgress(
  s: GenerationSubject,
  input: { polls: number; startedAt: Date; now: Date; nextCheckSeconds?: number },
): SlackMessage {
  const minutes = Math.max(0, Math.round((input.now.getTime() - input.startedAt.getTime()) / 60_000));
  const checked =
    input.polls === 0 ? 'started' : `still running after ${minutes} min, checked ${input.polls}×`;
  const next =
    input.nextCheckSeconds !== undefined ? `; next check in ${Math.round(input.nextCheckSeconds)} s` : '';
  return {
    text: messageText(`Generating a least-privilege policy for ${s.principalArn}`),
    blocks: [
      richLines([
        [
          '⏳ ',
          person(s.userId),
          ' asked for a least-privilege policy for ',
          ...subject(s),
          `: ${checked}${next}.`,
        ],
      ]),
    ],
  };
}

/** The progress note once the generation has ended. */
export function generationEndedNote(s: GenerationSubject, outcome: string): SlackMessage {
  return {
    text: messageText(`Policy generation for ${s.principalArn}: ${outcome}`),
    blocks: [
      richLines([
        [
          person(s.userId),
          ' asked for a least-privilege policy for ',
          ...subject(s),
          ': ',
          freeText(outcome, 500),
          '.',
        ],
      ]),
    ],
  };
}

/** FAILED (with AWS's jobError), CANCELED, or given up by the bot. */
export function generationFailedMessage(
  s: GenerationSubject,
  input: { status: 'FAILED' | 'CANCELED' | 'TIMED_OUT' | 'ERROR'; error?: { code: string; message: string } },
): SlackMessage {
  const [icon, what] = {
    FAILED: ['❌', 'Policy generation failed'],
    CANCELED: ['🚫', 'Policy generation was canceled'],
    TIMED_OUT: ['⌛', 'Policy generation took too long and was canceled'],
    ERROR: ['⚠️', 'Policy generation could not run'],
  }[input.status];
  const lines: Line[] = [[`${icon} ${what} for `, ...subject(s), '.']];
  if (input.error) {
    lines.push([ident(input.error.code, 100), ': ', freeText(input.error.message, 1500)]);
  }
  return {
    text: messageText(`${what} for ${s.principalArn}`),
    blocks: [richLines(lines), context(['Nothing was changed in IAM. The attempt is in the audit log.'])],
  };
}

const FINDING_ICONS: Record<PolicyFinding['findingType'], string> = {
  ERROR: '🔴',
  SECURITY_WARNING: '🟠',
  WARNING: '🟡',
  SUGGESTION: '🔵',
};
const FINDING_ORDER: PolicyFinding['findingType'][] = ['ERROR', 'SECURITY_WARNING', 'WARNING', 'SUGGESTION'];

/**
 * ValidatePolicy findings, worst first: counts, then one line each (issue code, details, learn-more
 * link), as many as fit one block.
 */
export function validationLines(findings: readonly PolicyFinding[], max = 20): Line[] {
  if (findings.length === 0)
    return [['✅ ValidatePolicy: no errors, security warnings, warnings or suggestions.']];
  const sorted = [...findings].sort(
    (a, b) => FINDING_ORDER.indexOf(a.findingType) - FINDING_ORDER.indexOf(b.findingType),
  );
  const counts = FINDING_ORDER.map((t) => [t, findings.filter((f) => f.findingType === t).length] as const)
    .filter(([, n]) => n > 0)
    .map(([t, n]) => `${n} ${t.toLowerCase().replace('_', ' ')}${n === 1 ? '' : 's'}`);
  const lines = sorted
    .slice(0, max)
    .map(
      (f): Line => [
        `${FINDING_ICONS[f.findingType] ?? '•'} `,
        ident(f.issueCode, 80),
        ' ',
        freeText(f.details, 300),
        ...(/^https:\/\/[^\s<>|"`]+$/.test(f.learnMoreLink)
          ? [' ', { url: f.learnMoreLink, label: 'learn more' }]
          : []),
      ],
    );
  return fitLines([[bold('ValidatePolicy:'), ` ${counts.join(', ')}`]], lines, sorted.length);
}

function checkLines(label: Line, r: CheckResult): Line[] {
  const head: Line =
    r.result === 'PASS'
      ? [
          '✅ ',
          ...label.map((p) => (typeof p === 'string' ? bold(p) : p)),
          bold(': PASS'),
          ' ',
          freeText(r.message, 400),
        ]
      : [
          '❌ ',
          ...label.map((p) => (typeof p === 'string' ? bold(p) : p)),
          bold(': FAIL'),
          ' ',
          freeText(r.message, 400),
        ];
  const reasons = r.reasons.slice(0, 10).map((x): Line => {
    const where: Line = x.statementId
      ? [' (statement ', ident(x.statementId, 60), ')']
      : x.statementIndex !== undefined
        ? [` (statement ${x.statementIndex})`]
        : [];
    return ['• ', freeText(x.description, 300), ...where];
  });
  return fitLines([head], reasons, Math.min(r.reasons.length, 10));
}

export interface GenerationResultInput extends GenerationSubject {
  result: GeneratedPolicyResult;
  comparison: ActionComparison | null;
  /** Managed policies whose document could not be read (not counted). */
  unreadable: string[];
  /** CheckNoNewAccess per generated policy; null when today's policies could not be read. */
  noNewAccess: CheckResult[] | null;
  findings: PolicyFinding[];
}

/** The summary posted when a generation succeeded; the policy itself follows (policyDocumentMessages). */
export function generationResultMessage(r: GenerationResultInput): SlackMessage {
  const c = r.comparison;
  const coverage =
    r.result.isComplete === false
      ? '⚠️ CloudTrail coverage was *incomplete*: some of the period or some regions had no readable logs, so the policy may miss actions.'
      : '✅ CloudTrail coverage was complete for the requested period.';
  const blocks: KnownBlock[] = [
    richLines([
      ['✅ Least-privilege policy generated for ', ...subject(r), ', asked by ', person(r.userId), '.'],
    ]),
    section(coverage),
  ];
  if (c) {
    const wild: Line = c.currentWildcards.length
      ? [
          ` ${c.currentWildcards.length} of today's entries are wildcards (`,
          ...identifierList(
            c.currentWildcards.slice(0, 5).map((w) => [ident(w, 60)]),
            5,
            400,
            c.currentWildcards.length,
          ),
          '), each counted once.',
        ]
      : [];
    const extra: Line = c.notCovered.length
      ? [
          ` ${c.notCovered.length} generated ${c.notCovered.length === 1 ? 'action is' : 'actions are'} not in today's policies: `,
          ...identifierList(
            c.notCovered.slice(0, 10).map((a) => [ident(a, 80)]),
            10,
            800,
            c.notCovered.length,
          ),
          '.',
        ]
      : [];
    const notAction = c.notActionStatements
      ? ` ${c.notActionStatements} NotAction ${c.notActionStatements === 1 ? 'statement' : 'statements'} could not be counted.`
      : '';
    blocks.push(
      richLines([
        [
          bold(`Keeps ${c.kept} of ${c.current} actions.`),
          ` The generated policy names ${c.generated} ${c.generated === 1 ? 'action' : 'actions'} in ${c.services} ${c.services === 1 ? 'service' : 'services'}; the principal holds ${c.current} distinct action entries today (attached and inline policies, a user's groups included).`,
          ...wild,
          ...extra,
          notAction,
        ],
      ]),
    );
  } else {
    blocks.push(section('ℹ️ What the principal holds today could not be read, so there is no comparison.'));
  }
  if (r.unreadable.length) {
    blocks.push(
      richLines([
        [
          'Not counted (could not read): ',
          ...identifierList(
            r.unreadable.slice(0, 5).map((u) => [ident(u, 200)]),
            5,
            1500,
            r.unreadable.length,
          ),
        ],
      ]),
    );
  }
  if (r.noNewAccess) {
    r.noNewAccess.forEach((check, i) => {
      const label = r.noNewAccess!.length > 1 ? `CheckNoNewAccess (policy ${i + 1})` : 'CheckNoNewAccess';
      blocks.push(richLines(checkLines([label], check)));
    });
  }
  blocks.push(richLines(validationLines(r.findings)));
  blocks.push(
    context([
      'The policy is below. It is built from CloudTrail management events: data events are not named at action level and iam:PassRole is never included.',
    ]),
  );
  const text = c
    ? `Policy generated for ${r.principalArn}: keeps ${c.kept} of ${c.current} actions`
    : `Policy generated for ${r.principalArn}`;
  return { text: messageText(text), blocks: capBlocks(blocks) };
}

/**
 * The generated policies as pretty JSON in preformatted rich text (shown verbatim: `*` and `?` in
 * actions and resources read as AWS wrote them), over as many messages as they need.
 */
export function policyDocumentMessages(policies: readonly string[]): SlackMessage[] {
  return policies.flatMap((policy, i) => {
    let pretty: string;
    try {
      pretty = verbatimJson(JSON.parse(policy));
    } catch {
      pretty = verbatimText(policy); // shown as AWS sent it
    }
    const label =
      policies.length > 1 ? `Generated policy ${i + 1} of ${policies.length}` : 'Generated policy';
    return preformattedMessages(pretty, (part, parts) => {
      const title = parts > 1 ? `${label} (part ${part} of ${parts})` : label;
      return { text: messageText(title), blocks: [section(`*${escapeMrkdwn(title)}*`)] };
    });
  });
}

// ---------------------------------------------------------------------------------------------- modals

export const GENERATE_POLICY_MODAL = {
  callbackId: 'generate_policy_modal',
  trailSelectBlock: 'gp_trail_select',
  trailSelectAction: 'trail_select',
  trailTextBlock: 'gp_trail_text',
  trailTextAction: 'trail_text',
  daysBlock: 'gp_days',
  daysAction: 'days',
  regionsBlock: 'gp_regions',
  regionsAction: 'regions',
} as const;

export interface GeneratePolicyModalMetadata {
  /** Finding id, analyzer ARN, region, channel and message of the click. */
  f: string;
  a: string;
  r: string;
  c?: string;
  t?: string;
  /** The principal (the finding's role or user). */
  p: string;
}

const option = (text: string, value: string): PlainTextOption => ({
  text: { type: 'plain_text', text: plain(text, 75) },
  value,
});

export function generatePolicyModal(input: {
  meta: GeneratePolicyModalMetadata;
  trails: readonly string[];
  defaultDays: number;
}): ModalView {
  const M = GENERATE_POLICY_MODAL;
  const blocks: KnownBlock[] = [
    richLines([
      [
        'Generate a least-privilege policy for ',
        ident(input.meta.p, 300),
        " from its CloudTrail activity. The result is posted in the finding's thread.",
      ],
    ]),
  ];
  if (input.trails.length > 0) {
    // Option values are the trail's index in the config: an ARN can be longer than a value may be (150).
    const options = input.trails.slice(0, 100).map((t, i) => option(t.split(':trail/')[1] ?? t, String(i)));
    blocks.push({
      type: 'input',
      block_id: M.trailSelectBlock,
      optional: true,
      label: { type: 'plain_text', text: 'Trail' },
      element: {
        type: 'static_select',
        action_id: M.trailSelectAction,
        initial_option: options[0]!,
        options,
      },
    });
  }
  blocks.push(
    {
      type: 'input',
      block_id: M.trailTextBlock,
      optional: true,
      label: { type: 'plain_text', text: input.trails.length ? 'Or another trail ARN' : 'Trail ARN' },
      element: {
        type: 'plain_text_input',
        action_id: M.trailTextAction,
        placeholder: {
          type: 'plain_text',
          text: 'arn:aws:cloudtrail:us-east-1:123456789012:trail/org-trail',
        },
      },
    },
    {
      type: 'input',
      block_id: M.daysBlock,
      label: { type: 'plain_text', text: 'Days of activity to read (1–90)' },
      element: {
        type: 'number_input',
        action_id: M.daysAction,
        is_decimal_allowed: false,
        min_value: '1',
        max_value: '90',
        initial_value: String(input.defaultDays),
      },
    },
    {
      type: 'input',
      block_id: M.regionsBlock,
      label: { type: 'plain_text', text: 'Regions of the trail' },
      hint: { type: 'plain_text', text: 'all, or regions separated by commas (eu-west-1,us-east-1)' },
      element: {
        type: 'plain_text_input',
        action_id: M.regionsAction,
        initial_value: 'all',
      },
    },
  );
  return formModal({
    callbackId: M.callbackId,
    meta: input.meta,
    title: 'Generate policy',
    submit: 'Generate',
    blocks,
  });
}

export const VALIDATE_POLICY_MODAL = {
  callbackId: 'validate_policy_modal',
  documentBlock: 'vp_document',
  documentAction: 'document',
  typeBlock: 'vp_type',
  typeAction: 'policy_type',
  resourceBlock: 'vp_resource_type',
  resourceAction: 'resource_type',
} as const;

export const VALIDATE_POLICY_TYPES: readonly { value: PolicyType; label: string }[] = [
  { value: 'IDENTITY_POLICY', label: 'Identity policy (role, user, group)' },
  { value: 'RESOURCE_POLICY', label: 'Resource policy (bucket, key, queue…)' },
  { value: 'SERVICE_CONTROL_POLICY', label: 'Service control policy (SCP)' },
];

/**
 * `/access validate`: paste a document, pick its type, optionally a resource type for CheckNoPublicAccess.
 * With no resource types there is no public-access choice (Slack refuses a select without options).
 */
export function validatePolicyModal(input: { channel: string; resourceTypes: readonly string[] }): ModalView {
  const M = VALIDATE_POLICY_MODAL;
  const types = VALIDATE_POLICY_TYPES.map((t) => option(t.label, t.value));
  const blocks: KnownBlock[] = [
    {
      type: 'input',
      block_id: M.documentBlock,
      label: { type: 'plain_text', text: 'Policy document (JSON)' },
      element: {
        type: 'plain_text_input',
        action_id: M.documentAction,
        multiline: true,
        max_length: 3000,
        placeholder: { type: 'plain_text', text: '{"Version": "2012-10-17", "Statement": [...]}' },
      },
    },
    {
      type: 'input',
      block_id: M.typeBlock,
      label: { type: 'plain_text', text: 'Policy type' },
      element: {
        type: 'static_select',
        action_id: M.typeAction,
        initial_option: types[0]!,
        options: types,
      },
    },
  ];
  const resourceTypes = input.resourceTypes.slice(0, 100).map((t) => option(t, t));
  if (resourceTypes.length > 0) {
    blocks.push({
      type: 'input',
      block_id: M.resourceBlock,
      optional: true,
      label: { type: 'plain_text', text: 'Check for public access as (resource policies)' },
      hint: {
        type: 'plain_text',
        text: 'Runs CheckNoPublicAccess for this resource type as well; a resource policy of an S3 bucket or access point, a DynamoDB table or a trust policy also gets ValidatePolicy checks for that type.',
      },
      element: {
        type: 'static_select',
        action_id: M.resourceAction,
        placeholder: { type: 'plain_text', text: 'no public-access check' },
        options: resourceTypes,
      },
    });
  }
  return formModal({
    callbackId: M.callbackId,
    meta: { c: input.channel },
    title: 'Validate a policy',
    submit: 'Validate',
    blocks,
  });
}

/** The answer to a validation: ValidatePolicy findings, and CheckNoPublicAccess when asked. */
export function validationReply(input: {
  policyType: PolicyType;
  findings: readonly PolicyFinding[];
  publicAccess?: { resourceType: string; result: CheckResult };
}): SlackMessage {
  const blocks: KnownBlock[] = [
    section(`🔎 Validated as ${code(input.policyType)}.`),
    richLines(validationLines(input.findings)),
  ];
  if (input.publicAccess) {
    blocks.push(
      richLines(
        checkLines(
          ['CheckNoPublicAccess as ', { id: input.publicAccess.resourceType, max: 80, bold: true }],
          input.publicAccess.result,
        ),
      ),
    );
  }
  const errors = input.findings.filter((f) => f.findingType === 'ERROR').length;
  const warnings = input.findings.filter((f) => f.findingType === 'SECURITY_WARNING').length;
  const pub = input.publicAccess ? `, public access ${input.publicAccess.result.result}` : '';
  return {
    text: messageText(`Policy validated: ${errors} errors, ${warnings} security warnings${pub}`),
    blocks: capBlocks(blocks),
  };
}
