// The job contract: every job name has a queue, an id rule and a handler, and ids follow BullMQ's rules.
import { describe, expect, it } from 'vitest';
import type { JobDeps } from '../../jobs/deps.ts';
import { createWorkers, HANDLERS, missingHandlers } from '../../jobs/workers.ts';
import { JOB_NAMES, JOB_SPECS, JOBS, jobIdOf, QUEUES } from '../../src/queue/index.ts';
import { F_EXTERNAL_ANALYZER, makeAnalyzer } from '../factories/finding.ts';

const request = {
  findingId: '0f1e2d3c-0000-4000-8000-000000000001',
  analyzerArn: F_EXTERNAL_ANALYZER,
  region: 'eu-west-1',
  userId: 'U0ALICE',
  requestTs: '1795000000.000100',
};

describe('job registry', () => {
  it('names every job once, each on a known queue', () => {
    expect([...JOB_NAMES].sort()).toEqual(Object.values(JOBS).sort());
    for (const name of JOB_NAMES) expect(Object.values(QUEUES)).toContain(JOB_SPECS[name].queue);
  });

  it('has a handler for every job name', () => {
    expect(missingHandlers(HANDLERS)).toEqual([]);
  });

  it('refuses to start workers when a job has no handler', () => {
    const { [JOBS.rescan]: _dropped, ...partial } = HANDLERS;
    expect(missingHandlers(partial)).toEqual([JOBS.rescan]);
    expect(() => createWorkers({} as JobDeps, {} as never, partial as typeof HANDLERS)).toThrow(
      'no handler for job rescan',
    );
  });

  it('makes the same id for the same request, without `:` and never all digits', () => {
    const ids = [
      jobIdOf(JOBS.archive, { ...request, reason: 'x' }),
      jobIdOf(JOBS.rescan, request),
      jobIdOf(JOBS.recommendPoll, { ...request, poll: 3, startedAt: '2026-12-01T00:00:00.000Z' }),
      jobIdOf(JOBS.deleteRolePreview, { ...request, viewId: 'V0123' }),
      jobIdOf(JOBS.owners, {
        arn: 'arn:aws:s3:::b',
        userId: 'U1',
        replyChannel: 'C1',
        requestTs: '12345.678',
      }),
      jobIdOf(JOBS.scanAnalyzer, { scanId: 's-1', analyzer: makeAnalyzer() }),
      jobIdOf(JOBS.deliverChannel, { scanId: 's-1', channel: '#team:a' }),
      jobIdOf(JOBS.scanRun, { requestId: 'cmd-123.456' }),
      jobIdOf(JOBS.policyPoll, {
        requestId: 'pg-V1',
        accountId: '1',
        attempt: 2,
        userId: 'U',
        requestTs: 't',
      }),
    ];
    for (const id of ids) {
      expect(id).toBeDefined();
      expect(id).not.toContain(':');
      expect(id).not.toMatch(/^\d+$/);
    }
    expect(jobIdOf(JOBS.rescan, request)).toBe(`rescan-${request.findingId}-1795000000.000100`);
    expect(jobIdOf(JOBS.rescan, { ...request })).toBe(jobIdOf(JOBS.rescan, request));
    expect(jobIdOf(JOBS.scanRun, {})).toBeUndefined();
  });
});
