import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { addCalendarMonths, deadlineState, dueDateFor, effectiveDueAt } from '../../lambda/erasure/statutory-clock';

describe('the statutory clock (GDPR art. 12(3))', () => {
  it.each([
    ['2026-01-15T10:00:00.000Z', '2026-02-15T10:00:00.000Z'],
    ['2026-01-31T10:00:00.000Z', '2026-02-28T10:00:00.000Z'],
    ['2028-01-31T10:00:00.000Z', '2028-02-29T10:00:00.000Z'],
    ['2026-01-29T23:59:59.999Z', '2026-02-28T23:59:59.999Z'],
    ['2026-03-31T00:00:00.000Z', '2026-04-30T00:00:00.000Z'],
    ['2026-12-31T08:30:00.000Z', '2027-01-31T08:30:00.000Z'],
    ['2026-02-28T12:00:00.000Z', '2026-03-28T12:00:00.000Z'],
  ])('is due one calendar month after %s: %s (the month-end day where the date does not exist)', (receivedAt, due) => {
    expect(dueDateFor(receivedAt)).toBe(due);
  });

  it.each([
    ['2026-01-31T10:00:00.000Z', 3, '2026-04-30T10:00:00.000Z'],
    ['2026-11-30T10:00:00.000Z', 3, '2027-02-28T10:00:00.000Z'],
    ['2027-11-30T10:00:00.000Z', 3, '2028-02-29T10:00:00.000Z'],
  ])('counts an extended period from receipt: %s + %i months = %s', (receivedAt, months, due) => {
    expect(addCalendarMonths(receivedAt, months)).toBe(due);
  });

  // Jest's process.env is a copy: a zone set there never reaches the clock. A child process gets a real one.
  it.each(['UTC', 'Pacific/Auckland', 'America/Los_Angeles', 'Europe/Berlin', 'Asia/Kolkata'])(
    'gives the same UTC due date whatever the process time zone (%s)',
    (zone) => {
      // Around midnight UTC, and on the night Europe moves its clocks, a local calendar would differ.
      const received = [
        '2026-01-31T23:30:00.000Z',
        '2026-02-28T00:15:00.000Z',
        '2026-03-29T01:30:00.000Z',
        '2026-12-31T23:59:00.000Z',
      ];
      const script = `import { dueDateFor } from './lambda/erasure/statutory-clock';
        const received = ${JSON.stringify(received)};
        console.log(JSON.stringify({ offset: new Date(received[0]).getTimezoneOffset(), due: received.map(dueDateFor) }));`;
      const child = spawnSync(path.join('node_modules', '.bin', 'tsx'), ['-e', script], {
        env: { ...process.env, TZ: zone },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(child.stderr).toBe('');
      const { offset, due } = JSON.parse(child.stdout) as { offset: number; due: string[] };

      // The zone took effect in the child (UTC aside).
      expect(offset === 0).toBe(zone === 'UTC');
      expect(due).toEqual([
        '2026-02-28T23:30:00.000Z',
        '2026-03-28T00:15:00.000Z',
        '2026-04-29T01:30:00.000Z',
        '2027-01-31T23:59:00.000Z',
      ]);
    },
  );

  it('refuses a receipt time that is not an instant', () => {
    expect(() => dueDateFor('yesterday')).toThrow(RangeError);
  });

  it('binds to the extended due date once there is one', () => {
    expect(effectiveDueAt({ dueAt: '2026-02-28T10:00:00.000Z' })).toBe('2026-02-28T10:00:00.000Z');
    expect(effectiveDueAt({ dueAt: '2026-02-28T10:00:00.000Z', extendedDueAt: '2026-04-30T10:00:00.000Z' })).toBe(
      '2026-04-30T10:00:00.000Z',
    );
  });

  it.each([
    ['2026-02-01T00:00:00.000Z', 'on_time'],
    ['2026-02-18T09:59:59.999Z', 'on_time'],
    ['2026-02-18T10:00:00.000Z', 'near_due'],
    ['2026-02-28T09:59:59.999Z', 'near_due'],
    ['2026-02-28T10:00:00.000Z', 'overdue'],
    ['2026-05-01T00:00:00.000Z', 'overdue'],
  ])('at %s an erasure due 2026-02-28T10:00Z is %s', (now, state) => {
    expect(deadlineState('2026-02-28T10:00:00.000Z', new Date(now))).toBe(state);
  });
});
