// Roofline, memory side: copies one storage buffer into another so that bandwidth is
// (bytes read + bytes written) / time. Two layouts, one entry point each, because the adapter
// decides which one streams faster: a hardware GPU wants neighbouring invocations on
// neighbouring addresses (strided), a CPU-backed adapter (Mesa's lavapipe/llvmpipe, which runs
// 8 invocations in the SIMD lanes of one core) wants each invocation on its own block
// (blocked). The benchmark measures both and takes the faster as the adapter's bandwidth.
//
// Workgroup: WG invocations in x (TypeScript writes WG in, from one constant). The dispatch is
// a 2-D grid of workgroups (gridX × gridY) so that large buffers stay under
// maxComputeWorkgroupsPerDimension; invocation index i = global x + global y · gridX · WG.
//
// Loop bound: each invocation runs `perInvocation` iterations, which the dispatcher keeps far
// under Mesa's cap of 65,535 loop iterations per invocation.
//
// Bindings:
//   0 params  uniform: vec4s (vec4 elements to copy), perInvocation (vec4s per invocation),
//             gridX (workgroups per row of the grid), pad.
//   1 src     storage read: vec4s × vec4<f32>.
//   2 dst     storage read_write: vec4s × vec4<f32>, written with src.

const WG: u32 = {{WG}}u;

struct Params {
  vec4s: u32,
  perInvocation: u32,
  gridX: u32,
  pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4f>;

// Invocation i copies the block [i · perInvocation, (i + 1) · perInvocation).
@compute @workgroup_size(WG)
fn copy_blocked(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x + gid.y * params.gridX * WG;
  let begin = i * params.perInvocation;
  let end = min(begin + params.perInvocation, params.vec4s);
  for (var e = begin; e < end; e++) {
    dst[e] = src[e];
  }
}

// Invocation i copies i, i + T, i + 2T, … with T the number of invocations in the grid.
@compute @workgroup_size(WG)
fn copy_strided(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let i = gid.x + gid.y * params.gridX * WG;
  let total = groups.x * groups.y * WG;
  for (var k = 0u; k < params.perInvocation; k++) {
    let e = i + k * total;
    if (e < params.vec4s) {
      dst[e] = src[e];
    }
  }
}
