// A card is one real problem (one natural key); AWS may report it under several finding ids, one per
// analyzer. Actions name the card (its first id) and act through an id whose analyzer still has it.
import type { Job } from 'bullmq';
import type { Finding, FindingStatus } from '../src/findings/model.ts';
import type { ActionRequest } from '../src/queue/index.ts';
import type { CardMember, FindingState } from '../src/store/findings.ts';
import { shortHash } from '../src/util/hash.ts';
import type { JobDeps } from './deps.ts';

export interface CardRead {
  /** The finding as AWS has it under the acting id, carrying the card's id; null when AWS has none. */
  finding: Finding | null;
  state: FindingState | null;
  /** Every id of the card (just the card's id when the bot has no state for it). */
  members: CardMember[];
  /** The id the action goes through. */
  acting: Pick<CardMember, 'id' | 'analyzerArn' | 'region'>;
  /** The service that manages the acting id's analyzer, when it is service-linked (read-only). */
  managedBy?: string;
}

/**
 * The id to act through: the first id of a live analyzer whose status is `want` (the card's first id
 * before the others), else the card's first id, else what the request carries.
 */
export function actingMember(
  members: CardMember[],
  want: FindingStatus,
  fallback: Pick<CardMember, 'id' | 'analyzerArn' | 'region'>,
): Pick<CardMember, 'id' | 'analyzerArn' | 'region'> {
  return (
    members.find((m) => m.live && m.status === want) ??
    members.find((m) => m.status === want) ??
    members[0] ??
    fallback
  );
}

/** The ids of the card an action that moves it from `from` changes, grouped by analyzer. */
export function idsByAnalyzer(
  members: CardMember[],
  from: FindingStatus,
  acting: Pick<CardMember, 'id' | 'analyzerArn' | 'region'>,
): { analyzer: { arn: string; region: string }; ids: string[] }[] {
  const chosen = members.filter((m) => m.live && m.status === from);
  if (!chosen.some((m) => m.id === acting.id))
    chosen.unshift({ ...acting, status: from, live: true, first: false });
  const groups = new Map<string, { analyzer: { arn: string; region: string }; ids: string[] }>();
  for (const m of chosen) {
    const g = groups.get(m.analyzerArn) ?? { analyzer: { arn: m.analyzerArn, region: m.region }, ids: [] };
    if (!g.ids.includes(m.id)) g.ids.push(m.id);
    groups.set(m.analyzerArn, g);
  }
  // The acting analyzer first: it is the one the request's own client token belongs to.
  return [...groups.values()].sort(
    (a, b) => Number(b.analyzer.arn === acting.analyzerArn) - Number(a.analyzer.arn === acting.analyzerArn),
  );
}

/**
 * Reads the card a request names from AWS, through the id that fits what the action expects to find
 * (`want`): the finding comes back with the card's id, so that redraws and records land on the card.
 */
export async function readCard(
  deps: Pick<JobDeps, 'store' | 'analyzers' | 'serviceLinked'>,
  data: Pick<ActionRequest, 'findingId' | 'analyzerArn' | 'region'>,
  want: FindingStatus,
): Promise<CardRead> {
  const state = await deps.store.get(data.findingId);
  const fallback = { id: data.findingId, analyzerArn: data.analyzerArn, region: data.region };
  const members = state ? await deps.store.cardMembers(data.findingId, state) : [];
  const acting = actingMember(members, want, fallback);
  const analyzer = await deps.serviceLinked.ref(acting.analyzerArn, acting.region);
  const read = await deps.analyzers.getFinding(analyzer, acting.id);
  const card: CardRead = { finding: read && { ...read, id: data.findingId }, state, members, acting };
  if (analyzer.managedBy) card.managedBy = analyzer.managedBy;
  return card;
}

/**
 * Moves every id of the card that is `from` (under a live analyzer) to `to` in AWS, one UpdateFindings
 * per analyzer, and records each id's new status. The acting analyzer's call carries the job id as
 * its client token (a retry is the same request); the others a token derived from it.
 */
export async function setCardStatus(
  deps: JobDeps,
  job: Job<ActionRequest>,
  members: CardMember[],
  acting: Pick<CardMember, 'id' | 'analyzerArn' | 'region'>,
  from: 'ACTIVE' | 'ARCHIVED',
  to: 'ACTIVE' | 'ARCHIVED',
): Promise<void> {
  // Ids under a service-linked analyzer are read-only in AWS: they keep their status.
  const readOnly = await deps.serviceLinked.all();
  const groups = idsByAnalyzer(members, from, acting).filter((g) => !readOnly.has(g.analyzer.arn));
  for (const [i, group] of groups.entries()) {
    const token = i === 0 ? job.id : `${job.id}-${shortHash(group.analyzer.arn)}`;
    await deps.analyzers.updateFindingStatus(group.analyzer, group.ids, to, token);
    for (const id of group.ids) await deps.store.setIdStatus(job.data.findingId, id, to);
  }
}
