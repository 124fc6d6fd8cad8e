/**
 * Gateways name models `vendor/model` (OpenRouter, Vercel AI Gateway); OpenAI
 * names the model alone. Both mean the same model and must meet the same price.
 */
export function normalizeModelName(raw: string): string {
  const trimmed = raw.trim().toLowerCase();
  const slash = trimmed.lastIndexOf('/');
  return slash >= 0 ? trimmed.slice(slash + 1) : trimmed;
}

export function normalizeProviderSlug(raw: string): string {
  return raw.trim().toLowerCase();
}

const SNAPSHOT_SUFFIX = /-\d{4}-\d{2}-\d{2}$/;

/** `gpt-image-1-2025-04-23` -> `gpt-image-1`: a dated snapshot of a priced model. */
export function modelWithoutSnapshot(model: string): string | null {
  return SNAPSHOT_SUFFIX.test(model) ? model.replace(SNAPSHOT_SUFFIX, '') : null;
}
