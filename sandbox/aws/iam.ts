// IAM (awsQuery) for the role lifecycle: reading a role and everything it holds, taking it apart and
// deleting it, and creating it again, with IAM's rules (conflicts, quotas, service-linked roles).
// Roles and users come from the data (and its lookupRole/lookupUser); instance profiles too.
import type { SandboxData, SandboxInstanceProfile, SandboxRole, SandboxUser } from '../types.ts';
import {
  attachedPoliciesXml,
  entityXml,
  listPage,
  policyNamesXml,
  roleXml,
  tagPageXml,
  userXml,
} from './iam-xml.ts';
import { isKnownAwsManagedPolicy } from './policy-tools.ts';
import { invalidValue, memberList, type QueryOp, type QueryService, required } from './query.ts';
import { reanalyze } from './reanalyze.ts';
import { AwsFault, type Ctx, isoNow, randomChars, xml } from './wire.ts';

const IAM_NS = 'https://iam.amazonaws.com/doc/2010-05-08/';

/** PolicyName as PutRolePolicy and CreatePolicy take it, or IAM's ValidationError. */
function policyNameOf(p: URLSearchParams): string {
  const name = required(p, 'PolicyName');
  if (!/^[\w+=,.@-]{1,128}$/.test(name)) {
    throw invalidValue('policyName', name, 'Member must satisfy regular expression pattern: [\\w+=,.@-]+');
  }
  return name;
}

/** IAM; `more` adds operations served elsewhere (the policy tools' reads of managed and user policies). */
export function createIam(data: SandboxData, more: Record<string, QueryOp> = {}): QueryService {
  /** `account|name` of generated (lookupRole) roles deleted since start: lookupRole must not revive them. */
  const deletedRoles = new Set<string>();

  const roleOf = (ctx: Ctx, name: string | undefined): SandboxRole => {
    if (!name) throw new AwsFault(400, 'ValidationError', 'RoleName is required', {}, {});
    const found =
      data.roles.find((r) => r.name === name && r.account === ctx.account) ??
      (deletedRoles.has(`${ctx.account}|${name}`) ? undefined : data.lookupRole?.(ctx.account, name)) ??
      (data.strictAccounts ? undefined : data.roles.find((r) => r.name === name));
    if (!found) throw new AwsFault(404, 'NoSuchEntity', `The role with name ${name} cannot be found.`);
    return found;
  };

  const userOf = (ctx: Ctx, name: string | undefined): SandboxUser => {
    if (!name) throw new AwsFault(400, 'ValidationError', 'UserName is required');
    const found =
      data.users.find((u) => u.name === name && u.account === ctx.account) ??
      data.lookupUser?.(ctx.account, name) ??
      (data.strictAccounts ? undefined : data.users.find((u) => u.name === name));
    if (!found) throw new AwsFault(404, 'NoSuchEntity', `The user with name ${name} cannot be found.`);
    return found;
  };

  /**
   * Managed policies the data holds no document for but that exist: attached to someone when the
   * stand-in detached them (a policy stays when it is detached; DeletePolicy ends it). A policy the
   * data has a document for exists while it has it.
   */
  const detachedPolicies = new Set<string>();
  /**
   * AttachRolePolicy/AttachUserPolicy of a policy IAM does not have answer NoSuchEntity (404): one
   * with a document in the data (customer managed, CreatePolicy) or AWS's, one attached to someone,
   * or one the stand-in detached and nobody deleted.
   */
  const attachablePolicy = (arn: string): string => {
    const exists =
      Boolean(data.managedPolicies?.[arn]) ||
      isKnownAwsManagedPolicy(arn) ||
      detachedPolicies.has(arn) ||
      data.roles.some((r) => (r.attachedPolicies ?? []).includes(arn)) ||
      data.users.some((u) => (u.attachedPolicies ?? []).includes(arn));
    if (!exists) {
      throw new AwsFault(404, 'NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`);
    }
    return arn;
  };

  /** An IAM handler returns the inner XML of `<OpResult>`, or null for operations with no result. */
  const ops: Record<string, QueryOp> = {
    GetRole(ctx, p) {
      return `<Role>${roleXml(roleOf(ctx, p.get('RoleName') ?? undefined))}</Role>`;
    },
    ListRoleTags(ctx, p) {
      const role = roleOf(ctx, p.get('RoleName') ?? undefined);
      return tagPageXml(role.tags, p);
    },
    GetUser(ctx, p) {
      const u = userOf(ctx, p.get('UserName') ?? undefined);
      return `<User>${userXml(u)}</User>`;
    },
    ListUserTags(ctx, p) {
      const u = userOf(ctx, p.get('UserName') ?? undefined);
      return tagPageXml(u.tags, p);
    },

    ListAttachedRolePolicies(ctx, p) {
      const role = roleOf(ctx, p.get('RoleName') ?? undefined);
      const { page, tail } = listPage(role.attachedPolicies ?? [], p, 'ap');
      return `${attachedPoliciesXml(page)}${tail}`;
    },
    ListRolePolicies(ctx, p) {
      const role = roleOf(ctx, p.get('RoleName') ?? undefined);
      const { page, tail } = listPage(Object.keys(role.inlinePolicies ?? {}), p, 'rp');
      return `${policyNamesXml(page)}${tail}`;
    },
    GetRolePolicy(ctx, p) {
      const role = roleOf(ctx, p.get('RoleName') ?? undefined);
      const name = required(p, 'PolicyName');
      const doc = role.inlinePolicies?.[name];
      if (!doc) throw noSuchRolePolicy(name);
      return (
        `<RoleName>${xml(role.name)}</RoleName><PolicyName>${xml(name)}</PolicyName>` +
        `<PolicyDocument>${xml(encodeURIComponent(JSON.stringify(doc)))}</PolicyDocument>`
      );
    },
    ListInstanceProfilesForRole(ctx, p) {
      const role = roleOf(ctx, p.get('RoleName') ?? undefined);
      const { page, tail } = listPage(profilesOfRole(role), p, 'ip');
      return `<InstanceProfiles>${page.map((ip) => `<member>${profileXml(ip)}</member>`).join('')}</InstanceProfiles>${tail}`;
    },
    GetInstanceProfile(ctx, p) {
      return `<InstanceProfile>${profileXml(profileOf(ctx.account, required(p, 'InstanceProfileName')))}</InstanceProfile>`;
    },

    RemoveRoleFromInstanceProfile(ctx, p) {
      const role = roleOf(ctx, p.get('RoleName') ?? undefined);
      const profile = profileOf(role.account, required(p, 'InstanceProfileName'));
      if (!profile.roles.includes(role.name)) {
        throw new AwsFault(404, 'NoSuchEntity', `The role with name ${role.name} cannot be found.`);
      }
      if (isServiceLinked(role)) throw unmodifiable(role);
      profile.roles = profile.roles.filter((n) => n !== role.name);
      return null;
    },
    DetachRolePolicy(ctx, p) {
      const role = mutableRoleOf(ctx, p.get('RoleName') ?? undefined);
      const arn = required(p, 'PolicyArn');
      if (!(role.attachedPolicies ?? []).includes(arn)) {
        throw new AwsFault(404, 'NoSuchEntity', `Policy ${arn} was not found.`);
      }
      role.attachedPolicies = (role.attachedPolicies ?? []).filter((a) => a !== arn);
      if (!data.managedPolicies?.[arn]) detachedPolicies.add(arn);
      return null;
    },
    DeleteRolePolicy(ctx, p) {
      const role = mutableRoleOf(ctx, p.get('RoleName') ?? undefined);
      const name = required(p, 'PolicyName');
      if (!role.inlinePolicies?.[name]) throw noSuchRolePolicy(name);
      delete role.inlinePolicies[name];
      return null;
    },
    DeleteRole(ctx, p) {
      const role = mutableRoleOf(ctx, p.get('RoleName') ?? undefined);
      const conflict = (what: string) =>
        new AwsFault(409, 'DeleteConflict', `Cannot delete entity, must ${what} first.`);
      if (profilesOfRole(role).length > 0) throw conflict('remove roles from instance profile');
      if ((role.attachedPolicies ?? []).length > 0) throw conflict('detach all policies');
      if (Object.keys(role.inlinePolicies ?? {}).length > 0) throw conflict('delete policies');
      data.roles.splice(data.roles.indexOf(role), 1);
      deletedRoles.add(`${role.account}|${role.name}`);
      return null;
    },

    CreateRole(ctx, p) {
      const name = required(p, 'RoleName');
      if (!/^[\w+=,.@-]{1,64}$/.test(name)) {
        throw invalidValue('roleName', name);
      }
      const path = p.get('Path') ?? '/';
      if (!/^\/([\x21-\x7e]*\/)?$/.test(path)) {
        throw invalidValue('path', path);
      }
      if (
        data.roles.some((r) => r.account === ctx.account && r.name === name) ||
        (!deletedRoles.has(`${ctx.account}|${name}`) && data.lookupRole?.(ctx.account, name))
      ) {
        throw new AwsFault(409, 'EntityAlreadyExists', `Role with name ${name} already exists.`);
      }
      const role: SandboxRole = {
        account: ctx.account,
        name,
        path,
        roleId: `AROA${randomChars(17)}`,
        createDate: isoNow(),
        assumeRolePolicyDocument: policyDocument(required(p, 'AssumeRolePolicyDocument')),
        maxSessionDuration: 3600,
      };
      const description = p.get('Description');
      if (description !== null) role.description = description;
      const duration = p.get('MaxSessionDuration');
      if (duration !== null) {
        const n = Number(duration);
        if (!Number.isInteger(n) || n < 3600 || n > 43_200) {
          throw invalidValue(
            'maxSessionDuration',
            duration,
            'Member must have value less than or equal to 43200',
          );
        }
        role.maxSessionDuration = n;
      }
      const boundary = p.get('PermissionsBoundary');
      if (boundary !== null) role.permissionsBoundaryArn = policyArn(boundary);
      const tags = memberList(p, 'Tags');
      if (tags.length > 50)
        throw new AwsFault(409, 'LimitExceeded', 'Cannot exceed quota for TagsPerRole: 50.');
      if (tags.length > 0) {
        role.tags = Object.fromEntries(tags.map((t) => [t.Key ?? '', t.Value ?? '']));
      }
      deletedRoles.delete(`${ctx.account}|${name}`);
      data.roles.push(role);
      return `<Role>${roleXml(role)}</Role>`;
    },
    PutRolePolicy(ctx, p) {
      const role = mutableRoleOf(ctx, p.get('RoleName') ?? undefined);
      const name = policyNameOf(p);
      const raw = required(p, 'PolicyDocument');
      const doc = identityPolicy(raw);
      if (isServiceLinked(role)) throw unmodifiable(role);
      // IAM's quota: the role's inline policies together, whitespace aside, at most 10,240 characters.
      const others = Object.entries(role.inlinePolicies ?? {}).filter(([n]) => n !== name);
      const size = [JSON.stringify(doc), ...others.map(([, d]) => JSON.stringify(d))].join('').length;
      if (size > 10_240) {
        throw new AwsFault(409, 'LimitExceeded', 'Maximum policy size of 10240 bytes exceeded for role');
      }
      role.inlinePolicies = { ...role.inlinePolicies, [name]: doc };
      return null;
    },
    TagRole(ctx, p) {
      const role = mutableRoleOf(ctx, p.get('RoleName') ?? undefined);
      const tags = memberList(p, 'Tags');
      if (tags.length === 0) {
        throw new AwsFault(
          400,
          'ValidationError',
          "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null",
        );
      }
      for (const t of tags) {
        const key = t.Key ?? '';
        const value = t.Value ?? '';
        if (
          !TAG_TEXT.test(key) ||
          key.length > 128 ||
          !(value === '' || TAG_TEXT.test(value)) ||
          value.length > 256
        ) {
          throw new AwsFault(400, 'InvalidInput', `The specified value for tag ${key} is invalid.`);
        }
        if (/^aws:/i.test(key)) {
          throw new AwsFault(
            400,
            'InvalidInput',
            'User is not authorized to perform tag operations on tags with the aws: prefix.',
          );
        }
      }
      const next = { ...role.tags, ...Object.fromEntries(tags.map((t) => [t.Key ?? '', t.Value ?? ''])) };
      if (Object.keys(next).length > 50) {
        throw new AwsFault(409, 'LimitExceeded', 'Cannot exceed quota for TagsPerRole: 50.');
      }
      role.tags = next;
      return null;
    },
    UntagRole(ctx, p) {
      const role = mutableRoleOf(ctx, p.get('RoleName') ?? undefined);
      const keys = [...p.entries()].filter(([k]) => /^TagKeys\.member\.\d+$/.test(k)).map(([, v]) => v);
      if (keys.length === 0 || keys.length > 50) {
        throw new AwsFault(
          400,
          'ValidationError',
          "1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: Member must have length between 0 and 50",
        );
      }
      // A key the role does not carry is no error.
      const tags = { ...role.tags };
      for (const k of keys) delete tags[k];
      role.tags = tags;
      return null;
    },
    AttachRolePolicy(ctx, p) {
      const role = mutableRoleOf(ctx, p.get('RoleName') ?? undefined);
      const arn = policyArn(required(p, 'PolicyArn'));
      if (isServiceLinked(role)) throw unmodifiable(role);
      const attached = role.attachedPolicies ?? [];
      if (!attached.includes(arn)) attachablePolicy(arn);
      if (!attached.includes(arn)) {
        if (attached.length >= 20) {
          throw new AwsFault(409, 'LimitExceeded', 'Cannot exceed quota for PoliciesPerRole: 20');
        }
        role.attachedPolicies = [...attached, arn];
      }
      return null;
    },
    CreatePolicy(ctx, p) {
      const name = policyNameOf(p);
      const path = p.get('Path') ?? '/';
      const raw = required(p, 'PolicyDocument');
      const doc = identityPolicy(raw);
      // Managed policies: at most 6,144 characters, whitespace aside.
      if (raw.replace(/\s/g, '').length > 6144) {
        throw new AwsFault(409, 'LimitExceeded', 'Cannot exceed quota for PolicySize: 6144');
      }
      const arn = `arn:aws:iam::${ctx.account}:policy${path}${name}`;
      data.managedPolicies ??= {};
      if (data.managedPolicies[arn]) {
        throw new AwsFault(
          409,
          'EntityAlreadyExists',
          `A policy called ${name} already exists. Duplicate names are not allowed.`,
        );
      }
      data.managedPolicies[arn] = doc;
      const now = isoNow();
      return (
        `<Policy><PolicyName>${xml(name)}</PolicyName><DefaultVersionId>v1</DefaultVersionId>` +
        `<PolicyId>ANPA${randomChars(17)}</PolicyId><Path>${xml(path)}</Path><Arn>${xml(arn)}</Arn>` +
        `<AttachmentCount>0</AttachmentCount><IsAttachable>true</IsAttachable>` +
        `<CreateDate>${now}</CreateDate><UpdateDate>${now}</UpdateDate></Policy>`
      );
    },
    DeletePolicy(ctx, p) {
      const arn = policyArn(required(p, 'PolicyArn'));
      if (!data.managedPolicies?.[arn] || !arn.includes(`::${ctx.account}:`)) {
        throw new AwsFault(404, 'NoSuchEntity', `Policy ${arn} was not found.`);
      }
      const attached =
        data.roles.some((r) => (r.attachedPolicies ?? []).includes(arn)) ||
        data.users.some((u) => (u.attachedPolicies ?? []).includes(arn));
      if (attached) {
        throw new AwsFault(409, 'DeleteConflict', 'Cannot delete a policy attached to entities.');
      }
      delete data.managedPolicies[arn];
      detachedPolicies.delete(arn);
      return null;
    },
    AttachUserPolicy(ctx, p) {
      const u = userOf(ctx, required(p, 'UserName'));
      const arn = policyArn(required(p, 'PolicyArn'));
      const attached = u.attachedPolicies ?? [];
      if (!attached.includes(arn)) attachablePolicy(arn);
      if (!attached.includes(arn)) {
        if (attached.length >= 20) {
          throw new AwsFault(409, 'LimitExceeded', 'Cannot exceed quota for PoliciesPerUser: 20');
        }
        u.attachedPolicies = [...attached, arn];
      }
      keepUser(u);
      return null;
    },
    DetachUserPolicy(ctx, p) {
      const u = userOf(ctx, required(p, 'UserName'));
      const arn = required(p, 'PolicyArn');
      if (!(u.attachedPolicies ?? []).includes(arn)) {
        throw new AwsFault(404, 'NoSuchEntity', `Policy ${arn} was not found.`);
      }
      u.attachedPolicies = (u.attachedPolicies ?? []).filter((a) => a !== arn);
      if (!data.managedPolicies?.[arn]) detachedPolicies.add(arn);
      keepUser(u);
      return null;
    },
    CreateInstanceProfile(ctx, p) {
      const name = required(p, 'InstanceProfileName');
      data.instanceProfiles ??= [];
      const profiles = data.instanceProfiles;
      if (profiles.some((ip) => ip.account === ctx.account && ip.name === name)) {
        throw new AwsFault(409, 'EntityAlreadyExists', `Instance Profile ${name} already exists.`);
      }
      const profile: SandboxInstanceProfile = {
        account: ctx.account,
        name,
        path: p.get('Path') ?? '/',
        instanceProfileId: `AIPA${randomChars(17)}`,
        createDate: isoNow(),
        roles: [],
      };
      profiles.push(profile);
      return `<InstanceProfile>${profileXml(profile)}</InstanceProfile>`;
    },
    ListAccessKeys(ctx, p) {
      const u = keyOwner(ctx, p);
      const { page, tail } = listPage(u.accessKeys ?? [], p, 'ak');
      const members = page.map(
        (k) =>
          `<member><UserName>${xml(u.name)}</UserName><AccessKeyId>${xml(k.id)}</AccessKeyId>` +
          `<Status>${k.status}</Status><CreateDate>${k.createDate}</CreateDate></member>`,
      );
      return `<AccessKeyMetadata>${members.join('')}</AccessKeyMetadata>${tail}`;
    },
    UpdateAccessKey(ctx, p) {
      // Without UserName IAM acts on the caller's own keys: a key of another user is not found.
      const u = keyOwner(ctx, p);
      const id = required(p, 'AccessKeyId');
      const status = required(p, 'Status');
      if (status !== 'Active' && status !== 'Inactive') {
        throw invalidValue(
          'status',
          status,
          'Member must satisfy enum value set: [Active, Inactive, Expired]',
        );
      }
      const key = (u.accessKeys ?? []).find((k) => k.id === id);
      if (!key) throw new AwsFault(404, 'NoSuchEntity', `The Access Key with id ${id} cannot be found.`);
      key.status = status;
      keepUser(u);
      reanalyze(data, userArn(u));
      return null;
    },
    DeleteAccessKey(ctx, p) {
      // Without UserName IAM looks among the caller's own keys: a key of another user is not found.
      const u = keyOwner(ctx, p);
      const id = required(p, 'AccessKeyId');
      const keys = u.accessKeys ?? [];
      if (!keys.some((k) => k.id === id)) {
        throw new AwsFault(404, 'NoSuchEntity', `The Access Key with id ${id} cannot be found.`);
      }
      u.accessKeys = keys.filter((k) => k.id !== id);
      keepUser(u);
      reanalyze(data, userArn(u));
      return null;
    },
    GetAccessKeyLastUsed(ctx, p) {
      // Takes only the key id; answers for a key of the caller's account.
      const id = required(p, 'AccessKeyId');
      const owner = data.users.find(
        (u) => u.account === ctx.account && (u.accessKeys ?? []).some((k) => k.id === id),
      );
      if (!owner)
        throw new AwsFault(403, 'AccessDenied', `Access key ${id} is not in account ${ctx.account}.`);
      const used = owner.accessKeys!.find((k) => k.id === id)!.lastUsed;
      const last = used
        ? `<LastUsedDate>${used.date}</LastUsedDate><ServiceName>${xml(used.service)}</ServiceName><Region>${xml(used.region)}</Region>`
        : '<ServiceName>N/A</ServiceName><Region>N/A</Region>';
      return `<UserName>${xml(owner.name)}</UserName><AccessKeyLastUsed>${last}</AccessKeyLastUsed>`;
    },
    GetLoginProfile(ctx, p) {
      const u = userOf(ctx, required(p, 'UserName'));
      if (!u.loginProfile) throw noLoginProfile(u.name);
      return `<LoginProfile>${loginProfileXml(u.name, u.loginProfile)}</LoginProfile>`;
    },
    CreateLoginProfile(ctx, p) {
      const u = userOf(ctx, required(p, 'UserName'));
      const password = required(p, 'Password');
      if (u.loginProfile) {
        throw new AwsFault(409, 'EntityAlreadyExists', `Login Profile for user ${u.name} already exists.`);
      }
      // The default account password policy: at least 8 characters, three of the four character types.
      const classes = [/[A-Z]/, /[a-z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(password)).length;
      if (password.length < 8 || classes < 3) {
        throw new AwsFault(
          400,
          'PasswordPolicyViolation',
          'Password should have a minimum length of 8 and contain three of: uppercase letters, lowercase letters, numbers, symbols',
        );
      }
      u.loginProfile = {
        createDate: isoNow(),
        passwordResetRequired: p.get('PasswordResetRequired') === 'true',
      };
      keepUser(u);
      reanalyze(data, userArn(u));
      return `<LoginProfile>${loginProfileXml(u.name, u.loginProfile)}</LoginProfile>`;
    },
    DeleteLoginProfile(ctx, p) {
      const u = userOf(ctx, required(p, 'UserName'));
      if (!u.loginProfile) throw noLoginProfile(u.name);
      u.loginProfile = null;
      keepUser(u);
      reanalyze(data, userArn(u));
      return null;
    },
    UpdateAssumeRolePolicy(ctx, p) {
      const role = mutableRoleOf(ctx, p.get('RoleName') ?? undefined);
      role.assumeRolePolicyDocument = trustPolicy(required(p, 'PolicyDocument'));
      reanalyze(data, `arn:aws:iam::${role.account}:role${role.path ?? '/'}${role.name}`);
      return null;
    },
    AddRoleToInstanceProfile(ctx, p) {
      const role = roleOf(ctx, p.get('RoleName') ?? undefined);
      const profile = profileOf(role.account, required(p, 'InstanceProfileName'));
      if (profile.roles.length > 0) {
        throw new AwsFault(
          409,
          'LimitExceeded',
          'Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1',
        );
      }
      profile.roles.push(role.name);
      return null;
    },
  };

  /** The user whose keys a call is about: UserName, or the caller itself when it names none. */
  const keyOwner = (ctx: Ctx, p: URLSearchParams): SandboxUser =>
    userOf(ctx, p.get('UserName') ?? (ctx.account === data.callerAccount ? data.callerUserName : undefined));

  /** A generated (lookupUser) user that changed is kept from now on, so the change sticks. */
  const keepUser = (u: SandboxUser) => {
    if (!data.users.includes(u)) data.users.push(u);
  };

  /** A role about to change: generated (lookupRole) roles are kept from now on, so the change sticks. */
  const mutableRoleOf = (ctx: Ctx, name: string | undefined): SandboxRole => {
    const role = roleOf(ctx, name);
    if (isServiceLinked(role)) throw unmodifiable(role);
    if (!data.roles.includes(role)) data.roles.push(role);
    return role;
  };

  const profileOf = (account: string, name: string): SandboxInstanceProfile => {
    const all = data.instanceProfiles ?? [];
    const found =
      all.find((ip) => ip.account === account && ip.name === name) ??
      (data.strictAccounts ? undefined : all.find((ip) => ip.name === name));
    if (!found) throw new AwsFault(404, 'NoSuchEntity', `Instance Profile ${name} cannot be found.`);
    return found;
  };

  const profilesOfRole = (role: SandboxRole): SandboxInstanceProfile[] =>
    (data.instanceProfiles ?? []).filter((ip) => ip.account === role.account && ip.roles.includes(role.name));

  const profileXml = (ip: SandboxInstanceProfile): string => {
    const roles = ip.roles
      .map((n) => data.roles.find((r) => r.account === ip.account && r.name === n))
      .filter((r): r is SandboxRole => r !== undefined);
    const identity = entityXml(
      { element: 'InstanceProfile', arn: 'instance-profile', idPrefix: 'AIPA' },
      ip,
      ip.instanceProfileId,
    );
    return `${identity}<Roles>${roles.map((r) => `<member>${roleXml(r)}</member>`).join('')}</Roles>`;
  };

  return { name: 'iam', namespace: IAM_NS, ops: { ...more, ...ops } };
}

function policyDocument(raw: string): Record<string, unknown> {
  try {
    const v = JSON.parse(raw) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new AwsFault(400, 'MalformedPolicyDocument', 'This policy contains invalid Json');
}

/** IAM tag keys and values: letters, numbers, spaces and `_ . : / = + - @`. */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u;

/**
 * An identity policy IAM takes (PutRolePolicy, CreatePolicy): JSON, at least one statement, each with
 * an Effect, an Action or NotAction, a Resource or NotResource, and no Principal.
 */
export function identityPolicy(raw: string): Record<string, unknown> {
  return policyWith(raw, (st) => {
    if (st.Effect !== 'Allow' && st.Effect !== 'Deny')
      throw new AwsFault(400, 'MalformedPolicyDocument', 'Syntax errors in policy.');
    if ('Principal' in st || 'NotPrincipal' in st)
      throw new AwsFault(400, 'MalformedPolicyDocument', 'Policy document should not specify a principal.');
    if (st.Action === undefined && st.NotAction === undefined)
      throw new AwsFault(400, 'MalformedPolicyDocument', 'Policy statement must contain actions.');
    if (st.Resource === undefined && st.NotResource === undefined)
      throw new AwsFault(400, 'MalformedPolicyDocument', 'Policy statement must contain resources.');
  });
}

/**
 * A policy document whose statements (at least one, each an object) pass `check`, in order: IAM's
 * "Syntax errors in policy." for no statement or one that is not an object.
 */
function policyWith(raw: string, check: (st: Record<string, unknown>) => void): Record<string, unknown> {
  const doc = policyDocument(raw);
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
  if (statements.length === 0) throw new AwsFault(400, 'MalformedPolicyDocument', 'Syntax errors in policy.');
  for (const st of statements as Record<string, unknown>[]) {
    if (!st || typeof st !== 'object')
      throw new AwsFault(400, 'MalformedPolicyDocument', 'Syntax errors in policy.');
    check(st);
  }
  return doc;
}

const userArn = (u: SandboxUser) => `arn:aws:iam::${u.account}:user${u.path ?? '/'}${u.name}`;

function loginProfileXml(user: string, lp: { createDate: string; passwordResetRequired: boolean }): string {
  return `<UserName>${xml(user)}</UserName><CreateDate>${lp.createDate}</CreateDate><PasswordResetRequired>${lp.passwordResetRequired}</PasswordResetRequired>`;
}

function noLoginProfile(user: string): AwsFault {
  return new AwsFault(404, 'NoSuchEntity', `Login Profile for User ${user} cannot be found.`);
}

/** A trust policy IAM takes: JSON, at least one statement, a principal in each, no Resource. */
function trustPolicy(raw: string): Record<string, unknown> {
  return policyWith(raw, (st) => {
    if ('Resource' in st || 'NotResource' in st) {
      throw new AwsFault(400, 'MalformedPolicyDocument', 'Has prohibited field Resource');
    }
    if (st.Principal === undefined && st.NotPrincipal === undefined) {
      throw new AwsFault(400, 'MalformedPolicyDocument', 'Missing required field Principal');
    }
    if (st.Effect !== 'Allow' && st.Effect !== 'Deny') {
      throw new AwsFault(400, 'MalformedPolicyDocument', 'Syntax errors in policy.');
    }
  });
}

function policyArn(arn: string): string {
  if (!/^arn:aws[\w-]*:iam::(aws|\d{12}):policy\/.+/.test(arn)) {
    throw new AwsFault(400, 'InvalidInput', `ARN ${arn} is not valid.`);
  }
  return arn;
}

function isServiceLinked(role: SandboxRole): boolean {
  return (role.path ?? '/').startsWith('/aws-service-role/');
}

function unmodifiable(role: SandboxRole): AwsFault {
  return new AwsFault(
    400,
    'UnmodifiableEntity',
    `Cannot perform the operation on the protected role '${role.name}' - this role is only modifiable by AWS`,
  );
}

function noSuchRolePolicy(name: string): AwsFault {
  return new AwsFault(404, 'NoSuchEntity', `The role policy with name ${name} cannot be found.`);
}
