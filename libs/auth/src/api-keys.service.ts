import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '@tokentally/common';
import { displayPrefix, generateApiKey, hashApiKey, hashesEqual } from './api-key';
import { ApiKeysRepository, KeyAuthRow, KeyRow, ProjectRow, ProjectsRepository } from './api-keys.sql';
import { Principal, Role } from './roles';
import { CreateKeyDto, CreateProjectDto } from './dto/auth.dto';

export interface ProjectView {
  id: string;
  name: string;
  created_at: string;
}

export interface KeyView {
  id: string;
  name: string;
  role: Role;
  project_id: string | null;
  /** A viewer key's projects, or null when it reads every project. */
  project_ids: string[] | null;
  prefix: string;
  created_at: string;
  revoked_at: string | null;
}

/**
 * How long a resolved key is trusted without asking the database again.
 * Revocation is immediate on the process that revokes; other replicas see it
 * within this time.
 */
const KEY_CACHE_MS = 1000;

interface CachedPrincipal {
  principal: Principal | null;
  hash: Buffer;
  expiresAt: number;
}

@Injectable()
export class ApiKeysService {
  private readonly cache = new Map<string, CachedPrincipal>();
  /** Hashes of keys that were valid when last looked up here (not a cache: they are looked up again). */
  private readonly knownGood = new Set<string>();

  constructor(
    @Inject(ProjectsRepository) private readonly projects: ProjectsRepository,
    @Inject(ApiKeysRepository) private readonly keys: ApiKeysRepository,
  ) {}

  async createProject(dto: CreateProjectDto): Promise<ProjectView> {
    try {
      return toProject(await this.projects.insert(dto.name));
    } catch (error) {
      if ((error as { code?: string }).code === '23505') {
        throw new DomainError('conflict', `A project named "${dto.name}" already exists.`, [
          { path: 'name', message: 'is already taken' },
        ]);
      }
      throw error;
    }
  }

  async listProjects(): Promise<ProjectView[]> {
    return (await this.projects.list()).map(toProject);
  }

  async projectExists(id: string): Promise<boolean> {
    return this.projects.exists(id);
  }

  /** Creates a key; the returned `key` is the only time it exists in clear. */
  async createKey(dto: CreateKeyDto): Promise<KeyView & { key: string }> {
    const projectId = dto.project_id ?? null;
    if (projectId && !(await this.projectExists(projectId))) {
      throw DomainError.validation([{ path: 'project_id', message: 'is not a known project' }]);
    }
    const projectIds = dto.project_ids ? await this.knownProjects(dto.project_ids) : null;
    const key = generateApiKey();
    const row = await this.keys.insert({
      name: dto.name,
      role: dto.role,
      projectId,
      keyHash: hashApiKey(key),
      keyPrefix: displayPrefix(key),
      projectIds,
    });
    return { ...toKey(row), key };
  }

  /** The ids, lower case and each once, in the order given; 400 naming every one that is not a project. */
  private async knownProjects(ids: string[]): Promise<string[]> {
    const lower = ids.map((id) => id.toLowerCase());
    const found = await this.projects.existing(lower);
    const errors = lower.flatMap((id, i) =>
      found.has(id) ? [] : [{ path: `project_ids[${i}]`, message: 'is not a known project' }],
    );
    if (errors.length > 0) throw DomainError.validation(errors);
    return [...new Set(lower)];
  }

  /**
   * Who is calling (GET /v1/me): the key, its role, the projects it may read
   * (null: every project) and their names, which for an unscoped key are all
   * the projects. The dashboard reads it to know what to offer.
   */
  async whoAmI(principal: Principal) {
    const row = await this.keys.view(principal.keyId);
    if (!row) throw DomainError.notFound(`API key ${principal.keyId}`);
    const projects: ProjectView[] = (
      principal.projectIds === null ? await this.projects.list() : await this.projects.byIds(principal.projectIds)
    ).map(toProject);
    return {
      key_id: row.id,
      name: row.name,
      prefix: row.key_prefix,
      role: principal.role,
      project_ids: principal.projectIds,
      projects: projects.map((p) => ({ id: p.id, name: p.name })),
    };
  }

  async listKeys(): Promise<KeyView[]> {
    return (await this.keys.list()).map(toKey);
  }

  async revokeKey(id: string): Promise<void> {
    const revokedHash = await this.keys.revoke(id);
    if (revokedHash === null) {
      const existing = await this.keys.byId(id);
      if (!existing) throw DomainError.notFound(`API key ${id}`);
      if (existing.revoked_at) return; // revoking twice is harmless
      throw new DomainError(
        'conflict',
        'This is the last active admin key; create another admin key before revoking it.',
      );
    }
    this.cache.delete(revokedHash.toString('hex'));
  }

  /** The principal of a bearer key, or null for an unknown or revoked key. */
  async authenticate(key: string): Promise<Principal | null> {
    const hash = hashApiKey(key);
    const cacheKey = hash.toString('hex');
    const now = Date.now();
    const cached = this.cache.get(cacheKey);
    if (cached && cached.expiresAt > now && hashesEqual(cached.hash, hash)) return cached.principal;

    const row = await this.keys.byHash(hash);
    const principal: Principal | null = row && hashesEqual(row.key_hash, hash) ? principalOf(row) : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(cacheKey, { principal, hash, expiresAt: now + KEY_CACHE_MS });
    if (principal) {
      if (this.knownGood.size > 10_000) this.knownGood.clear();
      this.knownGood.add(cacheKey);
    }
    return principal;
  }

  /**
   * Whether this key was valid when last looked up on this replica (without a
   * lookup). An address refused too often is slowed down before any lookup,
   * except with a key it has used successfully: that one is still looked up
   * (revocation holds) while guesses are not.
   */
  wasValidBefore(key: string): boolean {
    return this.knownGood.has(hashApiKey(key).toString('hex'));
  }

  /**
   * On an empty database, makes sure an admin key exists. With ADMIN_API_KEY
   * that key is registered; otherwise a new one is made and returned once.
   */
  async ensureAdminKey(configuredKey: string | undefined): Promise<{ createdKey: string | null }> {
    if (configuredKey) {
      const hash = hashApiKey(configuredKey);
      await this.keys.insertIfAbsent({
        name: 'admin (ADMIN_API_KEY)',
        role: 'admin',
        projectId: null,
        keyHash: hash,
        keyPrefix: displayPrefix(configuredKey),
      });
      return { createdKey: null };
    }
    if ((await this.keys.count()) > 0) return { createdKey: null };
    const created = await this.createKey({
      name: 'first admin key',
      role: 'admin',
      project_id: null,
      project_ids: null,
    });
    return { createdKey: created.key };
  }
}

/**
 * The principal of a key row. What it may read: an ingest key its one project,
 * a viewer key its project_ids or, without them, every project (null), an admin
 * key every project. A role this code does not know reads nothing.
 */
function principalOf(row: KeyAuthRow): Principal {
  const projectIds =
    row.role === 'admin'
      ? null
      : row.role === 'ingest'
        ? row.project_id
          ? [row.project_id]
          : []
        : row.role === 'viewer'
          ? (row.project_ids ?? null)
          : [];
  return {
    keyId: row.id,
    role: row.role,
    projectId: row.project_id,
    projectIds: projectIds && projectIds.map((id) => id.toLowerCase()),
  };
}

function iso(value: Date | string | null): string | null {
  return value === null ? null : new Date(value).toISOString();
}

function toProject(row: ProjectRow): ProjectView {
  return { id: row.id, name: row.name, created_at: iso(row.created_at)! };
}

function toKey(row: KeyRow): KeyView {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    project_id: row.project_id,
    project_ids: row.project_ids ?? null,
    prefix: row.key_prefix,
    created_at: iso(row.created_at)!,
    revoked_at: iso(row.revoked_at ?? null),
  };
}
