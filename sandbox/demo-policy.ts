// The demo's policy generation: a person clicks Generate policy on the ci-deployer finding; the worker
// queues the request for the prod account, starts the generation, polls it (delayed jobs with short
// demo delays) and posts the result in the finding's thread. Prints that thread.
import { renderText } from '../blocks/render.ts';
import { enqueue, JOBS, type PolicyRequestData } from '../src/queue/index.ts';
import type { Runtime } from '../src/runtime.ts';
import type { AwsSandbox } from './aws.ts';
import { DEMO_ACCOUNTS, DEMO_FINDING_IDS } from './fixtures/demo-org.ts';
import type { SlackSandbox } from './slack.ts';

export async function demoPolicyGeneration(
  rt: Runtime,
  aws: AwsSandbox,
  slack: SlackSandbox,
  out: (line: string) => void,
): Promise<{ policyGenerated: boolean }> {
  const findingId = DEMO_FINDING_IDS.unusedRoleCiDeployer;
  const principalArn = `arn:aws:iam::${DEMO_ACCOUNTS.prod}:role/ci-deployer`;
  aws.data.policyTools = { pollsUntilDone: 2, ...aws.data.policyTools };
  out(`\nU0ALICE clicks Generate policy on the ci-deployer finding (30 days, all regions):`);
  const state = await rt.deps.store.get(findingId);
  const data: PolicyRequestData = {
    requestId: 'pg-demo-1',
    principalArn,
    accountId: DEMO_ACCOUNTS.prod,
    days: rt.deps.config.policyGeneration?.defaultDays ?? 30,
    regions: 'all',
    userId: 'U0ALICE',
    ...(state?.channel ? { replyChannel: state.channel } : {}),
    requestTs: 'demo-policy-1',
    findingId,
  };
  await enqueue(rt.queues, JOBS.policyRequest, data);
  const deadline = Date.now() + 30_000;
  let status: string | undefined;
  while (Date.now() < deadline) {
    status = (await rt.deps.policyRequests.get(data.requestId))?.status;
    if (status === 'done') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const polls = aws.requests.filter((r) => r.operation === 'GetGeneratedPolicy').length;
  out(`StartPolicyGeneration once, GetGeneratedPolicy ${polls} times (delayed jobs), then the result:`);
  if (state?.channel && state.ts) {
    const thread = state.threadTs ?? state.ts;
    const replies = slack.threadReplies(state.channel, thread).filter((m) => /olicy/.test(m.text));
    for (const r of replies) {
      out(
        `    ↳ ${renderText({ text: r.text, blocks: r.blocks as never })
          .split('\n')
          .join('\n      ')}`,
      );
    }
  }
  const policyGenerated = aws.data.policyGenerations?.some((g) => g.status === 'SUCCEEDED') ?? false;
  return { policyGenerated: policyGenerated && status === 'done' };
}
