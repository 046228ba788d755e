// Types of package-entries.mjs, for the tests that import it.
export interface Entry {
  readonly subpath: string;
  readonly module: string;
}
export interface PackageJson {
  readonly exports?: Record<string, unknown>;
  readonly [key: string]: unknown;
}
export function entries(pkg: PackageJson): Entry[];
export function derivedFields(pkg: PackageJson): Record<string, unknown>;
export function drift(pkg: PackageJson): string[];
