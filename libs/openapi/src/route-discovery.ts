import { RequestMethod } from '@nestjs/common';
import { HTTP_CODE_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { PUBLIC_KEY, Role, ROLES_KEY } from '@tokentally/auth';
import { API_OPERATION_KEY, ApiOperationSpec } from '@tokentally/common';

/** One controller route as Nest registers it with Fastify, with what @ApiOperation and the auth metadata say of it. */
export interface DiscoveredRoute {
  /** `GET`, `POST`... */
  method: string;
  /** The path as Fastify has it: `/v1/budgets/:id`. */
  path: string;
  controller: string;
  handler: string;
  /** Undefined when the handler has no @ApiOperation. */
  spec: ApiOperationSpec | undefined;
  /** @Public(): no key needed. */
  public: boolean;
  /** The roles @Roles lists (admin is always accepted; none listed: admin only). */
  roles: Role[];
  /** The status Nest answers with when the handler returns: @HttpCode, else 201 for POST and 200 otherwise. */
  status: number;
}

type Handler = (...args: unknown[]) => unknown;

/**
 * Every route of every controller of the application, read from the same
 * metadata Nest routes by (path and method) and the auth hook checks (@Public,
 * @Roles), so the document cannot describe a route the app does not have.
 */
export function discoverRoutes(
  discovery: DiscoveryService,
  scanner: MetadataScanner,
  reflector: Reflector,
): DiscoveredRoute[] {
  const routes = new Map<string, DiscoveredRoute>();
  for (const wrapper of discovery.getControllers()) {
    const controller = wrapper.metatype as (new (...args: never[]) => unknown) | null | undefined;
    if (!controller?.prototype) continue;
    const prototype = controller.prototype as Record<string, unknown>;
    const bases = asList(Reflect.getMetadata(PATH_METADATA, controller));
    for (const name of scanner.getAllMethodNames(prototype)) {
      const handler = prototype[name];
      if (typeof handler !== 'function') continue;
      const requestMethod = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (requestMethod === undefined) continue;
      const method = RequestMethod[requestMethod];
      const targets = [handler as Handler, controller];
      const isPublic = reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets) === true;
      const roles = reflector.getAllAndOverride<Role[]>(ROLES_KEY, targets) ?? [];
      const spec = reflector.get<ApiOperationSpec | undefined>(API_OPERATION_KEY, handler as Handler);
      const httpCode = Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined;
      for (const base of bases) {
        for (const sub of asList(Reflect.getMetadata(PATH_METADATA, handler))) {
          const path = joinPath(base, sub);
          routes.set(`${method} ${path}`, {
            method,
            path,
            controller: controller.name,
            handler: name,
            spec,
            public: isPublic,
            roles,
            status: httpCode ?? (method === 'POST' ? 201 : 200),
          });
        }
      }
    }
  }
  return [...routes.values()];
}

function asList(value: unknown): string[] {
  if (value === undefined || value === null) return ['/'];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

/** Nest's joining of a controller path and a method path: one slash between, none at the end. */
function joinPath(...parts: string[]): string {
  const joined = parts
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/');
  return `/${joined}`;
}
