// A real EventSource (WHATWG, Node's own, behind --experimental-eventsource) in a child process,
// printing each event it receives as one JSON line: what a relayer's client sees, reconnects and
// Last-Event-ID included. The parent reads the lines and stops the child by pid.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export interface ReceivedEvent {
  id: number;
  type: string;
  data: { id: number; type: string; candidateId: string; data: unknown };
}

const CLIENT = `
const source = new EventSource(process.argv[1]);
for (const type of process.argv[2].split(",")) {
  source.addEventListener(type, (event) => console.log(JSON.stringify({ id: Number(event.lastEventId), type: event.type, data: JSON.parse(event.data) })));
}
source.onerror = () => console.log(JSON.stringify({ error: source.readyState }));
// The reconnection timer does not keep a process alive: this does, until the parent kills it.
setInterval(() => {}, 1 << 30);
`;

export class EventSourceClient {
  readonly received: ReceivedEvent[] = [];
  errors = 0;
  readonly #child: ChildProcess;

  constructor(url: string, types: readonly string[]) {
    this.#child = spawn(process.execPath, ["--experimental-eventsource", "--no-warnings", "-e", CLIENT, url, types.join(",")], { stdio: ["ignore", "pipe", "inherit"] });
    createInterface({ input: this.#child.stdout! }).on("line", (line) => {
      const parsed = JSON.parse(line) as ReceivedEvent | { error: number };
      if ("error" in parsed) this.errors++;
      else this.received.push(parsed);
    });
  }

  /** Waits (bounded) until `count` events arrived. */
  async waitFor(count: number, timeoutMs = 30_000): Promise<ReceivedEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    if (this.received.length < count) throw new Error(`received ${this.received.length} of ${count} events within ${timeoutMs} ms`);
    return this.received;
  }

  stop(): void {
    this.#child.kill("SIGKILL");
  }
}
