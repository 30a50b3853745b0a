// Row sums over model sets: for every set s (a group, or one half of a group's random split),
// sample x and model f, sums[s][x][f] = Σ_{j ∈ s} cos[x][f][j]. Rows left out are zero in
// `cos`, so only live members count, and a left-out f gets 0. These M-long rows give the
// leave-one-out t (the row of f's own group), the cosine of f to another group's mean, and,
// summed once more over a set (set_pairs.wgsl), every group and half-group norm.
//
// One invocation per (x, models 4q … 4q + 3) walks the sets s0 … s1 − 1 of its dispatch (a
// software adapter pays per workgroup, so one workgroup per set would cost more than the sums).
// The Grams are symmetric, so it fetches the packed texel of columns 4q … 4q + 3 of each
// member's row, cos[x][j][4q …]: one texel feeds four sums.
//
// The sets are walked in group_sums.ts's setWalk order: one step per set, its index in the low
// 30 bits. A step flagged DERIVED (half B of a split) is the set whose members are those of the
// last PARENT step (its group) less those of the step just before it (half A): its sums are
// parent − previous, with no member loop. A PARENT step's sums are kept for the steps after it.
//
// Sets are a CSR list of packed members (group_sums.ts's packedSets): set s holds the member
// texels starts[s] … starts[s + 1] − 1, four model indices each, the last padded with
// NO_MEMBER (any index ≥ models, skipped). One member fetch names four members: a texel fetch
// costs as much whether it fetches a cosine row or a member index.
//
// Workgroup: WG invocations (a pipeline constant). Loop bound per invocation: (k1 − k0) plus,
// per summed (not derived) step, its member texels and one for entering its member loop (the
// host splits the walk into dispatches under the cap).
//
// Bindings:
//   0 params   uniform: models, samples (in this dispatch), k0, k1 (the steps), gridX.
//   1 cosines  rgba32float texture: cosines.wgsl's packed output.
//   2 steps    r32uint texture: the walk, one u32 per step (set index | PARENT | DERIVED).
//   3 starts   r32uint texture: sets + 1 u32, each set's first member texel (a flat texture:
//              a storage load costs as much here as several texel fetches).
//   4 members  rgba32uint texture: four u32 model indices per texel (fetched in the inner loop).
//   5 sums     write-only rgba32float storage texture: texel (s·samples + x)·⌈M/4⌉ + q holds
//              sums[s][x][4q … 4q + 3] (0 past the last model). A texel store, as the cosines
//              are stored: storage-buffer stores had cost about half of this program's time.

override WG: u32 = 64u;

struct Params {
  models: u32,
  samples: u32,
  k0: u32,
  k1: u32,
  gridX: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var cosines: texture_2d<f32>;
@group(0) @binding(2) var steps: texture_2d<u32>;
@group(0) @binding(3) var starts: texture_2d<u32>;
@group(0) @binding(4) var members: texture_2d<u32>;
@group(0) @binding(5) var sums: texture_storage_2d<rgba32float, write>;

const PARENT: u32 = 0x40000000u;
const DERIVED: u32 = 0x80000000u;
const SET_BITS: u32 = 0x3fffffffu;

// Row j's texel of columns 4q … 4q + 3 at sample x; 0 for a padding slot (j ≥ models).
fn memberRow(x: u32, j: u32, q: u32) -> vec4f {
  let m = params.models;
  if (j >= m) {
    return vec4f(0.0);
  }
  return textureLoad(cosines, texelAt((x * m + j) * ((m + 3u) / 4u) + q), 0);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lane: u32) {
  let m = params.models;
  let m4 = (m + 3u) / 4u;
  let per = params.samples * m4;
  let e = flatWorkgroup(wid, params.gridX) * WG + lane;
  if (e >= params.samples * m4) {
    return;
  }
  let x = e / m4;
  let q = e % m4;
  var parent = vec4f(0.0);
  var previous = vec4f(0.0);
  for (var k = params.k0; k < params.k1; k++) {
    let step = textureLoad(steps, texelAt(k), 0).x;
    let s = step & SET_BITS;
    var acc = parent - previous;
    if ((step & DERIVED) == 0u) {
      acc = vec4f(0.0);
      let last = textureLoad(starts, texelAt(s + 1u), 0).x;
      for (var t = textureLoad(starts, texelAt(s), 0).x; t < last; t++) {
        let js = textureLoad(members, texelAt(t), 0);
        acc += memberRow(x, js.x, q) + memberRow(x, js.y, q) + memberRow(x, js.z, q) +
          memberRow(x, js.w, q);
      }
    }
    if ((step & PARENT) != 0u) {
      parent = acc;
    }
    previous = acc;
    textureStore(sums, texelAt(s * per + e), acc);
  }
}
