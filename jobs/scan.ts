// The scan: discover analyzers per region, then one job per analyzer streams its ACTIVE findings,
// diffs them against Redis and queues finding events per owner channel; a finalize job then starts
// one deliver job per channel.
import type { KnownBlock } from '@slack/types';
import { Job, UnrecoverableError } from 'bullmq';
import {
  analyzerMissingNotice,
  analyzerNotActiveNotice,
  analyzerScanFailedNotice,
  coverageRestoredNotice,
  duplicateUnusedAnalyzersNotice,
  scanAccessDeniedNotice,
  serviceLinkedUnusedNotice,
  unusedAnalyzerMissingNotice,
} from '../blocks/notice.ts';
import { AwsError, toAwsError } from '../src/aws/errors.ts';
import { assessCoverage, type RegionListing, type Zone, zoneKey } from '../src/findings/coverage.ts';
import type { AnalyzerInfo, AnalyzerKind, Finding, FindingSummary, Route } from '../src/findings/model.ts';
import { naturalKeyOf } from '../src/findings/natural-key.ts';
import { routeFinding } from '../src/findings/routing.ts';
import { assessSeverity } from '../src/findings/severity.ts';
import {
  enqueue,
  flowJob,
  JOBS,
  jobId,
  QUEUES,
  type ScanAnalyzerData,
  type ScanFinalizeData,
  type ScanRunData,
  scanJobOptions,
} from '../src/queue/index.ts';
import { recordServiceLinked } from '../src/store/analyzers.ts';
import type { ListedIdState } from '../src/store/findings.ts';
import { SCAN_SCRATCH_TTL_SECONDS } from '../src/store/keys.ts';
import { shortHash } from '../src/util/hash.ts';
import type { JobDeps } from './deps.ts';
import { Outbox, type OutboxEvent } from './outbox.ts';

export interface ScanRunResult {
  scanId: string;
  regions: string[];
  analyzers: number;
  finalizeJobId: string;
}

export interface AnalyzerScanResult {
  analyzerArn: string;
  /** The analyzer's name (absent only when a failed job's data could not be read back). */
  name?: string;
  region: string;
  ok: boolean;
  error?: string;
  /** Set when the job failed after every retry (throttled, AWS unavailable, ...): nothing was checked. */
  failed?: boolean;
  /** Attempts made, when the job failed. */
  attempts?: number;
  pages: number;
  active: number;
  new: number;
  changed: number;
  closed: number;
  /** Ids new to the bot that joined the card of another id with the same natural key. */
  joined: number;
  detailCalls: number;
}

export interface FinalizeResult {
  scanId: string;
  analyzers: AnalyzerScanResult[];
  deliverJobIds: string[];
}

/** A stable scan id from the job id, so a retried job keeps using the same scratch keys. */
export function scanIdOf(job: Pick<Job, 'id'>): string {
  return jobId('s', job.id ?? 'unknown');
}

/** Posts an admin notice only when the state it reports differs from the last one reported. */
async function noticeOnChange(
  deps: JobDeps,
  outbox: Outbox,
  scanId: string,
  key: string,
  state: string,
  build: (previous: string | null) => { text: string; blocks: KnownBlock[] },
): Promise<void> {
  const redisKey = deps.keys.notice(key);
  const previous = await deps.redis.get(redisKey);
  if (previous === state) return;
  if (state === 'ok' && previous === null) return;
  const msg = build(previous);
  await outbox.push(scanId, deps.config.slack.adminChannel, [
    { kind: 'notice', key, text: msg.text, blocks: msg.blocks },
  ]);
  await deps.redis.set(redisKey, state);
}

const EXPECTED_KINDS: AnalyzerKind[] = ['external', 'internal', 'unused'];

/** Notice keys of the unused-access coverage of the zone of trust the bot lists (one account's view). */
const UNUSED_COVERAGE_NOTICE = 'unused-coverage';
const UNUSED_DUPLICATES_NOTICE = 'unused-duplicates';

export async function runScan(deps: JobDeps, job: Job<ScanRunData>): Promise<ScanRunResult> {
  const scanId = scanIdOf(job);
  const log = deps.logger.child({ jobId: job.id, scanId });
  const outbox = new Outbox(deps.redis, deps.keys);
  const { config } = deps;
  const regions = job.data.regions?.length ? job.data.regions : config.regions;
  const expected = config.scan.expectedAnalyzerKinds ?? EXPECTED_KINDS;
  const accountName = (id: string) => config.accounts[id]?.name;
  const listings: RegionListing[] = [];
  // Unused access can only be judged from every configured region: it may live in any one of them.
  let complete = config.regions.every((r) => regions.includes(r));

  for (const region of regions) {
    let analyzers: AnalyzerInfo[];
    try {
      analyzers = await deps.analyzers.listAnalyzers(region);
    } catch (err) {
      const e = toAwsError(err, 'AccessAnalyzer.ListAnalyzers');
      if (e.kind !== 'access-denied') throw e;
      log.error({ region, err: e.message }, 'cannot list analyzers: access denied; skipping region');
      complete = false;
      await noticeOnChange(deps, outbox, scanId, `denied:${region}`, `denied:${e.code}`, () =>
        scanAccessDeniedNotice({ region, operation: e.operation, message: e.message }),
      );
      continue;
    }
    await noticeOnChange(deps, outbox, scanId, `denied:${region}`, 'ok', () =>
      coverageRestoredNotice({ region, what: 'access to its analyzers' }),
    );
    listings.push({ region, analyzers });
    for (const a of analyzers.filter((x) => !x.managedBy)) {
      const state = a.status === 'ACTIVE' ? 'ok' : `${a.status}:${a.statusReason ?? ''}`;
      await noticeOnChange(deps, outbox, scanId, `analyzer:${shortHash(a.arn)}`, state, () =>
        state === 'ok'
          ? coverageRestoredNotice({ region, what: `analyzer ${a.name}` })
          : analyzerNotActiveNotice({ analyzer: a }),
      );
    }
  }

  const coverage = assessCoverage({ listings, complete, expected, configuredRegions: config.regions });
  const { organization } = coverage;
  for (const { region, missing } of coverage.regional) {
    const state = missing.length ? missing.map((m) => `${m.kind}:${m.type}`).join(',') : 'ok';
    await noticeOnChange(deps, outbox, scanId, `missing:${region}`, state, () =>
      missing.length
        ? analyzerMissingNotice({ region, missing, organization })
        : coverageRestoredNotice({ region, what: 'an analyzer of every expected regional type' }),
    );
  }
  const unused = coverage.unused;
  if (unused) {
    const zone = unused.zone;
    const state =
      unused.state === 'ok'
        ? 'ok'
        : unused.state === 'missing'
          ? `missing:${zoneKey(zone)}:${unused.create?.type}`
          : `service-linked:${unused.serviceLinked?.arn}`;
    await noticeOnChange(deps, outbox, scanId, UNUSED_COVERAGE_NOTICE, state, (previous) => {
      if (unused.state === 'missing' && unused.create) {
        return unusedAnalyzerMissingNotice({
          zone,
          create: unused.create,
          scannedRegions: listings.map((l) => l.region),
          otherAccounts: Object.keys(config.accounts).filter(
            (a) => zone.kind === 'account' && a !== zone.accountId,
          ),
          ...(unused.partialServiceLinked ? { partialServiceLinked: unused.partialServiceLinked } : {}),
          accountName,
        });
      }
      if (unused.state === 'service-linked' && unused.serviceLinked) {
        return serviceLinkedUnusedNotice({ zone, analyzer: unused.serviceLinked, accountName });
      }
      return coverageRestoredNotice({
        what: previous?.startsWith('service-linked')
          ? `unused access for ${zoneText(zone)} now comes from an unused-access analyzer of your own; its findings have every button again`
          : `an unused-access analyzer covers ${zoneText(zone)} again`,
      });
    });
  }
  // Duplicates seen are certain even in a partial listing; "resolved" needs the whole picture.
  const dupState = coverage.duplicateUnused.length
    ? coverage.duplicateUnused
        .flatMap((g) => g.analyzers.map((a) => a.arn))
        .sort()
        .join(',')
    : complete
      ? 'ok'
      : null;
  if (dupState !== null) {
    await noticeOnChange(deps, outbox, scanId, UNUSED_DUPLICATES_NOTICE, dupState, () => {
      const g = coverage.duplicateUnused[0];
      return g
        ? duplicateUnusedAnalyzersNotice({ zone: g.zone, analyzers: g.analyzers, accountName })
        : coverageRestoredNotice({
            what: 'one unused-access analyzer per account or organization now, so each unused finding is reported and billed once',
          });
    });
  }

  // Service-linked analyzers' findings are read-only; action jobs look the analyzer up there.
  const linked = listings.flatMap((l) => l.analyzers.filter((a) => a.managedBy));
  await recordServiceLinked(deps.redis, deps.keys, linked);
  const toScan = coverage.toScan;
  // A service-linked analyzer the bot does not read is no live source of a card: its ids neither
  // keep a card open nor are acted through.
  for (const l of listings) {
    await deps.store.setAnalyzerStatuses(
      l.region,
      l.analyzers.map((a) => ({
        arn: a.arn,
        status: a.managedBy && !toScan.includes(a) ? 'NOT_READ' : a.status,
      })),
    );
  }
  for (const a of linked.filter((x) => !toScan.includes(x))) {
    log.debug({ analyzer: a.arn, managedBy: a.managedBy }, 'service-linked analyzer not scanned');
  }

  const opts = scanJobOptions(config.scan);
  const finalize = flowJob(
    JOBS.scanFinalize,
    { scanId },
    opts,
    // A failed analyzer scan must not hold back delivery of the others; finalize reports it.
    toScan.map((analyzer) =>
      flowJob(JOBS.scanAnalyzer, { scanId, analyzer }, { ...opts, ignoreDependencyOnFailure: true }),
    ),
  );
  const finalizeJobId = finalize.opts?.jobId ?? '';
  await deps.queues.flows.add(finalize, {
    // Flow nodes do not get the queue's defaultJobOptions; give them the same ones explicitly.
    queuesOptions: { [QUEUES.scan]: { defaultJobOptions: opts } },
  });
  log.info({ regions, analyzers: toScan.length }, 'scan started');
  return { scanId, regions, analyzers: toScan.length, finalizeJobId };
}

function zoneText(zone: Zone): string {
  if (zone.kind === 'organization') return 'the organization';
  return zone.accountId ? `account ${zone.accountId}` : "the bot's account";
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping order of results. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}

export async function scanAnalyzer(
  deps: JobDeps,
  job: Job<ScanAnalyzerData>,
  signal?: AbortSignal,
): Promise<AnalyzerScanResult> {
  const { scanId, analyzer } = job.data;
  const log = deps.logger.child({ jobId: job.id, scanId, analyzer: analyzer.arn });
  const outbox = new Outbox(deps.redis, deps.keys);
  const { config, store, keys, redis } = deps;
  const result: AnalyzerScanResult = {
    analyzerArn: analyzer.arn,
    name: analyzer.name,
    region: analyzer.region,
    ok: true,
    pages: 0,
    active: 0,
    new: 0,
    changed: 0,
    closed: 0,
    joined: 0,
    detailCalls: 0,
  };
  const seenKey = keys.analyzerSeen(analyzer.arn, scanId);
  const activeKey = keys.analyzerActive(analyzer.arn);
  // A retried job lists again from the first page; what an earlier attempt queued is not queued twice.
  const queuedKey = keys.scanQueued(scanId, analyzer.arn);
  await redis.del(seenKey);
  const notQueued = async <T>(items: T[], idOf: (t: T) => string): Promise<T[]> => {
    if (items.length === 0) return items;
    const done = await redis.smismember(queuedKey, ...items.map(idOf));
    return items.filter((_, i) => done[i] !== 1);
  };
  const markQueued = async (ids: string[]) => {
    if (ids.length)
      await redis
        .multi()
        .sadd(queuedKey, ...ids)
        .expire(queuedKey, SCAN_SCRATCH_TTL_SECONDS)
        .exec();
  };

  const getDetail = async (id: string): Promise<Finding | null> => {
    result.detailCalls++;
    return deps.analyzers.getFinding(analyzer, id);
  };

  try {
    for await (const page of deps.analyzers.activeFindingPages(analyzer, config.scan.pageSize)) {
      // A shutdown stops between pages; the job is handed back and lists again (jobs/workers.ts).
      signal?.throwIfAborted();
      result.pages++;
      result.active += page.length;
      if (page.length === 0) continue;
      await redis
        .multi()
        .sadd(seenKey, ...page.map((f) => f.id))
        .expire(seenKey, SCAN_SCRATCH_TTL_SECONDS)
        .exec();
      const states = await store.getMany(page.map((f) => f.id));
      const changed: { summary: FindingSummary; seen: ListedIdState | null }[] = [];
      page.forEach((summary, i) => {
        const s = states[i] ?? null;
        if (s?.status !== 'ACTIVE' || s.updatedAt !== summary.updatedAt) changed.push({ summary, seen: s });
      });
      const todo = await notQueued(changed, (t) => t.summary.id);
      // Queued by an earlier attempt: still new or changed in this scan's counts.
      for (const t of changed) if (!todo.includes(t)) t.seen ? result.changed++ : result.new++;
      if (todo.length === 0) continue;
      const details = await mapLimit(todo, config.scan.detailConcurrency, (t) => getDetail(t.summary.id));
      const byChannel = new Map<string, OutboxEvent[]>();
      const queue = (channel: string, event: OutboxEvent) => {
        const list = byChannel.get(channel) ?? [];
        list.push(event);
        byChannel.set(channel, list);
      };
      for (const [i, t] of todo.entries()) {
        const finding = details[i];
        if (!finding) continue; // gone between list and get: the next scan sees it closed
        const severity = assessSeverity(finding, config.severity.overrides);
        // An id the bot has not seen: a new card, or one more id for a card it already has.
        const seen = t.seen;
        const naturalKey = naturalKeyOf(finding);
        if (!seen) {
          const cardId = await store.claimNaturalKey(naturalKey, finding.id);
          if (cardId !== finding.id) {
            await store.joinCard(cardId, {
              id: finding.id,
              analyzerArn: finding.analyzerArn,
              region: finding.region,
              status: 'ACTIVE',
              updatedAt: finding.updatedAt,
            });
            result.joined++;
            const event = await joinedIdEvent(deps, cardId, finding, severity);
            if (event) queue(event.channel, event.event);
            continue;
          }
        } else if (seen.kind === 'member') {
          await store.setMember(finding.id, { status: 'ACTIVE', updatedAt: finding.updatedAt });
          result.changed++;
          const event = await joinedIdEvent(deps, seen.cardId, finding, severity);
          if (event) queue(event.channel, event.event);
          continue;
        } else if (seen.status !== 'ACTIVE' && seen.cardStatus === 'ACTIVE') {
          // The card's first id is listed again while others kept the card open.
          await store.setIdStatus(seen.cardId, finding.id, 'ACTIVE');
        }
        const route = await routeFinding(finding, {
          rules: config.routing,
          defaultChannel: config.slack.defaultChannel,
          tags: config.tags,
          getTags: () =>
            deps.tags.getTags({
              arn: finding.resourceArn,
              type: finding.resourceType,
              accountId: finding.accountId,
              region: finding.region,
            }),
        });
        if (!seen) {
          result.new++;
          await recordBurstCandidate(deps, scanId, route.channel, finding, severity);
        } else result.changed++;
        queue(route.channel, { kind: 'finding', finding, route, severity, naturalKey });
      }
      for (const [channel, events] of byChannel) await outbox.push(scanId, channel, events);
      await markQueued(todo.map((t) => t.summary.id));
    }
  } catch (err) {
    const e = err instanceof AwsError ? err : toAwsError(err, 'AccessAnalyzer.ListFindingsV2');
    // An analyzer deleted since the listing, or a request AWS rejects: retrying cannot help.
    if (e.kind === 'not-found' || e.kind === 'invalid') throw new UnrecoverableError(e.message);
    if (e.kind !== 'access-denied') throw e;
    // Denied: report, keep the previous active set (nothing is marked resolved on a partial listing).
    log.error({ err: e.message }, 'analyzer scan denied');
    await redis.del(seenKey);
    await noticeOnChange(deps, outbox, scanId, `denied:${shortHash(analyzer.arn)}`, `denied:${e.code}`, () =>
      scanAccessDeniedNotice({
        region: analyzer.region,
        analyzerArn: analyzer.arn,
        operation: e.operation,
        message: e.message,
      }),
    );
    return { ...result, ok: false, error: e.message };
  }
  await noticeOnChange(deps, outbox, scanId, `denied:${shortHash(analyzer.arn)}`, 'ok', () =>
    coverageRestoredNotice({ region: analyzer.region, what: `access to analyzer ${analyzer.name}` }),
  );

  // Ids the bot knew as active that this complete listing did not return: closed. A card closes
  // when the last of its ids under a live analyzer has.
  const vanished = await notQueued(await redis.sdiff(activeKey, seenKey), (id) => id);
  for (const id of vanished) {
    const [seen] = await store.getMany([id]);
    if (seen?.status !== 'ACTIVE') continue;
    const finding = await getDetail(id);
    if (finding?.status === 'ACTIVE') continue; // listed again by now; the next scan takes it
    const status = finding?.status === 'ARCHIVED' ? 'ARCHIVED' : 'RESOLVED';
    const at = finding?.updatedAt ?? deps.now().toISOString();
    const card = await store.get(seen.cardId);
    await store.setIdStatus(seen.cardId, id, status);
    if (!card) continue;
    const members = await store.cardMembers(seen.cardId, card);
    const open = members.filter((m) => m.id !== id && m.status === 'ACTIVE');
    if (open.some((m) => m.live)) continue; // the card stays: another analyzer still reports it
    if (card.status !== 'ACTIVE') continue;
    // Ids of analyzers that are gone or disabled close with the card, so that a listing of them
    // later (an analyzer back from FAILED) is seen as a change.
    for (const m of open) await store.setIdStatus(seen.cardId, m.id, status);
    result.closed++;
    await outbox.push(scanId, card.routeChannel, [
      { kind: 'closed', id: seen.cardId, status, at, finding: finding && { ...finding, id: seen.cardId } },
    ]);
    await markQueued([id]);
  }
  if (result.active > 0) await redis.rename(seenKey, activeKey);
  else await redis.del(activeKey, seenKey);

  log.info(result, 'analyzer scanned');
  return result;
}

/**
 * What a listed id that joined a card changes on the card: nothing while the card's first id is
 * ACTIVE (it is what the card shows); otherwise the card is drawn from this id (reopened when it
 * was closed), in the channel where its message is, routed as when it was first seen.
 */
async function joinedIdEvent(
  deps: JobDeps,
  cardId: string,
  finding: Finding,
  severity: ReturnType<typeof assessSeverity>,
): Promise<{ channel: string; event: OutboxEvent } | null> {
  const card = await deps.store.get(cardId);
  if (!card) return null; // the card is being created by this scan from its first id
  if (card.status === 'ACTIVE' && (card.ownStatus ?? card.status) === 'ACTIVE') return null;
  const route: Route = {
    channel: card.routeChannel,
    rule: card.routeRule ?? 'default',
    reason: `routed to ${card.routeChannel} when first seen`,
    ...(card.ownerEmail ? { ownerEmail: card.ownerEmail } : {}),
  };
  return {
    channel: card.routeChannel,
    event: { kind: 'finding', finding: { ...finding, id: cardId }, route, severity, via: finding.id },
  };
}

async function recordBurstCandidate(
  deps: JobDeps,
  scanId: string,
  channel: string,
  finding: Finding,
  severity: ReturnType<typeof assessSeverity>,
): Promise<void> {
  const stats = deps.keys.burstStats(scanId, channel);
  const worst = deps.keys.burstWorst(scanId, channel);
  const score = severity.rank * 1e13 + Date.parse(finding.createdAt);
  await deps.redis
    .multi()
    .hincrby(stats, 'new', 1)
    .hincrby(stats, `type:${finding.findingType}`, 1)
    .hincrby(stats, `sev:${severity.severity}`, 1)
    .expire(stats, SCAN_SCRATCH_TTL_SECONDS)
    .zadd(worst, score, JSON.stringify({ finding, severity }))
    .zremrangebyrank(worst, 10, -1)
    .expire(worst, SCAN_SCRATCH_TTL_SECONDS)
    .exec();
}

export async function finalizeScan(deps: JobDeps, job: Job<ScanFinalizeData>): Promise<FinalizeResult> {
  const { scanId } = job.data;
  const outbox = new Outbox(deps.redis, deps.keys);
  const children = await job.getChildrenValues<AnalyzerScanResult>();
  const analyzers = Object.values(children);
  // Children that failed after every retry: reported, never left out of the count.
  const failures = await job.getIgnoredChildrenFailures();
  for (const [key, reason] of Object.entries(failures)) {
    const child = await Job.fromId<ScanAnalyzerData>(deps.queues.scan, key.slice(key.lastIndexOf(':') + 1));
    const analyzer = child?.data.analyzer;
    const attempts = child?.attemptsMade ?? 0;
    deps.logger.error(
      { scanId, child: key, analyzer: analyzer?.arn, attempts, reason },
      'analyzer scan failed after retries',
    );
    const failed: AnalyzerScanResult = {
      analyzerArn: analyzer?.arn ?? key,
      region: analyzer?.region ?? 'unknown',
      ok: false,
      failed: true,
      attempts,
      error: reason,
      pages: 0,
      active: 0,
      new: 0,
      changed: 0,
      closed: 0,
      joined: 0,
      detailCalls: 0,
    };
    if (analyzer) {
      failed.name = analyzer.name;
      await noticeOnChange(deps, outbox, scanId, `scan-failed:${shortHash(analyzer.arn)}`, 'failed', () =>
        analyzerScanFailedNotice({ analyzer, error: reason, attempts }),
      );
    }
    analyzers.push(failed);
  }
  for (const a of analyzers.filter((x) => !x.failed)) {
    await noticeOnChange(deps, outbox, scanId, `scan-failed:${shortHash(a.analyzerArn)}`, 'ok', () =>
      coverageRestoredNotice({
        region: a.region,
        what: `a complete scan of analyzer ${a.name ?? a.analyzerArn}`,
      }),
    );
  }
  const deliverJobIds: string[] = [];
  for (const channel of await outbox.channels(scanId)) {
    const job = await enqueue(deps.queues, JOBS.deliverChannel, { scanId, channel });
    deliverJobIds.push(job.id ?? '');
  }
  await deps.redis.set(
    deps.keys.lastScan(),
    JSON.stringify({
      scanId,
      at: deps.now().toISOString(),
      analyzers,
      failedAnalyzers: analyzers.filter((a) => a.failed).length,
    }),
  );
  return { scanId, analyzers, deliverJobIds };
}
