/** The package a bare specifier names: `@scope/name` or `name`. */
export declare function packageName(specifier: string): string;

/**
 * What is wrong with the package in `dir` (missing fields, `exports` targets, relative imports
 * leaving the package or naming no file, undeclared bare imports, `@herald/*` version skew), one
 * message per problem; empty when the package is sound. See package-audit.mjs.
 */
export declare function auditPackage(dir: string): string[];
