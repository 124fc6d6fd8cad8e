import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * OpenAI's published image schemas (a subset of openai/openai-openapi's
 * `openapi.json`, copied unedited: see test/fixtures/real/PROVENANCE.md), and
 * a strict checker for the answers the conformance tests build from them.
 */

type Schema = Record<string, any>;

const document = JSON.parse(readFileSync(join(__dirname, '../fixtures/real/openai-openapi-images.json'), 'utf8')) as {
  source: string;
  schemas: Record<string, Schema>;
};

export const OPENAPI_SOURCE = document.source;

export function schema(name: string): Schema {
  const found = document.schemas[name];
  if (!found) throw new Error(`no schema ${name} in the fixture`);
  return found;
}

/** The property names a schema declares, sorted. */
export function propertiesOf(name: string): string[] {
  return Object.keys(schema(name).properties ?? {}).sort();
}

/** The required property names of a schema, sorted. */
export function requiredOf(name: string): string[] {
  return [...(schema(name).required ?? [])].sort();
}

const resolve = (s: Schema): Schema => {
  if (typeof s.$ref !== 'string') return s;
  const name = s.$ref.replace('#/components/schemas/', '');
  return schema(name);
};

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/**
 * Every way `value` departs from the schema: a missing required field, a
 * field the schema does not declare (strict: an answer built "per the
 * schema" has nothing else), a wrong type or a value outside an enum.
 */
export function violations(nameOrSchema: string | Schema, value: unknown, path = '$'): string[] {
  const s = resolve(typeof nameOrSchema === 'string' ? schema(nameOrSchema) : nameOrSchema);
  if (s.anyOf) {
    const branches = (s.anyOf as Schema[]).map((branch) => violations(branch, value, path));
    return branches.some((errors) => errors.length === 0)
      ? []
      : [`${path}: matches no anyOf branch (${branches.map((b) => b[0]).join(' | ')})`];
  }
  const errors: string[] = [];
  const actual = typeOf(value);
  if (s.type) {
    const ok = s.type === actual || (s.type === 'number' && actual === 'integer');
    if (!ok) return [`${path}: ${actual}, schema says ${s.type}`];
  }
  if (s.enum && !(s.enum as unknown[]).includes(value))
    errors.push(`${path}: ${JSON.stringify(value)} not in ${JSON.stringify(s.enum)}`);
  if (actual === 'object' && (s.type === 'object' || s.properties)) {
    const record = value as Record<string, unknown>;
    for (const key of s.required ?? []) if (!(key in record)) errors.push(`${path}.${key}: required, missing`);
    for (const [key, child] of Object.entries(record)) {
      const declared = s.properties?.[key];
      if (!declared) errors.push(`${path}.${key}: not in the schema`);
      else errors.push(...violations(declared, child, `${path}.${key}`));
    }
  }
  if (actual === 'array' && s.items)
    (value as unknown[]).forEach((item, i) => errors.push(...violations(s.items, item, `${path}[${i}]`)));
  return errors;
}

/**
 * A base64 image payload at real size (real answers carry 1-3 MB): a PNG
 * signature and IHDR, then incompressible bytes, as compressed image data is.
 */
export function realSizeImageB64(base64Length = 1_500_000): string {
  const bytes = Math.floor((base64Length * 3) / 4);
  const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), randomBytes(bytes - 16)]);
  return png.toString('base64');
}
