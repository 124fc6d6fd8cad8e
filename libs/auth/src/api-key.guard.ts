import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError } from '@tokentally/common';
import { ApiKeysService } from './api-keys.service';
import { Principal, PUBLIC_KEY, Role, ROLES_KEY } from './roles';

/** Resolves `Authorization: Bearer tt_...` and checks the route's roles. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ApiKeysService) private readonly keys: ApiKeysService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; principal?: Principal }>();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match) {
      throw new DomainError('unauthenticated', 'Send an API key as "Authorization: Bearer tt_...".');
    }
    const principal = await this.keys.authenticate(match[1]);
    if (!principal) throw new DomainError('unauthenticated', 'The API key is unknown or has been revoked.');
    const allowed = this.reflector.getAllAndOverride<Role[]>(ROLES_KEY, targets) ?? [];
    if (principal.role !== 'admin' && !allowed.includes(principal.role)) {
      const needed = ['admin', ...allowed].join(' or ');
      throw new DomainError('forbidden', `This needs a key with the role ${needed}; this key is ${principal.role}.`);
    }
    request.principal = principal;
    return true;
  }
}
