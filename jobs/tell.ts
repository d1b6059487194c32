// The ephemeral answer to the person who asked for a job, wherever they asked from.
import type { OutgoingMessage } from '../src/slack/client.ts';
import type { JobDeps } from './deps.ts';

/**
 * Tells the person who asked; best effort (Slack does not guarantee ephemeral delivery). Nothing
 * for the bot's own follow-ups (`system`) or a request with no channel to answer in.
 */
export async function tell(
  deps: JobDeps,
  to: { userId: string; replyChannel?: string },
  msg: OutgoingMessage,
): Promise<void> {
  if (!to.replyChannel || to.userId === 'system') return;
  await deps.slack.ephemeral(to.replyChannel, to.userId, msg).catch((err: unknown) => {
    deps.logger.warn({ err: (err as Error).message, user: to.userId }, 'ephemeral reply failed');
  });
}
