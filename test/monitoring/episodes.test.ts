// Breach episodes: one alert per episode, a flapping invariant held to one episode by the
// cooldown, unknown readings changing nothing, and alerts bounded whatever the readings.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EpisodeTracker, type Reading } from "../../src/monitoring/episodes.ts";

function feed(tracker: EpisodeTracker, readings: Reading[], from = 1n): bigint[] {
  const starts: bigint[] = [];
  readings.forEach((reading, i) => {
    const start = tracker.observe("k", from + BigInt(i), reading);
    if (start) starts.push(start.block);
  });
  return starts;
}

describe("EpisodeTracker", () => {
  it("starts an episode when the invariant goes from holding to broken, once", () => {
    const tracker = new EpisodeTracker({ cooldownBlocks: 5 });
    assert.deepEqual(feed(tracker, ["holds", "holds", "broken", "broken", "broken"]), [3n]);
    assert.equal(tracker.inEpisode("k"), true);
  });

  it("counts a break seen first as a breach: the approval's verification saw it hold", () => {
    assert.deepEqual(feed(new EpisodeTracker({ cooldownBlocks: 5 }), ["broken"]), [1n]);
  });

  it("holds a flapping invariant to one episode over 100 blocks", () => {
    const tracker = new EpisodeTracker({ cooldownBlocks: 10 });
    const readings = Array.from({ length: 100 }, (_, i): Reading => (i % 3 === 0 ? "broken" : "holds"));
    assert.deepEqual(feed(tracker, readings), [1n]);
    assert.equal(tracker.stats.episodes, 1);
    assert.ok(tracker.stats.suppressed >= 30);
  });

  it("starts a new episode only after the invariant held for the whole cooldown", () => {
    const tracker = new EpisodeTracker({ cooldownBlocks: 3 });
    // broken at 1, holds 2-3 (two blocks: still the episode), broken at 4, holds 5-7 (three: over), broken at 8.
    const starts = feed(tracker, ["broken", "holds", "holds", "broken", "holds", "holds", "holds", "broken"]);
    assert.deepEqual(starts, [1n, 8n]);
  });

  it("bounds alerts by the cooldown whatever the readings", () => {
    const tracker = new EpisodeTracker({ cooldownBlocks: 10 });
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const readings = Array.from({ length: 100 }, (): Reading => (random() < 0.3 ? "broken" : random() < 0.1 ? "unknown" : "holds"));
    const starts = feed(tracker, readings);
    assert.ok(starts.length >= 1 && starts.length <= Math.ceil(100 / 11), `${starts.length} alerts`);
  });

  it("changes nothing on an unknown reading (an unreadable chain is not a breach)", () => {
    const tracker = new EpisodeTracker({ cooldownBlocks: 2 });
    assert.deepEqual(feed(tracker, ["holds", "unknown", "unknown", "holds"]), []);
    assert.equal(tracker.stats.readings, 2);
  });

  it("forgets the least recently read keys beyond its bound", () => {
    const tracker = new EpisodeTracker({ cooldownBlocks: 2, maxKeys: 2 });
    tracker.observe("a", 1n, "broken");
    tracker.observe("b", 1n, "holds");
    tracker.observe("c", 1n, "holds");
    assert.deepEqual(tracker.snapshot().map((s) => s.key), ["b", "c"]);
  });
});
