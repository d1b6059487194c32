// The document of a managed policy: its default version.
import { GetPolicyCommand, GetPolicyVersionCommand, type IAMClient } from '@aws-sdk/client-iam';
import { toAwsError } from '../errors.ts';
import { decodeDocument } from './documents.ts';

/** The default version's document; an unreadable one is reported in `error`, not thrown (throttling is). */
export async function managedPolicyDocument(
  client: IAMClient,
  arn: string,
): Promise<{ document?: string; error?: string }> {
  try {
    const { Policy } = await client.send(new GetPolicyCommand({ PolicyArn: arn }));
    const versionId = Policy?.DefaultVersionId;
    if (!versionId) return { error: 'no default version' };
    const { PolicyVersion } = await client.send(
      new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: versionId }),
    );
    return PolicyVersion?.Document
      ? { document: decodeDocument(PolicyVersion.Document) }
      : { error: 'empty document' };
  } catch (err) {
    const e = toAwsError(err, 'IAM.GetPolicyVersion');
    if (e.kind === 'throttled' || e.kind === 'unavailable') throw e;
    return { error: `${e.code}: ${e.message}` };
  }
}
