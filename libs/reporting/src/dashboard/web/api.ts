/** The dashboard's only way to the API: the key from this tab, problem+json errors as ApiError. */
export interface FieldError {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message);
  }
  /** The key is missing, wrong or lacks the role: the page signs out. */
  get unauthorised(): boolean {
    return this.status === 401;
  }
}

/** The body of an error answer (application/problem+json, libs/common problem.filter.ts), as far as it is one. */
interface Problem {
  detail?: string;
  errors?: FieldError[];
}

const problemOf = (data: unknown): Problem => (typeof data === 'object' && data !== null ? (data as Problem) : {});

const KEY = 'tokentally.key';

export const session = {
  key: (): string | null => sessionStorage.getItem(KEY),
  signIn: (key: string) => sessionStorage.setItem(KEY, key),
  signOut: () => sessionStorage.removeItem(KEY),
};

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${session.key() ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'The service cannot be reached; check the connection and retry.');
  }
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  const data: unknown = type.includes('json') ? await res.json().catch(() => null) : null;
  if (!res.ok) {
    const problem = problemOf(data);
    const detail = problem.detail ?? `HTTP ${res.status}`;
    const errors: FieldError[] = Array.isArray(problem.errors) ? problem.errors : [];
    // The API names each bad field; the message says which and why.
    const message = errors.length ? `${detail} ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}` : detail;
    throw new ApiError(res.status, message, errors);
  }
  return data as T;
}

/** Each call names the answer it expects (web/api-types.ts); without one, the answer is unknown. */
export const api = {
  get: <T = unknown>(path: string) => request<T>('GET', path),
  post: <T = unknown>(path: string, body?: unknown) => request<T>('POST', path, body ?? {}),
  put: <T = unknown>(path: string, body: unknown) => request<T>('PUT', path, body),
  patch: <T = unknown>(path: string, body: unknown) => request<T>('PATCH', path, body),
  delete: <T = unknown>(path: string) => request<T>('DELETE', path),
};

/** Downloads an authenticated file (CSV) through a blob: a plain link cannot carry the key. */
export async function download(path: string, filename: string): Promise<void> {
  const res = await fetch(path, { headers: { authorization: `Bearer ${session.key() ?? ''}` } });
  if (!res.ok) {
    const problem = problemOf(await res.json().catch(() => null));
    throw new ApiError(res.status, problem.detail ?? `HTTP ${res.status}`, problem.errors ?? []);
  }
  const url = URL.createObjectURL(await res.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
