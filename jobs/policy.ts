// Least-privilege policy generation, one at a time per account, and policy validation.
//
// AWS runs one policy generation at a time per account (and about 50 a day, canceled ones included),
// so requests wait in a FIFO per account in Redis. The head of the FIFO holds the account's slot
// (`policyActive`); claiming and releasing the slot are single Lua scripts, so two workers can never
// start two generations in one account. A generation is followed by delayed `policy-poll` jobs with
// growing delays (no worker ever sleeps waiting for AWS); when it ends, whatever the outcome, the slot
// is released and the next request in that account is started.
//
//   policy-request  record the request at the tail of its account's FIFO; say how many are ahead;
//                   claim the slot if free -> policy-start
//   policy-start    StartPolicyGeneration (clientToken = request id); Conflict (a generation started
//                   elsewhere) keeps the place and retries later; quota drops the request
//   policy-poll     GetGeneratedPolicy; IN_PROGRESS -> progress note updated in place + next poll;
//                   SUCCEEDED -> result (validation, comparison, CheckNoNewAccess); FAILED/CANCELED ->
//                   why; then release the slot and claim it for the next request
import { type Job, UnrecoverableError } from 'bullmq';
import {
  type GenerationSubject,
  generationConflictNote,
  generationEndedNote,
  generationFailedMessage,
  generationProgress,
  generationQueuedNote,
  generationQuotaNote,
  generationResultMessage,
  notConfiguredNote,
  policyDocumentMessages,
  policyFailedNote,
  validationReply,
} from '../blocks/policy.ts';
import { AwsError } from '../src/aws/errors.ts';
import {
  type CheckResult,
  type GeneratedPolicyResult,
  type PolicyFinding,
  type PublicAccessResourceType,
  VALIDATE_RESOURCE_TYPES,
} from '../src/aws/policy.ts';
import { accessRoleFor, missingConfig, pollDelayMs } from '../src/config/policy-generation.ts';
import { type ActionComparison, combinePolicies, compareActions } from '../src/findings/policy-actions.ts';
import {
  enqueue,
  JOBS,
  type PolicyRequestData,
  type PolicyStepData,
  type PolicyValidateData,
} from '../src/queue/index.ts';
import { CHANNEL_UNUSABLE_ERRORS, type OutgoingMessage, SlackError } from '../src/slack/client.ts';
import type { JobDeps } from './deps.ts';
import { onceKey, postOnce } from './post-once.ts';
import { failureMessage, isFinalFailure } from './retry.ts';
import { tell } from './tell.ts';

/** A request as kept in Redis while it waits, runs and reports. */
export interface PolicyRequestState extends PolicyRequestData {
  status: 'queued' | 'conflict' | 'running' | 'done';
  awsJobId?: string;
  /** When StartPolicyGeneration answered. */
  startedAt?: string;
  /** Where the progress note and the result go: the finding's thread, or the channel (then its thread). */
  anchor?: { channel: string; threadTs?: string };
  progressTs?: string;
  polls?: number;
  /** When the first Conflict was met (retries stop after maxWaitMinutes). */
  conflictSince?: string;
  /** The attempt number of the next start (conflict retries count up). */
  startAttempt?: number;
  resultPosted?: boolean;
}

/** Requests are kept a week after they were made (ListPolicyGenerations also keeps 7 days). */
const REQUEST_TTL_SECONDS = 7 * 24 * 3600;
const DAY_MS = 86_400_000;

/** Adds the request once (SET NX) at the tail of the FIFO; returns its index (0 = head). */
const ENQUEUE_LUA = `
if redis.call('SET', KEYS[1], ARGV[2], 'NX', 'EX', ARGV[3]) then
  redis.call('RPUSH', KEYS[2], ARGV[1])
end
local pos = redis.call('LPOS', KEYS[2], ARGV[1])
if pos then return pos end
return -1`;
/** The slot goes to the FIFO head when nobody holds it; returns the head, or nil when busy or empty. */
const CLAIM_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local head = redis.call('LINDEX', KEYS[2], 0)
if not head then return false end
redis.call('SET', KEYS[1], head, 'PX', ARGV[1])
return head`;
/** Drops the request from the FIFO and frees the slot if it held it. */
const RELEASE_LUA = `
redis.call('LREM', KEYS[2], 0, ARGV[1])
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`;

const regionOf = (deps: JobDeps) => deps.config.policyGeneration?.region ?? deps.config.regions[0]!;

async function loadRequest(deps: JobDeps, requestId: string): Promise<PolicyRequestState | null> {
  const raw = await deps.redis.get(deps.keys.policyRequest(requestId));
  return raw ? (JSON.parse(raw) as PolicyRequestState) : null;
}

async function saveRequest(deps: JobDeps, req: PolicyRequestState): Promise<void> {
  await deps.redis.set(
    deps.keys.policyRequest(req.requestId),
    JSON.stringify(req),
    'EX',
    REQUEST_TTL_SECONDS,
  );
}

function subjectOf(req: PolicyRequestData): GenerationSubject {
  return { principalArn: req.principalArn, accountId: req.accountId, days: req.days, userId: req.userId };
}

async function audit(
  deps: JobDeps,
  req: PolicyRequestData,
  outcome: 'requested' | 'succeeded' | 'failed',
  extra: { detail?: string; error?: string; requestId?: string } = {},
): Promise<void> {
  await deps.audit.record({
    actor: req.userId,
    action: 'generate-policy',
    outcome,
    resourceArn: req.principalArn,
    accountId: req.accountId,
    region: regionOf(deps),
    requestId: extra.requestId ?? req.requestId,
    ...(req.findingId ? { findingId: req.findingId } : {}),
    ...(extra.detail ? { detail: extra.detail } : {}),
    ...(extra.error ? { error: extra.error } : {}),
  });
}

/**
 * Posts into the request's anchor: the finding's thread, or the channel where it was asked (the first
 * post becomes the thread of the rest). A channel the bot cannot post in falls back to a DM.
 * Posted at most once per `once` key (jobs/post-once.ts): a retry of the job does not repeat it, and
 * learns where the earlier attempt posted it. Returns the message ts, when known.
 */
async function postToAnchor(
  deps: JobDeps,
  req: PolicyRequestState,
  msg: OutgoingMessage,
  once: string,
): Promise<string | undefined> {
  const anchor = req.anchor ?? { channel: req.userId };
  try {
    const posted = await postOnce(deps, once, (marker) =>
      deps.slack.post(anchor.channel, msg, {
        ...(anchor.threadTs ? { threadTs: anchor.threadTs } : {}),
        ...marker,
      }),
    );
    if (!posted) return undefined;
    if (!anchor.threadTs) req.anchor = { channel: posted.channel, threadTs: posted.ts };
    return posted.ts;
  } catch (err) {
    if (
      !(err instanceof SlackError && CHANNEL_UNUSABLE_ERRORS.has(err.code)) ||
      anchor.channel === req.userId
    ) {
      throw err;
    }
    deps.logger.warn(
      { channel: anchor.channel, code: err.code },
      'cannot post the policy result there; sending a DM',
    );
    req.anchor = { channel: req.userId };
    return postToAnchor(deps, req, msg, once);
  }
}

/** Updates the progress note in place, or posts it (once per `once` key) when there is none yet. */
async function showProgress(
  deps: JobDeps,
  req: PolicyRequestState,
  msg: OutgoingMessage,
  once: string,
): Promise<void> {
  if (req.progressTs && req.anchor) {
    await deps.slack.update(req.anchor.channel, req.progressTs, msg);
    return;
  }
  const ts = await postToAnchor(deps, req, msg, once);
  if (ts) req.progressTs = ts;
}

/** Claims the account's slot for the head of its FIFO, if free, and queues that request's start. */
export async function advanceAccount(deps: JobDeps, accountId: string): Promise<string | null> {
  const cfg = deps.config.policyGeneration;
  if (!cfg) return null;
  // The slot expires on its own if everything about the holder is lost (it is renewed at each poll).
  const ttl = (cfg.maxWaitMinutes + 30) * 60_000;
  const head = (await deps.redis.eval(
    CLAIM_LUA,
    2,
    deps.keys.policyActive(accountId),
    deps.keys.policyQueue(accountId),
    String(ttl),
  )) as string | null;
  if (!head) return null;
  const req = await loadRequest(deps, head);
  if (!req || req.status === 'done') {
    // Expired or ended without its release: drop it and try the next one.
    await release(deps, accountId, head);
    return advanceAccount(deps, accountId);
  }
  if (req.status === 'running' && req.awsJobId) {
    // Its slot expired while the generation ran (its poll jobs were lost): resume polling.
    await schedulePoll(deps, req, req.polls ?? 0);
    return head;
  }
  // The same id as a pending conflict retry, so a re-claim never starts twice.
  const attempt = req.startAttempt ?? 0;
  await enqueue(deps.queues, JOBS.policyStart, {
    requestId: head,
    accountId,
    attempt,
    userId: req.userId,
    requestTs: req.requestTs,
  });
  return head;
}

async function release(deps: JobDeps, accountId: string, requestId: string): Promise<void> {
  await deps.redis.eval(
    RELEASE_LUA,
    2,
    deps.keys.policyActive(accountId),
    deps.keys.policyQueue(accountId),
    requestId,
  );
}

/** The request ended (any outcome): mark it, free the slot, start the next one in the account. */
async function finish(deps: JobDeps, req: PolicyRequestState): Promise<void> {
  req.status = 'done';
  await saveRequest(deps, req);
  await release(deps, req.accountId, req.requestId);
  await advanceAccount(deps, req.accountId);
}

// ------------------------------------------------------------------------------------------ request

export async function requestPolicyGeneration(
  deps: JobDeps,
  job: Job<PolicyRequestData>,
): Promise<{ outcome: 'queued' | 'refused'; ahead?: number }> {
  const d = job.data;
  const missing = missingConfig(deps.config, d.trailArn);
  if (missing) {
    await tell(deps, d, notConfiguredNote(missing));
    await audit(deps, d, 'failed', { error: missing, requestId: job.id });
    return { outcome: 'refused' };
  }
  let anchor: PolicyRequestState['anchor'];
  if (d.findingId) {
    const state = await deps.store.get(d.findingId);
    if (state?.channel && state.ts) anchor = { channel: state.channel, threadTs: state.threadTs ?? state.ts };
  }
  anchor ??= d.replyChannel ? { channel: d.replyChannel } : undefined;
  const state: PolicyRequestState = { ...d, status: 'queued', ...(anchor ? { anchor } : {}) };
  const position = Number(
    await deps.redis.eval(
      ENQUEUE_LUA,
      2,
      deps.keys.policyRequest(d.requestId),
      deps.keys.policyQueue(d.accountId),
      d.requestId,
      JSON.stringify(state),
      String(REQUEST_TTL_SECONDS),
    ),
  );
  if (job.attemptsMade === 0) {
    await audit(deps, d, 'requested', {
      detail: `${d.days} days, trail ${d.trailArn ?? 'configured'}, regions ${d.regions === 'all' ? 'all' : d.regions.join(',')}`,
    });
  }
  const holder = await deps.redis.get(deps.keys.policyActive(d.accountId));
  const ahead = Math.max(0, position);
  if (ahead > 0 || (holder !== null && holder !== d.requestId)) {
    await tell(
      deps,
      d,
      generationQueuedNote({
        ahead: Math.max(ahead, 1),
        accountId: d.accountId,
        principalArn: d.principalArn,
      }),
    );
  }
  await advanceAccount(deps, d.accountId);
  return { outcome: 'queued', ahead };
}

// ------------------------------------------------------------------------------------------ start

export async function startPolicyGeneration(
  deps: JobDeps,
  job: Job<PolicyStepData>,
): Promise<{ outcome: string }> {
  const cfg = deps.config.policyGeneration;
  const { requestId, accountId, attempt } = job.data;
  const req = await loadRequest(deps, requestId);
  if (!cfg || !req || req.status === 'done') return { outcome: 'stale' };
  if ((await deps.redis.get(deps.keys.policyActive(accountId))) !== requestId)
    return { outcome: 'not-holder' };
  const region = regionOf(deps);
  const subject = subjectOf(req);
  if (req.awsJobId) {
    await schedulePoll(deps, req, 0);
    return { outcome: 'running' };
  }

  const now = deps.now();
  const startsKey = deps.keys.policyStarts(accountId);
  await deps.redis.zremrangebyscore(startsKey, '-inf', String(now.getTime() - DAY_MS));
  const recent = await deps.redis.zrange(startsKey, 0, -1, 'WITHSCORES');
  const refuseQuota = async (error: string) => {
    const oldest = recent.length >= 2 ? Number(recent[1]) : now.getTime();
    await tell(
      deps,
      req,
      generationQuotaNote({ accountId, quota: cfg.dailyQuota, tryAfter: new Date(oldest + DAY_MS) }),
    );
    await audit(deps, req, 'failed', { error });
    await finish(deps, req);
    return { outcome: 'quota' };
  };
  if (recent.length / 2 >= cfg.dailyQuota) {
    return refuseQuota(`daily limit of ${cfg.dailyQuota} policy generations reached in account ${accountId}`);
  }

  const trails = (req.trailArn ? [req.trailArn] : cfg.trails).map((cloudTrailArn) =>
    req.regions === 'all'
      ? { cloudTrailArn, allRegions: true }
      : { cloudTrailArn, regions: req.regions as string[] },
  );
  try {
    req.awsJobId = await deps.policy.startGeneration({
      accountId,
      region,
      principalArn: req.principalArn,
      trails,
      accessRoleArn: accessRoleFor(cfg, accountId),
      startTime: new Date(now.getTime() - req.days * DAY_MS),
      endTime: now,
      clientToken: requestId,
    });
  } catch (err) {
    if (err instanceof AwsError && err.kind === 'conflict') {
      const since = req.conflictSince ?? now.toISOString();
      if (now.getTime() - Date.parse(since) > cfg.maxWaitMinutes * 60_000) {
        const message = `another policy generation kept account ${accountId} busy for over ${cfg.maxWaitMinutes} minutes`;
        await tell(deps, req, policyFailedNote(`generate a policy for ${req.principalArn}`, message));
        await audit(deps, req, 'failed', { error: message });
        await finish(deps, req);
        return { outcome: 'gave-up' };
      }
      const delay = pollDelayMs(cfg, attempt);
      if (!req.conflictSince)
        await tell(deps, req, generationConflictNote({ accountId, retryInSeconds: delay / 1000 }));
      req.status = 'conflict';
      req.conflictSince = since;
      req.startAttempt = attempt + 1;
      await saveRequest(deps, req);
      await enqueue(deps.queues, JOBS.policyStart, { ...job.data, attempt: attempt + 1 }, { delay });
      return { outcome: 'conflict' };
    }
    if (err instanceof AwsError && err.kind === 'quota') return refuseQuota(`${err.code}: ${err.message}`);
    const final = isFinalFailure(err, job, { nonAwsIsFinal: true });
    if (!final) throw err;
    const message = failureMessage(err);
    await postToAnchor(
      deps,
      req,
      generationFailedMessage(subject, {
        status: 'ERROR',
        error: { code: err instanceof AwsError ? err.code : 'Error', message },
      }),
      onceKey(job, 'result'),
    ).catch(() => undefined);
    await tell(deps, req, policyFailedNote(`generate a policy for ${req.principalArn}`, message));
    await audit(deps, req, 'failed', { error: message });
    await finish(deps, req);
    throw new UnrecoverableError(message);
  }
  await deps.redis.zadd(startsKey, now.getTime(), requestId);
  await deps.redis.pexpire(startsKey, DAY_MS * 2);
  req.status = 'running';
  req.startedAt = now.toISOString();
  req.polls = 0;
  await showProgress(
    deps,
    req,
    generationProgress(subject, {
      polls: 0,
      startedAt: now,
      now,
      nextCheckSeconds: pollDelayMs(cfg, 0) / 1000,
    }),
    onceKey(job, 'progress'),
  ).catch((err: unknown) => deps.logger.warn({ err: (err as Error).message }, 'progress note failed'));
  await saveRequest(deps, req);
  await schedulePoll(deps, req, 0);
  return { outcome: 'started' };
}

async function schedulePoll(deps: JobDeps, req: PolicyRequestState, attempt: number): Promise<void> {
  const cfg = deps.config.policyGeneration!;
  await enqueue(
    deps.queues,
    JOBS.policyPoll,
    {
      requestId: req.requestId,
      accountId: req.accountId,
      attempt,
      userId: req.userId,
      requestTs: req.requestTs,
    },
    { delay: pollDelayMs(cfg, attempt) },
  );
}

// ------------------------------------------------------------------------------------------ poll

export async function pollPolicyGeneration(
  deps: JobDeps,
  job: Job<PolicyStepData>,
): Promise<{ outcome: string }> {
  const cfg = deps.config.policyGeneration;
  const { requestId, accountId, attempt } = job.data;
  const req = await loadRequest(deps, requestId);
  if (!cfg || !req || req.status === 'done' || !req.awsJobId) return { outcome: 'stale' };
  const region = regionOf(deps);
  const subject = subjectOf(req);
  let result: GeneratedPolicyResult;
  try {
    result = await deps.policy.getGeneratedPolicy(accountId, region, req.awsJobId);
  } catch (err) {
    // Retried by BullMQ while it may help; after that the request ends here, so the account's
    // queue moves on instead of waiting for the slot to expire.
    const final = isFinalFailure(err, job, { nonAwsIsFinal: true });
    if (!final) throw err;
    const code = err instanceof AwsError ? err.code : 'Error';
    await end(deps, job, req, 'ERROR', { code, message: (err as Error).message });
    throw new UnrecoverableError((err as Error).message);
  }
  const now = deps.now();
  const startedAt = new Date(req.startedAt ?? now.toISOString());
  req.polls = attempt + 1;

  if (result.status === 'IN_PROGRESS') {
    if (now.getTime() - startedAt.getTime() > cfg.maxWaitMinutes * 60_000) {
      await deps.policy.cancelGeneration(accountId, region, req.awsJobId).catch(() => undefined);
      return end(deps, job, req, 'TIMED_OUT', {
        code: 'TIMED_OUT',
        message: `still running after ${cfg.maxWaitMinutes} minutes; canceled so the account's next request can run`,
      });
    }
    // Keep the slot while this generation runs.
    await deps.redis.pexpire(deps.keys.policyActive(accountId), (cfg.maxWaitMinutes + 30) * 60_000);
    await showProgress(
      deps,
      req,
      generationProgress(subject, {
        polls: req.polls,
        startedAt,
        now,
        nextCheckSeconds: pollDelayMs(cfg, attempt + 1) / 1000,
      }),
      onceKey(job, 'progress'),
    ).catch((err: unknown) => deps.logger.warn({ err: (err as Error).message }, 'progress note failed'));
    await saveRequest(deps, req);
    await schedulePoll(deps, req, attempt + 1);
    return { outcome: 'in-progress' };
  }
  if (result.status === 'SUCCEEDED') {
    if (!req.resultPosted) {
      const report = await buildReport(deps, req, result);
      await showProgress(
        deps,
        req,
        generationEndedNote(subject, 'done, the result is below'),
        onceKey(job, 'progress'),
      ).catch(() => undefined);
      await postToAnchor(
        deps,
        req,
        generationResultMessage({ ...subject, ...report, result }),
        onceKey(job, 'result'),
      );
      const documents = policyDocumentMessages(result.policies);
      for (const [i, m] of documents.entries()) {
        await postToAnchor(deps, req, m, onceKey(job, `policy-${i}`));
      }
      req.resultPosted = true;
      await saveRequest(deps, req);
      const c = report.comparison;
      await audit(deps, req, 'succeeded', {
        detail: [
          c ? `keeps ${c.kept} of ${c.current} actions` : 'no comparison',
          `complete ${result.isComplete !== false}`,
          report.noNewAccess ? `CheckNoNewAccess ${report.noNewAccess.map((r) => r.result).join(',')}` : '',
          `ValidatePolicy ${report.findings.length} findings`,
        ]
          .filter(Boolean)
          .join('; '),
      });
    }
    await finish(deps, req);
    return { outcome: 'succeeded' };
  }
  return end(deps, job, req, result.status, result.error);
}

async function end(
  deps: JobDeps,
  job: Job<PolicyStepData>,
  req: PolicyRequestState,
  status: 'FAILED' | 'CANCELED' | 'TIMED_OUT' | 'ERROR',
  error?: { code: string; message: string },
): Promise<{ outcome: string }> {
  const subject = subjectOf(req);
  const word = {
    FAILED: 'failed',
    CANCELED: 'canceled',
    TIMED_OUT: 'timed out',
    ERROR: 'could not be followed',
  }[status];
  await showProgress(deps, req, generationEndedNote(subject, word), onceKey(job, 'progress')).catch(
    () => undefined,
  );
  await postToAnchor(
    deps,
    req,
    generationFailedMessage(subject, { status, ...(error ? { error } : {}) }),
    onceKey(job, 'result'),
  );
  await audit(deps, req, 'failed', {
    detail: status.toLowerCase(),
    ...(error ? { error: `${error.code}: ${error.message}` } : { error: status.toLowerCase() }),
  });
  await finish(deps, req);
  return { outcome: status.toLowerCase() };
}

/** ValidatePolicy, the comparison with today's policies and CheckNoNewAccess, for a generated policy. */
async function buildReport(
  deps: JobDeps,
  req: PolicyRequestState,
  result: GeneratedPolicyResult,
): Promise<{
  comparison: ActionComparison | null;
  unreadable: string[];
  noNewAccess: CheckResult[] | null;
  findings: PolicyFinding[];
}> {
  const region = regionOf(deps);
  const findings: PolicyFinding[] = [];
  for (const document of result.policies) {
    findings.push(
      ...(await deps.policy.validatePolicy({
        accountId: req.accountId,
        region,
        document,
        policyType: 'IDENTITY_POLICY',
      })),
    );
  }
  const held = await deps.policy.principalPolicies(req.principalArn).catch((err: unknown) => {
    deps.logger.warn(
      { err: (err as Error).message, principal: req.principalArn },
      'cannot read current policies',
    );
    return null;
  });
  if (!held) return { comparison: null, unreadable: [], noNewAccess: null, findings };
  const current = [
    ...held.attached.filter((a) => a.document !== undefined).map((a) => a.document!),
    ...held.inline.map((p) => p.document),
  ];
  const unreadable = held.attached.filter((a) => a.document === undefined).map((a) => a.arn);
  const existing = combinePolicies(current);
  const noNewAccess: CheckResult[] = [];
  for (const document of result.policies) {
    noNewAccess.push(
      await deps.policy.checkNoNewAccess({
        accountId: req.accountId,
        region,
        newDocument: document,
        existingDocument: existing,
        policyType: 'IDENTITY_POLICY',
      }),
    );
  }
  return { comparison: compareActions(result.policies, current), unreadable, noNewAccess, findings };
}

// ------------------------------------------------------------------------------------------ validate

export async function validatePolicyJob(
  deps: JobDeps,
  job: Job<PolicyValidateData>,
): Promise<{ findings: number }> {
  const d = job.data;
  const region = regionOf(deps);
  try {
    // A resource policy for a type ValidatePolicy knows also gets that type's own checks.
    const resourceChecks =
      d.policyType === 'RESOURCE_POLICY' &&
      (VALIDATE_RESOURCE_TYPES as readonly string[]).includes(d.resourceType ?? '');
    const findings = await deps.policy.validatePolicy({
      region,
      document: d.document,
      policyType: d.policyType,
      ...(resourceChecks ? { validatePolicyResourceType: d.resourceType } : {}),
    });
    const publicAccess = d.resourceType
      ? {
          resourceType: d.resourceType,
          result: await deps.policy.checkNoPublicAccess({
            region,
            document: d.document,
            resourceType: d.resourceType as PublicAccessResourceType,
          }),
        }
      : undefined;
    await tell(
      deps,
      d,
      validationReply({ policyType: d.policyType, findings, ...(publicAccess ? { publicAccess } : {}) }),
    );
    const count = (t: PolicyFinding['findingType']) => findings.filter((f) => f.findingType === t).length;
    await deps.audit.record({
      actor: d.userId,
      action: 'validate-policy',
      outcome: 'succeeded',
      region,
      requestId: job.id,
      detail: `${d.policyType}: ${count('ERROR')} errors, ${count('SECURITY_WARNING')} security warnings, ${count('WARNING')} warnings, ${count('SUGGESTION')} suggestions${publicAccess ? `; public access ${publicAccess.result.result} as ${publicAccess.resourceType}` : ''}`,
    });
    return { findings: findings.length };
  } catch (err) {
    const final = isFinalFailure(err, job, { nonAwsIsFinal: true });
    if (!final) throw err;
    const message = failureMessage(err);
    await deps.audit.record({
      actor: d.userId,
      action: 'validate-policy',
      outcome: 'failed',
      region,
      requestId: job.id,
      error: message,
    });
    await tell(deps, d, policyFailedNote('validate the policy', message));
    throw new UnrecoverableError(message);
  }
}
