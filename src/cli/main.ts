import { runProgram } from './exit.ts';
import { program } from './program.ts';

export function main(argv: string[]): Promise<number> {
  return runProgram(program(), argv);
}

const code = await main(process.argv);
// `run` keeps the process alive (its worker); every other command ends here.
if (code !== 0 || process.argv[2] !== 'run') process.exit(code);
