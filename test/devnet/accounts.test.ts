import assert from "node:assert/strict";
import { it } from "node:test";
import { bytesToHex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { ANVIL_DEV_KEYS } from "../../src/devnet/accounts.ts";

it("ANVIL_DEV_KEYS are anvil's accounts 0..9 of its published test mnemonic", () => {
  ANVIL_DEV_KEYS.forEach((key, addressIndex) => {
    const account = mnemonicToAccount("test test test test test test test test test test test junk", { addressIndex });
    assert.equal(key, bytesToHex(account.getHdKey().privateKey!), `account ${addressIndex}`);
  });
});
