// The Slack sandbox: a local Slack Web API and workspace (sandbox/slack/server.ts, one module per
// Web API family beside it).
export { blockProblems, viewProblems } from './block-kit-rules.ts';
export { startSlackSandbox } from './slack/server.ts';
export type { ResponseTarget, SandboxView } from './slack/surfaces.ts';
export * from './slack/types.ts';
export { fakeChannelId } from './slack/workspace.ts';
