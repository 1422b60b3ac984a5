// Validates rendered objects against the Kubernetes API's own OpenAPI (swagger
// 2.0) definitions, offline, like kubeconform --strict: objects are closed, so a
// misspelt or misplaced field is an error and not something the API server drops.
import { Ajv, type ValidateFunction } from 'ajv';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, type K8sObject } from './helm.js';

type Schema = { [key: string]: any };

/** Swagger quirks JSON Schema does not know, and kubeconform's strictness. */
function adapt(schema: Schema): Schema {
  if (Array.isArray(schema)) return schema.map(adapt);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Schema = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === 'properties' || k === 'definitions'
    ? Object.fromEntries(Object.entries(v as Schema).map(([pk, pv]) => [pk, adapt(pv as Schema)]))
    : typeof v === 'object' ? adapt(v as Schema) : v;
  if (out.format === 'int-or-string') { out.type = ['integer', 'string']; delete out.format; }
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

export interface K8sValidator {
  readonly version: string;
  /** Error messages; empty when the object is valid. */
  validate(object: K8sObject): string[];
}

const cache = new Map<string, K8sValidator>();

export function k8sValidator(version: string): K8sValidator {
  const hit = cache.get(version);
  if (hit) return hit;
  const file = join(REPO, '.tools/k8s-schemas', `v${version}`, 'swagger.json');
  if (!existsSync(file)) throw new Error(`${file} is missing: scripts/setup.sh caches it (cdk8s/scripts/fetch-k8s-schemas.sh)`);
  const spec = JSON.parse(readFileSync(file, 'utf8')) as { definitions: Schema };
  const definitions = adapt(spec.definitions);
  // Quantities are strings in the spec but YAML writes `cpu: 1` as a number; the API accepts both.
  definitions['io.k8s.apimachinery.pkg.api.resource.Quantity'] = { type: ['string', 'number'] };
  const byGvk = new Map<string, string>();
  for (const [name, def] of Object.entries(definitions)) {
    for (const gvk of (def['x-kubernetes-group-version-kind'] ?? []) as Array<{ group: string; version: string; kind: string }>) {
      byGvk.set(`${gvk.group ? `${gvk.group}/` : ''}${gvk.version}/${gvk.kind}`, name);
    }
  }
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema({ $id: 'k8s', definitions });
  const compiled = new Map<string, ValidateFunction>();
  const validator: K8sValidator = {
    version,
    validate(object) {
      const key = `${object.apiVersion}/${object.kind}`;
      const def = byGvk.get(key);
      if (!def) return [`Kubernetes ${version} has no ${key}`];
      let fn = compiled.get(def);
      if (!fn) { fn = ajv.compile({ $ref: `k8s#/definitions/${def}` }); compiled.set(def, fn); }
      const label = `${object.kind}/${object.metadata?.name}`;
      if (fn(object as unknown)) return [];
      return (fn.errors ?? []).map((e) => `${label}${e.instancePath} ${e.message}${
        e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);
    },
  };
  cache.set(version, validator);
  return validator;
}
