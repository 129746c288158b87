// Errors the user caused (bad scenario, bad flag, impossible value): printed as one line, exit 2.
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The live backend cannot run here (not root, not Linux, missing kernel feature). */
export class EnvironmentError extends Error {
  readonly exitCode = 3;
  constructor(message: string) {
    super(message);
    this.name = 'EnvironmentError';
  }
}
