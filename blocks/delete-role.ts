// The delete-role confirm step (a modal filled in by a worker after it has read the role), the
// backup snippet, and the outcome messages of deletion and restore.
import type { KnownBlock, ModalView } from '@slack/types';
import type { RoleBackup, RoleInspection } from '../src/aws/iam.ts';
import { code, escapeMrkdwn } from './escape.ts';
import {
  capBlocks,
  context,
  fitMessageText,
  listWithMore,
  type SlackMessage,
  section,
  truncate,
} from './limits.ts';

export const DELETE_ROLE_MODAL = { callbackId: 'delete_role_modal' } as const;

export interface DeleteRoleMetadata {
  f: string;
  a: string;
  r: string;
  /** Message the click came from. */
  c?: string;
  t?: string;
}

const title = { type: 'plain_text', text: 'Delete unused role' } as const;

export function deleteRoleLoadingModal(meta: DeleteRoleMetadata): ModalView {
  return {
    type: 'modal',
    callback_id: DELETE_ROLE_MODAL.callbackId,
    private_metadata: JSON.stringify(meta),
    title,
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      section('⏳ Reading the role from AWS: its policies, instance profiles and when it was last used…'),
    ],
  };
}

export function deleteRoleConfirmModal(input: {
  meta: DeleteRoleMetadata;
  inspection: RoleInspection;
  minUnusedDays: number;
}): ModalView {
  const i = input.inspection;
  const lastUsed = i.lastUsed.date
    ? `last used ${escapeMrkdwn(i.lastUsed.date.toISOString().slice(0, 10))}${i.lastUsed.region ? ` in ${escapeMrkdwn(i.lastUsed.region)}` : ''}`
    : 'no recorded use in the last 400 days';
  const list = (items: string[]) =>
    items.length
      ? listWithMore(
          items.map((x) => code(x, 200)),
          15,
          1200,
        )
      : 'none';
  const blocks: KnownBlock[] = [
    section(`Delete role ${code(i.roleName, 200)} in account ${code(i.accountId)}? It was ${lastUsed}.`),
    section(
      [
        `*Will be removed*`,
        `• Attached managed policies (detached, not deleted): ${list(i.attachedPolicies.map((p) => p.arn))}`,
        `• Inline policies (deleted): ${list(i.inlinePolicies.map((p) => p.name))}`,
        `• Instance profiles (role removed from them): ${list(i.instanceProfiles.map((p) => p.name))}`,
        `• The role itself, with its trust policy and ${i.tags.length} tag(s)`,
      ].join('\n'),
    ),
    context([
      `Just before deleting, the bot checks again that the finding is still active, that the role is still unused for at least ${input.minUnusedDays} days, that it is not service-linked and carries no protection tag. A complete backup is saved first; Restore recreates the role.`,
    ]),
  ];
  return {
    type: 'modal',
    callback_id: DELETE_ROLE_MODAL.callbackId,
    private_metadata: JSON.stringify(input.meta),
    title,
    submit: { type: 'plain_text', text: 'Delete role' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: capBlocks(blocks, 100),
  };
}

export function deleteRoleBlockedModal(meta: DeleteRoleMetadata, reason: string): ModalView {
  return {
    type: 'modal',
    callback_id: DELETE_ROLE_MODAL.callbackId,
    private_metadata: JSON.stringify(meta),
    title,
    close: { type: 'plain_text', text: 'Close' },
    blocks: [section(`🛑 This role will not be deleted: ${escapeMrkdwn(truncate(reason, 2500))}`)],
  };
}

/** The backup as a thread reply: the role's full definition, split over blocks when long. */
export function backupSnippet(backup: RoleBackup, key: string): SlackMessage {
  const json = JSON.stringify(backup, null, 2).replace(/```/g, 'ˋˋˋ');
  const chunks: string[] = [];
  for (let i = 0; i < json.length && chunks.length < 40; i += 2800) chunks.push(json.slice(i, i + 2800));
  const blocks: KnownBlock[] = [
    section(
      `💾 Backup of role ${code(backup.roleName, 200)} taken ${escapeMrkdwn(backup.takenAt)}, kept as ${code(key, 300)}:`,
    ),
    ...chunks.map((c) => section(`\`\`\`${escapeMrkdwn(c)}\`\`\``)),
  ];
  return { text: fitMessageText(`Backup of role ${backup.roleName}`), blocks: capBlocks(blocks) };
}

export function deletionReceipt(input: {
  userId: string;
  roleName: string;
  done: string[];
  notDone: string[];
  error?: string;
}): SlackMessage {
  const ok = !input.error;
  const done = input.done.length
    ? input.done.map((d) => `• ${escapeMrkdwn(truncate(d, 200))}`).join('\n')
    : '• nothing';
  const notDone = input.notDone.map((d) => `• ${escapeMrkdwn(truncate(d, 200))}`).join('\n');
  const head = ok
    ? `🗑️ <@${input.userId}> deleted role ${code(input.roleName, 200)}.`
    : `⚠️ Deleting role ${code(input.roleName, 200)} stopped: ${escapeMrkdwn(truncate(input.error ?? '', 500))}`;
  const body = `${head}\n*Done*\n${done}${notDone ? `\n*Not done*\n${notDone}` : ''}`;
  return {
    text: fitMessageText(ok ? `Role ${input.roleName} deleted` : `Deleting role ${input.roleName} stopped`),
    blocks: capBlocks([section(truncate(body, 2900))]),
  };
}

export function restoreReceipt(input: {
  userId: string;
  roleName: string;
  done: string[];
  notDone: string[];
  error?: string;
}): SlackMessage {
  const ok = !input.error;
  const lines = [
    ok
      ? `♻️ <@${input.userId}> restored role ${code(input.roleName, 200)} from its backup.`
      : `⚠️ Restoring role ${code(input.roleName, 200)} was incomplete: ${escapeMrkdwn(truncate(input.error ?? '', 500))}`,
    ...input.done.map((d) => `• ${escapeMrkdwn(truncate(d, 200))}`),
    ...(input.notDone.length
      ? ['*Not done*', ...input.notDone.map((d) => `• ${escapeMrkdwn(truncate(d, 200))}`)]
      : []),
  ];
  return {
    text: fitMessageText(
      ok ? `Role ${input.roleName} restored` : `Restoring role ${input.roleName} was incomplete`,
    ),
    blocks: capBlocks([section(truncate(lines.join('\n'), 2900))]),
  };
}
