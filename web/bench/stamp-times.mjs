// How long a reporter's browser takes to solve the relay's proof-of-work: headless Chromium
// (Debian's chromium and chromium-driver) with the JIT, without it (--js-flags=--jitless, as
// Tor Browser at "Safer" runs scripts) and without it at 4x CPU throttling (DevTools'
// Emulation.setCPUThrottlingRate, a stand-in for a cheap phone). For each: the hash rate of
// both engines (@noble/hashes, the script's engine before; WebCrypto, batched), and the
// distribution of solve times per difficulty with the engine the script now uses.
//
//   cd web && node bench/stamp-times.mjs [--solves 40] [--difficulties 12,13,14,16,17,18]
//
// Everything stays on 127.0.0.1: a static server for the page, ChromeDriver, Chromium with
// no background networking. Bounded: each difficulty gets at most --budget seconds.
import { spawn, execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values: options } = parseArgs({
  options: {
    solves: { type: "string", default: "40" },
    difficulties: { type: "string", default: "12,13,14,16,17,18" },
    budget: { type: "string", default: "240" },
    configurations: { type: "string", default: "jit,jitless,jitless-throttled" },
  },
});
const here = new URL(".", import.meta.url);
const work = mkdtempSync(join(tmpdir(), "meldpunt-stamp-bench-"));
execFileSync(
  join(new URL("../node_modules/.bin/esbuild", here).pathname),
  [new URL("stamp-page.js", here).pathname, "--bundle", "--format=iife", "--target=es2020", `--outfile=${join(work, "bench.js")}`],
  { stdio: "ignore" },
);
const files = {
  "/": ["text/html", '<!doctype html><meta charset="utf-8"><title>stamps</title><script src="/bench.js"></script>'],
  "/bench.js": ["text/javascript", readFileSync(join(work, "bench.js"))],
};
const server = createServer((request, response) => {
  const file = files[request.url];
  if (!file) {
    response.writeHead(404).end();
    return;
  }
  response.writeHead(200, { "content-type": file[0] }).end(file[1]);
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const page = `http://127.0.0.1:${server.address().port}/`;

const driverPort = 20000 + Math.floor(Math.random() * 20000);
const driver = spawn("/usr/bin/chromedriver", [`--port=${driverPort}`, "--allowed-ips=127.0.0.1"], { stdio: "ignore" });
const base = `http://127.0.0.1:${driverPort}`;
async function call(method, path, body) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${path}: ${JSON.stringify(answer.value ?? answer)}`);
  return answer.value;
}
for (let attempt = 0; ; attempt += 1) {
  try {
    await call("GET", "/status");
    break;
  } catch (error) {
    if (attempt > 100) throw error;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const plan = {
  engines: ["noble", "webcrypto"],
  rateMilliseconds: 3000,
  difficulties: options.difficulties.split(",").map(Number),
  solves: Number(options.solves),
  budgetMilliseconds: Number(options.budget) * 1000,
  solveEngine: "webcrypto",
};
const configurations = {
  jit: { jitless: false, throttle: 1 },
  jitless: { jitless: true, throttle: 1 },
  "jitless-throttled": { jitless: true, throttle: 4 },
};

function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

const results = {};
try {
  for (const name of options.configurations.split(",")) {
    const configuration = configurations[name];
    const profile = join(work, `profile-${name}`);
    const args = [
      "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions",
      `--user-data-dir=${profile}`,
    ];
    if (configuration.jitless) args.push("--js-flags=--jitless");
    const session = await call("POST", "/session", {
      capabilities: { alwaysMatch: { browserName: "chrome", "goog:chromeOptions": { binary: "/usr/bin/chromium", args } } },
    });
    const id = session.sessionId;
    try {
      await call("POST", `/session/${id}/timeouts`, { script: 3_600_000 });
      await call("POST", `/session/${id}/url`, { url: page });
      if (configuration.throttle > 1) {
        await call("POST", `/session/${id}/goog/cdp/execute`, {
          cmd: "Emulation.setCPUThrottlingRate",
          params: { rate: configuration.throttle },
        });
      }
      results[name] = await call("POST", `/session/${id}/execute/async`, {
        script: "const done = arguments[arguments.length - 1]; window.meldpuntBench.run(arguments[0]).then(done, (error) => done({ error: String(error) }));",
        args: [plan],
      });
    } finally {
      await call("DELETE", `/session/${id}`).catch(() => {});
    }
    if (results[name].error) throw new Error(`${name}: ${results[name].error}`);
  }
} finally {
  driver.kill();
  server.close();
  rmSync(work, { recursive: true, force: true });
}

const cpu = readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1] ?? "unknown CPU";
const version = execFileSync("/usr/bin/chromium", ["--version"]).toString().trim();
console.log(`${version}, ${cpu}, one run\n`);
console.log("| browser | @noble/hashes (before) | WebCrypto, batched (now) | ratio |");
console.log("|---|---:|---:|---:|");
for (const [name, result] of Object.entries(results)) {
  const noble = result.rates.noble;
  const webcrypto = result.rates.webcrypto;
  console.log(
    `| ${name} | ${Math.round(noble).toLocaleString("en")} hashes/s | ${Math.round(webcrypto).toLocaleString("en")} hashes/s | ${(webcrypto / noble).toFixed(1)}x |`,
  );
}
console.log("\nSolve times with WebCrypto (median / p95, seconds; n solves):\n");
console.log(`| difficulty | ${Object.keys(results).join(" | ")} |`);
console.log(`|---:|${Object.keys(results).map(() => "---:").join("|")}|`);
for (const difficulty of plan.difficulties) {
  const cells = Object.values(results).map((result) => {
    const times = [...(result.solves[difficulty] ?? [])].sort((a, b) => a - b);
    if (times.length === 0) return "—";
    return `${(quantile(times, 0.5) / 1000).toFixed(2)} / ${(quantile(times, 0.95) / 1000).toFixed(2)} (n=${times.length})`;
  });
  console.log(`| ${difficulty} | ${cells.join(" | ")} |`);
}
console.log(
  "\nExpected from the measured rate alone (the number of attempts is geometric: the mean is 2^d, the p95 about 3 x 2^d):\n",
);
console.log(`| difficulty | ${Object.keys(results).map((name) => `${name} mean / p95`).join(" | ")} |`);
console.log(`|---:|${Object.keys(results).map(() => "---:").join("|")}|`);
for (const difficulty of plan.difficulties) {
  const cells = Object.values(results).map((result) => {
    const mean = 2 ** difficulty / result.rates.webcrypto;
    return `${mean.toFixed(2)} / ${(mean * Math.log(20)).toFixed(2)}`;
  });
  console.log(`| ${difficulty} | ${cells.join(" | ")} |`);
}
