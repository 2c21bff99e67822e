import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** How the sandbox answers one call. */
export type SandboxAnswer =
  | { status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number }
  /** Accepts the request, then destroys the connection without an answer. */
  | { drop: true; delayMs?: number };

export interface SandboxCall {
  method: string;
  path: string;
  personId?: string;
  query: string;
  authorization?: string;
  /** Epoch ms the request arrived. */
  at: number;
}

export interface SandboxOptions {
  token: string;
  persons?: Iterable<string>;
  port?: number;
}

const PERSON_PATH = /^\/v2\/face-recognition\/persons\/([^/]+)$/;

/**
 * A local Verifik that behaves as Verifik documents its persons resource: DELETE answers 200 in
 * either documented body shape (alternating) and forgets the person, 404 PERSON_NOT_FOUND for a
 * person it does not hold, 401 for a wrong token; GET answers 200 with the person while it holds it
 * and the same 404 once it does not. Tests script other answers (429 with Retry-After, 5xx, slow
 * answers, dropped connections) per person id or through a responder, for DELETE and GET apart.
 */
export class VerifikSandbox {
  readonly calls: SandboxCall[] = [];
  /** Consulted first for every DELETE with a valid token; undefined falls through to the documented behaviour. */
  responder: ((personId: string, call: SandboxCall) => SandboxAnswer | undefined) | undefined;
  /** The same for every GET of a person. */
  getResponder: ((personId: string, call: SandboxCall) => SandboxAnswer | undefined) | undefined;
  private readonly persons: Set<string>;
  private readonly scripts = new Map<string, SandboxAnswer[]>();
  private readonly getScripts = new Map<string, SandboxAnswer[]>();
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private deletes = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly options: SandboxOptions,
  ) {
    this.persons = new Set(options.persons ?? []);
  }

  static async start(options: SandboxOptions): Promise<VerifikSandbox> {
    let sandbox: VerifikSandbox | undefined;
    const server = createServer((req, res) => void sandbox?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    sandbox = new VerifikSandbox(server, `http://127.0.0.1:${port}`, options);
    server.on('connection', (socket) => {
      sandbox?.sockets.add(socket);
      socket.on('close', () => sandbox?.sockets.delete(socket));
    });
    return sandbox;
  }

  /** The bearer token the sandbox accepts. */
  get token(): string {
    return this.options.token;
  }

  /** A new person with a MongoDB-style id, as Verifik creates them. */
  createPerson(id = randomBytes(12).toString('hex')): string {
    this.persons.add(id);
    return id;
  }

  has(personId: string): boolean {
    return this.persons.has(personId);
  }

  /** The next DELETEs for this person get these answers, in order. */
  script(personId: string, ...answers: SandboxAnswer[]): void {
    this.scripts.set(personId, [...(this.scripts.get(personId) ?? []), ...answers]);
  }

  /** The next GETs for this person get these answers, in order. */
  scriptGet(personId: string, ...answers: SandboxAnswer[]): void {
    this.getScripts.set(personId, [...(this.getScripts.get(personId) ?? []), ...answers]);
  }

  /** Every call for this person (DELETEs and GETs), or those of one method. */
  callsFor(personId: string, method?: 'DELETE' | 'GET'): SandboxCall[] {
    return this.calls.filter((call) => call.personId === personId && (method === undefined || call.method === method));
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const match = PERSON_PATH.exec(url.pathname);
    const call: SandboxCall = {
      method: req.method ?? '',
      path: url.pathname,
      personId: match?.[1] === undefined ? undefined : decodeURIComponent(match[1]),
      query: url.search,
      authorization: req.headers.authorization,
      at: Date.now(),
    };
    this.calls.push(call);
    req.resume();

    if ((req.method !== 'DELETE' && req.method !== 'GET') || !call.personId)
      return send(res, { status: 404, body: { error: 'Not found', message: 'NOT_FOUND' } });
    if (url.searchParams.has('collection')) {
      return send(res, { status: 400, body: { error: 'collection must not be sent for an erasure', message: 'BAD_REQUEST' } });
    }
    const auth = req.headers.authorization ?? '';
    if (auth !== `Bearer ${this.options.token}` && auth !== `jwt ${this.options.token}`) {
      return send(res, { status: 401, body: { error: 'Unauthorized', message: 'UNAUTHORIZED' } });
    }
    if (req.method === 'GET') {
      const read =
        this.getScripts.get(call.personId)?.shift() ??
        this.getResponder?.(call.personId, call) ??
        this.documentedGet(call.personId);
      if (read.delayMs) await this.sleep(read.delayMs);
      return send(res, read);
    }
    const answer =
      this.scripts.get(call.personId)?.shift() ?? this.responder?.(call.personId, call) ?? this.documented(call.personId);
    if ('status' in answer && answer.status >= 200 && answer.status < 300) this.persons.delete(call.personId);
    if (answer.delayMs) await this.sleep(answer.delayMs);
    send(res, answer);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  /** The documented answer to a GET of this person now: the person while held, else 404 PERSON_NOT_FOUND. */
  documentedGet(personId: string): SandboxAnswer {
    if (!this.persons.has(personId)) return { status: 404, body: { error: 'Person not found', message: 'PERSON_NOT_FOUND' } };
    return { status: 200, body: { data: { _id: personId, name: 'Sandbox Person', status: 'active', collections: [] } } };
  }

  /** The documented answer to a DELETE of this person now (and its effect: a 200 forgets the person). */
  documented(personId: string): SandboxAnswer {
    if (!this.persons.has(personId)) return { status: 404, body: { error: 'Person not found', message: 'PERSON_NOT_FOUND' } };
    this.deletes += 1;
    return this.deletes % 2 === 1
      ? { status: 200, body: { success: true, message: 'Person deleted successfully', data: { _id: personId } } }
      : {
          status: 200,
          body: {
            id: randomBytes(6).toString('hex').toUpperCase(),
            data: { _id: personId },
            signature: { message: 'Certified by Verifik.co', dateTime: new Date().toUTCString() },
          },
        };
  }
}

function send(res: ServerResponse, answer: SandboxAnswer): void {
  if ('drop' in answer) {
    res.socket?.destroy();
    return;
  }
  if (res.destroyed) return;
  res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
  res.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
}
