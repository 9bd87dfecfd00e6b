// The few Node built-ins used by the build configs and size.test.ts. The repo does not ship
// @types/node, so these minimal declarations keep `tsc` strict without adding a dependency.
declare module 'node:url' {
  export function fileURLToPath(url: string | URL): string;
}
declare module 'node:zlib' {
  export function gzipSync(data: Uint8Array, options?: { level?: number }): Uint8Array;
}
declare module 'node:fs' {
  export function existsSync(path: string): boolean;
  export function readFileSync(path: string): Uint8Array;
}
