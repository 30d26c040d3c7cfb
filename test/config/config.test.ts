import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ConfigError, type ConfigIssue } from "../../src/config/errors.ts";
import { loadConfig } from "../../src/config/load.ts";
import { DEFAULT_API_PORT, DEFAULT_LISTEN } from "../../src/config/schema.ts";
import { parseConfig } from "../../src/config/validate.ts";
import { readWebhookSecrets } from "../../src/notifications/webhooks.ts";

const EXAMPLE = fileURLToPath(new URL("../../config/node.example.json", import.meta.url));
const BASE = "/srv/sentinel";
const PEER = "12D3KooWJC22H1XcLfQTtTzftF9Jy28vgdH5TDaRYyNSitbtSUxd";

/** The smallest valid config: every optional field left to its default. */
function minimal(): Record<string, unknown> {
  return {
    networkId: "0x57c3b95c796f614aa8ea8dc857a7dd3bd95c8ba2f01517bba39bb99bf1ec2474",
    dataDir: "data",
    validator: { keystore: "keys/validator.json" },
    relayer: { privateKeyFile: "keys/relayer.key" },
    chains: [{ chainId: 31337, rpcUrl: "http://127.0.0.1:8545", registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3" }],
  };
}

function issuesOf(input: unknown): ConfigIssue[] {
  try {
    parseConfig(input, BASE);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.code, "INVALID_CONFIG");
    return [...error.issues];
  }
  assert.fail("expected a ConfigError");
}

/** The config with one change applied, and the single issue it causes at `path`. */
function onlyIssue(change: (config: Record<string, any>) => void, path: string): string {
  const config = minimal() as Record<string, any>;
  change(config);
  const issues = issuesOf(config);
  assert.deepEqual(issues.map((issue) => issue.path), [path], JSON.stringify(issues));
  return issues[0]!.message;
}

describe("config: valid files", () => {
  it("loads the example config, resolving paths against its directory", () => {
    const config = loadConfig(EXAMPLE);
    const configDir = resolve(EXAMPLE, "..");
    assert.equal(config.networkId, "0x57c3b95c796f614aa8ea8dc857a7dd3bd95c8ba2f01517bba39bb99bf1ec2474");
    assert.equal(config.dataDir, resolve(configDir, "data"));
    assert.equal(config.validator.keystore, resolve(configDir, "keys/validator.json"));
    assert.equal(config.chains.length, 2);
    assert.equal(config.api.port, 7400);
  });

  it("fills every default", () => {
    const config = parseConfig(minimal(), BASE);
    assert.deepEqual(config, {
      name: "sentinel",
      networkId: "0x57c3b95c796f614aa8ea8dc857a7dd3bd95c8ba2f01517bba39bb99bf1ec2474",
      dataDir: "/srv/sentinel/data",
      p2p: { listen: DEFAULT_LISTEN, bootstrap: [] },
      api: { host: "127.0.0.1", port: DEFAULT_API_PORT, refusalBudget: { refusals: 60, perSeconds: 60 } },
      validator: { keystore: "/srv/sentinel/keys/validator.json" },
      relayer: { enabled: true, privateKeyFile: "/srv/sentinel/keys/relayer.key" },
      chains: [{ chainId: 31337, rpcUrls: ["http://127.0.0.1:8545"], rpcQuorum: 1, registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3", confirmations: 0 }],
      logLevel: "info",
      verification: { compileCacheDir: "/srv/sentinel/data/compile-cache" },
      monitoring: { pollMs: 250, cooldownBlocks: 10 },
      notifications: { webhooks: [] },
    });
    assert.deepEqual(config.p2p.listen, ["/ip4/0.0.0.0/tcp/9000"]);
    assert.notEqual(config.p2p.listen, DEFAULT_LISTEN, "a fresh array, not the shared default");
    assert.equal(DEFAULT_API_PORT, 7400);
  });

  it("resolves relative paths against the config file's directory, keeps absolute ones", () => {
    const config = parseConfig(
      {
        ...minimal(),
        dataDir: "../var/db",
        validator: { keystore: "/etc/sentinel/validator.json", passwordFile: "./secrets/pw" },
        relayer: { privateKeyFile: "relayer.key" },
      },
      "/opt/node/config",
    );
    assert.equal(config.dataDir, "/opt/node/var/db");
    assert.equal(config.validator.keystore, "/etc/sentinel/validator.json");
    assert.equal(config.validator.passwordFile, "/opt/node/config/secrets/pw");
    assert.equal(config.relayer.privateKeyFile, "/opt/node/config/relayer.key");
  });

  it("takes a shared compile cache directory, relative to the config file", () => {
    const config = parseConfig({ ...minimal(), verification: { compileCacheDir: "../cache" } }, "/opt/node/config");
    assert.equal(config.verification.compileCacheDir, "/opt/node/cache");
    assert.throws(() => parseConfig({ ...minimal(), verification: { compileCache: "x" } }, BASE), /verification\.compileCache: unknown field/);
  });

  it("takes monitoring's poll interval and cooldown, each bounded", () => {
    const config = parseConfig({ ...minimal(), monitoring: { pollMs: 1_000, cooldownBlocks: 20 } }, BASE);
    assert.deepEqual(config.monitoring, { pollMs: 1_000, cooldownBlocks: 20 });
    assert.deepEqual(parseConfig({ ...minimal(), monitoring: { cooldownBlocks: 3 } }, BASE).monitoring, { pollMs: 250, cooldownBlocks: 3 });
    assert.throws(() => parseConfig({ ...minimal(), monitoring: { pollMs: 0 } }, BASE), /monitoring\.pollMs: must be an integer in 50\.\.60000/);
    assert.throws(() => parseConfig({ ...minimal(), monitoring: { cooldownBlocks: 1.5 } }, BASE), /monitoring\.cooldownBlocks: must be an integer/);
    assert.throws(() => parseConfig({ ...minimal(), monitoring: { cooldown: 3 } }, BASE), /monitoring\.cooldown: unknown field/);
  });

  it("normalises the network id to lower case and the registry to its checksum", () => {
    const config = parseConfig(
      {
        ...minimal(),
        networkId: "0x57C3B95C796F614AA8EA8DC857A7DD3BD95C8BA2F01517BBA39BB99BF1EC2474",
        chains: [{ chainId: 1, rpcUrl: "https://rpc.example.org", registry: "0x5fbdb2315678afecb367f032d93f642f64180aa3", confirmations: 64 }],
      },
      BASE,
    );
    assert.equal(config.networkId, "0x57c3b95c796f614aa8ea8dc857a7dd3bd95c8ba2f01517bba39bb99bf1ec2474");
    assert.equal(config.chains[0]!.registry, "0x5FbDB2315678afecb367f032d93F642f64180aa3");
  });

  it("lets a node without a relayer omit the relayer key", () => {
    const config = parseConfig({ ...minimal(), relayer: { enabled: false } }, BASE);
    assert.deepEqual(config.relayer, { enabled: false });
  });

  it("accepts bootstrap peers with /p2p/ and a password variable", () => {
    const config = parseConfig(
      {
        ...minimal(),
        p2p: { listen: ["/ip4/0.0.0.0/tcp/9100", "/ip6/::/tcp/9100"], bootstrap: [`/dns4/boot.example.org/tcp/9000/p2p/${PEER}`] },
        validator: { keystore: "k.json", passwordEnv: "NODE1_PASSWORD" },
        logLevel: "debug",
      },
      BASE,
    );
    assert.equal(config.p2p.bootstrap.length, 1);
    assert.equal(config.validator.passwordEnv, "NODE1_PASSWORD");
    assert.equal(config.logLevel, "debug");
  });
});

describe("config: each invalid field is reported at its path", () => {
  it("missing networkId", () => {
    const message = onlyIssue((c) => delete c["networkId"], "networkId");
    assert.match(message, /required/);
  });

  it("a name that is not 1 to 64 letters, digits, dots, dashes or underscores", () => {
    for (const bad of ["", "has space", "a/b", "x".repeat(65), 7]) assert.match(onlyIssue((c) => (c["name"] = bad), "name"), /1 to 64 letters/);
    assert.equal(parseConfig({ ...minimal(), name: "validator-1" }, BASE).name, "validator-1");
    assert.equal(parseConfig(minimal(), "/opt/nodes/node3").name, "node3", "the config file's directory by default");
  });

  it("malformed or zero networkId", () => {
    assert.match(onlyIssue((c) => (c["networkId"] = "0x1234"), "networkId"), /64 hex digits/);
    assert.match(onlyIssue((c) => (c["networkId"] = `0x${"0".repeat(64)}`), "networkId"), /zeros/);
  });

  it("bad registry address, with an example of a good one", () => {
    const message = onlyIssue((c) => (c["chains"][0].registry = "0x1234"), "chains[0].registry");
    assert.match(message, /0x-prefixed 20-byte address, e\.g\. 0x5FbDB2315678afecb367f032d93F642f64180aa3/);
  });

  it("registry with a wrong EIP-55 checksum", () => {
    const message = onlyIssue((c) => (c["chains"][0].registry = "0x5FBDB2315678afecb367f032d93F642f64180aa3"), "chains[0].registry");
    assert.match(message, /checksum/);
  });

  it("duplicate chainId", () => {
    const message = onlyIssue((c) => {
      const chain = c["chains"][0];
      c["chains"] = [chain, { ...chain, chainId: 1 }, { ...chain, rpcUrl: "http://127.0.0.1:8546" }];
    }, "chains[2].chainId");
    assert.match(message, /duplicate chain id 31337 \(also chains\[0\]\)/);
  });

  it("non-positive or non-integer chainId", () => {
    onlyIssue((c) => (c["chains"][0].chainId = 0), "chains[0].chainId");
    onlyIssue((c) => (c["chains"][0].chainId = "1"), "chains[0].chainId");
    onlyIssue((c) => (c["chains"][0].chainId = 1.5), "chains[0].chainId");
  });

  it("bad rpcUrl, without echoing it (it may hold an API key)", () => {
    assert.match(onlyIssue((c) => (c["chains"][0].rpcUrl = "127.0.0.1:8545"), "chains[0].rpcUrl"), /http/);
    const secret = "wss://mainnet.example.org/v3/SECRETKEY";
    const message = onlyIssue((c) => (c["chains"][0].rpcUrl = secret), "chains[0].rpcUrl");
    assert.match(message, /http:\/\/ or https:\/\//);
    assert.ok(!message.includes("SECRETKEY"));
    onlyIssue((c) => (c["chains"][0].rpcUrl = "not a url"), "chains[0].rpcUrl");
  });

  it("several endpoints read through a quorum: a majority by default, distinct, at most the endpoints there are", () => {
    const urls = ["http://127.0.0.1:8545", "https://rpc.example.org/v3/KEY", "https://other.example.net"];
    const parsed = (change: (c: Record<string, any>) => void) => {
      const config = minimal() as Record<string, any>;
      change(config);
      return parseConfig(config, "/srv/sentinel").chains[0]!;
    };
    const three = parsed((c) => {
      delete c["chains"][0].rpcUrl;
      c["chains"][0].rpcUrls = urls;
    });
    assert.deepEqual([three.rpcUrls, three.rpcQuorum], [urls, 2]);
    assert.equal(parsed((c) => (delete c["chains"][0].rpcUrl, (c["chains"][0].rpcUrls = urls.slice(0, 2)))).rpcQuorum, 2, "two endpoints: both must agree");
    assert.equal(parsed((c) => (delete c["chains"][0].rpcUrl, (c["chains"][0].rpcUrls = urls), (c["chains"][0].rpcQuorum = 3))).rpcQuorum, 3);
    assert.match(onlyIssue((c) => (c["chains"][0].rpcUrls = urls), "chains[0].rpcUrls"), /either "rpcUrl" \(one endpoint\) or "rpcUrls"/);
    assert.match(onlyIssue((c) => (delete c["chains"][0].rpcUrl, (c["chains"][0].rpcUrls = [urls[0], urls[0]])), "chains[0].rpcUrls[1]"), /same endpoint twice/);
    assert.match(onlyIssue((c) => (delete c["chains"][0].rpcUrl, (c["chains"][0].rpcUrls = [])), "chains[0].rpcUrls"), /at least one endpoint/);
    assert.match(onlyIssue((c) => (delete c["chains"][0].rpcUrl, (c["chains"][0].rpcUrls = urls), (c["chains"][0].rpcQuorum = 4)), "chains[0].rpcQuorum"), /at most the number of endpoints \(3\); a majority, 2, is the default/);
    onlyIssue((c) => (delete c["chains"][0].rpcUrl, (c["chains"][0].rpcUrls = urls), (c["chains"][0].rpcQuorum = 0)), "chains[0].rpcQuorum");
    onlyIssue((c) => (c["chains"][0].rpcQuorum = 2), "chains[0].rpcQuorum");
    const secret = onlyIssue((c) => (delete c["chains"][0].rpcUrl, (c["chains"][0].rpcUrls = [urls[0], "wss://x.example/SECRETKEY"])), "chains[0].rpcUrls[1]");
    assert.ok(!secret.includes("SECRETKEY"), "an endpoint is never echoed");
    assert.match(onlyIssue((c) => delete c["chains"][0].rpcUrl, "chains[0].rpcUrl"), /is required; add "rpcUrl".*or "rpcUrls"/);
  });

  it("unknown field, with a suggestion for a typo", () => {
    assert.match(onlyIssue((c) => (c["chains"][0].confirmation = 3), "chains[0].confirmation"), /did you mean "confirmations"/);
    assert.match(onlyIssue((c) => (c["logLevle"] = "info"), "logLevle"), /did you mean "logLevel"/);
    assert.match(onlyIssue((c) => (c["metrics"] = {}), "metrics"), /unknown field; known fields: name, networkId/);
    onlyIssue((c) => (c["api"] = { prot: 1 }), "api.prot");
  });

  it("bad port", () => {
    assert.match(onlyIssue((c) => (c["api"] = { port: 70000 }), "api.port"), /0\.\.65535/);
    onlyIssue((c) => (c["api"] = { port: -1 }), "api.port");
    onlyIssue((c) => (c["api"] = { port: "7400" }), "api.port");
    assert.equal(parseConfig({ ...minimal(), api: { port: 0 } }, BASE).api.port, 0);
  });

  it("api.refusalBudget: false turns it off; a bad one names the field and the fix", () => {
    assert.equal(parseConfig({ ...minimal(), api: { refusalBudget: false } }, BASE).api.refusalBudget, false);
    assert.deepEqual(parseConfig({ ...minimal(), api: { refusalBudget: { refusals: 5 } } }, BASE).api.refusalBudget, { refusals: 5, perSeconds: 60 });
    assert.match(onlyIssue((c) => (c["api"] = { refusalBudget: true }), "api.refusalBudget"), /or false/);
    assert.match(onlyIssue((c) => (c["api"] = { refusalBudget: { refusals: 0 } }), "api.refusalBudget.refusals"), /1\.\.1000000/);
    onlyIssue((c) => (c["api"] = { refusalBudget: { perSeconds: 1.5 } }), "api.refusalBudget.perSeconds");
    assert.match(onlyIssue((c) => (c["api"] = { refusalBudget: { refusal: 5 } }), "api.refusalBudget.refusal"), /did you mean "refusals"/);
  });

  it("bad host", () => {
    onlyIssue((c) => (c["api"] = { host: "http://localhost:7400" }), "api.host");
  });

  it("empty or missing chains", () => {
    assert.match(onlyIssue((c) => (c["chains"] = []), "chains"), /at least one chain/);
    onlyIssue((c) => delete c["chains"], "chains");
    onlyIssue((c) => (c["chains"] = { chainId: 1 }), "chains");
  });

  it("bootstrap address without /p2p/<peerId>, or with a bad peer id", () => {
    assert.match(onlyIssue((c) => (c["p2p"] = { bootstrap: ["/ip4/10.0.0.1/tcp/9000"] }), "p2p.bootstrap[0]"), /\/p2p\/<peerId>/);
    onlyIssue((c) => (c["p2p"] = { bootstrap: [`/ip4/10.0.0.1/tcp/9000/p2p/${PEER}`, "/ip4/10.0.0.2/tcp/9000/p2p/notapeer"] }), "p2p.bootstrap[1]");
  });

  it("malformed listen multiaddr", () => {
    onlyIssue((c) => (c["p2p"] = { listen: ["/ip4/999.0.0.1/tcp/9000"] }), "p2p.listen[0]");
    onlyIssue((c) => (c["p2p"] = { listen: ["0.0.0.0:9000"] }), "p2p.listen[0]");
    onlyIssue((c) => (c["p2p"] = { listen: "/ip4/0.0.0.0/tcp/9000" }), "p2p.listen");
    assert.match(onlyIssue((c) => (c["p2p"] = { listen: [] }), "p2p.listen"), /at least one/);
  });

  it("negative or absurd confirmations", () => {
    onlyIssue((c) => (c["chains"][0].confirmations = -1), "chains[0].confirmations");
    onlyIssue((c) => (c["chains"][0].confirmations = 100000), "chains[0].confirmations");
  });

  it("unknown log level", () => {
    assert.match(onlyIssue((c) => (c["logLevel"] = "verbose"), "logLevel"), /"trace"/);
  });

  it("relayer enabled without a key file", () => {
    assert.match(onlyIssue((c) => (c["relayer"] = {}), "relayer.privateKeyFile"), /"enabled": false/);
    onlyIssue((c) => (c["relayer"] = { enabled: "yes", privateKeyFile: "k" }), "relayer.enabled");
  });

  it("both password sources, or a password where a variable name goes", () => {
    onlyIssue((c) => (c["validator"] = { keystore: "k.json", passwordFile: "pw", passwordEnv: "PW" }), "validator.passwordEnv");
    assert.match(onlyIssue((c) => (c["validator"] = { keystore: "k.json", passwordEnv: "hunter2!" }), "validator.passwordEnv"), /not the password/);
  });

  it("paths: empty, or starting with ~", () => {
    onlyIssue((c) => (c["dataDir"] = ""), "dataDir");
    assert.match(onlyIssue((c) => (c["validator"] = { keystore: "~/keys/v.json" }), "validator.keystore"), /not expanded/);
  });

  it("webhooks: each bad field at its path, with the fix; the URL never echoed", () => {
    const good = { name: "ops", url: "https://hooks.example.org/sentinel?key=url-secret", secretFile: "keys/webhook.secret", events: ["revocation.alert"] };
    const withHook = (hook: Record<string, unknown>) => (c: Record<string, any>) => (c["notifications"] = { webhooks: [{ ...good, ...hook }] });
    const at = (field: string) => `notifications.webhooks[0].${field}`;
    assert.match(onlyIssue(withHook({ url: "ftp://hooks.example.org/x?key=url-secret" }), at("url")), /http:\/\/ or https:\/\//);
    assert.doesNotMatch(onlyIssue(withHook({ url: "not a url url-secret" }), at("url")), /url-secret/);
    assert.match(onlyIssue(withHook({ url: "https://user:pw@hooks.example.org/" }), at("url")), /user:password/);
    assert.match(onlyIssue(withHook({ secretFile: undefined }), at("secretFile")), /openssl rand/);
    assert.match(onlyIssue(withHook({ secretEnv: "HOOK_SECRET" }), at("secretEnv")), /not both/);
    assert.match(onlyIssue(withHook({ secretFile: undefined, secretEnv: "the secret itself" }), at("secretEnv")), /environment variable name/);
    assert.match(onlyIssue(withHook({ events: ["revocation.alarm"] }), `${at("events")}[0]`), /revocation\.alert/);
    assert.match(onlyIssue(withHook({ events: [] }), at("events")), /at least one/);
    assert.match(onlyIssue(withHook({ name: "ops team" }), at("name")), /letters, digits/);
    assert.match(onlyIssue(withHook({ targets: [{ chainId: 1, address: "0x123" }] }), "notifications.webhooks[0].targets[0].address"), /20-byte address/);
    assert.match(onlyIssue(withHook({ retries: 3 }), at("retries")), /unknown field/);
    assert.match(onlyIssue((c) => (c["notifications"] = { webhooks: [good, good] }), "notifications.webhooks[1].name"), /duplicate webhook name/);
    const parsed = parseConfig({ ...minimal(), notifications: { webhooks: [{ ...good, targets: [{ chainId: 1, address: "0x5fbdb2315678afecb367f032d93f642f64180aa3" }] }] } }, BASE);
    assert.deepEqual(parsed.notifications.webhooks[0], { ...good, secretFile: "/srv/sentinel/keys/webhook.secret", targets: [{ chainId: 1, address: "0x5FbDB2315678afecb367f032d93F642f64180aa3" }] });
  });

  it("webhook secrets are read at start-up; a missing or short one names its field", () => {
    const dir = mkdtempSync(join(tmpdir(), "sentinel-secret-"));
    try {
      writeFileSync(join(dir, "short"), "abc\n");
      writeFileSync(join(dir, "good"), "0123456789abcdef0123\n");
      const hook = { name: "a", url: "https://h.example.org/", events: ["revocation.alert"] };
      const config = { webhooks: [{ ...hook, secretFile: join(dir, "good") }, { ...hook, name: "b", secretFile: join(dir, "short") }, { ...hook, name: "c", secretFile: join(dir, "missing") }, { ...hook, name: "d", secretEnv: "SENTINEL_TEST_HOOK" }] };
      let error: unknown;
      try {
        readWebhookSecrets(config, {});
      } catch (caught) {
        error = caught;
      }
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.issues.map((issue) => issue.path), ["notifications.webhooks[1].secretFile", "notifications.webhooks[2].secretFile", "notifications.webhooks[3].secretEnv"]);
      assert.ok(!error.message.includes("abc"), "the secret is not echoed");
      assert.deepEqual(readWebhookSecrets({ webhooks: [config.webhooks[0]!, config.webhooks[3]!] }, { SENTINEL_TEST_HOOK: "fedcba9876543210fedc" }), ["0123456789abcdef0123", "fedcba9876543210fedc"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a document that is not an object", () => {
    assert.deepEqual(issuesOf([]).map((issue) => issue.path), [""]);
    assert.deepEqual(issuesOf(null).map((issue) => issue.path), [""]);
  });
});

describe("config: every problem at once", () => {
  it("collects all issues in one ConfigError", () => {
    const config = minimal() as Record<string, any>;
    delete config["networkId"];
    config["api"] = { port: 99999 };
    config["chains"] = [
      { chainId: 5, rpcUrl: "ftp://x", registry: "0x12" },
      { chainId: 5, rpcUrl: "http://127.0.0.1:8545", registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3", extra: true },
    ];
    config["p2p"] = { bootstrap: ["/ip4/10.0.0.1/tcp/9000"] };
    const paths = issuesOf(config).map((issue) => issue.path).sort();
    assert.deepEqual(paths, [
      "api.port",
      "chains[0].registry",
      "chains[0].rpcUrl",
      "chains[1].chainId",
      "chains[1].extra",
      "networkId",
      "p2p.bootstrap[0]",
    ]);
  });

  it("lists each issue on its own line in the message", () => {
    const config = { ...minimal(), logLevel: "loud", api: { port: -5 } };
    try {
      parseConfig(config, BASE);
      assert.fail("expected a ConfigError");
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /has 2 problems:\n {2}- api\.port: .*\n {2}- logLevel: /);
    }
  });
});

describe("loadConfig: file errors name the file", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "sentinel-config-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function loadError(file: string): ConfigError {
    try {
      loadConfig(file);
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      assert.ok(error.message.includes(file), error.message);
      return error;
    }
    assert.fail("expected a ConfigError");
  }

  it("missing file", () => {
    const error = loadError(join(dir, "absent.json"));
    assert.equal(error.code, "READ_FAILED");
    assert.match(error.message, /not found/);
  });

  it("a directory", () => {
    const sub = join(dir, "sub");
    mkdirSync(sub);
    assert.equal(loadError(sub).code, "READ_FAILED");
  });

  it("invalid JSON", () => {
    const file = join(dir, "broken.json");
    writeFileSync(file, '{ "networkId": "0x00", // comment\n }');
    const error = loadError(file);
    assert.equal(error.code, "INVALID_JSON");
    assert.match(error.message, /not valid JSON/);
  });

  it("invalid config, with paths relative to the file", () => {
    const file = join(dir, "node.json");
    writeFileSync(file, JSON.stringify({ ...minimal(), logLevel: "loud" }));
    const error = loadError(file);
    assert.equal(error.code, "INVALID_CONFIG");
    assert.deepEqual(error.issues.map((issue) => issue.path), ["logLevel"]);
    assert.equal(error.file, file);

    writeFileSync(file, `\uFEFF${JSON.stringify(minimal())}`);
    assert.equal(loadConfig(file).dataDir, join(dir, "data"));
  });
});
