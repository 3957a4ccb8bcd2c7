/** A bad option: one line naming it, the usage line, exit code 2. */
export function failWith(usage: string): (message: string) => never {
  return (message) => {
    process.stderr.write(`bench: ${message}\n${usage}\n`);
    process.exit(2);
  };
}

/** Parses the command's options (`parse` calls parseArgs); `--help` prints `help` and exits 0, a bad option fails as failWith says. */
export function benchArgs<V extends { help?: boolean | undefined }>(parse: () => { values: V }, usage: string, help: string): V {
  let values: V;
  try {
    values = parse().values;
  } catch (error) {
    return failWith(usage)(error instanceof Error ? error.message : String(error));
  }
  if (values.help === true) {
    process.stdout.write(help);
    process.exit(0);
  }
  return values;
}

/** The value of `--name` as a positive whole number; anything else fails with one line (see failWith). */
export function positiveWhole(fail: (message: string) => never, name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) fail(`--${name} must be a positive whole number, got ${JSON.stringify(text)}`);
  return value;
}
