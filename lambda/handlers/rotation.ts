import { composeRotation } from '../compose';
import { createRotationHandler } from '../rotation/rotation-handler';

/** Secrets Manager's rotation of the Verifik token, and its scheduled check (infra/constructs/token-rotation.ts). */
export const handler = createRotationHandler(composeRotation(process.env));
