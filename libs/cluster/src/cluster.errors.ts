/** Why a cluster request could not be made (mapped to HTTP by `@herald/http`). */
export enum ClusterErrorCode {
  /** Redis, which carries the bus, is unreachable or did not answer (503). */
  Unavailable = 'cluster-unavailable',
}

/** A cluster-bus failure with a stable code; transient. */
export class ClusterError extends Error {
  constructor(
    readonly code: ClusterErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ClusterError';
  }
}
