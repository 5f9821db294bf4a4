// `--filter EXPR` for text/JSON/--check output, compiled with the display-filter language the
// terminal UI uses. A bad expression is a one-line error that points at the problem.
import { compileFilter } from '../model/filter.js';
import type { AnyRecord } from '../model/record.js';

export class FilterSyntaxError extends Error {
  override name = 'FilterSyntaxError';
}

export function compileRecordFilter(expr: string | undefined): ((r: AnyRecord) => boolean) | undefined {
  if (expr === undefined || expr.trim() === '') return undefined;
  const compiled = compileFilter(expr);
  if (!compiled.ok) {
    throw new FilterSyntaxError(`bad --filter: ${compiled.error}\n  ${expr}\n  ${' '.repeat(compiled.position)}^`);
  }
  return (r) => compiled.test(r);
}
