// Entry point: `node agent/dist/main.js [run|check|cleanup] [flags]`.
import { ConfigError, helpText, loadConfig } from './config/load.js';
import { createLogger } from './log.js';
import { Agent } from './lifecycle.js';

const EXIT_USAGE = 2;

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(helpText() + '\n');
    return 0;
  }
  const command = argv[0] && !argv[0].startsWith('-') ? argv[0] : 'run';
  const flags = command === argv[0] ? argv.slice(1) : argv;
  let config;
  try {
    config = loadConfig(command === 'check' ? flags.filter((f, i, a) => f !== '--output' && a[i - 1] !== '--output') : flags, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`ebpf-agent: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  const log = createLogger(config.logLevel, config.logFormat);

  switch (command) {
    case 'run':
      break;
    case 'check': {
      const { runCheck } = await import('./preflight/command.js');
      return runCheck(config, flags, log);
    }
    case 'cleanup': {
      const { cleanup } = await import('./cleanup.js');
      return cleanup(config, log);
    }
    default:
      process.stderr.write(`ebpf-agent: unknown command ${JSON.stringify(command)}: expected run, check or cleanup (see --help)\n`);
      return EXIT_USAGE;
  }

  const agent = new Agent(config, log);
  let signals = 0;
  const done = new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        log.warn('second signal: exiting now', { signal });
        process.exit(1);
      }
      log.info('shutting down', { signal });
      agent.stop().then(
        () => resolve(0),
        (err) => {
          log.error('shutdown failed', { err });
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  try {
    await agent.start();
  } catch (err) {
    log.error('start failed', { err });
    await agent.stop().catch(() => undefined);
    return 1;
  }
  return done;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`ebpf-agent: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
