// Cosine to the mean: t_f(x) = ⟨u_f(x), v⟩/‖v‖ for every model f and sample x, where
// v = T_k(x) − s_f·u_f(x): T_k is the target of f (a group's sum of unit vectors S_G(x), or a
// caller-given mean direction) and s_f is 1 when f is itself a member of that group, which
// makes μ leave-one-out: ⟨u, S−u⟩/‖S−u‖.
//
// Layout (one chunk of samples): units[(f·samples + x)·dim + d]; targets[(k·samples + x)·dim + d].
//
// Tiling: one workgroup of WG invocations per (f, x) item, item = f·samples + x, on a 2-D grid
// of gridX workgroups per row. Two strided passes over dim: max |v| (so ‖v‖ is computed scaled),
// then ⟨u, v/max⟩ and Σ (v/max)², combined by trees in workgroup memory. Invalid items (zero
// gradient, no target, no other contributor, or v = 0) get NaN; every invocation still runs
// the loops so barriers stay in uniform control flow. Loop bound per invocation:
// 2·ceil(dim/WG) + 2·log2(WG). TypeScript writes WG (a power of two).
//
// Bindings:
//   0 params  uniform: models, samples (in this chunk), dim, targets, gridX.
//   1 units   storage read: models × samples × dim f32 unit vectors.
//   2 targets storage read: targets × samples × dim f32 (group sums or mean directions).
//   3 info    storage read: per model 2 u32: target index (0xffffffff = none), subtract (0/1).
//   4 ok      storage read: models × samples u32, 1 where the item may be valid (non-zero
//             gradient and at least one contributor other than f).
//   5 t       storage read_write: models × samples f32, t_f(x) or NaN.

const WG: u32 = {{WG}}u;

struct Params {
  models: u32,
  samples: u32,
  dim: u32,
  targets: u32,
  gridX: u32,
  pad0: u32,
  pad1: u32,
  pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> units: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<f32>;
@group(0) @binding(3) var<storage, read> info: array<u32>;
@group(0) @binding(4) var<storage, read> ok: array<u32>;
@group(0) @binding(5) var<storage, read_write> t: array<f32>;

var<workgroup> redA: array<f32, WG>;
var<workgroup> redB: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = wid.x + wid.y * params.gridX;
  if (item >= params.models * params.samples) {
    return;
  }
  let f = item / params.samples;
  let x = item % params.samples;
  var k = info[2u * f];
  let valid = k != 0xffffffffu && ok[item] != 0u;
  if (k == 0xffffffffu) {
    k = 0u;
  }
  let sub = f32(info[2u * f + 1u]);
  let uBase = item * params.dim;
  let tBase = (k * params.samples + x) * params.dim;

  var mx = 0.0;
  for (var d = lid; d < params.dim; d += WG) {
    mx = max(mx, abs(targets[tBase + d] - sub * units[uBase + d]));
  }
  redA[lid] = mx;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      redA[lid] = max(redA[lid], redA[lid + stride]);
    }
    workgroupBarrier();
  }
  let vMax = redA[0];
  workgroupBarrier();
  var a = 0.0;
  var b = 0.0;
  if (vMax > 0.0) {
    for (var d = lid; d < params.dim; d += WG) {
      let u = units[uBase + d];
      let v = (targets[tBase + d] - sub * u) / vMax;
      a = fma(u, v, a);
      b = fma(v, v, b);
    }
  }
  redA[lid] = a;
  redB[lid] = b;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      redA[lid] += redA[lid + stride];
      redB[lid] += redB[lid + stride];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    if (valid && vMax > 0.0 && redB[0] > 0.0) {
      t[item] = clamp(redA[0] / sqrt(redB[0]), -1.0, 1.0);
    } else {
      t[item] = bitcast<f32>(0x7fc00000u);
    }
  }
}
