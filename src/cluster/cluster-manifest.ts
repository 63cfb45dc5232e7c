import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What `cluster.json` in a cluster's directory holds: enough to find, stop or restart it elsewhere. */
export interface ClusterManifest {
  readonly name: string;
  readonly addresses: readonly string[];
  readonly nativePort: number;
  readonly storagePort: number;
  readonly heapMb: number;
  readonly authenticator: 'none' | 'password';
  readonly numTokens: number;
  readonly libDir: string;
  /** Absent in manifests written before the option existed: true. */
  readonly allowOlderProtocols?: boolean;
}

export const MANIFEST_FILE = 'cluster.json';

export async function writeManifest(clusterDir: string, manifest: ClusterManifest): Promise<void> {
  await writeFile(join(clusterDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

export async function readManifest(clusterDir: string): Promise<ClusterManifest> {
  const text = await readFile(join(clusterDir, MANIFEST_FILE), 'utf8');
  return JSON.parse(text) as ClusterManifest;
}
