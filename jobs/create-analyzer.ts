// Create analyzer (the coverage notice's button): lists every configured region again and asks the
// coverage model what is missing now, so the type is the one coverage says (ORGANIZATION_* when this
// account administers the organisation's analyzers) and unused access is created once per zone of
// trust, never once per region. A kind that is covered by now changes nothing.
import type { Job } from 'bullmq';
import { createAnalyzerNote } from '../blocks/notice.ts';
import { AwsError } from '../src/aws/errors.ts';
import { assessCoverage, type RegionListing } from '../src/findings/coverage.ts';
import type { CreateAnalyzerData } from '../src/queue/index.ts';
import { refusalWords } from './archive-rules.ts';
import type { JobDeps } from './deps.ts';
import { tell } from './tell.ts';

export async function createAnalyzerJob(deps: JobDeps, job: Job<CreateAnalyzerData>) {
  const d = job.data;
  const audit = (outcome: 'succeeded' | 'stale' | 'failed', extra: { detail?: string; error?: string }) =>
    deps.audit.record({
      actor: d.userId,
      action: 'create-analyzer',
      outcome,
      region: d.region,
      requestId: job.id,
      ...extra,
    });
  const nothing = async (outcome: 'covered' | 'refused', why: string) => {
    await tell(
      deps,
      d,
      createAnalyzerNote({ userId: d.userId, region: d.region, kind: d.kind, outcome, why }),
    );
    await audit(
      outcome === 'covered' ? 'stale' : 'failed',
      outcome === 'covered' ? { detail: why } : { error: why },
    );
    return { outcome: outcome === 'covered' ? 'stale' : 'failed' };
  };
  if (!deps.config.regions.includes(d.region)) {
    return nothing('refused', `${d.region} is not in the config's regions`);
  }
  if (!deps.config.scan.expectedAnalyzerKinds.includes(d.kind)) {
    return nothing('refused', `${d.kind} access is not in scan.expectedAnalyzerKinds`);
  }
  // Coverage as AWS has it now, just before creating anything.
  const listings: RegionListing[] = [];
  let complete = true;
  for (const region of deps.config.regions) {
    try {
      listings.push({ region, analyzers: await deps.analyzers.listAnalyzers(region) });
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      complete = false;
    }
  }
  const coverage = assessCoverage({
    listings,
    complete,
    expected: deps.config.scan.expectedAnalyzerKinds,
    configuredRegions: deps.config.regions,
  });
  let target: { region: string; type: string };
  if (d.kind === 'unused') {
    if (!coverage.unused) {
      return nothing(
        'refused',
        'not every configured region could be listed, so unused-access coverage cannot be judged',
      );
    }
    if (coverage.unused.state !== 'missing' || !coverage.unused.create) {
      return nothing(
        'covered',
        'an unused-access analyzer already covers this account or organization (one is enough)',
      );
    }
    // Unused access is once per zone of trust: where coverage says, whichever notice was clicked.
    target = coverage.unused.create;
  } else {
    const listed = coverage.regional.find((r) => r.region === d.region);
    if (!listed) return nothing('refused', `the analyzers of ${d.region} could not be listed`);
    const missing = listed.missing.find((m) => m.kind === d.kind);
    if (!missing) return nothing('covered', `${d.region} already has a ${d.kind}-access analyzer`);
    target = { region: d.region, type: missing.type };
  }
  const name = `access-patrol-${d.kind}`;
  let arn: string;
  try {
    arn = await deps.archiveRules.createAnalyzer({
      region: target.region,
      name,
      type: target.type,
      clientToken: job.id ?? d.requestTs,
    });
  } catch (err) {
    if (!(err instanceof AwsError) || err.kind === 'throttled' || err.kind === 'unavailable') throw err;
    return nothing('refused', refusalWords(err));
  }
  await audit('succeeded', { detail: `${target.type} ${name} in ${target.region}: ${arn}` });
  await tell(
    deps,
    d,
    createAnalyzerNote({
      userId: d.userId,
      region: target.region,
      kind: d.kind,
      outcome: 'created',
      name,
      type: target.type,
    }),
  );
  return { outcome: 'succeeded', arn, type: target.type, region: target.region };
}
