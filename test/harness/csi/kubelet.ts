import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, type V1Pod } from '@kubernetes/client-node';
import { coreV1, createPod, serviceAccountTokens } from '../kube.js';
import { podStatusName, readPodStatus, type SecretProviderClassPodStatus } from './cluster.js';
import { DRIVER_NAME, type RunningCsiDriver } from './driver.js';

/** A file as the pod would see it in its volume. */
export interface MountedFile {
  content: string;
  /** Permission bits, e.g. 0o644. */
  mode: number;
  ino: number;
  mtimeMs: number;
}

export interface KubeletPodOptions {
  namespace: string;
  name: string;
  serviceAccountName: string;
  secretProviderClass: string;
  /** Audiences of the CSIDriver's tokenRequests; kubelet mints one token per audience on every publish. */
  tokenAudiences: string[];
  volumeName?: string;
}

/**
 * Plays kubelet for one pod with one inline Secrets Store CSI volume: the Pod object (so the driver can sync
 * Secrets and own its pod status), the NodePublishVolume / NodeUnpublishVolume calls with the volume context
 * kubelet builds, and a look into the volume the way the pod's containers would see it.
 */
export class KubeletPod {
  readonly volumeName: string;
  private podObject: V1Pod | undefined;

  constructor(
    readonly driver: RunningCsiDriver,
    readonly options: KubeletPodOptions,
  ) {
    this.volumeName = options.volumeName ?? 'secrets-store-inline';
  }

  get namespace(): string {
    return this.options.namespace;
  }

  get name(): string {
    return this.options.name;
  }

  get uid(): string {
    const uid = this.podObject?.metadata?.uid;
    if (!uid) throw new Error(`pod ${this.namespace}/${this.name} is not created yet`);
    return uid;
  }

  /** kubelet's path for a CSI volume of a pod: <kubelet>/pods/<uid>/volumes/kubernetes.io~csi/<volume>/mount. */
  get targetPath(): string {
    return join(this.driver.kubeletDir, 'pods', this.uid, 'volumes', 'kubernetes.io~csi', this.volumeName, 'mount');
  }

  /** kubelet's handle of an inline (ephemeral) CSI volume: csi-<sha256(podUID + volume name)>. */
  get volumeId(): string {
    return `csi-${createHash('sha256').update(this.uid + this.volumeName).digest('hex')}`;
  }

  get podStatusName(): string {
    return podStatusName(this.name, this.namespace, this.options.secretProviderClass);
  }

  /** Creates the Pod, bound to the driver's node, with the CSI volume in its spec. It stays Pending: no kubelet. */
  async create(): Promise<this> {
    this.podObject = await createPod(this.namespace, this.name, {
      serviceAccountName: this.options.serviceAccountName,
      nodeName: this.driver.nodeId,
      volumes: [
        {
          name: this.volumeName,
          csi: {
            driver: DRIVER_NAME,
            readOnly: true,
            volumeAttributes: { secretProviderClass: this.options.secretProviderClass },
          },
        },
      ],
    });
    return this;
  }

  /**
   * NodePublishVolume as kubelet sends it for an inline volume, with fresh tokens. Like kubelet, it tries again
   * while the driver's informer has not seen a just-created SecretProviderClass yet; any other error is thrown.
   */
  async publish(): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        await this.driver.client.nodePublishVolume(await this.publishRequest());
        return;
      } catch (err) {
        const notInCacheYet = /failed to get secretproviderclass .* not found/i.test(String(err));
        if (!notInCacheYet || Date.now() > deadline) throw err;
        await sleep(250);
      }
    }
  }

  /**
   * A re-publish as kubelet makes it for a driver with requiresRepublish: the driver acts on it only once its
   * rotation poll interval has passed since it last wrote the volume, so wait that long first.
   */
  async republish(): Promise<void> {
    await sleep(this.driver.rotationPollSeconds * 1000 + 150);
    await this.publish();
  }

  async unpublish(): Promise<void> {
    await this.driver.client.nodeUnpublishVolume({ volume_id: this.volumeId, target_path: this.targetPath });
  }

  /** Deletes the Pod as kubelet finally does once its containers are gone (grace period 0). */
  async delete(): Promise<void> {
    try {
      await coreV1().deleteNamespacedPod({ namespace: this.namespace, name: this.name, gracePeriodSeconds: 0 });
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 404)) throw err;
    }
  }

  /** The target path as the driver (and a container) sees it, reachable from here through /proc/<pid>/root. */
  get visiblePath(): string {
    return this.driver.inNamespace(this.targetPath);
  }

  /** Is the target path a mount point in the driver's namespace, and of what type? */
  mountOfTarget(): string | undefined {
    return this.driver.mounts().find((m) => m.mountPoint === this.targetPath)?.fsType;
  }

  /** Does the target directory exist in the driver's namespace? */
  targetExists(): boolean {
    try {
      lstatSync(this.visiblePath);
      return true;
    } catch {
      return false;
    }
  }

  /** Every file of the volume, as a container would list it (the atomic writer's `..` entries left out). */
  files(): Record<string, MountedFile> {
    const out: Record<string, MountedFile> = {};
    const walk = (dir: string, prefix: string) => {
      for (const name of readdirSync(dir)) {
        if (name.startsWith('..')) continue;
        const full = join(dir, name);
        const st = statSync(full);
        if (st.isDirectory()) walk(full, `${prefix}${name}/`);
        else {
          out[`${prefix}${name}`] = {
            content: readFileSync(full, 'utf8'),
            mode: st.mode & 0o777,
            ino: st.ino,
            mtimeMs: st.mtimeMs,
          };
        }
      }
    };
    walk(this.visiblePath, '');
    return out;
  }

  contents(): Record<string, string> {
    return Object.fromEntries(Object.entries(this.files()).map(([path, file]) => [path, file.content]));
  }

  /** The atomic writer's current timestamped directory (target of `..data`): it changes on every real write. */
  dataDir(): string {
    return readlinkSync(join(this.visiblePath, '..data'));
  }

  podStatus(): Promise<SecretProviderClassPodStatus | undefined> {
    return readPodStatus(this.namespace, this.podStatusName);
  }

  private async publishRequest() {
    const tokens = await serviceAccountTokens(this.namespace, this.options.serviceAccountName, this.options.tokenAudiences);
    return {
      volume_id: this.volumeId,
      target_path: this.targetPath,
      readonly: true,
      volume_capability: {
        mount: { fs_type: '', mount_flags: [] },
        access_mode: { mode: 'SINGLE_NODE_WRITER' as const },
      },
      volume_context: {
        secretProviderClass: this.options.secretProviderClass,
        'csi.storage.k8s.io/pod.name': this.name,
        'csi.storage.k8s.io/pod.namespace': this.namespace,
        'csi.storage.k8s.io/pod.uid': this.uid,
        'csi.storage.k8s.io/serviceAccount.name': this.options.serviceAccountName,
        'csi.storage.k8s.io/ephemeral': 'true',
        'csi.storage.k8s.io/serviceAccount.tokens': tokens,
      },
    };
  }
}
