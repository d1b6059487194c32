// Archive rules in Slack: the Archive similar modal (what the rule would archive today, before anyone
// confirms), its receipt, `/access rules` with a Delete button per rule, and what those jobs answer.
import type { ActionsBlock, Button, KnownBlock, ModalView } from '@slack/types';
import type { ArchiveFilter } from '../src/findings/archive-rule.ts';
import { code, escapeMrkdwn, plain, userRef } from './escape.ts';
import { ACTION_IDS } from './ids.ts';
import {
  capBlocks,
  context,
  fitButtonValue,
  LIMITS,
  messageText,
  type SlackMessage,
  section,
  truncate,
} from './limits.ts';
import { formModal } from './modals.ts';

export const ARCHIVE_RULE_MODAL = {
  callbackId: 'archive_rule_modal',
  nameBlock: 'archive_rule_name',
  nameAction: 'name',
} as const;

/** What the Archive similar modal carries: the card, and the message the click came from. */
export interface ArchiveRuleModalMetadata {
  f: string;
  c?: string;
  t?: string;
}

export function parseArchiveRuleMetadata(raw: string): ArchiveRuleModalMetadata | null {
  try {
    const m = JSON.parse(raw) as Partial<ArchiveRuleModalMetadata>;
    if (typeof m.f !== 'string') return null;
    return {
      f: m.f,
      ...(typeof m.c === 'string' ? { c: m.c } : {}),
      ...(typeof m.t === 'string' ? { t: m.t } : {}),
    };
  } catch {
    return null;
  }
}

/** The filter as one line per criterion, each value in a code span (ARNs and `*` read exactly). */
export function filterLines(filter: ArchiveFilter): string[] {
  return Object.entries(filter).map(([key, c]) => {
    const parts: string[] = [];
    if (c.eq) parts.push(`is ${c.eq.map((v) => code(v, 200)).join(' or ')}`);
    if (c.neq) parts.push(`is not ${c.neq.map((v) => code(v, 200)).join(' or ')}`);
    if (c.contains) parts.push(`contains ${c.contains.map((v) => code(v, 200)).join(' or ')}`);
    if (c.exists !== undefined) parts.push(c.exists ? 'is set' : 'is not set');
    return `• ${code(key, 120)} ${parts.join(', ')}`;
  });
}

/** Shown at once while the bot counts what the rule would archive (the trigger lasts 3 seconds). */
export function archiveRuleLoadingModal(): ModalView {
  return {
    type: 'modal',
    callback_id: `${ARCHIVE_RULE_MODAL.callbackId}_loading`,
    title: { type: 'plain_text', text: 'Archive similar' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [section('⏳ Counting the findings this rule would archive…')],
  };
}

/** Nothing to make a rule from, and why (the finding changed, or its analyzer is read-only). */
export function archiveRuleBlockedModal(why: string): ModalView {
  return {
    type: 'modal',
    callback_id: `${ARCHIVE_RULE_MODAL.callbackId}_blocked`,
    title: { type: 'plain_text', text: 'Archive similar' },
    close: { type: 'plain_text', text: 'Close' },
    blocks: [
      section(`🚫 No archive rule can be made from this finding: ${escapeMrkdwn(truncate(why, 2000))}`),
    ],
  };
}

/**
 * The confirm step: the rule's criteria, how many ACTIVE findings it would archive today and in
 * which analyzers, and its name (editable). Submitting creates and applies it.
 */
export function archiveRuleModal(input: {
  meta: ArchiveRuleModalMetadata;
  /** The finding's resource, as AWS names it. */
  resource: { type: string; arn: string };
  filter: ArchiveFilter;
  /** Criteria of the finding the filter cannot express. */
  left: readonly string[];
  /** ACTIVE findings (in the bot's store) the rule matches today. */
  count: number;
  /** Stored before the bot kept their principals and conditions: they may match too. */
  uncounted?: number;
  analyzers: readonly { name: string; region: string }[];
  defaultName: string;
}): ModalView {
  const n = input.count;
  const where = input.analyzers
    .slice(0, 10)
    .map((a) => `${code(a.name, 120)} (${escapeMrkdwn(a.region)})`)
    .join(', ');
  const more = input.analyzers.length > 10 ? `, and ${input.analyzers.length - 10} more` : '';
  const blocks: KnownBlock[] = [
    section(
      `Archive findings like ${escapeMrkdwn(truncate(input.resource.type, 100))} ${code(input.resource.arn, 1200)}\nAn archive rule archives the matching ACTIVE findings now, and every new one AWS finds. Findings matching:`,
    ),
    section(truncate(filterLines(input.filter).join('\n'), LIMITS.sectionText)),
    section(
      `*It would archive ${n} ACTIVE finding${n === 1 ? '' : 's'} today* (this one included), through ${where}${more}.`,
    ),
  ];
  if (input.uncounted) {
    blocks.push(
      context([
        `${input.uncounted} more ACTIVE finding${input.uncounted === 1 ? '' : 's'} of this type and account may match too: the bot stored ${input.uncounted === 1 ? 'it' : 'them'} before it kept principals and conditions.`,
      ]),
    );
  }
  if (input.left.length > 0) {
    blocks.push(
      context([
        truncate(`Not part of the rule: ${input.left.map((l) => escapeMrkdwn(l)).join('; ')}.`, 1900),
      ]),
    );
  }
  blocks.push({
    type: 'input',
    block_id: ARCHIVE_RULE_MODAL.nameBlock,
    label: { type: 'plain_text', text: 'Rule name' },
    hint: {
      type: 'plain_text',
      text: 'Letters, digits, . _ and -, starting with a letter. Delete it later with /access rules.',
    },
    element: {
      type: 'plain_text_input',
      action_id: ARCHIVE_RULE_MODAL.nameAction,
      initial_value: plain(input.defaultName, 255),
      min_length: 1,
      max_length: 255,
    },
  });
  return formModal({
    callbackId: ARCHIVE_RULE_MODAL.callbackId,
    meta: input.meta,
    title: 'Archive similar',
    submit: 'Create rule',
    blocks,
  });
}

/** The rule was created and applied: the record in the finding's thread. */
export function archiveRuleReceipt(input: {
  userId: string;
  ruleName: string;
  filter: ArchiveFilter;
  analyzers: readonly { name: string; region: string; existed?: boolean }[];
  matched: number;
}): SlackMessage {
  const where = input.analyzers
    .slice(0, 10)
    .map((a) => `${code(a.name, 120)} (${escapeMrkdwn(a.region)})${a.existed ? ', already there' : ''}`)
    .join(', ');
  const n = input.matched;
  return {
    text: messageText(
      `Archive rule ${input.ruleName} created by ${input.userId}: ${n} matching finding${n === 1 ? '' : 's'} archived.`,
    ),
    blocks: capBlocks([
      section(
        `🗄️ ${userRef(input.userId)} created the archive rule ${code(input.ruleName, 255)} in ${where} and applied it: ${n} ACTIVE finding${n === 1 ? '' : 's'} matched when it was made, and AWS archives new ones as it finds them. Their messages show Archived after the next scan.`,
      ),
      section(truncate(filterLines(input.filter).join('\n'), LIMITS.sectionText)),
      context(['Delete the rule with `/access rules`; findings it archived stay archived until unarchived.']),
    ]),
  };
}

/** Nothing was changed, and why, in words a person can act on. */
export function archiveRuleRefusedNote(input: { what: string; why: string }): SlackMessage {
  return {
    text: messageText(`Nothing was done: ${input.what}: ${input.why}`),
    blocks: [
      section(`🚫 Nothing was done: ${escapeMrkdwn(input.what)}: ${escapeMrkdwn(truncate(input.why, 1500))}`),
    ],
  };
}

/** One analyzer's rules for `/access rules`. */
export interface AnalyzerRules {
  analyzer: { arn: string; name: string; region: string };
  rules: { ruleName: string; filter: ArchiveFilter; active: number; archived: number }[];
  /** ListArchiveRules failed for this analyzer. */
  error?: string;
}

/** The Delete button's value: the analyzer and rule (the job reads the rest from AWS). */
export interface RuleRef {
  a: string;
  r: string;
  n: string;
}

export function encodeRuleRef(ref: RuleRef): string {
  return JSON.stringify(ref);
}

export function decodeRuleRef(value: string): RuleRef | null {
  try {
    const v = JSON.parse(value) as Partial<RuleRef>;
    return typeof v.a === 'string' && typeof v.r === 'string' && typeof v.n === 'string'
      ? { a: v.a, r: v.r, n: v.n }
      : null;
  } catch {
    return null;
  }
}

/** The rule's Delete button, or undefined when its names do not fit a button value (never for AWS's names). */
function deleteButton(a: AnalyzerRules['analyzer'], ruleName: string): Button | undefined {
  const value = encodeRuleRef({ a: a.arn, r: a.region, n: ruleName });
  if (value.length > LIMITS.buttonValue) return undefined;
  return {
    type: 'button',
    action_id: ACTION_IDS.deleteArchiveRule,
    text: { type: 'plain_text', text: 'Delete rule' },
    style: 'danger',
    value: fitButtonValue(value),
    confirm: {
      title: { type: 'plain_text', text: 'Delete this archive rule?' },
      text: {
        type: 'plain_text',
        text: plain(
          `Delete ${ruleName} from ${a.name} (${a.region})? New findings it would match stay active; findings it archived stay archived.`,
          LIMITS.confirmText,
        ),
      },
      confirm: { type: 'plain_text', text: 'Delete rule' },
      deny: { type: 'plain_text', text: 'Cancel' },
      style: 'danger',
    },
  };
}

/** `/access rules`: every analyzer's archive rules, what each matches in the store, a Delete button each. */
export function archiveRulesReply(input: {
  analyzers: readonly AnalyzerRules[];
  canDelete: boolean;
}): SlackMessage {
  const total = input.analyzers.reduce((n, a) => n + a.rules.length, 0);
  const blocks: KnownBlock[] = [
    section(
      total === 0
        ? '🗄️ No archive rules in the analyzers the bot scans.'
        : `🗄️ ${total} archive rule${total === 1 ? '' : 's'} in the analyzers the bot scans. Counts are the findings the bot knows that each rule matches.`,
    ),
  ];
  // Each rule takes two blocks (its section and its button); leave room for the analyzer lines.
  let shown = 0;
  for (const a of input.analyzers) {
    if (a.error) {
      blocks.push(
        context([
          `⚠️ ${code(a.analyzer.name, 120)} (${escapeMrkdwn(a.analyzer.region)}): ${escapeMrkdwn(truncate(a.error, 300))}`,
        ]),
      );
      continue;
    }
    if (a.rules.length === 0) continue;
    blocks.push(context([`Analyzer ${code(a.analyzer.name, 120)} (${escapeMrkdwn(a.analyzer.region)})`]));
    for (const r of a.rules) {
      if (blocks.length >= LIMITS.blocksPerMessage - 3) break;
      shown++;
      blocks.push(
        section(
          truncate(
            `*${code(r.ruleName, 255)}*: matches ${r.active} active and ${r.archived} archived finding${r.archived === 1 ? '' : 's'}\n${filterLines(r.filter).join('\n')}`,
            LIMITS.sectionText,
          ),
        ),
      );
      const button = input.canDelete ? deleteButton(a.analyzer, r.ruleName) : undefined;
      if (button) {
        const actions: ActionsBlock = { type: 'actions', block_id: `rule_${shown}`, elements: [button] };
        blocks.push(actions);
      }
    }
  }
  if (shown < total) blocks.push(context([`…and ${total - shown} more not shown.`]));
  return {
    text: messageText(total === 0 ? 'No archive rules.' : `${total} archive rule${total === 1 ? '' : 's'}.`),
    blocks: capBlocks(blocks),
  };
}

/** A rule was deleted (or was already gone). */
export function archiveRuleDeletedNote(input: {
  userId: string;
  ruleName: string;
  analyzer: { name: string; region: string };
  alreadyGone?: boolean;
}): SlackMessage {
  const where = `${code(input.analyzer.name, 120)} (${escapeMrkdwn(input.analyzer.region)})`;
  if (input.alreadyGone) {
    return {
      text: messageText(
        `Nothing was done: the archive rule ${input.ruleName} is no longer in ${input.analyzer.name}.`,
      ),
      blocks: [
        section(
          `ℹ️ Nothing was done: the archive rule ${code(input.ruleName, 255)} is no longer in ${where}.`,
        ),
      ],
    };
  }
  return {
    text: messageText(
      `Archive rule ${input.ruleName} deleted from ${input.analyzer.name} by ${input.userId}.`,
    ),
    blocks: [
      section(
        `🗑️ ${userRef(input.userId)} deleted the archive rule ${code(input.ruleName, 255)} from ${where}. New findings it would have matched stay active; findings it archived stay archived.`,
      ),
    ],
  };
}
