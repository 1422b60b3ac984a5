// A cdk8s Chart that becomes one Helm template file. Conditions on keys and list
// items cannot travel through the typed k8s converters (unknown keys are dropped),
// so they are applied here to the final plain JSON, as token-prefixed keys that
// rewrite.ts turns into `{{- if }}` blocks.
import { ApiObject, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { ifItemToken, ifKeyToken } from './sentinels.js';

/** A path into an object's JSON: keys, list indexes, or `name=<value>` to pick a list item by name. */
export type JsonPath = ReadonlyArray<string | number>;

type Edit =
  | { readonly kind: 'set'; readonly object: ApiObject; readonly path: JsonPath; readonly value: unknown }
  | { readonly kind: 'if'; readonly object: ApiObject; readonly path: JsonPath; readonly token: string; readonly item: boolean };

/** `'a.b.0.name=x'` or a segment list; digits are list indexes. */
function toPath(path: string | JsonPath): JsonPath {
  if (typeof path !== 'string') return path;
  return path.split('.').map((seg) => (/^\d+$/.test(seg) ? Number(seg) : seg));
}

export interface HelmChartProps {
  /** File name under templates/, without extension. */
  readonly templateName: string;
  /**
   * Condition for rendering the whole file.
   * @default always rendered
   */
  readonly condition?: string;
}

export class HelmChart extends Chart {
  /** Every HelmChart of the app, to find each template file's condition after synthesis. */
  public static readonly all: HelmChart[] = [];
  public readonly templateName: string;
  public readonly condition?: string;
  private readonly edits: Edit[] = [];

  public constructor(scope: Construct, props: HelmChartProps) {
    super(scope, props.templateName, { disableResourceNameHashes: true });
    this.templateName = props.templateName;
    this.condition = props.condition;
    HelmChart.all.push(this);
  }

  /**
   * Sets template-valued fields (tokens of block/withValue/appendList, or lists
   * holding them) on the final JSON, past the typed converters that would
   * mangle a token standing in for an object or a list.
   */
  public set(object: ApiObject, fields: { readonly [path: string]: unknown }): void {
    for (const [path, value] of Object.entries(fields)) this.edits.push({ kind: 'set', object, path: toPath(path), value });
  }

  /** Keeps the key at `path` (and all under it) only when `condition` holds. */
  public keyIf(object: ApiObject, path: string | JsonPath, condition: string): void {
    this.edits.push({ kind: 'if', object, path: toPath(path), token: ifKeyToken(condition), item: false });
  }

  /** Keeps the list item at `path` only when `condition` holds. */
  public itemIf(object: ApiObject, path: string | JsonPath, condition: string): void {
    this.edits.push({ kind: 'if', object, path: toPath(path), token: ifItemToken(condition), item: true });
  }

  public override toJson(): any[] {
    const docs = super.toJson();
    const docOf = (edit: Edit): any => {
      const doc = docs.find((d) => d.kind === edit.object.kind && d.metadata?.name === edit.object.metadata.name);
      if (!doc) throw new Error(`${this.templateName}: no ${edit.object.kind} for an edit at ${edit.path.join('.')}`);
      return doc;
    };
    // Values first: conditions rename keys, which would break later paths.
    for (const edit of this.edits) if (edit.kind === 'set') applySet(docOf(edit), edit.path, edit.value);
    for (const edit of this.edits) if (edit.kind === 'if') applyIf(docOf(edit), edit);
    return docs;
  }
}

function step(node: any, seg: string | number, where: string): { parent: any; key: string | number } {
  if (typeof seg === 'string' && seg.startsWith('name=')) {
    if (!Array.isArray(node)) throw new Error(`${where}: ${seg} needs a list`);
    const idx = node.findIndex((x: any) => x?.name === seg.slice(5));
    if (idx < 0) throw new Error(`${where}: no list item with ${seg}`);
    return { parent: node, key: idx };
  }
  if (node == null || !(seg in node)) throw new Error(`${where}: missing ${String(seg)}`);
  return { parent: node, key: seg };
}

function renameKey(obj: Record<string, unknown>, from: string, to: string): void {
  const entries = Object.entries(obj);
  for (const k of Object.keys(obj)) delete obj[k];
  for (const [k, v] of entries) obj[k === from ? to : k] = v;
}

function applySet(doc: any, path: JsonPath, value: unknown): void {
  const where = `${doc.kind} ${path.join('.')}`;
  let node = doc;
  for (const seg of path.slice(0, -1)) {
    if (typeof seg === 'string' && !seg.startsWith('name=') && node[seg] === undefined) node[seg] = {};
    const next = step(node, seg, where);
    node = next.parent[next.key];
  }
  const last = path[path.length - 1];
  if (last === undefined || (typeof last === 'string' && last.startsWith('name='))) throw new Error(`${where}: cannot set`);
  node[last] = value;
}

function applyIf(doc: any, edit: Extract<Edit, { kind: 'if' }>): void {
  const where = `${doc.kind} ${edit.path.join('.')}`;
  let node = doc;
  let last: { parent: any; key: string | number } | undefined;
  for (const seg of edit.path) {
    last = step(node, seg, where);
    node = last.parent[last.key];
  }
  if (!last) throw new Error(`${where}: empty path`);
  if (edit.item) {
    if (!Array.isArray(last.parent) || typeof node !== 'object' || node === null) throw new Error(`${where}: not a list item object`);
    const first = Object.keys(node)[0];
    if (!first) throw new Error(`${where}: empty list item`);
    renameKey(node, first, edit.token + first);
  } else {
    if (Array.isArray(last.parent)) throw new Error(`${where}: a key condition needs a key, not a list item`);
    renameKey(last.parent, String(last.key), edit.token + String(last.key));
  }
}
