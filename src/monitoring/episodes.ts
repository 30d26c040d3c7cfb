// Breach episodes: what turns a stream of per-block readings of one invariant into alerts. An
// episode starts when the invariant goes from holding to broken, and ends only once it has held
// for `cooldownBlocks` blocks in a row; a break before then belongs to the same episode. So a
// flapping invariant raises one alert per episode, and at most one per `cooldownBlocks` blocks
// however it flaps. A reading that could not be taken (the chain unreadable, a call failing for
// want of an answer) changes nothing: no evidence either way, as in verification's abstention.
export interface EpisodeOptions {
  /** Blocks an invariant must hold in a row before a new break is a new episode. */
  cooldownBlocks: number;
  /** Keys tracked at most; the least recently read are forgotten first. */
  maxKeys: number;
}

export const DEFAULT_EPISODES: EpisodeOptions = { cooldownBlocks: 10, maxKeys: 4096 };

export type Reading = "holds" | "broken" | "unknown";

/** A new episode began at this reading: the one thing that raises an alert. */
export interface EpisodeStart {
  key: string;
  /** 1 for the first episode this node saw for the key. */
  episode: number;
  block: bigint;
}

interface KeyState {
  /** The last reading was a break. Starts false: the approval's verification saw it hold. */
  broken: boolean;
  episode: number;
  /** The first block of the current run of holding readings, while one runs after an episode. */
  holdingSince: bigint | undefined;
  /** Broken, or not yet held for the cooldown since it last broke. */
  inEpisode: boolean;
}

export class EpisodeTracker {
  readonly #options: EpisodeOptions;
  readonly #keys = new Map<string, KeyState>();
  readonly stats = { readings: 0, episodes: 0, suppressed: 0 };

  constructor(options: Partial<EpisodeOptions> = {}) {
    this.#options = { ...DEFAULT_EPISODES, ...options };
  }

  /** Feeds one reading at `block` (blocks read in increasing order); returns a new episode's start. */
  observe(key: string, block: bigint, reading: Reading): EpisodeStart | undefined {
    if (reading === "unknown") return undefined;
    this.stats.readings++;
    const state = this.#state(key);
    if (reading === "holds") {
      if (state.broken) {
        state.broken = false;
        state.holdingSince = block;
      }
      if (state.inEpisode && state.holdingSince !== undefined && block - state.holdingSince + 1n >= BigInt(this.#options.cooldownBlocks)) {
        state.inEpisode = false;
        state.holdingSince = undefined;
      }
      return undefined;
    }
    if (state.broken) return undefined;
    state.broken = true;
    state.holdingSince = undefined;
    if (state.inEpisode) {
      // Broke again within the cooldown: the same episode, no second alert.
      this.stats.suppressed++;
      return undefined;
    }
    state.inEpisode = true;
    state.episode++;
    this.stats.episodes++;
    return { key, episode: state.episode, block };
  }

  /** Whether the key's invariant is in an episode now (broken, or not yet held long enough). */
  inEpisode(key: string): boolean {
    return this.#keys.get(key)?.inEpisode ?? false;
  }

  /** The episodes of every tracked key, for the status API. */
  snapshot(): { key: string; broken: boolean; episodes: number; inEpisode: boolean }[] {
    return [...this.#keys].map(([key, s]) => ({ key, broken: s.broken, episodes: s.episode, inEpisode: s.inEpisode }));
  }

  #state(key: string): KeyState {
    let state = this.#keys.get(key);
    if (state) {
      // Most recently read last: the first entry is the one to forget.
      this.#keys.delete(key);
    } else {
      state = { broken: false, episode: 0, holdingSince: undefined, inEpisode: false };
      if (this.#keys.size >= this.#options.maxKeys) this.#keys.delete(this.#keys.keys().next().value!);
    }
    this.#keys.set(key, state);
    return state;
  }
}
