// The delete-role confirm modal's submission: check the permission again and enqueue the deletion.
// The job re-checks the finding and the role just before deleting.
import type { App, ViewSubmitAction } from '@slack/bolt';
import { DELETE_ROLE_MODAL } from '../../../blocks/delete-role.ts';
import { type ActionRequest, JOBS, jobId } from '../../../jobs/queues.ts';
import {
  ephemeralReply,
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
    let meta: { f?: string; a?: string; r?: string; c?: string };
    try {
      meta = JSON.parse(view.private_metadata) as typeof meta;
    } catch {
      return;
    }
    if (!meta.f || !meta.a || !meta.r) return;
    const userId = body.user.id;
    const data: ActionRequest = {
      findingId: meta.f,
      analyzerArn: meta.a,
      region: meta.r,
      userId,
      replyChannel: meta.c,
      requestTs: view.id,
    };
    await requestAction(deps, ephemeralReply(args, meta.c, userId), {
      permission: {
        action: 'delete-role',
        userId,
        findingChannel: meta.c,
        findingId: meta.f,
        region: meta.r,
      },
      intent: intentOf(JOBS.deleteRole, meta.f, userId),
      job: { name: JOBS.deleteRole, data, id: jobId(JOBS.deleteRole, meta.f, view.id) },
      audit: { actor: userId, action: 'delete-role', findingId: meta.f, region: meta.r },
      accepted: 'Deleting the role: checking it once more, saving a backup, then deleting…',
    });
  };
}

export function registerDeleteRoleView(app: App, deps: ListenerDeps): void {
  app.view<ViewSubmitAction>(DELETE_ROLE_MODAL.callbackId, deleteRoleSubmit(deps) as never);
}
