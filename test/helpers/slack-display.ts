// What a person sees of a message in Slack, as text: each block rendered by the sandbox workspace's
// Block Kit and mrkdwn renderer (sandbox/workspace/render.ts, mrkdwn.ts: entities, mentions, links,
// formatting markers eaten at word boundaries, code verbatim), then read back from its HTML.
import { blockHtml, type RenderContext } from '../../sandbox/workspace/render.ts';

const ctx: RenderContext = { userName: () => undefined, channelName: () => undefined };

const ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
};

/** The text a reader sees in rendered HTML: line breaks kept, tags gone, entities decoded. */
export function displayedText(html: string): string {
  return html
    .replace(/<template[\s\S]*?<\/template>/g, '')
    .replace(/<br>/g, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e] ?? e);
}

/** Blocks as sent (an API call's `blocks` argument is untyped); anything but an array is no blocks. */
const asBlocks = (blocks: unknown): readonly unknown[] => (Array.isArray(blocks) ? blocks : []);

/** Each block of a message as a person sees it. */
export function displayedBlocks(blocks: unknown): string[] {
  return asBlocks(blocks).map((b, i) => displayedText(blockHtml(b, i, ctx)));
}

/** What turned live in the rendered blocks: broadcasts (@channel, @here) and links. */
export function liveMarkup(blocks: unknown): string[] {
  const html = asBlocks(blocks)
    .map((b, i) => blockHtml(b, i, ctx))
    .join('');
  return [...html.matchAll(/<span class="mention broadcast">[^<]*<\/span>|<a href="[^"]*"/g)].map(
    (m) => m[0],
  );
}

/**
 * The code-styled pieces of the rendered blocks, as a person sees them: inline code in mrkdwn and
 * code-styled rich text elements alike (`<code>` in the rendered HTML), in order.
 */
export function displayedCode(blocks: unknown): string[] {
  const html = asBlocks(blocks)
    .map((b, i) => blockHtml(b, i, ctx))
    .join('');
  return [...html.matchAll(/<code>([\s\S]*?)<\/code>/g)].map((m) => displayedText(m[1]!));
}
