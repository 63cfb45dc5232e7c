/**
 * What the test requires of the Dockerfile, checked on the report of test/tools/dockerfile-check
 * (BuildKit's parse of it): pure, so the checks themselves are tested on broken examples.
 */

/** One instruction as BuildKit parsed it: keyword in lower case, its arguments and --flags. */
export interface DockerInstruction {
  readonly keyword: string;
  readonly args: readonly string[];
  readonly flags: readonly string[];
  readonly line: number;
}

export interface DockerStage {
  readonly name: string;
  readonly base: string;
  readonly instructions: readonly DockerInstruction[];
}

export interface DockerfileReport {
  readonly stages: readonly DockerStage[];
  /** BuildKit's build-check findings (those of `docker build --check`). */
  readonly warnings: readonly string[];
}

/** A tag with a version number (`node:20.19.5-bookworm-slim`) or a digest; never bare or `latest`. */
export function isPinned(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const tag = /:([^/:]+)$/.exec(image)?.[1];
  return tag !== undefined && tag !== 'latest' && /\d+\.\d+/.test(tag);
}

/** Every way the Dockerfile falls short of what the deployment needs; empty when it is sane. */
export function dockerfileProblems(report: DockerfileReport, exposedPorts: readonly number[]): string[] {
  const problems = report.warnings.map((w) => `build check: ${w}`);
  const names = new Set(report.stages.map((s) => s.name.toLowerCase()));
  for (const stage of report.stages) {
    // A stage built FROM an earlier stage inherits that stage's pinned base.
    if (!names.has(stage.base.toLowerCase()) && !isPinned(stage.base))
      problems.push(
        `stage ${stage.name || '(unnamed)'}: base image ${stage.base} is not pinned to a version`,
      );
  }
  const runtime = report.stages.at(-1);
  if (runtime === undefined) return [...problems, 'no stage'];
  if (report.stages.length < 2)
    problems.push('not multi-stage: the runtime image would hold the build tools');
  const runs = (stage: DockerStage) =>
    stage.instructions.filter((i) => i.keyword === 'run').map((i) => i.args.join(' '));
  const build = report.stages.slice(0, -1);
  if (!build.some((s) => runs(s).some((r) => r.includes('npm ci'))))
    problems.push('no build stage runs `npm ci`');
  if (!build.some((s) => runs(s).some((r) => r.includes('npm run build'))))
    problems.push('no build stage runs `npm run build`');
  if (runs(runtime).some((r) => /npm (ci|install)\b/.test(r) && !r.includes('--omit=dev')))
    problems.push('the runtime stage installs dev dependencies');
  const user = runtime.instructions.filter((i) => i.keyword === 'user').at(-1)?.args[0];
  const userName = user?.split(':')[0];
  if (userName === undefined) problems.push('the runtime stage runs as root (no USER)');
  else if (userName === 'root' || userName === '0')
    problems.push(`the runtime stage runs as root (USER ${user})`);
  else if (!/^\d+$/.test(userName))
    problems.push(`USER ${user} is a name: Kubernetes can verify runAsNonRoot only for a numeric user`);
  const exposed = runtime.instructions
    .filter((i) => i.keyword === 'expose')
    .flatMap((i) => i.args.map((a) => Number.parseInt(a, 10)));
  for (const port of exposedPorts)
    if (!exposed.includes(port)) problems.push(`the runtime stage does not EXPOSE ${port}`);
  const command = runtime.instructions
    .filter((i) => i.keyword === 'cmd' || i.keyword === 'entrypoint')
    .at(-1);
  if (command === undefined) problems.push('the runtime stage has no CMD or ENTRYPOINT');
  return problems;
}
