import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError } from '@tokentally/common';
import { ApiKeysService } from './api-keys.service';
import { assertRole, principalFromHeader } from './auth.hook';
import { Principal, PUBLIC_KEY, Role, ROLES_KEY } from './roles';

/**
 * Resolves `Authorization: Bearer tt_...` and checks the route's roles. In the
 * api the onRequest hook (auth.hook.ts) has already done this before the body
 * was read; the guard then reuses its principal and checks the role again.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ApiKeysService) private readonly keys: ApiKeysService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const request = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, string | undefined>; principal?: Principal | null }>();
    const checkedByHook = request.principal ?? null;
    const principal = checkedByHook ?? (await principalFromHeader(this.keys, request.headers.authorization));
    assertRole(principal, this.reflector.getAllAndOverride<Role[]>(ROLES_KEY, targets) ?? []);
    // Project scopes are enforced by the hook only (it can still rewrite the query): without it, a scoped key reads
    // nothing.
    if (!checkedByHook && principal.projectIds !== null) {
      throw new DomainError(
        'forbidden',
        'Keys limited to projects are served only where the auth hook runs (installAuthHook).',
      );
    }
    request.principal = principal;
    return true;
  }
}
