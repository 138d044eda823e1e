import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_TABLE, ProviderError, statusName, type ErrorCode } from '../../src/errors.js';
import { refusalError } from '../../src/files/jmespathWorkers.js';

const CODES = Object.keys(ERROR_TABLE) as ErrorCode[];
const HEADER = '| code | gRPC status | meaning | what to check |';

/** The error table of docs/troubleshooting.md: the rows after its header and separator, up to the first line that is not a row. */
function docRows(): string[] {
  const lines = readFileSync(new URL('../../docs/troubleshooting.md', import.meta.url), 'utf8').split('\n');
  const header = lines.indexOf(HEADER);
  expect(header, `docs/troubleshooting.md has no line "${HEADER}"`).toBeGreaterThanOrEqual(0);
  const rows: string[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line);
  }
  return rows;
}

describe('the error table', () => {
  it("is the error table of docs/troubleshooting.md: every code, in order, with its status, meaning and fix", () => {
    const expected = CODES.map((code) => {
      const { status, meaning, fix } = ERROR_TABLE[code];
      return `| \`${code}\` | ${statusName(status)} | ${meaning} | ${fix} |`;
    });
    // On a difference, the expected rows are the ones to paste under the header.
    expect(docRows()).toEqual(expected);
  });

  it.each(CODES)('gives %s its status, whoever makes the error', (code) => {
    const error = new ProviderError(code, 'why');
    expect(error.grpcStatus).toBe(ERROR_TABLE[code].status);
    expect(error.code).toBe(code);
  });

  it("gives a jmesPath worker's refusal (a code and a message, no gRPC in the worker) its code's status", () => {
    for (const code of ['InvalidObjectValue', 'InvalidSecretProviderClass'] as const) {
      expect(refusalError({ code, message: 'objects[0] "db" jmesPath[0]: not JSON' })).toMatchObject({
        code,
        grpcStatus: ERROR_TABLE[code].status,
        message: 'objects[0] "db" jmesPath[0]: not JSON',
      });
    }
  });
});
