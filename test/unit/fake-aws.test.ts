// The nock Access Analyzer answers from the sandbox's own Access Analyzer: what the real service
// refuses, it refuses too, and what a call changes shows in the test's findings.
import {
  AccessAnalyzerClient,
  GetFindingV2Command,
  ListAnalyzersCommand,
  ListFindingsV2Command,
  UpdateFindingsCommand,
} from '@aws-sdk/client-accessanalyzer';
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { CALLER_ACCOUNT, FAKE_CREDENTIALS } from '../factories/aws.ts';
import { crossAccountFinding, type FakeAws, fakeAccessAnalyzer } from '../helpers/fake-aws.ts';

const REGION = 'eu-west-1';
const ANALYZER = `arn:aws:access-analyzer:${REGION}:${CALLER_ACCOUNT}:analyzer/org-external`;

const client = () =>
  new AccessAnalyzerClient({ region: REGION, credentials: FAKE_CREDENTIALS, maxAttempts: 1 });

function withFindings(n: number): FakeAws {
  const aws = fakeAccessAnalyzer({ [REGION]: {} });
  const list = aws.regions.get(REGION)!.findings.get(ANALYZER)!;
  for (let i = 1; i <= n; i++)
    list.push(crossAccountFinding(`f-${i}`, `arn:aws:s3:::bucket-${i}`, '222222222222'));
  return aws;
}

afterEach(() => {
  nock.cleanAll();
});

describe('fake-aws (nock) over the sandbox Access Analyzer', () => {
  it('pages ListFindingsV2 with the sandbox tokens and lists only ACTIVE findings', async () => {
    const aws = withFindings(3);
    aws.regions.get(REGION)!.findings.get(ANALYZER)![1]!.summary.status = 'ARCHIVED';
    const c = client();
    const ids: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await c.send(
        new ListFindingsV2Command({
          analyzerArn: ANALYZER,
          maxResults: 1,
          filter: { status: { eq: ['ACTIVE'] } },
          nextToken,
        }),
      );
      ids.push(...(page.findings ?? []).map((f) => f.id!));
      nextToken = page.nextToken;
    } while (nextToken);
    expect(ids).toEqual(['f-1', 'f-3']);
    expect(aws.count('ListFindingsV2')).toBe(2);
  });

  it('refuses an analyzer it does not have, and a status UpdateFindings does not take', async () => {
    withFindings(1);
    const c = client();
    const other = `arn:aws:access-analyzer:${REGION}:${CALLER_ACCOUNT}:analyzer/nobody`;
    await expect(c.send(new GetFindingV2Command({ analyzerArn: other, id: 'f-1' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    await expect(
      c.send(new UpdateFindingsCommand({ analyzerArn: ANALYZER, ids: ['f-1'], status: 'RESOLVED' as never })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(
      c.send(new UpdateFindingsCommand({ analyzerArn: ANALYZER, ids: ['f-404'], status: 'ARCHIVED' })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it("writes an archive back to the test's finding and records it", async () => {
    const aws = withFindings(1);
    await client().send(
      new UpdateFindingsCommand({ analyzerArn: ANALYZER, ids: ['f-1'], status: 'ARCHIVED' }),
    );
    expect(aws.regions.get(REGION)!.findings.get(ANALYZER)![0]!.summary.status).toBe('ARCHIVED');
    expect(aws.requests).toEqual([{ op: 'UpdateFindings', region: REGION, id: 'f-1=ARCHIVED' }]);
  });

  it('throttles the next listing with Retry-After, and denies ListAnalyzers where told', async () => {
    const aws = withFindings(1);
    aws.throttleList(REGION, 1);
    const c = client();
    await expect(c.send(new ListFindingsV2Command({ analyzerArn: ANALYZER }))).rejects.toMatchObject({
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 429 },
    });
    expect((await c.send(new ListFindingsV2Command({ analyzerArn: ANALYZER }))).findings).toHaveLength(1);
    aws.regions.get(REGION)!.listAnalyzersError = 'AccessDeniedException';
    await expect(c.send(new ListAnalyzersCommand({}))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
  });
});
