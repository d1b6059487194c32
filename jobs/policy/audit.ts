// The audit entries of a policy generation request: requested, then succeeded or failed.
import { generationRegion } from '../../src/config/policy-generation.ts';
import type { PolicyRequestData } from '../../src/queue/index.ts';
import type { JobDeps } from '../deps.ts';

export async function auditGeneration(
  deps: JobDeps,
  req: PolicyRequestData,
  outcome: 'requested' | 'succeeded' | 'failed',
  extra: { detail?: string; error?: string; requestId?: string } = {},
): Promise<void> {
  await deps.audit.record({
    actor: req.userId,
    action: 'generate-policy',
    outcome,
    resourceArn: req.principalArn,
    accountId: req.accountId,
    region: generationRegion(deps.config),
    requestId: extra.requestId ?? req.requestId,
    ...(req.findingId ? { findingId: req.findingId } : {}),
    ...(extra.detail ? { detail: extra.detail } : {}),
    ...(extra.error ? { error: extra.error } : {}),
  });
}
