// The Generate policy button on a role's or user's finding: check the permission, then open the modal
// (trail, days, regions) at once; its submission enqueues the request (views/generate-policy-submit.ts).

import { generatePolicyModal, notConfiguredNote } from '../../../blocks/policy.ts';
import { unavailableNote } from '../../../blocks/receipts.ts';
import { missingConfig } from '../../config/policy-generation.ts';
import type { ListenerDeps } from '../listeners/common.ts';
import { allowedDialogClick, type ButtonArgs, modalMetaOf } from './click.ts';

const PRINCIPAL_TYPES = new Set(['AWS::IAM::Role', 'AWS::IAM::User']);

export function generatePolicyButton(deps: ListenerDeps) {
  return async (args: ButtonArgs) => {
    const allowed = await allowedDialogClick(deps, args, 'generate-policy');
    if (!allowed) return;
    const { click, reply, card } = allowed;
    const missing = missingConfig(deps.config);
    if (missing) return void (await reply(notConfiguredNote(missing)));
    const { state } = card;
    if (!PRINCIPAL_TYPES.has(state.resourceType)) {
      return void (await reply(
        unavailableNote('A policy can be generated only for the IAM role or user of a finding.'),
      ));
    }
    const cfg = deps.config.policyGeneration!;
    await args.client.views.open({
      trigger_id: args.body.trigger_id,
      view: generatePolicyModal({
        meta: { ...modalMetaOf(click, card), p: state.resourceArn },
        trails: cfg.trails,
        defaultDays: cfg.defaultDays,
      }),
    });
  };
}
