// Reads the settings from the environment and the command line (flags win).
// A value that is not accepted stops the agent with one line that names the
// setting, the value and what is accepted.
import { SETTINGS, type Config, type SettingKey } from './settings.js';

export class ConfigError extends Error {}

const KEYS = Object.keys(SETTINGS) as SettingKey[];

function parseOne(key: SettingKey, source: string, text: string): unknown {
  const s = SETTINGS[key];
  const value = (s.parse as (t: string) => unknown)(text.trim());
  if (value === undefined) {
    throw new ConfigError(`invalid ${source}=${JSON.stringify(text)}: expected ${s.accepted}`);
  }
  return value;
}

/** argv: arguments after the command (flags only). */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Config {
  const config = {} as Record<SettingKey, unknown>;
  for (const key of KEYS) {
    const s = SETTINGS[key];
    const text = env[s.env];
    config[key] = text === undefined || text === '' ? s.default : parseOne(key, s.env, text);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const key = KEYS.find((k) => SETTINGS[k].flag === flag);
    if (!key) throw new ConfigError(`unknown argument ${JSON.stringify(arg)}: run with --help for the accepted flags`);
    const text = inline ?? argv[++i];
    if (text === undefined) throw new ConfigError(`flag ${flag} needs a value: expected ${SETTINGS[key].accepted}`);
    config[key] = parseOne(key, flag, text);
  }
  return config as Config;
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
