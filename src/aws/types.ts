// What the rest of the bot needs from AWS. src/aws/* implements it over the SDK; nothing else imports the SDK.
import type { AnalyzerInfo, Finding, FindingSummary } from '../findings/model.ts';

export interface AnalyzerGateway {
  /** Every analyzer in the region (all pages), including service-linked ones (`managedBy` set). */
  listAnalyzers(region: string): Promise<AnalyzerInfo[]>;
  /** ACTIVE findings of one analyzer, one page at a time, following nextToken. */
  activeFindingPages(analyzer: AnalyzerInfo, pageSize: number): AsyncIterable<FindingSummary[]>;
  /** A finding with every page of its details, or null when AWS no longer has it (ResourceNotFound). */
  getFinding(analyzer: Pick<AnalyzerInfo, 'arn' | 'region'>, id: string): Promise<Finding | null>;
  /** UpdateFindings: ARCHIVED or ACTIVE (AWS cannot set RESOLVED). `clientToken` makes a retry safe. */
  updateFindingStatus(
    analyzer: Pick<AnalyzerInfo, 'arn' | 'region'>,
    ids: string[],
    status: 'ARCHIVED' | 'ACTIVE',
    clientToken?: string,
  ): Promise<void>;
  /** StartResourceScan (external access analyzers only). */
  startResourceScan(
    analyzer: Pick<AnalyzerInfo, 'arn' | 'region'>,
    resourceArn: string,
    accountId?: string,
  ): Promise<void>;
  /** GenerateFindingRecommendation (unused-permission findings): starts an asynchronous recommendation. */
  generateFindingRecommendation(analyzer: Pick<AnalyzerInfo, 'arn' | 'region'>, id: string): Promise<void>;
  /**
   * GetFindingRecommendation with every page of `recommendedSteps`, or null when AWS has none for
   * the finding (ResourceNotFound: never generated, or expired).
   */
  getFindingRecommendation(
    analyzer: Pick<AnalyzerInfo, 'arn' | 'region'>,
    id: string,
  ): Promise<FindingRecommendation | null>;
}

/** One step of an unused-permissions recommendation. */
export interface RecommendedStep {
  /** CREATE_POLICY or DETACH_POLICY (kept as a string: AWS may add actions). */
  action: string;
  /** The policy to detach (DETACH_POLICY) or to replace (CREATE_POLICY), when AWS names it. */
  existingPolicyId?: string;
  /** The policy document to create (CREATE_POLICY), JSON text as AWS sent it. */
  recommendedPolicy?: string;
  policyUpdatedAt?: string;
}

export interface FindingRecommendation {
  /** IN_PROGRESS, SUCCEEDED or FAILED. */
  status: string;
  startedAt?: string;
  completedAt?: string;
  resourceArn?: string;
  error?: { code: string; message: string };
  steps: RecommendedStep[];
}

export interface TagReader {
  /**
   * Tags of a resource, or null when they cannot be read for this resource type (tagging API disabled)
   * or the resource is gone. Reads in member accounts go through the assumed member role.
   */
  getTags(
    resource: {
      arn: string;
      type: string;
      accountId: string;
      region: string;
    },
    /**
     * A scan's reads are remembered for that scan: each IAM principal and resource is read once
     * however many findings name it, and GetResources reads are batched up to 100 ARNs per call.
     */
    scope?: {
      scanId: string;
      /**
       * The caller calls `flush()` before it waits for the answer: the read's GetResources batch
       * waits for more ARNs until then (or until it holds 100), so a scan batches across listing
       * pages. Without it a batch is sent after a short linger.
       */
      held?: boolean;
    },
  ): Promise<Record<string, string> | null>;
  /** Sends every GetResources batch still waiting for more ARNs. */
  flush?(): void;
  /** The scan is over (finalized): its remembered reads are let go. */
  endScan?(scanId: string): void;
}
