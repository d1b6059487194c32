// Archive similar's modal submission: the name is checked here (an error shows in the form), the
// permission again against the finding's stored owner, then one job per card at a time; the job
// makes the rule from the finding as AWS has it then, not from what the modal showed.
import type { App, ViewSubmitAction } from '@slack/bolt';
import { ARCHIVE_RULE_MODAL, parseArchiveRuleMetadata } from '../../../blocks/archive-rules.ts';
import { ruleNameProblem } from '../../findings/archive-rule.ts';
import { type ArchiveRuleCreateData, JOBS } from '../../queue/index.ts';
import {
  ephemeralReply,
  findingModalRequest,
  formAnswers,
  intentOf,
  type ListenerDeps,
  requestAction,
  type ViewSubmitArgs,
} from '../listeners/common.ts';

export function archiveRuleSubmit(deps: ListenerDeps) {
  return async (args: ViewSubmitArgs) => {
    const { view, body } = args;
    const meta = parseArchiveRuleMetadata(view.private_metadata);
    if (!meta) return void (await args.ack());
    const raw = view.state.values[ARCHIVE_RULE_MODAL.nameBlock]?.[ARCHIVE_RULE_MODAL.nameAction]?.value;
    const ruleName = (raw ?? '').trim();
    const problem = ruleNameProblem(ruleName);
    if (problem) {
      await args.ack({ response_action: 'errors', errors: { [ARCHIVE_RULE_MODAL.nameBlock]: problem } });
      return;
    }
    const userId = body.user.id;
    const answers = formAnswers(
      args,
      ARCHIVE_RULE_MODAL.nameBlock,
      'The bot could not queue the rule (its Redis is not answering). Try again in a minute.',
    );
    const reply = ephemeralReply(args, meta.c, userId);
    const request = await findingModalRequest(deps, reply, {
      action: 'archive-rule',
      meta: { f: meta.f, ...(meta.c ? { c: meta.c } : {}) },
      userId,
      viewId: view.id,
      unavailable: answers.onUnqueued,
    });
    if (!request) return void (await answers.close());
    const data: ArchiveRuleCreateData = { ...request.base, ruleName };
    await requestAction(deps, reply, {
      // One rule per card at a time: a second submission while the first runs adds nothing.
      intent: intentOf(JOBS.archiveRuleCreate, data.findingId, userId),
      job: { name: JOBS.archiveRuleCreate, data },
      audit: {
        actor: userId,
        action: 'archive-rule',
        findingId: data.findingId,
        region: data.region,
        detail: ruleName,
      },
      accepted: `Creating archive rule ${ruleName}: reading the finding once more, then creating and applying the rule…`,
      onUnqueued: answers.onUnqueued,
      onQueued: answers.onQueued,
    });
    await answers.close();
  };
}

export function registerArchiveRuleView(app: App, deps: ListenerDeps): void {
  app.view<ViewSubmitAction>(ARCHIVE_RULE_MODAL.callbackId, archiveRuleSubmit(deps) as never);
}
