// Group mean directions: per group G and sample x, the sum S_G(x) of the unit vectors of the
// group's models with a non-zero gradient at x, its count, ‖S‖ and μ_G(x) = S/‖S‖
// (the mean m_G = S/count and ‖m_G‖ = ‖S‖/count follow on the CPU).
//
// Layout (one chunk of samples): units[(m·samples + x)·dim + d], model-major; zero[m·samples+x]
// is 1 for a zero gradient. Groups are given as a CSR list: members[g] … members[g+1]−1 index
// into members[groups+1 …], which lists model indices.
//
// Entry point `sumMembers`: one invocation per output value (g, x, d), WG per workgroup, on a
// 2-D grid of gridX workgroups per row; each loops over its group's members (loop bound: the
// largest group size, asserted under the cap by the dispatcher) and writes S and, for d = 0,
// the count.
// Entry point `normalizeSums`: one workgroup of WG invocations per (g, x); three strided passes
// over dim (max |S|, Σ (S/max)², μ = S/max/root) combined by trees in workgroup memory (loop
// bound 3·ceil(dim/WG) + 2·log2(WG)). Writes μ (zeros where S = 0) and ‖S‖ = max·root.
// TypeScript writes WG (a power of two).
//
// Bindings:
//   0 params     uniform: models, samples (in this chunk), dim, groups, gridX.
//   1 units      storage read: models × samples × dim f32 (sumMembers).
//   2 zero       storage read: models × samples u32 (sumMembers).
//   3 members    storage read: groups + 1 offsets, then member model indices (sumMembers).
//   4 sums       storage read_write: groups × samples × dim f32, S_G(x).
//   5 stats      storage read_write: groups × samples × 2 words: count (u32), ‖S‖ (f32 bits).
//   6 directions storage read_write: groups × samples × dim f32, μ_G(x) (normalizeSums).

const WG: u32 = {{WG}}u;

struct Params {
  models: u32,
  samples: u32,
  dim: u32,
  groups: u32,
  gridX: u32,
  pad0: u32,
  pad1: u32,
  pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> units: array<f32>;
@group(0) @binding(2) var<storage, read> zero: array<u32>;
@group(0) @binding(3) var<storage, read> members: array<u32>;
@group(0) @binding(4) var<storage, read_write> sums: array<f32>;
@group(0) @binding(5) var<storage, read_write> stats: array<u32>;
@group(0) @binding(6) var<storage, read_write> directions: array<f32>;

var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn sumMembers(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let e = (wid.x + wid.y * params.gridX) * WG + lid;
  let perGroup = params.samples * params.dim;
  if (e >= params.groups * perGroup) {
    return;
  }
  let g = e / perGroup;
  let x = (e % perGroup) / params.dim;
  let d = e % params.dim;
  var s = 0.0;
  var count = 0u;
  for (var k = members[g]; k < members[g + 1u]; k++) {
    let m = members[params.groups + 1u + k];
    if (zero[m * params.samples + x] == 0u) {
      s += units[(m * params.samples + x) * params.dim + d];
      count += 1u;
    }
  }
  sums[e] = s;
  if (d == 0u) {
    stats[2u * (g * params.samples + x)] = count;
  }
}

@compute @workgroup_size(WG)
fn normalizeSums(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = wid.x + wid.y * params.gridX;
  if (item >= params.groups * params.samples) {
    return;
  }
  let base = item * params.dim;
  var mx = 0.0;
  for (var d = lid; d < params.dim; d += WG) {
    mx = max(mx, abs(sums[base + d]));
  }
  red[lid] = mx;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      red[lid] = max(red[lid], red[lid + stride]);
    }
    workgroupBarrier();
  }
  let rowMax = red[0];
  workgroupBarrier();
  var ss = 0.0;
  if (rowMax > 0.0) {
    for (var d = lid; d < params.dim; d += WG) {
      let q = sums[base + d] / rowMax;
      ss = fma(q, q, ss);
    }
  }
  red[lid] = ss;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      red[lid] += red[lid + stride];
    }
    workgroupBarrier();
  }
  let root = sqrt(red[0]);
  for (var d = lid; d < params.dim; d += WG) {
    var v = 0.0;
    if (rowMax > 0.0) {
      v = (sums[base + d] / rowMax) / root;
    }
    directions[base + d] = v;
  }
  if (lid == 0u) {
    stats[2u * item + 1u] = bitcast<u32>(rowMax * root);
  }
}
