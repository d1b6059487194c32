import { describe, expect, it } from 'vitest';
import type { FindingDetails, FindingType } from '../../src/findings/model.ts';
import { assessSeverity } from '../../src/findings/severity.ts';

const cases: [string, FindingType, FindingDetails][] = [
  ['public external access', 'ExternalAccess', { kind: 'externalAccess', isPublic: true, grants: [] }],
  [
    'cross-account external access',
    'ExternalAccess',
    { kind: 'externalAccess', isPublic: false, grants: [] },
  ],
  ['internal access', 'InternalAccess', { kind: 'internalAccess', grants: [] }],
  ['unused role', 'UnusedIAMRole', { kind: 'unusedRole' }],
  ['unused access key', 'UnusedIAMUserAccessKey', { kind: 'unusedAccessKey', accessKeyId: 'AKIA1' }],
  ['unused permission', 'UnusedPermission', { kind: 'unusedPermission', services: [] }],
];

describe('assessSeverity', () => {
  it('orders public > cross-account > internal > unused role > unused credential > unused permission', () => {
    const ranks = cases.map(([, findingType, details]) => assessSeverity({ findingType, details }).rank);
    expect([...ranks].sort((a, b) => a - b)).toEqual(ranks);
    expect(new Set(ranks).size).toBe(ranks.length);
  });

  it('labels a public bucket critical and an unused permission low by default', () => {
    expect(assessSeverity({ findingType: 'ExternalAccess', details: cases[0]![2] }).severity).toBe(
      'critical',
    );
    expect(assessSeverity({ findingType: 'UnusedPermission', details: cases[5]![2] }).severity).toBe('low');
  });

  it('applies a config override to its category only', () => {
    const unusedRole = assessSeverity(
      { findingType: 'UnusedIAMRole', details: { kind: 'unusedRole' } },
      { 'unused-role': 'high' },
    );
    expect(unusedRole).toMatchObject({ category: 'unused-role', severity: 'high' });
    const internal = assessSeverity(
      { findingType: 'InternalAccess', details: { kind: 'internalAccess', grants: [] } },
      { 'unused-role': 'high' },
    );
    expect(internal.severity).toBe('medium');
    expect(unusedRole.rank).toBeLessThan(internal.rank);
  });
});
