// What the one-click fixes say: the thread receipt of a fix (what it changed, before and after, with
// its Undo button), the receipt of an Undo, why nothing was done, the one-time password DM, and
// Deactivate key's follow-ups (the offer to delete a key that stayed inactive, and its receipt).
import type { ActionsBlock, Button, KnownBlock } from '@slack/types';
import type { FixKind } from '../src/findings/card-actions.ts';
import { code, codeBlockLines, escapeMrkdwn, plain, userRef } from './escape.ts';
import { ACTION_IDS } from './ids.ts';
import {
  capBlocks,
  codeSections,
  context,
  fitButtonValue,
  LIMITS,
  messageText,
  type SlackMessage,
  section,
  truncate,
} from './limits.ts';

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

const bullets = (items: readonly string[]) => items.map((d) => `• ${escapeMrkdwn(truncate(d, 300))}`);

function stepLines(o: Pick<FixOutcome, 'done' | 'notDone'>): string[] {
  return [
    '*Done*',
    ...(o.done.length ? bullets(o.done) : ['• nothing']),
    ...(o.notDone.length ? ['*Not done*', ...bullets(o.notDone)] : []),
  ];
}

function shownDocuments(before?: string, after?: string): KnownBlock[] {
  const out: KnownBlock[] = [];
  if (before !== undefined) out.push(section('*Before*'), ...codeSections(codeBlockLines(before)));
  if (after !== undefined) out.push(section('*After*'), ...codeSections(codeBlockLines(after)));
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
  const head = `🛠️ ${userRef(o.userId)} ${FIX_WORDS[o.kind].did} ${code(o.target, 300)}.`;
  const blocks: KnownBlock[] = [
    section(truncate([head, ...stepLines(o), ...(o.notes ?? []).map(escapeMrkdwn)].join('\n'), 2900)),
    ...shownDocuments(o.before, o.after),
  ];
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
export function undoReceipt(o: Omit<FixOutcome, 'undo'>): SlackMessage {
  const undid = o.kind === 'quarantine-role' ? 'said it is still needed' : 'undid the fix';
  const head = `↩️ ${userRef(o.userId)} ${undid}: ${FIX_WORDS[o.kind].undid} ${code(o.target, 300)}.`;
  const blocks: KnownBlock[] = [
    section(truncate([head, ...stepLines(o), ...(o.notes ?? []).map(escapeMrkdwn)].join('\n'), 2900)),
    ...shownDocuments(o.before, o.after),
  ];
  return { text: messageText(`${o.userId} undid the fix of ${o.target}`), blocks: capBlocks(blocks) };
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
      section(
        `🚧 The quarantine of role ${code(input.roleName, 200)} ended (${escapeMrkdwn(truncate(input.until, 40))}); *the role was not deleted*: ${escapeMrkdwn(truncate(input.reason, 1500))}`,
      ),
      context(['The deny-all policy stays on the role until someone clicks Still needed or removes it.']),
    ],
  };
}

/** The new console password, for the person who clicked Undo only (a DM; never a channel). */
export function passwordDm(input: { userName: string; accountId: string; password: string }): SlackMessage {
  return {
    text: messageText(`A new console password for user ${input.userName} in account ${input.accountId}`),
    blocks: [
      section(
        `🔑 You undid *Remove password* for user ${code(input.userName, 200)} in account ${code(input.accountId, 40)}. Its new console password is:`,
      ),
      section(code(input.password)),
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

const keyName = (k: InactiveKey) =>
  `access key ${code(k.keyId, 40)} of user ${code(k.userName, 200)} in account ${code(k.accountId, 40)}`;

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
      section(
        `🔑 ${keyName(k)} has been inactive for ${days} days (deactivated ${k.deactivatedAt.slice(0, 10)} by ${userRef(k.deactivatedBy)}), and nothing has turned it back on.`,
      ),
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
      section(
        `🗑️ ${userRef(userId)} deleted ${keyName(k)} (inactive since ${k.deactivatedAt.slice(0, 10)}). DeleteAccessKey cannot be undone; if the user needs a key again, create a new one.`,
      ),
    ],
  };
}
