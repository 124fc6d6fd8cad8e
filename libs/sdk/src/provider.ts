/** The provider a request goes to, from its host. Unknown hosts are named by their host. */
export function detectProvider(url: string): string {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return 'unknown';
  }
  if (host === 'api.openai.com') return 'openai';
  if (host === 'ai-gateway.vercel.sh' || host.endsWith('.ai-gateway.vercel.sh')) return 'vercel';
  if (host === 'openrouter.ai' || host.endsWith('.openrouter.ai')) return 'openrouter';
  if (
    host.endsWith('.openai.azure.com') ||
    host.endsWith('.cognitiveservices.azure.com') ||
    host.endsWith('.services.ai.azure.com')
  ) {
    return 'azure';
  }
  return host;
}

/** `openai/gpt-image-2` (gateways) -> `gpt-image-2`. */
export function normalizeModel(model: string): string {
  const trimmed = model.trim().toLowerCase();
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** Azure names the deployment in the path: /openai/deployments/<name>/images/generations. */
export function azureDeployment(url: string): string | null {
  const match = /\/deployments\/([^/]+)\//.exec(url);
  return match ? decodeURIComponent(match[1]) : null;
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
 * detectProvider with the last answer kept: a client calls one base URL, so
 * the host is parsed once, not on every call.
 */
export function providerDetector(): (url: string) => string {
  let origin = '';
  let provider = '';
  return (url) => {
    const end = authorityEnd(url);
    if (end < 0 || end !== origin.length || !url.startsWith(origin)) {
      origin = end < 0 ? '' : url.slice(0, end);
      provider = detectProvider(url);
    }
    return provider;
  };
}
