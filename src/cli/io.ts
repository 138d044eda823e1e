/** What the commands read and write: the process's streams, or a test's. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  stdin: AsyncIterable<string | Buffer>;
}

export interface CheckOptions {
  fetch: boolean;
  region: string | undefined;
  profile: string | undefined;
  showValues: boolean;
}
