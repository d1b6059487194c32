// `npm run try` in a real headless Chromium: the workspace page and the AWS page over the stand-ins,
// with the bot's own HTTP receiver and workers behind them. Each test does what a person does (by
// role and label, as a screen reader would find things) and checks what the person sees. The run
// saves screenshots of the main screens (SCREENSHOTS_DIR, `npm run screenshots` for the README).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_FINDING_IDS } from '../../sandbox/fixtures/demo-org.ts';
import { startTry, TRY_PRIVATE_BUCKET, TRY_USERS, type TryStack } from '../../sandbox/try.ts';
import { browserUnavailable, launchBrowser } from '../helpers/browser.ts';
import { REDIS_URL } from '../helpers/runtime.ts';

const unavailable = browserUnavailable();
if (unavailable) {
  process.stderr.write(
    `\n${'!'.repeat(100)}\n!! BROWSER TESTS SKIPPED: ${unavailable}\n${'!'.repeat(100)}\n\n`,
  );
}

const SCREENSHOTS = process.env.SCREENSHOTS_DIR;
/** What a person waits for at most before calling it broken (a scan or a job, not a timing target). */
const SEEN = { timeout: 30_000 };

let stack: TryStack;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let slack: Page;
let aws: Page;

async function shot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

/** Switches to the workspace tab (a page behind another gets no animation frames, so acts slowly). */
async function signIn(user: { name: string }): Promise<void> {
  await slack.bringToFront();
  await slack.getByLabel('Signed in as').selectOption({ label: user.name });
}

async function openChannel(name: string): Promise<void> {
  await slack.getByRole('navigation', { name: 'Channels' }).getByRole('link', { name, exact: true }).click();
  await expect.poll(() => slack.getByRole('heading', { level: 1 }).textContent()).toBe(name);
}

/** The finding card whose text has `text`, in the channel or (with `thread`) in the open thread. */
function card(text: string | RegExp, where: 'channel' | 'thread' = 'channel') {
  const scope =
    where === 'thread' ? slack.getByRole('complementary', { name: 'Thread' }) : slack.getByRole('main');
  return scope.getByRole('article').filter({ hasText: text });
}

/** Presses a button whose confirm dialog (Block Kit `confirm`) must be accepted first. */
async function pressConfirmed(button: ReturnType<Page['getByRole']>, confirmLabel: string): Promise<void> {
  await button.click();
  const confirm = slack.getByRole('alertdialog');
  await confirm.waitFor();
  await confirm.getByRole('button', { name: confirmLabel, exact: true }).click();
}

async function typeCommand(text: string): Promise<void> {
  const box = slack.getByRole('textbox', { name: /^Message #/ });
  await box.fill(text);
  await box.press('Enter');
}

function bucketRow(name: string) {
  return aws.getByRole('table', { name: 'S3 buckets' }).getByRole('row').filter({ hasText: name });
}

async function roleDefinition(name: string): Promise<string | null> {
  const pre = aws.getByLabel(`definition of ${name}`, { exact: true });
  return (await pre.count()) === 0 ? null : pre.textContent();
}

describe.skipIf(unavailable !== undefined)('npm run try in Chromium', { timeout: 90_000 }, () => {
  beforeAll(async () => {
    stack = await startTry({ redisUrl: REDIS_URL, logger: pino({ level: 'silent' }) });
    browser = await launchBrowser();
    slack = await browser.context.newPage();
    aws = await browser.context.newPage();
    await slack.goto(stack.url);
    await aws.goto(`${stack.url}aws`);
    await aws.getByRole('heading', { name: 'Findings', level: 2 }).waitFor();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('shows a new card in the owner’s channel, without a reload, after a scan finds a public bucket', async () => {
    await signIn(TRY_USERS.member);
    await openChannel('#sec-alerts');
    await aws.bringToFront();
    await bucketRow('payments-reports').getByRole('button', { name: 'Make public' }).click();
    await expect.poll(() => bucketRow('payments-reports').textContent()).toMatch(/PUBLIC/);
    await aws.getByRole('button', { name: 'Run the scheduler now' }).click();
    await aws
      .getByRole('status')
      .filter({ hasText: /scan \d+ finished/ })
      .waitFor(SEEN);
    await slack.bringToFront();

    // The channel the bucket's tag names counts the new message, then shows the card.
    const payments = slack
      .getByRole('navigation', { name: 'Channels' })
      .getByRole('listitem')
      .filter({
        has: slack.getByRole('link', { name: '#team-payments', exact: true }),
      });
    await expect.poll(() => payments.textContent(), SEEN).toMatch(/\d+\s*unread/);
    await openChannel('#team-payments');
    const bucket = card(TRY_PRIVATE_BUCKET.replace('arn:aws:s3:::', ''));
    await bucket.waitFor(SEEN);
    await expect(bucket.textContent()).resolves.toMatch(/public/i);
    await expect(bucket.getByRole('button', { name: 'Archive', exact: true }).count()).resolves.toBe(1);
    await bucket.scrollIntoViewIfNeeded();
    await shot(slack, 'workspace');
  });

  it('archives with a reason: the card says who archived it and why, the AWS page shows ARCHIVED', async () => {
    await signIn(TRY_USERS.member);
    await openChannel('#team-platform');
    const vendor = card(/Role vendor-audit is shared/);
    await vendor.getByRole('button', { name: 'Archive', exact: true }).click();
    const dialog = slack.getByRole('dialog', { name: 'Archive finding' });
    await dialog.getByLabel('Why is this access acceptable?').fill('x');
    await dialog.getByRole('button', { name: 'Archive', exact: true }).click();
    // Slack's own check first: the reason is too short, and nothing was sent.
    await dialog.getByText('Must be at least 3 characters.').waitFor();
    await dialog.getByLabel('Why is this access acceptable?').fill('vendor audit role, contract VND-7');
    await shot(slack, 'archive-modal');
    await dialog.getByRole('button', { name: 'Archive', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });

    await vendor
      .getByText(/Archived \d{4}-\d{2}-\d{2} by @alice: vendor audit role, contract VND-7/)
      .waitFor(SEEN);
    await expect(vendor.getByRole('button', { name: 'Unarchive' }).count()).resolves.toBe(1);
    await shot(slack, 'archived');
    const row = aws.getByRole('row').filter({ hasText: DEMO_FINDING_IDS.roleTrustExternal.slice(-12) });
    await expect.poll(() => row.textContent(), SEEN).toMatch(/ARCHIVED/);
    expect(stack.aws.data.findings.get(DEMO_FINDING_IDS.roleTrustExternal)?.status).toBe('ARCHIVED');
  });

  it('deletes an unused role as an admin, and Restore brings it back identical', async () => {
    const before = await roleDefinition('ci-deployer');
    expect(before).toContain('"ecr-push"');
    await signIn(TRY_USERS.admin);
    await openChannel('#team-platform');
    const role = card(/Role ci-deployer unused for/);
    await pressConfirmed(role.getByRole('button', { name: 'Delete role', exact: true }), 'Delete role');
    const dialog = slack.getByRole('dialog', { name: 'Delete unused role' });
    // The worker reads the role, then replaces the loading step with what will be removed.
    await dialog.getByText('Will be removed').waitFor(SEEN);
    await expect(dialog.textContent()).resolves.toContain('arn:aws:iam::aws:policy/ReadOnlyAccess');
    await shot(slack, 'delete-role-modal');
    await dialog.getByRole('button', { name: 'Delete role', exact: true }).click();

    await role.getByText(/Role deleted \d{4}-\d{2}-\d{2} by @bob/).waitFor(SEEN);
    await expect.poll(() => roleDefinition('ci-deployer'), SEEN).toBeNull();
    await role.getByRole('button', { name: 'Restore role' }).click();
    await role.getByRole('button', { name: 'Delete role', exact: true }).waitFor(SEEN);
    await expect.poll(() => roleDefinition('ci-deployer'), SEEN).toBe(before);

    // The thread tells the story: backup, deletion, restore.
    await role.getByRole('button', { name: /replies/ }).click();
    const thread = slack.getByRole('complementary', { name: 'Thread' });
    await thread.getByText(/Backup of role ci-deployer/).waitFor();
    // The backup reads back as JSON a person can copy: the inline policy's wildcard is a real *.
    await expect(thread.textContent()).resolves.toContain('\\"Resource\\":\\"*\\"');
    await thread.getByText(/@bob deleted role ci-deployer/).waitFor();
    const restored = thread.getByText(/@bob restored role ci-deployer from its backup/);
    await restored.waitFor();
    await restored.scrollIntoViewIfNeeded();
    await shot(slack, 'role-restored');
    await thread.getByRole('button', { name: 'Close thread' }).click();
  });

  it('refuses the same click from a member, says who can, and changes nothing', async () => {
    await signIn(TRY_USERS.member);
    await openChannel('#team-platform');
    const role = card(/Role ci-deployer unused for/);
    await pressConfirmed(role.getByRole('button', { name: 'Delete role', exact: true }), 'Delete role');
    const refusal = card(/Only admins can delete this role\./).filter({
      hasText: 'Only visible to you',
    });
    await refusal.waitFor(SEEN);
    await expect(refusal.textContent()).resolves.toMatch(/Ask @bob/);
    expect(await slack.getByRole('dialog').count()).toBe(0);
    expect(await roleDefinition('ci-deployer')).toContain('"ecr-push"');
  });

  it('gets a burst as one summary whose thread holds the findings', async () => {
    await signIn(TRY_USERS.member);
    await openChannel('#team-sandbox');
    const top = slack.getByRole('main').getByRole('article');
    await expect(top.count()).resolves.toBe(1);
    const summary = top.first();
    await summary.getByRole('heading', { name: /^\d+ new access findings$/ }).waitFor();
    await summary.getByRole('button', { name: /^\d+ replies$/ }).click();
    const replies = slack.getByRole('complementary', { name: 'Thread' }).getByRole('article');
    await expect.poll(() => replies.count()).toBeGreaterThanOrEqual(15);
    await card('sandbox-experiment-14', 'thread')
      .filter({ has: slack.getByRole('button', { name: 'Delete role', exact: true }) })
      .waitFor();
    await shot(slack, 'burst-thread');
    await slack.getByRole('button', { name: 'Close thread' }).click();
  });

  it('answers a mistyped slash command with a helpful ephemeral reply', async () => {
    await signIn(TRY_USERS.member);
    await openChannel('#team-data');
    await typeCommand('/access fidnings --severity high');
    const reply = card(/unknown command/).filter({ hasText: 'Only visible to you' });
    await reply.waitFor(SEEN);
    await expect(reply.textContent()).resolves.toMatch(/did you mean findings\?/);
    await typeCommand('/acess help');
    await card(/\/acess is not a valid command/)
      .filter({ hasText: 'Slackbot' })
      .waitFor();
    await shot(slack, 'slash-command');
  });

  it('lists the viewer’s own findings on the App Home tab', async () => {
    await signIn(TRY_USERS.member);
    await slack
      .getByRole('navigation', { name: 'Channels' })
      .getByRole('link', { name: 'access-patrol' })
      .click();
    const home = slack.getByRole('region', { name: 'Home' });
    await home.getByRole('heading', { name: 'Your access findings' }).waitFor(SEEN);
    // logs-prod is routed to #team-platform, one of alice's channels; the admin channel is not hers.
    await expect.poll(() => home.textContent(), SEEN).toContain('arn:aws:s3:::logs-prod');
    await shot(slack, 'app-home');
    await shot(aws, 'aws-page');
  });

  it('blocks public access to a bucket as an admin, and Undo puts the bucket back as it was', async () => {
    expect(stack.aws.data.buckets?.['logs-prod']?.publicAccessBlock).toBeNull();
    await expect.poll(() => bucketRow('logs-prod').textContent()).toMatch(/PUBLIC/);
    await signIn(TRY_USERS.admin);
    await openChannel('#team-platform');
    const bucket = card(/S3 bucket logs-prod is public/);
    await expect(bucket.count()).resolves.toBe(1);
    await pressConfirmed(
      bucket.getByRole('button', { name: 'Block public access', exact: true }),
      'Block public access',
    );

    // AWS re-analyzes the bucket: the finding resolves, the card says so and loses its fix button.
    await bucket.getByText(/^Resolved \d{4}-\d{2}-\d{2}$/).waitFor(SEEN);
    await expect(bucket.getByRole('button', { name: 'Block public access' }).count()).resolves.toBe(0);
    await aws.bringToFront();
    await expect.poll(() => bucketRow('logs-prod').textContent(), SEEN).toMatch(/not public/);
    expect(stack.aws.data.buckets?.['logs-prod']?.publicAccessBlock).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });

    // The thread holds the receipt with the settings before and after, and Undo.
    await slack.bringToFront();
    await bucket.getByRole('button', { name: /^\d+ repl(y|ies)$/ }).click();
    const thread = slack.getByRole('complementary', { name: 'Thread' });
    const receipt = card(/@bob blocked public access to/, 'thread');
    await receipt.waitFor(SEEN);
    await expect(receipt.textContent()).resolves.toContain('bucket logs-prod');
    await receipt.scrollIntoViewIfNeeded();
    await shot(slack, 'fix-receipt');
    await pressConfirmed(receipt.getByRole('button', { name: 'Undo', exact: true }), 'Undo');
    await thread.getByText(/@bob undid the fix: put back the Block Public Access settings of/).waitFor(SEEN);

    // It had no configuration before, so Undo deleted the one the fix made: public again.
    await aws.bringToFront();
    await expect.poll(() => bucketRow('logs-prod').textContent(), SEEN).toMatch(/PUBLIC/);
    expect(stack.aws.data.buckets?.['logs-prod']?.publicAccessBlock).toBeNull();
    await slack.bringToFront();
    await thread.getByRole('button', { name: 'Close thread' }).click();
  });
});
