import { ApiError } from './api';
import { Child, h } from './dom';

/** A form field: `name` is the API's field path, so its errors land beside it. */
export interface FormField {
  name: string;
  label: string;
  control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement | HTMLElement;
  hint?: string;
}

/**
 * A form whose submit calls the API; a 400 puts each of the API's per-field
 * messages beside its field (a path like `scope.project` or `thresholds_pct.1`
 * lands on the nearest field named by its start), the rest above the button.
 */
export function apiForm(
  id: string,
  fields: FormField[],
  submitLabel: string,
  submit: () => Promise<void>,
  extra: Child = null,
): HTMLFormElement {
  const slots = new Map<string, HTMLElement>();
  const general = h('p', { class: 'form-error', role: 'alert', id: `${id}-error` });
  const rows = fields.map((f) => {
    const controlId = `${id}-${f.name.replace(/[^a-z0-9_]+/gi, '-')}`;
    if (!f.control.id) f.control.id = controlId;
    const slot = h('span', { class: 'field-error', id: `${f.control.id}-error`, role: 'alert' });
    f.control.setAttribute('aria-describedby', `${f.control.id}-error`);
    slots.set(f.name, slot);
    const isGroup = f.control.tagName === 'FIELDSET' || f.control.tagName === 'DIV';
    return h(
      'div',
      { class: 'form-row' },
      isGroup ? null : h('label', { for: f.control.id }, f.label),
      f.control,
      f.hint ? h('small', { class: 'muted' }, f.hint) : null,
      slot,
    );
  });
  const button = h('button', { type: 'submit' }, submitLabel);
  const form = h('form', { class: 'api-form', id, novalidate: true }, rows, extra, general, button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    for (const slot of slots.values()) slot.textContent = '';
    form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
    general.textContent = '';
    button.disabled = true;
    try {
      await submit();
    } catch (error) {
      if (error instanceof ApiError && error.errors.length) {
        const unplaced: string[] = [];
        for (const e of error.errors) {
          const name = nearest(e.path, slots);
          if (name === null) unplaced.push(`${e.path}: ${e.message}`);
          else {
            const slot = slots.get(name)!;
            const within = e.path.replace(/\[(\d+)\]/g, '.$1').slice(name.length + 1);
            slot.textContent =
              (slot.textContent ? `${slot.textContent}; ` : '') + (within ? `${within}: ${e.message}` : e.message);
            fields.find((f) => f.name === name)?.control.setAttribute('aria-invalid', 'true');
          }
        }
        general.textContent = unplaced.length ? unplaced.join('; ') : 'Please correct the marked fields.';
      } else {
        general.textContent = error instanceof Error ? error.message : String(error);
      }
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

/** The field a path names or lies under: `thresholds_pct[2]` and `scope.team` land on their fields. */
function nearest(path: string, slots: Map<string, HTMLElement>): string | null {
  let candidate = path.replace(/\[(\d+)\]/g, '.$1');
  for (;;) {
    if (slots.has(candidate)) return candidate;
    const cut = candidate.lastIndexOf('.');
    if (cut < 0) return null;
    candidate = candidate.slice(0, cut);
  }
}

export const input = (name: string, attrs: Record<string, string | number | boolean | null | undefined> = {}) =>
  h('input', { name, ...attrs }) as HTMLInputElement;

export function select(name: string, options: Array<[string, string]>, value = ''): HTMLSelectElement {
  return h(
    'select',
    { name },
    options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)),
  );
}

/** A group of checkboxes: the values checked. */
export function checkboxes(
  name: string,
  legend: string,
  options: Array<[string, string]>,
  checked: string[] = [],
): HTMLFieldSetElement & { values: () => string[] } {
  const boxes = options.map(([value, label]) => {
    const box = h('input', { type: 'checkbox', name, value, checked: checked.includes(value) });
    return { box, label: h('label', { class: 'check' }, box, ` ${label}`) };
  });
  const set = h(
    'fieldset',
    { class: 'checks' },
    h('legend', null, legend),
    boxes.length ? boxes.map((b) => b.label) : h('span', { class: 'muted' }, 'none yet'),
  ) as HTMLFieldSetElement & { values: () => string[] };
  set.values = () => boxes.filter((b) => b.box.checked).map((b) => b.box.value);
  return set;
}

/** A secret shown once, with a copy button. */
export function secretOnce(label: string, value: string): HTMLElement {
  const code = h('code', { class: 'secret', id: 'secret-once' }, value);
  return h(
    'div',
    { class: 'banner good', role: 'status' },
    h('strong', null, `${label}: `),
    code,
    ' ',
    h(
      'button',
      { type: 'button', class: 'secondary', onclick: () => void navigator.clipboard?.writeText(value) },
      'Copy',
    ),
    h('p', null, 'Copy it now: it is shown this once and stored only in a form that cannot be read back.'),
  );
}
