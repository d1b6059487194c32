// `/access generate-policy <arn>` and `/access validate`: the first enqueues the same request as the
// finding button (progress and result are posted in the channel where it was asked); the second opens
// the modal to paste a policy (views/validate-policy-submit.ts).
import { notConfiguredNote, validatePolicyModal } from '../../../blocks/policy.ts';
import { unavailableNote } from '../../../blocks/receipts.ts';
import { PUBLIC_ACCESS_RESOURCE_TYPES, parsePrincipalArn } from '../../aws/policy.ts';
import { missingConfig } from '../../config/policy-generation.ts';
import { JOBS, jobId, type PolicyRequestData } from '../../queue/index.ts';
import { type ListenerDeps, requestAction } from '../listeners/common.ts';
import type { Command } from './parse.ts';

type Msg = { text: string; blocks: unknown[] };
interface Ctx {
  userId: string;
  channel: string;
  trigger: string;
  reply: (m: Msg) => Promise<unknown>;
  openView: (view: unknown) => Promise<unknown>;
}

export async function generatePolicyCommand(
  deps: ListenerDeps,
  cmd: Extract<Command, { verb: 'generate-policy' }>,
  ctx: Ctx,
): Promise<void> {
  const missing = missingConfig(deps.config, cmd.trailArn);
  if (missing) return void (await ctx.reply(notConfiguredNote(missing)));
  const principal = parsePrincipalArn(cmd.principalArn);
  if (!principal) return void (await ctx.reply(unavailableNote('That is not an IAM role or user ARN.')));
  const requestId = jobId('pg', ctx.trigger);
  const days = cmd.daysGiven ? cmd.days : deps.config.policyGeneration!.defaultDays;
  const data: PolicyRequestData = {
    requestId,
    principalArn: cmd.principalArn,
    accountId: principal.accountId,
    days,
    ...(cmd.trailArn ? { trailArn: cmd.trailArn } : {}),
    regions: cmd.regions,
    userId: ctx.userId,
    replyChannel: ctx.channel,
    requestTs: ctx.trigger,
  };
  await requestAction(deps, ctx.reply, {
    // No finding, so no owner channel: admins and the people listed under permissions.generate-policy.
    permission: { action: 'generate-policy', userId: ctx.userId },
    job: { name: JOBS.policyRequest, data },
    accepted: `Policy generation for ${cmd.principalArn} requested (${days} days of CloudTrail activity). Progress and the result are posted here.`,
  });
}

export async function validatePolicyCommand(deps: ListenerDeps, ctx: Ctx): Promise<void> {
  try {
    await ctx.openView(
      validatePolicyModal({ channel: ctx.channel, resourceTypes: PUBLIC_ACCESS_RESOURCE_TYPES }),
    );
  } catch (err) {
    deps.logger.error({ err: (err as Error).message }, 'cannot open the validate modal');
    await ctx.reply(unavailableNote('Slack did not open the form.'));
  }
}
