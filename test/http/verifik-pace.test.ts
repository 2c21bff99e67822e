import { useHarness } from '../support/http-harness';

// One Verifik call every 2 s, and 3 s of inline budget: two slots at most before the request answers.
const t = useHarness({ VERIFIK_RATE_LIMIT: '0.5', VERIFIK_BURST: '1', INLINE_BUDGET_MS: '3000', RETRY_SCHEDULE: '3600' });

describe('VERIFIK_RATE_LIMIT through the HTTP API and the Verifik sandbox', () => {
  it('sends no call the pace has no slot for before the deadline: those persons stay pending, none is erased unverified', async () => {
    const ids = [t.api.sandbox.createPerson(), t.api.sandbox.createPerson(), t.api.sandbox.createPerson()];

    const answer = await t.api.post({ personIds: ids });

    // Slots come 2 s apart and the budget ends at 3 s: one or two calls went out (a busy machine
    // can only make it fewer), and the other persons were handed to the retry path untouched.
    expect(answer.status).toBe(202);
    expect(t.api.sandbox.calls.length).toBeGreaterThanOrEqual(1);
    expect(t.api.sandbox.calls.length).toBeLessThanOrEqual(2);
    const persons = (answer.body as { status: string; persons: { personId: string; outcome: string; attempts: number }[] })
      .persons;
    expect((answer.body as { status: string }).status).toBe('pending');
    for (const person of persons) {
      const calls = t.api.sandbox.callsFor(person.personId).map((call) => call.method);
      // Erased only with the DELETE and the GET that proves it; otherwise pending, nothing lost.
      if (person.outcome === 'erased') expect(calls).toEqual(['DELETE', 'GET']);
      else expect(person.outcome).toBe('pending');
      if (calls.length === 0) expect(person.attempts).toBe(0);
    }
    expect(persons.filter((person) => person.outcome === 'pending').length).toBeGreaterThanOrEqual(2);
    expect(persons.map((person) => person.personId).sort()).toEqual([...ids].sort());
  });
});
