/*
 * A small JavaScript model of how MongoDB matches the query operators the permission filter
 * emits ($and/$or/$nor, $eq/$ne/$in/$nin/$lt/$lte/$gt/$gte, $exists, $type (one name or a list), $not,
 * $elemMatch),
 * including the behaviours the filter must guard against: dotted paths walk into arrays of
 * subdocuments, comparisons also match array elements, `$eq: null` matches a missing field,
 * `$ne`/`$nin`/`$not` match a missing field, and comparisons only match within a type class.
 * It is used to evaluate produced filters without a server; the server run (MONGODB_URL) checks
 * the real thing.
 */

type Doc = Readonly<Record<string, unknown>>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The values a dotted path reaches, walking into arrays of subdocuments on the way. */
function reach(value: unknown, segments: readonly string[]): unknown[] {
  if (segments.length === 0) return [value];
  if (Array.isArray(value)) return value.flatMap((element) => (isPlainObject(element) ? reach(element, segments) : []));
  if (!isPlainObject(value) || !Object.hasOwn(value, segments[0] as string)) return [];
  return reach(value[segments[0] as string], segments.slice(1));
}

function typeClass(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function equalValues(left: unknown, right: unknown): boolean {
  if (Array.isArray(left) && Array.isArray(right)) return left.length === right.length && left.every((item, index) => equalValues(item, right[index]));
  return left === right;
}

/** A value matches a comparison directly, or (an array) through one of its elements. */
function matchesValueOrElement(value: unknown, test: (candidate: unknown) => boolean): boolean {
  if (test(value)) return true;
  return Array.isArray(value) && value.some((element) => test(element));
}

function compare(op: string, candidate: unknown, operand: unknown): boolean {
  if (typeClass(candidate) !== typeClass(operand) || (typeof candidate !== 'number' && typeof candidate !== 'string')) return false;
  const a = candidate as number | string;
  const b = operand as number | string;
  if (op === '$lt') return a < b;
  if (op === '$lte') return a <= b;
  if (op === '$gt') return a > b;
  return a >= b;
}

function eqOperator(reached: readonly unknown[], operand: unknown): boolean {
  if (operand === null && reached.length === 0) return true;
  return reached.some((value) => matchesValueOrElement(value, (candidate) => equalValues(candidate, operand)));
}

function matchesOperators(reached: readonly unknown[], operators: Doc): boolean {
  return Object.entries(operators).every(([op, operand]) => {
    switch (op) {
      case '$eq':
        return eqOperator(reached, operand);
      case '$ne':
        return !eqOperator(reached, operand);
      case '$in':
        return (operand as unknown[]).some((item) => eqOperator(reached, item));
      case '$nin':
        return !(operand as unknown[]).some((item) => eqOperator(reached, item));
      case '$lt':
      case '$lte':
      case '$gt':
      case '$gte':
        return reached.some((value) => matchesValueOrElement(value, (candidate) => compare(op, candidate, operand)));
      case '$exists':
        return (reached.length > 0) === operand;
      case '$type': {
        // A type name or a list of them; 'bool' is MongoDB's name for a boolean.
        const names = (Array.isArray(operand) ? operand : [operand]).map((name) => (name === 'bool' ? 'boolean' : name));
        return reached.some((value) =>
          names.some((name) => (name === 'array' ? Array.isArray(value) : matchesValueOrElement(value, (candidate) => typeClass(candidate) === name))),
        );
      }
      case '$not':
        return !matchesOperators(reached, operand as Doc);
      case '$elemMatch':
        return reached.some((value) => Array.isArray(value) && value.some((element) => matchesOperators([element], operand as Doc)));
      default:
        throw new Error(`The test matcher does not model ${op}`);
    }
  });
}

export function matchesMongoFilter(document: Doc, filter: Doc): boolean {
  return Object.entries(filter).every(([key, condition]) => {
    if (key === '$and') return (condition as Doc[]).every((inner) => matchesMongoFilter(document, inner));
    if (key === '$or') return (condition as Doc[]).some((inner) => matchesMongoFilter(document, inner));
    if (key === '$nor') return !(condition as Doc[]).some((inner) => matchesMongoFilter(document, inner));
    if (key.startsWith('$')) throw new Error(`The test matcher does not model ${key}`);
    const reached = reach(document, key.split('.'));
    const isOperatorDoc = isPlainObject(condition) && Object.keys(condition).length > 0 && Object.keys(condition).every((name) => name.startsWith('$'));
    return isOperatorDoc ? matchesOperators(reached, condition as Doc) : eqOperator(reached, condition);
  });
}
