import { SUBJECT_SOURCE_PATTERN, isSubjectId } from '../lambda/erasure/rules';

/** A CRM's data subject, as `source:id` on the command line (hubspot:8812). */
export interface Subject {
  source: string;
  id: string;
}

/** How a subject is written, for messages. */
export const SUBJECT_FORMAT =
  'source:id, the source in a-z 0-9 - (hubspot, zendesk, portal), the id 1 to 128 printable characters';

/** `source:subjectId` (hubspot:8812), split at the first colon; `undefined` when it is not a subject. */
export function subjectOf(value: string): Subject | undefined {
  const at = value.indexOf(':');
  const source = value.slice(0, at);
  const id = value.slice(at + 1);
  return at >= 1 && SUBJECT_SOURCE_PATTERN.test(source) && isSubjectId(id) ? { source, id } : undefined;
}

/** The subject as the command line writes it. */
export const subjectText = ({ source, id }: Subject) => `${source}:${id}`;
