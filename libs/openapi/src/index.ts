export * from './openapi.module';
export * from './openapi.service';
export * from './openapi-document';
export * from './route-discovery';
