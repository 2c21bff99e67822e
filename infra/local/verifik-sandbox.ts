import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SignJWT } from 'jose';
import { tokenExpiry } from '../../lambda/rotation/token-expiry';

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
  /** A bearer token the sandbox accepts (a JWT with `exp` expires then). Unset: the sandbox issues its own first token. */
  token?: string;
  persons?: Iterable<string>;
  port?: number;
  /** Lifetime of the tokens the sandbox issues (its first one and every renewal). @default 30 days */
  tokenLifetimeSeconds?: number;
}

const PERSON_PATH = /^\/v2\/face-recognition\/persons\/([^/]+)$/;
const SESSION_PATH = '/v2/auth/session';
const THIRTY_DAYS_S = 30 * 86_400;
const UNAUTHORIZED: SandboxAnswer = { status: 401, body: { error: 'Unauthorized', message: 'UNAUTHORIZED' } };
const TOKEN_EXPIRED: SandboxAnswer = { status: 401, body: { error: 'Token expired', message: 'TOKEN_EXPIRED' } };

/**
 * A local Verifik that behaves as Verifik documents: DELETE answers 200 in either documented body
 * shape (alternating) and forgets the person, 404 for a person it does not hold, 401 for a wrong,
 * revoked or expired token. GET of a person answers 200 while it holds the person, 404 after.
 * Token renewal (`GET /v2/auth/session?origin=refresh&expiresIn=<months>`) issues a new JWT with a
 * short `exp` when asked (`tokenLifetimeSeconds`) and refuses an expired token; earlier tokens stay
 * valid until their own `exp`. Tests script other answers (429 with Retry-After, 5xx, slow answers,
 * dropped connections) per person id, for renewals, or through a responder, for DELETE and GET apart.
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
  private readonly sessionScripts: SandboxAnswer[] = [];
  /** Every token the sandbox accepts until its `exp` (revoked ones are removed). */
  private readonly tokens = new Set<string>();
  private readonly signingKey = randomBytes(32);
  private firstToken = '';
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private deletes = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly options: SandboxOptions,
  ) {
    this.persons = new Set(options.persons ?? []);
    if (options.token) this.tokens.add(options.token);
    this.firstToken = options.token ?? '';
  }

  static async start(options: SandboxOptions): Promise<VerifikSandbox> {
    let sandbox: VerifikSandbox | undefined;
    const server = createServer((req, res) => void sandbox?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    sandbox = new VerifikSandbox(server, `http://127.0.0.1:${port}`, options);
    if (!options.token) sandbox.firstToken = await sandbox.issueToken();
    server.on('connection', (socket) => {
      sandbox?.sockets.add(socket);
      socket.on('close', () => sandbox?.sockets.delete(socket));
    });
    return sandbox;
  }

  /** The first bearer token the sandbox accepts (given, or issued at start). */
  get token(): string {
    return this.firstToken;
  }

  /** A new token, as a login or a renewal gives it: a JWT valid `lifetimeSeconds` (default: the sandbox's token lifetime). */
  async issueToken(lifetimeSeconds = this.options.tokenLifetimeSeconds ?? THIRTY_DAYS_S): Promise<string> {
    const token = await new SignJWT({ client: 'verifik-sandbox' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt()
      .setJti(randomBytes(8).toString('hex'))
      .setExpirationTime(Math.floor(Date.now() / 1000) + lifetimeSeconds)
      .sign(this.signingKey);
    this.tokens.add(token);
    return token;
  }

  /** Whether a call with this token would be served now. */
  accepts(token: string): boolean {
    return this.authorization(`Bearer ${token}`) === undefined;
  }

  /** Withdraws a token, as the account owner can in Verifik's dashboard. */
  revoke(token: string): void {
    this.tokens.delete(token);
  }

  /** The next renewals get these answers, in order. */
  scriptSession(...answers: SandboxAnswer[]): void {
    this.sessionScripts.push(...answers);
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

    if (req.method === 'GET' && url.pathname === SESSION_PATH) return this.answer(res, await this.renewal(req, url));
    if (req.method === 'GET' && call.personId) return this.answer(res, this.read(req, call.personId, call));
    if (req.method !== 'DELETE' || !call.personId)
      return send(res, { status: 404, body: { error: 'Not found', message: 'NOT_FOUND' } });
    if (url.searchParams.has('collection')) {
      return send(res, { status: 400, body: { error: 'collection must not be sent for an erasure', message: 'BAD_REQUEST' } });
    }
    const refused = this.authorization(req.headers.authorization);
    if (refused) return send(res, refused);
    const answer =
      this.scripts.get(call.personId)?.shift() ?? this.responder?.(call.personId, call) ?? this.documented(call.personId);
    if ('status' in answer && answer.status >= 200 && answer.status < 300) this.persons.delete(call.personId);
    if (answer.delayMs) await this.sleep(answer.delayMs);
    send(res, answer);
  }

  private async answer(res: ServerResponse, answer: SandboxAnswer): Promise<void> {
    if (answer.delayMs) await this.sleep(answer.delayMs);
    send(res, answer);
  }

  /** Undefined when the header carries a token the sandbox accepts now; otherwise the 401 it answers. */
  private authorization(header: string | undefined): SandboxAnswer | undefined {
    const token = /^(Bearer|jwt) (.+)$/.exec(header ?? '')?.[2];
    if (token === undefined || !this.tokens.has(token)) return UNAUTHORIZED;
    // A token that is not a JWT (a test's fixed string) never expires.
    const expiry = tokenExpiry(token);
    return expiry !== undefined && expiry.getTime() <= Date.now() ? TOKEN_EXPIRED : undefined;
  }

  /** `GET /v2/auth/session?origin=refresh&expiresIn=<months>`: a new token for a still-valid one. */
  private async renewal(req: IncomingMessage, url: URL): Promise<SandboxAnswer> {
    const refused = this.authorization(req.headers.authorization);
    if (refused) return refused;
    const scripted = this.sessionScripts.shift();
    if (scripted) return scripted;
    const months = Number(url.searchParams.get('expiresIn'));
    if (url.searchParams.get('origin') !== 'refresh' || !Number.isInteger(months) || months < 1) {
      return { status: 400, body: { error: 'origin=refresh and expiresIn=<months> are required', message: 'BAD_REQUEST' } };
    }
    const lifetime = this.options.tokenLifetimeSeconds ?? months * THIRTY_DAYS_S;
    return { status: 200, body: { accessToken: await this.issueToken(lifetime), tokenType: 'bearer' } };
  }

  /** `GET /v2/face-recognition/persons/{id}`: the person while the sandbox holds it (no personal fields here), 404 after. */
  /** `GET /v2/face-recognition/persons/{id}`: a scripted answer, the GET responder's, or the documented one. */
  private read(req: IncomingMessage, personId: string, call: SandboxCall): SandboxAnswer {
    const refused = this.authorization(req.headers.authorization);
    if (refused) return refused;
    return this.getScripts.get(personId)?.shift() ?? this.getResponder?.(personId, call) ?? this.documentedGet(personId);
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
