import { randomUUID } from 'node:crypto';
import { HttpClient } from './http';

/** A usage event in the wire format of POST /v1/events, with sensible defaults. */
export function usageEvent(overrides: Record<string, unknown> = {}): Record<string, any> {
  return {
    event_id: randomUUID(),
    timestamp: new Date(Date.now() - 60_000).toISOString(),
    provider: 'openai',
    model: 'gpt-image-2',
    operation: 'images.generate',
    usage: { input_text_tokens: 120, output_image_tokens: 4160 },
    images: 1,
    image_size: '1024x1024',
    image_quality: 'high',
    status: 'ok',
    latency_ms: 8123,
    dimensions: { team: 'growth', user: 'u_42', feature: 'avatars', environment: 'prod' },
    tags: { campaign: 'black-friday' },
    ...overrides,
  };
}

/** Creates a project and an ingest key for it; returns a client that uses the key. */
export async function projectWithIngestKey(admin: HttpClient, name = `project-${randomUUID().slice(0, 8)}`) {
  const project = await admin.post('/v1/projects', { name });
  if (project.status !== 201) throw new Error(`project: ${project.status} ${project.text}`);
  const key = await admin.post('/v1/keys', { name: `${name} ingest`, role: 'ingest', project_id: project.body.id });
  if (key.status !== 201) throw new Error(`key: ${key.status} ${key.text}`);
  return { projectId: project.body.id as string, key: key.body.key as string, client: admin.as(key.body.key) };
}

export async function viewerClient(admin: HttpClient): Promise<HttpClient> {
  const key = await admin.post('/v1/keys', { name: `viewer ${randomUUID().slice(0, 8)}`, role: 'viewer' });
  if (key.status !== 201) throw new Error(`viewer key: ${key.status} ${key.text}`);
  return admin.as(key.body.key);
}
