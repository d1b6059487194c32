// Access Analyzer's archive rules and CreateAnalyzer: what "Archive similar", `/access rules` and the
// coverage notice's Create analyzer button change in AWS.
import {
  ApplyArchiveRuleCommand,
  CreateAnalyzerCommand,
  CreateArchiveRuleCommand,
  DeleteArchiveRuleCommand,
  GetArchiveRuleCommand,
  paginateListArchiveRules,
  type Type,
} from '@aws-sdk/client-accessanalyzer';
import type { ArchiveFilter } from '../findings/archive-rule.ts';
import { analyzerCall } from './analyzer-call.ts';
import type { AwsClients } from './clients.ts';
import { collect, unlessNotFound } from './paging.ts';

/** An analyzer an archive rule belongs to: rules are named by analyzer name, applied by ARN. */
export interface RuleAnalyzer {
  arn: string;
  name: string;
  region: string;
}

export interface ArchiveRuleInfo {
  ruleName: string;
  filter: ArchiveFilter;
  createdAt?: string;
  updatedAt?: string;
}

export interface ArchiveRuleGateway {
  /** ListArchiveRules, every page. */
  listArchiveRules(analyzer: RuleAnalyzer): Promise<ArchiveRuleInfo[]>;
  /** GetArchiveRule, or null when the analyzer has no rule of that name. */
  getArchiveRule(analyzer: RuleAnalyzer, ruleName: string): Promise<ArchiveRuleInfo | null>;
  createArchiveRule(
    analyzer: RuleAnalyzer,
    rule: { ruleName: string; filter: ArchiveFilter },
    clientToken: string,
  ): Promise<void>;
  /** ApplyArchiveRule: archives the analyzer's ACTIVE findings the rule matches (asynchronously in AWS). */
  applyArchiveRule(analyzer: RuleAnalyzer, ruleName: string, clientToken: string): Promise<void>;
  deleteArchiveRule(analyzer: RuleAnalyzer, ruleName: string, clientToken: string): Promise<void>;
  /** CreateAnalyzer: the new analyzer's ARN. */
  createAnalyzer(input: { region: string; name: string; type: string; clientToken: string }): Promise<string>;
}

export function createArchiveRuleGateway(clients: Pick<AwsClients, 'accessAnalyzer'>): ArchiveRuleGateway {
  const send = analyzerCall(clients);
  return {
    async listArchiveRules(analyzer) {
      const client = clients.accessAnalyzer(analyzer.region);
      const rules = await collect({
        operation: 'AccessAnalyzer.ListArchiveRules',
        paginate: () => paginateListArchiveRules({ client }, { analyzerName: analyzer.name }),
        items: (out) => out.archiveRules,
      });
      return rules.map(ruleInfo);
    },

    async getArchiveRule(analyzer, ruleName) {
      const out = await unlessNotFound(
        send(analyzer.region, 'GetArchiveRule', (client) =>
          client.send(new GetArchiveRuleCommand({ analyzerName: analyzer.name, ruleName })),
        ),
      );
      return out?.archiveRule ? ruleInfo(out.archiveRule) : null;
    },

    async createArchiveRule(analyzer, rule, clientToken) {
      await send(analyzer.region, 'CreateArchiveRule', (client) =>
        client.send(
          new CreateArchiveRuleCommand({
            analyzerName: analyzer.name,
            ruleName: rule.ruleName,
            filter: rule.filter,
            clientToken,
          }),
        ),
      );
    },

    async applyArchiveRule(analyzer, ruleName, clientToken) {
      await send(analyzer.region, 'ApplyArchiveRule', (client) =>
        client.send(new ApplyArchiveRuleCommand({ analyzerArn: analyzer.arn, ruleName, clientToken })),
      );
    },

    async deleteArchiveRule(analyzer, ruleName, clientToken) {
      await send(analyzer.region, 'DeleteArchiveRule', (client) =>
        client.send(new DeleteArchiveRuleCommand({ analyzerName: analyzer.name, ruleName, clientToken })),
      );
    },

    async createAnalyzer(input) {
      const out = await send(input.region, 'CreateAnalyzer', (client) =>
        client.send(
          new CreateAnalyzerCommand({
            analyzerName: input.name,
            type: input.type as Type,
            clientToken: input.clientToken,
          }),
        ),
      );
      return out.arn ?? '';
    },
  };
}

function ruleInfo(r: {
  ruleName?: string | undefined;
  filter?: Record<string, unknown> | undefined;
  createdAt?: Date | undefined;
  updatedAt?: Date | undefined;
}): ArchiveRuleInfo {
  const info: ArchiveRuleInfo = { ruleName: r.ruleName ?? '', filter: (r.filter ?? {}) as ArchiveFilter };
  if (r.createdAt) info.createdAt = r.createdAt.toISOString();
  if (r.updatedAt) info.updatedAt = r.updatedAt.toISOString();
  return info;
}
