// GenerateFindingRecommendation and GetFindingRecommendation behind nock, with scripted answers:
// `answers` are what successive first-page GETs return (the last one repeats; none = 404), `pages`
// the further pages by nextToken. Records every request with its path, query and body.
import nock from 'nock';

export interface RecommendationAnswer {
  status: 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';
  startedAt?: string;
  completedAt?: string;
  resourceArn?: string;
  error?: { code: string; message: string };
  recommendedSteps?: { unusedPermissionsRecommendedStep: Record<string, unknown> }[];
  nextToken?: string;
}

export interface FakeRecommendations {
  requests: {
    op: 'GenerateFindingRecommendation' | 'GetFindingRecommendation';
    id: string;
    analyzerArn: string | null;
    nextToken?: string;
    maxResults?: string;
    body: string;
  }[];
  answers: RecommendationAnswer[];
  pages: Record<string, Pick<RecommendationAnswer, 'recommendedSteps' | 'nextToken'>>;
  /** What `answers` become when GenerateFindingRecommendation is called (when not empty). */
  afterGenerate: RecommendationAnswer[];
  /** Error code to answer GenerateFindingRecommendation with (e.g. ValidationException). */
  generateError?: string;
  ops(): string[];
}

export function fakeRecommendations(region: string): FakeRecommendations {
  const host = `https://access-analyzer.${region}.amazonaws.com`;
  const fake: FakeRecommendations = {
    requests: [],
    answers: [],
    afterGenerate: [],
    pages: {},
    ops: () => fake.requests.map((r) => r.op),
  };
  const idOf = (uri: string) => decodeURIComponent(new URL(uri, host).pathname.split('/')[2]!);
  nock(host)
    .persist()
    .post(/^\/recommendation\/[^/?]+/)
    .query(true)
    .reply((uri, body) => {
      const url = new URL(uri, host);
      fake.requests.push({
        op: 'GenerateFindingRecommendation',
        id: idOf(uri),
        analyzerArn: url.searchParams.get('analyzerArn'),
        body: typeof body === 'string' ? body : JSON.stringify(body ?? ''),
      });
      if (fake.generateError) {
        return [400, { message: `${fake.generateError} (fake)` }, { 'x-amzn-errortype': fake.generateError }];
      }
      if (fake.afterGenerate.length > 0) fake.answers = [...fake.afterGenerate];
      return [200, ''];
    });
  nock(host)
    .persist()
    .get(/^\/recommendation\/[^/?]+/)
    .query(true)
    .reply((uri) => {
      const url = new URL(uri, host);
      const nextToken = url.searchParams.get('nextToken') ?? undefined;
      fake.requests.push({
        op: 'GetFindingRecommendation',
        id: idOf(uri),
        analyzerArn: url.searchParams.get('analyzerArn'),
        maxResults: url.searchParams.get('maxResults') ?? undefined,
        body: '',
        ...(nextToken ? { nextToken } : {}),
      });
      const current = fake.answers[0];
      if (!current) {
        return [404, { message: 'not found (fake)' }, { 'x-amzn-errortype': 'ResourceNotFoundException' }];
      }
      const base = {
        startedAt: '2025-02-10T09:00:00Z',
        resourceArn: 'arn:aws:iam::222222222222:role/app-backend',
        recommendationType: 'UnusedPermissionRecommendation',
        ...current,
      };
      if (nextToken) {
        const page = fake.pages[nextToken];
        if (!page) return [400, { message: 'bad token' }, { 'x-amzn-errortype': 'ValidationException' }];
        return [200, { ...base, recommendedSteps: page.recommendedSteps ?? [], nextToken: page.nextToken }];
      }
      if (fake.answers.length > 1) fake.answers.shift();
      return [200, base];
    });
  return fake;
}
