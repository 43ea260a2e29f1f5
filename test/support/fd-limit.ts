import { execFileSync } from 'node:child_process';

/** The soft open-files limit of this process, or undefined when `prlimit` is unavailable. */
export function fdLimit(): number | undefined {
  try {
    const out = execFileSync(
      'prlimit',
      ['--pid', String(process.pid), '--nofile', '--output', 'SOFT', '--noheadings'],
      { encoding: 'utf8' },
    ).trim();
    return out === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(out);
  } catch {
    return undefined;
  }
}

/**
 * Raises this process's soft open-files limit towards `wanted` (up to the hard limit), so it and
 * the processes it spawns afterwards can hold thousands of sockets. Returns the limit now in force.
 */
export function raiseFdLimit(wanted: number): number | undefined {
  const current = fdLimit();
  if (current === undefined || current >= wanted) return current;
  try {
    const hard = execFileSync(
      'prlimit',
      ['--pid', String(process.pid), '--nofile', '--output', 'HARD', '--noheadings'],
      { encoding: 'utf8' },
    ).trim();
    const target = hard === 'unlimited' ? wanted : Math.min(wanted, Number(hard));
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${target}:`]);
  } catch {
    // keep the current limit
  }
  return fdLimit();
}
