// Policy checks: ValidatePolicy (every page of findings), CheckNoNewAccess and CheckNoPublicAccess.
import {
  CheckNoNewAccessCommand,
  CheckNoPublicAccessCommand,
  paginateValidatePolicy,
  type ValidatePolicyFinding,
} from '@aws-sdk/client-accessanalyzer';
import { call, collect } from '../paging.ts';
import { accessAnalyzerFor, type PolicyClients, policyError } from './client.ts';
import type { CheckResult, PolicyFinding, PolicyGateway } from './types.ts';

export async function validatePolicy(
  clients: PolicyClients,
  input: Parameters<PolicyGateway['validatePolicy']>[0],
): Promise<PolicyFinding[]> {
  const client = accessAnalyzerFor(clients, input.region, input.accountId);
  const findings = await collect({
    operation: policyError('AccessAnalyzer.ValidatePolicy', input.accountId),
    paginate: () =>
      paginateValidatePolicy(
        { client },
        {
          policyDocument: input.document,
          policyType: input.policyType,
          ...(input.validatePolicyResourceType
            ? { validatePolicyResourceType: input.validatePolicyResourceType as never }
            : {}),
        },
      ),
    items: (out) => out.findings,
  });
  return findings.map(toFinding);
}

export async function checkNoNewAccess(
  clients: PolicyClients,
  input: Parameters<PolicyGateway['checkNoNewAccess']>[0],
): Promise<CheckResult> {
  const client = accessAnalyzerFor(clients, input.region, input.accountId);
  const out = await call(policyError('AccessAnalyzer.CheckNoNewAccess', input.accountId), () =>
    client.send(
      new CheckNoNewAccessCommand({
        newPolicyDocument: input.newDocument,
        existingPolicyDocument: input.existingDocument,
        policyType: input.policyType,
      }),
    ),
  );
  return checkResult(out);
}

export async function checkNoPublicAccess(
  clients: PolicyClients,
  input: Parameters<PolicyGateway['checkNoPublicAccess']>[0],
): Promise<CheckResult> {
  const client = accessAnalyzerFor(clients, input.region, input.accountId);
  const out = await call(policyError('AccessAnalyzer.CheckNoPublicAccess', input.accountId), () =>
    client.send(
      new CheckNoPublicAccessCommand({
        policyDocument: input.document,
        resourceType: input.resourceType as never,
      }),
    ),
  );
  return checkResult(out);
}

function checkResult(out: {
  result?: string;
  message?: string;
  reasons?: { description?: string; statementIndex?: number; statementId?: string }[];
}): CheckResult {
  return {
    result: out.result === 'PASS' ? 'PASS' : 'FAIL',
    message: out.message ?? '',
    reasons: (out.reasons ?? []).map((r) => ({
      description: r.description ?? '',
      ...(r.statementIndex !== undefined ? { statementIndex: r.statementIndex } : {}),
      ...(r.statementId ? { statementId: r.statementId } : {}),
    })),
  };
}

function toFinding(f: ValidatePolicyFinding): PolicyFinding {
  return {
    findingType: (f.findingType ?? 'WARNING') as PolicyFinding['findingType'],
    issueCode: f.issueCode ?? '',
    details: f.findingDetails ?? '',
    learnMoreLink: f.learnMoreLink ?? '',
    locations: f.locations?.length ?? 0,
  };
}
