// Shared WGSL prepended to every program's shader by kernels/gpu/program.ts (one copy, as
// webgpu-samples' common.wgsl): index flattening of 2-D dispatch grids and tree reductions over
// one workgroup. Everything here is prefixed `prelude_` or `tree`, so shaders do not collide.
//
// TREE_WG: invocations taking part in a tree reduction (a power of two, at most the workgroup
// size); a pipeline constant, so one shader text serves every size. The tree array costs
// TREE_WG·4 bytes of workgroup memory only in shaders that call treeSum/treeMax.

override TREE_WG: u32 = 64u;

var<workgroup> prelude_tree: array<f32, TREE_WG>;

// The flat workgroup index of a 2-D grid that is gridX workgroups wide (see grid2d()).
fn flatWorkgroup(wid: vec3u, gridX: u32) -> u32 {
  return wid.x + wid.y * gridX;
}

// True when the f32 `v` is NaN or ±Inf (by its bits: compilers may fold v != v away).
fn nonFinite(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u;
}

// The sum of `v` over lanes 0 … TREE_WG−1 (every lane must call it; all get the result).
// Loop iterations: log2(TREE_WG).
fn treeSum(lane: u32, v: f32) -> f32 {
  prelude_tree[lane] = v;
  workgroupBarrier();
  for (var s = TREE_WG / 2u; s > 0u; s >>= 1u) {
    if (lane < s) {
      prelude_tree[lane] += prelude_tree[lane + s];
    }
    workgroupBarrier();
  }
  let total = prelude_tree[0];
  workgroupBarrier();
  return total;
}

// The maximum of `v` over lanes 0 … TREE_WG−1 (every lane must call it; all get the result).
// Loop iterations: log2(TREE_WG).
fn treeMax(lane: u32, v: f32) -> f32 {
  prelude_tree[lane] = v;
  workgroupBarrier();
  for (var s = TREE_WG / 2u; s > 0u; s >>= 1u) {
    if (lane < s) {
      prelude_tree[lane] = max(prelude_tree[lane], prelude_tree[lane + s]);
    }
    workgroupBarrier();
  }
  let total = prelude_tree[0];
  workgroupBarrier();
  return total;
}

// Flat texel addressing: element t of a flat array stored in a 2-D texture 2^TEX_SHIFT texels
// wide sits at (t mod 2^TEX_SHIFT, t >> TEX_SHIFT). Software adapters fetch texels far faster
// than they load storage buffers, so large inputs the kernels re-read are textures.
override TEX_SHIFT: u32 = 12u;

fn texelAt(t: u32) -> vec2u {
  return vec2u(t & ((1u << TEX_SHIFT) - 1u), t >> TEX_SHIFT);
}
