// The environment (12-factor): secrets and endpoints. The only module that reads process.env, and only
// through parseEnv(process.env) called by the entry point. The AWS SDK reads its own AWS_* variables
// (credential chain, AWS_PROFILE, AWS_ENDPOINT_URL_*) itself; we pick the region here so that
// AWS_DEFAULT_REGION works too (SDK v3 ignores it), and the SDK's retry variables (AWS_MAX_ATTEMPTS,
// AWS_RETRY_MODE), because the bot sets its clients' retries explicitly and the SDK then ignores them.
import { readFileSync } from 'node:fs';
import { parseEnv as parseDotEnv } from 'node:util';
import { z } from 'zod';
import { type Checked, type ConfigProblem, formatProblems, maskSecret, truncate } from './problems.ts';

export type { Checked, ConfigProblem } from './problems.ts';
export { formatProblems };

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

export interface Env {
  slackBotToken: string;
  slackSigningSecret?: string;
  slackAppToken?: string;
  /** Slack Web API base, always ending in `/api/` (the form WebClient's `slackApiUrl` expects). */
  slackApiUrl?: string;
  redisUrl: string;
  /** REDIS_URL is a node of a Redis Cluster (needs a hash-tagged redis.keyPrefix). */
  redisCluster: boolean;
  configPath: string;
  logLevel: LogLevelName;
  port: number;
  awsRegion?: string;
  /** Total attempts per AWS call, the first included (AWS_MAX_ATTEMPTS, the SDK's own variable). */
  awsMaxAttempts: number;
  /** The SDK's retry strategy (AWS_RETRY_MODE): standard, or adaptive (client-side rate limiting). */
  awsRetryMode: AwsRetryMode;
}

export const AWS_RETRY_MODES = ['standard', 'adaptive'] as const;
export type AwsRetryMode = (typeof AWS_RETRY_MODES)[number];

/** How the web role receives Slack requests. */
export type SlackReceiverEnv = { mode: 'socket'; appToken: string } | { mode: 'http'; signingSecret: string };

export const ENV_DEFAULTS = {
  redisUrl: 'redis://127.0.0.1:6379',
  configPath: './access-patrol.yml',
  logLevel: 'info',
  port: 3000,
  awsMaxAttempts: 5,
  awsRetryMode: 'standard',
} as const satisfies Partial<Env>;

/** The variables access-patrol reads itself (besides AWS_DEFAULT_REGION, read when AWS_REGION is unset). */
export const ENV_VARS = [
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'SLACK_API_URL',
  'REDIS_URL',
  'REDIS_CLUSTER',
  'ACCESS_PATROL_CONFIG',
  'LOG_LEVEL',
  'PORT',
  'AWS_REGION',
  'AWS_MAX_ATTEMPTS',
  'AWS_RETRY_MODE',
] as const;
type Var = (typeof ENV_VARS)[number];

const EXPECTED: Record<Var, string> = {
  SLACK_BOT_TOKEN: 'a Slack bot token starting with xoxb-',
  SLACK_SIGNING_SECRET: "the Slack app's signing secret",
  SLACK_APP_TOKEN: 'a Slack app-level token starting with xapp- (Socket Mode), or unset',
  SLACK_API_URL: 'an http(s) URL such as https://slack.com/api/, or unset',
  REDIS_URL: 'a redis:// or rediss:// URL',
  REDIS_CLUSTER: 'true (REDIS_URL is a node of a Redis Cluster) or false',
  ACCESS_PATROL_CONFIG: 'a path to the YAML config file',
  LOG_LEVEL: `one of ${LOG_LEVELS.join(', ')}`,
  PORT: 'a TCP port number 0-65535',
  AWS_REGION: 'an AWS region such as eu-west-1, or unset',
  AWS_MAX_ATTEMPTS: `a positive whole number of attempts per AWS call, the first included (default ${ENV_DEFAULTS.awsMaxAttempts})`,
  AWS_RETRY_MODE: `standard or adaptive (default ${ENV_DEFAULTS.awsRetryMode})`,
};

const LOWERCASE: ReadonlySet<Var> = new Set(['LOG_LEVEL', 'REDIS_CLUSTER', 'AWS_RETRY_MODE']);

const SECRET: ReadonlySet<Var> = new Set(['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN']);

/**
 * Values that only look like secrets: the placeholders of .env.example and their usual variants
 * (`xoxb-your-bot-token`, `<signing secret>`, `changeme`, `xapp-xxxx`). Slack would refuse them at the
 * first call; saying so now names the variable to fill in.
 */
const PLACEHOLDER = /your[-_ ]|^<.*>$|change[-_ ]?me|replace[-_ ]?me|^(xox[a-z]|xapp)-x+$|^x{6,}$/i;
const notPlaceholder = (s: z.ZodString) =>
  s.refine((v) => !PLACEHOLDER.test(v), { message: 'placeholder', abort: true });

const envSchema = z.object({
  SLACK_BOT_TOKEN: notPlaceholder(z.string().startsWith('xoxb-')),
  SLACK_SIGNING_SECRET: notPlaceholder(z.string()).optional(),
  SLACK_APP_TOKEN: notPlaceholder(z.string().startsWith('xapp-')).optional(),
  SLACK_API_URL: z
    .url({ protocol: /^https?$/ })
    .transform(slackApiBase)
    .optional(),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default(ENV_DEFAULTS.redisUrl),
  REDIS_CLUSTER: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  ACCESS_PATROL_CONFIG: z.string().default(ENV_DEFAULTS.configPath),
  LOG_LEVEL: z.enum(LOG_LEVELS).default(ENV_DEFAULTS.logLevel),
  PORT: z.coerce.number().int().min(0).max(65_535).default(ENV_DEFAULTS.port),
  AWS_REGION: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/)
    .optional(),
  // Digits only: "5.0", "1e1" or "0x5" are not what the SDK's own parser would read either.
  AWS_MAX_ATTEMPTS: z
    .string()
    .regex(/^\d+$/)
    .transform(Number)
    .pipe(z.number().int().min(1))
    .default(ENV_DEFAULTS.awsMaxAttempts),
  AWS_RETRY_MODE: z.enum(AWS_RETRY_MODES).default(ENV_DEFAULTS.awsRetryMode),
});

/** Validates the variables access-patrol reads; every problem is reported, secrets masked. */
export function parseEnv(env: NodeJS.ProcessEnv): Checked<Env> {
  // Blank means unset (a `.env` line like `SLACK_APP_TOKEN=`); surrounding whitespace is a copy-paste slip.
  const raw: Partial<Record<Var, string>> = {};
  const source: Partial<Record<Var, string>> = {};
  for (const name of ENV_VARS) {
    const value = env[name]?.trim();
    if (value) {
      raw[name] = LOWERCASE.has(name) ? value.toLowerCase() : value;
      source[name] = name;
    }
  }
  const defaultRegion = env.AWS_DEFAULT_REGION?.trim();
  if (!raw.AWS_REGION && defaultRegion) {
    raw.AWS_REGION = defaultRegion;
    source.AWS_REGION = 'AWS_DEFAULT_REGION';
  }

  const result = envSchema.safeParse(raw);
  if (!result.success) {
    const seen = new Set<Var>();
    const problems: ConfigProblem[] = [];
    for (const issue of result.error.issues) {
      const name = issue.path[0] as Var;
      if (seen.has(name)) continue;
      seen.add(name);
      problems.push({
        path: `env.${source[name] ?? name}`,
        expected: issue.message === 'placeholder' ? `${EXPECTED[name]}, not a placeholder` : EXPECTED[name],
        got:
          issue.message === 'placeholder'
            ? `the placeholder ${JSON.stringify(raw[name])} (copy the real value from the Slack app's settings)`
            : describeEnvValue(name, raw[name]),
      });
    }
    return { ok: false, problems };
  }
  const v = result.data;
  return {
    ok: true,
    value: {
      slackBotToken: v.SLACK_BOT_TOKEN,
      ...(v.SLACK_SIGNING_SECRET !== undefined && { slackSigningSecret: v.SLACK_SIGNING_SECRET }),
      ...(v.SLACK_APP_TOKEN !== undefined && { slackAppToken: v.SLACK_APP_TOKEN }),
      ...(v.SLACK_API_URL !== undefined && { slackApiUrl: v.SLACK_API_URL }),
      redisUrl: v.REDIS_URL,
      redisCluster: v.REDIS_CLUSTER,
      configPath: v.ACCESS_PATROL_CONFIG,
      logLevel: v.LOG_LEVEL,
      port: v.PORT,
      ...(v.AWS_REGION !== undefined && { awsRegion: v.AWS_REGION }),
      awsMaxAttempts: v.AWS_MAX_ATTEMPTS,
      awsRetryMode: v.AWS_RETRY_MODE,
    },
  };
}

/** Variables whose values are secrets; the logger removes those values wherever they appear. */
const SECRET_VARS = [
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
] as const;

/** The secret values in `env` (and the password of REDIS_URL), for log redaction by value. */
export function secretValues(env: NodeJS.ProcessEnv): string[] {
  const values = SECRET_VARS.map((name) => env[name]?.trim()).filter((v): v is string => !!v);
  const redis = env.REDIS_URL?.trim();
  if (redis) {
    try {
      const password = decodeURIComponent(new URL(redis).password);
      if (password) values.push(password);
    } catch {
      // not a URL: parseEnv reports it
    }
  }
  return values;
}

/**
 * Reads `.env` (or `path`) into `env` when the file exists, for the variables `env` does not set
 * already: the process environment wins, as with `docker run --env-file` or a shell export. The AWS SDK
 * reads its own variables (AWS_PROFILE, AWS_ENDPOINT_URL_*) from the same object. Returns the file read,
 * or undefined when there is none.
 */
export function loadDotEnv(env: NodeJS.ProcessEnv, path = '.env'): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
  for (const [name, value] of Object.entries(parseDotEnv(text))) {
    if (env[name] === undefined) env[name] = value;
  }
  return path;
}

/**
 * The web role needs a way to receive Slack requests: Socket Mode (SLACK_APP_TOKEN, preferred when set)
 * or HTTP with request signature checks (SLACK_SIGNING_SECRET).
 */
export function requireWebEnv(env: Env): Checked<SlackReceiverEnv> {
  if (env.slackAppToken) return { ok: true, value: { mode: 'socket', appToken: env.slackAppToken } };
  if (env.slackSigningSecret) {
    return { ok: true, value: { mode: 'http', signingSecret: env.slackSigningSecret } };
  }
  return {
    ok: false,
    problems: [
      {
        path: 'env.SLACK_SIGNING_SECRET',
        expected: 'the signing secret (HTTP receiver) or SLACK_APP_TOKEN (Socket Mode) for the web role',
        got: 'neither is set',
      },
    ],
  };
}

/**
 * `https://slack.com`, `https://slack.com/api` and `https://slack.com/api/` all become
 * `https://slack.com/api/`; a sandbox at `http://127.0.0.1:4000` becomes `http://127.0.0.1:4000/api/`.
 */
export function slackApiBase(url: string): string {
  const u = new URL(url);
  const path = u.pathname.replace(/\/+$/, '');
  u.pathname = `${path.endsWith('/api') ? path : `${path}/api`}/`;
  u.search = '';
  u.hash = '';
  return u.toString();
}

function describeEnvValue(name: Var, value: string | undefined): string {
  if (value === undefined) return 'unset';
  if (SECRET.has(name)) return maskSecret(value);
  // A Redis URL may carry a password.
  const shown = name === 'REDIS_URL' ? value.replace(/\/\/[^@/]*@/, '//***@') : value;
  return JSON.stringify(truncate(shown, 60));
}
