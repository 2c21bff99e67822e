import { runAsProgram } from './main';

/** `npm run erasure -- …` and the `verifik-erasure` bin (through bin.mjs). */
void runAsProgram();
