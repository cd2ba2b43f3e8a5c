import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Server } from 'node:http';
import { constants as zlibConstants, createDeflate } from 'node:zlib';
import type { Deflate } from 'node:zlib';
import { GatewayCloseCodes, GatewayDispatchEvents, GatewayIntentBits, GatewayOpcodes } from 'discord-api-types/v10';
import type {
  GatewayGuildCreateDispatchData,
  GatewayReadyDispatchData,
  GatewayRequestGuildMembersData,
} from 'discord-api-types/v10';
import { WebSocketServer } from 'ws';
import type { RawData, WebSocket } from 'ws';

export interface GatewayHooks {
  token: () => string;
  botUserId: () => string;
  heartbeatIntervalMs: number;
  /** Privileged intents the "developer portal" has enabled; identify asking for others gets 4014. */
  allowedPrivilegedIntents: number;
  resumeUrl: () => string;
  ready: (sessionId: string, shard: [number, number]) => { ready: GatewayReadyDispatchData; guilds: GatewayGuildCreateDispatchData[] };
  requestGuildMembers: (data: GatewayRequestGuildMembersData) => unknown[];
}

export interface GatewayLogEntry {
  /** ms since the epoch */
  at: number;
  dir: 'in' | 'out' | 'close';
  connection: number;
  op?: number;
  t?: string | null;
  s?: number | null;
  /** For `close`: the close code, and who closed. */
  code?: number;
  by?: 'client' | 'server';
  path?: string;
}

export interface DroppedEvent {
  at: number;
  t: string;
  reason: string;
}

interface DispatchPayload {
  op: GatewayOpcodes.Dispatch;
  t: string;
  s: number;
  d: unknown;
}

type SessionState = 'live' | 'detached' | 'invalid';

export interface GatewaySession {
  readonly id: string;
  readonly intents: number;
  seq: number;
  state: SessionState;
  connection: Connection | null;
  backlog: DispatchPayload[];
}

interface Connection {
  id: number;
  ws: WebSocket;
  path: string;
  session: GatewaySession | null;
  deflate: Deflate | null;
  sendChain: Promise<void>;
  closed: boolean;
}

const PRIVILEGED_INTENTS =
  GatewayIntentBits.GuildMembers | GatewayIntentBits.GuildPresences | GatewayIntentBits.MessageContent;
const BACKLOG_LIMIT = 5000;

/** Which intent gates a dispatch (undefined: always delivered), following Discord's intents table. */
function requiredIntent(t: string, d: unknown): number | undefined {
  const inGuild = typeof d === 'object' && d !== null && typeof (d as { guild_id?: unknown }).guild_id === 'string';
  if (/^(GUILD_(CREATE|UPDATE|DELETE)|GUILD_ROLE_|CHANNEL_|THREAD_)/.test(t)) return GatewayIntentBits.Guilds;
  if (/^GUILD_MEMBER_(ADD|UPDATE|REMOVE)$/.test(t)) return GatewayIntentBits.GuildMembers;
  if (t.startsWith('MESSAGE_REACTION_')) {
    return inGuild ? GatewayIntentBits.GuildMessageReactions : GatewayIntentBits.DirectMessageReactions;
  }
  if (t.startsWith('MESSAGE_')) return inGuild ? GatewayIntentBits.GuildMessages : GatewayIntentBits.DirectMessages;
  if (t === 'TYPING_START') return inGuild ? GatewayIntentBits.GuildMessageTyping : GatewayIntentBits.DirectMessageTyping;
  return undefined;
}

/**
 * The Discord gateway as @discordjs/ws drives it: HELLO, IDENTIFY -> READY + GUILD_CREATEs,
 * heartbeats, RESUME with replay, INVALID_SESSION. One event stream per session, numbered by
 * `s`; a detached (resumable) session keeps collecting events so a RESUME can replay them.
 */
export class Gateway {
  readonly sessions = new Map<string, GatewaySession>();
  readonly log: GatewayLogEntry[] = [];
  readonly dropped: DroppedEvent[] = [];
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<Connection>();
  private nextConnectionId = 1;

  constructor(
    server: Server,
    private readonly hooks: GatewayHooks,
  ) {
    this.wss = new WebSocketServer({ server });
    this.wss.on('connection', (ws, req) => this.onConnection(ws, req));
  }

  /** Sessions that can still receive events (connected, or disconnected but resumable). */
  get activeSessions(): GatewaySession[] {
    return [...this.sessions.values()].filter((s) => s.state !== 'invalid');
  }

  get connected(): boolean {
    return [...this.sessions.values()].some((s) => s.state === 'live');
  }

  /**
   * `worldState`: the event only mirrors state (guilds, channels, roles, members) that READY and
   * GUILD_CREATE carry anyway on the next IDENTIFY, so nobody receiving it is not a loss.
   * Returns whether any session took the event (sent now, or queued for a RESUME).
   */
  dispatch(t: string, d: unknown, options: { worldState?: boolean } = {}): boolean {
    const sessions = this.activeSessions;
    if (sessions.length === 0) {
      if (options.worldState) return false;
      this.dropped.push({ at: Date.now(), t, reason: 'no gateway session (client not logged in, or its session was invalidated)' });
      return false;
    }
    let delivered = false;
    for (const session of sessions) {
      const intent = requiredIntent(t, d);
      if (intent !== undefined && (session.intents & intent) === 0) continue;
      this.dispatchTo(session, t, this.redactForIntents(session, t, d));
      delivered = true;
    }
    return delivered;
  }

  /** Closes every live connection; resumable keeps the session for RESUME, otherwise it is invalidated. */
  disconnect(options: { resumable: boolean; code?: number }): void {
    const code = options.code ?? (options.resumable ? GatewayCloseCodes.UnknownError : GatewayCloseCodes.SessionTimedOut);
    for (const session of this.sessions.values()) {
      if (session.state !== 'live') continue;
      session.state = options.resumable ? 'detached' : 'invalid';
      const connection = session.connection;
      session.connection = null;
      if (connection) this.closeConnection(connection, code, 'fake-discord: disconnectGateway');
    }
  }

  async close(): Promise<void> {
    for (const connection of this.connections) {
      connection.closed = true;
      connection.ws.terminate();
    }
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const url = new URL(req.url ?? '/', 'ws://fake.invalid');
    const connection: Connection = {
      id: this.nextConnectionId++,
      ws,
      path: url.pathname,
      session: null,
      deflate: null,
      sendChain: Promise.resolve(),
      closed: false,
    };
    this.connections.add(connection);
    this.log.push({ at: Date.now(), dir: 'in', connection: connection.id, path: `${url.pathname}${url.search}` });
    ws.on('close', (code) => this.onClose(connection, code));
    ws.on('error', () => undefined);
    ws.on('message', (data, isBinary) => this.onMessage(connection, data, isBinary));

    if (url.searchParams.get('v') !== '10') {
      this.closeConnection(connection, GatewayCloseCodes.InvalidAPIVersion, 'Invalid API version');
      return;
    }
    if ((url.searchParams.get('encoding') ?? 'json') !== 'json') {
      // etf needs erlpack; discord.js only ever asks for json.
      this.closeConnection(connection, GatewayCloseCodes.DecodeError, 'Only encoding=json is supported');
      return;
    }
    const compress = url.searchParams.get('compress');
    if (compress === 'zlib-stream') {
      // discord.js asks for this only when zlib-sync is installed: one deflate context for the whole
      // connection, every message ending with a Z_SYNC_FLUSH marker.
      connection.deflate = createDeflate();
    } else if (compress) {
      this.closeConnection(connection, GatewayCloseCodes.DecodeError, `Unsupported compress=${compress}`);
      return;
    }
    this.send(connection, { op: GatewayOpcodes.Hello, d: { heartbeat_interval: this.hooks.heartbeatIntervalMs, _trace: ['["fake-gateway",{}]'] } });
  }

  private onMessage(connection: Connection, raw: RawData, isBinary: boolean): void {
    if (connection.closed) return;
    let payload: { op?: unknown; d?: unknown };
    try {
      if (isBinary) throw new Error('binary');
      payload = JSON.parse(raw.toString()) as { op?: unknown; d?: unknown };
    } catch {
      this.closeConnection(connection, GatewayCloseCodes.DecodeError, 'Error while decoding payload.');
      return;
    }
    const op = payload.op;
    this.log.push({ at: Date.now(), dir: 'in', connection: connection.id, op: typeof op === 'number' ? op : -1 });
    switch (op) {
      case GatewayOpcodes.Heartbeat:
        this.send(connection, { op: GatewayOpcodes.HeartbeatAck });
        return;
      case GatewayOpcodes.Identify:
        this.onIdentify(connection, payload.d as IdentifyData);
        return;
      case GatewayOpcodes.Resume:
        this.onResume(connection, payload.d as ResumeData);
        return;
      case GatewayOpcodes.PresenceUpdate:
      case GatewayOpcodes.VoiceStateUpdate:
        // The fake tracks neither presence nor voice: accepted, and ignored, once authenticated.
        this.requireSession(connection);
        return;
      case GatewayOpcodes.RequestGuildMembers: {
        const session = this.requireSession(connection);
        if (!session) return;
        for (const chunk of this.hooks.requestGuildMembers(payload.d as GatewayRequestGuildMembersData)) {
          this.dispatchTo(session, GatewayDispatchEvents.GuildMembersChunk, chunk);
        }
        return;
      }
      default:
        this.closeConnection(connection, GatewayCloseCodes.UnknownOpcode, 'Unknown opcode.');
    }
  }

  /** Opcodes other than IDENTIFY/RESUME need a session; without one the connection is closed. */
  private requireSession(connection: Connection): GatewaySession | null {
    if (!connection.session) this.closeConnection(connection, GatewayCloseCodes.NotAuthenticated, 'Not authenticated.');
    return connection.session;
  }

  /** What IDENTIFY and RESUME both check first; false when it closed the connection. */
  private authenticate(connection: Connection, token: string | undefined): boolean {
    if (connection.session) {
      this.closeConnection(connection, GatewayCloseCodes.AlreadyAuthenticated, 'Already authenticated.');
      return false;
    }
    if (token !== this.hooks.token()) {
      this.closeConnection(connection, GatewayCloseCodes.AuthenticationFailed, 'Authentication failed.');
      return false;
    }
    return true;
  }

  private onIdentify(connection: Connection, d: IdentifyData): void {
    if (!this.authenticate(connection, d?.token)) return;
    const intents = Number(d.intents);
    if (!Number.isInteger(intents) || intents < 0) {
      this.closeConnection(connection, GatewayCloseCodes.InvalidIntents, 'Invalid intent(s).');
      return;
    }
    if (intents & PRIVILEGED_INTENTS & ~this.hooks.allowedPrivilegedIntents) {
      this.closeConnection(connection, GatewayCloseCodes.DisallowedIntents, 'Disallowed intent(s).');
      return;
    }
    const shard: [number, number] = Array.isArray(d.shard) ? [Number(d.shard[0]), Number(d.shard[1])] : [0, 1];
    if (shard[1] !== 1 || shard[0] !== 0) {
      this.closeConnection(connection, GatewayCloseCodes.InvalidShard, 'Invalid shard.');
      return;
    }
    const session: GatewaySession = {
      id: randomBytes(16).toString('hex'),
      intents,
      seq: 0,
      state: 'live',
      connection,
      backlog: [],
    };
    this.sessions.set(session.id, session);
    connection.session = session;
    const { ready, guilds } = this.hooks.ready(session.id, shard);
    this.dispatchTo(session, GatewayDispatchEvents.Ready, ready);
    for (const guild of guilds) this.dispatchTo(session, GatewayDispatchEvents.GuildCreate, guild);
  }

  private onResume(connection: Connection, d: ResumeData): void {
    if (!this.authenticate(connection, d?.token)) return;
    const session = this.sessions.get(String(d.session_id));
    const seq = Number(d.seq ?? 0);
    const replay = session?.backlog.filter((p) => p.s > seq) ?? [];
    const gapless = session !== undefined && (session.seq === seq || replay[0]?.s === seq + 1);
    if (!session || session.state === 'invalid' || seq > session.seq || !gapless) {
      // d: false tells the client the session cannot be resumed: it must IDENTIFY anew.
      if (session) session.state = 'invalid';
      this.send(connection, { op: GatewayOpcodes.InvalidSession, d: false });
      return;
    }
    if (session.connection && session.connection !== connection) {
      this.closeConnection(session.connection, GatewayCloseCodes.SessionTimedOut, 'Session resumed elsewhere');
    }
    session.connection = connection;
    session.state = 'live';
    connection.session = session;
    for (const payload of replay) this.send(connection, payload);
    this.dispatchTo(session, GatewayDispatchEvents.Resumed, { _trace: ['["fake-gateway",{}]'] });
  }

  private onClose(connection: Connection, code: number): void {
    const byServer = connection.closed;
    connection.closed = true;
    this.connections.delete(connection);
    connection.deflate?.close();
    this.log.push({ at: Date.now(), dir: 'close', connection: connection.id, code, by: byServer ? 'server' : 'client' });
    const session = connection.session;
    if (!session || session.connection !== connection) return;
    session.connection = null;
    // Like Discord: a client closing with 1000/1001 ends its session; any other code keeps it resumable.
    session.state = code === 1000 || code === 1001 ? 'invalid' : session.state === 'invalid' ? 'invalid' : 'detached';
  }

  private dispatchTo(session: GatewaySession, t: string, d: unknown): void {
    const payload: DispatchPayload = { op: GatewayOpcodes.Dispatch, t, s: ++session.seq, d };
    session.backlog.push(payload);
    if (session.backlog.length > BACKLOG_LIMIT) session.backlog.splice(0, session.backlog.length - BACKLOG_LIMIT);
    if (session.state === 'live' && session.connection) this.send(session.connection, payload);
  }

  /** Without MESSAGE_CONTENT, Discord blanks content of messages that neither come from nor mention the bot. */
  private redactForIntents(session: GatewaySession, t: string, d: unknown): unknown {
    if (t !== 'MESSAGE_CREATE' && t !== 'MESSAGE_UPDATE') return d;
    if (session.intents & GatewayIntentBits.MessageContent) return d;
    const message = d as { author?: { id: string }; mentions?: { id: string }[]; guild_id?: string };
    const botId = this.hooks.botUserId();
    if (!message.guild_id || message.author?.id === botId || message.mentions?.some((u) => u.id === botId)) return d;
    return { ...message, content: '', embeds: [], attachments: [], components: [] };
  }

  private send(connection: Connection, payload: { op: number; d?: unknown; t?: string; s?: number }): void {
    if (connection.closed) return;
    const full = { t: null, s: null, d: null, ...payload };
    this.log.push({ at: Date.now(), dir: 'out', connection: connection.id, op: payload.op, t: full.t, s: full.s });
    const text = JSON.stringify(full);
    const deflate = connection.deflate;
    if (!deflate) {
      connection.ws.send(text);
      return;
    }
    connection.sendChain = connection.sendChain.then(
      () =>
        new Promise<void>((resolve) => {
          const chunks: Buffer[] = [];
          const onData = (chunk: Buffer): void => void chunks.push(chunk);
          deflate.on('data', onData);
          deflate.write(text);
          deflate.flush(zlibConstants.Z_SYNC_FLUSH, () => {
            deflate.off('data', onData);
            if (!connection.closed) connection.ws.send(Buffer.concat(chunks), { binary: true });
            resolve();
          });
        }),
    );
  }

  private closeConnection(connection: Connection, code: number, reason: string): void {
    if (connection.closed) return;
    connection.closed = true;
    // Give queued compressed frames a chance to go out before the close frame.
    void connection.sendChain.then(() => connection.ws.close(code, reason));
  }
}

interface IdentifyData {
  token?: string;
  intents?: number;
  shard?: [number, number];
}

interface ResumeData {
  token?: string;
  session_id?: string;
  seq?: number | null;
}
