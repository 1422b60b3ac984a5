// The building blocks of the one values definition (values.ts). Each leaf carries
// its default, its doc line and its JSON schema; values.yaml, values.schema.json
// and the `.Values...` paths the constructs use are all derived from the tree.
import { stringify } from 'yaml';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonSchema = { [key: string]: Json };

abstract class ValueNode {
  /** Dotted path from the root, set by {@link root}. */
  public $path = '';
  public constructor(public readonly $doc: string) {}
  /** The Go template reference to this value, e.g. `.Values.config.metricsPort`. */
  public get $ref(): string {
    return `.Values.${this.$path}`;
  }
}

export class Leaf<T extends Json = Json> extends ValueNode {
  public constructor(
    doc: string,
    public readonly $default: T,
    public readonly $schema: JsonSchema,
    /** Replaces the default shown in the README when the literal default says little (e.g. ""). */
    public readonly $defaultDoc?: string,
  ) {
    super(doc);
  }
}

export class Group<C extends Children = Children> extends ValueNode {
  public constructor(doc: string, public readonly $children: C) {
    super(doc);
  }
}

export type Node = Leaf | Group;
type Children = { [key: string]: Node };
export type GroupOf<C extends Children> = Group<C> & C;

/** A group of values; its children are reachable as properties (`values.image.tag`). */
export function group<C extends Children>(doc: string, children: C): GroupOf<C> {
  for (const k of Object.keys(children)) {
    if (k.startsWith('$')) throw new Error(`value key ${k} clashes with the value tree's own fields`);
  }
  return Object.assign(new Group(doc, children), children);
}

/** Names every node with its dotted path; call once on the root. */
export function root<C extends Children>(tree: GroupOf<C>): GroupOf<C> {
  const walk = (node: Node, path: string): void => {
    node.$path = path;
    if (node instanceof Group) {
      for (const [k, child] of Object.entries(node.$children)) walk(child, path ? `${path}.${k}` : k);
    }
  };
  walk(tree, '');
  return tree;
}

export const int = (doc: string, def: number, min: number, max: number) =>
  new Leaf<number>(doc, def, { type: 'integer', minimum: min, maximum: max, description: doc });
export const bool = (doc: string, def: boolean) => new Leaf<boolean>(doc, def, { type: 'boolean', description: doc });
export const str = (doc: string, def: string, schema: JsonSchema = {}, defaultDoc?: string) =>
  new Leaf<string>(doc, def, { type: 'string', ...schema, description: doc }, defaultDoc);
export const oneOf = (doc: string, def: string, values: readonly string[]) =>
  new Leaf<string>(doc, def, { type: 'string', enum: [...values], description: doc });
export const object = (doc: string, def: { [key: string]: Json }, schema: JsonSchema = {}) =>
  new Leaf(doc, def, { type: 'object', ...schema, description: doc });
export const list = (doc: string, def: Json[], items: JsonSchema = {}) =>
  new Leaf(doc, def, { type: 'array', items, description: doc });

/** The default values as plain data. */
export function defaults(node: Node): Json {
  if (node instanceof Leaf) return node.$default;
  return Object.fromEntries(Object.entries(node.$children).map(([k, c]) => [k, defaults(c)]));
}

/** JSON schema of the tree: groups are closed so a misspelt key is an error, not a silent no-op. */
export function schemaOf(node: Node, extraRoot: { [key: string]: JsonSchema } = {}): JsonSchema {
  if (node instanceof Leaf) return node.$schema;
  const properties: { [key: string]: Json } = { ...extraRoot };
  for (const [k, c] of Object.entries(node.$children)) properties[k] = schemaOf(c);
  const out: JsonSchema = { type: 'object', additionalProperties: false, properties };
  if (node.$doc) out.description = node.$doc;
  return out;
}

function yamlOf(value: Json, indent: number): string {
  const text = stringify(value, { lineWidth: 0 }).replace(/\n$/, '');
  return text.split('\n').map((l) => ' '.repeat(indent) + l).join('\n');
}

/**
 * values.yaml text: a helm-docs `# --` line before every leaf (its row in the
 * README's values table) and a plain comment heading every group.
 */
export function valuesYaml(tree: Group, header: string): string {
  const out: string[] = header.split('\n').map((l) => (l ? `# ${l}` : '#'));
  const emit = (node: Group, indent: number): void => {
    for (const [key, child] of Object.entries(node.$children)) {
      const pad = ' '.repeat(indent);
      if (indent === 0) out.push('');
      if (child instanceof Group) {
        if (child.$doc) out.push(`${pad}# ${child.$doc}`);
        out.push(`${pad}${key}:`);
        emit(child, indent + 2);
        continue;
      }
      out.push(`${pad}# -- ${child.$doc}`);
      if (child.$defaultDoc) out.push(`${pad}# @default -- ${child.$defaultDoc}`);
      const v = child.$default;
      const empty = v === null || typeof v !== 'object' || (Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0);
      if (empty) out.push(`${pad}${key}: ${yamlOf(v, 0)}`);
      else out.push(`${pad}${key}:`, yamlOf(v, indent + 2));
    }
  };
  emit(tree, 0);
  return out.join('\n') + '\n';
}
