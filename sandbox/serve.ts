// `npm run sandbox`: the AWS and Slack sandboxes with the demo organisation (or bulk data), until Ctrl-C.
// Prints the environment to point the bot at them.
//   SANDBOX_AWS_PORT (default 4566), SANDBOX_SLACK_PORT (default 4000),
//   SANDBOX_DATA=demo|bulk (default demo), SANDBOX_BULK_FINDINGS (default 100000),
//   SANDBOX_SLACK_RATE_LIMIT (messages per second per channel, default 1; 0 disables),
//   SANDBOX_AWS_RATE_LIMIT (Access Analyzer requests per second per region before 429 ThrottlingException,
//   default 0: unlimited), SANDBOX_AWS_BURST (requests at once, default the rate).
import { startAwsSandbox } from './aws.ts';
import { bulkData } from './fixtures/bulk.ts';
import { DEMO_MEMBER_ROLE, demoData } from './fixtures/demo-org.ts';
import { startSlackSandbox } from './slack.ts';

const env = process.env;
const bulk = env.SANDBOX_DATA === 'bulk';
const data = bulk ? bulkData({ findings: Number(env.SANDBOX_BULK_FINDINGS ?? 100_000) }) : demoData();
const rate = Number(env.SANDBOX_SLACK_RATE_LIMIT ?? 1);
const awsRate = Number(env.SANDBOX_AWS_RATE_LIMIT ?? 0);
const awsBurst = env.SANDBOX_AWS_BURST === undefined ? undefined : Number(env.SANDBOX_AWS_BURST);
for (const [name, v] of [
  ['SANDBOX_AWS_RATE_LIMIT', awsRate],
  ['SANDBOX_AWS_BURST', awsBurst ?? 1],
] as const) {
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a number >= 0 (got ${env[name]})`);
}

const aws = await startAwsSandbox({
  data,
  port: Number(env.SANDBOX_AWS_PORT ?? 4566),
  ...(awsRate > 0 ? { rateLimit: { perSecond: awsRate, ...(awsBurst ? { burst: awsBurst } : {}) } } : {}),
});
const slack = await startSlackSandbox({
  port: Number(env.SANDBOX_SLACK_PORT ?? 4000),
  rateLimit: rate > 0 ? { perChannelPerSecond: rate } : false,
});

const lines = [
  `# ${bulk ? `bulk data: ${data.findings.size} findings` : 'demo organisation'} in ${data.regions.join(', ')}`,
  ...(awsRate > 0
    ? [`# Access Analyzer: 429 ThrottlingException above ${awsRate} requests/s per region`]
    : []),
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
