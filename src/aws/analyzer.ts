// Access Analyzer reads: analyzers, ACTIVE finding pages (streamed), one finding with all its detail pages.
import {
  type AnalyzerSummary,
  GenerateFindingRecommendationCommand,
  type GetFindingRecommendationCommandOutput,
  paginateGetFindingRecommendation,
  paginateGetFindingV2,
  paginateListAnalyzers,
  paginateListFindingsV2,
  StartResourceScanCommand,
  UpdateFindingsCommand,
} from '@aws-sdk/client-accessanalyzer';
import { type AnalyzerInfo, analyzerKindOf, type Finding, type FindingSummary } from '../findings/model.ts';
import { normalizeFinding, normalizeSummary } from '../findings/normalize.ts';
import { analyzerCall } from './analyzer-call.ts';
import type { AwsClients } from './clients.ts';
import { collect, pages, unlessNotFound } from './paging.ts';
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
  const send = analyzerCall(clients);
  return {
    async listAnalyzers(region) {
      const client = clients.accessAnalyzer(region);
      const listed = await collect({
        operation: 'AccessAnalyzer.ListAnalyzers',
        paginate: () => paginateListAnalyzers({ client }, {}),
        items: (out) => out.analyzers,
      });
      return listed.flatMap((a) => analyzerInfo(a, region));
    },

    // A generator, so the next page is requested only when the consumer asks for it.
    async *activeFindingPages(analyzer, pageSize): AsyncGenerator<FindingSummary[]> {
      const client = clients.accessAnalyzer(analyzer.region);
      const listing = paginateListFindingsV2(
        { client },
        { analyzerArn: analyzer.arn, filter: { status: { eq: ['ACTIVE'] } }, maxResults: pageSize },
      );
      for await (const out of pages('AccessAnalyzer.ListFindingsV2', listing)) {
        const page: FindingSummary[] = [];
        for (const f of out.findings ?? []) {
          try {
            page.push(normalizeSummary(f, analyzer));
          } catch (err) {
            opts.onUnsupported?.(f.id ?? '?', analyzer.arn, (err as Error).message);
          }
        }
        yield page;
      }
    },

    async getFinding(analyzer, id): Promise<Finding | null> {
      const client = clients.accessAnalyzer(analyzer.region);
      const all = await unlessNotFound(
        collect({
          operation: 'AccessAnalyzer.GetFindingV2',
          paginate: () => paginateGetFindingV2({ client }, { analyzerArn: analyzer.arn, id }),
          items: (out) => [out],
        }),
      );
      return all === null ? null : normalizeFinding(all, analyzer);
    },

    async updateFindingStatus(analyzer, ids, status, clientToken) {
      await send(analyzer.region, 'UpdateFindings', (client) =>
        client.send(new UpdateFindingsCommand({ analyzerArn: analyzer.arn, ids, status, clientToken })),
      );
    },

    async startResourceScan(analyzer, resourceArn, accountId) {
      await send(analyzer.region, 'StartResourceScan', (client) =>
        client.send(
          new StartResourceScanCommand({
            analyzerArn: analyzer.arn,
            resourceArn,
            ...(accountId ? { resourceOwnerAccount: accountId } : {}),
          }),
        ),
      );
    },

    // POST /recommendation/{id}?analyzerArn=… with no body; an empty 200 when started.
    async generateFindingRecommendation(analyzer, id) {
      await send(analyzer.region, 'GenerateFindingRecommendation', (client) =>
        client.send(new GenerateFindingRecommendationCommand({ analyzerArn: analyzer.arn, id })),
      );
    },

    async getFindingRecommendation(analyzer, id) {
      const client = clients.accessAnalyzer(analyzer.region);
      const all = await unlessNotFound(
        collect({
          operation: 'AccessAnalyzer.GetFindingRecommendation',
          paginate: () =>
            paginateGetFindingRecommendation(
              { client },
              { analyzerArn: analyzer.arn, id, maxResults: RECOMMENDATION_PAGE },
            ),
          items: (out) => [out],
        }),
      );
      return all === null ? null : recommendationOf(all);
    },
  };
}

/** A listed analyzer, or nothing for an entry without the fields every analyzer has. */
function analyzerInfo(a: AnalyzerSummary, region: string): AnalyzerInfo[] {
  if (!a.arn || !a.name || !a.type) return [];
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
  return [info];
}

/** Every page of GetFindingRecommendation as one recommendation; the status and times are the first page's. */
function recommendationOf(pages: GetFindingRecommendationCommandOutput[]): FindingRecommendation {
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
}
