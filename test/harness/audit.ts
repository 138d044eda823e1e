import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { coreV1 } from './kube.js';
import { usePeers } from './peers.js';
import { AUDIT_LOG, CONTROLLER_MANAGER_USER } from './start/kubeApiserver.js';

interface AuditEvent {
  verb?: string;
  user?: { username?: string };
  objectRef?: { resource?: string; namespace?: string; name?: string };
}

async function readEvents(): Promise<AuditEvent[]> {
  const text = await readFile(join(usePeers().logDir, AUDIT_LOG), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as AuditEvent);
}

/**
 * How many times the apiserver served `get` on one object to anyone but kube-controller-manager, by its own audit
 * log. To know that every earlier request is in the log, it first GETs a marker ServiceAccount (a 404 is audited
 * too) and waits for that event. The controller-manager's garbage collector GETs owners itself (a Pod whose
 * dependents it checks): those are the cluster's requests, not the provider's or the test's.
 */
export async function auditedGets(resource: string, namespace: string, name: string): Promise<number> {
  const marker = `audit-marker-${randomBytes(4).toString('hex')}`;
  await coreV1()
    .readNamespacedServiceAccount({ namespace, name: marker })
    .catch(() => undefined);
  const matches = (event: AuditEvent, res: string, n: string) =>
    event.verb === 'get' &&
    event.user?.username !== CONTROLLER_MANAGER_USER &&
    event.objectRef?.resource === res &&
    event.objectRef.namespace === namespace &&
    event.objectRef.name === n;
  for (let attempt = 0; attempt < 200; attempt++) {
    const events = await readEvents();
    if (events.some((event) => matches(event, 'serviceaccounts', marker))) {
      return events.filter((event) => matches(event, resource, name)).length;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the apiserver audit log (${AUDIT_LOG}) never showed the marker GET of ${namespace}/${marker}`);
}
