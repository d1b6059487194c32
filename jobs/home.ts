// The App Home tab's content for one person: the open findings they own (routed to a channel they are
// in, or on a resource whose owner tag is their e-mail), overdue first, and the last digest they got.
// Read-only: Redis state plus users.info / users.conversations, cached briefly per person.
import { HOME_FINDINGS, type HomeFinding, homeView } from '../blocks/home.ts';
import { type SlackMessage, section } from '../blocks/limits.ts';
import { agingState } from '../src/findings/aging.ts';
import { ownerChannelOf } from '../src/findings/digest.ts';
import { SEVERITIES } from '../src/findings/model.ts';
import type { Viewer } from '../src/store/viewers.ts';
import type { JobDeps } from './deps.ts';
import { channelOwnerKey, loadDigestRows, ownerDigestPreview, userOwnerKey } from './digest.ts';

export async function viewerOf(deps: JobDeps, userId: string): Promise<Viewer> {
  const cached = await deps.viewers.get(userId);
  if (cached) return cached;
  const [email, channels] = await Promise.all([
    deps.slack.userEmail(userId),
    deps.slack.userChannels(userId),
  ]);
  const viewer: Viewer = { ...(email ? { email } : {}), channels };
  await deps.viewers.save(userId, viewer);
  return viewer;
}

const rank = (s: string | undefined) => {
  const i = (SEVERITIES as readonly string[]).indexOf(s ?? '');
  return i < 0 ? SEVERITIES.length : i;
};

export async function appHomeView(deps: JobDeps, userId: string): Promise<ReturnType<typeof homeView>> {
  const viewer = await viewerOf(deps, userId);
  const now = deps.now();
  const channels = new Set(viewer.channels);
  const email = viewer.email?.toLowerCase();
  // The store's indexes of ACTIVE cards by channel and owner e-mail name the candidates.
  const candidates = await loadDigestRows(deps, { channels: viewer.channels, emails: email ? [email] : [] });
  const rows = candidates.filter(
    (r) =>
      r.status === 'ACTIVE' &&
      (channels.has(ownerChannelOf(r) ?? '') ||
        (r.channel !== undefined && channels.has(r.channel)) ||
        (email !== undefined && r.ownerEmail?.toLowerCase() === email)),
  );
  const aged = rows.map((r) => ({
    r,
    aging: r.createdAt ? agingState({ ...r, createdAt: r.createdAt }, now, deps.config.aging) : null,
  }));
  aged.sort(
    (a, b) =>
      Number(Boolean(b.aging?.overdue)) - Number(Boolean(a.aging?.overdue)) ||
      (a.aging?.overdue ? 0 : rank(a.r.severity) - rank(b.r.severity)) ||
      (a.r.createdAt ?? '').localeCompare(b.r.createdAt ?? '') ||
      a.r.id.localeCompare(b.r.id),
  );
  const findings: HomeFinding[] = [];
  for (const { r, aging } of aged.slice(0, HOME_FINDINGS)) {
    const s = await deps.store.get(r.id);
    if (!s) continue;
    findings.push({
      id: r.id,
      findingType: s.findingType,
      severity: s.severity,
      resourceArn: s.resourceArn,
      accountId: s.accountId,
      region: s.region,
      channel: s.channel,
      ts: s.ts,
      ...(aging?.overdue ? { overdue: aging } : {}),
    });
  }

  const lastDigest = await deps.digests.latestLast([
    ...viewer.channels.filter((c) => /^[CG][A-Z0-9]+$/.test(c)).map(channelOwnerKey),
    ...(email ? [userOwnerKey(email)] : []),
  ]);
  return homeView({
    findings,
    total: aged.length,
    overdue: aged.filter((a) => a.aging?.overdue).length,
    byEmail: email !== undefined,
    ...(lastDigest ? { lastDigest } : {}),
    workspaceUrl: deps.config.slack.workspaceUrl,
  });
}

/**
 * `/access digest` in a DM: the digest of the person's own resources (those whose owner tag is
 * their Slack e-mail), as their weekly DM would show it now.
 */
export async function personalDigestPreview(deps: JobDeps, userId: string): Promise<SlackMessage> {
  const { email } = await viewerOf(deps, userId);
  if (!email) {
    return {
      text: 'Slack shows no e-mail address for you',
      blocks: [
        section(
          'Slack shows no e-mail address for you, so the bot cannot tell which resources are yours. ' +
            'Type `/access digest` in an owner channel for that channel’s digest.',
        ),
      ],
    };
  }
  return (
    (await ownerDigestPreview(deps, email)) ?? {
      text: 'Nothing to report on your resources this week',
      blocks: [section('✅ Nothing to report on resources tagged with your e-mail this week.')],
    }
  );
}
