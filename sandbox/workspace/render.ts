// Block Kit → HTML for the workspace page: messages, threads, ephemeral replies, modals and the Home
// tab, shown as Slack shows them and accessible by construction (buttons are <button> named by their
// label, messages are <article>, modals are role="dialog" named by their title, every input has a
// label). A button carries only where it is (its block and element index); what the click sends is
// read from the stored message by the dispatcher, as Slack does.
import { derivedBlockId } from '../slack/block-id.ts';
import type { SandboxView } from '../slack/surfaces.ts';
import { escapeHtml, type MrkdwnContext, mrkdwnToHtml, plainToHtml } from './mrkdwn.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

export interface RenderContext extends MrkdwnContext {
  /** Slack's warning on a button whose click the app did not answer, if any. */
  warning?(blockIndex: number, elementIndex: number | undefined): string | undefined;
}

/** A text object: mrkdwn or plain_text. */
export function textHtml(t: unknown, ctx: MrkdwnContext): string {
  if (!isObj(t) || typeof t.text !== 'string') return '';
  return t.type === 'mrkdwn' ? mrkdwnToHtml(t.text, ctx) : plainToHtml(t.text);
}

function plainText(t: unknown): string {
  return isObj(t) && typeof t.text === 'string' ? t.text : '';
}

function attr(v: string | number): string {
  return escapeHtml(String(v));
}

function button(b: Obj, blockIndex: number, elementIndex: number | undefined, ctx: RenderContext): string {
  const style = b.style === 'primary' || b.style === 'danger' ? ` ${b.style}` : '';
  const label = plainText(b.text);
  const data = [
    `data-block="${blockIndex}"`,
    elementIndex === undefined ? '' : `data-element="${elementIndex}"`,
    typeof b.url === 'string' ? `data-url="${attr(b.url)}"` : '',
    isObj(b.confirm) ? 'data-confirm' : '',
  ]
    .filter(Boolean)
    .join(' ');
  const confirm = isObj(b.confirm) ? confirmTemplate(b.confirm, ctx) : '';
  const warning = ctx.warning?.(blockIndex, elementIndex);
  const warn = warning
    ? `<span class="bk-warning" role="status" title="${attr(warning)}">⚠️ <span class="sr">${escapeHtml(
        `The app did not respond: ${warning}`,
      )}</span></span>`
    : '';
  return `<span class="bk-button-wrap"><button type="button" class="bk-button${style}" ${data}>${escapeHtml(label)}</button>${confirm}${warn}</span>`;
}

/** A button's confirmation dialog, cloned by the page when the button is pressed. */
function confirmTemplate(c: Obj, ctx: MrkdwnContext): string {
  const confirmStyle = c.style === 'danger' ? ' danger' : c.style === 'primary' ? ' primary' : '';
  return `<template class="confirm-template"><div class="modal-backdrop"><div class="modal confirm" role="alertdialog" aria-modal="true" aria-labelledby="confirm-title" aria-describedby="confirm-text"><h2 id="confirm-title">${escapeHtml(
    plainText(c.title) || 'Are you sure?',
  )}</h2><div id="confirm-text">${textHtml(c.text, ctx)}</div><div class="modal-footer"><button type="button" class="bk-button" data-deny>${escapeHtml(
    plainText(c.deny) || 'Cancel',
  )}</button><button type="button" class="bk-button${confirmStyle}" data-confirmed>${escapeHtml(
    plainText(c.confirm) || 'Yes',
  )}</button></div></div></div></template>`;
}

function element(
  e: unknown,
  blockIndex: number,
  elementIndex: number | undefined,
  ctx: RenderContext,
): string {
  if (!isObj(e)) return '';
  switch (e.type) {
    case 'button':
      return button(e, blockIndex, elementIndex, ctx);
    case 'image':
      return `<img class="bk-image-el" src="${attr(String(e.image_url ?? ''))}" alt="${attr(String(e.alt_text ?? ''))}">`;
    default:
      return `<span class="bk-unsupported">[${escapeHtml(String(e.type))}]</span>`;
  }
}

function richText(elements: unknown, ctx: MrkdwnContext): string {
  if (!Array.isArray(elements)) return '';
  const leaf = (el: unknown): string => {
    if (!isObj(el)) return '';
    let html: string;
    switch (el.type) {
      case 'text':
        html = plainToHtml(String(el.text ?? ''));
        break;
      case 'link': {
        const url = String(el.url ?? '');
        const text = escapeHtml(String(el.text ?? url));
        html = /^https?:\/\//.test(url)
          ? `<a href="${attr(url)}" target="_blank" rel="noopener noreferrer">${text}</a>`
          : text;
        break;
      }
      case 'user':
        html = `<span class="mention">@${escapeHtml(ctx.userName(String(el.user_id)) ?? String(el.user_id))}</span>`;
        break;
      case 'channel':
        html = `<a class="channel-link" href="#/${attr(String(el.channel_id))}">#${escapeHtml(
          ctx.channelName(String(el.channel_id)) ?? String(el.channel_id),
        )}</a>`;
        break;
      case 'broadcast':
        html = `<span class="mention broadcast">@${escapeHtml(String(el.range ?? ''))}</span>`;
        break;
      case 'emoji':
        html = typeof el.unicode === 'string' ? emoji(el.unicode) : `:${escapeHtml(String(el.name ?? ''))}:`;
        break;
      default:
        html = '';
    }
    const s = isObj(el.style) ? el.style : {};
    if (s.code) html = `<code>${html}</code>`;
    if (s.bold) html = `<strong>${html}</strong>`;
    if (s.italic) html = `<em>${html}</em>`;
    if (s.strike) html = `<del>${html}</del>`;
    return html;
  };
  const part = (p: unknown): string => {
    if (!isObj(p)) return '';
    const inner = Array.isArray(p.elements) ? p.elements : [];
    switch (p.type) {
      case 'rich_text_section':
        return `<div>${inner.map(leaf).join('')}</div>`;
      case 'rich_text_preformatted':
        return `<pre>${inner.map(leaf).join('')}</pre>`;
      case 'rich_text_quote':
        return `<blockquote>${inner.map(leaf).join('')}</blockquote>`;
      case 'rich_text_list': {
        const tag = p.style === 'ordered' ? 'ol' : 'ul';
        return `<${tag}>${inner.map((x) => `<li>${isObj(x) && Array.isArray(x.elements) ? x.elements.map(leaf).join('') : ''}</li>`).join('')}</${tag}>`;
      }
      default:
        return '';
    }
  };
  return elements.map(part).join('');
}

function emoji(unicode: string): string {
  try {
    return String.fromCodePoint(...unicode.split('-').map((h) => Number.parseInt(h, 16)));
  } catch {
    return '';
  }
}

/** One block of a message or a Home tab (input blocks are rendered by `viewHtml`). */
export function blockHtml(b: unknown, i: number, ctx: RenderContext): string {
  if (!isObj(b)) return '';
  switch (b.type) {
    case 'header':
      return `<h3 class="bk-header">${plainToHtml(plainText(b.text))}</h3>`;
    case 'section': {
      const text = b.text === undefined ? '' : `<div class="bk-text">${textHtml(b.text, ctx)}</div>`;
      const fields = Array.isArray(b.fields)
        ? `<div class="bk-fields">${b.fields.map((f) => `<div class="bk-field">${textHtml(f, ctx)}</div>`).join('')}</div>`
        : '';
      const acc =
        b.accessory === undefined
          ? ''
          : `<div class="bk-accessory">${element(b.accessory, i, undefined, ctx)}</div>`;
      return `<div class="bk-section"><div class="bk-section-body">${text}${fields}</div>${acc}</div>`;
    }
    case 'context': {
      const els = Array.isArray(b.elements) ? b.elements : [];
      return `<div class="bk-context">${els
        .map((e) =>
          isObj(e) && e.type === 'image'
            ? `<img src="${attr(String(e.image_url ?? ''))}" alt="${attr(String(e.alt_text ?? ''))}">`
            : `<span>${textHtml(e, ctx)}</span>`,
        )
        .join('')}</div>`;
    }
    case 'actions': {
      const els = Array.isArray(b.elements) ? b.elements : [];
      return `<div class="bk-actions">${els.map((e, j) => element(e, i, j, ctx)).join('')}</div>`;
    }
    case 'divider':
      return '<hr class="bk-divider">';
    case 'image':
      return `<figure class="bk-image"><img src="${attr(String(b.image_url ?? ''))}" alt="${attr(String(b.alt_text ?? ''))}">${
        b.title ? `<figcaption>${plainToHtml(plainText(b.title))}</figcaption>` : ''
      }</figure>`;
    case 'rich_text':
      return `<div class="bk-rich">${richText(b.elements, ctx)}</div>`;
    case 'markdown':
      return `<div class="bk-text">${plainToHtml(String(b.text ?? ''))}</div>`;
    default:
      return `<div class="bk-unsupported">[${escapeHtml(String(b.type))} block]</div>`;
  }
}

/** A message body: its blocks, or its text when it has none (the text is the fallback otherwise). */
export function messageBodyHtml(m: { text: string; blocks: unknown[] }, ctx: RenderContext): string {
  if (m.blocks.length === 0) return `<div class="bk-text">${mrkdwnToHtml(m.text, ctx)}</div>`;
  return m.blocks.map((b, i) => blockHtml(b, i, ctx)).join('');
}

// ------------------------------------------------------------------------------------------ modals

function inputHtml(b: Obj, i: number, view: SandboxView): string {
  const el = isObj(b.element) ? b.element : {};
  const blockId = typeof b.block_id === 'string' ? b.block_id : derivedBlockId(view.id, i);
  const actionId = typeof el.action_id === 'string' ? el.action_id : derivedBlockId(`${view.id}a`, i);
  const id = `in-${i}`;
  const error = view.errors?.[blockId];
  const hint = b.hint ? `<p class="hint" id="${id}-hint">${plainToHtml(plainText(b.hint))}</p>` : '';
  const err = error ? `<p class="field-error" id="${id}-err">${escapeHtml(error)}</p>` : '';
  const described = [b.hint ? `${id}-hint` : '', error ? `${id}-err` : ''].filter(Boolean).join(' ');
  const common = `id="${id}" name="${attr(blockId)}" data-block-id="${attr(blockId)}" data-action-id="${attr(actionId)}"${
    described ? ` aria-describedby="${described}"` : ''
  }${error ? ' aria-invalid="true"' : ''}${b.optional === true ? '' : ' aria-required="true"'}`;
  const label = `${plainToHtml(plainText(b.label))}${b.optional === true ? ' <span class="optional">(optional)</span>' : ''}`;
  const placeholder = isObj(el.placeholder) ? ` placeholder="${attr(plainText(el.placeholder))}"` : '';
  const options = Array.isArray(el.options) ? el.options.filter(isObj) : [];
  const initial = isObj(el.initial_option) ? String(el.initial_option.value) : undefined;
  let control: string;
  switch (el.type) {
    case 'plain_text_input': {
      const len = `${typeof el.max_length === 'number' ? ` maxlength="${el.max_length}"` : ''}`;
      const value = typeof el.initial_value === 'string' ? el.initial_value : '';
      control =
        el.multiline === true
          ? `<textarea ${common}${placeholder}${len} rows="4">${escapeHtml(value)}</textarea>`
          : `<input type="text" ${common}${placeholder}${len} value="${attr(value)}">`;
      break;
    }
    case 'number_input':
      control = `<input type="number" ${common}${placeholder}${el.min_value !== undefined ? ` min="${attr(String(el.min_value))}"` : ''}${
        el.max_value !== undefined ? ` max="${attr(String(el.max_value))}"` : ''
      } step="${el.is_decimal_allowed === true ? 'any' : '1'}" value="${attr(String(el.initial_value ?? ''))}">`;
      break;
    case 'datepicker':
      control = `<input type="date" ${common} value="${attr(String(el.initial_date ?? ''))}">`;
      break;
    case 'static_select':
      control = `<select ${common}><option value="">${escapeHtml(
        isObj(el.placeholder) ? plainText(el.placeholder) : 'Select an option',
      )}</option>${options
        .map(
          (o) =>
            `<option value="${attr(String(o.value))}"${String(o.value) === initial ? ' selected' : ''}>${escapeHtml(plainText(o.text))}</option>`,
        )
        .join('')}</select>`;
      break;
    case 'radio_buttons':
    case 'checkboxes': {
      const type = el.type === 'radio_buttons' ? 'radio' : 'checkbox';
      const initials =
        el.type === 'checkboxes' && Array.isArray(el.initial_options)
          ? el.initial_options.filter(isObj).map((o) => String(o.value))
          : initial === undefined
            ? []
            : [initial];
      return `<fieldset class="field"${described ? ` aria-describedby="${described}"` : ''}><legend>${label}</legend>${options
        .map(
          (o, j) =>
            `<label class="choice"><input type="${type}" name="${attr(blockId)}" data-block-id="${attr(blockId)}" data-action-id="${attr(
              actionId,
            )}" value="${attr(String(o.value))}" id="${id}-${j}"${initials.includes(String(o.value)) ? ' checked' : ''}> ${escapeHtml(
              plainText(o.text),
            )}</label>`,
        )
        .join('')}${hint}${err}</fieldset>`;
    }
    default:
      control = `<input type="text" ${common}>`;
  }
  return `<div class="field"><label for="${id}">${label}</label>${control}${hint}${err}</div>`;
}

/** The top modal of a person's stack: a labelled dialog with its form, errors and footer buttons. */
export function viewHtml(view: SandboxView, ctx: RenderContext): string {
  const titleId = `modal-title-${view.id}`;
  const blocks = view.blocks
    .map((b, i) => (isObj(b) && b.type === 'input' ? inputHtml(b, i, view) : blockHtml(b, i, ctx)))
    .join('');
  const failure = view.failure ? `<p class="modal-failure" role="alert">${escapeHtml(view.failure)}</p>` : '';
  const close = plainText(view.close) || 'Cancel';
  const submit = view.submit
    ? `<button type="submit" class="bk-button primary">${escapeHtml(plainText(view.submit))}</button>`
    : '';
  return `<div class="modal-backdrop"><div class="modal" role="dialog" aria-modal="true" aria-labelledby="${titleId}" data-view-id="${attr(
    view.id,
  )}" data-hash="${attr(view.hash)}"><h2 id="${titleId}">${plainToHtml(plainText(view.title))}</h2><form class="modal-form" novalidate data-view-id="${attr(
    view.id,
  )}"><div class="modal-body">${blocks}</div>${failure}<div class="modal-footer"><button type="button" class="bk-button" data-close-view>${escapeHtml(
    close,
  )}</button>${submit}</div></form></div></div>`;
}
