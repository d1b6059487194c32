// Who may do what (config `permissions`). `authorize` is pure policy over injected membership lookups;
// `slackMembership` answers those lookups from the Slack Web API with a short in-process cache.
import type { WebClient } from '@slack/web-api';
import { type AppConfig, PERMISSION_ACTIONS } from '../config/schema.ts';

export const ACTIONS = PERMISSION_ACTIONS;
export type Action = (typeof ACTIONS)[number];
export type PermissionsConfig = AppConfig['permissions'];

/** Membership facts `authorize` needs; either may throw when Slack cannot answer. */
export interface Membership {
  isInChannel(userId: string, channel: string): Promise<boolean>;
  isInGroup(userId: string, groupId: string): Promise<boolean>;
}

/** The people a routing rule names as the owners of its findings (config `routing[].owners`). */
export interface RuleOwners {
  users: readonly string[];
  userGroups: readonly string[];
}

export interface AuthorizeInput {
  action: Action;
  userId: string;
  /**
   * The finding's owner channel as stored when it was routed (an id, or a `#name` the bot never
   * resolved); absent for actions on no finding. Never the channel a click came from.
   */
  findingChannel?: string;
  /** The owners named by the routing rule that routed the finding, when it names any. */
  ruleOwners?: RuleOwners;
}

/** Slack user ids and user group ids. */
export interface People {
  users: readonly string[];
  userGroups: readonly string[];
}

/** Who may take a refused action, for the sentence that tells the person (blocks/receipts.ts). */
export interface AllowedPeople {
  admins: People;
  /** Listed for this action (`permissions.<action>`). */
  listed: People;
  /** The finding's owner channel, whose members may (owner actions on a finding only). */
  channel?: string;
  /** The owners the finding's routing rule names (owner actions only). */
  ruleOwners: People;
}

export type Authorization =
  | { allowed: true; via: string }
  | {
      allowed: false;
      /** What would have allowed it, in words (the audit entry's detail). */
      need: string;
      /** Who can do it, as Slack mrkdwn: `<@U…>`, `<!subteam^S…>`, `members of <#C…>`. */
      askOneOf: string[];
      /** The same people, by kind. */
      who: AllowedPeople;
    };

/**
 * Decides whether `userId` may take `action`. Lists are checked before any lookup, and lookups stop
 * at the first grant. A lookup that fails only matters if nothing else grants: then it is rethrown,
 * so a Slack outage is never reported as "not allowed".
 */
export async function authorize(
  input: AuthorizeInput,
  deps: { config: PermissionsConfig; membership: Membership },
): Promise<Authorization> {
  const { action, userId, findingChannel } = input;
  const { admins } = deps.config;
  const rule = deps.config[action];
  // A finding's owners (its owner channel's members and its routing rule's owners) may take the
  // actions whose `ownerChannelMembers` is on; an action on no finding has no owners.
  // A fix may name the owner channels whose members may take it (`channels`).
  const listedChannel =
    findingChannel !== undefined && 'channels' in rule && rule.channels.includes(findingChannel);
  const byChannel = (rule.ownerChannelMembers || listedChannel) && findingChannel !== undefined;
  const owners = rule.ownerChannelMembers ? input.ruleOwners : undefined;

  if (admins.users.includes(userId)) return { allowed: true, via: 'admin' };
  if (rule.users.includes(userId)) return { allowed: true, via: `listed in permissions.${action}.users` };
  if (owners?.users.includes(userId)) return { allowed: true, via: 'an owner named by its routing rule' };

  const checks: { via: string; check: () => Promise<boolean> }[] = [];
  if (byChannel) {
    checks.push({
      via: `member of ${channelRef(findingChannel)}`,
      check: () => deps.membership.isInChannel(userId, findingChannel),
    });
  }
  for (const group of admins.userGroups) {
    checks.push({
      via: `admin (member of ${groupRef(group)})`,
      check: () => deps.membership.isInGroup(userId, group),
    });
  }
  for (const group of rule.userGroups) {
    checks.push({
      via: `member of ${groupRef(group)}, listed in permissions.${action}.userGroups`,
      check: () => deps.membership.isInGroup(userId, group),
    });
  }
  for (const group of owners?.userGroups ?? []) {
    checks.push({
      via: `member of ${groupRef(group)}, an owner named by its routing rule`,
      check: () => deps.membership.isInGroup(userId, group),
    });
  }

  let failure: unknown;
  let failed = false;
  for (const { via, check } of checks) {
    try {
      if (await check()) return { allowed: true, via };
    } catch (err) {
      if (!failed) failure = err;
      failed = true;
    }
  }
  if (failed) throw failure;

  const askOneOf = unique([
    ...admins.users.map(userRef),
    ...admins.userGroups.map(groupRef),
    ...rule.users.map(userRef),
    ...rule.userGroups.map(groupRef),
    ...(owners?.users ?? []).map(userRef),
    ...(owners?.userGroups ?? []).map(groupRef),
    ...(byChannel ? [`members of ${channelRef(findingChannel)}`] : []),
  ]);
  const ruleNamesOwners = (owners?.users.length ?? 0) + (owners?.userGroups.length ?? 0) > 0;
  const none: People = { users: [], userGroups: [] };
  return {
    allowed: false,
    need: needText(action, byChannel ? findingChannel : undefined, ruleNamesOwners),
    askOneOf,
    who: {
      admins: { users: admins.users, userGroups: admins.userGroups },
      listed: { users: rule.users, userGroups: rule.userGroups },
      ...(byChannel && { channel: findingChannel }),
      ruleOwners: owners ? { users: owners.users, userGroups: owners.userGroups } : none,
    },
  };
}

/**
 * What would have allowed it, to follow "you need": "to be an admin (permissions.admins), listed in
 * permissions.archive or a member of <#C…>".
 */
function needText(action: Action, channel: string | undefined, ruleOwners: boolean): string {
  const ways = [
    'an admin (permissions.admins)',
    `listed in permissions.${action}`,
    ...(channel === undefined ? [] : [`a member of ${channelRef(channel)}`]),
    ...(ruleOwners ? ['an owner named by its routing rule'] : []),
  ];
  const last = ways.pop();
  const list = ways.length > 0 ? `${ways.join(', ')} or ${last}` : last;
  return `to be ${list}`;
}

export const userRef = (id: string) => `<@${id}>`;
export const groupRef = (id: string) => `<!subteam^${id}>`;
/** Channel ids render as links; a `#name` is shown as written. */
export const channelRef = (channel: string) => (channel.startsWith('#') ? channel : `<#${channel}>`);

function unique(items: string[]): string[] {
  return [...new Set(items)];
}

function slackErrorCode(err: unknown): string | undefined {
  return (err as { data?: { error?: string } } | null)?.data?.error;
}

// --- Slack-backed membership ----------------------------------------------------------------------

export interface SlackMembershipOptions {
  /** How long one channel's or group's member list is reused; default 5 minutes. */
  ttlMs?: number;
  /** Lists kept at most (oldest dropped first); default 500. */
  maxEntries?: number;
  now?: () => number;
}

/**
 * Membership from `conversations.members` (paged) and `usergroups.users.list`, each list cached per
 * channel or group for `ttlMs`. Concurrent lookups of one list share one request. Build one per process.
 */
export function slackMembership(web: WebClient, opts: SlackMembershipOptions = {}): Membership {
  const ttlMs = opts.ttlMs ?? 5 * 60_000;
  const maxEntries = opts.maxEntries ?? 500;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { expires: number; members: Promise<Set<string>> }>();

  const members = (key: string, load: () => Promise<Set<string>>): Promise<Set<string>> => {
    const hit = cache.get(key);
    if (hit && hit.expires > now()) return hit.members;
    cache.delete(key);
    while (cache.size >= maxEntries) {
      const oldest = cache.keys().next().value;
      if (oldest === undefined) break;
      cache.delete(oldest);
    }
    const loading = load();
    cache.set(key, { expires: now() + ttlMs, members: loading });
    // A failed lookup is not cached: the next call asks Slack again.
    loading.catch(() => {
      if (cache.get(key)?.members === loading) cache.delete(key);
    });
    return loading;
  };

  return {
    async isInChannel(userId, channel) {
      const set = await members(`c:${channel}`, async () => {
        const ids = new Set<string>();
        let cursor: string | undefined;
        do {
          let res: Awaited<ReturnType<typeof web.conversations.members>>;
          try {
            res = await web.conversations.members({
              channel,
              limit: 1000,
              ...(cursor ? { cursor } : {}),
            });
          } catch (err) {
            // A channel Slack does not show the bot (deleted, private without the bot, a name the
            // bot never resolved) has no member anyone can be checked against: nobody is one.
            if (slackErrorCode(err) === 'channel_not_found') return new Set<string>();
            throw err;
          }
          for (const id of res.members ?? []) ids.add(id);
          cursor = res.response_metadata?.next_cursor || undefined;
        } while (cursor);
        return ids;
      });
      return set.has(userId);
    },
    async isInGroup(userId, groupId) {
      const set = await members(`g:${groupId}`, async () => {
        const res = await web.usergroups.users.list({ usergroup: groupId });
        return new Set(res.users ?? []);
      });
      return set.has(userId);
    },
  };
}
