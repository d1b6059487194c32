// Structured logging: one pino root logger with secrets redacted, and an adapter so Bolt and the Slack
// SDKs log through it.
import { createRequire } from 'node:module';
import { type Logger as BoltLogger, LogLevel } from '@slack/logger';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevelName } from './config/env.ts';

export type { Logger } from 'pino';

/** Keys whose values never reach a log line, at the top level and up to two objects deep. */
const SECRET_KEYS = [
  'token',
  'botToken',
  'appToken',
  'userToken',
  'slackBotToken',
  'slackAppToken',
  'signingSecret',
  'slackSigningSecret',
  'clientSecret',
  'password',
  'authorization',
  'Authorization',
  'SLACK_BOT_TOKEN',
  'SLACK_APP_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SecretAccessKey',
  'secretAccessKey',
  'SessionToken',
  'sessionToken',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
];

export const REDACT_PATHS: string[] = [
  ...SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  'err.config.headers.Authorization',
  'Credentials.SecretAccessKey',
  'Credentials.SessionToken',
  '*.Credentials.SecretAccessKey',
  '*.Credentials.SessionToken',
];

/** Slack tokens that slip into free text (an error message quoting a request, say). */
const TOKEN_IN_TEXT = /\b(xox[abposre]|xapp)-[A-Za-z0-9-]{6,}/g;
/** The password of a Redis URL (`redis://user:password@host`). */
const URL_PASSWORD = /\b(rediss?:\/\/)[^@\s/"]*@/g;
/**
 * A JSON member whose key names a secret, at any depth of a log line: `"SecretAccessKey":"…"`,
 * `"authorization":"…"`, `"x-slack-signature":"…"`. Redaction paths only reach fixed depths.
 */
const SECRET_MEMBER =
  /"([A-Za-z_-]*(?:[Tt]oken|TOKEN|[Ss]ecret|SECRET|[Pp]assword|PASSWORD|[Aa]uthorization|[Ss]ignature|[Cc]ookie)[A-Za-z_-]*)":"(?:[^"\\]|\\.)*"/g;
/** Keys that contain those words but name no secret. */
const NOT_SECRET_KEYS = new Set(['nextToken', 'NextToken', 'next_cursor', 'clientToken', 'secretsRedacted']);

export function scrubSecrets(text: string): string {
  return text
    .replace(TOKEN_IN_TEXT, (_m, kind: string) => `${kind}-[REDACTED]`)
    .replace(URL_PASSWORD, '$1***@');
}

/**
 * Removes every secret from one serialized log line: the known values (as they appear inside JSON
 * strings, so an Error's message and stack are covered too), Slack tokens by shape, Redis URL passwords
 * and members whose key names a secret.
 */
export function scrubLine(line: string, secrets: readonly string[]): string {
  let out = line;
  for (const secret of secrets) {
    const inJson = JSON.stringify(secret).slice(1, -1);
    out = out.split(inJson).join('[REDACTED]');
    if (inJson !== secret) out = out.split(secret).join('[REDACTED]');
  }
  return scrubSecrets(out).replace(SECRET_MEMBER, (member, key: string) =>
    NOT_SECRET_KEYS.has(key) ? member : `"${key}":"[REDACTED]"`,
  );
}

export interface LoggerOptions {
  level: LogLevelName;
  /** One readable, coloured line per entry (pino-pretty) instead of JSON: for a terminal. */
  pretty?: boolean;
  /** Where lines go; stderr by default, so command reports on stdout stay clean (tests pass a collector). */
  destination?: DestinationStream;
  name?: string;
  /**
   * Values never written, wherever they appear: the tokens and secret keys of the environment
   * (`secretValues` in src/config/env.ts). Short values (under 8 characters) are ignored.
   */
  secrets?: readonly string[];
}

/** pino-pretty (about 30 modules) is loaded only when a terminal asks for it, not by every process. */
function loadPretty(): typeof import('pino-pretty') {
  return createRequire(import.meta.url)('pino-pretty');
}

export function createLogger(options: LoggerOptions): Logger {
  const out = options.destination ?? pino.destination({ dest: 2, sync: true });
  const secrets = [...new Set(options.secrets ?? [])].filter((v) => v.length >= 8);
  const format = options.pretty
    ? loadPretty().prettyFactory({
        colorize: options.destination === undefined && process.stderr.isTTY === true,
        translateTime: 'SYS:HH:MM:ss',
        ignore: 'pid,hostname',
        singleLine: false,
      })
    : undefined;
  const scrubbed: DestinationStream = {
    write(line: string) {
      const clean = scrubLine(line, secrets);
      out.write(format ? format(clean) : clean);
    },
  };
  return pino(
    {
      level: options.level,
      ...(options.name !== undefined && { name: options.name }),
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      hooks: {
        logMethod(args, method) {
          const clean = args.map((a) => (typeof a === 'string' ? scrubSecrets(a) : a));
          return method.apply(this, clean as Parameters<typeof method>);
        },
      },
    },
    scrubbed,
  );
}

/** Bolt's Logger interface over a pino child logger (`component: 'slack'`). */
export function boltLogger(parent: Logger): BoltLogger {
  const log = parent.child({ component: 'slack' });
  const emit = (level: 'debug' | 'info' | 'warn' | 'error', msgs: unknown[]) => {
    if (!log.isLevelEnabled(level)) return;
    const text: string[] = [];
    const extra: unknown[] = [];
    let err: Error | undefined;
    for (const m of msgs) {
      if (m instanceof Error && !err) err = m;
      else if (m !== null && typeof m === 'object') extra.push(m);
      else text.push(String(m));
    }
    const fields: Record<string, unknown> = {};
    if (err) fields.err = err;
    if (extra.length === 1) fields.data = extra[0];
    else if (extra.length > 1) fields.data = extra;
    let msg = text.join(' ') || err?.message || '';
    // The Web API client logs every request body and every answer at debug level, and Slack's answer
    // to a post echoes the message: message text the bot sends (a new console password in a DM,
    // finding details) never goes to a log; the size does.
    const body = /^http request (body|result): /.exec(msg);
    if (body) msg = `http request ${body[1]}: (${msg.length - body[0].length} characters, not logged)`;
    log[level](fields, msg);
  };
  return {
    debug: (...msgs: unknown[]) => emit('debug', msgs),
    info: (...msgs: unknown[]) => emit('info', msgs),
    warn: (...msgs: unknown[]) => emit('warn', msgs),
    error: (...msgs: unknown[]) => emit('error', msgs),
    setLevel(level: LogLevel) {
      log.level = level;
    },
    getLevel(): LogLevel {
      switch (log.level) {
        case 'trace':
        case 'debug':
          return LogLevel.DEBUG;
        case 'info':
          return LogLevel.INFO;
        case 'warn':
          return LogLevel.WARN;
        default:
          return LogLevel.ERROR;
      }
    },
    setName(name: string) {
      log.setBindings({ name });
    },
  };
}
