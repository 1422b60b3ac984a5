// Turns the tokens of sentinels.ts in synthesized YAML into Helm template text.
// Structure comes from indentation: cdk8s writes block YAML with two-space
// indents and sequences indented under their key, so "everything under a key"
// is "the following lines indented deeper than the key".
import { lookup, TOKEN_PATTERN } from './sentinels.js';

const indentOf = (line: string): number => line.length - line.trimStart().length;
const pad = (n: number): string => ' '.repeat(n);

/** Index one past the last line that belongs under column `col` starting after `start`. */
function blockEnd(lines: readonly string[], start: number, col: number): number {
  let end = start + 1;
  while (end < lines.length && lines[end]!.trim() !== '' && indentOf(lines[end]!) > col) end++;
  return end;
}

function wrapConditions(input: readonly string[]): string[] {
  const lines = [...input];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)(- )?(HELM[IJ]\d+Z)/.exec(lines[i]!);
    if (!m) continue;
    const [, lead0, dash, token] = m as unknown as [string, string, string | undefined, string];
    const s = lookup(token);
    if (s.kind === 'ifItem' && !dash) throw new Error(`${token}: an item condition must sit on the first key of a list item: ${lines[i]}`);
    let lead = lead0;
    if (s.kind === 'ifKey' && dash) {
      // The first key of a list item: the dash moves to a line of its own, so the
      // condition wraps the key alone ("-" then "{{- if }}" trims to "-" + newline + key).
      lines.splice(i, 1, `${lead}-`, `${lead}  ${lines[i]!.slice(lead.length + 2)}`);
      i++;
      lead = `${lead}  `;
    }
    const col = lead.length;
    // Under a key: lines deeper than the key. Under an item: lines deeper than its dash.
    const end = blockEnd(lines, i, col);
    lines[i] = lines[i]!.replace(token, '');
    lines.splice(end, 0, `${pad(col)}{{- end }}`);
    lines.splice(i, 0, `${pad(col)}{{- if ${s.text} }}`);
    i++; // now the wrapped line itself: it may carry no second token
  }
  return lines;
}

function rewriteLine(line: string): string[] {
  const keyed = /^(\s*)(- )?([^\s:][^:]*): (HELM[BW]\d+Z)$/.exec(line);
  if (keyed) {
    const [, lead, dash, key, token] = keyed as unknown as [string, string, string | undefined, string, string];
    const s = lookup(token);
    const keyCol = lead.length + (dash ? 2 : 0);
    if (s.kind === 'block') {
      return [`${lead}${dash ?? ''}${key}:`, `${pad(keyCol + 2)}{{- ${s.text} | nindent ${keyCol + 2} }}`];
    }
    if (dash) throw new Error(`${token}: a conditional key cannot be the first key of a list item: ${line}`);
    return [
      `${lead}{{- with ${s.text} }}`,
      `${lead}${key}:`,
      `${pad(keyCol + 2)}{{- ${s.render ?? 'toYaml .'} | nindent ${keyCol + 2} }}`,
      `${lead}{{- end }}`,
    ];
  }
  const appended = /^(\s*)- (HELMA\d+Z)$/.exec(line);
  if (appended) {
    const [, lead, token] = appended as unknown as [string, string, string];
    const s = lookup(token);
    return [`${lead}{{- with ${s.text} }}`, `${lead}{{- toYaml . | nindent ${lead.length} }}`, `${lead}{{- end }}`];
  }
  const out = line.replace(TOKEN_PATTERN, (token) => {
    const s = lookup(token);
    if (s.kind !== 'expr') throw new Error(`${token} (${s.kind}) must be the whole value of a key or list item: ${line}`);
    return `{{ ${s.text} }}`;
  });
  return [out];
}

/**
 * Rewrites one synthesized template file. `condition`, when given, wraps the
 * whole file so the resource is rendered only when it holds.
 */
export function rewriteTemplate(yaml: string, condition?: string): string {
  const lines = wrapConditions(yaml.replace(/\n$/, '').split('\n')).flatMap(rewriteLine);
  const body = lines.join('\n') + '\n';
  const leftover = body.match(TOKEN_PATTERN);
  if (leftover) throw new Error(`Helm sentinels left in the template: ${leftover.join(', ')}`);
  return condition ? `{{- if ${condition} }}\n${body}{{- end }}\n` : body;
}
