import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { CurrentPrincipal, Principal, Roles } from '@tokentally/auth';
import { ApiOperation, field, parseOrThrow } from '@tokentally/common';
import { Decimal, PRICE_UNITS, PriceVersion } from '@tokentally/core';
import { historyQuerySchema, overrideSchema, pendingQuerySchema } from './dto/pricing.dto';
import { PricingRefreshService } from './pricing-refresh.service';
import { PricingService } from './pricing.service';
import { PRICING_API } from './pricing.api';

@Controller('v1/pricing')
export class PricingController {
  constructor(
    @Inject(PricingService) private readonly pricing: PricingService,
    @Inject(PricingRefreshService) private readonly refresher: PricingRefreshService,
  ) {}

  /**
   * The price of every provider and model now, with where it came from and
   * how fresh it is: which sources are configured, what the last refresh read
   * (a refresh with no source configured reads only the built-in catalog,
   * and `catalog_only` says so), and the last refresh from a remote source.
   */
  @Get()
  @ApiOperation(PRICING_API.current)
  @Roles('viewer')
  async current() {
    const state = await this.refresher.sourcesState();
    return {
      currency: 'USD',
      unit: 'per 1M tokens (per_image: per image, per_request: per call)',
      last_refresh: state.last_refresh,
      catalog_only: state.catalog_only,
      last_remote_refresh: state.last_remote_refresh,
      sources: state.sources,
      freshness_note: state.note,
      next_refresh: this.refresher.nextScheduledRun()?.toISOString() ?? null,
      data: this.pricing.currentVersions().map(versionView),
    };
  }

  @Get('history')
  @ApiOperation(PRICING_API.history)
  @Roles('viewer')
  async history(@Query() query: unknown) {
    const q = parseOrThrow(historyQuerySchema, query);
    return { data: (await this.pricing.history(q.provider ?? null, q.model ?? null)).map(versionView) };
  }

  /** Pulls every source now; answers with the run's summary. */
  @Post('refresh')
  @ApiOperation(PRICING_API.refresh)
  refresh(@CurrentPrincipal() principal: Principal) {
    return this.refresher.refresh('manual', principal.keyId);
  }

  @Get('runs')
  @ApiOperation(PRICING_API.runs)
  @Roles('viewer')
  async runs() {
    return { data: await this.refresher.runs() };
  }

  @Get('pending')
  @ApiOperation(PRICING_API.pending)
  async pending(@Query() query: unknown) {
    return { data: await this.refresher.pendingList(parseOrThrow(pendingQuerySchema, query).status ?? null) };
  }

  @Post('pending/:id/approve')
  @ApiOperation(PRICING_API.approve)
  approve(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    return this.refresher.approvePending(parseOrThrow(field.uuid(), id, 'id'), principal.keyId);
  }

  @Post('pending/:id/reject')
  @ApiOperation(PRICING_API.reject)
  reject(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    return this.refresher.rejectPending(parseOrThrow(field.uuid(), id, 'id'), principal.keyId);
  }

  @Get('overrides')
  @ApiOperation(PRICING_API.overrides)
  @Roles('viewer')
  overrides() {
    return { data: this.pricing.activeOverrides().map(versionView) };
  }

  /** A negotiated price for a provider and model, or a discount off a whole provider, from a date. */
  @Put('overrides')
  @ApiOperation(PRICING_API.setOverride)
  async setOverride(@Body() body: unknown, @CurrentPrincipal() principal: Principal) {
    const dto = parseOrThrow(overrideSchema, body);
    const version = await this.pricing.setOverride({
      provider: dto.provider,
      model: dto.model ?? null,
      prices: dto.prices,
      discountPct: dto.discount_pct,
      effectiveFrom: dto.effective_from ? new Date(dto.effective_from) : new Date(),
      actor: principal.keyId,
    });
    return versionView(version);
  }

  @Delete('overrides/:id')
  @ApiOperation(PRICING_API.endOverride)
  @HttpCode(204)
  async endOverride(@Param('id') id: string): Promise<void> {
    await this.pricing.endOverride(parseOrThrow(field.uuid(), id, 'id'));
  }
}

/** A price version as the API shows it; `source_ref` says where its price comes from (null when not known). */
export function versionView(version: PriceVersion & { sourceRef?: string | null }) {
  return {
    id: version.id,
    provider: version.provider,
    model: version.model,
    kind: version.kind,
    source: version.source,
    source_ref: version.sourceRef ?? null,
    effective_from: new Date(version.effectiveFrom).toISOString(),
    effective_to: version.effectiveTo === null ? null : new Date(version.effectiveTo).toISOString(),
    prices: Object.fromEntries(
      PRICE_UNITS.filter((unit) => version.sheet[unit] !== undefined).map((unit) => [
        unit,
        Decimal.parse(version.sheet[unit]!).toFixedString(2),
      ]),
    ),
    // Per-image prices by `<quality>/<size>` (USD per image), every digit kept.
    ...(version.sheet.image_prices
      ? {
          image_prices: Object.fromEntries(
            Object.entries(version.sheet.image_prices).map(([key, value]) => [
              key,
              Decimal.parse(value).toFixedString(2),
            ]),
          ),
        }
      : {}),
    rate_sources: version.rateSources ?? null,
    ...(version.kind === 'discount' ? { discount_pct: version.discountPct } : {}),
  };
}
