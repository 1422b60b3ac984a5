// Structured logs: one JSON object a line by default, or a compact console form.
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  enabled(level: Level): boolean;
}

function errorFields(v: unknown): unknown {
  if (v instanceof Error) {
    const e = v as Error & { code?: string; errno?: number };
    return { message: e.message, code: e.code, errno: e.errno };
  }
  return v;
}

export function createLogger(level: Level, format: 'json' | 'console', out: NodeJS.WritableStream = process.stdout): Logger {
  const min = ORDER[level];
  const write = (lvl: Level, msg: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[lvl] < min) return;
    const time = new Date().toISOString();
    const clean = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, errorFields(v)]));
    if (format === 'json') {
      out.write(`${JSON.stringify({ time, level: lvl, msg, ...clean })}\n`);
    } else {
      const kv = Object.entries(clean).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
      out.write(`${time} ${lvl.toUpperCase().padEnd(5)} ${msg}${kv.length ? ' ' + kv.join(' ') : ''}\n`);
    }
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    enabled: (l) => ORDER[l] >= min,
  };
}
