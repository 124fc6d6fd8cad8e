import { Controller, Get, Inject } from '@nestjs/common';
import { Roles } from '@tokentally/auth';
import { Decimal } from '@tokentally/core';
import { PricingService } from './pricing.service';

@Controller('v1/pricing')
export class PricingController {
  constructor(@Inject(PricingService) private readonly pricing: PricingService) {}

  /** The price of every provider and model now, with where it came from. */
  @Get()
  @Roles('viewer')
  current() {
    return {
      currency: 'USD',
      unit: 'per 1M tokens (per_image: per image, per_request: per call)',
      data: this.pricing.currentVersions().map((version) => ({
        provider: version.provider,
        model: version.model,
        kind: version.kind,
        source: version.source,
        version_id: version.id,
        effective_from: new Date(version.effectiveFrom).toISOString(),
        effective_to: version.effectiveTo === null ? null : new Date(version.effectiveTo).toISOString(),
        prices: Object.fromEntries(
          Object.entries(version.sheet).map(([unit, value]) => [unit, Decimal.parse(value!).toFixedString(2)]),
        ),
      })),
    };
  }
}
