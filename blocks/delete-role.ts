// The delete-role confirm step (a modal filled in by a worker after it has read the role), the
// backup snippet, and the outcome messages of deletion and restore.
import type { KnownBlock, ModalView } from '@slack/types';
import type { RoleBackup, RoleInspection } from '../src/aws/iam.ts';
import { escapeMrkdwn, verbatimJson } from './escape.ts';
import {
  capBlocks,
  context,
  messageText,
  preformattedMessages,
  type SlackMessage,
  section,
  truncate,
} from './limits.ts';
import { bold, fitLines, freeText, ident, identifierList, type Line, person, richLines } from './rich.ts';

export const DELETE_ROLE_MODAL = { callbackId: 'delete_role_modal' } as const;

export interface DeleteRoleMetadata {
  f: string;
  a: string;
  r: string;
  /** Message the click came from. */
  c?: string;
  t?: string;
}

/** The one delete-role modal in each of its steps: loading, confirm (with its submit button), blocked. */
function roleModal(
  meta: DeleteRoleMetadata,
  buttons: { submit?: string; close: string },
  blocks: KnownBlock[],
): ModalView {
  return {
    type: 'modal',
    callback_id: DELETE_ROLE_MODAL.callbackId,
    private_metadata: JSON.stringify(meta),
    title: { type: 'plain_text', text: 'Delete unused role' },
    ...(buttons.submit ? { submit: { type: 'plain_text', text: buttons.submit } } : {}),
    close: { type: 'plain_text', text: buttons.close },
    blocks,
  };
}

export function deleteRoleLoadingModal(meta: DeleteRoleMetadata): ModalView {
  return roleModal(meta, { close: 'Cancel' }, [
    section('⏳ Reading the role from AWS: its policies, instance profiles and when it was last used…'),
  ]);
}

export function deleteRoleConfirmModal(input: {
  meta: DeleteRoleMetadata;
  inspection: RoleInspection;
  minUnusedDays: number;
}): ModalView {
  const i = input.inspection;
  // IAM keeps RoleLastUsed for 400 days: no date means no use in that window.
  const lastUsed: Line = i.lastUsed.date
    ? [
        ` It was last used ${i.lastUsed.date.toISOString().slice(0, 10)}`,
        ...(i.lastUsed.region ? [' in ', freeText(i.lastUsed.region, 40)] : []),
        '.',
      ]
    : [' It has no recorded use in the last 400 days.'];
  // Names and ARNs as IAM has them: 15 of each at most, within one block.
  const list = (items: string[]): Line =>
    items.length ? identifierList(items.slice(0, 15), 15, 800, items.length) : ['none'];
  const blocks: KnownBlock[] = [
    richLines([
      ['Delete role ', ident(i.roleName, 200), ' in account ', ident(i.accountId, 40), '?', ...lastUsed],
    ]),
    richLines([
      [bold('Will be removed')],
      [
        '• Attached managed policies (detached, not deleted): ',
        ...list(i.attachedPolicies.map((p) => p.arn)),
      ],
      ['• Inline policies (deleted): ', ...list(i.inlinePolicies.map((p) => p.name))],
      ['• Instance profiles (role removed from them): ', ...list(i.instanceProfiles.map((p) => p.name))],
      [`• The role itself, with its trust policy and ${i.tags.length} tag(s)`],
    ]),
    context([
      `Just before deleting, the bot checks again that the finding is still active, that the role is still unused for at least ${input.minUnusedDays} days, that it is not service-linked and carries no protection tag. A complete backup is saved first; Restore recreates the role.`,
    ]),
  ];
  return roleModal(input.meta, { submit: 'Delete role', close: 'Cancel' }, capBlocks(blocks, 100));
}

export function deleteRoleBlockedModal(meta: DeleteRoleMetadata, reason: string): ModalView {
  return roleModal(meta, { close: 'Close' }, [
    section(`🛑 This role will not be deleted: ${escapeMrkdwn(truncate(reason, 2500))}`),
  ]);
}

/**
 * The backup as thread replies: the role's full definition as JSON in preformatted rich text, which
 * Slack shows verbatim (no mrkdwn: `*`, `_`, `~`, backticks and `<!channel>` stay as written, inert).
 * Its blocks, joined in order, parse back to exactly the backup (`preformattedText`); a backup too
 * long for one message continues in the next ("part 2 of 3").
 */
export function backupSnippet(backup: RoleBackup, key: string): SlackMessage[] {
  return preformattedMessages(verbatimJson(backup), (part, parts) => {
    const of = parts > 1 ? ` (part ${part} of ${parts})` : '';
    return {
      text: messageText(`Backup of role ${backup.roleName}${of}`),
      blocks: [
        richLines([
          part === 1
            ? [
                '💾 Backup of role ',
                ident(backup.roleName, 200),
                ' taken ',
                freeText(backup.takenAt, 40),
                ', kept as ',
                ident(key, 300),
                `${of}. The JSON below is exact: copy it whole${parts > 1 ? ', every part in order' : ''}.`,
              ]
            : ['💾 Backup of role ', ident(backup.roleName, 200), `, continued${of}.`],
        ]),
      ],
    };
  });
}

export interface StepsOutcome {
  userId: string;
  roleName: string;
  done: string[];
  notDone: string[];
  error?: string;
}

/** One receipt shape for deletion and restore: a headline, then what was done and what was not. */
function stepsReceipt(o: StepsOutcome, head: Line, text: string): SlackMessage {
  const bullets = (items: string[]) => items.map((d): Line => ['• ', freeText(d, 200)]);
  const lines: Line[] = [
    [bold('Done')],
    ...(o.done.length ? bullets(o.done) : [['• nothing']]),
    ...(o.notDone.length ? [[bold('Not done')], ...bullets(o.notDone)] : []),
  ];
  return { text: messageText(text), blocks: capBlocks([richLines(fitLines([head], lines))]) };
}

const failure = (o: StepsOutcome) => freeText(o.error ?? '', 500);

export function deletionReceipt(o: StepsOutcome): SlackMessage {
  const role = ident(o.roleName, 200);
  return o.error
    ? stepsReceipt(
        o,
        ['⚠️ Deleting role ', role, ' stopped: ', failure(o)],
        `Deleting role ${o.roleName} stopped`,
      )
    : stepsReceipt(
        o,
        o.userId === 'system'
          ? ['🗑️ The quarantine ended: the bot deleted role ', role, '.']
          : ['🗑️ ', person(o.userId), ' deleted role ', role, '.'],
        `Role ${o.roleName} deleted`,
      );
}

export function restoreReceipt(o: StepsOutcome): SlackMessage {
  const role = ident(o.roleName, 200);
  return o.error
    ? stepsReceipt(
        o,
        ['⚠️ Restoring role ', role, ' was incomplete: ', failure(o)],
        `Restoring role ${o.roleName} was incomplete`,
      )
    : stepsReceipt(
        o,
        ['♻️ ', person(o.userId), ' restored role ', role, ' from its backup.'],
        `Role ${o.roleName} restored`,
      );
}
