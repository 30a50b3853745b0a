// The driver's "XDG_RUNTIME_DIR is invalid or not set" line no longer follows every WebGPU run.
import { fileURLToPath } from "node:url";
import { assert, assertEquals } from "../_shared/assert.ts";

const KERNELS = fileURLToPath(new URL("../../kernels/mod.ts", import.meta.url));

Deno.test("requesting the GPU without XDG_RUNTIME_DIR prints no driver noise, and real errors still show", async () => {
  const env: Record<string, string> = {};
  for (const k of ["PATH", "HOME", "DENO_DIR", "TMPDIR"]) {
    const v = Deno.env.get(k);
    if (v !== undefined) env[k] = v;
  }
  const script = `
    import { requestGpu } from ${JSON.stringify(KERNELS)};
    const g = await requestGpu();
    const dir = Deno.env.get("XDG_RUNTIME_DIR");
    const st = dir ? Deno.statSync(dir) : null;
    console.log(JSON.stringify({ dir, mode: st ? (st.mode & 0o777) : null }));
    g.destroy();
    console.error("a real error line");`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--unstable-webgpu", script],
    clearEnv: true,
    env,
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, stderr);
  assert(!stderr.includes("XDG_RUNTIME_DIR"), stderr);
  assert(stderr.includes("a real error line"), "stderr was swallowed");
  const got = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
  if (Deno.build.os === "linux") assertEquals(got.mode, 0o700, JSON.stringify(got));
});
