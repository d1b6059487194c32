// Archive rules: Archive similar (create a rule from a card's finding and apply it in the analyzers
// that hold its matches), `/access rules` (every analyzer's rules and what they match in the store),
// and deleting a rule. Each re-reads AWS just before it changes anything, and is audited.
import type { Job } from 'bullmq';
import {
  archiveRuleBlockedModal,
  archiveRuleDeletedNote,
  archiveRuleModal,
  archiveRuleReceipt,
  archiveRuleRefusedNote,
  archiveRulesReply,
} from '../blocks/archive-rules.ts';
import type { ArchiveRuleInfo } from '../src/aws/archive-rules.ts';
import { AwsError } from '../src/aws/errors.ts';
import {
  type ArchiveFilter,
  analyzerOfArn,
  archiveFilterProblem,
  filterMatches,
  filterValuesOf,
  previewSimilar,
  ruleNameProblem,
  type SimilarCard,
  type SimilarPreview,
  similarRuleProblem,
} from '../src/findings/archive-rule.ts';
import { FINDING_TYPES, type FindingStatus } from '../src/findings/model.ts';
import type {
  ArchiveRuleCreateData,
  ArchiveRuleDeleteData,
  ArchiveRulePreviewData,
  ArchiveRulesListData,
} from '../src/queue/index.ts';
import type { RuleCandidate } from '../src/store/findings.ts';
import { shortHash } from '../src/util/hash.ts';
import { type ActionResult, runFindingAction } from './actions/frame.ts';
import { readCard } from './card.ts';
import type { JobDeps } from './deps.ts';
import { threadReplyOnce } from './finding-message.ts';
import { tell } from './tell.ts';

/** The unused-access finding types (an unused-access analyzer holds these). */
const UNUSED = FINDING_TYPES.filter((t) => t.startsWith('Unused'));

/** Two filters say the same (key order and value order aside). */
export function sameFilter(a: ArchiveFilter, b: ArchiveFilter): boolean {
  const norm = (f: ArchiveFilter) =>
    JSON.stringify(
      Object.keys(f)
        .sort()
        .map((k) => {
          const c = f[k]!;
          return [
            k,
            c.eq && [...c.eq].sort(),
            c.neq && [...c.neq].sort(),
            c.contains && [...c.contains].sort(),
            c.exists,
          ];
        }),
    );
  return norm(a) === norm(b);
}

/**
 * What a rule made from this card would archive today, from the store (service-linked analyzers
 * left out). `card` carries the detail values of the finding as AWS has it now (GetFindingV2): the
 * stored card `cardId` is counted with them, and a card stored before the bot kept them learns them.
 */
export async function previewFromStore(
  deps: Pick<JobDeps, 'store' | 'serviceLinked'>,
  card: SimilarCard & { cardId?: string },
  own: { analyzerArn: string; region: string },
): Promise<SimilarPreview> {
  const candidates = await deps.store.ruleCandidates({
    findingType: card.findingType,
    accountId: card.accountId,
  });
  const self = candidates.find((c) => c.id === card.cardId);
  if (self && card.filterValues) {
    if (!self.filterValues)
      await deps.store.set(self.id, { filterValues: JSON.stringify(card.filterValues) });
    self.filterValues = card.filterValues;
  }
  return previewSimilar(card, own, candidates, await deps.serviceLinked.all());
}

/**
 * Fills in Archive similar's modal: the rule as the finding is in AWS now, and how many ACTIVE
 * findings it would archive today, counted from the store; or why there is nothing to make.
 */
export async function previewArchiveRule(deps: JobDeps, job: Job<ArchiveRulePreviewData>): Promise<string> {
  const d = job.data;
  const meta = {
    f: d.findingId,
    ...(d.replyChannel ? { c: d.replyChannel } : {}),
    ...(d.messageTs ? { t: d.messageTs } : {}),
  };
  const { finding, managedBy } = await readCard(deps, d, 'ACTIVE');
  let view: unknown;
  let outcome: string;
  if (finding?.status !== 'ACTIVE' || managedBy) {
    outcome = 'blocked';
    view = archiveRuleBlockedModal(
      managedBy
        ? `its analyzer is managed by ${managedBy}: AWS keeps its rules and findings read-only.`
        : `the finding is ${finding ? finding.status.toLowerCase() : 'gone'} in AWS now.`,
    );
  } else {
    const card = {
      cardId: d.findingId,
      findingType: finding.findingType,
      resourceType: finding.resourceType,
      accountId: finding.accountId,
      filterValues: filterValuesOf(finding),
    };
    const preview = await previewFromStore(deps, card, {
      analyzerArn: finding.analyzerArn,
      region: finding.region,
    });
    const problem = similarRuleProblem(card) ?? archiveFilterProblem(preview.filter);
    outcome = problem ? 'blocked' : 'confirm';
    view = problem
      ? archiveRuleBlockedModal(problem)
      : archiveRuleModal({
          meta,
          resource: { type: finding.resourceType, arn: finding.resourceArn },
          filter: preview.filter,
          left: preview.left,
          count: preview.findings.length,
          uncounted: preview.uncounted,
          analyzers: preview.analyzers,
          defaultName: defaultRuleName(preview.filter, finding.findingType),
        });
  }
  await deps.slack.web.views.update({ view_id: d.viewId, view: view as never });
  return outcome;
}

/** A name that says what the rule is and differs per filter: `similar-externalaccess-1a2b3c4d`. */
export function defaultRuleName(filter: ArchiveFilter, findingType: string): string {
  return `similar-${findingType.toLowerCase()}-${shortHash(JSON.stringify(filter), 8)}`;
}

/** A person's words for an AWS refusal of an archive rule or analyzer. */
export function refusalWords(err: AwsError): string {
  const aws = err.message.replace(/^[^:]+: [^:]+: /, '');
  switch (err.kind) {
    case 'invalid':
      return `AWS refused it as invalid (${err.code}): ${aws}`;
    case 'conflict':
      return `AWS says it already exists (${err.code}): ${aws}`;
    case 'quota':
      return `an AWS quota is reached (${err.code}): ${aws}`;
    case 'access-denied':
      return `the bot's role may not do this (${err.code}): ${aws}`;
    default:
      return `${err.code}: ${aws}`;
  }
}

const refusable = (err: unknown): err is AwsError =>
  err instanceof AwsError &&
  ['invalid', 'conflict', 'quota', 'access-denied', 'not-found'].includes(err.kind);

export function createSimilarRule(deps: JobDeps, job: Job<ArchiveRuleCreateData>): Promise<ActionResult> {
  return runFindingAction(deps, job, {
    expected: 'ACTIVE',
    // Applying the rule archives this finding too: a retry after that goes on (and a service-linked
    // analyzer's finding is refused as read-only before any call).
    leaves: 'ARCHIVED',
    audited: 'archive-rule',
    async step({ data, finding, state, acting, receipt, shown, done, succeeded }) {
      const what = `archive rule ${data.ruleName}`;
      const refuse = async (why: string): Promise<ActionResult> => {
        await tell(deps, data, archiveRuleRefusedNote({ what, why }));
        await deps.audit.record({
          actor: data.userId,
          action: 'archive-rule',
          outcome: 'failed',
          findingId: data.findingId,
          region: data.region,
          requestId: job.id,
          error: why,
        });
        return { outcome: 'stale', status: finding.status };
      };
      const nameProblem = ruleNameProblem(data.ruleName);
      if (nameProblem) return refuse(nameProblem);
      // The rule is made from the finding as AWS has it now, not from what the modal showed.
      const card = {
        cardId: data.findingId,
        findingType: finding.findingType,
        resourceType: finding.resourceType,
        accountId: finding.accountId,
        filterValues: filterValuesOf(finding),
      };
      const preview = await previewFromStore(deps, card, acting);
      const problem = similarRuleProblem(card) ?? archiveFilterProblem(preview.filter);
      if (problem) return refuse(problem);
      // Checked in every analyzer before the first change: a name taken by another rule changes nothing.
      const existing: (ArchiveRuleInfo | null)[] = [];
      for (const a of preview.analyzers)
        existing.push(await deps.archiveRules.getArchiveRule(a, data.ruleName));
      const clash = preview.analyzers.find(
        (_, i) => existing[i] && !sameFilter(existing[i]!.filter, preview.filter),
      );
      if (clash) {
        return refuse(
          `analyzer ${clash.name} (${clash.region}) already has a rule of that name with other criteria; choose another name`,
        );
      }
      // A retry finds the rules its first attempt made, and applies them again (harmless).
      if (job.attemptsMade === 0 && existing.every((e) => e !== null)) {
        return refuse('every analyzer already has this rule (it was created by an earlier request)');
      }
      const made: { name: string; region: string; existed?: boolean }[] = [];
      try {
        for (const [i, a] of preview.analyzers.entries()) {
          const token = `${job.id}-${shortHash(a.arn, 8)}`;
          if (!existing[i]) {
            await deps.archiveRules.createArchiveRule(
              a,
              { ruleName: data.ruleName, filter: preview.filter },
              token,
            );
            done(`rule ${data.ruleName}`);
          }
          await deps.archiveRules.applyArchiveRule(a, data.ruleName, token);
          made.push({ name: a.name, region: a.region, ...(existing[i] ? { existed: true } : {}) });
        }
      } catch (err) {
        if (refusable(err) && made.length === 0) return refuse(refusalWords(err));
        throw err;
      }
      const receiptMsg = archiveRuleReceipt({
        userId: data.userId,
        ruleName: data.ruleName,
        filter: preview.filter,
        analyzers: made,
        matched: preview.findings.length,
      });
      await shown(() => threadReplyOnce(deps, state, receiptMsg, receipt));
      await tell(deps, data, receiptMsg);
      return succeeded(
        'ACTIVE',
        `rule ${data.ruleName} in ${made.map((m) => m.name).join(', ')}: ${JSON.stringify(preview.filter)}; ${preview.findings.length} matched`,
      );
    },
  });
}

/** Finding types whose cards an analyzer of this type holds. */
function typesOf(filter: ArchiveFilter, analyzerType: 'external' | 'internal' | 'unused'): string[] {
  if (analyzerType === 'external') return ['ExternalAccess'];
  if (analyzerType === 'internal') return ['InternalAccess'];
  return filter.findingType?.eq?.filter((t) => (UNUSED as readonly string[]).includes(t)) ?? [...UNUSED];
}

export async function listArchiveRules(deps: JobDeps, job: Job<ArchiveRulesListData>) {
  const data = job.data;
  const analyzers = [];
  for (const region of deps.config.regions) {
    try {
      for (const a of await deps.analyzers.listAnalyzers(region)) if (!a.managedBy) analyzers.push(a);
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message, region }, 'ListAnalyzers failed for /access rules');
    }
  }
  const cache = new Map<string, Promise<RuleCandidate[]>>();
  const cards = (findingType: string, status: FindingStatus) => {
    const key = `${findingType}\n${status}`;
    let hit = cache.get(key);
    if (!hit) {
      hit = deps.store.ruleCandidates({ findingType, status });
      cache.set(key, hit);
    }
    return hit;
  };
  const out = [];
  for (const a of analyzers) {
    const ref = { arn: a.arn, name: a.name, region: a.region };
    try {
      const rules = await deps.archiveRules.listArchiveRules(ref);
      const counted = [];
      for (const r of rules) {
        const count = async (status: FindingStatus) => {
          let n = 0;
          // Each finding id of this analyzer counts once, in its own status (a card's ids in other
          // analyzers are their rules' business).
          for (const t of typesOf(r.filter, a.kind)) {
            for (const cardStatus of status === 'ACTIVE'
              ? ['ACTIVE' as const]
              : ['ACTIVE' as const, status]) {
              for (const c of await cards(t, cardStatus)) {
                if (!filterMatches(r.filter, c)) continue;
                n += c.members.filter((m) => m.analyzerArn === a.arn && m.status === status).length;
              }
            }
          }
          return n;
        };
        counted.push({
          ruleName: r.ruleName,
          filter: r.filter,
          active: await count('ACTIVE'),
          archived: await count('ARCHIVED'),
        });
      }
      out.push({ analyzer: ref, rules: counted });
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      out.push({ analyzer: ref, rules: [], error: refusalWords(err) });
    }
  }
  await tell(deps, data, archiveRulesReply({ analyzers: out, canDelete: data.canDelete === true }));
  return { outcome: 'succeeded', rules: out.reduce((n, a) => n + a.rules.length, 0) };
}

export async function deleteArchiveRule(deps: JobDeps, job: Job<ArchiveRuleDeleteData>) {
  const d = job.data;
  const analyzer = analyzerOfArn(d.analyzerArn, d.region);
  const audit = (outcome: 'succeeded' | 'stale' | 'failed', extra: { detail?: string; error?: string }) =>
    deps.audit.record({
      actor: d.userId,
      action: 'archive-rule-delete',
      outcome,
      region: d.region,
      requestId: job.id,
      ...extra,
    });
  const where = `${d.ruleName} in ${analyzer.name}`;
  // Re-read just before deleting: a rule deleted meanwhile is reported, not deleted twice.
  const rule = await deps.archiveRules.getArchiveRule(analyzer, d.ruleName);
  if (!rule) {
    await tell(
      deps,
      d,
      archiveRuleDeletedNote({ userId: d.userId, ruleName: d.ruleName, analyzer, alreadyGone: true }),
    );
    await audit('stale', { detail: `${where}: already gone` });
    return { outcome: 'stale' };
  }
  try {
    await deps.archiveRules.deleteArchiveRule(analyzer, d.ruleName, job.id ?? d.requestTs);
  } catch (err) {
    if (!refusable(err)) throw err;
    const why = refusalWords(err);
    await tell(deps, d, archiveRuleRefusedNote({ what: `deleting archive rule ${d.ruleName}`, why }));
    await audit('failed', { error: why });
    return { outcome: 'failed' };
  }
  // The filter is kept in the audit entry, so the rule can be made again as it was.
  await audit('succeeded', { detail: `${where}: ${JSON.stringify(rule.filter)}` });
  await tell(deps, d, archiveRuleDeletedNote({ userId: d.userId, ruleName: d.ruleName, analyzer }));
  return { outcome: 'succeeded' };
}
