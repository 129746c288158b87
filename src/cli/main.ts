// skmem command line: one file per command under ./commands, each exporting register().
import { Command, CommanderError } from 'commander';
import { EnvironmentError, UsageError } from './errors.ts';
import { COMMANDS } from './commands/index.ts';

export function buildProgram(): Command {
  const program = new Command('skmem')
    .description('Kernel-faithful model of Linux TCP send-path memory accounting (MSG_ZEROCOPY included)')
    .option('--debug', 'print stack traces for errors')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander already printed its message; help and version exit 0, bad usage exits 2
      return e.exitCode === 0 ? 0 : 2;
    }
    const debug = argv.includes('--debug');
    if (e instanceof UsageError || e instanceof EnvironmentError) {
      process.stderr.write(`skmem: ${e.message}\n`);
      if (debug) process.stderr.write(`${e.stack}\n`);
      return e.exitCode;
    }
    process.stderr.write(`skmem: internal error: ${(e as Error).message}\n`);
    process.stderr.write(debug ? `${(e as Error).stack}\n` : '(run again with --debug for the stack trace)\n');
    return 1;
  }
}

const isEntry = process.argv[1] !== undefined && /(?:main\.ts|skmem(?:\.js)?)$/.test(process.argv[1]);
if (isEntry) {
  // `skmem ... | head`: a closed pipe ends the output quietly, as for any Unix filter
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
