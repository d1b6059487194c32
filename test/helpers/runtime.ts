// Builds a real runtime (real Redis, real BullMQ workers) for integration tests, with AWS and Slack
// pointed at nock, a unique key prefix per runtime, and helpers to wipe its keys afterwards.
import pino from 'pino';
import { wipePrefix as wipeRedisPrefix } from '../../sandbox/redis.ts';
import { type AppConfig, configSchema } from '../../src/config/schema.ts';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime.ts';
import { FAKE_CREDENTIALS } from '../factories/aws.ts';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

let n = 0;
export function uniquePrefix(tag: string): string {
  return `t${tag}${process.pid.toString(36)}${(n++).toString(36)}${Date.now().toString(36).slice(-4)}:`;
}

export function testConfig(overrides: Record<string, unknown> = {}): AppConfig {
  return configSchema.parse({
    regions: ['eu-west-1'],
    slack: { defaultChannel: 'C0DEFAULT', adminChannel: 'C0ADMIN', postIntervalMs: 0 },
    redis: { keyPrefix: uniquePrefix('p') },
    // AWS requests are not paced in tests (nock and the sandbox answer at once) unless a test is
    // about pacing and sets aws.rateLimits itself.
    aws: {
      rateLimits: { accessAnalyzer: { perSecond: 0 }, tagging: { perSecond: 0 }, iam: { perSecond: 0 } },
    },
    ...overrides,
  });
}

export function testRuntime(config: AppConfig, extra: Partial<RuntimeOptions> = {}): Runtime {
  return createRuntime({
    env: { redisUrl: REDIS_URL, slackBotToken: 'xoxb-test-token' },
    config,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    aws: { credentials: FAKE_CREDENTIALS, maxAttempts: 3 },
    slackRetries: 0,
    sleep: async () => {},
    ...extra,
  });
}

/** A runtime whose AWS clients reach the sandbox AWS server at `sandbox.url` over real HTTP. */
export function sandboxRuntime(
  config: AppConfig,
  sandbox: { url: string },
  extra: Partial<Omit<RuntimeOptions, 'aws'>> = {},
): Runtime {
  return testRuntime(config, {
    ...extra,
    aws: {
      credentials: { accessKeyId: 'AKIASANDBOXTEST00001', secretAccessKey: 'sandbox' },
      endpoints: {
        accessAnalyzer: sandbox.url,
        iam: sandbox.url,
        sts: sandbox.url,
        tagging: sandbox.url,
        s3: sandbox.url,
      },
      maxAttempts: 1,
    },
  });
}

/** Deletes every key under a prefix (test clean-up). */
export function wipePrefix(prefix: string): Promise<void> {
  return wipeRedisPrefix(REDIS_URL, prefix);
}
