// What a generated policy is checked against before it is shown: ValidatePolicy, the actions the
// principal holds today (attached default versions + inline) and CheckNoNewAccess against them.
import type { CheckResult, GeneratedPolicyResult, PolicyFinding } from '../../src/aws/policy.ts';
import { generationRegion } from '../../src/config/policy-generation.ts';
import { type ActionComparison, combinePolicies, compareActions } from '../../src/findings/policy-actions.ts';
import type { PolicyRequestState } from '../../src/store/policy-requests.ts';
import type { JobDeps } from '../deps.ts';

export interface GenerationReport {
  comparison: ActionComparison | null;
  /** Attached policies whose documents could not be read (left out of the comparison). */
  unreadable: string[];
  noNewAccess: CheckResult[] | null;
  findings: PolicyFinding[];
}

export async function buildReport(
  deps: JobDeps,
  req: PolicyRequestState,
  result: GeneratedPolicyResult,
): Promise<GenerationReport> {
  const region = generationRegion(deps.config);
  const findings: PolicyFinding[] = [];
  for (const document of result.policies) {
    findings.push(
      ...(await deps.policy.validatePolicy({
        accountId: req.accountId,
        region,
        document,
        policyType: 'IDENTITY_POLICY',
      })),
    );
  }
  const held = await deps.policy.principalPolicies(req.principalArn).catch((err: unknown) => {
    deps.logger.warn(
      { err: (err as Error).message, principal: req.principalArn },
      'cannot read current policies',
    );
    return null;
  });
  if (!held) return { comparison: null, unreadable: [], noNewAccess: null, findings };
  const current = [
    ...held.attached.filter((a) => a.document !== undefined).map((a) => a.document!),
    ...held.inline.map((p) => p.document),
  ];
  const unreadable = held.attached.filter((a) => a.document === undefined).map((a) => a.arn);
  const existing = combinePolicies(current);
  const noNewAccess: CheckResult[] = [];
  for (const document of result.policies) {
    noNewAccess.push(
      await deps.policy.checkNoNewAccess({
        accountId: req.accountId,
        region,
        newDocument: document,
        existingDocument: existing,
        policyType: 'IDENTITY_POLICY',
      }),
    );
  }
  return { comparison: compareActions(result.policies, current), unreadable, noNewAccess, findings };
}
