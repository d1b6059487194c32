// Access Analyzer reads: analyzers, ACTIVE finding pages (streamed), one finding with all its detail pages.
import {
  GenerateFindingRecommendationCommand,
  GetFindingRecommendationCommand,
  type GetFindingRecommendationCommandOutput,
  GetFindingV2Command,
  type GetFindingV2CommandOutput,
  ListAnalyzersCommand,
  ListFindingsV2Command,
  StartResourceScanCommand,
  UpdateFindingsCommand,
} from '@aws-sdk/client-accessanalyzer';
import { type AnalyzerInfo, analyzerKindOf, type Finding, type FindingSummary } from '../findings/model.ts';
import { normalizeFinding, normalizeSummary } from '../findings/normalize.ts';
import type { AwsClients } from './clients.ts';
import { toAwsError } from './errors.ts';
import type { AnalyzerGateway, FindingRecommendation } from './types.ts';

/** recommendedSteps per GetFindingRecommendation page (the API allows 1–1000). */
const RECOMMENDATION_PAGE = 100;

export interface AnalyzerGatewayOptions {
  /**
   * Called for a listed finding the bot cannot read (a finding type or status newer than this
   * code). The finding is skipped so one odd finding never fails a whole analyzer's scan.
   */
  onUnsupported?: (findingId: string, analyzerArn: string, reason: string) => void;
}

export function createAnalyzerGateway(
  clients: Pick<AwsClients, 'accessAnalyzer'>,
  opts: AnalyzerGatewayOptions = {},
): AnalyzerGateway {
  return {
    async listAnalyzers(region) {
      const client = clients.accessAnalyzer(region);
      const analyzers: AnalyzerInfo[] = [];
      let nextToken: string | undefined;
      do {
        const out = await client
          .send(new ListAnalyzersCommand(nextToken ? { nextToken } : {}))
          .catch((err: unknown) => {
            throw toAwsError(err, 'AccessAnalyzer.ListAnalyzers');
          });
        for (const a of out.analyzers ?? []) {
          if (!a.arn || !a.name || !a.type) continue;
          const info: AnalyzerInfo = {
            arn: a.arn,
            name: a.name,
            type: a.type,
            kind: analyzerKindOf(a.type),
            region,
            status: a.status ?? 'ACTIVE',
          };
          if (a.statusReason?.code) info.statusReason = a.statusReason.code;
          if (a.managedBy) info.managedBy = a.managedBy;
          analyzers.push(info);
        }
        nextToken = out.nextToken || undefined;
      } while (nextToken);
      return analyzers;
    },

    // A generator, so the next page is requested only when the consumer asks for it.
    async *activeFindingPages(analyzer, pageSize): AsyncGenerator<FindingSummary[]> {
      const client = clients.accessAnalyzer(analyzer.region);
      let nextToken: string | undefined;
      do {
        const out = await client
          .send(
            new ListFindingsV2Command({
              analyzerArn: analyzer.arn,
              filter: { status: { eq: ['ACTIVE'] } },
              maxResults: pageSize,
              ...(nextToken ? { nextToken } : {}),
            }),
          )
          .catch((err: unknown) => {
            throw toAwsError(err, 'AccessAnalyzer.ListFindingsV2');
          });
        nextToken = out.nextToken || undefined;
        const page: FindingSummary[] = [];
        for (const f of out.findings ?? []) {
          try {
            page.push(normalizeSummary(f, analyzer));
          } catch (err) {
            opts.onUnsupported?.(f.id ?? '?', analyzer.arn, (err as Error).message);
          }
        }
        yield page;
      } while (nextToken);
    },

    async getFinding(analyzer, id): Promise<Finding | null> {
      const client = clients.accessAnalyzer(analyzer.region);
      const pages: GetFindingV2CommandOutput[] = [];
      let nextToken: string | undefined;
      try {
        do {
          const out = await client.send(
            new GetFindingV2Command({
              analyzerArn: analyzer.arn,
              id,
              ...(nextToken ? { nextToken } : {}),
            }),
          );
          pages.push(out);
          nextToken = out.nextToken || undefined;
        } while (nextToken);
      } catch (err) {
        const e = toAwsError(err, 'AccessAnalyzer.GetFindingV2');
        if (e.kind === 'not-found') return null;
        throw e;
      }
      return normalizeFinding(pages, analyzer);
    },

    async updateFindingStatus(analyzer, ids, status, clientToken) {
      await clients
        .accessAnalyzer(analyzer.region)
        .send(new UpdateFindingsCommand({ analyzerArn: analyzer.arn, ids, status, clientToken }))
        .catch((err: unknown) => {
          throw toAwsError(err, 'AccessAnalyzer.UpdateFindings');
        });
    },

    async startResourceScan(analyzer, resourceArn, accountId) {
      await clients
        .accessAnalyzer(analyzer.region)
        .send(
          new StartResourceScanCommand({
            analyzerArn: analyzer.arn,
            resourceArn,
            ...(accountId ? { resourceOwnerAccount: accountId } : {}),
          }),
        )
        .catch((err: unknown) => {
          throw toAwsError(err, 'AccessAnalyzer.StartResourceScan');
        });
    },

    // POST /recommendation/{id}?analyzerArn=… with no body; an empty 200 when started.
    async generateFindingRecommendation(analyzer, id) {
      await clients
        .accessAnalyzer(analyzer.region)
        .send(new GenerateFindingRecommendationCommand({ analyzerArn: analyzer.arn, id }))
        .catch((err: unknown) => {
          throw toAwsError(err, 'AccessAnalyzer.GenerateFindingRecommendation');
        });
    },

    async getFindingRecommendation(analyzer, id) {
      const client = clients.accessAnalyzer(analyzer.region);
      const pages: GetFindingRecommendationCommandOutput[] = [];
      let nextToken: string | undefined;
      try {
        do {
          const out = await client.send(
            new GetFindingRecommendationCommand({
              analyzerArn: analyzer.arn,
              id,
              maxResults: RECOMMENDATION_PAGE,
              ...(nextToken ? { nextToken } : {}),
            }),
          );
          pages.push(out);
          nextToken = out.nextToken || undefined;
        } while (nextToken);
      } catch (err) {
        const e = toAwsError(err, 'AccessAnalyzer.GetFindingRecommendation');
        if (e.kind === 'not-found') return null;
        throw e;
      }
      const first = pages[0]!;
      const rec: FindingRecommendation = {
        status: first.status ?? 'IN_PROGRESS',
        steps: pages.flatMap((p) =>
          (p.recommendedSteps ?? []).flatMap((s) => {
            const u = s.unusedPermissionsRecommendedStep;
            if (!u) return [];
            return [
              {
                action: u.recommendedAction ?? 'UNKNOWN',
                ...(u.existingPolicyId ? { existingPolicyId: u.existingPolicyId } : {}),
                ...(u.recommendedPolicy ? { recommendedPolicy: u.recommendedPolicy } : {}),
                ...(u.policyUpdatedAt ? { policyUpdatedAt: u.policyUpdatedAt.toISOString() } : {}),
              },
            ];
          }),
        ),
      };
      if (first.startedAt) rec.startedAt = first.startedAt.toISOString();
      if (first.completedAt) rec.completedAt = first.completedAt.toISOString();
      if (first.resourceArn) rec.resourceArn = first.resourceArn;
      if (first.error) rec.error = { code: first.error.code ?? 'Error', message: first.error.message ?? '' };
      return rec;
    },
  };
}
