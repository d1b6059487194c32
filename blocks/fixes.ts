// What the one-click fixes say: the thread receipt of a fix (what it changed, before and after, with
// its Undo button), the receipt of an Undo, why nothing was done, the one-time password DM, and
// Deactivate key's follow-ups (the offer to delete a key that stayed inactive, and its receipt).
import type { ActionsBlock, Button, KnownBlock } from '@slack/types';
import type { FixKind } from '../src/findings/card-actions.ts';
import { escapeMrkdwn, plain, verbatimText } from './escape.ts';
import { ACTION_IDS } from './ids.ts';
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
import { bold, fitLines, freeText, ident, type Line, person, richLines } from './rich.ts';

/** How each fix names what it did and what Undo does. */
export const FIX_WORDS: Record<FixKind, { did: string; undid: string; verb: string }> = {
  'block-public-access': {
    did: 'blocked public access to',
    undid: 'put back the Block Public Access settings of',
    verb: 'block public access to',
  },
  'deactivate-key': { did: 'deactivated', undid: 'made active again', verb: 'deactivate' },
  'remove-password': {
    did: 'removed the console password of',
    undid: 'gave a new console password to',
    verb: 'remove the password of',
  },
  'remove-external-access': {
    did: 'removed external access from the trust policy of',
    undid: 'restored the trust policy of',
    verb: 'remove external access from',
  },
  'quarantine-role': {
    did: 'quarantined',
    undid: 'lifted the quarantine of',
    verb: 'quarantine',
  },
  'apply-recommendation': {
    did: "applied AWS's recommendation to",
    undid: 'put back the policies of',
    verb: "apply AWS's recommendation to",
  },
};

/** The Undo button's label and confirm dialog, for the fixes whose Undo has a name of its own. */
const UNDO_WORDS: Partial<Record<FixKind, { label: string; title: string; text: string }>> = {
  'quarantine-role': {
    label: 'Still needed',
    title: 'Is this role still needed?',
    text: 'Remove the deny-all policy and the quarantine tag, so the role works again, and cancel its deletion? The bot records who said it is still needed.',
  },
};

export interface FixOutcome {
  kind: FixKind;
  userId: string;
  /** What was acted on, raw (escaped here): "bucket logs-prod", "access key AKIA… of user bob". */
  target: string;
  done: string[];
  notDone: string[];
  /** Documents or settings before and after (JSON text), shown as code. */
  before?: string;
  after?: string;
  /** Extra lines, raw (escaped here). */
  notes?: string[];
  /** The Undo button's value (backup and finding); absent when there is nothing to undo. */
  undo?: { backupKey: string; findingId: string; analyzerArn: string; region: string };
}

const bullets = (items: readonly string[]): Line[] => items.map((d) => ['• ', freeText(d, 300)]);

/** The receipt's text: its headline, what was done and what was not, and notes, within one block. */
function receiptBlock(head: Line, o: Pick<FixOutcome, 'done' | 'notDone' | 'notes'>): KnownBlock {
  const lines: Line[] = [
    [bold('Done')],
    ...(o.done.length ? bullets(o.done) : [['• nothing']]),
    ...(o.notDone.length ? [[bold('Not done')], ...bullets(o.notDone)] : []),
    ...(o.notes ?? []).map((n): Line => [freeText(n, 500)]),
  ];
  return richLines(fitLines([head], lines));
}

/** Documents before and after, shown exactly (preformatted rich text, as AWS has them). */
function shownDocuments(before?: string, after?: string): KnownBlock[] {
  const out: KnownBlock[] = [];
  if (before !== undefined) out.push(section('*Before*'), ...preformattedBlocks(verbatimText(before)));
  if (after !== undefined) out.push(section('*After*'), ...preformattedBlocks(verbatimText(after)));
  return out;
}

export function undoButton(kind: FixKind, undo: NonNullable<FixOutcome['undo']>): Button {
  const own = UNDO_WORDS[kind];
  const label = own?.label ?? 'Undo';
  return {
    type: 'button',
    action_id: ACTION_IDS.undoFix,
    text: { type: 'plain_text', text: label },
    value: fitButtonValue(
      JSON.stringify({ f: undo.findingId, a: undo.analyzerArn, r: undo.region, k: undo.backupKey, x: kind }),
    ),
    confirm: {
      title: { type: 'plain_text', text: own?.title ?? 'Undo this fix?' },
      text: {
        type: 'plain_text',
        text: plain(
          own?.text ??
            `Put back exactly what was there before the bot ${FIX_WORDS[kind].did.replace(/ (of|to|from the trust policy of)$/, '')}? The finding's exposure comes back with it.`,
          LIMITS.confirmText,
        ),
      },
      confirm: { type: 'plain_text', text: label },
      deny: { type: 'plain_text', text: 'Cancel' },
    },
  };
}

/** The thread receipt of a fix: who did what, the steps, before and after, and Undo. */
export function fixReceipt(o: FixOutcome): SlackMessage {
  const head: Line = ['🛠️ ', person(o.userId), ` ${FIX_WORDS[o.kind].did} `, ident(o.target, 300), '.'];
  const blocks: KnownBlock[] = [receiptBlock(head, o), ...shownDocuments(o.before, o.after)];
  if (o.undo) {
    const label = UNDO_WORDS[o.kind]?.label ?? 'Undo';
    blocks.push(context([`${label} puts back exactly what was there before; the backup is kept in Redis.`]));
    blocks.push({
      type: 'actions',
      block_id: 'fix_undo',
      elements: [undoButton(o.kind, o.undo)],
    } satisfies ActionsBlock);
  }
  const text = `${o.userId} ${FIX_WORDS[o.kind].did} ${o.target}${o.notDone.length ? ' (not all steps done)' : ''}`;
  return { text: messageText(text), blocks: capBlocks(blocks) };
}

/** The thread receipt of an Undo. */
export function undoReceipt(
  o: Omit<FixOutcome, 'undo'> & {
    /** AWS stopped the Undo half way: the button to undo the rest (the same backup). */
    stopped?: FixOutcome['undo'];
  },
): SlackMessage {
  const undid = o.kind === 'quarantine-role' ? 'said it is still needed' : 'undid the fix';
  const head: Line = o.stopped
    ? [
        '↩️ ',
        person(o.userId),
        ' started to undo the fix of ',
        ident(o.target, 300),
        '; ',
        bold('AWS stopped it half way'),
        '.',
      ]
    : ['↩️ ', person(o.userId), ` ${undid}: ${FIX_WORDS[o.kind].undid} `, ident(o.target, 300), '.'];
  const blocks: KnownBlock[] = [receiptBlock(head, o), ...shownDocuments(o.before, o.after)];
  if (o.stopped) {
    blocks.push({
      type: 'actions',
      block_id: 'fix_undo',
      elements: [undoButton(o.kind, o.stopped)],
    } satisfies ActionsBlock);
  }
  const text = o.stopped
    ? `${o.userId} started to undo the fix of ${o.target}; AWS stopped it half way`
    : `${o.userId} undid the fix of ${o.target}`;
  return { text: messageText(text), blocks: capBlocks(blocks) };
}

/** A fix or Undo that changed nothing, and why (already fixed, changed since, not this kind of finding). */
export function fixNothingDoneNote(input: {
  kind: FixKind;
  reason: string;
  undo?: boolean;
  /** What was asked, when it is neither the fix nor its Undo ("delete the key"). */
  asked?: string;
}): SlackMessage {
  const what = input.asked ?? (input.undo ? 'undo the fix' : FIX_WORDS[input.kind].verb);
  return {
    text: messageText(`Nothing was done (${what}): ${truncate(input.reason, 200)}`),
    blocks: [
      section(`ℹ️ Nothing was done: ${escapeMrkdwn(truncate(input.reason, 1000))}`),
      context(['AWS was read just now; nothing was changed. The attempt is in the audit log.']),
    ],
  };
}

/** The end of a quarantine that did not delete the role, and why (in the card's thread). */
export function quarantineKeptNote(input: { roleName: string; until: string; reason: string }): SlackMessage {
  return {
    text: messageText(
      `The quarantine of role ${input.roleName} ended; the role was kept: ${truncate(input.reason, 200)}`,
    ),
    blocks: [
      richLines([
        [
          '🚧 The quarantine of role ',
          ident(input.roleName, 200),
          ' ended (',
          freeText(input.until, 40),
          '); ',
          bold('the role was not deleted'),
          ': ',
          freeText(input.reason, 1500),
        ],
      ]),
      context(['The deny-all policy stays on the role until someone clicks Still needed or removes it.']),
    ],
  };
}

/** The new console password, for the person who clicked Undo only (a DM; never a channel). */
export function passwordDm(input: { userName: string; accountId: string; password: string }): SlackMessage {
  return {
    text: messageText(`A new console password for user ${input.userName} in account ${input.accountId}`),
    blocks: [
      richLines([
        [
          '🔑 You undid ',
          bold('Remove password'),
          ' for user ',
          ident(input.userName, 200),
          ' in account ',
          ident(input.accountId, 40),
          '. Its new console password is:',
        ],
        [ident(input.password)],
      ]),
      context([
        'It must be changed at the first sign-in (PasswordResetRequired). Hand it over out of band and delete this message; the bot keeps no copy.',
      ]),
    ],
  };
}

/** A key Deactivate key made inactive, as its follow-ups name it. */
export interface InactiveKey {
  keyId: string;
  userName: string;
  accountId: string;
  /** Who deactivated it, and when (ISO). */
  deactivatedBy: string;
  deactivatedAt: string;
  /** The Undo/Delete reference: the fix's backup, the finding and its analyzer. */
  ref: { findingId: string; analyzerArn: string; region: string; backupKey: string };
}

const keyName = (k: InactiveKey): Line => [
  'access key ',
  ident(k.keyId, 40),
  ' of user ',
  ident(k.userName, 200),
  ' in account ',
  ident(k.accountId, 40),
];

/** Posted in the card's thread once the key stayed inactive long enough: Delete key, for admins. */
export function keyDeletionOffer(k: InactiveKey, days: number): SlackMessage {
  const button: Button = {
    type: 'button',
    action_id: ACTION_IDS.deleteKey,
    text: { type: 'plain_text', text: 'Delete key' },
    style: 'danger',
    value: fitButtonValue(
      JSON.stringify({ f: k.ref.findingId, a: k.ref.analyzerArn, r: k.ref.region, k: k.ref.backupKey }),
    ),
    confirm: {
      title: { type: 'plain_text', text: 'Delete this access key?' },
      text: {
        type: 'plain_text',
        text: plain(
          `Delete access key ${k.keyId} of user ${k.userName} for good? This cannot be undone: AWS cannot bring a deleted key back, and anything still holding it can never use it again. The bot checks first that it is still inactive and unused.`,
          LIMITS.confirmText,
        ),
      },
      confirm: { type: 'plain_text', text: 'Delete key' },
      deny: { type: 'plain_text', text: 'Cancel' },
      style: 'danger',
    },
  };
  return {
    text: messageText(
      `Access key ${k.keyId} of user ${k.userName} has been inactive for ${days} days: it can be deleted`,
    ),
    blocks: [
      richLines([
        [
          '🔑 ',
          ...keyName(k),
          ` has been inactive for ${days} days (deactivated ${k.deactivatedAt.slice(0, 10)} by `,
          person(k.deactivatedBy),
          '), and nothing has turned it back on.',
        ],
      ]),
      context([
        'An inactive key can still be made active again by anyone with IAM access; deleting it closes that for good. Admins only; it cannot be undone.',
      ]),
      { type: 'actions', block_id: 'fix_delete_key', elements: [button] } satisfies ActionsBlock,
    ],
  };
}

/** The thread receipt of Delete key. */
export function keyDeletedReceipt(k: InactiveKey, userId: string): SlackMessage {
  return {
    text: messageText(`${userId} deleted access key ${k.keyId} of user ${k.userName}`),
    blocks: [
      richLines([
        [
          '🗑️ ',
          person(userId),
          ' deleted ',
          ...keyName(k),
          ` (inactive since ${k.deactivatedAt.slice(0, 10)}). DeleteAccessKey cannot be undone; if the user needs a key again, create a new one.`,
        ],
      ]),
    ],
  };
}
