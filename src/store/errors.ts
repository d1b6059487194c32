// Recognising a Redis outage, so people are told "the bot's Redis is not answering" instead of an
// ioredis internal ("Reached the max retries per request limit (which is 3)…").

/** How an outage is told to people, after "could not …: ". */
export const REDIS_UNAVAILABLE = "the bot's Redis is not answering";

const OUTAGE_MESSAGES = [
  /max retries per request/i,
  /^Connection is closed\.?$/,
  /enableOfflineQueue/,
  /\bECONNREFUSED\b|\bECONNRESET\b|\bETIMEDOUT\b|\bEHOSTUNREACH\b|\bENOTFOUND\b|\bEPIPE\b/,
  /^(LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN)\b/,
];

/**
 * True for errors that mean Redis could not be reached or could not answer now (not a bug in a
 * command): ioredis's retry limit and closed or offline connection, socket errors, a server loading.
 */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'MaxRetriesPerRequestError') return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && OUTAGE_MESSAGES[3]!.test(code)) return true;
  return OUTAGE_MESSAGES.some((re) => re.test(err.message));
}
