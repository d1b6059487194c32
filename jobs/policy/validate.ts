// policy-validate: `/access validate` checks a pasted policy document with ValidatePolicy (and
// CheckNoPublicAccess for a chosen resource type) and answers the person ephemerally.
import { type Job, UnrecoverableError } from 'bullmq';
import { policyFailedNote, validationReply } from '../../blocks/policy.ts';
import {
  type PolicyFinding,
  type PublicAccessResourceType,
  VALIDATE_RESOURCE_TYPES,
} from '../../src/aws/policy.ts';
import { generationRegion } from '../../src/config/policy-generation.ts';
import type { PolicyValidateData } from '../../src/queue/index.ts';
import type { JobDeps } from '../deps.ts';
import { failureMessage, isFinalFailure } from '../retry.ts';
import { tell } from '../tell.ts';

export async function validatePolicyJob(
  deps: JobDeps,
  job: Job<PolicyValidateData>,
): Promise<{ findings: number }> {
  const d = job.data;
  const region = generationRegion(deps.config);
  try {
    // A resource policy for a type ValidatePolicy knows also gets that type's own checks.
    const resourceChecks =
      d.policyType === 'RESOURCE_POLICY' &&
      (VALIDATE_RESOURCE_TYPES as readonly string[]).includes(d.resourceType ?? '');
    const findings = await deps.policy.validatePolicy({
      region,
      document: d.document,
      policyType: d.policyType,
      ...(resourceChecks ? { validatePolicyResourceType: d.resourceType } : {}),
    });
    const publicAccess = d.resourceType
      ? {
          resourceType: d.resourceType,
          result: await deps.policy.checkNoPublicAccess({
            region,
            document: d.document,
            resourceType: d.resourceType as PublicAccessResourceType,
          }),
        }
      : undefined;
    await tell(
      deps,
      d,
      validationReply({ policyType: d.policyType, findings, ...(publicAccess ? { publicAccess } : {}) }),
    );
    const count = (t: PolicyFinding['findingType']) => findings.filter((f) => f.findingType === t).length;
    await deps.audit.record({
      actor: d.userId,
      action: 'validate-policy',
      outcome: 'succeeded',
      region,
      requestId: job.id,
      detail: `${d.policyType}: ${count('ERROR')} errors, ${count('SECURITY_WARNING')} security warnings, ${count('WARNING')} warnings, ${count('SUGGESTION')} suggestions${publicAccess ? `; public access ${publicAccess.result.result} as ${publicAccess.resourceType}` : ''}`,
    });
    return { findings: findings.length };
  } catch (err) {
    const final = isFinalFailure(err, job, { nonAwsIsFinal: true });
    if (!final) throw err;
    const message = failureMessage(err);
    await deps.audit.record({
      actor: d.userId,
      action: 'validate-policy',
      outcome: 'failed',
      region,
      requestId: job.id,
      error: message,
    });
    await tell(deps, d, policyFailedNote('validate the policy', message));
    throw new UnrecoverableError(message);
  }
}
