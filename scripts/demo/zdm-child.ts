import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface ZdmOutcome {
  readonly code: number | null;
  /** The command's `--json` summaries (stdout): one per table, then one of all tables. */
  readonly summaries: readonly Record<string, unknown>[];
}

export interface ZdmRun {
  /** Called every second while the command runs; true kills it with SIGKILL (as a crash would). */
  readonly killWhen?: () => boolean | Promise<boolean>;
}

/**
 * Runs `zdm <args> --json` as a child: its progress bar and log lines go to this terminal
 * (stderr), its JSON summary (stdout) comes back to the demo, which prints its own table.
 */
export function runZdm(args: readonly string[], run: ZdmRun = {}): Promise<ZdmOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join('src', 'cli', 'zdm.ts'), ...args, '--json'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    const poll =
      run.killWhen === undefined
        ? undefined
        : setInterval(async () => {
            if (await run.killWhen?.()) child.kill('SIGKILL');
          }, 1000);
    child.once('error', reject);
    child.once('close', (code) => {
      if (poll !== undefined) clearInterval(poll);
      const summaries = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ code, summaries });
    });
  });
}
