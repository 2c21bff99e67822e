import type { AuditStore, Claim, ClaimResult, PersonErasureRef, Settlement } from '../../lambda/erasure/ports';
import type { PersonState, StoredRequest } from '../../lambda/erasure/types';

interface PersonItem extends PersonState {
  receivedAt: string;
  leaseOwner?: string;
  leaseUntil?: number;
}

/** The AuditStore contract in memory, with the same conditions as the DynamoDB store. */
export class MemoryAuditStore implements AuditStore {
  readonly requests = new Map<string, StoredRequest>();
  readonly persons = new Map<string, PersonItem>();
  writes = 0;

  async createRequest(request: StoredRequest) {
    this.writes += 1;
    const existing = this.requests.get(request.erasureId);
    if (existing) return { created: false, existing: structuredClone(existing) } as const;
    this.requests.set(request.erasureId, structuredClone(request));
    return { created: true } as const;
  }

  async claimPerson(erasureId: string, personId: string, claim: Claim): Promise<ClaimResult> {
    this.writes += 1;
    const key = `${erasureId}/${personId}`;
    const item = this.persons.get(key);
    if (item && (item.outcome !== 'pending' || (item.leaseUntil !== undefined && item.leaseUntil >= claim.now))) {
      return { claimed: false, person: strip(item) };
    }
    const interrupted = item?.leaseUntil !== undefined;
    const next: PersonItem = item ?? { personId, outcome: 'pending', attempts: 0, receivedAt: claim.receivedAt };
    this.persons.set(key, { ...next, leaseOwner: claim.owner, leaseUntil: claim.leaseUntil });
    return { claimed: true, person: strip(next), interrupted };
  }

  async settlePerson(erasureId: string, personId: string, owner: string, settlement: Settlement): Promise<PersonState> {
    this.writes += 1;
    const key = `${erasureId}/${personId}`;
    const item = this.persons.get(key);
    if (!item) throw new Error('settling a person that was never claimed');
    const terminal = settlement.outcome !== 'pending';
    if (item.outcome !== 'pending' || (!terminal && item.leaseOwner !== owner)) return strip(item);
    const { updatedAt: _updatedAt, ...fields } = settlement;
    const next: PersonItem = { ...item, ...definedOnly(fields), leaseOwner: undefined, leaseUntil: undefined };
    if (terminal) delete next.retryAfter;
    if ((settlement.outcome === 'erased' || settlement.outcome === 'already_erased') && settlement.lastError === undefined)
      delete next.lastError;
    this.persons.set(key, next);
    return strip(next);
  }

  async advanceRetryStep(erasureId: string, from: string | undefined, to: string): Promise<boolean> {
    this.writes += 1;
    const request = this.requests.get(erasureId);
    if (!request || (request.retryStep !== from && request.retryStep !== to)) return false;
    this.requests.set(erasureId, { ...request, retryStep: to });
    return true;
  }

  async reopenPerson(erasureId: string, personId: string, note: string, _at: string): Promise<boolean> {
    this.writes += 1;
    const key = `${erasureId}/${personId}`;
    const item = this.persons.get(key);
    if (!item || item.outcome !== 'failed' || !item.exhausted) return false;
    const { exhausted: _e, completedAt: _c, ...rest } = item;
    this.persons.set(key, { ...rest, outcome: 'pending', note });
    return true;
  }

  async getErasure(erasureId: string) {
    const request = this.requests.get(erasureId);
    if (!request) return undefined;
    const persons = [...this.persons.entries()].filter(([key]) => key.startsWith(`${erasureId}/`)).map(([, p]) => strip(p));
    return { request: structuredClone(request), persons };
  }

  async erasuresForPerson(personId: string): Promise<PersonErasureRef[]> {
    return [...this.persons.entries()]
      .filter(([, p]) => p.personId === personId)
      .map(([key, p]) => ({ erasureId: key.slice(0, key.lastIndexOf('/')), receivedAt: p.receivedAt, person: strip(p) }))
      .sort((a, b) => b.receivedAt.localeCompare(a.receivedAt));
  }

  async requestsReceivedBetween(from: Date, to: Date): Promise<StoredRequest[]> {
    return [...this.requests.values()].filter((r) => r.receivedAt >= from.toISOString() && r.receivedAt < to.toISOString());
  }
}

function strip({ receivedAt: _r, leaseOwner: _o, ...person }: PersonItem): PersonState {
  return structuredClone(definedOnly(person) as PersonState);
}

const definedOnly = <T extends object>(value: T): Partial<T> =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
