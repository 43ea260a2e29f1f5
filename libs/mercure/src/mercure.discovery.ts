/** Target attributes of a hub `Link` header (Mercure discovery). */
export interface MercureLinkOptions {
  /** `last-event-id`: the last update id when the resource was generated. */
  readonly lastEventId?: string;
  /** `content-type` of the updates, when not the resource's own. */
  readonly contentType?: string;
}

/**
 * The `Link` header value an application adds to its own resources so that subscribers find
 * the hub: `<https://example.com/.well-known/mercure>; rel="mercure"` (plus `last-event-id` and
 * `content-type` when given). `hubUrl` is the hub's absolute URL (Herald's origin +
 * `/.well-known/mercure`).
 * @throws TypeError when `hubUrl` is not an absolute URL.
 */
export function mercureLink(hubUrl: string, options: MercureLinkOptions = {}): string {
  const url = new URL(hubUrl).href;
  let link = `<${url}>; rel="mercure"`;
  if (options.lastEventId !== undefined) link += `; last-event-id="${quote(options.lastEventId)}"`;
  if (options.contentType !== undefined) link += `; content-type="${quote(options.contentType)}"`;
  return link;
}

function quote(value: string): string {
  return value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\r\n]/g, '');
}
