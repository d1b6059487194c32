import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { createAnalyzerGateway } from '../../src/aws/analyzer.ts';
import { createAwsClients } from '../../src/aws/clients.ts';
import { AwsError } from '../../src/aws/errors.ts';
import type { AnalyzerInfo } from '../../src/findings/model.ts';
import {
  ANALYZER_ARN,
  analyzerSummary,
  CALLER_ACCOUNT,
  externalAccessDetail,
  FAKE_CREDENTIALS,
  findingSummaryV2,
  getFindingV2Output,
  REGION,
  restJsonError,
} from '../factories/aws.ts';

const HOST = `https://access-analyzer.${REGION}.amazonaws.com`;
const analyzer: AnalyzerInfo = {
  arn: ANALYZER_ARN,
  name: 'org-external',
  type: 'ORGANIZATION',
  kind: 'external',
  region: REGION,
  status: 'ACTIVE',
};

const gateway = (maxAttempts = 1) =>
  createAnalyzerGateway(createAwsClients({ credentials: FAKE_CREDENTIALS, maxAttempts }));

describe('AnalyzerGateway.listAnalyzers', () => {
  it('follows nextToken over every page and maps kind, status reason and managedBy', async () => {
    const queries: Record<string, string>[] = [];
    const scope = nock(HOST)
      .get('/analyzer')
      .query((q) => {
        queries.push(q as Record<string, string>);
        return q.nextToken === undefined;
      })
      .reply(200, {
        analyzers: [
          analyzerSummary(),
          analyzerSummary({
            name: 'unused-90d',
            type: 'ORGANIZATION_UNUSED_ACCESS',
            status: 'FAILED',
            statusReason: { code: 'SERVICE_LINKED_ROLE_CREATION_FAILED' },
          }),
        ],
        nextToken: 'tok-2',
      })
      .get('/analyzer')
      .query({ nextToken: 'tok-2' })
      .reply(200, {
        analyzers: [
          analyzerSummary({
            name: '_AccessAnalyzerForSecurityHub-abc',
            type: 'ACCOUNT_INTERNAL_ACCESS',
            managedBy: 'securityhubv2.amazonaws.com',
          }),
        ],
      });

    const analyzers = await gateway().listAnalyzers(REGION);

    expect(scope.isDone()).toBe(true);
    expect(queries[0]).toEqual({});
    expect(analyzers).toEqual([
      {
        arn: `arn:aws:access-analyzer:${REGION}:${CALLER_ACCOUNT}:analyzer/org-external`,
        name: 'org-external',
        type: 'ORGANIZATION',
        kind: 'external',
        region: REGION,
        status: 'ACTIVE',
      },
      {
        arn: `arn:aws:access-analyzer:${REGION}:${CALLER_ACCOUNT}:analyzer/unused-90d`,
        name: 'unused-90d',
        type: 'ORGANIZATION_UNUSED_ACCESS',
        kind: 'unused',
        region: REGION,
        status: 'FAILED',
        statusReason: 'SERVICE_LINKED_ROLE_CREATION_FAILED',
      },
      {
        arn: `arn:aws:access-analyzer:${REGION}:${CALLER_ACCOUNT}:analyzer/_AccessAnalyzerForSecurityHub-abc`,
        name: '_AccessAnalyzerForSecurityHub-abc',
        type: 'ACCOUNT_INTERNAL_ACCESS',
        kind: 'internal',
        region: REGION,
        status: 'ACTIVE',
        managedBy: 'securityhubv2.amazonaws.com',
      },
    ]);
  });

  it('turns AccessDeniedException into an access-denied AwsError naming the operation', async () => {
    nock(HOST)
      .get('/analyzer')
      .reply(...restJsonError(403, 'AccessDeniedException', 'not authorized: access-analyzer:ListAnalyzers'));

    const err = await gateway()
      .listAnalyzers(REGION)
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AwsError);
    expect(err).toMatchObject({
      kind: 'access-denied',
      operation: 'AccessAnalyzer.ListAnalyzers',
      code: 'AccessDeniedException',
    });
  });
});

describe('AnalyzerGateway.activeFindingPages', () => {
  it('requests each page only when the previous one has been consumed (3 pages, 3 requests)', async () => {
    const bodies: unknown[] = [];
    const page = (n: number, nextToken?: string) => ({
      findings: [findingSummaryV2({ id: `f-${n}a` }), findingSummaryV2({ id: `f-${n}b` })],
      ...(nextToken ? { nextToken } : {}),
    });
    const tokens = [undefined, 'tok-2', 'tok-3'];
    const scope = nock(HOST);
    tokens.forEach((token, i) => {
      scope
        .post('/findingv2', (body: { nextToken?: string }) => body.nextToken === token)
        .reply(200, (_uri, body) => {
          bodies.push(body);
          return page(i + 1, tokens[i + 1]);
        });
    });

    const it = gateway().activeFindingPages(analyzer, 2)[Symbol.asyncIterator]();
    expect(bodies).toHaveLength(0);

    const first = await it.next();
    expect(first.done).toBe(false);
    expect(first.value?.map((f: { id: string }) => f.id)).toEqual(['f-1a', 'f-1b']);
    expect(bodies).toHaveLength(1);
    // No prefetch: nothing more is requested while the consumer works on the first page.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(bodies).toHaveLength(1);

    const second = await it.next();
    expect(second.value?.map((f: { id: string }) => f.id)).toEqual(['f-2a', 'f-2b']);
    expect(bodies).toHaveLength(2);

    const third = await it.next();
    expect(third.value?.map((f: { id: string }) => f.id)).toEqual(['f-3a', 'f-3b']);
    expect((await it.next()).done).toBe(true);

    expect(scope.isDone()).toBe(true);
    expect(bodies).toEqual([
      { analyzerArn: ANALYZER_ARN, filter: { status: { eq: ['ACTIVE'] } }, maxResults: 2 },
      {
        analyzerArn: ANALYZER_ARN,
        filter: { status: { eq: ['ACTIVE'] } },
        maxResults: 2,
        nextToken: 'tok-2',
      },
      {
        analyzerArn: ANALYZER_ARN,
        filter: { status: { eq: ['ACTIVE'] } },
        maxResults: 2,
        nextToken: 'tok-3',
      },
    ]);
  });

  it('yields normalized summaries tagged with the analyzer', async () => {
    nock(HOST)
      .post('/findingv2')
      .reply(200, { findings: [findingSummaryV2({ id: 'f-x', findingType: undefined })] });

    const pages = [];
    for await (const p of gateway().activeFindingPages(analyzer, 100)) pages.push(p);

    expect(pages).toEqual([
      [
        expect.objectContaining({
          id: 'f-x',
          analyzerArn: ANALYZER_ARN,
          region: REGION,
          findingType: 'ExternalAccess',
          createdAt: '2025-01-02T03:04:05.000Z',
        }),
      ],
    ]);
  });

  it('skips a finding of a type this version does not know, reports it, and keeps the rest', async () => {
    nock(HOST)
      .post('/findingv2')
      .reply(200, {
        findings: [
          findingSummaryV2({ id: 'f-future', findingType: 'SomeFutureFindingType' as never }),
          findingSummaryV2({ id: 'f-ok' }),
        ],
      });
    const skipped: string[] = [];
    const gw = createAnalyzerGateway(createAwsClients({ credentials: FAKE_CREDENTIALS, maxAttempts: 1 }), {
      onUnsupported: (id, arn, reason) => skipped.push(`${id} ${arn} ${reason}`),
    });

    const pages = [];
    for await (const p of gw.activeFindingPages(analyzer, 100)) pages.push(p);

    expect(pages.map((p) => p.map((f) => f.id))).toEqual([['f-ok']]);
    expect(skipped).toEqual([
      expect.stringMatching(/^f-future .*analyzer\/org-external .*SomeFutureFindingType/),
    ]);
  });

  it('waits out a 429 with Retry-After: 1 and completes with two requests', async () => {
    const scope = nock(HOST)
      .post('/findingv2')
      .reply(...restJsonError(429, 'ThrottlingException', 'Rate exceeded', { 'Retry-After': '1' }))
      .post('/findingv2')
      .reply(200, { findings: [findingSummaryV2({ id: 'f-after-throttle' })] });

    const started = Date.now();
    const pages = [];
    for await (const p of gateway(3).activeFindingPages(analyzer, 100)) pages.push(p);
    const elapsed = Date.now() - started;

    expect(scope.isDone()).toBe(true);
    expect(pages.flat().map((f) => f.id)).toEqual(['f-after-throttle']);
    // The SDK's standard retry treats Retry-After as a lower bound on its backoff.
    expect(elapsed).toBeGreaterThanOrEqual(950);
  });

  it('gives up with a throttled AwsError carrying retryAfterSeconds once attempts run out', async () => {
    nock(HOST)
      .post('/findingv2')
      .reply(...restJsonError(429, 'ThrottlingException', 'Rate exceeded', { 'Retry-After': '7' }));

    const err = await (async () => {
      for await (const _ of gateway(1).activeFindingPages(analyzer, 100)) {
        /* drain */
      }
    })().catch((e: unknown) => e);

    expect(err).toMatchObject({
      kind: 'throttled',
      operation: 'AccessAnalyzer.ListFindingsV2',
      code: 'ThrottlingException',
      retryAfterSeconds: 7,
    });
  });
});

describe('AnalyzerGateway.getFinding', () => {
  it('follows nextToken over the detail pages and joins them', async () => {
    const queries: Record<string, string>[] = [];
    const first = getFindingV2Output({
      id: 'f-1',
      nextToken: 'details-2',
      findingDetails: [externalAccessDetail({ principal: { AWS: '111111111111' } })],
    });
    const scope = nock(HOST)
      .get('/findingv2/f-1')
      .query((q) => {
        queries.push(q as Record<string, string>);
        return q.nextToken === undefined;
      })
      .reply(200, first)
      .get('/findingv2/f-1')
      .query((q) => {
        queries.push(q as Record<string, string>);
        return q.nextToken === 'details-2';
      })
      .reply(200, {
        ...first,
        nextToken: undefined,
        findingDetails: [externalAccessDetail({ principal: { AWS: '*' }, isPublic: true })],
      });

    const finding = await gateway().getFinding(analyzer, 'f-1');

    expect(scope.isDone()).toBe(true);
    expect(queries).toEqual([
      { analyzerArn: ANALYZER_ARN },
      { analyzerArn: ANALYZER_ARN, nextToken: 'details-2' },
    ]);
    expect(finding?.details).toMatchObject({
      kind: 'externalAccess',
      isPublic: true,
      grants: [{ principal: { AWS: '111111111111' } }, { principal: { AWS: '*' } }],
    });
  });

  it('returns null when AWS no longer has the finding', async () => {
    nock(HOST)
      .get('/findingv2/f-gone')
      .query(true)
      .reply(...restJsonError(404, 'ResourceNotFoundException', 'Finding f-gone not found'));

    expect(await gateway().getFinding(analyzer, 'f-gone')).toBeNull();
  });

  it('throws access-denied AwsError when the caller may not read findings', async () => {
    nock(HOST)
      .get('/findingv2/f-1')
      .query(true)
      .reply(...restJsonError(403, 'AccessDeniedException', 'not authorized: access-analyzer:GetFinding'));

    await expect(gateway().getFinding(analyzer, 'f-1')).rejects.toMatchObject({
      name: 'AwsError',
      kind: 'access-denied',
      operation: 'AccessAnalyzer.GetFindingV2',
    });
  });
});
