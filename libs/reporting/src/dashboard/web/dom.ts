/**
 * A small DOM builder: every piece of data becomes a text node or an attribute
 * value set through the DOM, never HTML parsed from a string, so a tag named
 * `<img onerror=...>` is shown as those characters (escaping by construction).
 */
export type Child = Node | string | number | null | undefined | false | Child[];
/** An `on<event>` attribute: a listener added for that event. */
type EventHandler = (event: Event) => void;
type Attributes = Record<string, string | number | boolean | null | undefined | EventHandler>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attributes | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') node.addEventListener(name.replace(/^on/, ''), value);
    else if (name === 'class') node.className = String(value);
    else if (value === true) node.setAttribute(name, '');
    else node.setAttribute(name, String(value));
  }
  append(node, children);
  return node;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the content of `parent` with `children`. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from the page`);
  return node as T;
};

export interface Column<Row> {
  label: string;
  /** The cell's content. */
  cell: (row: Row) => Child;
  numeric?: boolean;
  /** A title (the exact value behind a rounded one). */
  title?: (row: Row) => string | undefined;
}

/**
 * A data table. On a phone each row stacks into label/value lines (the
 * `data-label` of each cell, see dashboard.css), so no table is wider than the
 * screen.
 */
export function table<Row>(
  columns: Column<Row>[],
  rows: Row[],
  options: { empty: string; onRow?: (row: Row) => void; caption?: string; stack?: boolean } = { empty: 'Nothing here' },
): HTMLTableElement {
  const head = h(
    'thead',
    null,
    h(
      'tr',
      null,
      columns.map((c) => h('th', { scope: 'col', class: c.numeric ? 'num' : null }, c.label)),
    ),
  );
  const body = h('tbody');
  if (rows.length === 0)
    body.append(h('tr', null, h('td', { colspan: columns.length, class: 'muted' }, options.empty)));
  for (const row of rows) {
    const tr = h(
      'tr',
      // A row that opens something is reached and opened with the keyboard too; its name is its cells' text.
      options.onRow ? { class: 'link-row', tabindex: 0, title: 'Open the events behind this row' } : null,
      columns.map((c) =>
        h('td', { class: c.numeric ? 'num' : null, 'data-label': c.label, title: c.title?.(row) ?? null }, c.cell(row)),
      ),
    );
    if (options.onRow) {
      const open = options.onRow;
      tr.addEventListener('click', () => open(row));
      tr.addEventListener('keydown', (event) => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          open(row);
        }
      });
    }
    body.append(tr);
  }
  // Narrow two-column lists (the top lists) stay tables on a phone; wide ones stack.
  return h(
    'table',
    { class: options.stack === false ? 'data' : 'data stack' },
    options.caption ? h('caption', { class: 'sr-only' }, options.caption) : null,
    head,
    body,
  );
}
