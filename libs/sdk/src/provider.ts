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
