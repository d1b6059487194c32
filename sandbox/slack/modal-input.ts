// What Slack's client does with a modal before it sends anything: build the view's `state.values`
// from what the person entered, and refuse what its own checks refuse (required fields, text
// lengths, number ranges, known options).
import { derivedBlockId } from './block-id.ts';
import type { SandboxView } from './surfaces.ts';

type Obj = Record<string, unknown>;

/** What a person entered in a modal: block id → action id → the raw value from the form. */
export type EnteredValues = Record<string, Record<string, string | string[] | null>>;

const INPUT_REQUIRED = 'Please complete this required field.';

/**
 * The view's `state.values` as Slack builds them from what was entered, and the checks Slack's client
 * makes before it sends anything: required fields, text lengths, number ranges, known options.
 */
export function stateOf(
  view: SandboxView,
  entered: EnteredValues,
): { values: SandboxView['state']['values']; errors: Record<string, string> } {
  const values: SandboxView['state']['values'] = {};
  const errors: Record<string, string> = {};
  view.blocks.forEach((b, i) => {
    if (b.type !== 'input') return;
    const el = b.element as Obj;
    const blockId = typeof b.block_id === 'string' ? b.block_id : derivedBlockId(view.id, i);
    const actionId = typeof el.action_id === 'string' ? el.action_id : derivedBlockId(`${view.id}a`, i);
    const raw = entered[blockId]?.[actionId] ?? null;
    const str = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
    const empty = Array.isArray(raw) ? raw.length === 0 : str.trim() === '';
    const options = (el.options as Obj[] | undefined) ?? [];
    const option = (v: string) => options.find((o) => o.value === v);
    let state: Obj;
    switch (el.type) {
      case 'plain_text_input': {
        state = { type: el.type, value: empty ? null : str };
        if (!empty && typeof el.min_length === 'number' && str.length < el.min_length) {
          errors[blockId] = `Must be at least ${el.min_length} characters.`;
        }
        if (!empty && typeof el.max_length === 'number' && str.length > el.max_length) {
          errors[blockId] = `Must be at most ${el.max_length} characters.`;
        }
        break;
      }
      case 'number_input': {
        state = { type: el.type, value: empty ? null : str.trim() };
        const n = Number(str);
        if (!empty) {
          if (!Number.isFinite(n) || (el.is_decimal_allowed !== true && !Number.isInteger(n))) {
            errors[blockId] = el.is_decimal_allowed === true ? 'Enter a number.' : 'Enter a whole number.';
          } else if (el.min_value !== undefined && n < Number(el.min_value)) {
            errors[blockId] = `Enter a number of at least ${String(el.min_value)}.`;
          } else if (el.max_value !== undefined && n > Number(el.max_value)) {
            errors[blockId] = `Enter a number of at most ${String(el.max_value)}.`;
          }
        }
        break;
      }
      case 'datepicker':
        state = { type: el.type, selected_date: empty ? null : str };
        if (!empty && !/^\d{4}-\d{2}-\d{2}$/.test(str)) errors[blockId] = 'Pick a date.';
        break;
      case 'static_select':
      case 'radio_buttons': {
        const o = empty ? undefined : option(str);
        state = { type: el.type, selected_option: o ? { text: o.text, value: o.value } : null };
        if (!empty && !o) errors[blockId] = 'Pick one of the options.';
        break;
      }
      case 'checkboxes': {
        const picked = (Array.isArray(raw) ? raw : empty ? [] : [str]).map(option);
        state = {
          type: el.type,
          selected_options: picked.filter(Boolean).map((o) => ({ text: o!.text, value: o!.value })),
        };
        break;
      }
      default:
        state = { type: el.type, value: empty ? null : str };
    }
    if (empty && b.optional !== true) errors[blockId] = INPUT_REQUIRED;
    values[blockId] = { [actionId]: state };
  });
  return { values, errors };
}
