/** A peer started in a beforeAll hook, read by a test: a clear error when the hook never ran. */
export function started<T>(value: T | undefined, what: string, hook: string): T {
  if (!value) throw new Error(`${what} is not started: call ${hook}() at the top of the file`);
  return value;
}
