import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer, Reflector } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DomainError } from '@tokentally/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeysService } from './api-keys.service';
import { limitToProjectScope } from './project-scope';
import { Principal, PUBLIC_KEY, Role, ROLES_KEY } from './roles';

/** Who may call one route: anybody, or the roles listed (admin always). */
export interface RouteAccess {
  public: boolean;
  roles: Role[];
}

/** A route without @Public and @Roles is admin-only, as in the guard: a gap fails closed. */
const ADMIN_ONLY: RouteAccess = { public: false, roles: [] };
const PREFLIGHT: RouteAccess = { public: true, roles: [] };

/** The key of an `Authorization: Bearer <key>` header, or null. */
function bearerOf(authorization: string | string[] | undefined): string | null {
  const header = Array.isArray(authorization) ? authorization[0] : authorization;
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1] ?? null;
}

/** The principal of an `Authorization: Bearer <key>` header; 401 when there is none or it is unknown. */
export async function principalFromHeader(
  keys: ApiKeysService,
  authorization: string | string[] | undefined,
): Promise<Principal> {
  const key = bearerOf(authorization);
  if (!key) throw new DomainError('unauthenticated', 'Send an API key as "Authorization: Bearer tt_...".');
  const principal = await keys.authenticate(key);
  if (!principal) throw new DomainError('unauthenticated', 'The API key is unknown or has been revoked.');
  return principal;
}

/** 403 unless the principal's role is admin or one of `allowed`. */
export function assertRole(principal: Principal, allowed: Role[]): void {
  if (principal.role !== 'admin' && !allowed.includes(principal.role)) {
    const needed = ['admin', ...allowed].join(' or ');
    throw new DomainError('forbidden', `This needs a key with the role ${needed}; this key is ${principal.role}.`);
  }
}

/**
 * The access rule of every controller route, keyed by `METHOD path` exactly
 * as Nest registers the path with Fastify (`/v1/charts/shared/:file`).
 * Read from the same @Public/@Roles metadata the guard reads.
 */
export function routeAccessTable(app: NestFastifyApplication): Map<string, RouteAccess> {
  const reflector = app.get(Reflector);
  const table = new Map<string, RouteAccess>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: never[]) => unknown) | undefined;
      if (!controller?.prototype) continue;
      const controllerPaths = asList(Reflect.getMetadata(PATH_METADATA, controller));
      for (const name of methodNames(controller.prototype)) {
        const handler = controller.prototype[name] as (...args: unknown[]) => unknown;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (method === undefined) continue;
        const targets = [handler, controller];
        const access: RouteAccess = {
          public: reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets) === true,
          roles: reflector.getAllAndOverride<Role[]>(ROLES_KEY, targets) ?? [],
        };
        for (const base of controllerPaths) {
          for (const path of asList(Reflect.getMetadata(PATH_METADATA, handler))) {
            table.set(`${RequestMethod[method]} ${joinPath(base, path)}`, access);
          }
        }
      }
    }
  }
  return table;
}

/** The rule for a matched Fastify route (HEAD answers as its GET). */
export function accessOf(table: Map<string, RouteAccess>, method: string, url: string): RouteAccess {
  return (
    table.get(`${method} ${url}`) ??
    (method === 'HEAD' ? table.get(`GET ${url}`) : undefined) ??
    table.get(`ALL ${url}`) ??
    // A CORS preflight (CORS_ORIGINS) carries no key by design.
    (method === 'OPTIONS' ? PREFLIGHT : ADMIN_ONLY)
  );
}

/**
 * Checks the API key and role in Fastify's `onRequest` hook, before the body
 * is read or parsed: a request without a valid key is answered 401 (wrong
 * role: 403) having cost one hash and a cached lookup, never a JSON parse.
 * Then limits a key scoped to projects to them (project-scope.ts: the query's
 * `project` filled in or checked, a path's project checked, routes that
 * cannot be limited refused). Sets `request.principal`; ApiKeyGuard stays in
 * place as a second check and reuses it. Unknown routes pass through to the
 * 404 handler.
 */
export function installAuthHook(
  app: NestFastifyApplication,
  refusals: { max: number; windowMs: number } | null = null,
): void {
  const fastify = app.getHttpAdapter().getInstance();
  const keys = app.get(ApiKeysService);
  let table: Map<string, RouteAccess> | undefined;
  const refused = refusals ? new RefusalCounter(refusals.max, refusals.windowMs) : null;
  if (!fastify.hasRequestDecorator('principal')) fastify.decorateRequest('principal', null);
  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.is404 || !request.routeOptions.url) return;
    table ??= routeAccessTable(app);
    const access = accessOf(table, request.routeOptions.method as string, request.routeOptions.url);
    if (access.public) return;
    // An address that keeps sending missing or unknown keys is slowed down before any key lookup
    // (a key it has used successfully is still looked up): the per-key rate limits count only
    // requests that got past this hook.
    const waitSeconds = refused?.waitSeconds(request.ip) ?? 0;
    if (waitSeconds > 0 && !keys.wasValidBefore(bearerOf(request.headers.authorization) ?? '')) {
      reply.header('retry-after', String(waitSeconds));
      throw new DomainError(
        'rate_limited',
        `Too many requests with a missing or unknown API key from this address. Retry in ${waitSeconds} s.`,
      );
    }
    let principal: Principal;
    try {
      principal = await principalFromHeader(keys, request.headers.authorization);
    } catch (error) {
      refused?.add(request.ip);
      throw error;
    }
    assertRole(principal, access.roles);
    // A key limited to projects reads only them: the one place this is enforced (project-scope.ts).
    limitToProjectScope(principal, request.routeOptions.method as string, request.routeOptions.url, request);
    (request as FastifyRequest & { principal: Principal | null }).principal = principal;
  });
}

/** Refused authentications per client address in a fixed window. */
class RefusalCounter {
  private readonly counts = new Map<string, { windowStart: number; count: number }>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  add(address: string): void {
    const now = Date.now();
    const entry = this.counts.get(address);
    if (!entry || now - entry.windowStart >= this.windowMs) this.counts.set(address, { windowStart: now, count: 1 });
    else entry.count++;
    if (this.counts.size > 50_000) this.forgetOld(now);
  }

  /** Seconds until the address may try again, or 0. */
  waitSeconds(address: string): number {
    const entry = this.counts.get(address);
    if (!entry || entry.count < this.max) return 0;
    const left = entry.windowStart + this.windowMs - Date.now();
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  private forgetOld(now: number): void {
    for (const [address, entry] of this.counts)
      if (now - entry.windowStart >= this.windowMs) this.counts.delete(address);
  }
}

function asList(value: unknown): string[] {
  if (value === undefined || value === null) return ['/'];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

function joinPath(...parts: string[]): string {
  const joined = parts
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/');
  return `/${joined}`;
}

function methodNames(prototype: object): string[] {
  const names = new Set<string>();
  for (let p: object | null = prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (name === 'constructor') continue;
      const descriptor = Object.getOwnPropertyDescriptor(p, name);
      if (descriptor && typeof descriptor.value === 'function') names.add(name);
    }
  }
  return [...names];
}
