import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ArchiveLocator, type ArchivedItem } from '../../lambda/archive/archive-locator';
import { indexKey, indexPrefix, sha256Hex } from '../../lambda/archive/archive-format';
import { Archiver } from '../../lambda/archive/archiver';
import { FolderArchiveStorage } from '../../lambda/archive/folder-archive-storage';
import { KeyFileSigner } from '../../lambda/archive/key-file-signer';
import { archivedFacts } from '../../lambda/certificate/certificate-issuer';
import { silentLog } from '../support/scripted-verifik';
import { erasedPerson, personItem, requestItem, streamRecord } from '../support/stream-records';

let root: string;
let storage: FolderArchiveStorage;
let archiver: Archiver;
let locator: ArchiveLocator;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'archive-locator-'));
  storage = new FolderArchiveStorage(path.join(root, 'archive'));
  const { signer } = await KeyFileSigner.open(path.join(root, 'archive-key.pem'));
  archiver = new Archiver({ storage, signer, metrics: { count: () => undefined }, logger: silentLog });
  locator = new ArchiveLocator(storage);
});
afterEach(() => rm(root, { recursive: true, force: true }));

/** Holds when the archive's latest items state this erasure with these person outcomes. */
const outcomes =
  (expected: Record<string, string>) =>
  (items: ArchivedItem[]): boolean =>
    JSON.stringify(Object.fromEntries(archivedFacts(items)?.persons.map((p) => [p.personId, p.outcome]) ?? [])) ===
    JSON.stringify(expected);

/** Erasure e1 with person p1: requested in one batch, erased in a later one. */
async function erasureE1() {
  await archiver.archive([
    streamRecord('INSERT', { new: requestItem('e1') }),
    streamRecord('INSERT', { new: personItem('e1', 'p1') }),
  ]);
  return archiver.archive([streamRecord('MODIFY', { old: personItem('e1', 'p1'), new: erasedPerson('e1', 'p1') })]);
}

describe('the archive index and the locator', () => {
  it('indexes each erasure a batch touches, once, naming the batch and its hash', async () => {
    const first = await archiver.archive([
      streamRecord('INSERT', { new: requestItem('e1') }),
      streamRecord('INSERT', { new: personItem('e1', 'p1') }),
      streamRecord('INSERT', { new: requestItem('e2') }),
    ]);

    expect(await storage.list('index/')).toEqual([indexKey('e1', 1), indexKey('e2', 1)]);
    const entry = JSON.parse(new TextDecoder().decode(await storage.read(indexKey('e1', 1))));
    expect(entry).toEqual({ format: 'verifik-erasure-archive-index/1', erasureId: 'e1', batch: 1, batchHash: first!.hash });
  });

  it('keeps every erasure id inside its own index folder, `.` and `..` included', async () => {
    expect(indexPrefix('..')).toBe('index/%2E%2E/');
    expect(indexPrefix('a:b.c')).toBe('index/a%3Ab%2Ec/');
    for (const id of ['.', '..', 'x:y']) {
      await archiver.archive([streamRecord('INSERT', { new: requestItem(id) })]);
    }
    expect((await readdir(path.join(storage.root, 'index'))).sort()).toEqual(['%2E', '%2E%2E', 'x%3Ay']);
    expect(await readdir(storage.root)).toEqual(expect.not.arrayContaining(['000000000002.json']));
  });

  it('answers not-archived while the archive does not state what the table does', async () => {
    await archiver.archive([
      streamRecord('INSERT', { new: requestItem('e1') }),
      streamRecord('INSERT', { new: personItem('e1', 'p1') }),
    ]);

    // The table says erased; the archive has only seen the person pending.
    expect(await locator.locate('e1', outcomes({ p1: 'erased' }))).toEqual({ state: 'not-archived' });
    expect(await locator.locate('unknown', () => true)).toEqual({ state: 'not-archived' });
  });

  it('names the batch holding the latest state, awaiting a digest until one covers it', async () => {
    const erased = await erasureE1();

    expect(await locator.locate('e1', outcomes({ p1: 'erased' }))).toEqual({
      state: 'awaiting-digest',
      batch: { sequence: erased!.sequence, key: 'batches/000000000002.json', sha256: erased!.hash },
    });
  });

  it('names the first digest whose chain reaches the batch, among many before and after it', async () => {
    // Digests 1-5 cover only batches before the erasure; 6 covers it; 7-9 come later.
    for (let i = 0; i < 5; i++) {
      await archiver.archive([streamRecord('INSERT', { new: requestItem(`before${i}`) })]);
      await archiver.digest();
    }
    const erased = await erasureE1();
    const covering = await archiver.digest();
    for (let i = 0; i < 3; i++) {
      await archiver.archive([streamRecord('INSERT', { new: requestItem(`after${i}`) })]);
      await archiver.digest();
    }

    const coverage = await locator.locate('e1', outcomes({ p1: 'erased' }));

    expect(coverage).toEqual({
      state: 'covered',
      batch: {
        sequence: erased!.sequence,
        key: `batches/${String(erased!.sequence).padStart(12, '0')}.json`,
        sha256: erased!.hash,
      },
      digest: {
        sequence: 6,
        key: 'digests/000000000006.json',
        sha256: sha256Hex((await storage.read('digests/000000000006.json'))!),
        signedAt: covering.payload.to,
      },
    });
  });

  it('takes the latest image of each item across batches, and leaves a removed item out', async () => {
    await erasureE1();
    await archiver.archive([streamRecord('REMOVE', { old: erasedPerson('e1', 'p1') }, { byTtl: true })]);

    // The person went with its TTL: the archive no longer holds it, so nothing erased is stated.
    expect(await locator.locate('e1', outcomes({ p1: 'erased' }))).toEqual({ state: 'not-archived' });
    const { items } = await locator.archivedItems('e1');
    expect(items.map((item) => item.sk)).toEqual(['REQUEST']);
    // Up to batch 2 the erased person is still there.
    expect((await locator.archivedItems('e1', 2)).items.map((item) => [item.sk, item.outcome])).toEqual([
      ['REQUEST', undefined],
      ['PERSON#p1', 'erased'],
    ]);
  });
});
