// STS (awsQuery): GetCallerIdentity and AssumeRole into the member role. The keys AssumeRole issues
// name the assumed account (`ASIA<account>XXXX`), so later requests act in that account.
import { randomBytes } from 'node:crypto';
import type { SandboxData } from '../types.ts';
import { invalidValue, type QueryService } from './query.ts';
import { AwsFault, randomChars, xml } from './wire.ts';

const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

interface Issued {
  account: string;
  roleName: string;
  sessionName: string;
}

export interface StsSandbox extends QueryService {
  /** The account a request acts in: the assumed one for keys AssumeRole issued, else the caller's. */
  accountOfKey(accessKeyId: string | undefined): string;
}

export function createSts(data: SandboxData): StsSandbox {
  const issued = new Map<string, Issued>();

  return {
    name: 'sts',
    namespace: STS_NS,

    accountOfKey(akid) {
      if (!akid) return data.callerAccount;
      const hit = issued.get(akid);
      if (hit) return hit.account;
      const m = /^ASIA(\d{12})/.exec(akid);
      if (m && data.accounts.some((a) => a.id === m[1])) return m[1]!;
      return data.callerAccount;
    },

    ops: {
      GetCallerIdentity(ctx) {
        const hit = ctx.accessKeyId ? issued.get(ctx.accessKeyId) : undefined;
        if (hit) {
          return (
            `<Arn>arn:aws:sts::${hit.account}:assumed-role/${xml(hit.roleName)}/${xml(hit.sessionName)}</Arn>` +
            `<UserId>AROA${hit.account}EXAMPLE:${xml(hit.sessionName)}</UserId><Account>${hit.account}</Account>`
          );
        }
        const user = data.callerUserName ?? 'access-patrol';
        return (
          `<Arn>arn:aws:iam::${ctx.account}:user/${xml(user)}</Arn>` +
          `<UserId>AIDA${ctx.account}EXAMPLE</UserId><Account>${ctx.account}</Account>`
        );
      },

      AssumeRole(ctx, p) {
        const roleArn = p.get('RoleArn') ?? '';
        const session = p.get('RoleSessionName') ?? '';
        if (!/^[\w+=,.@-]{2,64}$/.test(session)) {
          throw invalidValue('roleSessionName', session);
        }
        const duration = Number(p.get('DurationSeconds') ?? 3600);
        if (!Number.isInteger(duration) || duration < 900 || duration > 43_200) {
          throw new AwsFault(
            400,
            'ValidationError',
            `The requested DurationSeconds ${duration} exceeds the allowed range`,
          );
        }
        const m = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
        const denied = () =>
          new AwsFault(
            403,
            'AccessDenied',
            `User: arn:aws:iam::${ctx.account}:user/${data.callerUserName ?? 'access-patrol'} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
          );
        if (!m) throw new AwsFault(400, 'ValidationError', `${roleArn} is invalid`);
        const [, account, roleName] = m as unknown as [string, string, string];
        if (!data.accounts.some((a) => a.id === account)) throw denied();
        const member = data.memberRole;
        if (member) {
          if (roleName !== member.name) throw denied();
          if (member.externalId !== undefined && p.get('ExternalId') !== member.externalId) throw denied();
        } else if (!data.roles.some((r) => r.account === account && r.name === roleName)) {
          throw denied();
        }
        const akid = `ASIA${account}${randomChars(4)}`;
        issued.set(akid, { account, roleName, sessionName: session });
        const expiration = new Date(Date.now() + duration * 1000).toISOString();
        return (
          `<AssumedRoleUser><AssumedRoleId>AROA${account}EXAMPLE:${xml(session)}</AssumedRoleId>` +
          `<Arn>arn:aws:sts::${account}:assumed-role/${xml(roleName)}/${xml(session)}</Arn></AssumedRoleUser>` +
          `<Credentials><AccessKeyId>${akid}</AccessKeyId>` +
          `<SecretAccessKey>${randomBytes(30).toString('base64')}</SecretAccessKey>` +
          `<SessionToken>${randomBytes(96).toString('base64')}</SessionToken>` +
          `<Expiration>${expiration}</Expiration></Credentials><PackedPolicySize>0</PackedPolicySize>`
        );
      },
    },
  };
}
