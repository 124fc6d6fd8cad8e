import { Inject, Injectable } from '@nestjs/common';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig, DomainError } from '@tokentally/common';
// The secrets helper only (no Nest module): seals the signing key at rest like the webhook secrets.
import { keyringOf } from '@tokentally/common/secrets';
import { ChartLinksRepository } from './chart-links.sql';

/** How long a shared chart link works. */
export const CHART_LINK_TTL_S = 30 * 24 * 3600;

/**
 * Shareable chart links for alerts: `/v1/charts/shared/<chart>.png?<params>&expires&sig`
 * opens without a key (Slack can unfurl it) until it expires, and only for
 * exactly the chart and parameters that were signed. The signing key lives in
 * the database, so every replica and restart shares it, sealed (AES-256-GCM)
 * with the data key of libs/webhooks/src/secrets.ts.
 */
@Injectable()
export class ChartLinks {
  private key: Promise<Buffer> | null = null;

  constructor(
    // For the keyring only (libs/common secrets.ts reads the data key).
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ChartLinksRepository) private readonly repository: ChartLinksRepository,
  ) {}

  /** A signed link to `/v1/charts/<file>` with `params`. */
  async url(file: string, params: Record<string, string>, now = new Date()): Promise<string> {
    const expires = String(Math.floor(now.getTime() / 1000) + CHART_LINK_TTL_S);
    const query = new URLSearchParams({ ...params, expires });
    query.sort();
    query.set('sig', await this.sign(file, query));
    return `${this.config.publicUrl}/v1/charts/shared/${file}?${query}`;
  }

  /** The chart parameters of a valid, unexpired link, or a 403 problem. */
  async paramsOrForbidden(file: string, query: Record<string, unknown>): Promise<Record<string, string>> {
    const params = await this.verify(file, query);
    if (!params)
      throw new DomainError(
        'forbidden',
        'This chart link is not valid or has expired; open the chart with a viewer key.',
      );
    return params;
  }

  /** The parameters of a valid, unexpired link (without expires and sig), or null. */
  async verify(file: string, query: Record<string, unknown>, now = new Date()): Promise<Record<string, string> | null> {
    const { sig, ...rest } = query;
    if (typeof sig !== 'string' || !/^\d+$/.test(String(rest.expires ?? ''))) return null;
    if (Number(rest.expires) * 1000 < now.getTime()) return null;
    const params = new URLSearchParams(
      Object.entries(rest).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
    params.sort();
    const expected = Buffer.from(await this.sign(file, params));
    const given = Buffer.from(sig);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    const { expires: _expires, ...chartParams } = Object.fromEntries(params);
    return chartParams;
  }

  private async sign(file: string, query: URLSearchParams): Promise<string> {
    return createHmac('sha256', await this.signingKey())
      .update(`${file}?${query}`)
      .digest('base64url');
  }

  private signingKey(): Promise<Buffer> {
    this.key ??= (async () => {
      const keyring = await keyringOf(this.db, this.config);
      const sealed = await this.repository.sealedKey(keyring.seal('chart_links', randomBytes(32).toString('base64')));
      return Buffer.from(keyring.open('chart_links', sealed), 'base64');
    })().catch((error) => {
      this.key = null;
      throw error;
    });
    return this.key;
  }
}
