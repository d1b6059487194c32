// Structured logging: one pino root logger with secrets redacted, and an adapter so Bolt and the Slack
// SDKs log through it.
import { type Logger as BoltLogger, LogLevel } from '@slack/bolt';
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

export function scrubSecrets(text: string): string {
  return text.replace(TOKEN_IN_TEXT, (_m, kind: string) => `${kind}-[REDACTED]`);
}

export interface LoggerOptions {
  level: LogLevelName;
  /** One readable line per entry for a terminal, instead of JSON. */
  pretty?: boolean;
  /** Where lines go; stdout by default (tests pass a collector). */
  destination?: DestinationStream;
  name?: string;
}

export function createLogger(options: LoggerOptions): Logger {
  const out = options.destination ?? (options.pretty ? process.stdout : pino.destination(1));
  return pino(
    {
      level: options.level,
      ...(options.name !== undefined && { name: options.name }),
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? scrubSecrets(a) : a));
          return method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
    },
    options.pretty ? prettyStream(out) : out,
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
    const msg = text.join(' ') || err?.message || '';
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

const LEVEL_LABELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};

/** A tiny stand-in for pino-pretty (not a dependency): `12:00:01 INFO  [name] msg key=value …`. */
function prettyStream(out: { write(chunk: string): unknown }): DestinationStream {
  return {
    write(line: string) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      const { level, time, msg, name, pid: _pid, hostname: _host, err, ...rest } = entry;
      const clock = new Date(typeof time === 'number' ? time : Date.now()).toISOString().slice(11, 19);
      const fields = Object.entries(rest)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      const stack =
        err && typeof err === 'object' && 'stack' in err
          ? `\n${String((err as { stack: unknown }).stack)}`
          : '';
      out.write(
        `${clock} ${LEVEL_LABELS[level as number] ?? String(level)} ${name ? `[${String(name)}] ` : ''}${String(msg ?? '')}${fields ? ` ${fields}` : ''}${stack}\n`,
      );
    },
  };
}
