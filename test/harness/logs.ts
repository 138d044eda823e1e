import { readFileSync } from 'node:fs';

/** The last `lines` lines of a log file, or a note saying why there are none. */
export function tailFile(path: string, lines: number): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return `(cannot read ${path}: ${err instanceof Error ? err.message : String(err)})`;
  }
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n') || '(empty log)';
}
