// The AWS page's content: the sandbox's analyzers, findings, roles and buckets (sandbox/aws-console.ts),
// with the buttons that change them. Buttons carry what they act on in data attributes; aws.js posts them.
import { ANALYZER_KINDS, type ConsoleState } from '../aws-console.ts';
import { escapeHtml } from './mrkdwn.ts';

const a = (v: string) => escapeHtml(v);

function act(label: string, data: Record<string, string>, style = ''): string {
  const attrs = Object.entries(data)
    .map(([k, v]) => `data-${k}="${a(v)}"`)
    .join(' ');
  return `<button type="button" class="bk-button${style}" data-aws-op ${attrs}>${escapeHtml(label)}</button>`;
}

export function awsPageHtml(s: ConsoleState, note: string): string {
  const status = (x: string) => `<span class="status status-${a(x.toLowerCase())}">${escapeHtml(x)}</span>`;
  const analyzers = s.regions
    .map(
      (r) =>
        `<section aria-labelledby="region-${a(r.region)}"><h3 id="region-${a(r.region)}">${escapeHtml(r.region)}</h3>${
          r.analyzers.length
            ? `<ul class="analyzers">${r.analyzers
                .map(
                  (x) =>
                    `<li><code>${escapeHtml(x.name)}</code> ${escapeHtml(x.type)} ${status(x.status)}${
                      x.statusReason ? ` (${escapeHtml(x.statusReason)})` : ''
                    }${x.managedBy ? ` managed by ${escapeHtml(x.managedBy)}` : ''}</li>`,
                )
                .join('')}</ul>`
            : '<p class="empty">No analyzers.</p>'
        }</section>`,
    )
    .join('');
  const regionOptions = s.regions.map((r) => `<option>${escapeHtml(r.region)}</option>`).join('');
  const kindOptions = Object.keys(ANALYZER_KINDS)
    .map((k) => `<option value="${a(k)}">${escapeHtml(k)} access</option>`)
    .join('');
  const findings = `<table><caption>Findings</caption><thead><tr><th scope="col">Id</th><th scope="col">Region</th><th scope="col">Type</th><th scope="col">Resource</th><th scope="col">Status</th><th scope="col">Updated</th></tr></thead><tbody>${s.findings
    .map(
      (f) =>
        `<tr><td><code title="${a(f.id)}">${escapeHtml(f.id.slice(-12))}</code></td><td>${escapeHtml(f.region)}</td><td>${escapeHtml(
          f.findingType,
        )}</td><td><code>${escapeHtml(f.resource)}</code></td><td>${status(f.status)}</td><td>${escapeHtml(
          f.updatedAt.slice(0, 16).replace('T', ' '),
        )}</td></tr>`,
    )
    .join('')}</tbody></table>`;
  const buckets = `<table><caption>S3 buckets</caption><thead><tr><th scope="col">Bucket</th><th scope="col">Account</th><th scope="col">Public access</th><th scope="col">Change</th></tr></thead><tbody>${s.buckets
    .map(
      (b) =>
        `<tr><td><code>${escapeHtml(b.name)}</code></td><td>${escapeHtml(b.account)}</td><td>${
          b.public ? status('PUBLIC') : 'not public'
        }</td><td>${b.public ? act('Remove the public grant', { op: 'remove-grant', arn: b.arn }) : act('Make public', { op: 'make-public', arn: b.arn }, ' danger')}</td></tr>`,
    )
    .join('')}</tbody></table>`;
  const roles = s.roles
    .map(
      (r) =>
        `<article class="role" aria-label="role ${a(r.name)} in ${a(r.account)}"><h3><code>${escapeHtml(r.name)}</code> in ${escapeHtml(
          r.account,
        )}</h3><p>${escapeHtml(r.arn)} · id ${escapeHtml(r.roleId)} · created ${escapeHtml(r.createDate.slice(0, 10))} · ${
          r.lastUsed ? `last used ${escapeHtml(r.lastUsed.slice(0, 16).replace('T', ' '))}` : 'never used'
        }</p>${act('Use this role now', { op: 'use-role', account: r.account, name: r.name })}<details><summary>Definition</summary><pre aria-label="definition of ${a(
          r.name,
        )}">${escapeHtml(r.definition)}</pre></details></article>`,
    )
    .join('');
  return `<p class="aws-note" role="status">${escapeHtml(note)}</p>
<section aria-labelledby="h-scheduler"><h2 id="h-scheduler">Scheduler</h2>${act('Run the scheduler now', { op: 'run-scheduler' }, ' primary')}</section>
<section aria-labelledby="h-analyzers"><h2 id="h-analyzers">Analyzers</h2>${analyzers}
<form class="add-analyzer" data-aws-form><label for="aa-region">Region</label><select id="aa-region" name="region">${regionOptions}</select><label for="aa-kind">Kind</label><select id="aa-kind" name="kind">${kindOptions}</select><button type="submit" class="bk-button">Add analyzer</button></form></section>
<section aria-labelledby="h-buckets"><h2 id="h-buckets">S3 buckets</h2>${buckets}</section>
<section aria-labelledby="h-findings"><h2 id="h-findings">Findings</h2>${findings}</section>
<section aria-labelledby="h-roles"><h2 id="h-roles">IAM roles</h2>${roles}</section>`;
}
