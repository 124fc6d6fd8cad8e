import { percentDecoded } from './context';

/** The provider of a known host, or null. */
function providerOfHost(host: string): string | null {
  if (host === 'api.openai.com') return 'openai';
  if (host === 'ai-gateway.vercel.sh' || host.endsWith('.ai-gateway.vercel.sh')) return 'vercel';
  if (host === 'openrouter.ai' || host.endsWith('.openrouter.ai')) return 'openrouter';
  if (host === 'generativelanguage.googleapis.com') return 'google';
  if (
    host.endsWith('.openai.azure.com') ||
    host.endsWith('.cognitiveservices.azure.com') ||
    host.endsWith('.services.ai.azure.com')
  ) {
    return 'azure';
  }
  return null;
}

/**
 * The provider an API's own path shape names, whatever the host (a proxy, a
 * custom domain, a private endpoint): Azure's deployment paths and the Gemini
 * API's OpenAI-compatible `/v1beta/openai/`. (OpenRouter's `/api/v1/` is not
 * one: other services use it too, and would be priced as OpenRouter.)
 */
function providerOfPath(path: string): string | null {
  if (path.startsWith('/openai/deployments/')) return 'azure';
  if (path.startsWith('/v1beta/openai/')) return 'google';
  return null;
}

/**
 * The provider a request goes to: from its host, then from its path's shape;
 * other hosts are named by their host.
 */
export function detectProvider(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'unknown';
  }
  const host = parsed.hostname.toLowerCase();
  return providerOfHost(host) ?? providerOfPath(parsed.pathname) ?? host;
}

/** `openai/gpt-image-2` (gateways) -> `gpt-image-2`. */
export function normalizeModel(model: string): string {
  const trimmed = model.trim().toLowerCase();
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** Azure names the deployment in the path: /openai/deployments/<name>/images/generations. */
export function azureDeployment(url: string): string | null {
  const match = /\/deployments\/([^/]+)\//.exec(url);
  return match ? percentDecoded(match[1]) : null;
}

/** Where the authority (host and port) of an absolute URL ends, or -1 when the URL has no scheme. */
function authorityEnd(url: string): number {
  const scheme = url.indexOf('://');
  if (scheme < 0) return -1;
  for (let i = scheme + 3; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) return i;
  }
  return url.length;
}

/**
 * The path of an absolute URL, read without parsing the URL (`new URL` cost
 * about a microsecond a call); null for a URL without a scheme, which fetch
 * refuses anyway.
 */
export function pathOf(url: string): string | null {
  const start = authorityEnd(url);
  if (start < 0) return null;
  if (start === url.length || url.charCodeAt(start) !== 47) return '/';
  let end = url.length;
  const query = url.indexOf('?', start);
  if (query >= 0) end = query;
  const hash = url.indexOf('#', start);
  if (hash >= 0 && hash < end) end = hash;
  return url.slice(start, end);
}

/**
 * detectProvider with the host's answer kept: a client calls one base URL, so
 * the host is parsed once, not on every call. For a host it does not know,
 * the path's shape is read on every call (a few `startsWith`).
 */
export function providerDetector(): (url: string) => string {
  let origin = '';
  let host = '';
  let known: string | null = null;
  return (url) => {
    const end = authorityEnd(url);
    if (end < 0) return detectProvider(url);
    if (origin === '' || end !== origin.length || !url.startsWith(origin)) {
      try {
        host = new URL(url).hostname.toLowerCase();
      } catch {
        return 'unknown';
      }
      origin = url.slice(0, end);
      known = providerOfHost(host);
    }
    if (known !== null) return known;
    const path = pathOf(url);
    return (path !== null ? providerOfPath(path) : null) ?? host;
  };
}
