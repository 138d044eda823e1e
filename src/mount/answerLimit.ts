import { describeObject, type ObjectSpec } from '../config/types.js';
import { invalidSpc } from '../errors.js';
import { encodedMountResponseSize } from '../server/answerSize.js';
import type { MountResponseMessage } from '../server/proto.js';

const LISTED_FILES = 5;

/**
 * The driver refuses an answer above its --max-call-recv-msg-size (4 MiB by default) with a RESOURCE_EXHAUSTED that
 * names nothing, after the provider has done all the work: the Mount fails here instead, naming the largest files, the
 * objects they come from and their sizes (never their contents), and the limit.
 */
export function checkAnswerSize(response: MountResponseMessage, objects: readonly ObjectSpec[], limit: number): void {
  const size = encodedMountResponseSize(response);
  if (size <= limit) return;
  const sourceOf = new Map<string, ObjectSpec>();
  for (const spec of objects) {
    sourceOf.set(spec.fileName, spec);
    for (const entry of spec.jmesPath) sourceOf.set(entry.fileName, spec);
  }
  const largest = [...response.files]
    .sort((a, b) => b.contents.length - a.contents.length)
    .slice(0, LISTED_FILES)
    .map((file) => {
      // A wildcard's or jsonKeys' file sits in its entry's directory.
      const spec = sourceOf.get(file.path) ?? objects.find((o) => (o.wildcard ?? o.jsonKeys) && file.path.startsWith(`${o.fileName}/`));
      return `"${file.path}" (${bytes(file.contents.length)}${spec ? ` from ${describeObject(spec)}` : ''})`;
    });
  const more = response.files.length - largest.length;
  throw invalidSpc(
    `the Mount's ${response.files.length} files come to ${bytes(size)} encoded, over the ${bytes(limit)} the CSI ` +
      `driver accepts (--max-answer-size, which must match the driver's --max-call-recv-msg-size). Largest: ` +
      `${largest.join(', ')}${more > 0 ? ` and ${more} more` : ''}. Mount fewer or smaller objects (split them ` +
      'across SecretProviderClasses and volumes), or raise both limits.',
  );
}

function bytes(count: number): string {
  return `${count.toLocaleString('en-US')} bytes`;
}
