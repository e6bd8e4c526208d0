import { RbacError } from '../errors.js';
import type { TimeWindowCondition } from './condition.js';

const WEEKDAYS: Readonly<Record<string, number>> = Object.freeze({ Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 });
const CLOCK_TIME = /^(?:[01]\d|2[0-3]):[0-5]\d$/;
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;
const WINDOW_KEYS: ReadonlySet<string> = new Set(['notBefore', 'notAfter', 'daysOfWeek', 'fromTime', 'toTime', 'timeZone']);

function invalidWindow(message: string): never {
  throw new RbacError('CONDITION_INVALID', `Invalid time window: ${message}`);
}

function minutesOf(value: unknown, key: string): number {
  if (typeof value !== 'string' || !CLOCK_TIME.test(value)) invalidWindow(`${key} is not HH:MM`);
  return Number(value.slice(0, 2)) * 60 + Number(value.slice(3, 5));
}

/**
 * Whether `value` is an ISO-8601 instant with an offset whose calendar fields are real:
 * `Date.parse` silently rolls `2026-02-30` over to March 2 and `T24:00` to the next day, which
 * would move a window's bound without anyone noticing.
 *
 * @example
 * ```ts
 * isIsoInstant('2026-01-01T00:00:00Z'); // true
 * isIsoInstant('2026-02-30T00:00:00Z'); // false
 * ```
 */
export function isIsoInstant(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = ISO_INSTANT.exec(value);
  if (match === null) return false;
  const [, year, month, day, hour, minute, second, offsetHour, offsetMinute] = match.map(Number) as number[];
  const lastDay = new Date(Date.UTC(year as number, month as number, 0)).getUTCDate();
  const fieldsValid =
    (month as number) >= 1 && (month as number) <= 12 && (day as number) >= 1 && (day as number) <= lastDay &&
    (hour as number) <= 23 && (minute as number) <= 59 && (match[6] === undefined || (second as number) <= 59) &&
    (match[7] === undefined || ((offsetHour as number) <= 23 && (offsetMinute as number) <= 59));
  return fieldsValid && Number.isFinite(Date.parse(value));
}

function instantOf(value: unknown, key: string): number {
  if (!isIsoInstant(value)) invalidWindow(`${key} is not a valid ISO-8601 instant`);
  return Date.parse(value);
}

/**
 * Compiles a time window into a test of an epoch-millisecond instant. `notBefore` and
 * `notAfter` are inclusive bounds; `fromTime` is inclusive and `toTime` exclusive; when the
 * window wraps past midnight (`22:00`-`06:00`) the part after midnight belongs to the day it
 * started on, so `daysOfWeek: [5]` with `22:00`-`06:00` includes Saturday 02:00 and not Friday
 * 02:00. Days and times are read in `timeZone` (default `UTC`).
 *
 * @throws `CONDITION_INVALID` for a malformed window or an unknown time zone.
 * @example
 * ```ts
 * const inHours = compileTimeWindow({ daysOfWeek: [1, 2, 3, 4, 5], fromTime: '09:00', toTime: '17:00', timeZone: 'Europe/Berlin' });
 * inHours(Date.parse('2026-01-05T10:00:00Z')); // true (Monday 11:00 in Berlin)
 * ```
 */
export function compileTimeWindow(window: TimeWindowCondition['timeWindow']): (now: number) => boolean {
  // Stored windows reach here without the schema, and a malformed deny window that silently
  // never matched would drop the deny: refuse anything the schema would refuse.
  if (typeof window !== 'object' || window === null || Array.isArray(window)) invalidWindow('must be an object');
  const keys = Object.keys(window);
  const unknownKey = keys.find((key) => !WINDOW_KEYS.has(key));
  if (unknownKey !== undefined) invalidWindow(`unknown key "${unknownKey.slice(0, 40)}"`);
  if (!keys.some((key) => key !== 'timeZone' && (window as Record<string, unknown>)[key] !== undefined)) {
    invalidWindow('needs at least one of notBefore, notAfter, daysOfWeek, fromTime/toTime');
  }
  const notBefore = window.notBefore === undefined ? -Infinity : instantOf(window.notBefore, 'notBefore');
  const notAfter = window.notAfter === undefined ? Infinity : instantOf(window.notAfter, 'notAfter');
  if (notBefore > notAfter) invalidWindow('notBefore is after notAfter');
  let days: Set<number> | null = null;
  if (window.daysOfWeek !== undefined) {
    const list: unknown = window.daysOfWeek;
    if (!Array.isArray(list) || list.length === 0 || !list.every((day) => Number.isInteger(day) && day >= 0 && day <= 6)) {
      invalidWindow('daysOfWeek must list days 0 (Sunday) to 6');
    }
    days = new Set(list as number[]);
  }
  const from = window.fromTime === undefined ? null : minutesOf(window.fromTime, 'fromTime');
  const to = window.toTime === undefined ? null : minutesOf(window.toTime, 'toTime');
  if ((from === null) !== (to === null)) invalidWindow('fromTime and toTime go together');
  if (from !== null && from === to) invalidWindow('fromTime and toTime must differ');
  const timeZone: unknown = window.timeZone ?? 'UTC';
  if (typeof timeZone !== 'string') invalidWindow('timeZone must be an IANA time zone name');
  let format: Intl.DateTimeFormat | null = null;
  if (timeZone !== 'UTC') {
    try {
      format = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    } catch (err) {
      throw new RbacError('CONDITION_INVALID', `Invalid time window: unknown time zone "${timeZone.slice(0, 64)}"`, { cause: err });
    }
  }
  const localParts = (now: number): { day: number; minutes: number } => {
    if (format === null) {
      const date = new Date(now);
      return { day: date.getUTCDay(), minutes: date.getUTCHours() * 60 + date.getUTCMinutes() };
    }
    let day = 0;
    let hour = 0;
    let minute = 0;
    for (const part of format.formatToParts(now)) {
      if (part.type === 'weekday') day = WEEKDAYS[part.value] ?? 0;
      else if (part.type === 'hour') hour = Number(part.value) % 24;
      else if (part.type === 'minute') minute = Number(part.value);
    }
    return { day, minutes: hour * 60 + minute };
  };
  return (now) => {
    if (!(now >= notBefore && now <= notAfter)) return false;
    if (days === null && from === null) return true;
    const { day, minutes } = localParts(now);
    if (from === null || to === null) return (days as Set<number>).has(day);
    if (from < to) return minutes >= from && minutes < to && (days === null || days.has(day));
    if (minutes >= from) return days === null || days.has(day);
    if (minutes < to) return days === null || days.has((day + 6) % 7);
    return false;
  };
}
