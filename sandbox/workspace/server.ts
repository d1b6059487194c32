// The page server of `npm run try`: a Slack workspace for the bot at `/` and the AWS sandbox's state at
// `/aws`, both updated live over server-sent events (`/ui/events`). The page only shows what the Slack
// and AWS sandboxes hold and reports what a person does; every click, submission, command and Home tab
// visit goes to the bot through the dispatcher, exactly as Slack would send it.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AwsSandbox } from '../aws.ts';
import {
  type AnalyzerKind,
  addAnalyzer,
  consoleState,
  makeBucketPublic,
  removePublicGrant,
  useRoleNow,
} from '../aws-console.ts';
import type { Dispatcher, EnteredValues } from '../slack/dispatch.ts';
import type { SandboxEphemeral, SandboxMessage, SlackSandbox } from '../slack.ts';
import { awsPageHtml } from './aws-page.ts';
import { escapeHtml } from './mrkdwn.ts';
import { messageBodyHtml, type RenderContext, viewHtml } from './render.ts';

export interface WorkspaceServerOptions {
  slack: SlackSandbox;
  aws: AwsSandbox;
  dispatcher: Dispatcher;
  /** Runs one scan now, as the scheduler would ("run the scheduler now" on the AWS page). */
  runScheduler: () => Promise<void>;
  port?: number;
  /** The app's display name. */
  appName?: string;
}

export interface WorkspaceServer {
  url: string;
  close(): Promise<void>;
}

const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'page.html', type: 'text/html; charset=utf-8' },
  '/aws': { file: 'aws.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/aws.js': { file: 'aws.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

type Json = Record<string, unknown>;

export async function startWorkspaceServer(opts: WorkspaceServerOptions): Promise<WorkspaceServer> {
  const { slack, aws, dispatcher } = opts;
  const appName = opts.appName ?? 'access-patrol';
  /** user → channel → ts of the newest message they have seen there. */
  const lastRead = new Map<string, Map<string, string>>();
  const streams = new Set<ServerResponse>();
  let schedulerRuns = 0;
  let awsNote = '';

  const broadcast = (kind: string) => {
    for (const res of streams) res.write(`event: change\ndata: ${JSON.stringify({ kind })}\n\n`);
  };
  const unsubscribe = slack.onChange((c) => broadcast(c.kind));
  // The bot changes AWS through the API (archive, delete role, restore): watch the request log.
  let seenRequests = aws.requests.length;
  const awsWatch = setInterval(() => {
    if (aws.requests.length !== seenRequests) {
      seenRequests = aws.requests.length;
      broadcast('aws');
    }
  }, 250);
  const keepAlive = setInterval(() => {
    for (const res of streams) res.write(': keep-alive\n\n');
  }, 15_000);

  const userName = (id: string) => slack.users.find((u) => u.id === id)?.name;
  const mrkdwnCtx = { userName, channelName: (id: string) => slack.channelName(id) };

  const channelsOf = (user: string): { id: string; name: string }[] => {
    const u = slack.users.find((x) => x.id === user);
    return (u?.channels ?? [])
      .map((c) => {
        const id = slack.channelId(c);
        return { id, name: slack.channelName(id) ?? c.replace(/^#/, '') };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  };

  const topLevel = (channel: string) =>
    slack.channelMessages(channel).filter((m) => !m.thread_ts || m.thread_ts === m.ts);

  const unread = (user: string, channel: string): number => {
    const seen = lastRead.get(user)?.get(channel) ?? '0';
    return topLevel(channel).filter((m) => Number(m.ts) > Number(seen) && m.user !== user).length;
  };

  const markRead = (user: string, channel: string) => {
    const newest = slack.channelMessages(channel).at(-1)?.ts;
    if (!newest) return;
    let m = lastRead.get(user);
    if (!m) {
      m = new Map();
      lastRead.set(user, m);
    }
    m.set(channel, newest);
  };

  const time = (ts: string) => new Date(Number(ts) * 1000).toISOString().slice(11, 16);

  const articleHtml = (
    user: string,
    channel: string,
    m: SandboxMessage | SandboxEphemeral,
    opts: { ephemeral: boolean; inThread: boolean },
  ): string => {
    const ctx: RenderContext = {
      ...mrkdwnCtx,
      warning: (b, e) =>
        dispatcher.warning({
          user,
          channel,
          messageTs: m.ts,
          ephemeral: opts.ephemeral,
          blockIndex: b,
          ...(e !== undefined && { elementIndex: e }),
        }),
    };
    const fromPerson = 'user' in m && typeof m.user === 'string' && m.user !== undefined && !opts.ephemeral;
    const author = opts.ephemeral
      ? (m as SandboxEphemeral).from === 'slackbot'
        ? 'Slackbot'
        : appName
      : fromPerson
        ? (userName((m as SandboxMessage).user!) ?? (m as SandboxMessage).user!)
        : appName;
    const msg = m as SandboxMessage;
    const replies =
      !opts.inThread && !opts.ephemeral && msg.reply_count
        ? `<button type="button" class="thread-link" data-thread="${escapeHtml(m.ts)}">${msg.reply_count} ${
            msg.reply_count === 1 ? 'reply' : 'replies'
          }</button>`
        : '';
    const edited = !opts.ephemeral && msg.updates > 0 ? ' <span class="edited">(edited)</span>' : '';
    const tag = !fromPerson && author !== 'Slackbot' ? ' <span class="app-tag">APP</span>' : '';
    const only = opts.ephemeral ? '<p class="only-you">Only visible to you</p>' : '';
    return `<article class="msg${opts.ephemeral ? ' ephemeral' : ''}" aria-label="${escapeHtml(
      `${author} at ${time(m.ts)}`,
    )}" data-channel="${escapeHtml(channel)}" data-ts="${escapeHtml(m.ts)}"${opts.ephemeral ? ' data-ephemeral' : ''}>${only}<header><span class="author">${escapeHtml(
      author,
    )}</span>${tag} <time>${time(m.ts)}</time>${edited}</header><div class="blocks">${messageBodyHtml(m, ctx)}</div>${replies}</article>`;
  };

  const state = (asked: string, view: string, thread: string | undefined): Json => {
    const user = slack.users.some((u) => u.id === asked) ? asked : (slack.users[0]?.id ?? '');
    const channels = channelsOf(user);
    const current =
      view === 'home' ? 'home' : (channels.find((c) => c.id === view)?.id ?? channels[0]?.id ?? 'home');
    if (current !== 'home') markRead(user, current);
    const sidebar = `<h2>Channels</h2><ul>${channels
      .map((c) => {
        const n = c.id === current ? 0 : unread(user, c.id);
        return `<li${c.id === current ? ' class="current"' : ''}><a href="#/${c.id}"${
          c.id === current ? ' aria-current="page"' : ''
        }>#${escapeHtml(c.name)}</a>${n > 0 ? ` <span class="unread" title="${n} unread">${n}<span class="sr"> unread</span></span>` : ''}</li>`;
      })
      .join('')}</ul><h2>Apps</h2><ul><li${current === 'home' ? ' class="current"' : ''}><a href="#/home"${
      current === 'home' ? ' aria-current="page"' : ''
    }>${escapeHtml(appName)}</a></li></ul>`;

    let main: string;
    let title: string;
    if (current === 'home') {
      title = appName;
      const home = slack.homes[user]?.at(-1);
      const body = home
        ? messageBodyHtml({ text: '', blocks: home.blocks }, mrkdwnCtx)
        : '<p class="empty">Loading…</p>';
      main = `<div class="home"><div role="tablist" aria-label="${escapeHtml(appName)}"><span role="tab" aria-selected="true">Home</span></div><section class="home-view" aria-label="Home">${body}</section></div>`;
    } else {
      const name = channels.find((c) => c.id === current)?.name ?? current;
      title = `#${name}`;
      const items: { ts: string; html: string }[] = topLevel(current).map((m) => ({
        ts: m.ts,
        html: articleHtml(user, current, m, { ephemeral: false, inThread: false }),
      }));
      for (const e of slack.ephemerals) {
        if (e.user !== user || e.channel !== current || e.thread_ts) continue;
        items.push({ ts: e.ts, html: articleHtml(user, current, e, { ephemeral: true, inThread: false }) });
      }
      items.sort((a, b) => Number(a.ts) - Number(b.ts));
      main = items.length ? items.map((x) => x.html).join('') : '<p class="empty">No messages yet.</p>';
    }

    let threadHtml: string | null = null;
    if (thread && current !== 'home') {
      const parent = slack.channelMessages(current).find((m) => m.ts === thread);
      if (parent) {
        const items: { ts: string; html: string }[] = slack.threadReplies(current, thread).map((m) => ({
          ts: m.ts,
          html: articleHtml(user, current, m, { ephemeral: false, inThread: true }),
        }));
        for (const e of slack.ephemerals) {
          if (e.user !== user || e.channel !== current || e.thread_ts !== thread) continue;
          items.push({ ts: e.ts, html: articleHtml(user, current, e, { ephemeral: true, inThread: true }) });
        }
        items.sort((a, b) => Number(a.ts) - Number(b.ts));
        threadHtml = `${articleHtml(user, current, parent, { ephemeral: false, inThread: true })}<div class="replies">${items
          .map((x) => x.html)
          .join('')}</div>`;
      }
    }

    const top = slack.surfaces.stack(user).at(-1);
    return {
      view: current,
      title,
      sidebar,
      main,
      thread: threadHtml,
      modal: top
        ? {
            id: top.id,
            hash: top.hash,
            errors: top.errors ?? null,
            failure: top.failure ?? '',
            html: viewHtml(top, { ...mrkdwnCtx }),
          }
        : null,
      me: user,
      users: slack.users.map((u) => ({ id: u.id, name: u.name })),
    };
  };

  const awsAction = async (body: Json): Promise<string> => {
    const data = aws.data;
    switch (body.op) {
      case 'make-public':
        makeBucketPublic(data, String(body.arn));
        return `${String(body.arn)} is public now`;
      case 'remove-grant':
        removePublicGrant(data, String(body.arn));
        return `the public grant on ${String(body.arn)} is removed`;
      case 'use-role':
        useRoleNow(data, String(body.account), String(body.name));
        return `role ${String(body.name)} was used just now`;
      case 'add-analyzer':
        addAnalyzer(data, String(body.region), String(body.kind) as AnalyzerKind);
        return `added a ${String(body.kind)} access analyzer in ${String(body.region)}`;
      case 'run-scheduler':
        schedulerRuns++;
        await opts.runScheduler();
        return `scan ${schedulerRuns} finished`;
      default:
        throw new Error(`unknown operation ${String(body.op)}`);
    }
  };

  const routes: Record<string, (body: Json, url: URL) => Promise<unknown> | unknown> = {
    'GET /ui/state': (_b, url) =>
      state(
        url.searchParams.get('user') ?? slack.users[0]?.id ?? '',
        url.searchParams.get('view') ?? '',
        url.searchParams.get('thread') ?? undefined,
      ),
    'POST /ui/click': (b) =>
      dispatcher.click({
        user: String(b.user),
        channel: String(b.channel),
        messageTs: String(b.ts),
        ephemeral: b.ephemeral === true,
        blockIndex: Number(b.block),
        ...(b.element !== undefined && b.element !== null && { elementIndex: Number(b.element) }),
      }),
    'POST /ui/submit': (b) =>
      dispatcher.submit(String(b.user), String(b.viewId), (b.values ?? {}) as EnteredValues),
    'POST /ui/close': async (b) => {
      await dispatcher.close(String(b.user), String(b.viewId));
      return { ok: true };
    },
    'POST /ui/message': async (b) => {
      const text = String(b.text ?? '');
      if (text.trim() === '') return { ok: false };
      if (text.startsWith('/')) return dispatcher.command(String(b.user), String(b.channel), text);
      slack.postAsUser(
        String(b.channel),
        String(b.user),
        text,
        typeof b.thread === 'string' ? b.thread : undefined,
      );
      return { ok: true };
    },
    'POST /ui/home': (b) => dispatcher.openHome(String(b.user)),
    'GET /aws/state': () => ({ html: awsPageHtml(consoleState(aws.data), awsNote) }),
    'POST /aws/act': async (b) => {
      try {
        awsNote = await awsAction(b);
      } catch (err) {
        awsNote = `⚠️ ${(err as Error).message}`;
      }
      broadcast('aws');
      return { note: awsNote };
    },
  };

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String((err as Error)?.message ?? err));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://workspace');
    const file = req.method === 'GET' ? STATIC[url.pathname] : undefined;
    if (file) {
      const text = await readFile(new URL(`./${file.file}`, import.meta.url), 'utf8');
      res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' });
      res.end(text);
      return;
    }
    if (req.method === 'GET' && url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (req.method === 'GET' && url.pathname === '/ui/events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      res.write('retry: 1000\n\n');
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    const route = routes[`${req.method} ${url.pathname}`];
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    let body: Json = {};
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const raw = Buffer.concat(chunks).toString('utf8');
      body = raw ? (JSON.parse(raw) as Json) : {};
    }
    const out = await route(body, url);
    const text = JSON.stringify(out ?? {});
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(text);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(awsWatch);
        clearInterval(keepAlive);
        unsubscribe();
        for (const res of streams) res.end();
        streams.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
