// Archive rules in Slack: the Archive similar modal (what the rule would archive today, before anyone
// confirms), its receipt, `/access rules` with a Delete button per rule, and what those jobs answer.
// AWS's strings (ARNs, analyzer and rule names, filter keys and values, error messages) go into rich
// text (blocks/rich.ts), which Slack shows as written: no mrkdwn, mention or link can come of them.
import type { ActionsBlock, Button, KnownBlock, ModalView } from '@slack/types';
import type { ArchiveFilter } from '../src/findings/archive-rule.ts';
import { plain } from './escape.ts';
import { ACTION_IDS } from './ids.ts';
import {
  capBlocks,
  context,
  fitButtonValue,
  LIMITS,
  messageText,
  type SlackMessage,
  section,
} from './limits.ts';
import { formModal } from './modals.ts';
import {
  bold,
  fitLines,
  freeText,
  ident,
  identifierList,
  type Line,
  type Piece,
  person,
  richLines,
} from './rich.ts';

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

/** The filter as one rich text line per criterion, keys and values as identifiers (ARNs and `*` read exactly). */
export function filterLines(filter: ArchiveFilter): Line[] {
  const values = (vs: readonly string[]): Line =>
    vs.flatMap((v, i) => (i === 0 ? [ident(v, 200)] : [' or ', ident(v, 200)]));
  return Object.entries(filter).map(([key, c]) => {
    const parts: Line[] = [];
    if (c.eq) parts.push(['is ', ...values(c.eq)]);
    if (c.neq) parts.push(['is not ', ...values(c.neq)]);
    if (c.contains) parts.push(['contains ', ...values(c.contains)]);
    if (c.exists !== undefined) parts.push([c.exists ? 'is set' : 'is not set']);
    return ['• ', ident(key, 120), ' ', ...parts.flatMap((p, i) => (i === 0 ? p : [', ', ...p]))];
  });
}

/** The analyzers as identifiers with their regions: `org-unused` (us-east-1), … and N more. */
function analyzerList(analyzers: readonly { name: string; region: string; existed?: boolean }[]): Piece[] {
  return identifierList(
    analyzers.map(
      (a): Line => [
        ident(a.name, 120),
        ' (',
        freeText(a.region, 40),
        ')',
        a.existed ? ', already there' : '',
      ],
    ),
    10,
    1500,
  );
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
    blocks: [richLines([['🚫 No archive rule can be made from this finding: ', freeText(why, 2000)]])],
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
  const blocks: KnownBlock[] = [
    richLines([
      ['Archive findings like ', ident(input.resource.type, 100), ' ', ident(input.resource.arn, 1200)],
      [
        'An archive rule archives the matching ACTIVE findings now, and every new one AWS finds. Findings matching:',
      ],
    ]),
    richLines(fitLines([], filterLines(input.filter))),
    richLines([
      [
        bold(`It would archive ${n} ACTIVE finding${n === 1 ? '' : 's'} today`),
        ' (this one included), through ',
        ...analyzerList(input.analyzers),
        '.',
      ],
    ]),
  ];
  if (input.uncounted) {
    blocks.push(
      context([
        `${input.uncounted} more ACTIVE finding${input.uncounted === 1 ? '' : 's'} of this type and account may match too: the bot stored ${input.uncounted === 1 ? 'it' : 'them'} before it kept principals and conditions.`,
      ]),
    );
  }
  if (input.left.length > 0) {
    blocks.push(richLines([['Not part of the rule: ', freeText(input.left.join('; '), 1900), '.']]));
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
  const n = input.matched;
  return {
    text: messageText(
      `Archive rule ${input.ruleName} created by ${input.userId}: ${n} matching finding${n === 1 ? '' : 's'} archived.`,
    ),
    blocks: capBlocks([
      richLines([
        [
          '🗄️ ',
          person(input.userId),
          ' created the archive rule ',
          ident(input.ruleName, 255),
          ' in ',
          ...analyzerList(input.analyzers),
          ` and applied it: ${n} ACTIVE finding${n === 1 ? '' : 's'} matched when it was made, and AWS archives new ones as it finds them. Their messages show Archived after the next scan.`,
        ],
      ]),
      richLines(fitLines([], filterLines(input.filter))),
      context(['Delete the rule with `/access rules`; findings it archived stay archived until unarchived.']),
    ]),
  };
}

/** Nothing was changed, and why, in words a person can act on. */
export function archiveRuleRefusedNote(input: { what: string; why: string }): SlackMessage {
  return {
    text: messageText(`Nothing was done: ${input.what}: ${input.why}`),
    blocks: [
      richLines([['🚫 Nothing was done: ', freeText(input.what, 300), ': ', freeText(input.why, 1500)]]),
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
        richLines([
          [
            '⚠️ ',
            ident(a.analyzer.name, 120),
            ' (',
            freeText(a.analyzer.region, 40),
            '): ',
            freeText(a.error, 300),
          ],
        ]),
      );
      continue;
    }
    if (a.rules.length === 0) continue;
    blocks.push(
      richLines([['Analyzer ', ident(a.analyzer.name, 120), ' (', freeText(a.analyzer.region, 40), ')']]),
    );
    for (const r of a.rules) {
      if (blocks.length >= LIMITS.blocksPerMessage - 3) break;
      shown++;
      blocks.push(
        richLines(
          fitLines(
            [
              [
                { id: r.ruleName, max: 255, bold: true },
                `: matches ${r.active} active and ${r.archived} archived finding${r.archived === 1 ? '' : 's'}`,
              ],
            ],
            filterLines(r.filter),
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
  const where: Line = [ident(input.analyzer.name, 120), ' (', freeText(input.analyzer.region, 40), ')'];
  if (input.alreadyGone) {
    return {
      text: messageText(
        `Nothing was done: the archive rule ${input.ruleName} is no longer in ${input.analyzer.name}.`,
      ),
      blocks: [
        richLines([
          [
            'ℹ️ Nothing was done: the archive rule ',
            ident(input.ruleName, 255),
            ' is no longer in ',
            ...where,
            '.',
          ],
        ]),
      ],
    };
  }
  return {
    text: messageText(
      `Archive rule ${input.ruleName} deleted from ${input.analyzer.name} by ${input.userId}.`,
    ),
    blocks: [
      richLines([
        [
          '🗑️ ',
          person(input.userId),
          ' deleted the archive rule ',
          ident(input.ruleName, 255),
          ' from ',
          ...where,
          '. New findings it would have matched stay active; findings it archived stay archived.',
        ],
      ]),
    ],
  };
}
