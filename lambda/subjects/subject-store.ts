/** A Verifik person linked to a subject (a CRM's contact), as the audit table keeps it. */
export interface SubjectLink {
  personId: string;
  source: string;
  linkedAt: string;
  /** The erasures that named the subject while this link stood (links are kept after an erasure). */
  erasureIds: string[];
}

/** An erasure that named a subject: found through the subject's hash, newest first. */
export interface SubjectErasureRef {
  erasureId: string;
  receivedAt: string;
}

/**
 * The subject links of the audit table, each under the keyed hash of `source:subjectId` (never the
 * CRM's id). Single-item conditional writes; reading a subject's links is one Query.
 */
export interface SubjectStore {
  /** Records the link unless it exists; `created` false when it did (nothing is changed then). */
  link(
    subjectHash: string,
    link: { personId: string; source: string; linkedAt: string; expiresAt: number },
  ): Promise<{
    created: boolean;
  }>;
  /** The subject's links, read consistently (an erasure received right after a link finds it), by person id. */
  links(subjectHash: string): Promise<SubjectLink[]>;
  /**
   * Marks each link with the erasure that used it, and keeps the link at least as long as that
   * erasure's record (`expiresAt` never shortened).
   */
  markLinks(subjectHash: string, personIds: readonly string[], erasureId: string, expiresAt: number): Promise<void>;
  /** The erasures that named the subject, newest first. */
  erasuresForSubject(subjectHash: string, options?: { limit?: number }): Promise<SubjectErasureRef[]>;
}
