// IAM roles for the "delete unused role" remediation: read everything a role holds
// (iam/inspect-role.ts), keep it as a backup (iam/backup.ts), take the role apart and delete it
// (iam/delete-role.ts), and rebuild it from the backup (iam/restore-role.ts). Every step is
// idempotent (something already gone counts as done), so a retried job or a double click is harmless.
import type { AwsClients } from './clients.ts';
import { iamContext } from './iam/context.ts';
import { deleteRole } from './iam/delete-role.ts';
import { inspectRole } from './iam/inspect-role.ts';
import { restoreRole } from './iam/restore-role.ts';
import type { IamGateway, IamGatewayOptions } from './iam/types.ts';

export { backupFromInspection } from './iam/backup.ts';
export type {
  DeleteRoleOptions,
  DeletionReport,
  IamGateway,
  IamGatewayOptions,
  RestoreReport,
  RestoreRoleOptions,
  RoleBackup,
  RoleInspection,
  RoleStep,
  RoleTag,
} from './iam/types.ts';

export function createIamGateway(clients: Pick<AwsClients, 'iam'>, opts: IamGatewayOptions = {}): IamGateway {
  const ctx = iamContext(clients, opts);
  const inspect: IamGateway['inspectRole'] = (accountId, roleName) => inspectRole(ctx, accountId, roleName);
  return {
    inspectRole: inspect,
    deleteRole: (accountId, roleName, options) => deleteRole(ctx, inspect, accountId, roleName, options),
    restoreRole: (backup, options) => restoreRole(ctx, inspect, backup, options),
  };
}
