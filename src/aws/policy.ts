// Access Analyzer policy tools, which belong to no analyzer: least-privilege policy generation from
// CloudTrail (policy/generation.ts), ValidatePolicy, CheckNoNewAccess and CheckNoPublicAccess
// (policy/checks.ts), plus what an IAM role or user holds today (policy/principal-policies.ts). Every
// call runs in the principal's account (through the member role, as other gateways do) and in one region.
import type { IamGateway } from './iam.ts';
import { checkNoNewAccess, checkNoPublicAccess, validatePolicy } from './policy/checks.ts';
import type { PolicyClients } from './policy/client.ts';
import { cancelGeneration, getGeneratedPolicy, startGeneration } from './policy/generation.ts';
import { principalPolicies } from './policy/principal-policies.ts';
import type { PolicyGateway } from './policy/types.ts';

export { parsePrincipalArn } from './policy/principal-policies.ts';
export {
  type CheckResult,
  type GeneratedPolicyResult,
  type GenerationStatus,
  type PolicyFinding,
  type PolicyGateway,
  type PolicyType,
  type PrincipalPolicies,
  PUBLIC_ACCESS_RESOURCE_TYPES,
  type PublicAccessResourceType,
  type StartGenerationInput,
  type TrailSpec,
  VALIDATE_RESOURCE_TYPES,
} from './policy/types.ts';

export function createPolicyGateway(
  clients: PolicyClients,
  iam: Pick<IamGateway, 'inspectRole'>,
): PolicyGateway {
  return {
    startGeneration: (input) => startGeneration(clients, input),
    getGeneratedPolicy: (accountId, region, jobId) => getGeneratedPolicy(clients, accountId, region, jobId),
    cancelGeneration: (accountId, region, jobId) => cancelGeneration(clients, accountId, region, jobId),
    validatePolicy: (input) => validatePolicy(clients, input),
    checkNoNewAccess: (input) => checkNoNewAccess(clients, input),
    checkNoPublicAccess: (input) => checkNoPublicAccess(clients, input),
    principalPolicies: (principalArn) => principalPolicies(clients, iam, principalArn),
  };
}
