// A minimal reader of the repository's Dockerfile: enough structure (stages and
// their instructions) for the image policy tests. Linting is dockerfile-utils' job.

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly from: string;
  readonly name?: string;
  readonly instructions: readonly Instruction[];
}

/** Joins backslash continuations, drops comments, and splits into stages at FROM. */
export function readStages(text: string): Stage[] {
  const stages: { from: string; name?: string; instructions: Instruction[] }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let logical = lines[i]!;
    if (/^\s*(#|$)/.test(logical)) continue;
    while (logical.endsWith('\\') && i + 1 < lines.length) {
      logical = logical.slice(0, -1) + ' ' + lines[++i]!.replace(/^\s*#.*$/, '');
    }
    const m = /^\s*(\S+)\s*(.*)$/.exec(logical)!;
    const keyword = m[1]!.toUpperCase();
    const args = m[2]!.replace(/\s+/g, ' ').trim();
    if (keyword === 'FROM') {
      const [from, as, name] = args.split(' ');
      stages.push({ from: from!, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1]!.instructions.push({ keyword, args, line: start });
    }
  }
  return stages;
}

export function argsOf(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}
