// Severity is derived from what kind of exposure a finding is; config may override it per category.
import type { AppConfig } from '../config/schema.ts';
import {
  type Finding,
  SEVERITIES,
  SEVERITY_CATEGORIES,
  type Severity,
  type SeverityCategory,
} from './model.ts';

export const DEFAULT_SEVERITY: Record<SeverityCategory, Severity> = {
  'public-access': 'critical',
  'cross-account-access': 'high',
  'internal-access': 'medium',
  'unused-role': 'medium',
  'unused-credential': 'low',
  'unused-permission': 'low',
};

export function severityCategory(finding: Pick<Finding, 'findingType' | 'details'>): SeverityCategory {
  switch (finding.details.kind) {
    case 'externalAccess':
      return finding.details.isPublic ? 'public-access' : 'cross-account-access';
    case 'internalAccess':
      return 'internal-access';
    case 'unusedRole':
      return 'unused-role';
    case 'unusedAccessKey':
    case 'unusedPassword':
      return 'unused-credential';
    case 'unusedPermission':
      return 'unused-permission';
  }
}

export interface Assessed {
  category: SeverityCategory;
  severity: Severity;
  /** Lower is worse; orders findings first by severity, then by category. */
  rank: number;
}

export function assessSeverity(
  finding: Pick<Finding, 'findingType' | 'details'>,
  overrides: AppConfig['severity']['overrides'] = {},
): Assessed {
  const category = severityCategory(finding);
  const severity = overrides[category] ?? DEFAULT_SEVERITY[category];
  return {
    category,
    severity,
    rank: SEVERITIES.indexOf(severity) * SEVERITY_CATEGORIES.length + SEVERITY_CATEGORIES.indexOf(category),
  };
}
