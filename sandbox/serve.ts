// `npm run sandbox`: the AWS and Slack sandboxes with the demo organisation (or bulk data), until Ctrl-C.
// Prints the environment to point the bot at them.
//   SANDBOX_AWS_PORT (default 4566), SANDBOX_SLACK_PORT (default 4000),
//   SANDBOX_DATA=demo|bulk (default demo), SANDBOX_BULK_FINDINGS (default 100000),
//   SANDBOX_SLACK_RATE_LIMIT (messages per second per channel, default 1; 0 disables).
import { startAwsSandbox } from './aws.ts';
import { bulkData } from './fixtures/bulk.ts';
import { DEMO_MEMBER_ROLE, demoData } from './fixtures/demo-org.ts';
import { startSlackSandbox } from './slack.ts';

const env = process.env;
const bulk = env.SANDBOX_DATA === 'bulk';
const data = bulk ? bulkData({ findings: Number(env.SANDBOX_BULK_FINDINGS ?? 100_000) }) : demoData();
const rate = Number(env.SANDBOX_SLACK_RATE_LIMIT ?? 1);

const aws = await startAwsSandbox({ data, port: Number(env.SANDBOX_AWS_PORT ?? 4566) });
const slack = await startSlackSandbox({
  port: Number(env.SANDBOX_SLACK_PORT ?? 4000),
  rateLimit: rate > 0 ? { perChannelPerSecond: rate } : false,
});

const lines = [
  `# ${bulk ? `bulk data: ${data.findings.size} findings` : 'demo organisation'} in ${data.regions.join(', ')}`,
  `export AWS_ENDPOINT_URL_ACCESSANALYZER=${aws.url}`,
  `export AWS_ENDPOINT_URL_IAM=${aws.url}`,
  `export AWS_ENDPOINT_URL_STS=${aws.url}`,
  `export AWS_ENDPOINT_URL_RESOURCE_GROUPS_TAGGING_API=${aws.url}`,
  'export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=sandbox AWS_REGION=us-east-1',
  `export SLACK_API_URL=${slack.apiUrl} SLACK_BOT_TOKEN=xoxb-sandbox`,
  `# member role: ${data.memberRole?.name ?? DEMO_MEMBER_ROLE.name}, external id: ${data.memberRole?.externalId ?? '-'}`,
];
process.stdout.write(`${lines.join('\n')}\n`);

const stop = async () => {
  await Promise.all([aws.close(), slack.close()]);
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
