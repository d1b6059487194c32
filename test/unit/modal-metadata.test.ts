// What a modal keeps in private_metadata stays within Slack's 3000 characters, and what Slack refuses
// about a view (too much metadata, a select without options) the Slack stand-in refuses too.
import { describe, expect, it } from 'vitest';
import { encodeFindingRef } from '../../blocks/ids.ts';
import { LIMITS, section } from '../../blocks/limits.ts';
import { archiveModal, formModal, parseArchiveMetadata, snoozeModal } from '../../blocks/modals.ts';
import { validatePolicyModal } from '../../blocks/policy.ts';
import { viewProblems } from '../../sandbox/block-kit-rules.ts';

const ANALYZER = 'arn:aws:access-analyzer:eu-west-1:111111111111:analyzer/org-external';
const NOW = new Date('2026-12-01T12:00:00Z');

/** The longest finding id a finding button can carry: its value is the id, analyzer and region. */
function longestButtonId(): string {
  const overhead = encodeFindingRef({ f: '', a: ANALYZER, r: 'eu-west-1' }).length;
  return 'x'.repeat(LIMITS.buttonValue - overhead);
}

describe('finding modals', () => {
  const meta = {
    f: longestButtonId(),
    a: ANALYZER,
    r: 'eu-west-1',
    c: 'C0PAY0001',
    t: '1700000001.000100',
  };

  it.each([
    ['archive', archiveModal({ meta, headline: 'S3 bucket', now: NOW })],
    ['snooze', snoozeModal({ meta, headline: 'S3 bucket' })],
  ])(
    'the %s modal keeps only the finding id and channel, within Slack’s limit, for the longest id a button carries',
    (_, view) => {
      expect(JSON.parse(view.private_metadata!)).toEqual({ f: meta.f, c: 'C0PAY0001' });
      expect(view.private_metadata!.length).toBeLessThanOrEqual(3000);
      expect(viewProblems(view, 'modal')).toEqual([]);
    },
  );

  it('refuses to build a form whose metadata Slack would refuse, rather than cutting an id', () => {
    const build = () =>
      formModal({
        callbackId: 'x',
        meta: { f: 'x'.repeat(3000) },
        title: 'X',
        submit: 'Go',
        blocks: [section('x')],
      });
    expect(build).toThrow('private_metadata is 3008 characters; Slack allows 3000');
  });

  it('reads the metadata of a modal opened before the upgrade (with analyzer, region and message) and of one opened after', () => {
    const before = JSON.stringify({ f: 'f-1', a: ANALYZER, r: 'eu-west-1', c: 'C0PAY0001', t: '1.2' });
    expect(parseArchiveMetadata(before)).toEqual({ f: 'f-1', c: 'C0PAY0001' });
    expect(parseArchiveMetadata(JSON.stringify({ f: 'f-1', c: 'C0PAY0001' }))).toEqual({
      f: 'f-1',
      c: 'C0PAY0001',
    });
    expect(parseArchiveMetadata(JSON.stringify({ f: 'f-1' }))).toEqual({ f: 'f-1' });
    expect(parseArchiveMetadata(JSON.stringify({ c: 'C0PAY0001' }))).toBeNull();
    expect(parseArchiveMetadata('null')).toBeNull();
    expect(parseArchiveMetadata('not json')).toBeNull();
  });
});

describe('the validate modal', () => {
  it('offers no public-access select when there are no resource types, and Slack accepts it', () => {
    const view = validatePolicyModal({ channel: 'C0PAY0001', resourceTypes: [] });
    expect(view.blocks.map((b) => b.block_id)).toEqual(['vp_document', 'vp_type']);
    expect(viewProblems(view, 'modal')).toEqual([]);
  });

  it('offers the resource types it is given', () => {
    const view = validatePolicyModal({ channel: 'C0PAY0001', resourceTypes: ['AWS::S3::Bucket'] });
    const select = view.blocks.find((b) => b.block_id === 'vp_resource_type');
    expect(select).toMatchObject({ element: { options: [{ value: 'AWS::S3::Bucket' }] } });
  });
});

describe('the Slack stand-in refuses views Slack refuses', () => {
  const modal = (over: Record<string, unknown>) => ({
    type: 'modal',
    title: { type: 'plain_text', text: 'X' },
    submit: { type: 'plain_text', text: 'Go' },
    blocks: [],
    ...over,
  });

  it('refuses private_metadata over 3000 characters', () => {
    expect(viewProblems(modal({ private_metadata: 'x'.repeat(3000) }))).toEqual([]);
    expect(viewProblems(modal({ private_metadata: 'x'.repeat(3001) }))).toEqual([
      'must be less than 3001 characters (got 3001) [json-pointer:/view/private_metadata]',
    ]);
  });

  it('refuses a static_select without options', () => {
    const select = (options: unknown[]) =>
      modal({
        blocks: [
          {
            type: 'input',
            label: { type: 'plain_text', text: 'Pick' },
            element: { type: 'static_select', action_id: 's', options },
          },
        ],
      });
    expect(viewProblems(select([{ text: { type: 'plain_text', text: 'a' }, value: 'a' }]))).toEqual([]);
    expect(viewProblems(select([]))).toEqual([
      'must contain at least 1 items [json-pointer:/view/blocks/0/element/options]',
    ]);
  });
});
