export * from './roles';
export * from './api-key';
export * from './api-keys.service';
export * from './auth.module';
export * from './auth.hook';
export * from './project-scope';
