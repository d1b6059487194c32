// Aging messages: the reminder in an overdue finding's thread, and the one escalation message.
import { channelRef, code, escapeMrkdwn, link } from './escape.ts';
import { context, messageText, type SlackMessage, section } from './limits.ts';

const days = (n: number) => `${n} ${n === 1 ? 'day' : 'days'}`;

export interface AgingFacts {
  ageDays: number;
  slaDays: number;
  overdueDays: number;
}

/** "open 12 days, 5 days over its 7-day SLA" */
export function agingPhrase(a: AgingFacts): string {
  return `open ${days(a.ageDays)}, ${days(a.overdueDays)} over its ${a.slaDays}-day SLA`;
}

/** `<@U…> <!subteam^S…> ` for ids the config schema has validated; empty without owners. */
function mentions(owners: { users: string[]; userGroups: string[] } | undefined): string {
  if (!owners) return '';
  const valid = (id: string) => /^[A-Z0-9]+$/.test(id);
  const tags = [
    ...owners.users.filter(valid).map((u) => `<@${u}>`),
    ...owners.userGroups.filter(valid).map((g) => `<!subteam^${g}>`),
  ];
  return tags.length ? `${tags.join(' ')} ` : '';
}

export function agingReminder(
  input: AgingFacts & {
    /** 1 for the first reminder. */
    reminder: number;
    escalateAfter: number;
    /** Set on the reminder that escalates. */
    escalatedTo?: string;
    /** Owners of the routing rule (validated Slack ids), mentioned so the reminder reaches them. */
    owners?: { users: string[]; userGroups: string[] };
  },
): SlackMessage {
  const phrase = agingPhrase(input);
  const left = input.escalateAfter - input.reminder;
  const extra = input.escalatedTo
    ? `Escalated to ${channelRef(input.escalatedTo)}.`
    : left > 0
      ? `Reminder ${input.reminder}; escalates after ${input.escalateAfter} reminders.`
      : `Reminder ${input.reminder}; already escalated.`;
  return {
    text: messageText(`Reminder: this finding is ${phrase}`),
    blocks: [
      section(
        `⏰ ${mentions(input.owners)}This finding is ${escapeMrkdwn(phrase)}. Please fix it, or archive it with a reason.`,
      ),
      context([extra]),
    ],
  };
}

export function agingEscalation(
  input: AgingFacts & {
    findingId: string;
    findingType: string;
    resourceArn: string;
    accountId: string;
    region: string;
    severity: string;
    reminders: number;
    /** Where the finding's message is. */
    channel?: string;
    /** Link to the finding's message, when the workspace URL is configured. */
    permalink?: string;
  },
): SlackMessage {
  const phrase = agingPhrase(input);
  const where = input.permalink
    ? link(input.permalink, 'the finding')
    : input.channel
      ? `the finding in ${channelRef(input.channel)}`
      : 'the finding';
  return {
    text: messageText(`Escalation: ${input.findingType} finding on ${input.resourceArn} is ${phrase}`),
    blocks: [
      section(
        `🚨 *Escalation*: a ${escapeMrkdwn(input.severity)} ${escapeMrkdwn(input.findingType)} finding on ` +
          `${code(input.resourceArn, 1000)} (account ${code(input.accountId)}, ${code(input.region)}) is ` +
          `${escapeMrkdwn(phrase)}, after ${input.reminders} reminders. See ${where}.`,
      ),
      context([`Finding ${code(input.findingId, 200)}`]),
    ],
  };
}
