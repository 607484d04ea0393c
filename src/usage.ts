/** A wrong command line: exit 2 with the usage text. */
export class UsageError extends Error {}
