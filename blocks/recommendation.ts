// A recommendation for an unused-permissions finding, as thread replies: the steps AWS recommends
// (detach a policy, create a policy with a given document) and the unused services and actions with
// their last-access dates. Pure; everything from AWS is escaped.
import type { ActionsBlock, KnownBlock } from '@slack/types';
import type { RecommendedStep } from '../src/aws/types.ts';
import type { UnusedService } from '../src/findings/model.ts';
import { code, escapeMrkdwn, plain, userRef } from './escape.ts';
import { ACTION_IDS, encodeFindingRef, type FindingRef } from './ids.ts';
import {
  capBlocks,
  context,
  fitButtonValue,
  LIMITS,
  listWithMore,
  messageText,
  type SlackMessage,
  section,
  truncate,
} from './limits.ts';

/** What AWS says it cannot recommend on (IAM User Guide, unused access recommendations). */
export const UNSUPPORTED_HINT =
  'AWS makes no recommendation for an IAM user who is in a group, for an IAM Identity Center role, or for a policy that uses NotAction.';

const FENCE = '```';
/** Room for the fences and a newline around each chunk of a code block. */
const CODE_CHUNK = LIMITS.sectionText - 2 * FENCE.length - 2;
/** A single line longer than a whole block is cut (pretty-printed JSON lines are short). */
const LINE_MAX = CODE_CHUNK;

function day(iso: string | undefined): string {
  if (!iso) return 'never used';
  const t = Date.parse(iso);
  return Number.isNaN(t)
    ? `last used ${escapeMrkdwn(truncate(iso, 40))}`
    : `last used ${new Date(t).toISOString().slice(0, 10)}`;
}

/** One line of code-block text from AWS: entities escaped, backticks replaced, no mentions. */
function codeLine(line: string): string {
  if (line.trim() === '') return '';
  // code() escapes exactly as a code span needs; drop its backticks, keep the indentation.
  return code(line, LINE_MAX).slice(1, -1);
}

/**
 * A policy document as code-block sections: pretty-printed when it is JSON, cut at line boundaries
 * into sections that each fit Slack's 3000 characters.
 */
export function policyCodeBlocks(document: string): KnownBlock[] {
  let pretty = document;
  try {
    pretty = JSON.stringify(JSON.parse(document), null, 2);
  } catch {
    // Not JSON: shown as AWS sent it.
  }
  const chunks: string[] = [];
  let current = '';
  for (const raw of pretty.split(/\r?\n/)) {
    const line = codeLine(raw);
    if (current !== '' && current.length + 1 + line.length > CODE_CHUNK) {
      chunks.push(current);
      current = '';
    }
    current = current === '' ? line : `${current}\n${line}`;
  }
  if (current !== '' || chunks.length === 0) chunks.push(current === '' ? ' ' : current);
  return chunks.map((c) => section(`${FENCE}\n${c}\n${FENCE}`));
}

function stepBlocks(step: RecommendedStep, n: number): KnownBlock[] {
  const policy = step.existingPolicyId ? code(step.existingPolicyId, 400) : undefined;
  switch (step.action) {
    case 'DETACH_POLICY':
      return [section(`*${n}.* Detach policy ${policy ?? '(AWS named no policy)'}`)];
    case 'CREATE_POLICY': {
      const replaces = policy ? ` to replace ${policy}` : '';
      const head = section(`*${n}.* Create policy with this document${replaces}`);
      return step.recommendedPolicy ? [head, ...policyCodeBlocks(step.recommendedPolicy)] : [head];
    }
    default:
      return [section(`*${n}.* ${code(step.action, 80)}${policy ? ` on ${policy}` : ''}`)];
  }
}

function unusedBlock(services: readonly UnusedService[]): KnownBlock | undefined {
  if (services.length === 0) return undefined;
  const SERVICES = 20;
  const ACTIONS = 10;
  const lines = services.slice(0, SERVICES).map((s) => {
    const actions = s.actions.slice(0, ACTIONS).map((a) => `${code(a.action, 200)} (${day(a.lastAccessed)})`);
    const acts =
      actions.length > 0 ? `: ${listWithMore(actions, ACTIONS, 1000, ', ', s.actions.length)}` : '';
    return truncate(`• ${code(s.serviceNamespace, 80)}, ${day(s.lastAccessed)}${acts}`, 1200);
  });
  const title = `*Unused services and actions (${services.length})*\n`;
  return section(
    title + listWithMore(lines, SERVICES, LIMITS.sectionText - title.length, '\n', services.length),
  );
}

export interface RecommendationInput {
  userId: string;
  resourceArn: string;
  steps: readonly RecommendedStep[];
  /** The finding's unused services and actions (from GetFindingV2), when it could be read. */
  services?: readonly UnusedService[];
  /** The recommendation was made earlier and reused (ISO time it completed). */
  reusedFrom?: string;
  /** The finding the Apply recommendation button acts on; absent: no button (nothing to apply). */
  apply?: FindingRef;
}

/** Whether the bot can follow every recommended step itself (it knows CREATE_POLICY and DETACH_POLICY). */
export function applicable(steps: readonly RecommendedStep[]): boolean {
  return (
    steps.length > 0 &&
    steps.every(
      (s) =>
        (s.action === 'CREATE_POLICY' && !!s.recommendedPolicy) ||
        (s.action === 'DETACH_POLICY' && !!s.existingPolicyId),
    )
  );
}

function applyButton(ref: FindingRef): ActionsBlock {
  return {
    type: 'actions',
    block_id: 'recommendation_apply',
    elements: [
      {
        type: 'button',
        action_id: ACTION_IDS.applyRecommendation,
        text: { type: 'plain_text', text: 'Apply recommendation' },
        style: 'danger',
        value: fitButtonValue(encodeFindingRef(ref)),
        confirm: {
          title: { type: 'plain_text', text: 'Apply the recommendation?' },
          text: {
            type: 'plain_text',
            text: plain(
              'Follow these steps in AWS: create the recommended policy, attach it, detach the old one? The attached policies are saved first; Undo reverses each step.',
              LIMITS.confirmText,
            ),
          },
          confirm: { type: 'plain_text', text: 'Apply recommendation' },
          deny: { type: 'plain_text', text: 'Cancel' },
          style: 'danger',
        },
      },
    ],
  };
}

/** The recommendation AWS made, posted in the finding's thread. */
export function recommendationMessage(input: RecommendationInput): SlackMessage {
  const n = input.steps.length;
  const blocks: KnownBlock[] = [
    section(
      `💡 Recommendation for ${code(input.resourceArn, 400)}, asked by ${userRef(input.userId)}: ${
        n === 0 ? 'AWS recommends no change.' : `${n === 1 ? '1 step' : `${n} steps`}.`
      }`,
    ),
  ];
  input.steps.forEach((s, i) => {
    blocks.push(...stepBlocks(s, i + 1));
  });
  const unused = unusedBlock(input.services ?? []);
  if (unused) blocks.push(unused);
  const canApply = !!input.apply && applicable(input.steps);
  const notes = [
    canApply
      ? 'Nothing was changed in AWS yet: review the steps, then Apply recommendation follows them (the old state is saved; Undo reverses each step).'
      : 'Nothing was changed in AWS: review the steps and apply them yourself.',
  ];
  if (input.reusedFrom) notes.push(`AWS made this recommendation at ${escapeMrkdwn(input.reusedFrom)}.`);
  blocks.push(context(notes));
  if (canApply && input.apply) blocks.push(applyButton(input.apply));
  return {
    text: messageText(`Recommendation for ${input.resourceArn}: ${n === 1 ? '1 step' : `${n} steps`}`),
    blocks: capBlocks(blocks),
  };
}

/** AWS could not make a recommendation (a FAILED recommendation or an error): said in words. */
export function recommendationFailedMessage(input: {
  userId: string;
  code: string;
  message: string;
}): SlackMessage {
  return {
    text: messageText(`No recommendation: ${input.code}: ${input.message}`),
    blocks: [
      section(
        `⚠️ AWS could not make a recommendation for ${userRef(input.userId)}: ${code(input.code, 80)} ${escapeMrkdwn(truncate(input.message, 1000))}`,
      ),
      context([UNSUPPORTED_HINT]),
    ],
  };
}

/** The recommendation was still in progress when the bot stopped asking. */
export function recommendationTimedOutMessage(input: { userId: string; minutes: number }): SlackMessage {
  return {
    text: messageText(`No recommendation after ${input.minutes} minutes; try again later`),
    blocks: [
      section(
        `⏳ AWS had not finished the recommendation ${userRef(input.userId)} asked for after ${input.minutes} minutes. The bot stopped asking; click Show recommendation again later.`,
      ),
    ],
  };
}
