/**
 * What the benchmarks read of processes and the machine from /proc (Linux): CPU seconds of a
 * process and of the processes it started, peak memory, the machine's busy CPU time, load average.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICKS = 100;

/** `pid` and the processes it started, recursively (the proxy's workers). */
export function processTree(pid: number): number[] {
  const children = readdirSync(`/proc/${pid}/task`).flatMap((task) =>
    readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
  );
  return [pid, ...children.flatMap(processTree)];
}

/** CPU seconds (user + system) the process has used so far: fields 14 and 15 of /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command name, field 3 is index 0: utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/** CPU seconds (user + system) the process and its children have used so far. */
export function treeCpuSeconds(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + cpuSeconds(p), 0);
}

/** Peak resident set size of the process and its children in MiB (VmHWM, summed). */
export function peakRssMiB(pid: number): number {
  return processTree(pid).reduce((sum, p) => {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
    return sum + (match === null ? Number.NaN : Number(match[1]) / 1024);
  }, 0);
}

/**
 * CPU seconds all cores have been busy so far: the `cpu` line of /proc/stat less idle and iowait.
 * Its ticks include the kernel's network work (softirqs) wherever it ran, which processes' own
 * times include only when it ran in their context.
 */
export function machineBusySeconds(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  // user nice system idle iowait irq softirq steal (guest time is counted within user already).
  const [user, nice, system, , , irq, softirq, steal] = ticks.map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / TICKS;
}

/** The 1, 5 and 15 minute load averages. */
export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}
