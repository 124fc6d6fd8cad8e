export * from './otlp.module';
export * from './otlp-body';
export * from './otlp-model';
export * from './json-decoder';
export * from './protobuf-decoder';
export * from './span-to-event';
export * from './otlp-traces.service';
