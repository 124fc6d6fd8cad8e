import { Inject, Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { buildOpenApiDocument, OpenApiDocument } from './openapi-document';
import { DiscoveredRoute, discoverRoutes } from './route-discovery';

/** The application's routes and their OpenAPI document, built once, at the first request for it. */
@Injectable()
export class OpenApiService {
  private cachedRoutes: DiscoveredRoute[] | null = null;
  private cachedDocument: OpenApiDocument | null = null;

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly scanner: MetadataScanner,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  /** Every controller route, with its @ApiOperation (read after start-up: every module is registered by then). */
  routes(): DiscoveredRoute[] {
    this.cachedRoutes ??= discoverRoutes(this.discovery, this.scanner, this.reflector);
    return this.cachedRoutes;
  }

  document(): OpenApiDocument {
    this.cachedDocument ??= buildOpenApiDocument(this.routes());
    return this.cachedDocument;
  }
}
