// cdk8s serializes every value as data, so a Helm expression set on a field comes
// out quoted and typed fields reject it. Constructs therefore place short plain
// tokens (letters and digits only, so YAML never quotes or folds them) and
// rewrite.ts turns each token back into template text after synthesis.

export type SentinelKind =
  /** `{{ expr }}` in place of the token, anywhere in a line. */
  | 'expr'
  /** `key: TOKEN` becomes `key:` + `{{- pipeline | nindent N }}`. */
  | 'block'
  /** `key: TOKEN` becomes the key and `toYaml` of the value, only when the value is non-empty. */
  | 'with'
  /** `- TOKEN` in a list becomes the items of a list value appended in place. */
  | 'append'
  /** A key prefixed with the token is kept (with everything under it) only when the condition holds. */
  | 'ifKey'
  /** A list item whose first key is prefixed with the token is kept only when the condition holds. */
  | 'ifItem';

export interface Sentinel {
  readonly kind: SentinelKind;
  /** Go template text: an expression, a pipeline or a condition. */
  readonly text: string;
  /** For `with`: the pipeline that renders `.` (the non-empty value). */
  readonly render?: string;
}

const PREFIX: Record<SentinelKind, string> = {
  expr: 'HELMX', block: 'HELMB', with: 'HELMW', append: 'HELMA', ifKey: 'HELMI', ifItem: 'HELMJ',
};

const registry = new Map<string, Sentinel>();

function register(kind: SentinelKind, text: string, render?: string): string {
  // Same text, same token: synthesis stays deterministic however often a construct asks.
  for (const [token, s] of registry) if (s.kind === kind && s.text === text && s.render === render) return token;
  const token = `${PREFIX[kind]}${registry.size}Z`;
  registry.set(token, { kind, text, render });
  return token;
}

export function lookup(token: string): Sentinel {
  const s = registry.get(token);
  if (!s) throw new Error(`unknown Helm sentinel ${token}: it was not created by this synthesis`);
  return s;
}

export const TOKEN_PATTERN = /HELM[XBWAIJ]\d+Z/g;

/** A Helm expression rendered in place, e.g. `expr('.Values.config.metricsPort')`. */
export function expr(expression: string): string {
  return register('expr', expression);
}

/** The same as {@link expr}, typed as a number for numeric fields of the k8s types. */
export function num(expression: string): number {
  return register('expr', expression) as unknown as number;
}

/** The same as {@link expr}, typed as a boolean for boolean fields of the k8s types. */
export function bool(expression: string): boolean {
  return register('expr', expression) as unknown as boolean;
}

/** A value rendered by a pipeline as indented YAML, e.g. `block('toYaml .Values.resources')`. */
export function block<T>(pipeline: string): T {
  return register('block', pipeline) as unknown as T;
}

/**
 * A key present only when `value` is non-empty; `render` turns `.` into YAML
 * (`toYaml .` for values, `.` for the text a helper already rendered).
 */
export function withValue<T>(value: string, render = 'toYaml .'): T {
  return register('with', value, render) as unknown as T;
}

/** A list item that expands to the items of a list value (nothing when it is empty). */
export function appendList<T>(valueRef: string): T {
  return register('append', valueRef) as unknown as T;
}

/** Token for a condition around a key; applied to final JSON by HelmChart. */
export function ifKeyToken(condition: string): string {
  return register('ifKey', condition);
}

/** Token for a condition around a list item; applied to final JSON by HelmChart. */
export function ifItemToken(condition: string): string {
  return register('ifItem', condition);
}
