import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PeerScoreThresholds } from "@libp2p/gossipsub/score";
import {
  MAX_POSITIVE_SCORE,
  NetworkError,
  SCORE_THRESHOLDS,
  checkScoreParams,
  checkScoreThresholds,
  maxPositiveScore,
  scoreParamsFor,
  inboxTopic,
  topicsFor,
} from "../../src/network/index.ts";
import { NETWORK_ID } from "./helpers.ts";

function thresholds(overrides: Partial<PeerScoreThresholds>): PeerScoreThresholds {
  return { ...SCORE_THRESHOLDS, ...overrides };
}

function throwsCode(fn: () => void, code: string, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof NetworkError);
    assert.equal(err.code, code);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe("checkScoreThresholds", () => {
  it("accepts the shipped thresholds", () => {
    checkScoreThresholds(SCORE_THRESHOLDS);
    assert.ok(SCORE_THRESHOLDS.gossipThreshold > SCORE_THRESHOLDS.publishThreshold);
    assert.ok(SCORE_THRESHOLDS.publishThreshold > SCORE_THRESHOLDS.graylistThreshold);
  });

  it("throws when publish is above gossip", () => {
    throwsCode(() => checkScoreThresholds(thresholds({ gossipThreshold: -50, publishThreshold: -10 })), "INVALID_SCORE_THRESHOLDS", /publish threshold/);
  });

  it("throws when graylist is above publish", () => {
    throwsCode(() => checkScoreThresholds(thresholds({ graylistThreshold: -20 })), "INVALID_SCORE_THRESHOLDS", /graylist threshold/);
  });

  it("throws when gossip is positive", () => {
    throwsCode(() => checkScoreThresholds(thresholds({ gossipThreshold: 1 })), "INVALID_SCORE_THRESHOLDS", /gossip threshold/);
  });

  it("throws on a non-number and on negative PX/graft thresholds", () => {
    throwsCode(() => checkScoreThresholds(thresholds({ publishThreshold: Number.NaN })), "INVALID_SCORE_THRESHOLDS");
    throwsCode(() => checkScoreThresholds(thresholds({ acceptPXThreshold: -1 })), "INVALID_SCORE_THRESHOLDS");
    throwsCode(() => checkScoreThresholds(thresholds({ opportunisticGraftThreshold: -1 })), "INVALID_SCORE_THRESHOLDS");
  });
});

describe("score parameters", () => {
  const params = scoreParamsFor(topicsFor(NETWORK_ID));

  it("score the four topics and pass gossipsub's own validation", () => {
    assert.deepEqual(Object.keys(params.topics).sort(), Object.values(topicsFor(NETWORK_ID)).sort());
    checkScoreParams(params);
  });

  it("put a peer below zero, gossip and publish thresholds after one invalid message", () => {
    assert.equal(maxPositiveScore(params), MAX_POSITIVE_SCORE);
    for (const topic of Object.values(params.topics)) {
      const worstAfterOne = MAX_POSITIVE_SCORE + topic.topicWeight * topic.invalidMessageDeliveriesWeight;
      assert.ok(worstAfterOne < 0);
      assert.ok(worstAfterOne < SCORE_THRESHOLDS.gossipThreshold);
      assert.ok(worstAfterOne < SCORE_THRESHOLDS.publishThreshold);
      assert.ok(worstAfterOne > SCORE_THRESHOLDS.graylistThreshold, "one invalid message does not graylist");
      const worstAfterTwo = MAX_POSITIVE_SCORE + topic.topicWeight * topic.invalidMessageDeliveriesWeight * 4;
      assert.ok(worstAfterTwo < SCORE_THRESHOLDS.graylistThreshold, "two do");
    }
  });

  it("with a full set's verdict inboxes: each inbox earns nothing and one invalid message costs the same", () => {
    const withInboxes = scoreParamsFor(topicsFor(NETWORK_ID), 218);
    assert.equal(Object.keys(withInboxes.topics).length, 4 + 218);
    checkScoreParams(withInboxes);
    assert.equal(maxPositiveScore(withInboxes), MAX_POSITIVE_SCORE, "218 inboxes add nothing a peer could bank against a penalty");
    const inbox = withInboxes.topics[inboxTopic(topicsFor(NETWORK_ID), 217)]!;
    assert.equal(inbox.invalidMessageDeliveriesWeight * inbox.topicWeight, params.topics[topicsFor(NETWORK_ID).verdict]!.invalidMessageDeliveriesWeight);
  });

  it("are refused when one invalid message would not outweigh the positive score", () => {
    const weak = scoreParamsFor(topicsFor(NETWORK_ID));
    for (const topic of Object.values(weak.topics)) topic.invalidMessageDeliveriesWeight = -1;
    throwsCode(() => checkScoreParams(weak), "INVALID_SCORE_PARAMS", /does not outweigh/);
  });

  it("are refused when gossipsub rejects them", () => {
    const bad = scoreParamsFor(topicsFor(NETWORK_ID));
    for (const topic of Object.values(bad.topics)) topic.invalidMessageDeliveriesWeight = 5;
    throwsCode(() => checkScoreParams(bad), "INVALID_SCORE_PARAMS", /gossipsub rejects/);
  });
});
