// Queue and job names: the one list of them. src/queue/registry.ts says which queue each job runs
// on, what it carries and how its id is made.
export const QUEUES = { scan: 'scan', deliver: 'deliver', actions: 'actions' } as const;

export const JOBS = {
  scanRun: 'scan-run',
  scanAnalyzer: 'scan-analyzer',
  scanFinalize: 'scan-finalize',
  deliverChannel: 'deliver-channel',
  archive: 'archive',
  unarchive: 'unarchive',
  rescan: 'rescan',
  rescanCheck: 'rescan-check',
  archiveExpiry: 'archive-expiry',
  deleteRolePreview: 'delete-role-preview',
  deleteRole: 'delete-role',
  restoreRole: 'restore-role',
  owners: 'owners',
  agingSweep: 'aging-sweep',
  snooze: 'snooze',
  unsnooze: 'unsnooze',
  snoozeEnd: 'snooze-end',
  recommend: 'recommend',
  recommendPoll: 'recommend-poll',
  digestRun: 'digest-run',
  policyRequest: 'policy-request',
  policyStart: 'policy-start',
  policyPoll: 'policy-poll',
  policyValidate: 'policy-validate',
  fix: 'fix',
  fixUndo: 'fix-undo',
  keyDeletionOffer: 'key-deletion-offer',
  deleteKey: 'delete-key',
  quarantineEnd: 'quarantine-end',
  archiveRulePreview: 'archive-rule-preview',
  archiveRuleCreate: 'archive-rule-create',
  archiveRuleDelete: 'archive-rule-delete',
  archiveRulesList: 'archive-rules-list',
  createAnalyzer: 'create-analyzer',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];
export type JobName = (typeof JOBS)[keyof typeof JOBS];
