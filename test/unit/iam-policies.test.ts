// IAM as code (deploy/iam): every AWS operation the bot calls is granted by the policy that the role
// making the call carries, and nothing is granted that no code calls. The operations are read from the
// source: the `*Command` classes and the `paginate*` paginators imported from @aws-sdk/* under src/. A
// new operation fails this test until GRANTS says where it belongs and that policy grants it.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderTemplates } from '../../scripts/iam-templates.ts';

const ROOT = new URL('../../', import.meta.url);

/** The policy documents in deploy/iam, by who carries them. */
type PolicyFile =
  | 'bot-scan' // the bot's role, read-only: findings, tags in its own account, assuming the member role
  | 'bot-triage' // the bot's role: archive, rescan, recommendations, /access validate
  | 'member-read' // the member role: tags of resources in that account
  | 'member-role-admin' // the member role: deleting an unused role and restoring it, the one-click fixes and their Undo
  | 'member-policy-generation'; // the member role: generating a policy for a principal of that account

/** The IAM service prefix of each SDK client package. */
const SERVICE: Record<string, string> = {
  '@aws-sdk/client-accessanalyzer': 'access-analyzer',
  '@aws-sdk/client-iam': 'iam',
  '@aws-sdk/client-sts': 'sts',
  '@aws-sdk/client-resource-groups-tagging-api': 'tag',
  '@aws-sdk/client-s3': 's3',
  // S3 control's IAM prefix is s3 too; its operations are listed apart (their actions differ).
  '@aws-sdk/client-s3-control': 's3-control',
};

interface Grant {
  /** Where it must be granted (every file listed). Empty: the operation needs no permission. */
  in: PolicyFile[];
  /** The IAM action when it is not `<service>:<operation>`. */
  action?: string;
  /** Actions the call also needs (e.g. passing a role, tags given to CreateRole), granted in the same files. */
  alsoNeeds?: string[];
}

/** `<package>:<Operation>` → where it is granted. Add a line here for each new operation. */
const GRANTS: Record<string, Grant> = {
  // Scanning, with the bot's own credentials.
  'access-analyzer:ListAnalyzers': { in: ['bot-scan'] },
  'access-analyzer:ListFindingsV2': { in: ['bot-scan'], action: 'access-analyzer:ListFindings' },
  'access-analyzer:GetFindingV2': { in: ['bot-scan'], action: 'access-analyzer:GetFinding' },
  'sts:GetCallerIdentity': { in: [] }, // allowed to every principal; no policy can deny it
  'sts:AssumeRole': { in: ['bot-scan'] },
  // Owner tags: in the bot's account with its own credentials, elsewhere through the member role.
  'iam:GetRole': { in: ['bot-scan', 'member-read', 'member-role-admin', 'member-policy-generation'] },
  'iam:ListUserTags': { in: ['bot-scan', 'member-read'] },
  'tag:GetResources': { in: ['bot-scan', 'member-read'] },
  // Triage, on the bot's analyzers.
  'access-analyzer:UpdateFindings': { in: ['bot-triage'] },
  'access-analyzer:StartResourceScan': { in: ['bot-triage'] },
  'access-analyzer:GenerateFindingRecommendation': { in: ['bot-triage'] },
  'access-analyzer:GetFindingRecommendation': { in: ['bot-triage'] },
  // Archive rules (Archive similar, /access rules) and Create analyzer, on the bot's analyzers. The
  // first analyzer of an account makes AWS create its service-linked role for the caller.
  'access-analyzer:ListArchiveRules': { in: ['bot-triage'] },
  'access-analyzer:GetArchiveRule': { in: ['bot-triage'] },
  'access-analyzer:CreateArchiveRule': { in: ['bot-triage'] },
  'access-analyzer:ApplyArchiveRule': { in: ['bot-triage'] },
  'access-analyzer:DeleteArchiveRule': { in: ['bot-triage'] },
  'access-analyzer:CreateAnalyzer': { in: ['bot-triage'], alsoNeeds: ['iam:CreateServiceLinkedRole'] },
  // /access validate runs with the bot's credentials; a generated policy is checked in its account.
  'access-analyzer:ValidatePolicy': { in: ['bot-triage', 'member-policy-generation'] },
  'access-analyzer:CheckNoNewAccess': { in: ['bot-triage', 'member-policy-generation', 'member-role-admin'] },
  'access-analyzer:CheckNoPublicAccess': { in: ['bot-triage'] },
  // Deleting a role (inspect first) and restoring it from its backup, through the member role.
  'iam:ListAttachedRolePolicies': { in: ['member-role-admin', 'member-policy-generation'] },
  'iam:ListRolePolicies': { in: ['member-role-admin', 'member-policy-generation'] },
  'iam:GetRolePolicy': { in: ['member-role-admin', 'member-policy-generation'] },
  'iam:ListInstanceProfilesForRole': { in: ['member-role-admin', 'member-policy-generation'] },
  'iam:GetInstanceProfile': { in: ['member-role-admin'] },
  'iam:RemoveRoleFromInstanceProfile': { in: ['member-role-admin'] },
  'iam:DetachRolePolicy': { in: ['member-role-admin'] },
  'iam:DeleteRolePolicy': { in: ['member-role-admin'] },
  'iam:DeleteRole': { in: ['member-role-admin'] },
  // One-click fixes (jobs/fixes) and their Undo, in the finding's account through the member role.
  's3:GetPublicAccessBlock': { in: ['member-role-admin'], action: 's3:GetBucketPublicAccessBlock' },
  's3:PutPublicAccessBlock': { in: ['member-role-admin'], action: 's3:PutBucketPublicAccessBlock' },
  // S3 authorises DeletePublicAccessBlock with s3:PutBucketPublicAccessBlock.
  's3:DeletePublicAccessBlock': { in: ['member-role-admin'], action: 's3:PutBucketPublicAccessBlock' },
  // The account-level settings, read to say whether they are what blocks public access.
  's3-control:GetPublicAccessBlock': { in: ['member-role-admin'], action: 's3:GetAccountPublicAccessBlock' },
  'iam:ListAccessKeys': { in: ['member-role-admin'] },
  'iam:UpdateAccessKey': { in: ['member-role-admin'] },
  // Delete key, after Deactivate key: checked unused since, then deleted (cannot be undone).
  'iam:GetAccessKeyLastUsed': { in: ['member-role-admin'] },
  'iam:DeleteAccessKey': { in: ['member-role-admin'] },
  'iam:GetLoginProfile': { in: ['member-role-admin'] },
  'iam:DeleteLoginProfile': { in: ['member-role-admin'] },
  'iam:CreateLoginProfile': { in: ['member-role-admin'] },
  'iam:UpdateAssumeRolePolicy': { in: ['member-role-admin'] },
  // A backup may carry tags and a permissions boundary: CreateRole then needs these too.
  'iam:CreateRole': {
    in: ['member-role-admin'],
    alsoNeeds: ['iam:TagRole', 'iam:PutRolePermissionsBoundary'],
  },
  'iam:PutRolePolicy': { in: ['member-role-admin'] },
  // Quarantine role and Still needed: a deny-all inline policy (PutRolePolicy, DeleteRolePolicy) and a tag.
  'iam:ListRoleTags': { in: ['member-role-admin'] },
  'iam:TagRole': { in: ['member-role-admin'] },
  'iam:UntagRole': { in: ['member-role-admin'] },
  // Apply recommendation and its Undo: the recommended policy created, attached, the old one detached.
  'iam:CreatePolicy': { in: ['member-role-admin'] },
  'iam:DeletePolicy': { in: ['member-role-admin'] },
  'iam:AttachUserPolicy': { in: ['member-role-admin'] },
  'iam:DetachUserPolicy': { in: ['member-role-admin'] },
  'iam:AttachRolePolicy': { in: ['member-role-admin'] },
  'iam:CreateInstanceProfile': { in: ['member-role-admin'] },
  // The caller must be allowed to pass the role it puts into an instance profile.
  'iam:AddRoleToInstanceProfile': { in: ['member-role-admin'], alsoNeeds: ['iam:PassRole'] },
  // Policy generation in the principal's account; Access Analyzer is passed the service role.
  'access-analyzer:StartPolicyGeneration': { in: ['member-policy-generation'], alsoNeeds: ['iam:PassRole'] },
  'access-analyzer:GetGeneratedPolicy': { in: ['member-policy-generation'] },
  'access-analyzer:CancelPolicyGeneration': { in: ['member-policy-generation'] },
  'iam:GetPolicy': { in: ['member-policy-generation', 'member-role-admin'] },
  'iam:GetPolicyVersion': { in: ['member-policy-generation', 'member-role-admin'] },
  'iam:ListAttachedUserPolicies': { in: ['member-policy-generation', 'member-role-admin'] },
  'iam:ListUserPolicies': { in: ['member-policy-generation'] },
  'iam:GetUserPolicy': { in: ['member-policy-generation'] },
  'iam:ListGroupsForUser': { in: ['member-policy-generation'] },
  'iam:ListAttachedGroupPolicies': { in: ['member-policy-generation'] },
  'iam:ListGroupPolicies': { in: ['member-policy-generation'] },
  'iam:GetGroupPolicy': { in: ['member-policy-generation'] },
};

/** What IAM Access Analyzer itself needs in the policy-generation service role (AWS calls these, not us). */
const SERVICE_ROLE_ACTIONS = [
  'cloudtrail:GetTrail',
  'iam:GenerateServiceLastAccessedDetails',
  'iam:GetServiceLastAccessedDetails',
  's3:GetObject',
  's3:ListBucket',
  'kms:Decrypt',
];

interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: string | string[];
  Principal?: unknown;
  Condition?: Record<string, Record<string, string>>;
}
interface PolicyDocument {
  Version: string;
  Statement: Statement[];
}

const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

async function policy(name: string): Promise<PolicyDocument> {
  return JSON.parse(await readFile(new URL(`deploy/iam/${name}.json`, ROOT), 'utf8')) as PolicyDocument;
}

function allowed(doc: PolicyDocument): Statement[] {
  return doc.Statement.filter((s) => s.Effect === 'Allow');
}

async function sourceFiles(dir: URL): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir.pathname, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(new URL(`${entry.name}/`, dir))));
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/**
 * `<service>:<Operation>` of every SDK command class and paginator src/ imports (type-only imports
 * left out): `paginateListRolePolicies` calls ListRolePolicies.
 */
async function operationsInCode(): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  for (const file of await sourceFiles(new URL('src/', ROOT))) {
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(/import\s+(type\s+)?\{([^}]*)\}\s*from\s*'(@aws-sdk\/[^']+)'/g)) {
      if (m[1]) continue;
      const service = SERVICE[m[3]!];
      for (const raw of m[2]!.split(',')) {
        const name = raw.trim().split(/\s+as\s+/)[0]!;
        if (name.startsWith('type ')) continue;
        const operation = name.endsWith('Command')
          ? name.slice(0, -'Command'.length)
          : name.startsWith('paginate')
            ? name.slice('paginate'.length)
            : undefined;
        if (!operation) continue;
        expect(service, `${file} imports ${name} from ${m[3]}: add the package to SERVICE`).toBeDefined();
        const op = `${service}:${operation}`;
        found.set(op, [...(found.get(op) ?? []), file.slice(ROOT.pathname.length)]);
      }
    }
  }
  return found;
}

const FILES: PolicyFile[] = [
  'bot-scan',
  'bot-triage',
  'member-read',
  'member-role-admin',
  'member-policy-generation',
];

describe('IAM policies in deploy/iam', () => {
  it('grant every operation the code calls, in the policy of the role that calls it', async () => {
    const ops = await operationsInCode();
    expect(ops.size).toBeGreaterThan(40);
    const unmapped = [...ops.keys()].filter((op) => !GRANTS[op]);
    expect(unmapped, 'operations called in src/ without a line in GRANTS').toEqual([]);
    for (const [op, grant] of Object.entries(GRANTS)) {
      expect(ops.has(op), `${op} is in GRANTS but no code calls it`).toBe(true);
      for (const file of grant.in) {
        const actions = allowed(await policy(file)).flatMap((s) => list(s.Action));
        for (const action of [grant.action ?? op, ...(grant.alsoNeeds ?? [])])
          expect(actions, `${file}.json must allow ${action} (for ${op})`).toContain(action);
      }
    }
  });

  it('grant nothing that no code calls, and no wildcard actions', async () => {
    for (const file of FILES) {
      const expected = new Set(
        Object.entries(GRANTS)
          .filter(([, g]) => g.in.includes(file))
          .flatMap(([op, g]) => [g.action ?? op, ...(g.alsoNeeds ?? [])]),
      );
      for (const action of allowed(await policy(file)).flatMap((s) => list(s.Action))) {
        expect(action, `${file}.json`).not.toContain('*');
        expect(
          expected.has(action),
          `${file}.json allows ${action}, which no code calls from that role`,
        ).toBe(true);
      }
    }
    const service = allowed(await policy('service-role')).flatMap((s) => list(s.Action));
    expect(service.sort()).toEqual([...SERVICE_ROLE_ACTIONS].sort());
  });

  it('scope iam:PassRole to the policy-generation service role, passed to Access Analyzer only', async () => {
    const pass = allowed(await policy('member-policy-generation')).filter((s) =>
      list(s.Action).includes('iam:PassRole'),
    );
    expect(pass).toHaveLength(1);
    expect(list(pass[0]!.Resource)).toEqual([
      'arn:aws:iam::{{AccountId}}:role/service-role/{{ServiceRoleName}}',
    ]);
    expect(pass[0]!.Condition).toEqual({
      StringEqualsIfExists: { 'iam:PassedToService': 'access-analyzer.amazonaws.com' },
    });
    // AssumeRole reaches the member role by name, nothing else.
    const assume = allowed(await policy('bot-scan')).filter((s) => list(s.Action).includes('sts:AssumeRole'));
    expect(list(assume[0]!.Resource)).toEqual(['arn:aws:iam::*:role/{{MemberRoleName}}']);
  });

  it('trust only the bot with the ExternalId (member role) and only Access Analyzer of the account (service role)', async () => {
    const member = await policy('member-trust');
    expect(member.Statement).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { AWS: '{{BotRoleArn}}' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': '{{ExternalId}}' } },
      }),
    ]);
    const service = await policy('service-role-trust');
    expect(service.Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: 'access-analyzer.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': '{{AccountId}}' } },
      }),
    ]);
  });

  it('keeps the CloudFormation templates generated from these documents (npm run gen:iam)', async () => {
    for (const [path, text] of Object.entries(await renderTemplates())) {
      expect(await readFile(new URL(path, ROOT), 'utf8'), `${path} is stale: run npm run gen:iam`).toBe(text);
    }
    const member = JSON.parse(
      await readFile(new URL('deploy/cloudformation/member-account.json', ROOT), 'utf8'),
    );
    const params = Object.keys(member.Parameters);
    // Every placeholder of the member documents is a parameter (or the stack's account).
    for (const name of [
      'member-trust',
      'member-read',
      'member-role-admin',
      'member-policy-generation',
      'service-role',
      'service-role-trust',
    ]) {
      const text = await readFile(new URL(`deploy/iam/${name}.json`, ROOT), 'utf8');
      for (const [, p] of text.matchAll(/\{\{(\w+)\}\}/g)) expect(['AccountId', ...params]).toContain(p);
    }
    // StackSet-ready: no account id or region written into the template.
    expect(JSON.stringify(member)).not.toMatch(/\d{12}|[a-z]{2}-[a-z]+-\d/);
  });

  it('gives the Terraform modules the same documents and a value for each placeholder', async () => {
    for (const [module, files] of [
      [
        'member',
        [
          'member-trust',
          'member-read',
          'member-role-admin',
          'member-policy-generation',
          'service-role-trust',
          'service-role',
        ],
      ],
      ['bot', ['bot-scan', 'bot-triage']],
    ] as const) {
      const tf = await readFile(new URL(`deploy/terraform/${module}/main.tf`, ROOT), 'utf8');
      for (const file of files) {
        expect(tf).toContain(`"${file}"`);
        const text = await readFile(new URL(`deploy/iam/${file}.json`, ROOT), 'utf8');
        for (const [placeholder] of text.matchAll(/\{\{\w+\}\}/g)) expect(tf).toContain(`"${placeholder}"`);
      }
    }
  });
});
