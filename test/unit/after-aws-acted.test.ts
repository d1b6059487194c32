// The Slack steps after AWS has acted (Undo, delete role, restore role): nothing is thrown, so the
// job is not retried into acting twice; what Slack did not show is noted for the audit entry.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { afterAwsActed, withMissed } from '../../jobs/finding-message.ts';
import { createLogger } from '../../src/log.ts';
import { SlackError } from '../../src/slack/client.ts';

function logged() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), lines };
}

describe('afterAwsActed', () => {
  it('runs the steps, and notes a gone message and any other failure instead of throwing', async () => {
    const { logger, lines } = logged();
    const { missed, shown } = afterAwsActed({ logger }, 'fix-undo-1', 'undo not shown in Slack');
    const ran: string[] = [];
    await shown(async () => {
      ran.push('redraw');
    });
    await shown(async () => {
      throw new SlackError('chat.update', 'message_not_found');
    });
    await shown(async () => {
      throw new Error('Slack answered 503');
    });
    expect(ran).toEqual(['redraw']);
    expect(missed).toEqual(['message_not_found', 'Slack answered 503']);
    expect(withMissed('from backup k', missed)).toEqual({
      detail: 'from backup k; not shown in Slack: message_not_found, Slack answered 503',
    });
    const error = lines.find((l) => l.msg === 'undo not shown in Slack');
    expect(error).toMatchObject({ jobId: 'fix-undo-1', err: 'Slack answered 503' });
  });

  it('notes nothing when every step is shown', async () => {
    const { logger } = logged();
    const { missed, shown } = afterAwsActed({ logger }, 'j', 'x');
    await shown(async () => undefined);
    expect(missed).toEqual([]);
    expect(withMissed('done', missed)).toEqual({ detail: 'done' });
  });
});
