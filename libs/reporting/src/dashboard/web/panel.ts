import { ApiError } from './api';
import { Child, fill, h } from './dom';

/**
 * A card with its own states: loading, data, empty and error. A panel whose
 * report fails shows the API's message and a retry; the others keep theirs.
 */
export class Panel {
  readonly root: HTMLElement;
  readonly body: HTMLElement;
  private readonly heading: HTMLElement;
  private readonly tools: HTMLElement;

  constructor(
    readonly id: string,
    title: string,
    readonly size: 'wide' | 'half' | 'quarter' = 'quarter',
  ) {
    this.heading = h('h2', { id: `${id}-title` }, title);
    this.tools = h('div', { class: 'tools' });
    this.body = h('div', { class: 'panel-body', id: `${id}-body` });
    this.root = h(
      'section',
      { class: `card panel ${size}`, id, 'aria-labelledby': `${id}-title`, 'data-state': 'loading' },
      h('div', { class: 'panel-head' }, this.heading, this.tools),
      this.body,
    );
  }

  title(text: string): void {
    this.heading.textContent = text;
  }

  setTools(...children: Child[]): void {
    fill(this.tools, ...children);
  }

  loading(): void {
    this.root.dataset.state = 'loading';
    this.root.setAttribute('aria-busy', 'true');
    fill(this.body, h('div', { class: 'skeleton', role: 'status' }, h('span', { class: 'sr-only' }, 'Loading…')));
  }

  show(...children: Child[]): void {
    this.root.dataset.state = 'ready';
    this.root.removeAttribute('aria-busy');
    fill(this.body, ...children);
  }

  empty(message: Child): void {
    this.root.dataset.state = 'empty';
    this.root.removeAttribute('aria-busy');
    fill(this.body, h('p', { class: 'muted empty-state' }, message));
  }

  error(error: unknown, retry?: () => void): void {
    this.root.dataset.state = 'error';
    this.root.removeAttribute('aria-busy');
    const message = error instanceof ApiError ? error.message : error instanceof Error ? error.message : String(error);
    fill(
      this.body,
      h(
        'div',
        { class: 'panel-error', role: 'alert' },
        h('strong', null, 'Could not load this panel. '),
        message,
        ' ',
        retry ? h('button', { type: 'button', class: 'link', onclick: retry }, 'Retry') : null,
      ),
    );
  }

  /** Runs `load`, drawing its states; returns whether it drew data. Stale answers (a newer load began) are dropped. */
  async run<T>(
    generation: () => boolean,
    load: () => Promise<T>,
    render: (data: T) => void,
    onAuthError: (e: ApiError) => void,
  ): Promise<boolean> {
    this.loading();
    try {
      const data = await load();
      if (!generation()) return false;
      render(data);
      return true;
    } catch (error) {
      if (!generation()) return false;
      if (error instanceof ApiError && error.unauthorised) onAuthError(error);
      else this.error(error, () => void this.run(generation, load, render, onAuthError));
      return false;
    }
  }
}
