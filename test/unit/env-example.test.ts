// .env.example, docs/configuration.md and the README name the environment the bot actually reads:
// every variable src/config/env.ts reads, and the endpoint variable the AWS SDK reads for each AWS
// client the bot depends on (none missing, none stale).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENV_VARS } from '../../src/config/env.ts';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const EXAMPLE = read('.env.example');
const DOCS = read('docs/configuration.md');
const README = read('README.md');
const PACKAGE = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };

/** A line of .env.example that sets the variable, or shows it commented out (`# NAME=value`). */
const exampleLine = (name: string) => new RegExp(`^(# )?${name}=`, 'm').test(EXAMPLE);
const inCode = (text: string, name: string) => text.includes(`\`${name}\``);

/**
 * The variable the SDK reads for a client's endpoint: AWS_ENDPOINT_URL_ and the service id in upper
 * case, spaces as underscores (@smithy/core's getEndpointUrlConfig).
 */
const endpointVariable = (serviceId: string) =>
  ['AWS_ENDPOINT_URL', ...serviceId.split(' ').map((w) => w.toUpperCase())].join('_');

/** The service id of every AWS SDK client the bot depends on, as the client itself reports it. */
async function awsServiceIds(): Promise<string[]> {
  const ids: string[] = [];
  for (const pkg of Object.keys(PACKAGE.dependencies).filter((n) => n.startsWith('@aws-sdk/client-'))) {
    const mod = (await import(pkg)) as Record<string, unknown>;
    const clients = Object.entries(mod).filter(
      ([name, v]) =>
        /^[A-Z][A-Za-z0-9]*Client$/.test(name) &&
        typeof v === 'function' &&
        typeof (v as { prototype?: { send?: unknown } }).prototype?.send === 'function',
    );
    expect(clients, `${pkg} exports one client`).toHaveLength(1);
    const Client = clients[0]![1] as new (c: object) => { config: { serviceId: string }; destroy(): void };
    const client = new Client({ region: 'us-east-1' });
    ids.push(client.config.serviceId);
    client.destroy();
  }
  return ids;
}

describe('the documented environment', () => {
  it('lists every variable the bot reads in .env.example and docs/configuration.md', () => {
    expect(ENV_VARS.filter((name) => !exampleLine(name))).toEqual([]);
    expect(ENV_VARS.filter((name) => !inCode(DOCS, name))).toEqual([]);
    expect(EXAMPLE).toContain('AWS_DEFAULT_REGION');
    expect(inCode(DOCS, 'AWS_DEFAULT_REGION')).toBe(true);
  });

  it('names the endpoint variable of every AWS client the bot uses, in .env.example, the docs and the README', async () => {
    const ids = await awsServiceIds();
    expect(ids).toEqual(expect.arrayContaining(['S3', 'S3 Control']));
    const wanted = ids.map(endpointVariable);
    expect(wanted).toEqual(expect.arrayContaining(['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_S3_CONTROL']));
    expect(
      wanted.filter((name) => !exampleLine(name)),
      '.env.example',
    ).toEqual([]);
    expect(
      wanted.filter((name) => !inCode(DOCS, name)),
      'docs/configuration.md',
    ).toEqual([]);
    expect(
      wanted.filter((name) => !inCode(README, name)),
      'README.md',
    ).toEqual([]);

    // And no endpoint variable of a service the bot does not call.
    const named = (text: string) => new Set(text.match(/AWS_ENDPOINT_URL_[A-Z0-9_]+/g) ?? []);
    for (const [file, text] of [
      ['.env.example', EXAMPLE],
      ['docs/configuration.md', DOCS],
      ['README.md', README],
    ] as const) {
      expect(
        [...named(text)].filter((name) => !wanted.includes(name)),
        file,
      ).toEqual([]);
    }
  });
});
