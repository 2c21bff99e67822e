import { composeDeadlines } from '../compose';
import { createDeadlineCheck } from '../deadlines/deadline-check';

/** EventBridge schedule entry: counts erasures near or past their due date, hourly. */
export const handler = createDeadlineCheck(composeDeadlines(process.env));
