// The Block Kit rules the Slack sandbox enforces, as Slack does: a message (chat.postMessage,
// chat.update, chat.postEphemeral, response_url) that breaks one is refused with `invalid_blocks`, a
// view (views.open, views.push, views.update, views.publish) with `invalid_arguments`. Each problem
// reads like Slack's own: `must be less than 76 characters [json-pointer:/blocks/2/elements/0/text/text]`.
//
// The numbers are Slack's (docs.slack.dev/reference/block-kit: blocks, block elements, composition
// objects, views; @slack/types 3.2), kept here on their own rather than taken from blocks/limits.ts:
// the stand-in must refuse what Slack refuses even when the bot's own limits are wrong.
// test/unit/sandbox-fidelity.test.ts checks that the bot's limits stay within these; the golden test
// (test/unit/blocks-golden.test.ts) holds every builder's output to these rules.
export const SLACK_BLOCK_KIT = {
  messageBlocks: 50,
  surfaceBlocks: 100,
  text: 3000,
  sectionFields: 10,
  sectionField: 2000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  blockId: 255,
  actionId: 255,
  buttonText: 75,
  buttonValue: 2000,
  url: 3000,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  placeholder: 150,
  inputLabel: 2000,
  inputHint: 2000,
  textInputLength: 3000,
  selectOptions: 100,
  radioOptions: 10,
  optionText: 75,
  optionValue: 150,
  viewTitle: 24,
  viewButton: 24,
  callbackId: 255,
  privateMetadata: 3000,
  externalId: 255,
  imageAltText: 2000,
  messageText: 40_000,
} as const;

const L = SLACK_BLOCK_KIT;
const BUTTON_STYLES = new Set(['primary', 'danger']);
const TEXT_TYPES = new Set(['plain_text', 'mrkdwn']);
export const MESSAGE_BLOCKS: ReadonlySet<string> = new Set([
  'header',
  'section',
  'context',
  'actions',
  'divider',
  'image',
  'rich_text',
  'file',
  'video',
  'markdown',
  'table',
]);
/** Input blocks belong to modals and Home tabs; a message with one is refused. */
const SURFACE_BLOCKS = new Set([...MESSAGE_BLOCKS, 'input']);
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const RICH_TEXT_PARTS = new Set([
  'rich_text_section',
  'rich_text_list',
  'rich_text_preformatted',
  'rich_text_quote',
]);
/** The items of a rich text list are sections. */
const LIST_ITEMS = new Set(['rich_text_section']);
/** Leaf elements of a rich text section or quote (the common documented ones). */
const RICH_TEXT_LEAVES = new Set([
  'text',
  'link',
  'emoji',
  'user',
  'usergroup',
  'channel',
  'broadcast',
  'date',
  'color',
  'team',
]);
/** Preformatted text holds text and links only (@slack/types RichTextPreformatted). */
const PREFORMATTED_LEAVES = new Set(['text', 'link']);
/** The field each leaf cannot do without. */
const RICH_TEXT_REQUIRED: Record<string, string> = {
  text: 'text',
  link: 'url',
  emoji: 'name',
  user: 'user_id',
  usergroup: 'usergroup_id',
  channel: 'channel_id',
  broadcast: 'range',
  color: 'value',
  team: 'team_id',
};
/** The text element's documented style properties (all booleans). */
const RICH_TEXT_STYLES = new Set([
  'bold',
  'italic',
  'strike',
  'code',
  'highlight',
  'client_highlight',
  'underline',
  'unlink',
]);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** Collects problems for one message or view; `at` is the JSON pointer of the value checked. */
class Checker {
  readonly problems: string[] = [];

  add(message: string, at: string) {
    this.problems.push(`${message} [json-pointer:${at}]`);
  }

  /** A block's `elements`: at least one (else undefined, the block's other checks skipped), at most `max`. */
  elementList(els: unknown, at: string, max: number): unknown[] | undefined {
    if (!Array.isArray(els) || els.length === 0) {
      this.add('must contain at least 1 element', `${at}/elements`);
      return undefined;
    }
    if (els.length > max) this.add(`no more than ${max} items allowed (got ${els.length})`, `${at}/elements`);
    return els;
  }

  length(s: unknown, max: number, at: string, min = 1) {
    if (typeof s !== 'string') return;
    if (s.length > max) this.add(`must be less than ${max + 1} characters (got ${s.length})`, at);
    if (s.length < min) this.add(`must be more than ${min - 1} characters`, at);
  }

  /** A text object: `{ type: plain_text | mrkdwn, text }`; `plainOnly` where Slack takes plain_text only. */
  text(t: unknown, at: string, max: number, plainOnly = false) {
    if (!isObj(t)) return this.add('must be a text object', at);
    if (typeof t.type !== 'string' || !TEXT_TYPES.has(t.type)) {
      this.add(`must be one of plain_text, mrkdwn (got ${String(t.type)})`, `${at}/type`);
    } else if (plainOnly && t.type !== 'plain_text') {
      this.add('must be plain_text', `${at}/type`);
    }
    if (typeof t.text !== 'string') return this.add('is required', `${at}/text`);
    this.length(t.text, max, `${at}/text`);
  }

  optionalText(t: unknown, at: string, max: number, plainOnly = false) {
    if (t !== undefined) this.text(t, at, max, plainOnly);
  }

  id(v: unknown, at: string, max: number) {
    if (v === undefined) return;
    if (typeof v !== 'string') return this.add('must be a string', at);
    this.length(v, max, at);
  }

  confirm(c: unknown, at: string) {
    if (c === undefined) return;
    if (!isObj(c)) return this.add('must be a confirmation dialog object', at);
    this.text(c.title, `${at}/title`, L.confirmTitle, true);
    this.text(c.text, `${at}/text`, L.confirmText);
    this.text(c.confirm, `${at}/confirm`, L.confirmButton, true);
    this.text(c.deny, `${at}/deny`, L.confirmButton, true);
    if (c.style !== undefined && !BUTTON_STYLES.has(String(c.style))) {
      this.add(`must be one of primary, danger (got ${String(c.style)})`, `${at}/style`);
    }
  }

  button(b: Obj, at: string) {
    this.text(b.text, `${at}/text`, L.buttonText, true);
    this.id(b.action_id, `${at}/action_id`, L.actionId);
    if (b.value !== undefined) this.length(b.value, L.buttonValue, `${at}/value`);
    if (b.url !== undefined) this.length(b.url, L.url, `${at}/url`);
    if (b.style !== undefined && !BUTTON_STYLES.has(String(b.style))) {
      this.add(`must be one of primary, danger (got ${String(b.style)})`, `${at}/style`);
    }
    this.confirm(b.confirm, `${at}/confirm`);
  }

  option(o: unknown, at: string) {
    if (!isObj(o)) return this.add('must be an option object', at);
    this.text(o.text, `${at}/text`, L.optionText);
    if (typeof o.value !== 'string') this.add('is required', `${at}/value`);
    else this.length(o.value, L.optionValue, `${at}/value`);
  }

  options(e: Obj, at: string, max: number, min = 1): Obj[] {
    const opts = e.options;
    if (!Array.isArray(opts)) {
      this.add('is required', `${at}/options`);
      return [];
    }
    if (opts.length > max)
      this.add(`no more than ${max} items allowed (got ${opts.length})`, `${at}/options`);
    if (opts.length < min) this.add(`must contain at least ${min} items`, `${at}/options`);
    opts.forEach((o, i) => {
      this.option(o, `${at}/options/${i}`);
    });
    return opts.filter(isObj);
  }

  /** An interactive element in an actions block, a section accessory or an input block. */
  element(e: unknown, at: string, where: 'actions' | 'accessory' | 'input') {
    if (!isObj(e)) return this.add('must be a block element', at);
    this.id(e.action_id, `${at}/action_id`, L.actionId);
    this.optionalText(e.placeholder, `${at}/placeholder`, L.placeholder, true);
    switch (e.type) {
      case 'button':
        if (where === 'input') return this.add('button is not allowed in an input block', `${at}/type`);
        return this.button(e, at);
      case 'image':
        return this.length(e.alt_text, L.imageAltText, `${at}/alt_text`);
      case 'plain_text_input': {
        const min = e.min_length;
        const max = e.max_length;
        if (min !== undefined && (!Number.isInteger(min) || (min as number) < 0 || (min as number) > 3000)) {
          this.add('must be an integer from 0 to 3000', `${at}/min_length`);
        }
        if (max !== undefined && (!Number.isInteger(max) || (max as number) < 1 || (max as number) > 3000)) {
          this.add('must be an integer from 1 to 3000', `${at}/max_length`);
        }
        if (typeof min === 'number' && typeof max === 'number' && min > max) {
          this.add('min_length must not be greater than max_length', `${at}/min_length`);
        }
        return this.length(e.initial_value, L.textInputLength, `${at}/initial_value`, 0);
      }
      case 'number_input':
        if (typeof e.is_decimal_allowed !== 'boolean') this.add('is required', `${at}/is_decimal_allowed`);
        return;
      case 'datepicker':
        if (e.initial_date !== undefined && !ISO_DATE.test(String(e.initial_date))) {
          this.add('must be a date in the format YYYY-MM-DD', `${at}/initial_date`);
        }
        return;
      case 'static_select':
      case 'radio_buttons':
      case 'checkboxes': {
        const opts = this.options(e, at, e.type === 'static_select' ? L.selectOptions : L.radioOptions);
        const initial = e.type === 'checkboxes' ? e.initial_options : [e.initial_option];
        if (Array.isArray(initial)) {
          initial.forEach((o) => {
            if (o === undefined) return;
            const same = isObj(o) && opts.some((x) => x.value === o.value && sameText(x.text, o.text));
            if (!same) this.add('must match one of the provided options', `${at}/initial_option`);
          });
        }
        return;
      }
      case 'overflow':
        this.options(e, at, 5, 2);
        return this.confirm(e.confirm, `${at}/confirm`);
      case 'users_select':
      case 'conversations_select':
      case 'channels_select':
      case 'external_select':
      case 'multi_static_select':
      case 'timepicker':
      case 'datetimepicker':
      case 'email_text_input':
      case 'url_text_input':
        return;
      default:
        this.add(`unknown element type ${String(e.type)}`, `${at}/type`);
    }
  }

  block(raw: unknown, at: string, allowed: ReadonlySet<string>) {
    if (!isObj(raw)) return this.add('must be a block object', at);
    const b = raw;
    this.id(b.block_id, `${at}/block_id`, L.blockId);
    if (typeof b.type !== 'string' || !allowed.has(b.type)) {
      return this.add(`unsupported block type ${String(b.type)}`, `${at}/type`);
    }
    switch (b.type) {
      case 'header':
        return this.text(b.text, `${at}/text`, L.headerText, true);
      case 'section': {
        const fields = b.fields;
        if (b.text === undefined && (!Array.isArray(fields) || fields.length === 0)) {
          this.add('must provide either text or fields', at);
        }
        this.optionalText(b.text, `${at}/text`, L.text);
        if (Array.isArray(fields)) {
          if (fields.length > L.sectionFields) {
            this.add(`no more than ${L.sectionFields} items allowed (got ${fields.length})`, `${at}/fields`);
          }
          fields.forEach((f, j) => {
            this.text(f, `${at}/fields/${j}`, L.sectionField);
          });
        }
        if (b.accessory !== undefined) this.element(b.accessory, `${at}/accessory`, 'accessory');
        return;
      }
      case 'context': {
        const els = this.elementList(b.elements, at, L.contextElements);
        if (!els) return;
        els.forEach((e, j) => {
          if (isObj(e) && e.type === 'image') this.length(e.alt_text, L.imageAltText, `${at}/elements/${j}`);
          else this.text(e, `${at}/elements/${j}`, L.text);
        });
        return;
      }
      case 'actions': {
        const els = this.elementList(b.elements, at, L.actionsElements);
        if (!els) return;
        const ids = new Set<string>();
        els.forEach((e, j) => {
          this.element(e, `${at}/elements/${j}`, 'actions');
          const id = isObj(e) ? e.action_id : undefined;
          if (typeof id === 'string') {
            if (ids.has(id)) this.add(`duplicate action_id ${id}`, `${at}/elements/${j}/action_id`);
            ids.add(id);
          }
        });
        return;
      }
      case 'input':
        this.text(b.label, `${at}/label`, L.inputLabel, true);
        this.optionalText(b.hint, `${at}/hint`, L.inputHint, true);
        if (b.element === undefined) return this.add('is required', `${at}/element`);
        return this.element(b.element, `${at}/element`, 'input');
      case 'image':
        this.length(b.image_url, L.url, `${at}/image_url`);
        return this.length(b.alt_text, L.imageAltText, `${at}/alt_text`);
      case 'rich_text':
        return this.richText(b.elements, `${at}/elements`);
      default:
        return;
    }
  }

  /**
   * A rich text block's elements (docs.slack.dev/reference/block-kit/blocks/rich-text-block and the
   * rich text element pages): sections, lists, preformatted text and quotes, each with an array of
   * leaf elements of the documented types; a `text` leaf needs its text, a `link` its url, a `user`
   * its user_id, and a style has only the documented boolean properties. Slack publishes no length
   * for a leaf's text, so none is checked here.
   */
  richText(elements: unknown, at: string, parts: ReadonlySet<string> = RICH_TEXT_PARTS) {
    if (!Array.isArray(elements)) return this.add('is required', at);
    for (const [j, el] of elements.entries()) {
      const here = `${at}/${j}`;
      if (!isObj(el) || typeof el.type !== 'string' || !parts.has(el.type)) {
        this.add(
          `must be one of ${[...parts].join(', ')} (got ${String(isObj(el) ? el.type : el)})`,
          `${here}/type`,
        );
        continue;
      }
      if (!Array.isArray(el.elements)) {
        this.add('is required', `${here}/elements`);
        continue;
      }
      if (el.type === 'rich_text_list') {
        if (el.style !== 'bullet' && el.style !== 'ordered') {
          this.add(`must be one of bullet, ordered (got ${String(el.style)})`, `${here}/style`);
        }
        this.richText(el.elements, `${here}/elements`, LIST_ITEMS);
        continue;
      }
      const leaves = el.type === 'rich_text_preformatted' ? PREFORMATTED_LEAVES : RICH_TEXT_LEAVES;
      for (const [k, leaf] of el.elements.entries()) this.richLeaf(leaf, `${here}/elements/${k}`, leaves);
    }
  }

  richLeaf(leaf: unknown, at: string, allowed: ReadonlySet<string>) {
    if (!isObj(leaf) || typeof leaf.type !== 'string' || !allowed.has(leaf.type)) {
      return this.add(
        `unsupported rich text element ${String(isObj(leaf) ? leaf.type : leaf)}`,
        `${at}/type`,
      );
    }
    const required = RICH_TEXT_REQUIRED[leaf.type];
    if (required && typeof leaf[required] !== 'string') this.add('is required', `${at}/${required}`);
    if (leaf.style !== undefined) {
      if (!isObj(leaf.style)) return this.add('must be an object', `${at}/style`);
      for (const [key, value] of Object.entries(leaf.style)) {
        if (!RICH_TEXT_STYLES.has(key)) this.add(`unknown style ${key}`, `${at}/style/${key}`);
        else if (typeof value !== 'boolean') this.add('must be a boolean', `${at}/style/${key}`);
      }
    }
  }

  blocks(blocks: unknown, at: string, max: number, allowed: ReadonlySet<string>) {
    if (!Array.isArray(blocks)) return this.add('must be an array', at);
    if (blocks.length > max) this.add(`no more than ${max} items allowed (got ${blocks.length})`, at);
    const ids = new Set<string>();
    blocks.forEach((b, i) => {
      this.block(b, `${at}/${i}`, allowed);
      const id = isObj(b) ? b.block_id : undefined;
      if (typeof id === 'string') {
        if (ids.has(id)) this.add(`duplicate block_id ${id}`, `${at}/${i}/block_id`);
        ids.add(id);
      }
    });
  }
}

function sameText(a: unknown, b: unknown): boolean {
  return isObj(a) && isObj(b) && a.type === b.type && a.text === b.text;
}

/** Problems in a message's blocks (chat.postMessage, chat.update, chat.postEphemeral, response_url). */
export function blockProblems(blocks: unknown[]): string[] {
  const c = new Checker();
  c.blocks(blocks, '/blocks', L.messageBlocks, MESSAGE_BLOCKS);
  return c.problems;
}

/** Problems in one interactive element (a button, a select) sent on its own to be placed in a block. */
export function elementProblems(
  element: unknown,
  where: 'actions' | 'accessory' | 'input' = 'actions',
): string[] {
  const c = new Checker();
  c.element(element, '/element', where);
  return c.problems;
}

/** Problems in a modal or Home tab view (views.open, views.push, views.update, views.publish). */
export function viewProblems(view: unknown, expected?: 'modal' | 'home'): string[] {
  const c = new Checker();
  if (!isObj(view)) {
    c.add('must be a view object', '/view');
    return c.problems;
  }
  if (view.type !== 'modal' && view.type !== 'home') {
    c.add(`must be one of modal, home (got ${String(view.type)})`, '/view/type');
  } else if (expected && view.type !== expected) {
    c.add(`must be ${expected}`, '/view/type');
  }
  c.id(view.callback_id, '/view/callback_id', L.callbackId);
  c.id(view.external_id, '/view/external_id', L.externalId);
  if (view.private_metadata !== undefined) {
    c.length(view.private_metadata, L.privateMetadata, '/view/private_metadata', 0);
  }
  c.blocks(view.blocks, '/view/blocks', L.surfaceBlocks, SURFACE_BLOCKS);
  if (view.type === 'modal') {
    c.text(view.title, '/view/title', L.viewTitle, true);
    c.optionalText(view.submit, '/view/submit', L.viewButton, true);
    c.optionalText(view.close, '/view/close', L.viewButton, true);
    const hasInput = Array.isArray(view.blocks) && view.blocks.some((b) => isObj(b) && b.type === 'input');
    if (hasInput && view.submit === undefined)
      c.add('submit is required when a view has input blocks', '/view');
  }
  return c.problems;
}
