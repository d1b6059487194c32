// The AWS sandbox's finding recommendations, driven by the real SDK v3 client and the bot's gateway.
import {
  AccessAnalyzerClient,
  GenerateFindingRecommendationCommand,
  GetFindingRecommendationCommand,
  ResourceNotFoundException,
  ValidationException,
} from '@aws-sdk/client-accessanalyzer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AwsSandbox, type SandboxData, startAwsSandbox } from '../../sandbox/aws.ts';
import { DEMO_ANALYZERS, DEMO_FINDING_IDS, demoData } from '../../sandbox/fixtures/demo-org.ts';
import { createAnalyzerGateway } from '../../src/aws/analyzer.ts';

const NOW = new Date('2026-11-29T12:00:00.000Z');
const CREDS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const US = { arn: DEMO_ANALYZERS.usUnused, region: 'us-east-1' };
const ID = DEMO_FINDING_IDS.unusedPermission;

let sandbox: AwsSandbox;
let data: SandboxData;
const client = (region = 'us-east-1') =>
  new AccessAnalyzerClient({ region, endpoint: sandbox.url, credentials: CREDS, maxAttempts: 1 });
const gateway = () => createAnalyzerGateway({ accessAnalyzer: (region) => client(region) });

beforeEach(async () => {
  data = demoData(NOW);
  sandbox = await startAwsSandbox({ data });
});
afterEach(async () => {
  await sandbox.close();
});

describe('sandbox finding recommendations', () => {
  it('has none before one is generated (ResourceNotFound)', async () => {
    await expect(
      client().send(new GetFindingRecommendationCommand({ analyzerArn: US.arn, id: ID })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(await gateway().getFindingRecommendation(US, ID)).toBeNull();
  });

  it('is IN_PROGRESS for two polls after Generate, then SUCCEEDED with create-then-detach steps', async () => {
    const out = await client().send(
      new GenerateFindingRecommendationCommand({ analyzerArn: US.arn, id: ID }),
    );
    expect(out.$metadata.httpStatusCode).toBe(200);

    const g = gateway();
    expect((await g.getFindingRecommendation(US, ID))?.status).toBe('IN_PROGRESS');
    expect((await g.getFindingRecommendation(US, ID))?.status).toBe('IN_PROGRESS');
    const rec = (await g.getFindingRecommendation(US, ID))!;

    expect(rec.status).toBe('SUCCEEDED');
    expect(rec.resourceArn).toMatch(/:role\/app-backend$/);
    expect(rec.completedAt).toBeDefined();
    expect(rec.steps.length % 2).toBe(0);
    expect(rec.steps.length).toBeGreaterThan(0);
    for (let i = 0; i < rec.steps.length; i += 2) {
      expect(rec.steps[i]!.action).toBe('CREATE_POLICY');
      expect(rec.steps[i + 1]).toEqual({
        action: 'DETACH_POLICY',
        existingPolicyId: rec.steps[i]!.existingPolicyId,
      });
    }
    // Read actions of the services the role still uses (those with a last access in the finding).
    const doc = JSON.parse(rec.steps[0]!.recommendedPolicy!) as { Statement: { Action: string[] }[] };
    expect(doc.Statement[0]!.Action).toEqual(
      ['dynamodb', 'iam', 's3'].flatMap((s) => [`${s}:Get*`, `${s}:List*`, `${s}:Describe*`]),
    );
  });

  it('pages recommendedSteps with nextToken', async () => {
    await client().send(new GenerateFindingRecommendationCommand({ analyzerArn: US.arn, id: ID }));
    const c = client();
    for (let i = 0; i < 2; i++)
      await c.send(new GetFindingRecommendationCommand({ analyzerArn: US.arn, id: ID }));

    const first = await c.send(
      new GetFindingRecommendationCommand({ analyzerArn: US.arn, id: ID, maxResults: 1 }),
    );
    expect(first.recommendedSteps).toHaveLength(1);
    expect(first.nextToken).toBeDefined();
    const second = await c.send(
      new GetFindingRecommendationCommand({
        analyzerArn: US.arn,
        id: ID,
        maxResults: 1,
        nextToken: first.nextToken,
      }),
    );
    expect(second.recommendedSteps![0]!.unusedPermissionsRecommendedStep!.recommendedAction).toBe(
      'DETACH_POLICY',
    );
    // The gateway follows every page and gets the same steps as one big page.
    const all = await gateway().getFindingRecommendation(US, ID);
    expect(all!.steps[0]!.action).toBe('CREATE_POLICY');
    expect(all!.steps[1]!.action).toBe('DETACH_POLICY');
  });

  it('FAILS for an IAM Identity Center role, with an error code and message', async () => {
    const f = data.findings.get(ID)!;
    f.resource = f.resource.replace(
      /role\/.*$/,
      'role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_1a2b',
    );
    await client().send(new GenerateFindingRecommendationCommand({ analyzerArn: US.arn, id: ID }));
    const g = gateway();
    await g.getFindingRecommendation(US, ID);
    await g.getFindingRecommendation(US, ID);

    const rec = await g.getFindingRecommendation(US, ID);

    expect(rec).toMatchObject({
      status: 'FAILED',
      steps: [],
      error: { code: 'UNSUPPORTED_PRINCIPAL', message: expect.stringMatching(/Identity Center/) },
    });
  });

  it('refuses to generate for a finding that is not about unused permissions', async () => {
    await expect(
      client().send(
        new GenerateFindingRecommendationCommand({
          analyzerArn: DEMO_ANALYZERS.usUnused,
          id: DEMO_FINDING_IDS.unusedRoleNeverUsed,
        }),
      ),
    ).rejects.toBeInstanceOf(ValidationException);
  });
});

describe('sandbox finding recommendations put in the data', () => {
  const step = (arn: string) => ({
    unusedPermissionsRecommendedStep: { recommendedAction: 'DETACH_POLICY' as const, existingPolicyId: arn },
  });

  it('answers one AWS already has, with its dates and steps, paged with the sandbox tokens', async () => {
    data.recommendations = {
      [ID]: {
        current: {
          startedAt: '2026-11-28T10:00:00.000Z',
          completedAt: '2026-11-28T10:00:30.000Z',
          inProgressPolls: 0,
          status: 'SUCCEEDED',
          steps: ['P1', 'P2', 'P3'].map((p) => step(`arn:aws:iam::aws:policy/${p}`)),
          pageSize: 2,
        },
      },
    };
    const c = client();

    const first = await c.send(
      new GetFindingRecommendationCommand({ analyzerArn: US.arn, id: ID, maxResults: 100 }),
    );
    const second = await c.send(
      new GetFindingRecommendationCommand({ analyzerArn: US.arn, id: ID, nextToken: first.nextToken }),
    );

    expect(first).toMatchObject({
      status: 'SUCCEEDED',
      startedAt: new Date('2026-11-28T10:00:00.000Z'),
      completedAt: new Date('2026-11-28T10:00:30.000Z'),
      nextToken: 'p2',
    });
    expect(first.recommendedSteps!.map((s) => s.unusedPermissionsRecommendedStep!.existingPolicyId)).toEqual([
      'arn:aws:iam::aws:policy/P1',
      'arn:aws:iam::aws:policy/P2',
    ]);
    expect(second.recommendedSteps).toHaveLength(1);
    expect(second.nextToken).toBeUndefined();
    // Its own request checks still hold: maxResults out of range, a token it never gave.
    await expect(
      c.send(new GetFindingRecommendationCommand({ analyzerArn: US.arn, id: ID, maxResults: 0 })),
    ).rejects.toBeInstanceOf(ValidationException);
    await expect(
      c.send(new GetFindingRecommendationCommand({ analyzerArn: US.arn, id: ID, nextToken: 'page-2' })),
    ).rejects.toBeInstanceOf(ValidationException);
  });

  it('makes what the data says a Generate makes next: IN_PROGRESS polls, then FAILED with its error', async () => {
    data.recommendations = {
      [ID]: {
        onGenerate: {
          inProgressPolls: 1,
          status: 'FAILED',
          error: { code: 'SERVICE_ERROR', message: 'Try again later.' },
        },
      },
    };
    await client().send(new GenerateFindingRecommendationCommand({ analyzerArn: US.arn, id: ID }));
    const g = gateway();

    expect((await g.getFindingRecommendation(US, ID))?.status).toBe('IN_PROGRESS');
    expect(await g.getFindingRecommendation(US, ID)).toMatchObject({
      status: 'FAILED',
      error: { code: 'SERVICE_ERROR', message: 'Try again later.' },
    });
    // Asking again starts it anew from the same plan.
    await client().send(new GenerateFindingRecommendationCommand({ analyzerArn: US.arn, id: ID }));
    expect((await g.getFindingRecommendation(US, ID))?.status).toBe('IN_PROGRESS');
  });

  it('refuses a Generate with the fault the data gives, and keeps what it had', async () => {
    data.recommendations = {
      [ID]: {
        onGenerate: { fault: { status: 400, code: 'ValidationException', message: 'Not for this one.' } },
      },
    };

    await expect(
      client().send(new GenerateFindingRecommendationCommand({ analyzerArn: US.arn, id: ID })),
    ).rejects.toMatchObject({ name: 'ValidationException', message: 'Not for this one.' });
    await expect(
      client().send(new GetFindingRecommendationCommand({ analyzerArn: US.arn, id: ID })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('still refuses a recommendation put for a finding of another analyzer', async () => {
    data.recommendations = {
      [ID]: { current: { startedAt: NOW.toISOString(), inProgressPolls: 0, status: 'SUCCEEDED', steps: [] } },
    };
    await expect(
      client().send(new GetFindingRecommendationCommand({ analyzerArn: DEMO_ANALYZERS.usExternal, id: ID })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});
