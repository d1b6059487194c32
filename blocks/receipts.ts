// Short messages about what someone did to a finding: thread replies (the record everyone sees)
// and ephemeral notes (what only the person who clicked sees).
import type { Action, AllowedPeople, People } from '../src/slack/permissions.ts';
import { CHANNEL_ID, channelRef, code, escapeMrkdwn, userRef } from './escape.ts';
import { context, messageText, type SlackMessage, section, truncate } from './limits.ts';

/** `mrkdwn` is escaped by the caller; `text` is plain words and raw values, escaped here. */
function note(mrkdwn: string, text: string, extra?: string): SlackMessage {
  return {
    text: messageText(text),
    blocks: extra ? [section(mrkdwn), context([extra])] : [section(mrkdwn)],
  };
}

export function archivedReceipt(input: { userId: string; reason: string; until?: string }): SlackMessage {
  const reason = escapeMrkdwn(truncate(input.reason, 1000));
  const until = input.until
    ? ` It becomes active again on ${escapeMrkdwn(input.until)} unless it is resolved by then.`
    : '';
  return note(
    `🗄️ ${userRef(input.userId)} archived this finding: ${reason}.${until}`,
    `Archived by ${input.userId}: ${truncate(input.reason, 200)}`,
  );
}

export function unarchivedReceipt(input: { userId: string; expired?: string }): SlackMessage {
  return input.expired
    ? note(
        `⏰ The archive expired on ${escapeMrkdwn(input.expired)}; the finding is active again.`,
        `Archive expired on ${input.expired}; the finding is active again`,
      )
    : note(
        `↩️ ${userRef(input.userId)} unarchived this finding; it is active again.`,
        `Unarchived by ${input.userId}`,
      );
}

export function rescanReceipt(input: {
  userId: string;
  outcome: 'requested' | 'resolved' | 'still-active';
}): SlackMessage {
  switch (input.outcome) {
    case 'requested':
      return note(
        `🔄 ${userRef(input.userId)} asked AWS to rescan the resource. The message updates when AWS has re-analyzed it.`,
        `Rescan requested by ${input.userId}`,
      );
    case 'resolved':
      return note('✅ Rescan done: AWS no longer reports this access. Resolved.', 'Rescan done: resolved');
    case 'still-active':
      return note('🔄 Rescan done: the access is still there.', 'Rescan done: still active');
  }
}

/** A click on a finding that has changed since its message was drawn. */
export function staleNote(input: { status: string; action: string }): SlackMessage {
  const status = input.status === 'GONE' ? 'no longer known to AWS' : input.status.toLowerCase();
  return note(
    `ℹ️ Nothing was done: this finding is already ${escapeMrkdwn(status)}. The message now shows its current state.`,
    `Nothing was done: the finding is already ${status}`,
  );
}

export function actionFailedNote(input: { action: string; error: string }): SlackMessage {
  return note(
    `⚠️ Could not ${escapeMrkdwn(input.action)} this finding: ${escapeMrkdwn(truncate(input.error, 500))}`,
    `Could not ${input.action}: ${truncate(input.error, 200)}`,
    'Nothing was changed. The attempt is in the audit log.',
  );
}

/** What each permission lets someone do, in words ("Only admins can delete this role"). */
const ACTION_WORDS: Record<Action, string> = {
  archive: 'archive this finding',
  unarchive: 'unarchive this finding',
  rescan: 'rescan this finding',
  'delete-role': 'delete this role',
  'restore-role': 'restore this role',
  'generate-policy': 'generate a policy',
  scan: 'start a scan',
  snooze: 'snooze this finding',
  recommend: 'ask for a recommendation on this finding',
  read: 'see this finding',
  'block-public-access': 'block public access to this bucket (or undo it)',
  'deactivate-key': 'deactivate this access key (or undo it)',
  'remove-password': 'remove this password (or undo it)',
  'remove-external-access': 'remove external access to this role (or undo it)',
  'delete-key': 'delete this access key',
  'quarantine-role': 'quarantine this role (or say it is still needed)',
  'apply-recommendation': "apply AWS's recommendation to this principal (or undo it)",
  'archive-rule': 'create or delete archive rules',
  'create-analyzer': 'create an analyzer',
};

/** The action was done in AWS, but Slack could not show it (its channel or message is gone). */
export function notShownNote(input: { action: string; problem: string }): SlackMessage {
  return note(
    `✅ Done: ${escapeMrkdwn(input.action)} went through in AWS, but Slack could not show it on the finding's message: ${escapeMrkdwn(truncate(input.problem, 300))}.`,
    `Done in AWS (${input.action}); not shown in Slack: ${truncate(input.problem, 150)}`,
    'The audit log records it.',
  );
}

/** Most people named in one refusal; the rest are counted. */
const MAX_ASK = 20;
const USER_GROUP_ID = /^S[A-Z0-9]{2,}$/;
const groupRef = (id: string) => (USER_GROUP_ID.test(id) ? `<!subteam^${id}>` : escapeMrkdwn(id));

/** `a`, `a and b`, `a, b and c` (or `or`). */
function series(items: readonly string[], word: 'and' | 'or'): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${word} ${items.at(-1)}`;
}

/**
 * A refused action, as sentences: who can do it ("Only admins and members of #payments can archive
 * this finding.") and whom to ask ("Ask <@U1> or anyone in #payments.").
 */
export function refusedNote(input: { action: Action; who: AllowedPeople }): SlackMessage {
  const { who } = input;
  const what = ACTION_WORDS[input.action];
  const has = (p: People) => p.users.length + p.userGroups.length > 0;
  // Each kind of person, as mrkdwn and as plain words for the notification text.
  const kinds: { mrkdwn: string; text: string }[] = [];
  if (has(who.admins)) kinds.push({ mrkdwn: 'admins', text: 'admins' });
  if (has(who.listed)) {
    const listed = `the people named under ${code(`permissions.${input.action}`)}`;
    kinds.push({ mrkdwn: listed, text: `the people named under permissions.${input.action}` });
  }
  if (who.channel !== undefined) {
    const id = CHANNEL_ID.test(who.channel);
    kinds.push({
      mrkdwn: `members of ${channelRef(who.channel)}`,
      text: id ? "members of the finding's channel" : `members of ${who.channel}`,
    });
  }
  if (has(who.ruleOwners)) {
    const owners = "the owners named by this finding's routing rule";
    kinds.push({ mrkdwn: owners, text: owners });
  }
  if (kinds.length === 0) {
    return note(
      `🚫 Nobody can ${what} yet: no admins are set up. Whoever runs access-patrol can name them under ${code('permissions.admins')} in the config.`,
      `Nobody can ${what} yet: no admins are set up.`,
    );
  }

  const people = [
    ...new Set([
      ...who.admins.users.map(userRef),
      ...who.admins.userGroups.map(groupRef),
      ...who.listed.users.map(userRef),
      ...who.listed.userGroups.map(groupRef),
      ...who.ruleOwners.users.map(userRef),
      ...who.ruleOwners.userGroups.map(groupRef),
    ]),
  ];
  const shown = people.slice(0, MAX_ASK);
  if (people.length > MAX_ASK) shown.push(`one of ${people.length - MAX_ASK} more`);
  if (who.channel !== undefined) shown.push(`anyone in ${channelRef(who.channel)}`);
  const only = `Only ${series(
    kinds.map((k) => k.mrkdwn),
    'and',
  )} can ${what}.`;
  return note(
    `🚫 ${only} Ask ${series(shown, 'or')}.`,
    `Only ${series(
      kinds.map((k) => k.text),
      'and',
    )} can ${what}.`,
  );
}

/** A request about a finding the bot does not know (forgotten after it was resolved, or forged). */
export function unknownFindingNote(findingId: string): SlackMessage {
  return note(
    `🚫 Nothing was done: access-patrol knows no finding ${code(findingId, 80)}. It may have been resolved and forgotten, or the button or form was not made by this bot.`,
    `Nothing was done: access-patrol knows no finding ${truncate(findingId, 80)}`,
  );
}

/** The request was accepted and queued. */
export function acceptedNote(text: string): SlackMessage {
  return note(`⏳ ${escapeMrkdwn(text)}`, text);
}

/** The same request is already under way (a second click, or someone else asked first). */
export function alreadyRequestedNote(input: { userId?: string; at?: string }): SlackMessage {
  const who = input.userId ? `${userRef(input.userId)} asked` : 'It was asked';
  const when = input.at ? ` at ${input.at.slice(11, 16)} UTC` : '';
  return note(
    `⏳ Already under way: ${who} for this${escapeMrkdwn(when)}. Nothing more to do; the result appears in the thread.`,
    'Already under way; nothing more to do.',
  );
}

/** Something the person asked for could not even be queued (Redis or Slack trouble). */
export function unavailableNote(what: string): SlackMessage {
  return note(
    `⚠️ ${escapeMrkdwn(what)} Nothing was changed; please try again in a minute.`,
    `${what} Nothing was changed.`,
  );
}

/** A feature this version does not have yet. */
export function notAvailableNote(what: string): SlackMessage {
  return note(
    `ℹ️ ${escapeMrkdwn(what)} is not available in this version of access-patrol. Nothing was changed.`,
    `${what} is not available yet`,
  );
}

/** Aging reminders paused (or the pause renewed) from Slack. `until` is ISO; shown as its UTC day. */
export function snoozedReceipt(input: {
  userId: string;
  days: number;
  until: string;
  reason: string;
}): SlackMessage {
  const day = input.until.slice(0, 10);
  const reason = escapeMrkdwn(truncate(input.reason, 1000));
  const span = input.days === 1 ? '1 day' : `${input.days} days`;
  return note(
    `💤 ${userRef(input.userId)} snoozed reminders for ${span}, until ${escapeMrkdwn(day)}: ${reason}`,
    `Snoozed by ${input.userId} until ${day}: ${truncate(input.reason, 200)}`,
    'The finding stays active; reminders resume when the snooze ends.',
  );
}

export function unsnoozedReceipt(input: { userId: string; ended?: string }): SlackMessage {
  if (input.ended) {
    const day = input.ended.slice(0, 10);
    return note(
      `⏰ The snooze ended on ${escapeMrkdwn(day)}; aging reminders resume.`,
      `Snooze ended on ${day}; reminders resume`,
    );
  }
  return note(
    `⏰ ${userRef(input.userId)} ended the snooze; aging reminders resume.`,
    `Snooze ended by ${input.userId}`,
  );
}

/** A button that would change a finding AWS keeps read-only (its analyzer is service-linked). */
export function readOnlyNote(input: { action: string; managedBy: string }): SlackMessage {
  return note(
    `ℹ️ This finding comes from a service-linked analyzer managed by ${code(input.managedBy, 120)}: AWS keeps its findings read-only, so the bot cannot ${escapeMrkdwn(input.action)} it. Nothing was changed.`,
    `This finding is read-only (managed by ${input.managedBy}); nothing was changed.`,
  );
}
