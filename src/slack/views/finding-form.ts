// What the submission of every modal about one finding (archive, snooze, generate policy) does:
// read the form's metadata, validate the values (errors go back next to their field), check the
// permission on the finding's stored state again, then queue the job; a Redis outage is shown in the
// form, anything else is answered ephemerally in the channel the modal was opened from.
import type { ViewSubmitAction } from '@slack/bolt';
import type { ArchiveModalMetadata } from '../../../blocks/modals.ts';
import type { ActionRequest } from '../../queue/index.ts';
import {
  type ActionRequestSpec,
  ephemeralReply,
  findingModalRequest,
  formAnswers,
  type ListenerDeps,
  type Reply,
  type RequestedFinding,
  requestAction,
  type ViewSubmitArgs,
} from '../listeners/common.ts';
import type { Action } from '../permissions.ts';

type FormValues = ViewSubmitAction['view']['state']['values'];

export type FormCheck<I> = ({ ok: true } & I) | { ok: false; errors: Record<string, string> };

export interface FindingFormSpec<M extends Pick<ArchiveModalMetadata, 'f' | 'c'>, I> {
  /** The permission checked again on submit. */
  action: Action;
  /** The block that errors about the whole form (lost metadata, a Redis outage) are shown next to. */
  block: string;
  /** The button that opens the form, named in "click … again". */
  button: string;
  /** What a Redis outage left undone ("Nothing was changed"). */
  untouched: string;
  /** The form's metadata, or null when it is unreadable. */
  metadata(raw: string): M | null;
  validate(values: FormValues, now: Date): FormCheck<I>;
  /**
   * The request to queue, once the person may act on the card; null when it cannot be made (the
   * reason was told through `reply`; the form closes).
   */
  request(ctx: {
    input: I;
    meta: M;
    base: ActionRequest;
    card: RequestedFinding;
    userId: string;
    viewId: string;
    reply: Reply;
  }): Promise<Omit<ActionRequestSpec, 'onUnqueued' | 'onQueued'> | null>;
}

export function findingFormSubmit<M extends Pick<ArchiveModalMetadata, 'f' | 'c'>, I>(
  deps: ListenerDeps,
  spec: FindingFormSpec<M, I>,
) {
  return async (args: ViewSubmitArgs) => {
    const { view, body } = args;
    const meta = spec.metadata(view.private_metadata);
    if (!meta) {
      await args.ack({
        response_action: 'errors',
        errors: { [spec.block]: `This form lost its finding; close it and click ${spec.button} again.` },
      });
      return;
    }
    const input = spec.validate(view.state.values, deps.now());
    if (!input.ok) {
      await args.ack({ response_action: 'errors', errors: input.errors });
      return;
    }
    const userId = body.user.id;
    const reply = ephemeralReply(args, meta.c, userId);
    const { close, ...answers } = formAnswers(
      args,
      spec.block,
      `The bot could not queue this (its Redis is not answering). ${spec.untouched}; try again.`,
    );
    // Checked against the finding's stored owner: the metadata is the submitter's to forge.
    const found = await findingModalRequest(deps, reply, {
      action: spec.action,
      meta,
      userId,
      viewId: view.id,
      unavailable: answers.onUnqueued,
    });
    if (!found) return void (await close());
    const request = await spec.request({ input, meta, ...found, userId, viewId: view.id, reply });
    if (!request) return void (await close());
    await requestAction(deps, reply, { ...request, ...answers });
  };
}
