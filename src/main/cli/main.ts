// Entry of the `distill` command. Each subcommand lives in its own file under ./commands.
export async function main(argv: string[]): Promise<number> {
  process.stderr.write(`distill: not implemented yet (${argv.join(' ')})\n`);
  return 1;
}
