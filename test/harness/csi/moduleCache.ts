import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Where the driver's own files are, in the Go module cache the installer built it from: the versions the build
 * really selected (read from the wrapper module's go.mod next to the binary), never copies in this repo.
 */
export interface DriverModuleFiles {
  /** e.g. v1.6.0 */
  driverVersion: string;
  /** The driver module's root in the module cache. */
  driverModuleDir: string;
  /** The two CRDs (SecretProviderClass, SecretProviderClassPodStatus), as the driver ships them in deploy/. */
  crdFiles: string[];
  /** csi.proto of the CSI spec version the driver was built with. */
  csiProto: string;
}

const DRIVER_MODULE = 'sigs.k8s.io/secrets-store-csi-driver';
const SPEC_MODULE = 'github.com/container-storage-interface/spec';

export function locateDriverModuleFiles(gomodcache: string, driverBinary: string): DriverModuleFiles {
  // The installer builds into <peer dir>/bin from the wrapper module in <peer dir>/src.
  const wrapperGoMod = join(dirname(dirname(driverBinary)), 'src', 'go.mod');
  const goMod = readOrThrow(wrapperGoMod, 'the go.mod of the wrapper module the CSI driver was built from');
  const driverVersion = requiredVersion(goMod, DRIVER_MODULE, wrapperGoMod);
  const specVersion = requiredVersion(goMod, SPEC_MODULE, wrapperGoMod);
  const driverModuleDir = join(gomodcache, `${DRIVER_MODULE}@${driverVersion}`);
  const crdFiles = ['secretproviderclasses', 'secretproviderclasspodstatuses'].map((plural) =>
    join(driverModuleDir, 'deploy', `secrets-store.csi.x-k8s.io_${plural}.yaml`),
  );
  const csiProto = join(gomodcache, `${SPEC_MODULE}@${specVersion}`, 'csi.proto');
  for (const file of [...crdFiles, csiProto]) {
    if (!existsSync(file)) {
      throw new Error(`${file} is missing from the Go module cache ${gomodcache}: run test/peers/install.sh`);
    }
  }
  return { driverVersion, driverModuleDir, crdFiles, csiProto };
}

function readOrThrow(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${what} (${file}): ${err instanceof Error ? err.message : String(err)}`);
  }
}

function requiredVersion(goMod: string, module: string, file: string): string {
  const escaped = module.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v[^\\s]+)`, 'm').exec(goMod);
  if (!match?.[1]) throw new Error(`${file} requires no ${module}`);
  return match[1];
}
