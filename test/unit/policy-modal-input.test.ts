// The checks of the Generate policy and Validate policy modals' values.
import { describe, expect, it } from 'vitest';
import { GENERATE_POLICY_MODAL as M, VALIDATE_POLICY_MODAL as V } from '../../blocks/policy.ts';
import { validateGeneratePolicyInput } from '../../src/slack/views/generate-policy-submit.ts';
import { validateValidatePolicyInput } from '../../src/slack/views/validate-policy-submit.ts';

const TRAIL = 'arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail';
const gp = (v: { selected?: string; typed?: string; days?: string; regions?: string }) =>
  ({
    [M.trailSelectBlock]: {
      [M.trailSelectAction]: {
        type: 'static_select',
        selected_option: v.selected ? { value: v.selected } : null,
      },
    },
    [M.trailTextBlock]: { [M.trailTextAction]: { type: 'plain_text_input', value: v.typed ?? null } },
    [M.daysBlock]: { [M.daysAction]: { type: 'number_input', value: v.days ?? '30' } },
    [M.regionsBlock]: { [M.regionsAction]: { type: 'plain_text_input', value: v.regions ?? 'all' } },
  }) as never;

describe('Generate policy modal input', () => {
  it.each([
    [{ selected: '0' }, [TRAIL], { ok: true, input: { trailArn: TRAIL, days: 30, regions: 'all' } }],
    [
      { selected: '0', typed: `${TRAIL}2` },
      [TRAIL],
      { ok: true, input: { trailArn: `${TRAIL}2`, days: 30, regions: 'all' } },
    ],
    [
      { days: '7', regions: 'EU-WEST-1,eu-west-1' },
      [TRAIL],
      { ok: true, input: { days: 7, regions: ['eu-west-1'] } },
    ],
    [
      { selected: '3' },
      [TRAIL],
      { ok: false, errors: { [M.trailSelectBlock]: 'That trail is no longer configured; pick one again.' } },
    ],
    [
      {},
      [],
      { ok: false, errors: { [M.trailTextBlock]: 'Name the trail to read (no trail is configured).' } },
    ],
    [
      { selected: '0', days: '0' },
      [TRAIL],
      { ok: false, errors: { [M.daysBlock]: 'A whole number of days from 1 to 90.' } },
    ],
    [
      { selected: '0', days: '2.5' },
      [TRAIL],
      { ok: false, errors: { [M.daysBlock]: 'A whole number of days from 1 to 90.' } },
    ],
  ])('%j with trails %j → %j', (values, trails, expected) => {
    expect(validateGeneratePolicyInput(gp(values), trails)).toEqual(expected);
  });
});

describe('Validate policy modal input', () => {
  const vp = (document: string, type = 'IDENTITY_POLICY', resource?: string) =>
    ({
      [V.documentBlock]: { [V.documentAction]: { type: 'plain_text_input', value: document } },
      [V.typeBlock]: { [V.typeAction]: { type: 'static_select', selected_option: { value: type } } },
      [V.resourceBlock]: {
        [V.resourceAction]: { type: 'static_select', selected_option: resource ? { value: resource } : null },
      },
    }) as never;

  it('accepts a JSON object with a type and an optional public-access resource type', () => {
    expect(
      validateValidatePolicyInput(vp(' {"Version":"2012-10-17"} ', 'RESOURCE_POLICY', 'AWS::KMS::Key')),
    ).toEqual({
      ok: true,
      input: {
        document: '{"Version":"2012-10-17"}',
        policyType: 'RESOURCE_POLICY',
        resourceType: 'AWS::KMS::Key',
      },
    });
  });

  it.each([
    ['', 'Paste the policy document.'],
    ['[1]', 'A policy is a JSON object: { "Version": …, "Statement": … }.'],
  ])('refuses %j on the document field', (document, error) => {
    expect(validateValidatePolicyInput(vp(document))).toEqual({
      ok: false,
      errors: { [V.documentBlock]: error },
    });
  });

  it('names where the JSON breaks, and refuses an unknown resource type', () => {
    const out = validateValidatePolicyInput(vp('{"Statement": [}', 'IDENTITY_POLICY', 'AWS::EC2::Instance'));
    expect(out).toEqual({
      ok: false,
      errors: {
        [V.documentBlock]: expect.stringMatching(/^Not valid JSON: Unexpected token/),
        [V.resourceBlock]: 'Pick a resource type from the list.',
      },
    });
  });
});
