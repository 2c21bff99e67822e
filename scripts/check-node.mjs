// Tests and scripts must run on production's Node major (Lambda nodejs24.x). The project pins it
// through the `node` dev dependency; npm scripts put node_modules/.bin first on PATH.
const required = 24;
const major = Number(process.versions.node.split('.')[0]);
if (major !== required) {
  console.error(
    `verifik-erasure: Node ${required} is required, this is Node ${process.versions.node} (${process.execPath}).\n` +
      'Run through npm (npm test, npm start), which uses the pinned node package, after `npm ci`.',
  );
  process.exit(1);
}
