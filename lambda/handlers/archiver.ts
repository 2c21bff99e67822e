import { createArchiveHandler } from '../archive/archive-handler';
import { composeArchiver } from '../archive/compose-archiver';

/** DynamoDB Streams of the audit table, and the hourly digest schedule. */
export const handler = createArchiveHandler(composeArchiver(process.env));
