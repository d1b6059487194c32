// The delete-role confirm modal's submission: check the permission again and enqueue the deletion.
// The job re-checks the finding and the role just before deleting.
import type { App, ViewSubmitAction } from '@slack/bolt';
import { DELETE_ROLE_MODAL } from '../../../blocks/delete-role.ts';
import { type ActionRequest, JOBS } from '../../queue/index.ts';
import {
  ephemeralReply,
  findingModalRequest,
  intentOf,
  type ListenerDeps,
  requestAction,
  type ViewSubmitArgs,
} from '../listeners/common.ts';

type SubmitArgs = ViewSubmitArgs;

export function deleteRoleSubmit(deps: ListenerDeps) {
  return async (args: SubmitArgs) => {
    await args.ack();
    const { view, body } = args;
    let meta: { f?: unknown; c?: unknown };
    try {
      meta = JSON.parse(view.private_metadata) as typeof meta;
    } catch {
      return;
    }
    if (typeof meta.f !== 'string' || !meta.f) return;
    const f = meta.f;
    const c = typeof meta.c === 'string' ? meta.c : undefined;
    const userId = body.user.id;
    const reply = ephemeralReply(args, c, userId);
    // Checked against the finding's stored owner: the metadata is the submitter's to forge.
    const request = await findingModalRequest(deps, reply, {
      action: 'delete-role',
      meta: { f, c },
      userId,
      viewId: view.id,
    });
    if (!request) return;
    const data: ActionRequest = request.base;
    await requestAction(deps, reply, {
      intent: intentOf(JOBS.deleteRole, data.findingId, userId),
      job: { name: JOBS.deleteRole, data },
      audit: { actor: userId, action: 'delete-role', findingId: data.findingId, region: data.region },
      accepted: 'Deleting the role: checking it once more, saving a backup, then deleting…',
    });
  };
}

export function registerDeleteRoleView(app: App, deps: ListenerDeps): void {
  app.view<ViewSubmitAction>(DELETE_ROLE_MODAL.callbackId, deleteRoleSubmit(deps) as never);
}
