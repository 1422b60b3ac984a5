// Materialises the Docker build context the way `docker build` would send it,
// from the allow-list in .dockerignore, so local tests build from exactly the
// files the image build sees (a file missing from the allow-list fails here).
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface ContextRules {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
}

/** Reads .dockerignore; only the literal-path form this repository uses is accepted. */
export function readDockerignore(root: string): ContextRules {
  const lines = readFileSync(join(root, '.dockerignore'), 'utf8')
    .split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  if (lines[0] !== '*') throw new Error(`.dockerignore must start with "*" (allow-list form), found ${JSON.stringify(lines[0])}`);
  const include: string[] = [];
  const exclude: string[] = [];
  for (const line of lines.slice(1)) {
    const path = line.replace(/^!/, '');
    if (/[*?[\]]/.test(path) || path.startsWith('/')) {
      throw new Error(`.dockerignore line ${JSON.stringify(line)}: only literal relative paths are supported by this emulation`);
    }
    (line.startsWith('!') ? include : exclude).push(path);
  }
  return { include, exclude };
}

/** Copies the allowed paths from root into dir, leaving out the excluded ones. */
export function copyContext(root: string, dir: string): void {
  const { include, exclude } = readDockerignore(root);
  for (const path of include) {
    if (!existsSync(join(root, path))) throw new Error(`.dockerignore allows ${path}, which does not exist`);
    cpSync(join(root, path), join(dir, path), {
      recursive: true,
      filter: (src) => !exclude.some((e) => {
        const rel = relative(root, src);
        return rel === e || rel.startsWith(`${e}/`);
      }),
    });
  }
}
