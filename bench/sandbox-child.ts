// The AWS and Slack sandboxes with bulk data, in a process of their own, so that the benchmark's
// RSS and heap figures are the bot's alone. Started by bench/scan.bench.ts; also runnable by hand:
//   npx tsx bench/sandbox-child.ts --findings 10000 --regions 4 [--aws-rate-limit 20 [--aws-burst 40]]
// Prints one JSON line on stdout ({ awsUrl, slackApiUrl, expected }) once both servers listen. With an
// IPC channel (started by the benchmark) it answers { type: 'stats' } with request and call counts.
// Slack is not rate-limited here: the benchmark measures the bot, not Slack's pacing.
import { parseArgs } from 'node:util';
import { startAwsSandbox } from '../sandbox/aws.ts';
import { BULK_MEMBER_ROLE, bulkData } from '../sandbox/fixtures/bulk.ts';
import { startSlackSandbox } from '../sandbox/slack.ts';
import { type CpuWindow, cpuBetween, resetLoopDelay, startCpuTrack } from './cpu-track.ts';

/** What an ideal first scan needs, computed from the data (the bot never sees these). */
export interface Expected {
  regions: string[];
  memberRole: { name: string; externalId: string };
  totalFindings: number;
  activeFindings: number;
  analyzers: { arn: string; region: string; type: string; active: number }[];
  /** Active findings whose tags come from IAM GetRole / ListUserTags / tagging GetResources. */
  tagReads: { role: number; user: number; other: number };
  /** Distinct IAM roles and users among them: one read each per scan. */
  principals: { role: number; user: number };
  /** GetResources takes up to 100 ARNs: ceil(n/100) per (account, region), the batched lower bound. */
  taggingBatchedMin: number;
  /** Member accounts owning at least one active finding (an AssumeRole each, at least). */
  accountsWithFindings: number;
}

export interface ChildStats {
  aws: Record<string, number>;
  awsErrors: number;
  /** Access Analyzer requests answered 429 ThrottlingException (the rate limit). */
  awsThrottled: number;
  /** Access Analyzer requests per region (throttled ones included): what the per-region rate applies to. */
  analyzerByRegion: Record<string, number>;
  slack: {
    byMethod: Record<string, number>;
    errors: number;
    rateLimited: number;
    messages: number;
    topLevel: number;
    replies: number;
    /** Per channel name: chat.postMessage and chat.update calls (the writes Slack paces). */
    perChannel: Record<string, { posts: number; updates: number }>;
    /** When each chat.postMessage and chat.update arrived (ms since the epoch), in order. */
    writesAt: number[];
  };
  cpu: NodeJS.CpuUsage;
  rss: number;
}

const { values } = parseArgs({
  options: {
    findings: { type: 'string', default: '100000' },
    regions: { type: 'string', default: '10' },
    /** Access Analyzer requests per second per region before 429 ThrottlingException (0: unlimited). */
    'aws-rate-limit': { type: 'string', default: '0' },
    'aws-burst': { type: 'string' },
    /** Team channels the findings are tagged to (default 8). */
    channels: { type: 'string', default: '8' },
    /** Slack answers 429 above this many writes per second per channel (0: no limit). */
    'slack-rate-limit': { type: 'string', default: '0' },
    /** Every Slack Web API call is answered after this many milliseconds. */
    'slack-latency-ms': { type: 'string', default: '0' },
  },
});
const rate = Number(values['aws-rate-limit']);
const data = bulkData({
  findings: Number(values.findings),
  regions: Number(values.regions),
  channels: Number(values.channels),
});

const expected: Expected = {
  regions: [...data.regions],
  memberRole: {
    name: data.memberRole?.name ?? BULK_MEMBER_ROLE.name,
    externalId: data.memberRole?.externalId ?? BULK_MEMBER_ROLE.externalId,
  },
  totalFindings: data.findings.size,
  activeFindings: 0,
  analyzers: [],
  tagReads: { role: 0, user: 0, other: 0 },
  principals: { role: 0, user: 0 },
  taggingBatchedMin: 0,
  accountsWithFindings: 0,
};
const batches = new Map<string, number>();
const roles = new Set<string>();
const users = new Set<string>();
const accounts = new Set<string>();
for (const a of data.analyzers) {
  let active = 0;
  for (const f of data.findings.forAnalyzer(a.arn)) {
    if (f.status !== 'ACTIVE') continue;
    active++;
    accounts.add(f.resourceOwnerAccount);
    if (f.resourceType === 'AWS::IAM::Role') {
      expected.tagReads.role++;
      roles.add(f.resource);
    } else if (f.resourceType === 'AWS::IAM::User') {
      expected.tagReads.user++;
      users.add(f.resource);
    } else {
      expected.tagReads.other++;
      const key = `${f.resourceOwnerAccount}/${f.resource.split(':')[3] || a.region}`;
      batches.set(key, (batches.get(key) ?? 0) + 1);
    }
  }
  expected.analyzers.push({ arn: a.arn, region: a.region, type: a.type, active });
  expected.activeFindings += active;
}
for (const n of batches.values()) expected.taggingBatchedMin += Math.ceil(n / 100);
expected.accountsWithFindings = accounts.size;
expected.principals = { role: roles.size, user: users.size };

const aws = await startAwsSandbox({
  data,
  ...(rate > 0
    ? {
        rateLimit: {
          perSecond: rate,
          ...(values['aws-burst'] ? { burst: Number(values['aws-burst']) } : {}),
        },
      }
    : {}),
});
const slackRate = Number(values['slack-rate-limit']);
const slack = await startSlackSandbox({
  rateLimit: slackRate > 0 ? { perChannelPerSecond: slackRate } : false,
  latencyMs: Number(values['slack-latency-ms']),
});

function stats(): ChildStats {
  const idToName = new Map<string, string>();
  let topLevel = 0;
  for (const m of slack.messages) {
    if (m.channelName) idToName.set(m.channel, m.channelName);
    if (!m.thread_ts || m.thread_ts === m.ts) topLevel++;
  }
  const nameOf = (ch: unknown) => {
    const s = String(ch ?? '?');
    const n = idToName.get(s);
    return n ? `#${n.replace(/^#/, '')}` : s;
  };
  const byMethod: Record<string, number> = {};
  const perChannel: ChildStats['slack']['perChannel'] = {};
  const writesAt: number[] = [];
  let errors = 0;
  for (const c of slack.calls) {
    byMethod[c.method] = (byMethod[c.method] ?? 0) + 1;
    if (c.error) errors++;
    if (c.method !== 'chat.postMessage' && c.method !== 'chat.update') continue;
    if (c.at !== undefined && !c.error) writesAt.push(c.at);
    const name = nameOf(c.body.channel);
    const ch = perChannel[name] ?? { posts: 0, updates: 0 };
    perChannel[name] = ch;
    if (c.method === 'chat.postMessage') ch.posts++;
    else ch.updates++;
  }
  const analyzerByRegion: Record<string, number> = {};
  for (const r of aws.requests)
    if (r.service === 'access-analyzer' && r.region)
      analyzerByRegion[r.region] = (analyzerByRegion[r.region] ?? 0) + 1;
  return {
    aws: aws.counts(),
    analyzerByRegion,
    awsErrors: aws.requests.filter((r) => r.status >= 400).length,
    awsThrottled: aws.throttled(),
    slack: {
      byMethod,
      errors,
      rateLimited: slack.rateLimited(),
      messages: slack.messages.length,
      topLevel,
      replies: slack.messages.length - topLevel,
      perChannel,
      writesAt,
    },
    cpu: process.cpuUsage(),
    rss: process.memoryUsage().rss,
  };
}

startCpuTrack();
process.on('message', (msg: { type?: string; id?: number; from?: number; to?: number }) => {
  if (msg?.type === 'stats') process.send?.({ type: 'stats', id: msg.id, stats: stats() });
  if (msg?.type === 'probe') {
    const probe: CpuWindow = cpuBetween(msg.from ?? 0, msg.to ?? Date.now());
    resetLoopDelay();
    process.send?.({ type: 'probed', id: msg.id, probe });
  }
});
const stop = async () => {
  await Promise.all([aws.close(), slack.close()]);
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
process.on('disconnect', () => void stop()); // the benchmark went away

process.stdout.write(`${JSON.stringify({ awsUrl: aws.url, slackApiUrl: slack.apiUrl, expected })}\n`);
