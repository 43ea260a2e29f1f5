/** Options of {@link ClusterModule}, discriminated on `driver`. */
export type ClusterModuleOptions =
  | { readonly driver: 'local'; readonly instanceId: string }
  | {
      readonly driver: 'redis';
      readonly instanceId: string;
      readonly url: string;
      readonly keyPrefix: string;
      readonly heartbeatMs?: number;
    };
