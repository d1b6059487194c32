// What the sandbox's HTTP servers share: an answer with its length stated, as the real services send it.
import type { ServerResponse } from 'node:http';

export function reply(
  res: ServerResponse,
  status: number,
  contentType: string,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
