// `access-patrol` command line: start, scan, check-config, owners, audit export, digest.
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { renderText } from '../blocks/render.ts';
import { type DigestPlan, type DigestRunResult, planDigest, runDigest } from '../jobs/digest.ts';
import { auditExport } from './audit-export.ts';
import { createAwsClients } from './aws/clients.ts';
import { createTagReader } from './aws/tags.ts';
import { type Env, formatProblems, requireWebEnv } from './config/env.ts';
import { loadAll } from './config/load.ts';
import type { AppConfig } from './config/schema.ts';
import { explainOwners } from './findings/owners.ts';
import { createLogger, scrubSecrets } from './log.ts';
import { createRuntime, type ScanReport } from './runtime.ts';
import { createSlackApp, type SlackApp } from './slack/app.ts';
import { registerListeners } from './slack/listeners/index.ts';
import { AuditLog } from './store/audit.ts';
import { keys } from './store/keys.ts';

const USAGE = `usage: access-patrol <command> [options]

commands:
  start [--role all|web|worker]   run the bot (default: web, worker and scheduler in one process)
  scan [--region r]...            run one full scan now, wait for delivery, print a summary
  check-config                    validate the environment and the config file, list every problem
  owners <resource-arn>           show which routing rule sends a resource's findings where, and why
  audit export [--since date]     write the audit trail as JSON Lines to stdout (for a SIEM)
  digest [--dry-run]              send this week's digests now (never twice per owner and week);
                                  --dry-run prints what would be sent to whom and sends nothing
`;

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  const loaded = await loadAll(env);
  if (!loaded.ok) {
    process.stderr.write(
      `access-patrol: configuration has ${loaded.problems.length} problem(s):\n${formatProblems(loaded.problems)}\n`,
    );
    return 2;
  }
  const { config } = loaded;
  const logger = createLogger({ level: loaded.env.logLevel });

  switch (command) {
    case 'check-config': {
      process.stdout.write(
        `configuration OK: ${config.regions.length} region(s), ${config.routing.length} routing rule(s), default channel ${config.slack.defaultChannel}\n`,
      );
      return 0;
    }
    case 'owners': {
      const { positionals } = parseArgs({ args: rest, allowPositionals: true, strict: true });
      const arn = positionals[0];
      if (!arn) {
        process.stderr.write('usage: access-patrol owners <resource-arn>\n');
        return 2;
      }
      const tags = createTagReader(
        createAwsClients({ organization: config.organization, logger }),
        config.tags,
      );
      const explained = await explainOwners(arn, config, tags);
      if (!explained.ok) {
        process.stderr.write(`access-patrol owners: ${explained.error}\n`);
        return 2;
      }
      process.stdout.write(`${explained.text}\n`);
      return 0;
    }
    case 'scan': {
      const { values } = parseArgs({
        args: rest,
        options: { region: { type: 'string', multiple: true } },
        strict: true,
      });
      const unknown = (values.region ?? []).filter((r) => !config.regions.includes(r));
      if (unknown.length) {
        process.stderr.write(
          `access-patrol scan: region(s) not in config: ${unknown.join(', ')} (configured: ${config.regions.join(', ')})\n`,
        );
        return 2;
      }
      const rt = createRuntime({ env: loaded.env, config, logger });
      rt.startWorkers();
      try {
        const report = await rt.scanNow({ regions: values.region });
        process.stdout.write(`${formatScanReport(report)}\n`);
        return report.finalize.analyzers.some((a) => !a.ok) ? 1 : 0;
      } catch (err) {
        process.stderr.write(`access-patrol scan failed: ${(err as Error).message}\n`);
        return 1;
      } finally {
        await rt.close();
      }
    }
    case 'start': {
      const { values } = parseArgs({
        args: rest,
        options: { role: { type: 'string', default: 'all' } },
        strict: true,
      });
      const role = values.role;
      if (role !== 'all' && role !== 'web' && role !== 'worker') {
        process.stderr.write(`access-patrol start: --role must be all, web or worker (got "${role}")\n`);
        return 2;
      }
      if (role !== 'worker') {
        const web = requireWebEnv(loaded.env);
        if (!web.ok) {
          process.stderr.write(`access-patrol start: the web role needs:\n${formatProblems(web.problems)}\n`);
          return 2;
        }
      }
      return start(role, loaded.env, config, logger);
    }
    case 'audit': {
      if (rest[0] !== 'export') {
        process.stderr.write('usage: access-patrol audit export [--since YYYY-MM-DD]\n');
        return 2;
      }
      const redis = new Redis(loaded.env.redisUrl, { maxRetriesPerRequest: 3 });
      try {
        const audit = new AuditLog(redis, keys(config.redis.keyPrefix), config.audit);
        return await auditExport(rest.slice(1), { audit, out: process.stdout, err: process.stderr });
      } finally {
        await redis.quit();
      }
    }
    case 'digest': {
      const { values } = parseArgs({
        args: rest,
        options: { 'dry-run': { type: 'boolean', default: false } },
        strict: true,
      });
      const rt = createRuntime({ env: loaded.env, config, logger });
      try {
        if (values['dry-run']) {
          process.stdout.write(`${formatDigestPlan(await planDigest(rt.deps), config)}\n`);
          return 0;
        }
        const result = await runDigest(rt.deps);
        process.stdout.write(`${formatDigestResult(result)}\n`);
        return 0;
      } catch (err) {
        process.stderr.write(`access-patrol digest failed: ${(err as Error).message}\n`);
        return 1;
      } finally {
        await rt.close();
      }
    }
    default:
      process.stderr.write(`access-patrol: unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

async function start(
  role: 'all' | 'web' | 'worker',
  env: Env,
  config: AppConfig,
  logger: Logger,
): Promise<number> {
  const rt = createRuntime({ env, config, logger });
  if (role !== 'web') {
    rt.startWorkers();
    await rt.registerSchedulers();
    logger.info(
      { everyMinutes: config.scan.intervalMinutes, regions: config.regions },
      'workers and scan scheduler started',
    );
  }
  let slack: SlackApp | undefined;
  if (role !== 'worker') {
    const web = requireWebEnv(env);
    if (!web.ok) throw new Error(`the web role needs:\n${formatProblems(web.problems)}`);
    slack = createSlackApp({
      receiver: web.value,
      botToken: env.slackBotToken,
      slackApiUrl: env.slackApiUrl,
      port: env.port,
      logger,
      ready: () =>
        rt.deps.redis.ping().then(
          () => true,
          () => false,
        ),
      register: (app) => registerListeners(app, rt.listenerDeps()),
    });
    try {
      await slack.start();
    } catch (err) {
      await rt.close();
      throw err;
    }
  }
  logger.info({ port: env.port, role }, 'access-patrol started');
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  // Stop taking Slack requests first, then let workers finish and close queues and Redis.
  await slack?.stop();
  await rt.close();
  return 0;
}

/** `digest --dry-run`: every owner, where it would go, and the message as text. */
export function formatDigestPlan(plan: DigestPlan, config: AppConfig): string {
  const w = plan.week;
  const lines = [`digest ${w.id} (${w.from} to ${w.to}, ${config.digest.timezone}): dry run, nothing sent`];
  for (const t of plan.targets) {
    const to = t.kind === 'channel' ? `channel ${t.to}` : `DM to ${t.to} (the Slack user with this e-mail)`;
    if (!t.message) {
      lines.push(
        '',
        `→ ${to}: nothing (${t.kind === 'channel' ? 'empty week, emptyWeek: skip' : 'nothing to report'})`,
      );
      continue;
    }
    lines.push('', `→ ${to}`, renderText(t.message));
  }
  return lines.join('\n');
}

export function formatDigestResult(r: DigestRunResult): string {
  const lines = [
    `digest ${r.week}: sent ${r.sent.length}, already sent ${r.alreadySent.length}, skipped ${r.skipped.length}`,
  ];
  for (const s of r.sent)
    lines.push(`  sent to ${s.kind === 'channel' ? s.to : `${s.to} (DM ${s.channel})`}`);
  if (r.unknownEmails.length) lines.push(`  no Slack user for: ${r.unknownEmails.join(', ')}`);
  return lines.join('\n');
}

export function formatScanReport(report: ScanReport): string {
  const lines: string[] = [];
  const a = report.finalize.analyzers;
  const sum = (f: (x: (typeof a)[number]) => number) => a.reduce((n, x) => n + f(x), 0);
  const failed = a.filter((y) => !y.ok);
  lines.push(
    `scan ${report.run.scanId}: ${report.run.regions.length} region(s), ${a.length - failed.length} analyzer(s) scanned, ${failed.length} failed, ${sum((x) => x.active)} active finding(s)`,
  );
  lines.push(`  new ${sum((x) => x.new)}, changed ${sum((x) => x.changed)}, closed ${sum((x) => x.closed)}`);
  for (const x of failed) {
    const tries = x.attempts ? ` after ${x.attempts} attempt(s)` : '';
    lines.push(`  FAILED ${x.analyzerArn}${tries}: ${x.error}`);
  }
  for (const d of report.deliveries) {
    const parts = [`posted ${d.posted}`, `updated ${d.updated}`, `closed ${d.closed}`];
    if (d.notices) parts.push(`notices ${d.notices}`);
    if (d.summary) parts.push(`as a summary with a thread (${d.summary.findings} new)`);
    if (d.fallback) parts.push(`fell back to ${d.fallback.to} (${d.fallback.error})`);
    lines.push(`  ${d.channel}: ${parts.join(', ')}`);
  }
  if (report.deliveries.length === 0) lines.push('  nothing to post or update');
  return lines.join('\n');
}

/**
 * The binary's entry: runs a command and turns anything thrown into one line on stderr (exit 1), so an
 * operator sees what failed, not a stack.
 */
export async function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    return await main(argv, env);
  } catch (err) {
    process.stderr.write(`${scrubSecrets(`access-patrol: ${(err as Error)?.message ?? String(err)}`)}\n`);
    return 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run(process.argv.slice(2)).then((code) => process.exit(code));
}
