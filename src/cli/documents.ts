/**
 * The SecretProviderClasses of YAML files as users keep them: manifests of many documents, and `kind: List` as
 * `kubectl get secretproviderclasses -o yaml` writes it. Only the shape the apiserver itself would enforce is
 * checked here; the parameters are left to the Mount's own parse stage.
 */
import { parseAllDocuments } from 'yaml';

export interface FoundClass {
  /** Where it was found, for messages: `spc.yaml document 2 items[0] shop/aws-secrets`. */
  where: string;
  name: string;
  provider: unknown;
  parameters: Record<string, string>;
  /** A field the apiserver would have refused, so the Mount never sees it; the class is not parsed further. */
  shapeProblem?: string;
}

export class UnreadableInput extends Error {}

const KIND = 'SecretProviderClass';

/** Every SecretProviderClass of `text`, in order; throws UnreadableInput when `text` is not YAML. */
export function findClasses(text: string, source: string): FoundClass[] {
  const found: FoundClass[] = [];
  parseAllDocuments(text).forEach((document, index) => {
    const where = `${source} document ${index + 1}`;
    const [error] = document.errors;
    if (error) throw new UnreadableInput(`${where} is not YAML: ${error.message.split('\n')[0]}`);
    const value: unknown = document.toJS({ maxAliasCount: 100 });
    if (!isMap(value)) return;
    if (Array.isArray(value.items) && typeof value.kind === 'string' && value.kind.endsWith('List')) {
      value.items.forEach((item, i) => {
        if (isMap(item) && item.kind === KIND) found.push(readClass(item, `${where} items[${i}]`));
      });
    } else if (value.kind === KIND) {
      found.push(readClass(value, where));
    }
  });
  return found;
}

function readClass(object: Record<string, unknown>, where: string): FoundClass {
  const metadata = isMap(object.metadata) ? object.metadata : {};
  const name = typeof metadata.name === 'string' ? metadata.name : '(no name)';
  const shown = typeof metadata.namespace === 'string' ? `${metadata.namespace}/${name}` : name;
  const spec = isMap(object.spec) ? object.spec : {};
  const base = { where: `${where} ${shown}`, name, provider: spec.provider, parameters: {} };
  if (spec.parameters === undefined || spec.parameters === null) return base;
  if (!isMap(spec.parameters)) return { ...base, shapeProblem: 'spec.parameters must be a map of strings.' };
  const parameters: Record<string, string> = {};
  for (const [key, value] of Object.entries(spec.parameters)) {
    if (typeof value !== 'string') {
      return {
        ...base,
        shapeProblem:
          `spec.parameters.${key} is ${value === null ? 'null' : `a ${Array.isArray(value) ? 'list' : typeof value}`}, ` +
          'and the apiserver takes strings only: quote it (e.g. "true"), or use a block string (|) for objects.',
      };
    }
    parameters[key] = value;
  }
  return { ...base, parameters };
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
