import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { OperatorError } from '../errors.js';
import type { Logger } from '../log/logger.js';

/** The Cassandra release the suite is developed and tested against (runs on JDK 17). */
export const DEFAULT_CASSANDRA_VERSION = '5.0.9';

/** Written after the last jar is copied, so an interrupted download is detected and redone. */
const COMPLETE_MARKER = '.zdm-complete';

/**
 * Where the runtime jars of `cassandra-all` live: `ZDM_CASSANDRA_LIB` if set, otherwise a per-user cache
 * outside the repository (67 MB is not something to commit or to fetch per checkout).
 */
export function cassandraLibDir(version: string = DEFAULT_CASSANDRA_VERSION): string {
  const override = process.env.ZDM_CASSANDRA_LIB;
  if (override !== undefined && override !== '') return resolve(override);
  return join(homedir(), '.cache', 'zdm', `cassandra-${version}`, 'lib');
}

/**
 * Returns a directory holding the full runtime classpath of Cassandra `version`, fetching it once.
 *
 * Maven Central has no binary tarball for 5.0, only the `cassandra-all` artifact, so the classpath is
 * assembled by `mvn dependency:copy-dependencies` from a generated one-dependency pom (~40 s, 100 jars).
 */
export async function ensureCassandraLib(
  version: string = DEFAULT_CASSANDRA_VERSION,
  logger: Logger,
): Promise<string> {
  const javaVersion = requireTool(
    'java',
    ['-version'],
    'a Java 17 runtime to run the nodes',
    'Debian/Ubuntu: apt-get install openjdk-17-jre-headless',
  );
  const major = /version "(?:1\.)?(\d+)/.exec(javaVersion)?.[1];
  if (major !== undefined && major !== '11' && major !== '17') {
    // Cassandra 5.0 supports JDK 11 and 17 only; other versions may fail at start in obscure ways.
    logger.warn(
      { javaMajor: major },
      'Cassandra 5.0 supports Java 11 and 17; nodes may not start on this java',
    );
  }
  const libDir = cassandraLibDir(version);
  if (existsSync(join(libDir, COMPLETE_MARKER))) {
    logger.debug({ libDir }, 'cassandra classpath cached');
    return libDir;
  }
  if (process.env.ZDM_CASSANDRA_LIB) {
    // A user-provided directory is never written to: it may be a hand-made classpath without our marker.
    if ((await jarCount(libDir)) > 0) return libDir;
    throw new OperatorError(
      'CASSANDRA_LIB_EMPTY',
      `ZDM_CASSANDRA_LIB=${libDir} holds no jars`,
      'point it at a directory of Cassandra runtime jars, or unset it to download them automatically',
    );
  }
  requireTool(
    'mvn',
    ['-v'],
    "Apache Maven to download Cassandra's jars once",
    'Debian/Ubuntu: apt-get install maven',
  );

  const workDir = join(libDir, '..', 'fetch');
  // Start from empty directories: leftovers of an interrupted run could mix versions of a jar.
  await rm(libDir, { recursive: true, force: true });
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });
  await writeFile(join(workDir, 'pom.xml'), fetchPom(version));

  const started = Date.now();
  logger.info({ version, libDir }, 'downloading the Cassandra classpath with maven (once, ~1 min)');
  const output = await run(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      join(workDir, 'pom.xml'),
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${libDir}`,
    ],
    workDir,
  );
  if (output.code !== 0) {
    throw new OperatorError(
      'CASSANDRA_FETCH_FAILED',
      `mvn could not fetch org.apache.cassandra:cassandra-all:${version} (exit ${output.code}): ${lastLines(output.text, 15)}`,
      'check network access to Maven Central (or a mirror in ~/.m2/settings.xml), then run again',
    );
  }
  const jars = await jarCount(libDir);
  if (jars === 0) {
    throw new OperatorError('CASSANDRA_FETCH_FAILED', `mvn finished but ${libDir} holds no jars`);
  }
  await writeFile(join(libDir, COMPLETE_MARKER), `cassandra-all ${version}\n`);
  await rm(workDir, { recursive: true, force: true });
  logger.info({ version, libDir, jars, ms: Date.now() - started }, 'cassandra classpath ready');
  return libDir;
}

/** A pom whose only job is to name `cassandra-all` as a dependency for `copy-dependencies`. */
export function fetchPom(version: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>zdm.local</groupId>
  <artifactId>cassandra-classpath</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.cassandra</groupId>
      <artifactId>cassandra-all</artifactId>
      <version>${version}</version>
    </dependency>
  </dependencies>
</project>
`;
}

/** Runs `command args` and returns its output; throws an OperatorError saying what to install. */
function requireTool(command: string, args: string[], why: string, install: string): string {
  const probe = spawnSync(command, args, { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new OperatorError(
      'CASSANDRA_TOOL_MISSING',
      `\`${command}\` was not found or does not run; local Cassandra clusters need ${why}`,
      `install it (${install}) and make sure \`${command}\` is on PATH`,
    );
  }
  return `${probe.stdout}${probe.stderr}`;
}

async function jarCount(dir: string): Promise<number> {
  try {
    return (await readdir(dir)).filter((f) => f.endsWith('.jar')).length;
  } catch {
    return 0;
  }
}

function run(command: string, args: string[], cwd: string): Promise<{ code: number; text: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? 1, text }));
  });
}

function lastLines(text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}
