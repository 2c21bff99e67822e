import { parsePersonId } from '../api/erasure-body';
import { SUBJECT_SOURCE_PATTERN, isSubjectId } from '../erasure/rules';
import type { SubjectRef } from '../erasure/types';
import { InvalidRequestError } from '../errors';
import type { HttpEvent } from './http-types';

/**
 * The subject a `/subjects/{source}/{subjectId}[/persons/{personId}]` path names (under `/portal`
 * too), read from the path exactly as sent (`rawPath`) and percent-decoded once: a subject id may
 * hold `%` or `/` itself, encoded.
 */
export function subjectInPath(event: HttpEvent): { subject: SubjectRef; personId?: string } {
  const segments = event.rawPath.split('/');
  const at = segments.indexOf('subjects');
  const [source, encodedId, persons, encodedPerson] = segments.slice(at + 1).map(decodeSegment);
  if (source === undefined || !SUBJECT_SOURCE_PATTERN.test(source)) {
    throw new InvalidRequestError('The source in the path must be 1 to 32 characters of a-z, 0-9 or -, starting with a letter.');
  }
  if (encodedId === undefined || !isSubjectId(encodedId)) {
    throw new InvalidRequestError('The subject id in the path must be 1 to 128 printable characters, percent-encoded.');
  }
  const subject = { source, id: encodedId };
  if (persons !== 'persons') return { subject };
  return { subject, personId: parsePersonId(encodedPerson) };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new InvalidRequestError('The path is not valid percent-encoding.');
  }
}
