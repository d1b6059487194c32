// The only module that knows Redis key names. Every key starts with the configured prefix (default `ap:`).
import { shortHash } from '../util/hash.ts';

/** Analyzer ARNs are long; keys (and the analyzer-status hash) use this short stable id of them. */
export function analyzerId(analyzerArn: string): string {
  return shortHash(analyzerArn, 16);
}

/**
 * What an admin notice is about. Each has one `notice:<id>` key holding the state last reported, and
 * the id also names the notice in the outbox (and so the deliver job's post-once step): keep the ids
 * as they are, or upgraded bots would report every known problem again.
 */
export type NoticeSubject =
  /** ListAnalyzers of a region was denied. */
  | { about: 'listing-denied'; region: string }
  /** ListFindingsV2 of one analyzer was denied. */
  | { about: 'analyzer-denied'; analyzerArn: string }
  /** A customer-managed analyzer is not ACTIVE (FAILED, DISABLED, CREATING). */
  | { about: 'analyzer-not-active'; analyzerArn: string }
  /** A region lacks an analyzer of an expected regional type. */
  | { about: 'missing-analyzers'; region: string }
  /** Unused access of the zone of trust: missing, or only from a service-linked analyzer. */
  | { about: 'unused-coverage' }
  /** More than one customer-managed unused-access analyzer for one zone. */
  | { about: 'unused-duplicates' }
  /** An analyzer's scan failed after every attempt. */
  | { about: 'scan-failed'; analyzerArn: string }
  /** A channel the bot cannot post to (its messages fell back to the default channel). */
  | { about: 'unusable-channel'; channel: string };

/** The stored name of a notice subject: `notice:<id>`, and the notice's key in the outbox. */
export function noticeId(subject: NoticeSubject): string {
  switch (subject.about) {
    case 'listing-denied':
      return `denied:${subject.region}`;
    case 'analyzer-denied':
      return `denied:${shortHash(subject.analyzerArn)}`;
    case 'analyzer-not-active':
      return `analyzer:${shortHash(subject.analyzerArn)}`;
    case 'missing-analyzers':
      return `missing:${subject.region}`;
    case 'unused-coverage':
      return 'unused-coverage';
    case 'unused-duplicates':
      return 'unused-duplicates';
    case 'scan-failed':
      return `scan-failed:${shortHash(subject.analyzerArn)}`;
    case 'unusable-channel':
      return `channel:${subject.channel}`;
  }
}

export function keys(prefix: string) {
  const p = prefix;
  return {
    finding: (id: string) => `${p}finding:${id}`,
    /** Values of a finding longer than Redis's compact-hash limit (see FindingStore). */
    findingLong: (id: string) => `${p}finding:${id}:long`,
    /** Short analyzer id -> analyzer ARN. */
    analyzers: () => `${p}analyzers`,
    /** Short analyzer id -> its status at the last ListAnalyzers of its region (GONE when no longer listed). */
    analyzerStatus: () => `${p}analyzer-status`,
    /**
     * A finding id that joined another id's card (same natural key): its own status and analyzer.
     * The card's first id has no such hash; its card hash (`finding:<id>`) holds those.
     */
    member: (id: string) => `${p}member:${id}`,
    /** The ids that joined a card after its first (a set; absent while the card has one id). */
    cardMembers: (cardId: string) => `${p}card-members:${cardId}`,
    /**
     * Natural key (src/findings/natural-key.ts, 16 hex characters) -> the id of its card: one small
     * hash per bucket of keys (`nks:<first 3 characters>`, 4096 of them), the rest of the key as the
     * field. At 100,000 cards a bucket holds about 24 fields and stays a listpack; one string key
     * per card cost about 137 bytes. Kept with the card's index entries (src/store/finding-index.ts),
     * so a retired card's mapping goes when its hash expires.
     */
    naturalKeyBucket: (key: string) => `${p}nks:${key.slice(0, NATURAL_KEY_BUCKET_CHARS)}`,
    naturalKeyField: (key: string) => key.slice(NATURAL_KEY_BUCKET_CHARS),
    /**
     * The string key per natural key that index versions up to 3 kept (`nk:<key>` -> card id),
     * moved into the buckets when the indexes are built again (FindingStore.rebuildIndexes).
     */
    legacyNaturalKey: (key: string) => `${p}nk:${key}`,
    /**
     * Indexes over the finding cards, kept by FindingStore in the same script as every write
     * (src/store/finding-index.ts mirrors these names in Lua, from the prefixes in `indexPrefixes`).
     * Cards of one status, severity bucket, type, account and region, scored by createdAt (ms): small
     * sets, so that every filter of `/access findings` names the sets it needs.
     */
    findingsWhere: (status: string, severity: string, type: string, accountId: string, region: string) =>
      `${p}idx:where:${status}:${severity}:${type}:${accountId}:${region}`,
    /** ACTIVE cards whose owner or message channel is this one (a set). */
    activeByChannel: (channel: string) => `${p}idx:active-channel:${channel}`,
    /** ACTIVE cards whose owner e-mail is this one, lower-cased (a set). */
    activeByEmail: (email: string) => `${p}idx:active-email:${email}`,
    /** Cards that are not ACTIVE, scored by the later of firstSeen and updatedAt (ms). */
    closedFindings: () => `${p}idx:closed`,
    /** The `status:severity:type:account:region` combinations that have had a `findingsWhere` set. */
    findingWhereSets: () => `${p}idx:where-sets`,
    /** Owner channel -> how many cards it owns; owner e-mail (as stored) -> how many cards. */
    ownerChannels: () => `${p}idx:owner-channel-counts`,
    ownerEmails: () => `${p}idx:owner-email-counts`,
    /** `status \0 type \0 severity \0 routeChannel` -> how many cards (the findings metric). */
    findingCounts: () => `${p}idx:card-counts`,
    /** Retired cards by when their hash expires (ms), and the index entries to drop then. */
    findingsExpiring: () => `${p}idx:expiring`,
    findingsExpiringEntries: () => `${p}idx:expiring-entries`,
    /** Which index scheme is complete for this store; absent until the one-off rebuild finished. */
    findingIndexVersion: () => `${p}idx:version`,
    findingIndexRebuild: () => `${p}idx:rebuilding`,
    /**
     * What the first index scheme (version 1) kept and the current one does not: cards by status,
     * severity and type (`idx:status:*`), their registry and the counters, deleted once the current
     * indexes are complete.
     */
    retiredIndexKeys: () => ({
      patterns: [`${p}idx:status:*`],
      keys: [`${p}idx:status-sets`, `${p}idx:owner-channels`, `${p}idx:owner-emails`, `${p}idx:counts`],
    }),
    /** Key prefixes for the Lua side of the indexes (src/store/finding-index.ts). */
    indexPrefixes: () => ({
      finding: `${p}finding:`,
      where: `${p}idx:where:`,
      activeChannel: `${p}idx:active-channel:`,
      activeEmail: `${p}idx:active-email:`,
      naturalKeys: `${p}nks:`,
    }),
    analyzerActive: (analyzerArn: string) => `${p}analyzer:${analyzerId(analyzerArn)}:active`,
    analyzerSeen: (analyzerArn: string, scanId: string) =>
      `${p}analyzer:${analyzerId(analyzerArn)}:seen:${scanId}`,
    /** Service-linked analyzer ARN -> the service that manages it: their findings are read-only. */
    serviceLinkedAnalyzers: () => `${p}analyzers:service-linked`,
    /** Finding ids one analyzer's scan has queued for delivery, so a retried attempt queues them once. */
    scanQueued: (scanId: string, analyzerArn: string) =>
      `${p}scan:${scanId}:queued:${analyzerId(analyzerArn)}`,
    outbox: (scanId: string, channel: string) => `${p}outbox:${scanId}:${channel}`,
    scanChannels: (scanId: string) => `${p}scan:${scanId}:channels`,
    scanStats: (scanId: string) => `${p}scan:${scanId}:stats`,
    burstStats: (scanId: string, channel: string) => `${p}scan:${scanId}:burst:${channel}`,
    burstWorst: (scanId: string, channel: string) => `${p}scan:${scanId}:worst:${channel}`,
    summary: (scanId: string, channel: string) => `${p}scan:${scanId}:summary:${channel}`,
    /** The state an admin notice last reported (src/store/notices.ts). */
    notice: (subject: NoticeSubject) => `${p}notice:${noticeId(subject)}`,
    /** A request in progress (src/store/intents.ts): `<action>:<subject>` -> the job doing it. */
    intent: (intent: string) => `${p}intent:${intent}`,
    /** Set when the aging sweep escalated a finding (jobs/aging.ts); cleared when the finding reopens. */
    agingEscalated: (findingId: string) => `${p}notice:aging-escalated:${findingId}`,
    channelId: (name: string) => `${p}channel-id:${name}`,
    lastScan: () => `${p}last-scan`,
    roleBackup: (accountId: string, roleName: string, takenAt: string) =>
      `${p}backup:role:${accountId}:${roleName}:${takenAt}`,
    /** What a one-click fix changed, saved just before it changed it (the Undo button names it). */
    fixBackup: (kind: string, findingId: string, takenAt: string) =>
      `${p}backup:fix:${kind}:${findingId}:${takenAt}`,
    /**
     * A message a job posts once (src/store/once.ts), by a key stable across the job's retries:
     * `claimed <time>` before the post, `sent <channel> <ts>` after it.
     */
    jobPost: (onceKey: string) => `${p}job-post:${onceKey}`,
    /** A Slack request already handled, by a hash of its body (src/slack/request-guard.ts). */
    slackRequest: (bodyHash: string) => `${p}slack-request:${bodyHash}`,
    /** Stream of who did what (src/store/audit.ts). */
    audit: () => `${p}audit`,
    /**
     * Digest sent (or being sent) to one owner for one week: the claim that makes a retry safe
     * (src/store/once.ts; `claimed <time>`, then `sent <channel> <ts>`).
     */
    digestSent: (owner: string, week: string) => `${p}digest:${owner}:${week}`,
    /** Counts of one channel's digest for one week, for next week's trend. */
    digestSnapshot: (channel: string, week: string) => `${p}digest-snapshot:${channel}:${week}`,
    /** The last digest sent to one owner (JSON), for the App Home tab. */
    digestLast: (owner: string) => `${p}digest-last:${owner}`,
    /** Owner e-mail addresses Slack did not know, already reported to the admin channel. */
    digestUnknownEmails: () => `${p}digest-unknown-emails`,
    /** A person's channels (users.conversations), cached briefly for the App Home tab. */
    userChannels: (userId: string) => `${p}user-channels:${userId}`,
    /** Policy generation requests of one account, oldest first (the head holds or awaits the slot). */
    policyQueue: (accountId: string) => `${p}policy-gen:queue:${accountId}`,
    /** The request holding the account's one generation slot. */
    policyActive: (accountId: string) => `${p}policy-gen:active:${accountId}`,
    /** One policy generation request and its progress (JSON). */
    policyRequest: (requestId: string) => `${p}policy-gen:req:${requestId}`,
    /** Start times of the account's generations (sorted set, ms), for the daily quota. */
    policyStarts: (accountId: string) => `${p}policy-gen:starts:${accountId}`,
  };
}
export type Keys = ReturnType<typeof keys>;

/** How many characters of a natural key name its bucket (`nks:<chars>`); the rest is the field. */
export const NATURAL_KEY_BUCKET_CHARS = 3;

/** Scratch keys of one scan expire on their own even if a scan dies half-way. */
export const SCAN_SCRATCH_TTL_SECONDS = 2 * 24 * 3600;
