/** What the node-kill clients (./resume-clients.ts, ./official-clients.ts) record, and their report to the harness. */

/** Wall-clock ms, comparable across the bench's processes. */
export const now = (): number => performance.timeOrigin + performance.now();

/** One client's sequence numbers and the moments (wall-clock ms) of its way back after the kill. */
export interface Client {
  seqs: number[];
  offset: string | null;
  /** The first connection is up; any close after this is the node going away. */
  live: boolean;
  /** When the close was noticed. */
  closedAt?: number;
  /** Negotiate answered. */
  negotiatedAt?: number;
  /** The new WebSocket's upgrade answered (raw SignalR clients). */
  openedAt?: number;
  /** The new connection's handshake answered (Socket.IO: `connect`; the official client: `onreconnected`). */
  connectedAt?: number;
  /** Subscribe sent and answered (Switchboard; the others need none). */
  subscribeSentAt?: number;
  subscribedAt?: number;
  /** First event received on the new connection. */
  firstAt?: number;
  /** Reconnect attempts made after the kill. */
  attempts: number;
}

/** The most subscribes in flight at one moment (answered or not). */
function peakConcurrent(spans: Array<[number, number]>): number {
  const edges = spans.flatMap(([from, to]) => [[from, 1] as const, [to, -1] as const]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let peak = 0;
  for (const [, d] of edges) peak = Math.max(peak, (open += d));
  return peak;
}

/**
 * Answers the harness: {cmd: 'receiving'} → {cmd: 'receiving'} once every client has had an event
 * (so the kill falls mid-stream even when a busy machine starts the publisher late);
 * {cmd: 'killed', at} gives the kill time (epoch ms); {cmd: 'report', refused} → gaps (not counting the seqs the server refused to publish),
 * duplicates, the stages (ms after the kill) of each client that noticed the close, and retries.
 */
export function answerReports(clients: readonly Client[]): void {
  let killedAt: number | undefined;
  process.on('message', (msg: {cmd: string; at?: number; refused?: number[]}) => {
    if (msg.cmd === 'receiving') {
      const check = (): void => {
        if (clients.every((c) => c.seqs.length > 0)) process.send!({cmd: 'receiving'});
        else setTimeout(check, 10);
      };
      check();
    }
    if (msg.cmd === 'killed') killedAt = msg.at;
    if (msg.cmd !== 'report' || killedAt === undefined) return;
    const refused = new Set(msg.refused);
    const at = killedAt;
    let gaps = 0;
    let duplicates = 0;
    const stages = {closed: [] as number[], negotiated: [] as number[], opened: [] as number[], connected: [] as number[], subscribed: [] as number[], first: [] as number[]};
    const subscribing: Array<[number, number]> = [];
    for (const c of clients) {
      // Sends the server refused to its publisher were never to be delivered: not a gap.
      const seen = new Set<number>(msg.refused);
      for (const s of c.seqs) {
        if (seen.has(s) && !refused.has(s)) duplicates++;
        seen.add(s);
      }
      if (c.seqs.length > 0) {
        const [from, to] = [Math.min(...c.seqs), Math.max(...c.seqs)];
        gaps += to - from + 1 - [...seen].filter((s) => s >= from && s <= to).length;
      }
      // Stages of every client that noticed the close; the first event only of those that got one.
      if (c.closedAt === undefined) continue;
      stages.closed.push(c.closedAt - at);
      if (c.negotiatedAt !== undefined) stages.negotiated.push(c.negotiatedAt - at);
      if (c.openedAt !== undefined) stages.opened.push(c.openedAt - at);
      if (c.connectedAt !== undefined) stages.connected.push(c.connectedAt - at);
      if (c.subscribedAt !== undefined) stages.subscribed.push(c.subscribedAt - at);
      if (c.firstAt !== undefined) stages.first.push(c.firstAt - at);
      if (c.subscribeSentAt !== undefined && c.subscribedAt !== undefined) subscribing.push([c.subscribeSentAt, c.subscribedAt]);
    }
    const retries = clients.reduce((n, c) => n + Math.max(0, c.attempts - 1), 0);
    process.send!({cmd: 'report', gaps, duplicates, stages, resumed: stages.first.length, retries, peakSubscribing: peakConcurrent(subscribing)});
  });
}
