import { MAX_PERSONS } from '../erasure/rules';
import type { SubjectRef } from '../erasure/types';
import { SubjectLinkLimitError } from '../errors';
import type { LogSink } from '../log';
import type { SubjectErasureRef, SubjectStore } from './subject-store';

const DAY_MS = 86_400_000;

export interface SubjectApiDeps {
  store: SubjectStore;
  /** HMAC-SHA256 with the pepper of `source:subjectId` (the subjectRef hash): the only form a subject is stored in. */
  hashSubject(subject: SubjectRef): Promise<string>;
  /** A link is kept this long after it is made (longer once an erasure uses it: as long as that erasure's record). */
  retentionDays: number;
  logger: LogSink;
  now?: () => Date;
}

/** A subject as GET /subjects/{source}/{subjectId} answers it. */
export interface SubjectView {
  source: string;
  subjectId: string;
  persons: { personId: string; linkedAt: string; erasureIds: string[] }[];
  erasures: SubjectErasureRef[];
}

/**
 * Links between a CRM's subject and Verifik persons, made when a person is enrolled, so that an
 * erasure naming only the subject (HubSpot's deletion event carries nothing else) finds its persons.
 */
export function createSubjectApi({ store, hashSubject, retentionDays, logger, now = () => new Date() }: SubjectApiDeps) {
  return {
    /** Links `personId` to the subject; `created` false when it was linked already (nothing changes). */
    async link(subject: SubjectRef, personId: string): Promise<{ created: boolean; view: SubjectView }> {
      const hash = await hashSubject(subject);
      const links = await store.links(hash);
      if (!links.some((link) => link.personId === personId) && links.length >= MAX_PERSONS) {
        logger.warn('subject link refused: too many persons linked', { source: subject.source, personId });
        throw new SubjectLinkLimitError(MAX_PERSONS);
      }
      const at = now();
      const { created } = await store.link(hash, {
        personId,
        source: subject.source,
        linkedAt: at.toISOString(),
        expiresAt: Math.floor((at.getTime() + retentionDays * DAY_MS) / 1000),
      });
      logger.info(created ? 'subject linked' : 'subject already linked', { source: subject.source, personId });
      return { created, view: await this.read(subject, hash) };
    },

    /** The subject's linked persons and the erasures that named it (newest first). */
    async read(subject: SubjectRef, knownHash?: string): Promise<SubjectView> {
      const hash = knownHash ?? (await hashSubject(subject));
      const [links, erasures] = await Promise.all([store.links(hash), store.erasuresForSubject(hash)]);
      return {
        source: subject.source,
        subjectId: subject.id,
        persons: links.map(({ personId, linkedAt, erasureIds }) => ({ personId, linkedAt, erasureIds })),
        erasures,
      };
    },
  };
}

export type SubjectApi = ReturnType<typeof createSubjectApi>;
