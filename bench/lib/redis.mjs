// What the benchmarks' private redis-servers share: loopback only, no snapshots, no AOF, in the
// foreground (so the pid is the server's and a SIGKILL by pid stops it).

/**
 * `redis-server` arguments for 127.0.0.1:`port`; with `dir`, data files (if any) go there as
 * `dump-<port>.rdb`.
 * @param {number} port
 * @param {string} [dir]
 * @returns {string[]}
 */
export function redisServerArgs(port, dir) {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
  ];
  if (dir !== undefined) args.push('--dir', dir, '--dbfilename', `dump-${port}.rdb`);
  return args;
}
