// Where a policy generation request's messages go, shared by its start and its polls: the progress
// note (updated in place) and the results, in the finding's thread or the thread of the first post in
// the channel where it was asked, or a DM when the bot cannot post there.
import type { GenerationSubject } from '../../blocks/policy.ts';
import type { PolicyRequestData } from '../../src/queue/index.ts';
import { CHANNEL_UNUSABLE_ERRORS, type OutgoingMessage, SlackError } from '../../src/slack/client.ts';
import type { PolicyRequestState } from '../../src/store/policy-requests.ts';
import type { JobDeps } from '../deps.ts';
import { postOnce } from '../post-once.ts';

/** Who and what the messages are about. */
export function subjectOf(req: PolicyRequestData): GenerationSubject {
  return { principalArn: req.principalArn, accountId: req.accountId, days: req.days, userId: req.userId };
}

/**
 * Posts into the request's anchor: the finding's thread, or the channel where it was asked (the first
 * post becomes the thread of the rest). A channel the bot cannot post in falls back to a DM.
 * Posted at most once per `once` key (jobs/post-once.ts): a retry of the job does not repeat it, and
 * learns where the earlier attempt posted it. Returns the message ts, when known.
 */
export async function postToAnchor(
  deps: JobDeps,
  req: PolicyRequestState,
  msg: OutgoingMessage,
  once: string,
): Promise<string | undefined> {
  const anchor = req.anchor ?? { channel: req.userId };
  try {
    const posted = await postOnce(deps, once, (marker) =>
      deps.slack.post(anchor.channel, msg, {
        ...(anchor.threadTs ? { threadTs: anchor.threadTs } : {}),
        ...marker,
      }),
    );
    if (!posted) return undefined;
    if (!anchor.threadTs) req.anchor = { channel: posted.channel, threadTs: posted.ts };
    return posted.ts;
  } catch (err) {
    if (
      !(err instanceof SlackError && CHANNEL_UNUSABLE_ERRORS.has(err.code)) ||
      anchor.channel === req.userId
    ) {
      throw err;
    }
    deps.logger.warn(
      { channel: anchor.channel, code: err.code },
      'cannot post the policy result there; sending a DM',
    );
    req.anchor = { channel: req.userId };
    return postToAnchor(deps, req, msg, once);
  }
}

/** Updates the progress note in place, or posts it (once per `once` key) when there is none yet. */
export async function showProgress(
  deps: JobDeps,
  req: PolicyRequestState,
  msg: OutgoingMessage,
  once: string,
): Promise<void> {
  if (req.progressTs && req.anchor) {
    await deps.slack.update(req.anchor.channel, req.progressTs, msg);
    return;
  }
  const ts = await postToAnchor(deps, req, msg, once);
  if (ts) req.progressTs = ts;
}
