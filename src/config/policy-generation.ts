// What the config says about policy generation: whether it can run, the region it runs in, which role
// AWS assumes in an account, how long to wait between polls and to keep an account's slot.
import type { AppConfig } from './schema.ts';

type PolicyConfig = NonNullable<AppConfig['policyGeneration']>;

/** What the person is told when generation cannot run at all, naming the config key to set. */
export function missingConfig(config: AppConfig, trailArn?: string): string | null {
  const cfg = config.policyGeneration;
  if (!cfg) {
    return 'Policy generation is not configured: set policyGeneration (at least policyGeneration.accessRoleArn and policyGeneration.trails) in the config';
  }
  if (!trailArn && cfg.trails.length === 0) {
    return 'No CloudTrail trail to read: name one with --trail, or set policyGeneration.trails in the config';
  }
  return null;
}

/** Wait before poll (or conflict retry) number `attempt` (0-based): doubling from the first, capped. */
export function pollDelayMs(cfg: PolicyConfig, attempt: number): number {
  return Math.round(Math.min(cfg.firstPollSeconds * 2 ** attempt, cfg.maxPollSeconds) * 1000);
}

export function accessRoleFor(cfg: PolicyConfig, accountId: string): string {
  return cfg.accessRoleArnByAccount[accountId] ?? cfg.accessRoleArn.replace('{accountId}', accountId);
}

/** The region policy generation and the policy checks run in: the configured one, or the first scanned. */
export function generationRegion(config: Pick<AppConfig, 'policyGeneration' | 'regions'>): string {
  return config.policyGeneration?.region ?? config.regions[0]!;
}

/**
 * How long an account's slot is held without news from its holder: renewed at each poll, so it ends
 * on its own only when everything about the holder was lost.
 */
export function slotTtlMs(cfg: PolicyConfig): number {
  return (cfg.maxWaitMinutes + 30) * 60_000;
}
