// Span sums: adds the partial tiles of the Gram kernels' spans on the GPU, so that only one
// tile set per segment (the whole chunk, or one sample) is read back.
//
// Layout: partial[(s·tileValues) + v] for span s = g·per + p (segment g, part p < per) and
// value v < tileValues (= tile pairs × TILE × TILE); out[g·tileValues + v] = Σ_p partial[...].
//
// Tiling: one invocation per output value, WG per workgroup, on a 2-D grid of gridX workgroups
// per row. Loop bound per invocation: `per` (asserted under the cap by the dispatcher).
// TypeScript writes WG.
//
// Bindings:
//   0 params  uniform: segments, per (spans per segment), tileValues, gridX.
//   1 partial storage read: segments × per × tileValues f32.
//   2 out     storage read_write: segments × tileValues f32.

const WG: u32 = {{WG}}u;

struct Params {
  segments: u32,
  per: u32,
  tileValues: u32,
  gridX: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let e = (wid.x + wid.y * params.gridX) * WG + lid;
  if (e >= params.segments * params.tileValues) {
    return;
  }
  let g = e / params.tileValues;
  let v = e % params.tileValues;
  var s = 0.0;
  for (var p = 0u; p < params.per; p++) {
    s += partial[(g * params.per + p) * params.tileValues + v];
  }
  out[e] = s;
}
