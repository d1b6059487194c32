// What job processors need, built once by the entry point and passed in.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ArchiveRuleGateway } from '../src/aws/archive-rules.ts';
import type { FixGateway } from '../src/aws/fixes.ts';
import type { IamGateway } from '../src/aws/iam.ts';
import type { PolicyGateway } from '../src/aws/policy.ts';
import type { AnalyzerGateway, TagReader } from '../src/aws/types.ts';
import type { AppConfig } from '../src/config/schema.ts';
import type { Queues } from '../src/queue/index.ts';
import type { SlackGateway } from '../src/slack/client.ts';
import type { ServiceLinkedAnalyzers } from '../src/store/analyzers.ts';
import type { AuditLog } from '../src/store/audit.ts';
import type { FixBackupStore, RoleBackupStore } from '../src/store/backups.ts';
import type { BurstStore } from '../src/store/bursts.ts';
import type { ChannelIdStore } from '../src/store/channels.ts';
import type { DigestStore } from '../src/store/digests.ts';
import type { FindingStore } from '../src/store/findings.ts';
import type { IntentStore } from '../src/store/intents.ts';
import type { Keys } from '../src/store/keys.ts';
import type { NoticeStore } from '../src/store/notices.ts';
import type { OnceStore } from '../src/store/once.ts';
import type { Outbox } from '../src/store/outbox.ts';
import type { PolicyRequestStore } from '../src/store/policy-requests.ts';
import type { ScanStore } from '../src/store/scans.ts';
import type { ViewerCache } from '../src/store/viewers.ts';

export interface JobDeps {
  config: AppConfig;
  /**
   * The command connection the stores below are built over, for the tests that read what was left in
   * Redis. Job code goes through the stores (test/unit/redis-owners.test.ts fails otherwise).
   */
  redis: Redis;
  keys: Keys;
  store: FindingStore;
  /** Requests under way (one job per intent); the last job of a request releases it. */
  intents: IntentStore;
  audit: AuditLog;
  /** Policy generation requests: each account's FIFO and generation slot (src/store/policy-requests.ts). */
  policyRequests: PolicyRequestStore;
  /** Per-analyzer listings of a scan and the last finalized scan. */
  scans: ScanStore;
  /** Events waiting for delivery, per scan and channel. */
  outbox: Outbox;
  /** The new-card counts and worst findings behind a channel's burst summary, and that summary. */
  bursts: BurstStore;
  /** The state each admin notice last reported (a notice is sent when it changes). */
  notices: NoticeStore;
  /** Channel ids learned for `#name` routes. */
  channelIds: ChannelIdStore;
  /** The digest's weekly snapshots, last digest per owner and reported unknown e-mails. */
  digests: DigestStore;
  /** The App Home's short cache of a person's e-mail and channels. */
  viewers: ViewerCache;
  /** Messages sent at most once across retries (job receipts, the weekly digest). */
  once: OnceStore;
  /** Service-linked analyzers seen by scans (their findings are read-only). */
  serviceLinked: ServiceLinkedAnalyzers;
  iam: IamGateway;
  backups: RoleBackupStore;
  /** The AWS calls of the one-click fixes, and what each fix saved before its change. */
  fixes: FixGateway;
  fixBackups: FixBackupStore;
  analyzers: AnalyzerGateway;
  /** Archive rules (Archive similar, `/access rules`) and CreateAnalyzer (the coverage notice's button). */
  archiveRules: ArchiveRuleGateway;
  tags: TagReader;
  /** Policy generation, ValidatePolicy and the Check* calls. */
  policy: PolicyGateway;
  slack: SlackGateway;
  queues: Queues;
  logger: Logger;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  /** Test hook: called after a message is posted and before its ts is saved. */
  afterPostHook?: (findingId: string) => Promise<void> | void;
  /** Test hook: called after a digest was posted to an owner and before the send is recorded. */
  afterDigestPostHook?: (ownerKey: string) => Promise<void> | void;
}
