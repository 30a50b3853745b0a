/**
 * Tests of the site's commands: `serveCli` over real HTTP (raw request lines, so traversal
 * reaches the server unnormalised by a client) and `reportCli` for a results folder or one sweep.
 */
import { join } from "node:path";
import { assert, assertEquals, assertStringIncludes } from "./_assert.ts";
import { reportCli } from "../../lib/cli/report.ts";
import { serveCli } from "../../lib/cli/serve.ts";
import { writeFixtureSweep } from "./fixture.ts";
import { SITE } from "../../site.ts";

const root = await Deno.makeTempDir({ prefix: "site-cli-" });
const sweep = await writeFixtureSweep(root);
const other = await writeFixtureSweep(root, { name: "other", omit: ["attacks"] });
await Deno.mkdir(join(root, "broken"));
await Deno.writeTextFile(
  join(root, "broken", "sweep.json"),
  '{"schemaVersion": 99, "kind": "sweep"}',
);

/** Sends one raw HTTP/1.1 request line and returns the status code and body. */
async function raw(port: number, target: string): Promise<{ status: number; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(
    new TextEncoder().encode(
      `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
    ),
  );
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  while (true) {
    const n = await conn.read(buf);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
  }
  conn.close();
  const text = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
  return { status: Number(text.split(" ")[1]), body: text };
}

Deno.test("serveCli() serves on an ephemeral port and answers raw traversal requests with 404", async () => {
  const server = await serveCli(["--run", root, "--port", "0"], SITE);
  try {
    const port = server.addr.port;
    assertEquals((await raw(port, "/")).status, 200);
    assertEquals((await raw(port, `/sweeps/${sweep}/claims/`)).status, 200);
    for (
      const t of [
        "/sweeps/../../../etc/passwd",
        "/sweeps/..%2f..%2f..%2fetc%2fpasswd/",
        "/static/../../deno.json",
        "/static/..%2f..%2fdeno.json",
        `/sweeps/${sweep}/data/..%2f..%2f..%2fdeno.json`,
        `/sweeps/${sweep}/data/%252e%252e%252fplan.json`,
      ]
    ) {
      const r = await raw(port, t);
      assertEquals(r.status, 404, t);
      assert(!r.body.includes('"imports"'), `${t} leaked a file`);
    }
    const index = await raw(port, "/");
    assertStringIncludes(index.body, "sweep.json unreadable");
  } finally {
    await server.shutdown();
  }
});

Deno.test("serveCli() refuses a port that is not a number", async () => {
  let threw = false;
  try {
    await serveCli(["--run", root, "--port", "http"], SITE);
  } catch (e) {
    threw = e instanceof RangeError;
  }
  assert(threw);
});

Deno.test("reportCli() exports all sweeps of a folder, or only the sweep it is pointed at", async () => {
  const out = join(await Deno.makeTempDir({ prefix: "site-cli-out-" }), "site");
  const all = await reportCli(["--run", root, "--out", out], SITE);
  assertEquals(all.sweeps.sort(), ["broken", other, sweep].sort());
  const one = await reportCli(["--run", join(root, sweep) + "/", "--out", out], SITE);
  assertEquals(one.sweeps, [sweep]);
  const index = await Deno.readTextFile(join(out, "index.html"));
  assertStringIncludes(index, `sweeps/${sweep}/index.html`);
  assert(!index.includes(other), "the single-sweep export lists only that sweep");
  let threw = false;
  try {
    await reportCli(["--run", root], SITE);
  } catch (e) {
    threw = e instanceof TypeError && (e as Error).message.includes("--out");
  }
  assert(threw);
});
