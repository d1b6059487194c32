// A recommendation for an unused-permissions finding, as thread replies: the steps AWS recommends
// (detach a policy, create a policy with a given document) and the unused services and actions with
// their last-access dates. Pure; everything from AWS is escaped.
import type { ActionsBlock, KnownBlock } from '@slack/types';
import type { RecommendedStep } from '../src/aws/types.ts';
import type { UnusedService } from '../src/findings/model.ts';
import { code, escapeMrkdwn, plain, userRef, verbatimJson, verbatimText } from './escape.ts';
import { unusedServiceLines } from './finding.ts';
import { ACTION_IDS, encodeFindingRef, type FindingRef } from './ids.ts';
import {
  capBlocks,
  context,
  fitButtonValue,
  LIMITS,
  messageText,
  preformattedBlocks,
  type SlackMessage,
  section,
  truncate,
} from './limits.ts';
import { bold, ident, type Line, person, richLines } from './rich.ts';

/** What AWS says it cannot recommend on (IAM User Guide, unused access recommendations). */
export const UNSUPPORTED_HINT =
  'AWS makes no recommendation for an IAM user who is in a group, for an IAM Identity Center role, or for a policy that uses NotAction.';

/**
 * A policy document as preformatted rich text, shown exactly (`*`, `?` and backticks as AWS wrote
 * them): pretty-printed when it is JSON, as AWS sent it otherwise, split into blocks that each fit.
 */
export function policyCodeBlocks(document: string): KnownBlock[] {
  let shown: string;
  try {
    shown = verbatimJson(JSON.parse(document));
  } catch {
    shown = verbatimText(document); // not JSON: shown as AWS sent it
  }
  return preformattedBlocks(shown);
}

function stepBlocks(step: RecommendedStep, n: number): KnownBlock[] {
  const policy: Line = step.existingPolicyId ? [ident(step.existingPolicyId, 400)] : [];
  const num = bold(`${n}.`);
  switch (step.action) {
    case 'DETACH_POLICY':
      return [richLines([[num, ' Detach policy ', ...(policy.length ? policy : ['(AWS named no policy)'])]])];
    case 'CREATE_POLICY': {
      const replaces: Line = policy.length ? [' to replace ', ...policy] : [];
      const head = richLines([[num, ' Create policy with this document', ...replaces]]);
      return step.recommendedPolicy ? [head, ...policyCodeBlocks(step.recommendedPolicy)] : [head];
    }
    default:
      return [richLines([[num, ' ', ident(step.action, 80), ...(policy.length ? [' on ', ...policy] : [])]])];
  }
}

function unusedBlock(services: readonly UnusedService[]): KnownBlock | undefined {
  if (services.length === 0) return undefined;
  return richLines(unusedServiceLines('Unused services and actions', services, 10));
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
    richLines([
      [
        '💡 Recommendation for ',
        ident(input.resourceArn, 400),
        ', asked by ',
        person(input.userId),
        `: ${n === 0 ? 'AWS recommends no change.' : `${n === 1 ? '1 step' : `${n} steps`}.`}`,
      ],
    ]),
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
