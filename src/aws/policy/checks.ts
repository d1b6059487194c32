// Policy checks: ValidatePolicy (every page of findings), CheckNoNewAccess and CheckNoPublicAccess.
import {
  type AccessAnalyzerClient,
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

export function checkNoNewAccess(
  clients: PolicyClients,
  input: Parameters<PolicyGateway['checkNoNewAccess']>[0],
): Promise<CheckResult> {
  return check(clients, input, 'CheckNoNewAccess', (client) =>
    client.send(
      new CheckNoNewAccessCommand({
        newPolicyDocument: input.newDocument,
        existingPolicyDocument: input.existingDocument,
        policyType: input.policyType,
      }),
    ),
  );
}

export function checkNoPublicAccess(
  clients: PolicyClients,
  input: Parameters<PolicyGateway['checkNoPublicAccess']>[0],
): Promise<CheckResult> {
  return check(clients, input, 'CheckNoPublicAccess', (client) =>
    client.send(
      new CheckNoPublicAccessCommand({
        policyDocument: input.document,
        resourceType: input.resourceType as never,
      }),
    ),
  );
}

type CheckOutput = {
  result?: string;
  message?: string;
  reasons?: { description?: string; statementIndex?: number; statementId?: string }[];
};

/** One CheckNo* call in the principal's account. */
async function check(
  clients: PolicyClients,
  where: { region: string; accountId?: string },
  operation: string,
  send: (client: AccessAnalyzerClient) => Promise<CheckOutput>,
): Promise<CheckResult> {
  const client = accessAnalyzerFor(clients, where.region, where.accountId);
  const out = await call(policyError(`AccessAnalyzer.${operation}`, where.accountId), () => send(client));
  return checkResult(out);
}

function checkResult(out: CheckOutput): CheckResult {
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
