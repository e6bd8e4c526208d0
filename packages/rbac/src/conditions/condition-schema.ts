import { z } from 'zod';
import { RBAC_LIMITS } from '../rules/rbac-limits.js';
import { parseOrThrow } from '../rules/parse-or-throw.js';
import { attributePathProblem } from './attribute-path.js';
import type { Condition, ConditionOperator } from './condition.js';
import { isForbiddenKey } from './forbidden-keys.js';
import { isIsoInstant } from './time-window.js';

const OPERATORS = ['eq', 'ne', 'in', 'nin', 'lt', 'lte', 'gt', 'gte', 'contains', 'exists'] as const satisfies readonly ConditionOperator[];
const NODE_KEYS = ['field', 'self', 'timeWindow', 'all', 'any', 'not'] as const;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;
const CLOCK_TIME = /^(?:[01]\d|2[0-3]):[0-5]\d$/;

const fieldNodeSchema = z.strictObject({
  field: z.string(),
  op: z.enum(OPERATORS),
  value: z.unknown(),
});
const selfNodeSchema = z.strictObject({ self: z.string() });
const branchesSchema = z.array(z.unknown()).min(1, 'must list at least one condition');
const allNodeSchema = z.strictObject({ all: branchesSchema });
const anyNodeSchema = z.strictObject({ any: branchesSchema });
const notNodeSchema = z.strictObject({ not: z.unknown() });

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

const timeWindowBodySchema = z
  .strictObject({
    notBefore: z.string().regex(ISO_INSTANT, 'must be an ISO-8601 instant with a time zone offset, e.g. 2026-01-01T00:00:00Z').optional(),
    notAfter: z.string().regex(ISO_INSTANT, 'must be an ISO-8601 instant with a time zone offset, e.g. 2026-12-31T23:59:59Z').optional(),
    daysOfWeek: z
      .array(z.int().min(0, 'days are 0 (Sunday) to 6').max(6, 'days are 0 (Sunday) to 6'))
      .min(1, 'must list at least one day')
      .max(7)
      .refine((days) => new Set(days).size === days.length, 'must not repeat a day')
      .optional(),
    fromTime: z.string().regex(CLOCK_TIME, 'must be HH:MM (00:00-23:59)').optional(),
    toTime: z.string().regex(CLOCK_TIME, 'must be HH:MM (00:00-23:59)').optional(),
    timeZone: z.string().max(64).refine(isTimeZone, 'must be an IANA time zone name, e.g. Europe/Berlin').optional(),
  })
  .superRefine((window, ctx) => {
    if (Object.keys(window).filter((key) => key !== 'timeZone').length === 0) {
      ctx.addIssue({ code: 'custom', message: 'needs at least one of notBefore, notAfter, daysOfWeek, fromTime/toTime' });
    }
    if ((window.fromTime === undefined) !== (window.toTime === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'fromTime and toTime go together' });
    }
    if (window.fromTime !== undefined && window.fromTime === window.toTime) {
      ctx.addIssue({ code: 'custom', message: 'fromTime and toTime must differ (toTime is exclusive)', path: ['toTime'] });
    }
    for (const key of ['notBefore', 'notAfter'] as const) {
      const value = window[key];
      if (value !== undefined && !isIsoInstant(value)) {
        ctx.addIssue({ code: 'custom', message: 'is not a valid date', path: [key] });
      }
    }
    if (window.notBefore !== undefined && window.notAfter !== undefined && Date.parse(window.notBefore) > Date.parse(window.notAfter)) {
      ctx.addIssue({ code: 'custom', message: 'notBefore is after notAfter', path: ['notBefore'] });
    }
  });
const timeWindowNodeSchema = z.strictObject({ timeWindow: timeWindowBodySchema });

type Scalar = string | number | boolean | null;
type Path = (string | number)[];
type Report = (message: string, path: Path) => undefined;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function scalarProblem(value: unknown, allowNull: boolean): string | null {
  if (value === null) return allowNull ? null : 'must not be null';
  if (typeof value === 'string') {
    return value.length > RBAC_LIMITS.maxConditionStringLength ? `strings are at most ${RBAC_LIMITS.maxConditionStringLength} characters` : null;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? null : 'numbers must be finite';
  if (typeof value === 'boolean') return null;
  return 'must be a string, number, boolean' + (allowNull ? ' or null' : '');
}

// Returns a copy of the operand (so the caller's objects are never aliased), or undefined after
// reporting a problem.
function checkOperand(op: ConditionOperator, value: unknown, path: Path, report: Report): unknown {
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (keys.some(isForbiddenKey)) return report(`forbidden key "${keys.find(isForbiddenKey)}"`, path);
    if (keys.length !== 1 || keys[0] !== 'ref') return report('an object operand must be exactly { ref: "principal.…" | "context.…" }', path);
    if (op === 'exists') return report('exists takes true or false, not a reference', path);
    const problem = attributePathProblem(value['ref'], ['principal', 'context']);
    if (problem !== null) return report(`ref ${problem}`, [...path, 'ref']);
    return { ref: value['ref'] };
  }
  switch (op) {
    case 'exists':
      return typeof value === 'boolean' ? value : report('exists takes true or false', path);
    case 'in':
    case 'nin': {
      if (!Array.isArray(value)) return report(`${op} takes a list of values or a reference`, path);
      if (value.length > RBAC_LIMITS.maxConditionListLength) return report(`lists hold at most ${RBAC_LIMITS.maxConditionListLength} values`, path);
      for (let index = 0; index < value.length; index += 1) {
        const problem = scalarProblem(value[index], false);
        if (problem !== null) return report(problem, [...path, index]);
      }
      return [...(value as Scalar[])];
    }
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte': {
      if (typeof value !== 'number' && typeof value !== 'string') return report(`${op} compares with a number or a string`, path);
      const problem = scalarProblem(value, false);
      return problem === null ? value : report(problem, path);
    }
    default: {
      if (Array.isArray(value)) return report(`${op} takes a single value; use in/nin for lists`, path);
      const problem = scalarProblem(value, true);
      return problem === null ? value : report(problem, path);
    }
  }
}

function forward(issues: readonly z.core.$ZodIssue[], path: Path, report: Report): undefined {
  for (const issue of issues) report(issue.message, [...path, ...(issue.path as Path)]);
  return undefined;
}

interface Budget {
  nodes: number;
}

function checkNode(value: unknown, path: Path, depth: number, budget: Budget, report: Report): Condition | undefined {
  if (depth > RBAC_LIMITS.maxConditionDepth) return report(`conditions nest at most ${RBAC_LIMITS.maxConditionDepth} levels deep`, path);
  budget.nodes += 1;
  if (budget.nodes > RBAC_LIMITS.maxConditionNodes) {
    if (budget.nodes === RBAC_LIMITS.maxConditionNodes + 1) report(`a condition has at most ${RBAC_LIMITS.maxConditionNodes} nodes`, path);
    return undefined;
  }
  if (!isObject(value)) return report('a condition must be an object', path);
  const keys = Object.keys(value);
  const forbidden = keys.find(isForbiddenKey);
  if (forbidden !== undefined) return report(`forbidden key "${forbidden}"`, [...path, forbidden]);
  const kinds = NODE_KEYS.filter((key) => keys.includes(key));
  if (kinds.length !== 1) {
    return report(
      kinds.length === 0
        ? 'must have one of field, self, timeWindow, all, any, not'
        : `must have exactly one of field, self, timeWindow, all, any, not (found ${kinds.join(', ')})`,
      path,
    );
  }
  switch (kinds[0]) {
    case 'field': {
      const parsed = fieldNodeSchema.safeParse(value);
      if (!parsed.success) return forward(parsed.error.issues, path, report);
      const problem = attributePathProblem(parsed.data.field, ['resource', 'principal', 'context']);
      if (problem !== null) return report(`field ${problem}`, [...path, 'field']);
      const operand = checkOperand(parsed.data.op, parsed.data.value, [...path, 'value'], report);
      if (operand === undefined) return undefined;
      return { field: parsed.data.field, op: parsed.data.op, value: operand } as Condition;
    }
    case 'self': {
      const parsed = selfNodeSchema.safeParse(value);
      if (!parsed.success) return forward(parsed.error.issues, path, report);
      const problem = attributePathProblem(parsed.data.self, ['resource']);
      if (problem !== null) return report(`self ${problem}`, [...path, 'self']);
      return { self: parsed.data.self };
    }
    case 'timeWindow': {
      if (isObject(value['timeWindow'])) {
        const inner = Object.keys(value['timeWindow']).find(isForbiddenKey);
        if (inner !== undefined) return report(`forbidden key "${inner}"`, [...path, 'timeWindow', inner]);
      }
      const parsed = timeWindowNodeSchema.safeParse(value);
      if (!parsed.success) return forward(parsed.error.issues, path, report);
      const window = Object.fromEntries(Object.entries(parsed.data.timeWindow).filter(([, v]) => v !== undefined));
      return { timeWindow: window };
    }
    case 'all':
    case 'any': {
      const kind = kinds[0];
      const parsed = (kind === 'all' ? allNodeSchema : anyNodeSchema).safeParse(value);
      if (!parsed.success) return forward(parsed.error.issues, path, report);
      const branches = (parsed.data as Record<string, unknown[]>)[kind] as unknown[];
      const children: Condition[] = [];
      let ok = true;
      for (let index = 0; index < branches.length; index += 1) {
        const child = checkNode(branches[index], [...path, kind, index], depth + 1, budget, report);
        if (child === undefined) ok = false;
        else children.push(child);
      }
      if (!ok) return undefined;
      return kind === 'all' ? { all: children } : { any: children };
    }
    default: {
      const parsed = notNodeSchema.safeParse(value);
      if (!parsed.success) return forward(parsed.error.issues, path, report);
      const child = checkNode(parsed.data.not, [...path, 'not'], depth + 1, budget, report);
      return child === undefined ? undefined : { not: child };
    }
  }
}

/**
 * The zod schema of a {@link Condition}. Every node is a strict object (no extra keys) with
 * exactly one of `field`, `self`, `timeWindow`, `all`, `any`, `not`; field paths start with
 * `resource.`, `principal.` or `context.`; references (`{ ref }`) point only at `principal.` or
 * `context.`; operands match their operator; time zones are IANA names; `__proto__`,
 * `constructor` and `prototype` are rejected anywhere; limits in {@link RBAC_LIMITS}. The output
 * is a fresh copy, never the caller's objects.
 *
 * @example
 * ```ts
 * const result = conditionSchema.safeParse({ self: 'resource.ownerId' });
 * result.success; // true
 * ```
 */
export const conditionSchema: z.ZodType<Condition> = z.unknown().transform((value, ctx): Condition => {
  let failed = false;
  const report: Report = (message, path) => {
    failed = true;
    ctx.addIssue({ code: 'custom', message, path });
    return undefined;
  };
  const condition = checkNode(value, [], 1, { nodes: 0 }, report);
  if (failed || condition === undefined) return z.NEVER;
  return condition;
}) as unknown as z.ZodType<Condition>;

/**
 * Validates a condition and returns a fresh copy of it.
 *
 * @throws `CONDITION_INVALID` listing every problem with its path.
 * @example
 * ```ts
 * const condition = parseCondition(JSON.parse(body));
 * ```
 */
export function parseCondition(value: unknown): Condition {
  return parseOrThrow(conditionSchema, value, 'CONDITION_INVALID', 'condition');
}
