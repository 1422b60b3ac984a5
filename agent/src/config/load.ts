// Reads the settings from the environment and the command line (flags win).
// A value that is not accepted stops the agent with one line that names the
// setting, the value and what is accepted.
import { SETTINGS, type Config, type SettingKey } from './settings.js';

export class ConfigError extends Error {}

const KEYS = Object.keys(SETTINGS) as SettingKey[];

/** Longest part of a refused value repeated in the error line. */
const QUOTE_CHARS = 64;

/**
 * The value as it goes into the one error line: JSON-quoted with every
 * character outside printable ASCII escaped (a newline cannot split the line,
 * a right-to-left override cannot disguise it), long values cut with their length.
 */
export function quote(text: string): string {
  const cut = text.length > QUOTE_CHARS ? text.slice(0, QUOTE_CHARS) : text;
  const quoted = JSON.stringify(cut).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return text.length > QUOTE_CHARS ? `${quoted}... (${text.length} characters)` : quoted;
}

/**
 * No trimming, and empty is not "the default": a value with stray whitespace or
 * an empty one is a templating mistake the operator should see, not guess at.
 */
function parseOne(key: SettingKey, source: string, text: string): unknown {
  const s = SETTINGS[key];
  const value = (s.parse as (t: string) => unknown)(text);
  if (value === undefined) {
    throw new ConfigError(`invalid ${source}=${quote(text)}: expected ${s.accepted}${text === '' ? ' (unset it for the default)' : ''}`);
  }
  return value;
}

/** argv: arguments after the command (flags only). */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Config {
  const config = {} as Record<SettingKey, unknown>;
  for (const key of KEYS) {
    const s = SETTINGS[key];
    const text = env[s.env];
    config[key] = text === undefined ? s.default : parseOne(key, s.env, text);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const key = KEYS.find((k) => SETTINGS[k].flag === flag);
    if (!key) throw new ConfigError(`unknown argument ${quote(arg)}: run with --help for the accepted flags`);
    const text = inline ?? argv[++i];
    if (text === undefined) throw new ConfigError(`flag ${flag} needs a value: expected ${SETTINGS[key].accepted}`);
    config[key] = parseOne(key, flag, text);
  }
  const c = config as Config;
  // Both servers on one port would pass every check above and then fail to bind.
  if (c.enableProfiling && c.profilingPort === c.metricsPort) {
    throw new ConfigError(`invalid ${SETTINGS.profilingPort.env}=${c.profilingPort}: expected a port other than ${SETTINGS.metricsPort.env} (${c.metricsPort}) when profiling is enabled`);
  }
  return c;
}

export function helpText(): string {
  const lines = [
    'Usage: node agent/dist/main.js [command] [flags]',
    '',
    'Commands:',
    '  run (default)   attach the TC programs and serve /metrics',
    '  check           run the preflight checks and exit (0 pass, 1 a check failed, 2 bad usage)',
    '  cleanup         detach our programs and remove the pinned state (uninstall)',
    '',
    'Every flag can also be set by its environment variable; flags win.',
    '',
  ];
  for (const key of KEYS) {
    const s = SETTINGS[key];
    const def = (s.format as (v: unknown) => string)(s.default);
    lines.push(`  ${s.flag} <value>   ${s.env} (default ${def})`, `      ${s.description}; ${s.accepted}`);
  }
  return lines.join('\n');
}
