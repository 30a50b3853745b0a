// Roofline, arithmetic side: each invocation runs 8 independent vec4 multiply-add chains
// (32 lanes, no dependency between chains, so the units can overlap them) for `iterations`
// steps, x ← x · m + c, and writes the sum of its chains so nothing is optimised away.
// Flops: invocations × iterations × 8 chains × 4 lanes × 2 (a multiply and an add).
// Two entry points: `fma_builtin` uses WGSL's fma() (as the Gram kernel does), `mul_add` the
// plain expression x * m + c; the benchmark measures both and takes the faster as the peak.
// With m = 0.999 and c = 0.001 every lane tends to 1 and stays finite; the benchmark checks
// each output against the closed form x_L = 1 + (x_0 − 1) · m^L.
//
// Workgroup: WG invocations in x (written in by TypeScript). 1-D dispatch of `groups`
// workgroups; invocation i starts its chain j, lane l at x_0 = (i mod 1024) / 1024 + (4j + l) / 64.
//
// Loop bound: `iterations` per invocation, kept far under Mesa's cap of 65,535.
//
// Bindings:
//   0 params  uniform: iterations (u32), m (f32), c (f32), pad.
//   1 out     storage read_write: one vec4<f32> per invocation, the sum of its 8 chains.

const WG: u32 = {{WG}}u;

struct Params {
  iterations: u32,
  m: f32,
  c: f32,
  pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<vec4f>;

fn start(i: u32, j: u32) -> vec4f {
  let s = f32(i % 1024u) / 1024.0;
  let b = f32(4u * j) / 64.0;
  return vec4f(s + b, s + b + 1.0 / 64.0, s + b + 2.0 / 64.0, s + b + 3.0 / 64.0);
}

@compute @workgroup_size(WG)
fn fma_builtin(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  let m = vec4f(params.m);
  let c = vec4f(params.c);
  var x0 = start(i, 0u);
  var x1 = start(i, 1u);
  var x2 = start(i, 2u);
  var x3 = start(i, 3u);
  var x4 = start(i, 4u);
  var x5 = start(i, 5u);
  var x6 = start(i, 6u);
  var x7 = start(i, 7u);
  for (var k = 0u; k < params.iterations; k++) {
    x0 = fma(x0, m, c);
    x1 = fma(x1, m, c);
    x2 = fma(x2, m, c);
    x3 = fma(x3, m, c);
    x4 = fma(x4, m, c);
    x5 = fma(x5, m, c);
    x6 = fma(x6, m, c);
    x7 = fma(x7, m, c);
  }
  out[i] = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7));
}

@compute @workgroup_size(WG)
fn mul_add(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  let m = vec4f(params.m);
  let c = vec4f(params.c);
  var x0 = start(i, 0u);
  var x1 = start(i, 1u);
  var x2 = start(i, 2u);
  var x3 = start(i, 3u);
  var x4 = start(i, 4u);
  var x5 = start(i, 5u);
  var x6 = start(i, 6u);
  var x7 = start(i, 7u);
  for (var k = 0u; k < params.iterations; k++) {
    x0 = x0 * m + c;
    x1 = x1 * m + c;
    x2 = x2 * m + c;
    x3 = x3 * m + c;
    x4 = x4 * m + c;
    x5 = x5 * m + c;
    x6 = x6 * m + c;
    x7 = x7 * m + c;
  }
  out[i] = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7));
}
