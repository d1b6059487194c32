// IAM's XML (awsQuery) for roles, users and tags, and IAM's Marker/MaxItems paging of List* calls.
import type { SandboxRole, SandboxUser } from '../types.ts';
import { AwsFault, xml } from './wire.ts';

function tagsXml(tags: Record<string, string> | undefined): string {
  return Object.entries(tags ?? {})
    .map(([k, v]) => `<member><Key>${xml(k)}</Key><Value>${xml(v)}</Value></member>`)
    .join('');
}

/** What every IAM entity starts with: path, name, id (made up when the data has none), ARN, creation date. */
export function entityXml(
  kind: { element: 'Role' | 'User' | 'InstanceProfile'; arn: string; idPrefix: string },
  e: { account: string; name: string; path?: string; createDate: string },
  id: string | undefined,
): string {
  const path = e.path ?? '/';
  return (
    `<Path>${xml(path)}</Path><${kind.element}Name>${xml(e.name)}</${kind.element}Name>` +
    `<${kind.element}Id>${xml(id ?? `${kind.idPrefix}${e.account}${idSuffix(e.name)}`)}</${kind.element}Id>` +
    `<Arn>arn:aws:iam::${e.account}:${kind.arn}${xml(path)}${xml(e.name)}</Arn>` +
    `<CreateDate>${e.createDate}</CreateDate>`
  );
}

export function roleXml(r: SandboxRole): string {
  let s = entityXml({ element: 'Role', arn: 'role', idPrefix: 'AROA' }, r, r.roleId);
  if (r.assumeRolePolicyDocument) {
    s += `<AssumeRolePolicyDocument>${xml(encodeURIComponent(JSON.stringify(r.assumeRolePolicyDocument)))}</AssumeRolePolicyDocument>`;
  }
  if (r.description !== undefined) s += `<Description>${xml(r.description)}</Description>`;
  s += `<MaxSessionDuration>${r.maxSessionDuration ?? 3600}</MaxSessionDuration>`;
  if (r.permissionsBoundaryArn) {
    s +=
      '<PermissionsBoundary><PermissionsBoundaryType>Policy</PermissionsBoundaryType>' +
      `<PermissionsBoundaryArn>${xml(r.permissionsBoundaryArn)}</PermissionsBoundaryArn></PermissionsBoundary>`;
  }
  if (r.tags && Object.keys(r.tags).length > 0) s += `<Tags>${tagsXml(r.tags)}</Tags>`;
  s += '<RoleLastUsed>';
  if (r.lastUsed?.date) s += `<LastUsedDate>${r.lastUsed.date}</LastUsedDate>`;
  if (r.lastUsed?.region) s += `<Region>${xml(r.lastUsed.region)}</Region>`;
  s += '</RoleLastUsed>';
  return s;
}

export function userXml(u: SandboxUser): string {
  let s = entityXml({ element: 'User', arn: 'user', idPrefix: 'AIDA' }, u, u.userId);
  if (u.passwordLastUsed) s += `<PasswordLastUsed>${u.passwordLastUsed}</PasswordLastUsed>`;
  if (u.tags && Object.keys(u.tags).length > 0) s += `<Tags>${tagsXml(u.tags)}</Tags>`;
  return s;
}

/** `<AttachedPolicies>` of a List*Policies answer: each policy's name (its ARN's last part) and ARN. */
export function attachedPoliciesXml(arns: readonly string[]): string {
  const members = arns.map(
    (arn) =>
      `<member><PolicyName>${xml(arn.slice(arn.lastIndexOf('/') + 1))}</PolicyName><PolicyArn>${xml(arn)}</PolicyArn></member>`,
  );
  return `<AttachedPolicies>${members.join('')}</AttachedPolicies>`;
}

/** `<PolicyNames>` of a List*Policies answer (inline policies). */
export function policyNamesXml(names: readonly string[]): string {
  return `<PolicyNames>${names.map((n) => `<member>${xml(n)}</member>`).join('')}</PolicyNames>`;
}

/** ListRoleTags / ListUserTags, paged like every IAM List* call. */
export function tagPageXml(tags: Record<string, string> | undefined, p: URLSearchParams): string {
  const { page, tail } = listPage(Object.entries(tags ?? {}), p, 'tag');
  return `<Tags>${tagsXml(Object.fromEntries(page))}</Tags>${tail}`;
}

/** IAM List* paging: Marker is the index of the next item, MaxItems 1-1000 (default 100). */
export function listPage<T>(
  all: readonly T[],
  p: URLSearchParams,
  kind: string,
): { page: T[]; tail: string } {
  const max = Number(p.get('MaxItems') ?? 100);
  if (!Number.isInteger(max) || max < 1 || max > 1000) {
    throw new AwsFault(400, 'ValidationError', `Invalid MaxItems ${p.get('MaxItems')}`);
  }
  let start = 0;
  const marker = p.get('Marker');
  if (marker) {
    const m = /^([a-z]+):(\d+)$/.exec(Buffer.from(marker, 'base64url').toString('utf8'));
    if (!m || m[1] !== kind) throw new AwsFault(400, 'ValidationError', 'Invalid Marker');
    start = Number(m[2]);
  }
  const page = all.slice(start, start + max);
  const truncated = start + max < all.length;
  let tail = `<IsTruncated>${truncated}</IsTruncated>`;
  if (truncated) tail += `<Marker>${Buffer.from(`${kind}:${start + max}`).toString('base64url')}</Marker>`;
  return { page, tail };
}

/** A stable id suffix for entities the data gives no id. */
function idSuffix(name: string): string {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h.toString(36).toUpperCase().padStart(8, '0').slice(0, 8);
}
