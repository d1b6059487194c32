// The Generate policy modal's submission: validate trail, days and regions (errors shown next to the
// field), check the permission again, enqueue the request. The worker queues it per account.
import type { App, ViewSubmitAction } from '@slack/bolt';
import { GENERATE_POLICY_MODAL, type GeneratePolicyModalMetadata } from '../../../blocks/policy.ts';
import { unavailableNote } from '../../../blocks/receipts.ts';
import { parsePrincipalArn } from '../../aws/policy.ts';
import { JOBS, jobId, type PolicyRequestData } from '../../queue/index.ts';
import type { ListenerDeps } from '../listeners/common.ts';
import { findingFormSubmit } from './finding-form.ts';

const TRAIL_ARN = /^arn:aws[-a-z]*:cloudtrail:[a-z]{2}(-[a-z]+)+-\d:\d{12}:trail\/\S+$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

export interface GeneratePolicyInput {
  trailArn?: string;
  days: number;
  regions: 'all' | string[];
}

/** Checks the modal's values; returns field errors keyed by block id, or the clean values. */
export function validateGeneratePolicyInput(
  values: ViewSubmitAction['view']['state']['values'],
  configuredTrails: readonly string[],
): { ok: true; input: GeneratePolicyInput } | { ok: false; errors: Record<string, string> } {
  const M = GENERATE_POLICY_MODAL;
  const errors: Record<string, string> = {};
  const typed = (values[M.trailTextBlock]?.[M.trailTextAction]?.value ?? '').trim();
  const selected = values[M.trailSelectBlock]?.[M.trailSelectAction]?.selected_option?.value ?? undefined;
  let trailArn: string | undefined;
  if (typed) {
    if (TRAIL_ARN.test(typed)) trailArn = typed;
    else
      errors[M.trailTextBlock] =
        'A CloudTrail trail ARN, like arn:aws:cloudtrail:us-east-1:123456789012:trail/org-trail.';
  } else if (selected !== undefined) {
    trailArn = configuredTrails[Number(selected)];
    if (!trailArn) errors[M.trailSelectBlock] = 'That trail is no longer configured; pick one again.';
  } else if (configuredTrails.length === 0) {
    errors[M.trailTextBlock] = 'Name the trail to read (no trail is configured).';
  }
  const rawDays = (values[M.daysBlock]?.[M.daysAction]?.value ?? '').trim();
  const days = Number(rawDays);
  if (!/^\d+$/.test(rawDays) || days < 1 || days > 90)
    errors[M.daysBlock] = 'A whole number of days from 1 to 90.';
  const rawRegions = (values[M.regionsBlock]?.[M.regionsAction]?.value ?? 'all').trim().toLowerCase();
  let regions: 'all' | string[] = 'all';
  if (rawRegions !== '' && rawRegions !== 'all') {
    const list = [...new Set(rawRegions.split(',').map((r) => r.trim()))];
    const bad = list.filter((r) => !REGION.test(r));
    if (bad.length)
      errors[M.regionsBlock] = `"all", or regions separated by commas (not a region: ${bad.join(', ')}).`;
    regions = list;
  }
  if (Object.keys(errors).length) return { ok: false, errors };
  return { ok: true, input: { ...(trailArn ? { trailArn } : {}), days, regions } };
}

function parseMeta(raw: string): GeneratePolicyModalMetadata | null {
  try {
    const m = JSON.parse(raw) as Partial<GeneratePolicyModalMetadata>;
    if (
      typeof m.f !== 'string' ||
      typeof m.a !== 'string' ||
      typeof m.r !== 'string' ||
      typeof m.p !== 'string'
    ) {
      return null;
    }
    return m as GeneratePolicyModalMetadata;
  } catch {
    return null;
  }
}

export function generatePolicySubmit(deps: ListenerDeps) {
  return findingFormSubmit(deps, {
    action: 'generate-policy',
    block: GENERATE_POLICY_MODAL.daysBlock,
    button: 'Generate policy',
    untouched: 'Nothing was started',
    metadata: (raw) => {
      const meta = parseMeta(raw);
      return meta && parsePrincipalArn(meta.p) ? meta : null;
    },
    validate: (values) => validateGeneratePolicyInput(values, deps.config.policyGeneration?.trails ?? []),
    // The principal is the finding's own resource, not the one in the metadata.
    request: async ({ input: { input }, meta, base, card, userId, viewId, reply }) => {
      const stored = parsePrincipalArn(card.state.resourceArn);
      if (!stored) {
        await reply(unavailableNote('A policy can be generated only for the IAM role or user of a finding.'));
        return null;
      }
      const data: PolicyRequestData = {
        requestId: jobId('pg', viewId),
        principalArn: card.state.resourceArn,
        accountId: stored.accountId,
        ...input,
        userId,
        ...(meta.c ? { replyChannel: meta.c } : {}),
        requestTs: viewId,
        findingId: base.findingId,
      };
      return {
        // A resubmitted view (Slack retry) has the same view id: one request.
        job: { name: JOBS.policyRequest, data },
        accepted: `Policy generation for ${card.state.resourceArn} requested (${input.days} days). Progress and the result go to the finding's thread.`,
      };
    },
  });
}

export function registerGeneratePolicyView(app: App, deps: ListenerDeps): void {
  app.view<ViewSubmitAction>(GENERATE_POLICY_MODAL.callbackId, generatePolicySubmit(deps) as never);
}
