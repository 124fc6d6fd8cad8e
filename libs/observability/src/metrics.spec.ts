import { completionLevel } from './http-observability';
import { eventRejectionReason, IngestMetrics, Metrics } from './metrics';
import { requestIdOf } from './request-id';

async function sampleValues(metrics: Metrics, name: string): Promise<Record<string, number>> {
  const metric = await metrics.registry.getSingleMetric(name)!.get();
  return Object.fromEntries(
    metric.values.map((v) => [
      Object.entries(v.labels)
        .map(([k, l]) => `${k}=${l}`)
        .join(','),
      v.value,
    ]),
  );
}

describe('eventRejectionReason', () => {
  it.each([
    ['events[3].timestamp', 'timestamp'],
    ['timestamp', 'timestamp'],
    ['[0].event_id', 'event_id'],
    ['events[12].usage.output_image_tokens', 'usage'],
    ['usage', 'usage'],
    ['events[1].dimensions.team', 'dimensions'],
    ['events[1].tags.campaign', 'tags'],
    ['events[0].latency_ms', 'other_field'],
    ['events[0].anything_new', 'other_field'],
    ['events[4]', 'not_an_object'],
    ['[4]', 'not_an_object'],
    ['(body)', 'not_an_object'],
    [undefined, 'not_an_object'],
  ])('%s -> %s', (path, reason) => {
    expect(eventRejectionReason(path)).toBe(reason);
  });
});

describe('IngestMetrics', () => {
  it('counts events by result and rejected events by the field of their first error, every series from 0', async () => {
    const metrics = new Metrics();
    const ingest = new IngestMetrics(metrics);
    expect(await sampleValues(metrics, 'tokentally_ingest_events_total')).toEqual({
      'result=accepted': 0,
      'result=duplicate': 0,
      'result=rejected': 0,
    });
    ingest.stored({ accepted: 2, duplicates: 1 }, [
      { errors: [{ path: 'events[3].timestamp' }, { path: 'events[3].model' }] },
      { errors: [{ path: 'events[4]' }] },
    ]);
    ingest.requestRejected('too_many');
    expect(await sampleValues(metrics, 'tokentally_ingest_events_total')).toEqual({
      'result=accepted': 2,
      'result=duplicate': 1,
      'result=rejected': 2,
    });
    expect(await sampleValues(metrics, 'tokentally_ingest_rejected_events_total')).toMatchObject({
      'reason=timestamp': 1,
      'reason=model': 0,
      'reason=not_an_object': 1,
    });
    expect(await sampleValues(metrics, 'tokentally_ingest_rejected_requests_total')).toMatchObject({
      'reason=too_many': 1,
      'reason=malformed': 0,
    });
  });
});

describe('Metrics.observeRequest', () => {
  it('labels by route template, a known method or OTHER, and the status class', async () => {
    const metrics = new Metrics();
    metrics.observeRequest('GET', '/v1/events/:project_id/:event_id', 200, 12);
    metrics.observeRequest('PROPFIND', undefined, 404, 1);
    const counts = (await metrics.registry.metrics())
      .split('\n')
      .filter((line) => line.startsWith('tokentally_http_request_duration_seconds_count'));
    expect(counts).toEqual([
      'tokentally_http_request_duration_seconds_count{route="/v1/events/:project_id/:event_id",method="GET",status_class="2xx"} 1',
      'tokentally_http_request_duration_seconds_count{route="unmatched",method="OTHER",status_class="4xx"} 1',
    ]);
  });
});

describe('requestIdOf', () => {
  const of = (value?: string | string[]) =>
    requestIdOf({ headers: value === undefined ? {} : { 'x-request-id': value } });
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it('keeps a sane token of up to 128 characters', () => {
    for (const id of ['abc', 'edge-proxy.7f3a_b2', 'A'.repeat(128), '0af7651916cd43dd8448eb211c80319c'])
      expect(of(id)).toBe(id);
  });

  it('makes a UUID when there is none or it is not a sane token', () => {
    for (const id of [undefined, '', 'A'.repeat(129), 'two words', '<script>', 'a"b', 'ü', 'a\nb', ['a', 'b'], 'a, b'])
      expect(of(id)).toMatch(UUID);
    expect(of()).not.toBe(of());
  });
});

describe('completionLevel', () => {
  it('logs fast successes at debug, refusals and slow requests at info, 5xx at warn, 429 at debug', () => {
    expect(completionLevel(202, 3)).toBe('debug');
    expect(completionLevel(304, 3)).toBe('debug');
    expect(completionLevel(200, 1500)).toBe('info');
    expect(completionLevel(400, 2)).toBe('info');
    expect(completionLevel(401, 2)).toBe('info');
    expect(completionLevel(429, 2)).toBe('debug');
    expect(completionLevel(503, 2)).toBe('warn');
  });
});
