/**
 * `Sec-WebSocket-Extensions` parsing into WebSocket-Node's shape (`requestedExtensions`).
 */

/** One parameter of an offered extension; a bare parameter has no `value`. */
export interface ExtensionParam {
  name: string;
  value?: string;
}

/** One offered extension. */
export interface Extension {
  name: string;
  params: ExtensionParam[];
}

/** Parse an extensions header: lower-cased, items split on `,`, parameters on `;`. */
export function parseExtensionsHeader(header: string | undefined): Extension[] {
  if (!header) return [];
  return header
    .toLowerCase()
    .split(/,\s*/)
    .map((item) => {
      const [name, ...params] = item.split(/;\s*/);
      return {
        name,
        params: params.map((param) => {
          const eq = param.indexOf('=');
          return eq < 0 ? { name: param } : { name: param.slice(0, eq), value: param.slice(eq + 1) };
        }),
      };
    });
}
