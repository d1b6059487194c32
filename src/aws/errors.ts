// AWS failures mapped to the few kinds the bot acts on. Everything outside src/aws sees only AwsError.

export type AwsErrorKind =
  | 'not-found'
  | 'access-denied'
  | 'throttled'
  | 'invalid'
  | 'conflict'
  | 'quota'
  | 'unavailable';

export class AwsError extends Error {
  override readonly name = 'AwsError';
  constructor(
    readonly kind: AwsErrorKind,
    /** e.g. `AccessAnalyzer.ListFindingsV2` */
    readonly operation: string,
    /** The AWS error code, e.g. AccessDeniedException. */
    readonly code: string,
    message: string,
    /** Seconds AWS asked us to wait, when it said. */
    readonly retryAfterSeconds?: number,
  ) {
    super(`${operation}: ${code}: ${message}`);
  }
}

const KIND_BY_CODE: Record<string, AwsErrorKind> = {
  ResourceNotFoundException: 'not-found',
  NoSuchEntity: 'not-found',
  NoSuchEntityException: 'not-found',
  AccessDeniedException: 'access-denied',
  AccessDenied: 'access-denied',
  UnauthorizedOperation: 'access-denied',
  ThrottlingException: 'throttled',
  Throttling: 'throttled',
  TooManyRequestsException: 'throttled',
  ThrottledException: 'throttled', // Resource Groups Tagging API
  RequestLimitExceeded: 'throttled',
  ExpiredToken: 'access-denied',
  ExpiredTokenException: 'access-denied',
  InvalidClientTokenId: 'access-denied',
  PaginationTokenExpiredException: 'invalid',
  ValidationException: 'invalid',
  InvalidParameterException: 'invalid',
  InvalidInputException: 'invalid',
  ConflictException: 'conflict',
  DeleteConflict: 'conflict',
  DeleteConflictException: 'conflict',
  ConcurrentModification: 'conflict',
  ConcurrentModificationException: 'conflict',
  ServiceQuotaExceededException: 'quota',
  LimitExceededException: 'quota',
  // IAM (awsQuery): the wire code and the SDK's exception name.
  LimitExceeded: 'quota',
  EntityTemporarilyUnmodifiable: 'conflict',
  EntityTemporarilyUnmodifiableException: 'conflict',
  EntityAlreadyExists: 'conflict',
  EntityAlreadyExistsException: 'conflict',
  UnmodifiableEntity: 'invalid',
  // S3 (REST XML) and IAM answers the one-click fixes meet.
  NoSuchBucket: 'not-found',
  NoSuchPublicAccessBlockConfiguration: 'not-found',
  PasswordPolicyViolation: 'invalid',
  PasswordPolicyViolationException: 'invalid',
  UnmodifiableEntityException: 'invalid',
  MalformedPolicyDocument: 'invalid',
  MalformedPolicyDocumentException: 'invalid',
  PolicyNotAttachable: 'invalid',
  PolicyNotAttachableException: 'invalid',
  InvalidInput: 'invalid',
  ValidationError: 'invalid',
  ServiceFailure: 'unavailable',
  ServiceFailureException: 'unavailable',
};

/** Maps an SDK error (or anything thrown) to an AwsError; leaves AwsError untouched. */
export function toAwsError(err: unknown, operation: string): AwsError {
  if (err instanceof AwsError) return err;
  const e = (err ?? {}) as {
    name?: string;
    message?: string;
    retryAfterSeconds?: number;
    $metadata?: { httpStatusCode?: number };
  };
  const code = e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const kind =
    KIND_BY_CODE[code] ??
    (status === 403
      ? 'access-denied'
      : status === 404
        ? 'not-found'
        : status === 429
          ? 'throttled'
          : 'unavailable');
  return new AwsError(kind, operation, code, e.message ?? String(err), e.retryAfterSeconds);
}
