// policy-request: a person asked for a least-privilege policy (the Generate policy modal or
// `/access generate-policy`). The request joins the tail of its account's FIFO, once; the person is
// told how many are ahead; if the account's slot is free, the head gets it and starts.
import type { Job } from 'bullmq';
import { generationQueuedNote, notConfiguredNote } from '../../blocks/policy.ts';
import { missingConfig } from '../../src/config/policy-generation.ts';
import type { PolicyRequestData } from '../../src/queue/index.ts';
import type { PolicyRequestState } from '../../src/store/policy-requests.ts';
import type { JobDeps } from '../deps.ts';
import { tell } from '../tell.ts';
import { advanceAccount } from './account-queue.ts';
import { auditGeneration } from './audit.ts';

export async function requestPolicyGeneration(
  deps: JobDeps,
  job: Job<PolicyRequestData>,
): Promise<{ outcome: 'queued' | 'refused'; ahead?: number }> {
  const d = job.data;
  const missing = missingConfig(deps.config, d.trailArn);
  if (missing) {
    await tell(deps, d, notConfiguredNote(missing));
    await auditGeneration(deps, d, 'failed', { error: missing, requestId: job.id });
    return { outcome: 'refused' };
  }
  let anchor: PolicyRequestState['anchor'];
  if (d.findingId) {
    const state = await deps.store.get(d.findingId);
    if (state?.channel && state.ts) anchor = { channel: state.channel, threadTs: state.threadTs ?? state.ts };
  }
  anchor ??= d.replyChannel ? { channel: d.replyChannel } : undefined;
  const state: PolicyRequestState = { ...d, status: 'queued', ...(anchor ? { anchor } : {}) };
  const position = await deps.policyRequests.enqueue(state);
  if (job.attemptsMade === 0) {
    await auditGeneration(deps, d, 'requested', {
      detail: `${d.days} days, trail ${d.trailArn ?? 'configured'}, regions ${d.regions === 'all' ? 'all' : d.regions.join(',')}`,
    });
  }
  const holder = await deps.policyRequests.holder(d.accountId);
  const ahead = Math.max(0, position);
  if (ahead > 0 || (holder !== null && holder !== d.requestId)) {
    await tell(
      deps,
      d,
      generationQueuedNote({
        ahead: Math.max(ahead, 1),
        accountId: d.accountId,
        principalArn: d.principalArn,
      }),
    );
  }
  await advanceAccount(deps, d.accountId);
  return { outcome: 'queued', ahead };
}
