// What the start and every poll of a generation share: the request the step is about, read again
// (a step of a request that ended, or of a bot no longer configured for generation, does nothing),
// and the progress note a running step keeps current.
import type { Job } from 'bullmq';
import { type GenerationSubject, generationProgress } from '../../blocks/policy.ts';
import { generationRegion } from '../../src/config/policy-generation.ts';
import type { AppConfig } from '../../src/config/schema.ts';
import type { PolicyStepData } from '../../src/queue/index.ts';
import type { PolicyRequestState } from '../../src/store/policy-requests.ts';
import type { JobDeps } from '../deps.ts';
import { onceKey } from '../post-once.ts';
import { showProgress, subjectOf } from './messages.ts';

export interface PolicyStep {
  cfg: NonNullable<AppConfig['policyGeneration']>;
  req: PolicyRequestState;
  region: string;
  subject: GenerationSubject;
}

/** The open request this step is about, or null when there is nothing to do (the step is stale). */
export async function openStep(deps: JobDeps, job: Job<PolicyStepData>): Promise<PolicyStep | null> {
  const cfg = deps.config.policyGeneration;
  const req = await deps.policyRequests.get(job.data.requestId);
  if (!cfg || !req || req.status === 'done') return null;
  return { cfg, req, region: generationRegion(deps.config), subject: subjectOf(req) };
}

/** Shows how long the generation has run and when it is checked next; a failed note does not fail the step. */
export async function noteProgress(
  deps: JobDeps,
  job: Job<PolicyStepData>,
  { req, subject }: PolicyStep,
  progress: Parameters<typeof generationProgress>[1],
): Promise<void> {
  await showProgress(deps, req, generationProgress(subject, progress), onceKey(job, 'progress')).catch(
    (err: unknown) => deps.logger.warn({ err: (err as Error).message }, 'progress note failed'),
  );
}
