import { RbacError } from '../errors.js';
import type { TimeWindowCondition } from './condition.js';

const WEEKDAYS: Readonly<Record<string, number>> = Object.freeze({ Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 });
const CLOCK_TIME = /^(?:[01]\d|2[0-3]):[0-5]\d$/;

function minutesOf(value: string): number {
  if (!CLOCK_TIME.test(value)) throw new RbacError('CONDITION_INVALID', `Invalid time window: "${value}" is not HH:MM`);
  return Number(value.slice(0, 2)) * 60 + Number(value.slice(3, 5));
}

function instantOf(value: string, key: string): number {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new RbacError('CONDITION_INVALID', `Invalid time window: ${key} is not a valid instant`);
  return ms;
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
  if (typeof window !== 'object' || window === null) throw new RbacError('CONDITION_INVALID', 'Invalid time window: must be an object');
  const notBefore = window.notBefore === undefined ? -Infinity : instantOf(window.notBefore, 'notBefore');
  const notAfter = window.notAfter === undefined ? Infinity : instantOf(window.notAfter, 'notAfter');
  const days = window.daysOfWeek === undefined ? null : new Set(window.daysOfWeek);
  const from = window.fromTime === undefined ? null : minutesOf(window.fromTime);
  const to = window.toTime === undefined ? null : minutesOf(window.toTime);
  if ((from === null) !== (to === null)) throw new RbacError('CONDITION_INVALID', 'Invalid time window: fromTime and toTime go together');
  const timeZone = window.timeZone ?? 'UTC';
  let format: Intl.DateTimeFormat | null = null;
  if ((days !== null || from !== null) && timeZone !== 'UTC') {
    try {
      format = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    } catch (err) {
      throw new RbacError('CONDITION_INVALID', `Invalid time window: unknown time zone "${String(timeZone).slice(0, 64)}"`, { cause: err });
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
