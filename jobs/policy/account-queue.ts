// Whose turn it is in an account: AWS runs one policy generation at a time per account, so requests
// wait in the account's FIFO (src/store/policy-requests.ts) and its head holds the account's slot.
// A request that ends hands the slot to the next one; the holder's next step is a queued job.
import { pollDelayMs, slotTtlMs } from '../../src/config/policy-generation.ts';
import { enqueue, JOBS } from '../../src/queue/index.ts';
import type { FinishOutcome, PolicyRequestState } from '../../src/store/policy-requests.ts';
import type { JobDeps } from '../deps.ts';

/** Claims the account's slot for the head of its FIFO, if free, and queues that request's next step. */
export async function advanceAccount(deps: JobDeps, accountId: string): Promise<string | null> {
  const cfg = deps.config.policyGeneration;
  if (!cfg) return null;
  const head = await deps.policyRequests.claim(accountId, slotTtlMs(cfg));
  return head ? takeTurn(deps, accountId, head) : null;
}

/** `head` was just given the slot: queue its start, or its next poll when it is already running. */
async function takeTurn(deps: JobDeps, accountId: string, head: string): Promise<string | null> {
  const req = await deps.policyRequests.get(head);
  if (!req || req.status === 'done') {
    // Expired or ended without its release: drop it and try the next one.
    await deps.policyRequests.release(accountId, head);
    return advanceAccount(deps, accountId);
  }
  if (req.status === 'running' && req.awsJobId) {
    // Its slot expired while the generation ran (its poll jobs were lost): resume polling.
    await schedulePoll(deps, req, req.polls ?? 0);
    return head;
  }
  // The same id as a pending conflict retry, so a re-claim never starts twice.
  const attempt = req.startAttempt ?? 0;
  await enqueue(deps.queues, JOBS.policyStart, {
    requestId: head,
    accountId,
    attempt,
    userId: req.userId,
    requestTs: req.requestTs,
  });
  return head;
}

/**
 * The request ended (any outcome): mark it done, free its slot and give it to the next request in the
 * account, in one store step, then queue that request's start.
 */
export async function finish(deps: JobDeps, req: PolicyRequestState): Promise<FinishOutcome> {
  req.status = 'done';
  const outcome = await deps.policyRequests.finish(req, slotTtlMs(deps.config.policyGeneration!));
  if (outcome.next) await takeTurn(deps, req.accountId, outcome.next);
  return outcome;
}

/** Poll number `attempt` of a running generation, as a delayed job (doubling delays, capped). */
export async function schedulePoll(deps: JobDeps, req: PolicyRequestState, attempt: number): Promise<void> {
  const cfg = deps.config.policyGeneration!;
  await enqueue(
    deps.queues,
    JOBS.policyPoll,
    {
      requestId: req.requestId,
      accountId: req.accountId,
      attempt,
      userId: req.userId,
      requestTs: req.requestTs,
    },
    { delay: pollDelayMs(cfg, attempt) },
  );
}
