import { SetMetadata, createParamDecorator, ExecutionContext } from '@nestjs/common';

export const ROLES = ['ingest', 'viewer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: resolved from the bearer key by the guard. */
export interface Principal {
  keyId: string;
  role: Role;
  /** Set for ingest keys: the one project they write to. */
  projectId: string | null;
  /**
   * The projects this key may read, or null for every project (admin and
   * unscoped viewer keys). A viewer key made with `project_ids` carries them;
   * an ingest key carries its one project. Enforced for every route in one
   * place, the auth hook (project-scope.ts says how each route is limited).
   */
  projectIds: string[] | null;
}

export const ROLES_KEY = 'tokentally:roles';
export const PUBLIC_KEY = 'tokentally:public';

/**
 * The roles a route accepts; admin is always accepted. A route with no
 * @Roles and no @Public is admin-only, so a forgotten decorator fails closed.
 */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);
export const Public = () => SetMetadata(PUBLIC_KEY, true);

export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  return context.switchToHttp().getRequest<{ principal: Principal }>().principal;
});
