/**
 * The program layer: every kernel is a {@linkcode Program} descriptor (shader, entry point,
 * pipeline constants, named parameters, named bindings), and {@linkcode runPrograms} is the one
 * way to run descriptors: it compiles (once per shader, source variant and constants, in the
 * `Gpu`'s pipeline cache), writes each dispatch's parameters into a uniform, binds its buffers by
 * name, encodes every dispatch in one compute pass, submits once and reads the named outputs
 * back. Nothing else writes encoder → pass → bind → dispatch → read-back by hand.
 *
 * Shader text comes from the `.wgsl` files themselves, imported as text
 * (`import text from "./x.wgsl" with { type: "text" }`): Deno reads the file, and the site's
 * bundler (esbuild) inlines the same file into the browser's page script, so one source serves
 * both and no shader is fetched or read at run time.
 *
 * Every shader gets `prelude.wgsl` prepended (index flattening, tree reductions). Constants WGSL
 * can take as `override` (workgroup sizes, workgroup-array sizes) are pipeline constants; text
 * is spliced in (`{{NAME}}`) only where the source itself must vary (unrolled register blocks).
 */
import { assertLoopBound, type BufferSet, fillShader, grid2d } from "./dispatch.ts";
import type { Gpu } from "./gpu.ts";
import PRELUDE from "./prelude.wgsl" with { type: "text" };

/** A `.wgsl` file's text with its name (relative to `kernels/`), as a {@linkcode Program} holds it. */
export interface WgslSource {
  /** The file, relative to `kernels/` (e.g. `sample_grams/row_scales.wgsl`): names errors and keys the cache. */
  file: string;
  /** Its text, imported with `with { type: "text" }`. */
  text: string;
}

/** One kernel, described once. */
export interface Program {
  /** Label of its pipeline, bind groups and buffers. */
  label: string;
  /** The `.wgsl` file's text and name. */
  shader: WgslSource;
  /** Entry point (default `"main"`). */
  entryPoint?: string;
  /** Source text for `{{NAME}}` placeholders: only source that must vary (unrolled bodies). */
  source?: Record<string, string | number>;
  /** WGSL `override` constants, passed to the pipeline (part of the cache key). */
  constants?: Record<string, number>;
  /** The u32 fields of the uniform at binding 0, in the order the shader's struct declares them. */
  params: readonly string[];
  /** The storage buffers (or textures) at bindings 1, 2, …, by name, in binding order. */
  bindings: readonly string[];
}

/** One dispatch of a program. */
export interface Dispatch {
  program: Program;
  /** A value for every name in `program.params`. */
  params: Record<string, number>;
  /** A buffer (or a texture's view) for every name in `program.bindings`. */
  bindings: Record<string, GPUBuffer | GPUTextureView>;
  /** Workgroups to run: laid out on a 2-D grid within the device limit (`gridX` is set). */
  workgroups: number;
  /** The most loop iterations one invocation runs (asserted under the loop cap). */
  loopBound: number;
}

/** The WGSL text of `program`: the prelude, then its shader with its source variant filled in. */
export function programSource(program: Program): string {
  return `${PRELUDE}\n${
    fillShader(program.shader.file, program.shader.text, program.source ?? {})
  }`;
}

/**
 * The compute pipeline of `program` on `device`, compiled once per shader, source variant,
 * entry point and constants (the `Gpu`'s cache).
 */
export function programPipeline(
  gpu: Gpu,
  device: GPUDevice,
  program: Program,
): GPUComputePipeline {
  const key = JSON.stringify([
    program.shader.file,
    program.source ?? {},
    program.constants ?? {},
  ]);
  const cached = gpu.cachedPipeline(device, key, program.entryPoint);
  if (cached) return cached;
  return gpu.pipeline(device, key, programSource(program), program.entryPoint, {
    label: program.label,
    constants: program.constants,
  });
}

/** The uniform words of `d`'s parameters, in the program's order, with `gridX` filled in. */
function paramWords(d: Dispatch, gridX: number): Uint32Array {
  const words = new Uint32Array(d.program.params.length);
  d.program.params.forEach((name, i) => {
    const value = name === "gridX" ? gridX : d.params[name];
    if (value === undefined || !Number.isInteger(value) || value < 0 || value >= 2 ** 32) {
      throw new RangeError(
        `${d.program.label}: parameter ${name} is ${value}; expected a u32 (a dispatcher bug).`,
      );
    }
    words[i] = value;
  });
  return words;
}

/**
 * Runs `dispatches` in order in one compute pass and one submit, then reads back `reads`
 * (buffer, or flat texture, and byte length each). Each dispatch's loop bound is asserted under the loop cap
 * first. Cost: one submit and one map per read buffer (≈ 11 ms on lavapipe), ≈ 0.2 ms per
 * further dispatch.
 *
 * @throws {RangeError} when a dispatch's loop bound exceeds the cap or a parameter is not a u32.
 * @throws {TypeError} when a named binding has no buffer.
 */
export async function runPrograms(
  gpu: Gpu,
  device: GPUDevice,
  buffers: BufferSet,
  dispatches: Dispatch[],
  reads: Array<[GPUBuffer | GPUTexture, number]>,
): Promise<ArrayBuffer[]> {
  const prepared = dispatches.map((d) => {
    assertLoopBound(d.program.label, d.loopBound);
    const pipeline = programPipeline(gpu, device, d.program);
    const grid = grid2d(device, d.workgroups);
    const entries: Array<GPUBuffer | GPUTextureView | null> = [buffers.uniform(
      `${d.program.label} params`,
      paramWords(d, grid.x),
    )];
    for (const name of d.program.bindings) {
      const buffer = d.bindings[name];
      if (!buffer) {
        throw new TypeError(
          `${d.program.label}: no buffer for binding ${name} (a dispatcher bug).`,
        );
      }
      entries.push(buffer);
    }
    return { d, pipeline, grid, group: buffers.bind(d.program.label, pipeline, entries) };
  });
  const encoder = device.createCommandEncoder({ label: dispatches[0]?.program.label });
  const pass = encoder.beginComputePass({ label: dispatches[0]?.program.label });
  for (const { d, pipeline, grid, group } of prepared) {
    if (d.workgroups === 0) continue;
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(grid.x, grid.y);
  }
  pass.end();
  return await buffers.submitAndRead(encoder, reads);
}
