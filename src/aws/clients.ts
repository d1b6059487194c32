// Builds and caches the SDK clients, and the credentials for member accounts (STS AssumeRole).
// Retries are the SDK's own strategy (standard by default; it honours Retry-After as a lower bound), with
// maxAttempts and retryMode from AWS_MAX_ATTEMPTS and AWS_RETRY_MODE (read by src/config/env.ts).
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { AccessAnalyzerClient } from '@aws-sdk/client-accessanalyzer';
import { IAMClient } from '@aws-sdk/client-iam';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { S3Client } from '@aws-sdk/client-s3';
import { S3ControlClient } from '@aws-sdk/client-s3-control';
import {
  AssumeRoleCommand,
  type AssumeRoleCommandOutput,
  GetCallerIdentityCommand,
  STSClient,
  type STSClientConfig,
} from '@aws-sdk/client-sts';
import type { AppConfig } from '../config/schema.ts';
import type { Metrics } from '../metrics.ts';
import { AwsError, toAwsError } from './errors.ts';
import { createRequestPacer, type PacedService, type RateLimit } from './rate-limit.ts';

type CredentialsOption = NonNullable<STSClientConfig['credentials']>;
/** `AwsCredentialIdentityProvider` from @smithy/types, named through the client config. */
export type CredentialProvider = Extract<CredentialsOption, (...args: never[]) => unknown>;
/** `AwsCredentialIdentity`: access key, secret, session token, expiration. */
export type CredentialIdentity = Exclude<CredentialsOption, CredentialProvider>;

export interface AwsLogger {
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface AwsClientsOptions {
  /** Base credentials; omit in production to use the SDK's default chain. Tests pass static fakes. */
  credentials?: CredentialProvider | CredentialIdentity;
  /** Total attempts per call, including the first (AWS_MAX_ATTEMPTS). Default 5. */
  maxAttempts?: number;
  /** The SDK's retry strategy (AWS_RETRY_MODE). Default standard. */
  retryMode?: 'standard' | 'adaptive';
  /** Endpoint overrides for tests and the sandbox; production leaves them unset (the SDK reads AWS_ENDPOINT_URL_*). */
  endpoints?: {
    accessAnalyzer?: string;
    iam?: string;
    sts?: string;
    tagging?: string;
    s3?: string;
    /** S3 control; defaults to `s3` (a local stand-in serves both). */
    s3control?: string;
  };
  organization?: AppConfig['organization'];
  logger?: AwsLogger;
  /** Region of the STS client used for GetCallerIdentity and AssumeRole. Default us-east-1. */
  stsRegion?: string;
  /** Clock for credential expiry; tests only. */
  now?: () => number;
  /** Counts calls, errors and throttled attempts per operation (src/metrics.ts). */
  metrics?: Pick<Metrics, 'awsCalls' | 'awsErrors' | 'awsThrottles'>;
  /**
   * Client-side request rates per service and region (src/config `aws.rateLimits`): every attempt,
   * SDK retries included, waits for a token of its service's bucket in its region. Absent: no pacing.
   */
  rateLimits?: Partial<Record<PacedService, RateLimit>>;
}

export interface AwsClients {
  accessAnalyzer(region: string): AccessAnalyzerClient;
  /** Access Analyzer in `accountId` (through the member role), for calls tied to no analyzer. */
  accessAnalyzerIn(region: string, accountId: string): AccessAnalyzerClient;
  /** IAM in the caller's account, or in `accountId` through the member role. */
  iam(accountId?: string): IAMClient;
  /** STS with the base credentials. */
  sts(): STSClient;
  tagging(region: string, accountId?: string): ResourceGroupsTaggingAPIClient;
  /** S3 in the bucket's region, in `accountId` through the member role (the one-click fixes). */
  s3(region: string, accountId?: string): S3Client;
  /** S3 control in `accountId` through the member role (account-level Block Public Access). */
  s3control(region: string, accountId?: string): S3ControlClient;
  /** The account of the base credentials (GetCallerIdentity, asked once). */
  callerAccount(): Promise<string>;
  /** Credentials for acting in `accountId`: the assumed member role, or the base credentials. */
  credentialsFor(accountId: string): Promise<CredentialIdentity>;
}

export const SESSION_NAME = 'access-patrol';
/** IAM is global; its endpoint signs for us-east-1 in the commercial partition. */
const IAM_REGION = 'us-east-1';
/**
 * Connections at once per endpoint host in the pool every client shares. The SDK's default (50 per
 * client) was per client, so per account and region; shared, one host's sockets serve every account.
 */
const MAX_SOCKETS_PER_HOST = 128;
/** Assumed credentials are renewed this long before they expire. */
const REFRESH_BEFORE_MS = 5 * 60_000;

interface AssumedEntry {
  promise: Promise<CredentialIdentity>;
  /** Set once the AssumeRole call has answered. */
  refreshAt?: number;
}

export function createAwsClients(opts: AwsClientsOptions = {}): AwsClients {
  const maxAttempts = opts.maxAttempts ?? 5;
  const retryMode = opts.retryMode ?? 'standard';
  const now = opts.now ?? Date.now;
  const org = opts.organization;
  const clients = new Map<string, unknown>();
  const pacer = opts.rateLimits ? createRequestPacer(opts.rateLimits) : undefined;
  const assumed = new Map<string, AssumedEntry>();
  let caller: Promise<string> | undefined;

  const cached = <T>(key: string, build: () => T, paced?: { service: PacedService; region: string }): T => {
    let client = clients.get(key) as T | undefined;
    if (client === undefined) {
      client = build();
      if (opts.metrics) instrument(client as Instrumentable, opts.metrics);
      if (pacer && paced) pace(client as Pacable, paced.service, paced.region, pacer.take);
      clients.set(key, client);
    }
    return client;
  };

  // One pool of keep-alive connections for every client. Each SDK client otherwise builds its own
  // agents, so its own connections (and TLS sessions) per account, region and service: with a
  // client per member account and region, a large organisation held hundreds of agents and open
  // sockets to the same few hosts, and each new client paid its own handshakes.
  const requestHandler = {
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_HOST }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_HOST }),
  };

  const baseConfig = (region: string, endpoint: string | undefined) => ({
    region,
    requestHandler,
    maxAttempts,
    retryMode,
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    ...(endpoint ? { endpoint } : {}),
  });

  /**
   * For the clients a scan calls once per finding: the SDK resolves a command's middleware stack once
   * per command class instead of on every call (a few percent of a first scan's CPU). Safe because
   * `cached` adds this module's middleware before the first call and nothing adds any later, and
   * because these services' endpoints depend on the client's region alone (S3's depends on the
   * bucket of each call, so S3 and S3 control keep the per-call stack).
   */
  const perCallStackCached = { cacheMiddleware: true } as const;

  /** Without an organization config every call runs with the base credentials. */
  const accountKey = (accountId: string | undefined) => (org && accountId ? accountId : '');

  const configFor = (region: string, endpoint: string | undefined, accountId: string | undefined) => {
    const base = baseConfig(region, endpoint);
    const account = accountKey(accountId);
    if (!account) return base;
    // The SDK memoizes this provider and calls it again when `expiration` is near.
    const credentials: CredentialProvider = () => self.credentialsFor(account);
    return { ...base, credentials };
  };

  const sts = () =>
    cached('sts', () => new STSClient(baseConfig(opts.stsRegion ?? IAM_REGION, opts.endpoints?.sts)));

  const baseCredentials = (): Promise<CredentialIdentity> => sts().config.credentials();

  const assumeRole = async (accountId: string, memberRoleName: string): Promise<CredentialIdentity> => {
    if (!org) throw new Error('assumeRole without organization config');
    const roleArn = `arn:aws:iam::${accountId}:role/${memberRoleName}`;
    opts.logger?.debug({ accountId, roleArn }, 'assuming member role');
    let out: AssumeRoleCommandOutput;
    try {
      out = await sts().send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: SESSION_NAME,
          DurationSeconds: org.sessionDurationSeconds,
          ...(org.externalId ? { ExternalId: org.externalId } : {}),
        }),
      );
    } catch (err) {
      const e = toAwsError(err, 'STS.AssumeRole');
      opts.logger?.warn({ accountId, roleArn, code: e.code }, 'cannot assume member role');
      throw new AwsError(
        e.kind,
        'STS.AssumeRole',
        e.code,
        `cannot assume ${roleArn} in account ${accountId}: ${e.message}`,
        e.retryAfterSeconds,
      );
    }
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) {
      throw new AwsError(
        'unavailable',
        'STS.AssumeRole',
        'MissingCredentials',
        `AssumeRole of ${roleArn} in account ${accountId} returned no credentials`,
      );
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
      ...(c.Expiration ? { expiration: c.Expiration } : {}),
    };
  };

  const self: AwsClients = {
    accessAnalyzer: (region) =>
      cached(
        `access-analyzer|${region}`,
        () =>
          new AccessAnalyzerClient({
            ...baseConfig(region, opts.endpoints?.accessAnalyzer),
            ...perCallStackCached,
          }),
        { service: 'accessAnalyzer', region },
      ),

    accessAnalyzerIn: (region, accountId) =>
      cached(
        `access-analyzer|${region}|${accountKey(accountId)}`,
        () =>
          new AccessAnalyzerClient({
            ...configFor(region, opts.endpoints?.accessAnalyzer, accountId),
            ...perCallStackCached,
          }),
        { service: 'accessAnalyzer', region },
      ),

    iam: (accountId) =>
      cached(
        `iam|${IAM_REGION}|${accountKey(accountId)}`,
        () =>
          new IAMClient({ ...configFor(IAM_REGION, opts.endpoints?.iam, accountId), ...perCallStackCached }),
        { service: 'iam', region: IAM_REGION },
      ),

    sts,

    tagging: (region, accountId) =>
      cached(
        `tagging|${region}|${accountKey(accountId)}`,
        () =>
          new ResourceGroupsTaggingAPIClient({
            ...configFor(region, opts.endpoints?.tagging, accountId),
            ...perCallStackCached,
          }),
        { service: 'tagging', region },
      ),

    s3: (region, accountId) =>
      cached(
        `s3|${region}|${accountKey(accountId)}`,
        () =>
          new S3Client({
            ...configFor(region, opts.endpoints?.s3, accountId),
            // A local endpoint (the sandbox) has no bucket subdomains.
            ...(opts.endpoints?.s3 ? { forcePathStyle: true } : {}),
          }),
      ),

    s3control: (region, accountId) =>
      cached(`s3control|${region}|${accountKey(accountId)}`, () => {
        const endpoint = opts.endpoints?.s3control ?? opts.endpoints?.s3;
        return new S3ControlClient({
          ...configFor(region, undefined, accountId),
          // AWS's endpoint puts the account id in the host name (<account>.s3-control.<region>…); a
          // local endpoint has no such names, so it is used as it is (the account goes in the
          // x-amz-account-id header either way).
          ...(endpoint ? { endpointProvider: () => ({ url: new URL(endpoint) }) } : {}),
        });
      }),

    callerAccount: () => {
      caller ??= sts()
        .send(new GetCallerIdentityCommand({}))
        .then((out) => {
          if (!out.Account) throw new Error('GetCallerIdentity returned no account');
          return out.Account;
        })
        .catch((err: unknown) => {
          caller = undefined;
          throw toAwsError(err, 'STS.GetCallerIdentity');
        });
      return caller;
    },

    credentialsFor: async (accountId) => {
      if (!org || accountId === (await self.callerAccount())) return baseCredentials();
      const hit = assumed.get(accountId);
      if (hit && (hit.refreshAt === undefined || now() < hit.refreshAt)) return hit.promise;

      const entry: AssumedEntry = { promise: assumeRole(accountId, org.memberRoleName) };
      assumed.set(accountId, entry);
      entry.promise.then(
        (creds) => {
          entry.refreshAt = creds.expiration
            ? creds.expiration.getTime() - REFRESH_BEFORE_MS
            : Number.POSITIVE_INFINITY;
        },
        () => {
          if (assumed.get(accountId) === entry) assumed.delete(accountId);
        },
      );
      return entry.promise;
    },
  };
  return self;
}

interface Instrumentable {
  middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: { clientName?: string; commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize' | 'deserialize'; name: string; priority?: 'high' | 'normal' | 'low' },
    ): void;
  };
}

const THROTTLE_CODES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
]);

/**
 * Metrics middleware: `initialize` sees each call once (outside the SDK's retries), `deserialize` each
 * attempt, where a throttled answer shows before the SDK retries it.
 */
function instrument(client: Instrumentable, metrics: NonNullable<AwsClientsOptions['metrics']>): void {
  const labels = (context: { clientName?: string; commandName?: string }) => ({
    service: (context.clientName ?? 'unknown').replace(/Client$/, ''),
    operation: (context.commandName ?? 'unknown').replace(/Command$/, ''),
  });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const l = labels(context);
      metrics.awsCalls.inc(l);
      try {
        return await next(args);
      } catch (err) {
        metrics.awsErrors.inc({ ...l, code: (err as Error).name || 'Error' });
        throw err;
      }
    },
    { step: 'initialize', name: 'accessPatrolCallMetrics' },
  );
  client.middlewareStack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        const e = err as Error & { $metadata?: { httpStatusCode?: number } };
        if (THROTTLE_CODES.has(e.name) || e.$metadata?.httpStatusCode === 429)
          metrics.awsThrottles.inc(labels(context));
        throw err;
      }
    },
    { step: 'deserialize', name: 'accessPatrolThrottleMetrics', priority: 'high' },
  );
}

interface Pacable {
  middlewareStack: {
    addRelativeTo(
      middleware: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>,
      options: { name: string; relation: 'before' | 'after'; toMiddleware: string },
    ): void;
  };
}

/**
 * Pacing middleware, after the SDK's retry middleware: each attempt (a retry is a request too) waits
 * for its token before it is signed and sent.
 */
function pace(
  client: Pacable,
  service: PacedService,
  region: string,
  take: (service: PacedService, region: string) => Promise<number>,
): void {
  client.middlewareStack.addRelativeTo(
    (next) => async (args) => {
      await take(service, region);
      return next(args);
    },
    { name: 'accessPatrolPacing', relation: 'after', toMiddleware: 'retryMiddleware' },
  );
}
