/**
 * Installs the client programs of test/clients/ (one function per client) and the tools of
 * test/tools/, each once, under .zdm/clients/<name>/ (git-ignored): the next run reuses the install while its inputs (the files
 * that define it) are unchanged. A lock directory per client keeps two runs from building the same
 * client at once. A client that cannot be installed throws an error saying what to install.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** A program to run with the session's arguments appended. */
export interface ClientCommand {
  readonly command: string;
  readonly args: readonly string[];
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLIENTS = join(ROOT, 'test', 'clients');
const CACHE = join(ROOT, '.zdm', 'clients');
/** Bumped when a recipe below changes in a way its input files do not show. */
const RECIPE = '1';
const LOCK_WAIT_MS = 15 * 60_000;

/** The Java driver 4.x: its classpath from Maven Central, and Session.java compiled with javac. */
export function installJava(): Promise<ClientCommand> {
  const dir = join(CACHE, 'java');
  const source = join(CLIENTS, 'java');
  return cachedInstall('java', [join(source, 'pom.xml'), join(source, 'Session.java')], async () => {
    await requireTool('javac', ['-version'], 'the Java client', 'openjdk-17-jdk-headless');
    await requireTool('mvn', ['-v'], 'the Java client', 'maven');
    await run('mvn', [
      '-q',
      '-B',
      '-f',
      join(source, 'pom.xml'),
      'dependency:copy-dependencies',
      `-DoutputDirectory=${join(dir, 'lib')}`,
      // The Maven repository is cached under .zdm/ too, so a clean clone fetches into its own tree.
      `-Dmaven.repo.local=${join(CACHE, 'maven-repository')}`,
    ]);
    await run('javac', [
      '-d',
      join(dir, 'classes'),
      '-cp',
      join(dir, 'lib', '*'),
      join(source, 'Session.java'),
    ]);
  }).then(() => ({
    command: 'java',
    args: [
      // A short-lived client: the quick JIT tier and one GC thread start it faster on two busy cores.
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      '-cp',
      `${join(dir, 'lib', '*')}:${join(dir, 'classes')}`,
      'Session',
    ],
  }));
}

/** gocql v2 from the Go module proxy, and main.go built with `go build`. */
export function installGocql(): Promise<ClientCommand> {
  const dir = join(CACHE, 'gocql');
  const source = join(CLIENTS, 'gocql');
  const inputs = ['go.mod', 'go.sum', 'main.go'].map((f) => join(source, f));
  return cachedInstall('gocql', inputs, async () => {
    await requireTool('go', ['version'], 'the gocql client', 'golang-go');
    await run('go', ['build', '-o', join(dir, 'session'), '.'], { cwd: source, env: goEnv() });
  }).then(() => ({ command: join(dir, 'session'), args: [] }));
}

/** A Go program of test/tools/<name>/ (its go.mod, go.sum and main.go), built with `go build`. */
export function installGoTool(name: string): Promise<string> {
  const dir = join(CACHE, name);
  const source = join(ROOT, 'test', 'tools', name);
  const inputs = ['go.mod', 'go.sum', 'main.go'].map((f) => join(source, f));
  return cachedInstall(name, inputs, async () => {
    await requireTool('go', ['version'], `the ${name} tool`, 'golang-go');
    await run('go', ['build', '-o', join(dir, name), '.'], { cwd: source, env: goEnv() });
  }).then(() => join(dir, name));
}

/** The Helm CLI, built from its module with `go install` (no prebuilt binary can be fetched). */
export function installHelm(): Promise<string> {
  const name = `helm-${HELM_VERSION}`;
  const dir = join(CACHE, name);
  return cachedInstall(name, [], async () => {
    await requireTool('go', ['version'], 'the Helm CLI', 'golang-go');
    await run('go', ['install', `helm.sh/helm/v3/cmd/helm@${HELM_VERSION}`], {
      env: { ...goEnv(), GOBIN: dir, GOFLAGS: '-modcacherw -buildvcs=false' },
    });
  }).then(() => join(dir, 'helm'));
}

const HELM_VERSION = 'v3.22.0';

function goEnv(): Record<string, string> {
  return {
    GOMODCACHE: join(CACHE, 'go-modules'),
    GOCACHE: join(CACHE, 'go-build'),
    // -modcacherw: Go makes its module cache read-only, which would make `rm -rf .zdm` fail.
    GOFLAGS: '-modcacherw -mod=readonly -buildvcs=false',
  };
}

/** The Python driver (PyPI cassandra-driver) with lz4 and python-snappy, in a virtualenv. */
export function installPython(): Promise<ClientCommand> {
  return pythonClient('python', 'session.py');
}

/** Another program of test/clients/python/, run by the same virtualenv as the scripted session. */
export function installPythonProgram(script: string): Promise<ClientCommand> {
  return pythonClient('python', script);
}

/** cqlsh (PyPI) in a virtualenv, run through a wrapper that reports what its driver negotiated. */
export function installCqlsh(): Promise<ClientCommand> {
  return pythonClient('cqlsh', 'cqlsh_session.py');
}

/** The Node.js driver is a dependency of the project: nothing to install, only to find. */
export async function installNode(): Promise<ClientCommand> {
  try {
    createRequire(import.meta.url).resolve('cassandra-driver');
  } catch (error) {
    throw new Error('the Node.js client needs cassandra-driver: run `npm ci` in the repository', {
      cause: error,
    });
  }
  return { command: process.execPath, args: ['--import', 'tsx', join(CLIENTS, 'node', 'session.ts')] };
}

function pythonClient(name: string, script: string): Promise<ClientCommand> {
  const dir = join(CACHE, name);
  const requirements = join(CLIENTS, name, 'requirements.txt');
  const venv = join(dir, 'venv');
  return cachedInstall(name, [requirements], async () => {
    await requireTool('python3', ['-m', 'venv', '--help'], `the ${name} client`, 'python3 python3-venv');
    await run('python3', ['-m', 'venv', venv]);
    await run(join(venv, 'bin', 'pip'), [
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '-r',
      requirements,
    ]);
  }).then(() => ({ command: join(venv, 'bin', 'python'), args: [join(CLIENTS, name, script)] }));
}

/**
 * Runs `build` into an empty .zdm/clients/<name>/ unless a finished install of the same inputs is there
 * (its stamp file holds their hash), holding .zdm/clients/<name>.lock meanwhile.
 */
async function cachedInstall(
  name: string,
  inputs: readonly string[],
  build: () => Promise<void>,
): Promise<void> {
  const dir = join(CACHE, name);
  const stampFile = join(dir, '.installed');
  const stamp = await inputsHash(inputs);
  const installed = async () => (await readFile(stampFile, 'utf8').catch(() => '')) === stamp;
  if (await installed()) return;
  await withLock(join(CACHE, `${name}.lock`), async () => {
    if (await installed()) return; // another run finished it while this one waited
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    try {
      await build();
    } catch (error) {
      throw new Error(`installing the ${name} client failed: ${(error as Error).message}`, { cause: error });
    }
    await writeFile(stampFile, stamp);
  });
}

async function inputsHash(inputs: readonly string[]): Promise<string> {
  const hash = createHash('sha256').update(`recipe ${RECIPE}\n`);
  for (const file of inputs) hash.update(file).update(await readFile(file));
  return hash.digest('hex');
}

/** mkdir is atomic: the run that creates the directory holds the lock; a dead holder's lock is taken over. */
async function withLock(lock: string, work: () => Promise<void>): Promise<void> {
  await mkdir(CACHE, { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await mkdir(lock);
      await writeFile(join(lock, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => ''));
    // A lock without a pid file yet is being taken right now: wait for it like for a live holder.
    if (holder > 0 && !isAlive(holder)) {
      await rm(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${lock} has been held by process ${holder || '(unknown)'} for ${LOCK_WAIT_MS / 60_000} minutes; ` +
          'if no test run is installing clients, delete that directory and run again',
      );
    }
    await sleep(500);
  }
  try {
    await work();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function requireTool(command: string, args: string[], forWhat: string, debianPackages: string) {
  try {
    await run(command, args);
  } catch (error) {
    throw new Error(
      `${forWhat} needs \`${command}\`, which does not run here; install it (Debian/Ubuntu: ` +
        `apt-get install ${debianPackages}; .ci/run does this on CI)`,
      { cause: error },
    );
  }
}

/** Runs a command to completion; rejects with its exit status and the end of its output. */
function run(
  command: string,
  args: readonly string[],
  options: { readonly cwd?: string; readonly env?: Record<string, string> } = {},
): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolvePromise();
      else
        reject(
          new Error(`\`${command} ${args.join(' ')}\` exited with ${code ?? signal}:\n${output.trimEnd()}`),
        );
    });
  });
}
