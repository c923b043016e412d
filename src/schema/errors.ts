import { InvalidArgumentError } from "../tuple/index.ts";

/**
 * SchemaDiagnostic is one problem found in schema text: where (1-based line and column of the
 * offending token in `fileName`) and what, as a sentence a person can act on.
 */
export interface SchemaDiagnostic {
  readonly fileName: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/**
 * SchemaError reports schema text that does not compile. `diagnostics` holds every problem found
 * (syntax errors stop at the first; type errors are all collected), in source order; the message
 * lists them one per line as `file:line:column: message`. Its field is always "schema".
 */
export class SchemaError extends InvalidArgumentError {
  override name = "SchemaError";
  readonly diagnostics: readonly SchemaDiagnostic[];

  constructor(diagnostics: readonly SchemaDiagnostic[]) {
    const sorted = [...diagnostics].sort((a, b) => a.line - b.line || a.column - b.column);
    super(sorted.map(formatDiagnostic).join("\n"), { field: "schema" });
    this.diagnostics = sorted;
  }
}

// `file:line:column: message` is the form editors and terminals turn into links.
function formatDiagnostic(diagnostic: SchemaDiagnostic): string {
  return `${diagnostic.fileName}:${diagnostic.line}:${diagnostic.column}: ${diagnostic.message}`;
}
