// One Access Analyzer request in a region, its failures mapped to AwsError as every call's are.
import type { AccessAnalyzerClient } from '@aws-sdk/client-accessanalyzer';
import type { AwsClients } from './clients.ts';
import { call } from './paging.ts';

/** `operation` is the API's name (`UpdateFindings`); the error names it `AccessAnalyzer.UpdateFindings`. */
export type AnalyzerCall = <T>(
  region: string,
  operation: string,
  run: (client: AccessAnalyzerClient) => Promise<T>,
) => Promise<T>;

export function analyzerCall(clients: Pick<AwsClients, 'accessAnalyzer'>): AnalyzerCall {
  return (region, operation, run) =>
    call(`AccessAnalyzer.${operation}`, () => run(clients.accessAnalyzer(region)));
}
