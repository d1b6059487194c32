// Least-privilege policy generation from CloudTrail: start, poll, cancel. AWS runs one generation at
// a time per account and counts them against a daily quota (canceled ones too).
import {
  CancelPolicyGenerationCommand,
  GetGeneratedPolicyCommand,
  StartPolicyGenerationCommand,
} from '@aws-sdk/client-accessanalyzer';
import { AwsError } from '../errors.ts';
import { call } from '../paging.ts';
import { accessAnalyzerFor, type PolicyClients, policyError } from './client.ts';
import type { GeneratedPolicyResult, GenerationStatus, StartGenerationInput } from './types.ts';

/** StartPolicyGeneration; returns the AWS job id. */
export async function startGeneration(clients: PolicyClients, input: StartGenerationInput): Promise<string> {
  const operation = 'AccessAnalyzer.StartPolicyGeneration';
  const client = accessAnalyzerFor(clients, input.region, input.accountId);
  const out = await call(policyError(operation, input.accountId), () =>
    client.send(
      new StartPolicyGenerationCommand({
        policyGenerationDetails: { principalArn: input.principalArn },
        cloudTrailDetails: {
          trails: input.trails.map((t) => ({
            cloudTrailArn: t.cloudTrailArn,
            ...(t.regions ? { regions: t.regions } : {}),
            ...(t.allRegions !== undefined ? { allRegions: t.allRegions } : {}),
          })),
          accessRole: input.accessRoleArn,
          startTime: input.startTime,
          ...(input.endTime ? { endTime: input.endTime } : {}),
        },
        clientToken: input.clientToken,
      }),
    ),
  );
  if (!out.jobId) throw new AwsError('unavailable', operation, 'EmptyResponse', 'no job id');
  return out.jobId;
}

export async function getGeneratedPolicy(
  clients: PolicyClients,
  accountId: string,
  region: string,
  jobId: string,
): Promise<GeneratedPolicyResult> {
  const client = accessAnalyzerFor(clients, region, accountId);
  const out = await call(policyError('AccessAnalyzer.GetGeneratedPolicy', accountId), () =>
    client.send(new GetGeneratedPolicyCommand({ jobId })),
  );
  const d = out.jobDetails;
  const result: GeneratedPolicyResult = {
    status: (d?.status ?? 'IN_PROGRESS') as GenerationStatus,
    policies: (out.generatedPolicyResult?.generatedPolicies ?? [])
      .map((p) => p.policy ?? '')
      .filter((p) => p !== ''),
  };
  if (d?.startedOn) result.startedOn = d.startedOn;
  if (d?.completedOn) result.completedOn = d.completedOn;
  if (d?.jobError) result.error = { code: d.jobError.code ?? 'UNKNOWN', message: d.jobError.message ?? '' };
  const complete = out.generatedPolicyResult?.properties?.isComplete;
  if (complete !== undefined) result.isComplete = complete;
  return result;
}

export async function cancelGeneration(
  clients: PolicyClients,
  accountId: string,
  region: string,
  jobId: string,
): Promise<void> {
  const client = accessAnalyzerFor(clients, region, accountId);
  await call(policyError('AccessAnalyzer.CancelPolicyGeneration', accountId), () =>
    client.send(new CancelPolicyGenerationCommand({ jobId })),
  );
}
