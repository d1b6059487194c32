// Rescan an external-access finding: AWS re-analyzes the resource asynchronously, so a delayed
// rescan-check reads the finding again a minute later and says what came of it.
import { type Job, UnrecoverableError } from 'bullmq';
import { rescanReceipt } from '../../blocks/receipts.ts';
import { type ActionRequest, enqueue, JOBS } from '../../src/queue/index.ts';
import type { JobDeps } from '../deps.ts';
import { redraw } from '../finding-message.ts';
import { type ActionResult, runFindingAction } from './frame.ts';

/** How long after StartResourceScan the finding is read again (AWS analyzes asynchronously). */
export const RESCAN_CHECK_DELAY_MS = 60_000;

export function rescanAction(deps: JobDeps, job: Job<ActionRequest>): Promise<ActionResult> {
  return runFindingAction(deps, job, {
    expected: 'ACTIVE',
    async step({ data, finding, analyzer, reply, done, succeeded }) {
      if (finding.findingType !== 'ExternalAccess') {
        throw new UnrecoverableError('only external access findings can be rescanned');
      }
      await deps.analyzers.startResourceScan(analyzer, finding.resourceArn, finding.accountId);
      done();
      await reply(rescanReceipt({ userId: data.userId, outcome: 'requested' }));
      await enqueue(deps.queues, JOBS.rescanCheck, { ...data }, { delay: RESCAN_CHECK_DELAY_MS });
      return succeeded('ACTIVE');
    },
  });
}

/** The delayed read after a rescan: resolved meanwhile, or still ACTIVE. */
export function rescanCheck(deps: JobDeps, job: Job<ActionRequest>): Promise<ActionResult> {
  return runFindingAction(deps, job, {
    expected: 'ACTIVE',
    async unexpected({ data, finding, state, shown, reply }) {
      const status = finding?.status ?? 'RESOLVED';
      if (finding) await shown(() => redraw(deps, finding, state, { status, at: finding.updatedAt }));
      await reply(rescanReceipt({ userId: data.userId, outcome: 'resolved' }));
      return { outcome: 'succeeded', status };
    },
    async step({ data, finding, state, shown, reply }) {
      await shown(() => redraw(deps, finding, state, { status: 'ACTIVE' }));
      await reply(rescanReceipt({ userId: data.userId, outcome: 'still-active' }));
      return { outcome: 'succeeded', status: 'ACTIVE' };
    },
  });
}
