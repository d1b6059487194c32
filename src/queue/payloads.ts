// What each job carries (src/queue/registry.ts maps job names to these).

import type { FixKind } from '../findings/card-actions.ts';
import type { SnoozeDays } from '../findings/limits.ts';
import type { AnalyzerInfo } from '../findings/model.ts';

/** A person's request from Slack, carried by every action job. */
export interface ActionRequest {
  findingId: string;
  analyzerArn: string;
  region: string;
  /** Slack user id of who asked ('system' for the bot's own follow-ups). */
  userId: string;
  /** Where to tell the person how it went (the finding message's channel, or the command's). */
  replyChannel?: string;
  /** Slack's action_ts or command trigger: makes the job id unique per click. */
  requestTs: string;
  /**
   * The finding id a follow-up job acts through when it is not the card's (`findingId`): another
   * analyzer's id of the same problem. Set by the job that chose it (a recommendation's polls).
   */
  awsId?: string;
  /**
   * The intent the request holds (src/store/intents.ts) and the token it holds it with; the last job
   * of the request releases it.
   */
  intent?: { key: string; token: string };
}
export interface ArchiveData extends ActionRequest {
  reason: string;
  /** YYYY-MM-DD: the archive expires and the finding becomes ACTIVE again. */
  until?: string;
}
export interface DeleteRolePreviewData extends ActionRequest {
  /** The loading modal the preview job fills in (views.update). */
  viewId: string;
}
export interface RestoreRoleData extends ActionRequest {
  backupKey: string;
}
/** A one-click fix from the finding card. */
export interface FixData extends ActionRequest {
  kind: FixKind;
}
/** Undo of a fix: puts back what the fix saved under `backupKey`. */
export interface FixUndoData extends ActionRequest {
  kind: FixKind;
  backupKey: string;
}
/**
 * Deactivate key's follow-ups, both on the fix's backup (the user, the key and when it was made
 * inactive): the offer to delete the key once it stayed inactive, and the deletion itself.
 */
export interface KeyDeletionData extends ActionRequest {
  backupKey: string;
}
/** The end of a role's quarantine: the role is deleted (with a backup) if it is still quarantined and unused. */
export interface QuarantineEndData extends ActionRequest {
  /** The fix backup the quarantine saved (what Still needed puts back). */
  backupKey: string;
}
/** Archive similar's modal: the loading view the preview job fills in (views.update). */
export interface ArchiveRulePreviewData extends ActionRequest {
  viewId: string;
  /** The message the click came from (carried into the modal for the answers). */
  messageTs?: string;
}
/** Archive similar: an archive rule made from the card's finding, created and applied where its matches are. */
export interface ArchiveRuleCreateData extends ActionRequest {
  ruleName: string;
}
/** A request that names no finding: who asked, where to answer, and what makes it unique. */
export interface PlainRequest {
  userId: string;
  replyChannel?: string;
  requestTs: string;
  intent?: { key: string; token: string };
}
/** `/access rules`: every analyzer's archive rules with their matches in the store. */
export interface ArchiveRulesListData extends PlainRequest {
  /** The person may delete rules: the reply shows a Delete button per rule. */
  canDelete: boolean;
}
/** Delete one archive rule of one analyzer (the Delete button of `/access rules`). */
export interface ArchiveRuleDeleteData extends PlainRequest {
  analyzerArn: string;
  region: string;
  ruleName: string;
}
/** Create analyzer (the coverage notice's button): the kind missing in a region; the job decides the type. */
export interface CreateAnalyzerData extends PlainRequest {
  region: string;
  kind: 'external' | 'internal' | 'unused';
}
/** `/access owners <arn>`: explained by a worker, because it reads the resource's tags from AWS. */
export interface OwnersData {
  arn: string;
  /** `--account`: the account that owns the resource, for ARNs that carry none (S3 buckets). */
  accountId?: string;
  userId: string;
  replyChannel: string;
  requestTs: string;
}
export interface SnoozeData extends ActionRequest {
  days: SnoozeDays;
  reason: string;
}
/** A recommendation poll (jobs/recommend.ts): which poll this is and when asking began. */
export interface RecommendPollData extends ActionRequest {
  poll: number;
  /** ISO time the recommend job asked AWS; the total wait is measured from it. */
  startedAt: string;
}
/** A request for a least-privilege policy (button modal or `/access generate-policy`). */
export interface PolicyRequestData {
  /** Deterministic from where it was asked (view id or trigger), so a retry is the same request. */
  requestId: string;
  /** The IAM role or user. */
  principalArn: string;
  accountId: string;
  /** Days of CloudTrail activity, ending now. */
  days: number;
  /** Absent: the configured trails. */
  trailArn?: string;
  regions: 'all' | string[];
  userId: string;
  replyChannel?: string;
  requestTs: string;
  /** Set when asked from a finding message: the result goes into its thread. */
  findingId?: string;
}
/** One step of a queued generation: start it (attempt counts conflict retries) or poll it. */
export interface PolicyStepData {
  requestId: string;
  accountId: string;
  attempt: number;
  userId: string;
  requestTs: string;
}
/** `/access validate`: a pasted document to check. */
export interface PolicyValidateData {
  document: string;
  policyType: 'IDENTITY_POLICY' | 'RESOURCE_POLICY' | 'SERVICE_CONTROL_POLICY';
  /** CheckNoPublicAccess as this resource type, when chosen. */
  resourceType?: string;
  userId: string;
  replyChannel?: string;
  requestTs: string;
}
export type ActionJobData =
  | ActionRequest
  | ArchiveData
  | DeleteRolePreviewData
  | RestoreRoleData
  | FixData
  | FixUndoData
  | QuarantineEndData
  | OwnersData
  | SnoozeData
  | RecommendPollData
  | PolicyRequestData
  | PolicyStepData
  | PolicyValidateData
  | ArchiveRulePreviewData
  | ArchiveRuleCreateData
  | ArchiveRulesListData
  | ArchiveRuleDeleteData
  | CreateAnalyzerData;

export interface ScanRunData {
  /** Limit this scan to some regions (CLI `scan --region`); all configured regions when absent. */
  regions?: string[];
  requestedBy?: string;
  /**
   * Makes the job id (`scan-<requestId>`): `cmd-<trigger>` for `/access scan` (a Slack retry of the
   * command is the same scan), `now-<time>-<random>` for a scan run now (every call its own scan);
   * absent for the scheduler's scans, whose ids BullMQ's scheduler makes.
   */
  requestId?: string;
}
export interface ScanAnalyzerData {
  scanId: string;
  analyzer: AnalyzerInfo;
}
export interface ScanFinalizeData {
  scanId: string;
}
export interface DeliverData {
  scanId: string;
  channel: string;
}
