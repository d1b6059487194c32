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
import type { ListedIdState } from '../src/store/findings.ts';
import type { NoticeSubject } from '../src/store/keys.ts';
import { NOTICE_OK } from '../src/store/notices.ts';
import type { OutboxEvent } from '../src/store/outbox.ts';
import type { AnalyzerScanResult } from '../src/store/scans.ts';
import type { JobDeps } from './deps.ts';

export interface ScanRunResult {
  scanId: string;
  regions: string[];
  analyzers: number;
  finalizeJobId: string;
}

/** Counters of an analyzer's scan before it has listed anything (and of one that failed). */
function noCounts(): Pick<
  AnalyzerScanResult,
  'pages' | 'active' | 'new' | 'changed' | 'closed' | 'joined' | 'detailCalls'
> {
  return { pages: 0, active: 0, new: 0, changed: 0, closed: 0, joined: 0, detailCalls: 0 };
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

/** Queues an admin notice only when the state it reports differs from the last one reported. */
async function noticeOnChange(
  deps: JobDeps,
  scanId: string,
  subject: NoticeSubject,
  state: string,
  build: (previous: string | null) => { text: string; blocks: KnownBlock[] },
): Promise<void> {
  await deps.notices.reportOnChange(subject, state, async ({ id, previous }) => {
    const msg = build(previous);
    await deps.outbox.push(scanId, deps.config.slack.adminChannel, [
      { kind: 'notice', key: id, text: msg.text, blocks: msg.blocks },
    ]);
  });
}

const EXPECTED_KINDS: AnalyzerKind[] = ['external', 'internal', 'unused'];

export async function runScan(deps: JobDeps, job: Job<ScanRunData>): Promise<ScanRunResult> {
  const scanId = scanIdOf(job);
  const log = deps.logger.child({ jobId: job.id, scanId });
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
      await noticeOnChange(deps, scanId, { about: 'listing-denied', region }, `denied:${e.code}`, () =>
        scanAccessDeniedNotice({ region, operation: e.operation, message: e.message }),
      );
      continue;
    }
    await noticeOnChange(deps, scanId, { about: 'listing-denied', region }, NOTICE_OK, () =>
      coverageRestoredNotice({ region, what: 'access to its analyzers' }),
    );
    listings.push({ region, analyzers });
    for (const a of analyzers.filter((x) => !x.managedBy)) {
      const state = a.status === 'ACTIVE' ? NOTICE_OK : `${a.status}:${a.statusReason ?? ''}`;
      const subject: NoticeSubject = { about: 'analyzer-not-active', analyzerArn: a.arn };
      await noticeOnChange(deps, scanId, subject, state, () =>
        state === NOTICE_OK
          ? coverageRestoredNotice({ region, what: `analyzer ${a.name}` })
          : analyzerNotActiveNotice({ analyzer: a }),
      );
    }
  }

  const coverage = assessCoverage({ listings, complete, expected, configuredRegions: config.regions });
  const { organization } = coverage;
  for (const { region, missing } of coverage.regional) {
    const state = missing.length ? missing.map((m) => `${m.kind}:${m.type}`).join(',') : NOTICE_OK;
    await noticeOnChange(deps, scanId, { about: 'missing-analyzers', region }, state, () =>
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
        ? NOTICE_OK
        : unused.state === 'missing'
          ? `missing:${zoneKey(zone)}:${unused.create?.type}`
          : `service-linked:${unused.serviceLinked?.arn}`;
    await noticeOnChange(deps, scanId, { about: 'unused-coverage' }, state, (previous) => {
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
      ? NOTICE_OK
      : null;
  if (dupState !== null) {
    await noticeOnChange(deps, scanId, { about: 'unused-duplicates' }, dupState, () => {
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
  await deps.serviceLinked.record(linked);
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

/**
 * Listed pages whose tag reads an analyzer job holds back and sends together: GetResources batches
 * span them; the job holds at most this many pages of findings in memory.
 */
export const ROUTING_PAGES = 4;

type Routed = { route: Route } | { error: unknown };
/** One finding of a listed page on its way to the outbox: an event already made, or a route to wait for. */
type PageStep =
  | { channel: string; event: OutboxEvent }
  | {
      routed: Promise<Routed>;
      finding: Finding;
      isNew: boolean;
      severity: ReturnType<typeof assessSeverity>;
      naturalKey: string;
    };

export async function scanAnalyzer(
  deps: JobDeps,
  job: Job<ScanAnalyzerData>,
  signal?: AbortSignal,
): Promise<AnalyzerScanResult> {
  const { scanId, analyzer } = job.data;
  const log = deps.logger.child({ jobId: job.id, scanId, analyzer: analyzer.arn });
  const { config, store, outbox } = deps;
  const result: AnalyzerScanResult = {
    analyzerArn: analyzer.arn,
    name: analyzer.name,
    region: analyzer.region,
    ok: true,
    ...noCounts(),
  };
  const listing = deps.scans.listing(scanId, analyzer.arn);
  // A retried job lists again from the first page; what an earlier attempt queued is not queued twice.
  await listing.begin();
  const notQueued = async <T>(items: T[], idOf: (t: T) => string): Promise<T[]> => {
    if (items.length === 0) return items;
    const done = await listing.queued(items.map(idOf));
    return items.filter((_, i) => !done[i]);
  };
  const markQueued = (ids: string[]) => listing.markQueued(ids);

  const getDetail = async (id: string): Promise<Finding | null> => {
    result.detailCalls++;
    return deps.analyzers.getFinding(analyzer, id);
  };

  /** A listed page whose routes may still wait for tags: its events, in listing order. */
  const routing: { steps: PageStep[]; ids: string[] }[] = [];
  /** Queues a routed page's events for delivery (after every earlier page's), then marks them queued. */
  const finishPage = async (page: { steps: PageStep[]; ids: string[] }) => {
    const byChannel = new Map<string, OutboxEvent[]>();
    const queue = (channel: string, event: OutboxEvent) => {
      const list = byChannel.get(channel) ?? [];
      list.push(event);
      byChannel.set(channel, list);
    };
    for (const step of page.steps) {
      if ('event' in step) {
        queue(step.channel, step.event);
        continue;
      }
      const routed = await step.routed;
      if ('error' in routed) throw routed.error;
      const { route } = routed;
      const { finding, severity, naturalKey } = step;
      if (step.isNew) {
        result.new++;
        await deps.bursts.recordNew(scanId, route.channel, { finding, severity });
      } else result.changed++;
      queue(route.channel, { kind: 'finding', finding, route, severity, naturalKey });
    }
    for (const [channel, events] of byChannel) await outbox.push(scanId, channel, events);
    await markQueued(page.ids);
  };
  /** Sends the held tag reads of the pages in flight together, then queues those pages in order. */
  const drain = async () => {
    // The routes started last ask for their tags a few microtasks after they start.
    await new Promise<void>((resolve) => setImmediate(resolve));
    deps.tags.flush?.();
    while (routing.length) await finishPage(routing.shift()!);
  };

  const denied: NoticeSubject = { about: 'analyzer-denied', analyzerArn: analyzer.arn };
  try {
    for await (const page of deps.analyzers.activeFindingPages(analyzer, config.scan.pageSize)) {
      // A shutdown stops between pages; the job is handed back and lists again (jobs/workers.ts).
      signal?.throwIfAborted();
      result.pages++;
      result.active += page.length;
      if (page.length === 0) continue;
      await listing.addSeen(page.map((f) => f.id));
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
      const steps: PageStep[] = [];
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
            if (event) steps.push(event);
            continue;
          }
        } else if (seen.kind === 'member') {
          await store.setMember(finding.id, { status: 'ACTIVE', updatedAt: finding.updatedAt });
          result.changed++;
          const event = await joinedIdEvent(deps, seen.cardId, finding, severity);
          if (event) steps.push(event);
          continue;
        } else if (seen.status !== 'ACTIVE' && seen.cardStatus === 'ACTIVE') {
          // The card's first id is listed again while others kept the card open.
          await store.setIdStatus(seen.cardId, finding.id, 'ACTIVE');
        }
        const routed = routeFinding(finding, {
          rules: config.routing,
          defaultChannel: config.slack.defaultChannel,
          tags: config.tags,
          getTags: () =>
            deps.tags.getTags(
              {
                arn: finding.resourceArn,
                type: finding.resourceType,
                accountId: finding.accountId,
                region: finding.region,
              },
              { scanId, held: true },
            ),
        }).then(
          (route): Routed => ({ route }),
          (error: unknown): Routed => ({ error }),
        );
        steps.push({ routed, finding, isNew: !seen, severity, naturalKey });
      }
      // Routes are started as the page is walked and awaited later, in page order: the tag reads
      // of ROUTING_PAGES pages wait together, so GetResources batches (up to 100 ARNs of an
      // account and region) span pages, while events keep the listing's order.
      routing.push({ steps, ids: todo.map((t) => t.summary.id) });
      if (routing.length >= ROUTING_PAGES) await drain();
    }
    await drain();
  } catch (err) {
    const e = err instanceof AwsError ? err : toAwsError(err, 'AccessAnalyzer.ListFindingsV2');
    // An analyzer deleted since the listing, or a request AWS rejects: retrying cannot help.
    if (e.kind === 'not-found' || e.kind === 'invalid') throw new UnrecoverableError(e.message);
    if (e.kind !== 'access-denied') throw e;
    // Denied: report, keep the previous active set (nothing is marked resolved on a partial listing).
    log.error({ err: e.message }, 'analyzer scan denied');
    await listing.abandon();
    await noticeOnChange(deps, scanId, denied, `denied:${e.code}`, () =>
      scanAccessDeniedNotice({
        region: analyzer.region,
        analyzerArn: analyzer.arn,
        operation: e.operation,
        message: e.message,
      }),
    );
    return { ...result, ok: false, error: e.message };
  }
  await noticeOnChange(deps, scanId, denied, NOTICE_OK, () =>
    coverageRestoredNotice({ region: analyzer.region, what: `access to analyzer ${analyzer.name}` }),
  );

  // Ids the bot knew as active that this complete listing did not return: closed. A card closes
  // when the last of its ids under a live analyzer has.
  const vanished = await notQueued(await listing.notSeen(), (id) => id);
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
  await listing.complete(result.active > 0);

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

export async function finalizeScan(deps: JobDeps, job: Job<ScanFinalizeData>): Promise<FinalizeResult> {
  const { scanId } = job.data;
  // Every analyzer job of the scan is done: the tags it read per resource are not needed again.
  deps.tags.endScan?.(scanId);
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
      ...noCounts(),
    };
    if (analyzer) {
      failed.name = analyzer.name;
      const subject: NoticeSubject = { about: 'scan-failed', analyzerArn: analyzer.arn };
      await noticeOnChange(deps, scanId, subject, 'failed', () =>
        analyzerScanFailedNotice({ analyzer, error: reason, attempts }),
      );
    }
    analyzers.push(failed);
  }
  for (const a of analyzers.filter((x) => !x.failed)) {
    const subject: NoticeSubject = { about: 'scan-failed', analyzerArn: a.analyzerArn };
    await noticeOnChange(deps, scanId, subject, NOTICE_OK, () =>
      coverageRestoredNotice({
        region: a.region,
        what: `a complete scan of analyzer ${a.name ?? a.analyzerArn}`,
      }),
    );
  }
  const deliverJobIds: string[] = [];
  // Longest first: the deliveries end closer together, with fewer slots idle at the end.
  for (const channel of await deps.outbox.channelsLongestFirst(scanId)) {
    const job = await enqueue(deps.queues, JOBS.deliverChannel, { scanId, channel });
    deliverJobIds.push(job.id ?? '');
  }
  await deps.scans.saveLastScan({
    scanId,
    at: deps.now().toISOString(),
    analyzers,
    failedAnalyzers: analyzers.filter((a) => a.failed).length,
  });
  return { scanId, analyzers, deliverJobIds };
}
