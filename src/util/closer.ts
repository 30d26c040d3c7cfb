// What a composition root has started, to be closed in reverse: on stop, and when a start fails
// half-way (every part already started is closed, none left running). A part that fails to close
// is logged and the rest are still closed.
import type { Logger } from "pino";

export class Closer {
  readonly #steps: { name: string; close: () => unknown }[] = [];
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  add(name: string, close: () => unknown): void {
    this.#steps.push({ name, close });
  }

  /** The names registered, in start order (for tests and logs). */
  get names(): string[] {
    return this.#steps.map((step) => step.name);
  }

  async closeAll(): Promise<void> {
    for (const { name, close } of this.#steps.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        this.#log.warn({ err: error, part: name }, "a part failed to close");
      }
    }
  }
}
