// `access-patrol` command line: start, scan, check-config, owners, audit export, digest.
import { pathToFileURL } from 'node:url';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { renderText } from '../blocks/render.ts';
import { type DigestPlan, type DigestRunResult, planDigest, runDigest } from '../jobs/digest.ts';
import { auditExport, parseAuditExportArgs } from './audit-export.ts';
import { createAwsClients } from './aws/clients.ts';
import { createTagReader } from './aws/tags.ts';
import { type Env, formatProblems, loadDotEnv, requireWebEnv, secretValues } from './config/env.ts';
import { loadAll } from './config/load.ts';
import { closestName } from './config/problems.ts';
import type { AppConfig } from './config/schema.ts';
import { explainOwners } from './findings/owners.ts';
import {
  createHealth,
  type Health,
  type HealthServer,
  type ReadinessCheck,
  startHealthServer,
} from './health.ts';
import { createLogger, scrubSecrets } from './log.ts';
import { createMetrics, measureSlackAcks, metricsRoute } from './metrics.ts';
import { connectRedis } from './redis.ts';
import { awsRetries, createRuntime, type ScanReport } from './runtime.ts';
import type { SlackApp } from './slack/app.ts';
import { AuditLog } from './store/audit.ts';
import { keys } from './store/keys.ts';

const USAGE = `usage: access-patrol <command> [options]

commands:
  start [--role all|web|worker]   run the bot (default: web, worker and scheduler in one process)
  scan [--region r]...            run one full scan now, wait for delivery, print a summary
  check-config                    validate the environment and the config file, list every problem
  owners <resource-arn> [--account id]
                                  show which routing rule sends a resource's findings where, and why;
                                  --account names the 12-digit account that owns the resource, for
                                  ARNs that carry none (S3 buckets): rules on accountId and the tag
                                  read use it
  audit export [--since date]     write the audit trail as JSON Lines to stdout (for a SIEM)
  digest [--dry-run]              send this week's digests now (never twice per owner and week);
                                  --dry-run prints what would be sent to whom and sends nothing
  restore-role <account> <role> [--backup key] [--list]
                                  recreate a role deleted from Slack from its backup in Redis,
                                  without Slack; --list shows the role's backups

Every command takes --pretty: readable log lines instead of JSON (the default on a terminal).
Logs go to stderr, reports to stdout. The environment comes from the process and, when present,
./.env (the process wins).
`;

type OptionSpec = ParseArgsConfig['options'];

/** Each command's arguments, parsed before any configuration is read. */
const COMMANDS = {
  start: { usage: 'start [--role all|web|worker]', options: { role: { type: 'string', default: 'all' } } },
  scan: { usage: 'scan [--region r]...', options: { region: { type: 'string', multiple: true } } },
  'check-config': { usage: 'check-config', options: {} },
  owners: {
    usage: 'owners <resource-arn> [--account <12-digit account id>]',
    options: { account: { type: 'string' } },
    positionals: 1,
  },
  audit: { usage: 'audit export [--since YYYY-MM-DD]', options: {} },
  digest: { usage: 'digest [--dry-run]', options: { 'dry-run': { type: 'boolean', default: false } } },
  'restore-role': {
    usage: 'restore-role <account-id> <role-name> [--backup key] [--list]',
    options: { backup: { type: 'string' }, list: { type: 'boolean', default: false } },
    positionals: 2,
  },
} satisfies Record<string, { usage: string; options: OptionSpec; positionals?: number }>;
type Command = keyof typeof COMMANDS;

/** A mistake in the command line: one line for the person, then the command's usage; exit 2. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: Command,
  ) {
    super(message);
  }
}

interface ParsedCommand {
  command: Command;
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
  rest: string[];
}

function parseCommand(argv: string[]): ParsedCommand | 'help' {
  const [name, ...rest] = argv;
  if (name === undefined) throw new UsageError('no command given');
  if (name === 'help' || name === '--help' || name === '-h') return 'help';
  if (!Object.hasOwn(COMMANDS, name)) {
    const close = closestWord(name, Object.keys(COMMANDS));
    throw new UsageError(
      `unknown command ${JSON.stringify(name)}${close ? ` (did you mean ${close}?)` : ''}`,
    );
  }
  const command = name as Command;
  const spec: { options: OptionSpec; positionals?: number } = COMMANDS[command];
  if (command === 'audit') {
    if (rest[0] === '--help' || rest[0] === '-h')
      return { command, values: { help: true }, positionals: [], rest };
    if (rest[0] !== 'export')
      throw new UsageError(
        rest[0] ? `unknown audit command ${JSON.stringify(rest[0])}` : 'which audit command? (export)',
        command,
      );
    const parsed = parseAuditExportArgs(rest.slice(1));
    if ('problem' in parsed) throw new UsageError(parsed.problem, command);
    return { command, values: 'help' in parsed ? { help: true } : {}, positionals: [], rest };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...spec.options, help: { type: 'boolean', short: 'h' }, pretty: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(
      argumentProblem(err as Error & { code?: string }, Object.keys(spec.options ?? {})),
      command,
    );
  }
  const max = spec.positionals ?? 0;
  if (!parsed.values.help && parsed.positionals.length > max)
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[max])}`, command);
  return { command, values: parsed.values, positionals: parsed.positionals, rest };
}

/** node:util parseArgs errors, in one short line with a suggestion. */
function argumentProblem(err: Error & { code?: string }, known: string[]): string {
  const quoted = err.message.match(/'([^']+)'/)?.[1] ?? '';
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const close = closestWord(quoted.replace(/^-+/, ''), known);
      return `unknown option ${quoted}${close ? ` (did you mean --${close}?)` : ''}`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return err.message.replace(/\.$/, '').replace(/^Option /, 'option ');
    default:
      return err.message.split('. ')[0] ?? err.message;
  }
}

/** Commands and options are short: allow about one edit in two characters. */
const closestWord = (word: string, known: string[]) =>
  closestName(word, known, (name) => Math.max(1, Math.floor(name.length / 2)));

export interface MainOptions {
  /** The `.env` file read into `env` before main, if any (check-config says so). */
  dotEnv?: string;
}

export async function main(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  opts: MainOptions = {},
): Promise<number> {
  let parsed: ParsedCommand | 'help';
  try {
    parsed = parseCommand(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    const where = err.command ? ` ${err.command}` : '';
    const usage = err.command ? `usage: access-patrol ${COMMANDS[err.command].usage}\n` : USAGE;
    process.stderr.write(`access-patrol${where}: ${err.message}\n${usage}`);
    return 2;
  }
  if (parsed === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const { command, values, positionals, rest } = parsed;
  if (values.help) {
    process.stdout.write(`usage: access-patrol ${COMMANDS[command].usage}\n`);
    return 0;
  }
  const loaded = await loadAll(env);
  if (!loaded.ok) {
    process.stderr.write(
      `access-patrol: configuration has ${loaded.problems.length} problem(s):\n${formatProblems(loaded.problems)}\n`,
    );
    return 2;
  }
  const { config } = loaded;
  const logger = createLogger({
    level: loaded.env.logLevel,
    pretty: values.pretty === true || process.stderr.isTTY === true,
    secrets: secretValues(env),
  });

  switch (command) {
    case 'check-config': {
      process.stdout.write(
        `configuration OK: ${config.regions.length} region(s), ${config.routing.length} routing rule(s), default channel ${config.slack.defaultChannel}${opts.dotEnv ? ` (environment includes ${opts.dotEnv})` : ''}\n`,
      );
      return 0;
    }
    case 'owners': {
      const arn = positionals[0];
      if (!arn) {
        process.stderr.write(
          `access-patrol owners: no resource ARN given\nusage: access-patrol ${COMMANDS.owners.usage}\n`,
        );
        return 2;
      }
      const account = values.account as string | undefined;
      if (account !== undefined && !/^\d{12}$/.test(account)) {
        process.stderr.write(
          `access-patrol owners: --account must be a 12-digit AWS account id (got ${JSON.stringify(account)})\nusage: access-patrol ${COMMANDS.owners.usage}\n`,
        );
        return 2;
      }
      const tags = createTagReader(
        createAwsClients({ ...awsRetries(loaded.env), organization: config.organization, logger }),
        config.tags,
      );
      const explained = await explainOwners(arn, config, tags, account);
      if (!explained.ok) {
        process.stderr.write(`access-patrol owners: ${explained.error}\n`);
        return 2;
      }
      process.stdout.write(`${explained.text}\n`);
      return 0;
    }
    case 'scan': {
      const regions = values.region as string[] | undefined;
      const unknown = (regions ?? []).filter((r) => !config.regions.includes(r));
      if (unknown.length) {
        process.stderr.write(
          `access-patrol scan: region(s) not in config: ${unknown.join(', ')} (configured: ${config.regions.join(', ')})\n`,
        );
        return 2;
      }
      const rt = createRuntime({ env: loaded.env, config, logger });
      try {
        await rt.waitForRedis();
        rt.startWorkers();
        const report = await rt.scanNow({ regions });
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
      const role = values.role;
      if (role !== 'all' && role !== 'web' && role !== 'worker') {
        process.stderr.write(
          `access-patrol start: --role must be all, web or worker (got "${String(role)}")\nusage: access-patrol ${COMMANDS.start.usage}\n`,
        );
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
      // A few quick reconnects, then the export fails with the connection error.
      const redis = connectRedis({
        url: loaded.env.redisUrl,
        cluster: loaded.env.redisCluster,
        keyPrefix: config.redis.keyPrefix,
        options: { maxRetriesPerRequest: 1, retryStrategy: (times) => (times > 3 ? null : 250 * times) },
      });
      redis.on('error', () => undefined);
      try {
        const audit = new AuditLog(redis, keys(config.redis.keyPrefix), config.audit);
        return await auditExport(rest.slice(1), { audit, out: process.stdout, err: process.stderr });
      } finally {
        redis.disconnect();
      }
    }
    case 'restore-role':
      return restoreRoleCommand(positionals, values, loaded.env, config, logger);
    case 'digest': {
      const rt = createRuntime({ env: loaded.env, config, logger });
      try {
        await rt.waitForRedis();
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
  }
}

async function start(
  role: 'all' | 'web' | 'worker',
  env: Env,
  config: AppConfig,
  logger: Logger,
): Promise<number> {
  const rt = createRuntime({ env, config, logger, metrics: createMetrics({ processMetrics: true }) });
  const routes = [metricsRoute(rt.metrics)];
  const stopAckTimer = role !== 'worker' ? measureSlackAcks(rt.metrics) : () => undefined;
  const workers = role !== 'web' ? rt.startWorkers() : undefined;
  const checks: Record<string, ReadinessCheck> = { redis: () => rt.redisCheck() };
  if (workers) checks.workers = () => workers.running() || 'workers stopped';
  let stopping = false;
  // Schedulers are upserted once Redis answers, so a Redis outage at start delays them instead of
  // stopping the process: it listens, reports not ready and recovers when Redis returns.
  if (workers)
    void (async () => {
      for (let attempt = 1; !stopping; attempt++) {
        try {
          await rt.waitForRedis(60_000);
          await rt.registerSchedulers();
          logger.info(
            { everyMinutes: config.scan.intervalMinutes, regions: config.regions },
            'workers and scan scheduler started',
          );
          return;
        } catch (err) {
          if (stopping) return;
          logger.warn({ attempt, err: (err as Error).message }, 'could not register the schedulers yet');
          await new Promise((r) => setTimeout(r, 5000));
        }
      }
    })();

  // A store from before the finding indexes is indexed once (reads walk every card meanwhile).
  void (async () => {
    try {
      await rt.waitForRedis(60_000);
      const t0 = Date.now();
      if (await rt.deps.store.indexesReady()) logger.info({ ms: Date.now() - t0 }, 'finding indexes ready');
    } catch (err) {
      if (!stopping)
        logger.warn({ err: (err as Error).message }, 'finding indexes not built yet; reads walk every card');
    }
  })();

  let slack: SlackApp | undefined;
  let healthServer: HealthServer | undefined;
  let health: Health | undefined;
  let port: number;
  try {
    if (role !== 'worker') {
      const web = requireWebEnv(env);
      if (!web.ok) throw new Error(`the web role needs:\n${formatProblems(web.problems)}`);
      // Bolt, its receivers and the listeners are loaded by the processes that serve Slack only: a
      // worker process is about 9 MB smaller without them (docs/performance.md).
      const [{ createSlackApp }, { registerListeners }] = await Promise.all([
        import('./slack/app.ts'),
        import('./slack/listeners/index.ts'),
      ]);
      slack = createSlackApp({
        receiver: web.value,
        botToken: env.slackBotToken,
        slackApiUrl: env.slackApiUrl,
        port: env.port,
        logger,
        ready: checks,
        routes,
        register: (app) => registerListeners(app, rt.listenerDeps()),
        claimRequest: (hash, ttl) => rt.claimSlackRequest(hash, ttl),
      });
      port = (await slack.start()).port;
    } else {
      // A worker serves the same health routes, so one container healthcheck fits every role.
      health = createHealth({ checks, logger });
      healthServer = await startHealthServer(health, env.port, routes);
      port = healthServer.port;
    }
  } catch (err) {
    stopping = true;
    stopAckTimer();
    health?.stop();
    await healthServer?.close();
    await rt.close();
    throw err;
  }
  logger.info({ port, role }, 'access-patrol started');
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  stopping = true;
  // Stop taking Slack requests first, then let workers finish (within shutdown.graceMs: what has
  // not finished by then goes back to the queue) and close queues and Redis.
  const graceMs = config.shutdown.graceMs;
  const deadline = Date.now() + graceMs;
  await slack?.stop();
  stopAckTimer();
  const closing = rt.close({ graceMs: Math.max(0, deadline - Date.now()) });
  // Closing queues and Redis after the grace takes moments; a Redis that stopped answering must
  // not hold the process past its grace (the orchestrator would kill it anyway).
  const late = new Promise<'late'>((r) =>
    setTimeout(() => r('late'), Math.max(0, deadline - Date.now()) + 2000).unref(),
  );
  if ((await Promise.race([closing.then(() => 'closed' as const), late])) === 'late') {
    logger.warn({ graceMs }, 'shutdown did not finish within its grace; exiting');
  }
  health?.stop();
  await healthServer?.close();
  logger.info({ ms: graceMs - (deadline - Date.now()) }, 'stopped');
  return 0;
}

/**
 * `restore-role <account> <role>`: the Restore role button without Slack (an outage, a revoked token):
 * the newest backup (or `--backup`), recreated by the same IAM gateway, audited as actor `cli`.
 */
async function restoreRoleCommand(
  positionals: string[],
  values: ParsedCommand['values'],
  env: Env,
  config: AppConfig,
  logger: Logger,
): Promise<number> {
  const [accountId, roleName] = positionals;
  const usage = `usage: access-patrol ${COMMANDS['restore-role'].usage}\n`;
  if (!accountId || !/^\d{12}$/.test(accountId) || !roleName) {
    process.stderr.write(`access-patrol restore-role: needs a 12-digit account id and a role name\n${usage}`);
    return 2;
  }
  const rt = createRuntime({ env, config, logger });
  try {
    await rt.waitForRedis();
    const backups = await rt.deps.backups.list(accountId, roleName);
    if (values.list) {
      process.stdout.write(
        backups.length
          ? `${backups.map((b) => `${b.takenAt}  ${b.key}`).join('\n')}\n`
          : `no backups of ${roleName} in ${accountId} (kept ${config.roles.backupRetentionDays} days)\n`,
      );
      return 0;
    }
    const key = typeof values.backup === 'string' ? values.backup : backups[0]?.key;
    const backup = key ? await rt.deps.backups.get(key) : null;
    if (!key || !backup || backup.accountId !== accountId || backup.roleName !== roleName) {
      process.stderr.write(
        `access-patrol restore-role: no backup of ${roleName} in ${accountId}${key ? ` at ${key}` : ''} (backups are kept ${config.roles.backupRetentionDays} days; --list shows them)\n`,
      );
      return 1;
    }
    const report = await rt.deps.iam.restoreRole(backup);
    for (const line of report.done) process.stdout.write(`done: ${line}\n`);
    for (const line of report.notDone) process.stdout.write(`not done: ${line}\n`);
    await rt.deps.audit.record({
      actor: 'cli',
      action: 'restore-role',
      outcome: report.ok ? 'succeeded' : 'failed',
      resourceArn: backup.arn,
      accountId,
      detail: `from ${key}`,
      ...(report.ok ? {} : { error: `${report.error.code}: ${report.error.message}` }),
    });
    if (!report.ok) {
      process.stderr.write(
        `access-patrol restore-role failed: ${report.error.code}: ${report.error.message}\n`,
      );
      return 1;
    }
    process.stdout.write(`restored ${backup.arn} from the backup taken ${backup.takenAt}\n`);
    return 0;
  } finally {
    await rt.close();
  }
}

/** `digest --dry-run`: every owner, where it would go, and the message as text. */
export function formatDigestPlan(plan: DigestPlan, config: AppConfig): string {
  const w = plan.week;
  const lines = [`digest ${w.id} (${w.from} to ${w.to}, ${config.digest.timezone}): dry run, nothing sent`];
  for (const t of plan.targets) {
    const to =
      t.kind === 'channel'
        ? `channel ${t.to}${t.unusable ? `, likely ${config.slack.defaultChannel} instead (the bot's last post there: ${unusableChannelWords(t.to, t.unusable)})` : ''}`
        : `DM to ${t.to} (the Slack user with this e-mail)`;
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
  for (const s of r.sent) {
    if (s.kind === 'user') lines.push(`  sent to ${s.to} (DM ${s.channel})`);
    else if (s.fallback)
      lines.push(`  sent to ${s.fallback.to} (fallback: ${unusableChannelWords(s.to, s.fallback.error)})`);
    else lines.push(`  sent to ${s.to}`);
  }
  if (r.unknownEmails.length) lines.push(`  no Slack user for: ${r.unknownEmails.join(', ')}`);
  return lines.join('\n');
}

/** Why the bot could not post in a channel, in words: `not in #team-gone`, `#team-gone not found`. */
function unusableChannelWords(channel: string, error: string): string {
  switch (error) {
    case 'not_in_channel':
      return `not in ${channel}`;
    case 'channel_not_found':
      return `${channel} not found`;
    case 'is_archived':
    case 'channel_is_archived':
      return `${channel} is archived`;
    default:
      return `may not post in ${channel}: ${error}`;
  }
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
    if (d.waited)
      parts.push(
        `waited ${(d.waited.ms / 1000).toFixed(1)} s for scan ${d.waited.scanId} to finish delivering here`,
      );
    lines.push(`  ${d.channel}: ${parts.join(', ')}`);
  }
  if (report.deliveries.length === 0) lines.push('  nothing to post or update');
  return lines.join('\n');
}

/**
 * The binary's entry: reads `./.env` when present, runs a command and turns anything thrown into one
 * line on stderr (exit 1), so an operator sees what failed, not a stack.
 */
export async function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    const dotEnv = loadDotEnv(env);
    return await main(argv, env, dotEnv ? { dotEnv } : {});
  } catch (err) {
    process.stderr.write(`${scrubSecrets(`access-patrol: ${(err as Error)?.message ?? String(err)}`)}\n`);
    return 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run(process.argv.slice(2)).then((code) => process.exit(code));
}
