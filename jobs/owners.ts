// `/access owners <arn>`: which routing rule sends this resource's findings where, and why.
// A worker job because it may read the resource's tags from AWS (listeners never call AWS).
import type { Job } from 'bullmq';
import { ownersReply } from '../blocks/command-replies.ts';
import { explainOwners } from '../src/findings/owners.ts';
import type { OwnersData } from '../src/queue/index.ts';
import type { JobDeps } from './deps.ts';

export async function explainOwnersJob(deps: JobDeps, job: Job<OwnersData>): Promise<string> {
  const { arn, accountId, userId, replyChannel } = job.data;
  let result: Awaited<ReturnType<typeof explainOwners>>;
  try {
    result = await explainOwners(arn, deps.config, deps.tags, accountId);
  } catch (err) {
    result = { ok: false, error: `could not explain ${arn}: ${(err as Error).message}` };
  }
  await deps.slack.ephemeral(replyChannel, userId, ownersReply(result));
  return result.ok ? result.text : result.error;
}
