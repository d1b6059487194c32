// The /access validate modal's submission: the document must be JSON (the error shows on the field);
// then a worker runs ValidatePolicy (and CheckNoPublicAccess for a chosen resource type) and answers
// the person ephemerally in the channel where they typed the command.
import type { App, ViewSubmitAction } from '@slack/bolt';
import { VALIDATE_POLICY_MODAL, VALIDATE_POLICY_TYPES } from '../../../blocks/policy.ts';
import { PUBLIC_ACCESS_RESOURCE_TYPES } from '../../aws/policy.ts';
import { JOBS, type PolicyValidateData } from '../../queue/index.ts';
import {
  ephemeralReply,
  formAnswers,
  type ListenerDeps,
  requestAction,
  type ViewSubmitArgs,
} from '../listeners/common.ts';

/** Where JSON.parse stopped, in words people can find in their text. */
function jsonError(text: string): string | null {
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v))
      return 'A policy is a JSON object: { "Version": …, "Statement": … }.';
    return null;
  } catch (err) {
    return `Not valid JSON: ${(err as Error).message}`.slice(0, 150);
  }
}

export function validateValidatePolicyInput(
  values: ViewSubmitAction['view']['state']['values'],
):
  | { ok: true; input: Pick<PolicyValidateData, 'document' | 'policyType' | 'resourceType'> }
  | { ok: false; errors: Record<string, string> } {
  const M = VALIDATE_POLICY_MODAL;
  const errors: Record<string, string> = {};
  const document = (values[M.documentBlock]?.[M.documentAction]?.value ?? '').trim();
  const policyType = values[M.typeBlock]?.[M.typeAction]?.selected_option?.value ?? 'IDENTITY_POLICY';
  const resourceType = values[M.resourceBlock]?.[M.resourceAction]?.selected_option?.value ?? undefined;
  const problem = document === '' ? 'Paste the policy document.' : jsonError(document);
  if (problem) errors[M.documentBlock] = problem;
  if (!VALIDATE_POLICY_TYPES.some((t) => t.value === policyType)) errors[M.typeBlock] = 'Pick a policy type.';
  if (resourceType && !(PUBLIC_ACCESS_RESOURCE_TYPES as readonly string[]).includes(resourceType)) {
    errors[M.resourceBlock] = 'Pick a resource type from the list.';
  }
  if (Object.keys(errors).length) return { ok: false, errors };
  return {
    ok: true,
    input: {
      document,
      policyType: policyType as PolicyValidateData['policyType'],
      ...(resourceType ? { resourceType } : {}),
    },
  };
}

export function validatePolicySubmit(deps: ListenerDeps) {
  return async (args: ViewSubmitArgs) => {
    const M = VALIDATE_POLICY_MODAL;
    const { view, body } = args;
    const checked = validateValidatePolicyInput(view.state.values);
    if (!checked.ok) {
      await args.ack({ response_action: 'errors', errors: checked.errors });
      return;
    }
    let channel: string | undefined;
    try {
      channel = (JSON.parse(view.private_metadata) as { c?: string }).c;
    } catch {
      channel = undefined;
    }
    const userId = body.user.id;
    const data: PolicyValidateData = {
      ...checked.input,
      userId,
      ...(channel ? { replyChannel: channel } : {}),
      requestTs: view.id,
    };
    await requestAction(deps, ephemeralReply(args, channel, userId), {
      job: { name: JOBS.policyValidate, data },
      ...formAnswers(
        args,
        M.documentBlock,
        'The bot could not queue this (its Redis is not answering); try again.',
      ),
      accepted: 'Validating the policy with IAM Access Analyzer…',
    });
  };
}

export function registerValidatePolicyView(app: App, deps: ListenerDeps): void {
  app.view<ViewSubmitAction>(VALIDATE_POLICY_MODAL.callbackId, validatePolicySubmit(deps) as never);
}
