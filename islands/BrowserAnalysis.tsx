/**
 * Island: the analysis of `deno task analyze --grads G.npy --models M.json`, run in the reader's
 * browser on files they drop (or pick). The page reads the files locally and hands them to the
 * library's own `analyzeNpyBytes` (the same `analyzeGradients`, on the same WGSL kernels through
 * `kernels/gpu`'s program layer on the browser's WebGPU, or the float64 TypeScript reference where
 * the browser has none), then renders the p(k1, k2) heatmaps and the claims. Nothing is uploaded.
 * The one island that computes statistics: the reader's data never reaches the server.
 * @module
 */
import type { JSX } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { requestGpu } from "../kernels/mod.ts";
import { analyzeNpyBytes, type ExternalAnalysis } from "../lib/analysis/external.ts";
import { ClaimsTable } from "../lib/site/claims_table.tsx";
import { ChartWithTools } from "../lib/site/chart_tools.tsx";
import { EXPECTED_SIMILARITY_DEFINITION, familyHeatmaps } from "../lib/site/similarity_figures.ts";
import HeatmapHover from "./HeatmapHover.tsx";

/** Props: the CLI command the page reproduces (shown beside the result). */
export interface BrowserAnalysisProps {
  command: string;
}

type Status =
  | { kind: "idle" }
  | { kind: "running"; message: string }
  | { kind: "error"; message: string }
  | { kind: "done"; result: ExternalAnalysis; ran: string; ms: number };

/** Picks the `.npy` and the models JSON out of dropped or chosen files. */
function classify(files: File[]): { npy?: File; models?: File } {
  return {
    npy: files.find((f) => /\.npy$/i.test(f.name)),
    models: files.find((f) => /\.json$/i.test(f.name)),
  };
}

async function run(
  npy: File,
  models: File,
  onProgress: (m: string) => void,
): Promise<Extract<Status, { kind: "done" }>> {
  const bytes = new Uint8Array(await npy.arrayBuffer());
  let json: unknown;
  try {
    json = JSON.parse(await models.text());
  } catch (e) {
    throw new SyntaxError(
      `${models.name} is not valid JSON (${
        (e as Error).message
      }); expected a list of {family, k, seed}.`,
    );
  }
  onProgress("acquiring WebGPU …");
  const gpu = await requestGpu({ onWarning: (m) => console.warn(m) });
  try {
    const t0 = performance.now();
    const result = await analyzeNpyBytes(bytes, json, { gpu, name: npy.name, onProgress });
    const ran = gpu.backend === "webgpu"
      ? `WebGPU: ${gpu.adapterName}${gpu.isSoftware ? " (a software adapter)" : ""}`
      : `the float64 TypeScript reference kernels (${gpu.note || "no WebGPU adapter"})`;
    return { kind: "done", result, ran, ms: Math.round(performance.now() - t0) };
  } finally {
    gpu.destroy();
  }
}

/** A `blob:` URL of `value` as JSON, made in the page (nothing is fetched or sent). */
function jsonHref(value: unknown): string {
  return URL.createObjectURL(
    new Blob([JSON.stringify(value) + "\n"], { type: "application/json" }),
  );
}

function Result({ done, command }: { done: Extract<Status, { kind: "done" }>; command: string }) {
  const { analysis: a, shape, backend } = done.result;
  const s = a.similarity;
  const hrefs = useMemo(() => ({
    similarity: jsonHref(s),
    claims: jsonHref({
      schemaVersion: s.schemaVersion,
      generatedAt: s.generatedAt,
      source: s.source,
      kind: "claims",
      claims: a.claims,
    }),
  }), [done]);
  return (
    <div class="browser-result" data-backend={backend.kind}>
      <p class="ran" data-ran={backend.kind}>
        Ran on {done.ran} in {done.ms} ms: {shape[0]} models × {shape[1]} samples × D = {shape[2]}
        {s.zeroGradients > 0 ? `; ${s.zeroGradients} zero gradients left out` : ""}
        {(s.nonFiniteGradients ?? 0) > 0
          ? `; ${s.nonFiniteGradients} gradients holding NaN or ±Inf left out`
          : ""}. The same figures as <code>{command}</code>.
      </p>
      {a.warnings.length > 0 && (
        <ul class="notice">{a.warnings.map((w) => <li key={w}>{w}</li>)}</ul>
      )}
      <h2>Expected similarity p(k1, k2)</h2>
      <p>
        {EXPECTED_SIMILARITY_DEFINITION}
        {s.byFamily.length > 1 ? "; the families share one colour scale" : ""}.
      </p>
      {familyHeatmaps(s.byFamily, "browser-p-").map((h, i) => (
        <figure class="figure">
          <figcaption>
            <h3>{s.byFamily[i]!.family}</h3>
          </figcaption>
          <div class="figure-body">
            <ChartWithTools id={h.id}>
              <HeatmapHover {...h} />
            </ChartWithTools>
          </div>
        </figure>
      ))}
      <h2>Claims</h2>
      <ClaimsTable claims={a.claims} class="browser-claims" />
      <p class="data-links">
        Keep the results: <a href={hrefs.similarity} download="similarity.json">similarity.json</a>
        {" · "}
        <a href={hrefs.claims} download="claims.json">
          claims.json
        </a>{" "}
        (the files the command line writes, made in this page).
      </p>
    </div>
  );
}

/** Drop zone and result of the in-browser analysis. */
export default function BrowserAnalysis(props: BrowserAnalysisProps): JSX.Element {
  const [files, setFiles] = useState<{ npy?: File; models?: File }>({});
  const [status, setStatus] = useState<Status>({ kind: "idle" });
  const [over, setOver] = useState(false);
  // Set once hydrated: the drop zone answers from then on (the server's markup does not).
  const [ready, setReady] = useState(false);
  useEffect(() => setReady(true), []);
  const take = (list: FileList | null | undefined) => {
    const picked = { ...files, ...classify(Array.from(list ?? []).filter(Boolean)) };
    setFiles(picked);
    if (!picked.npy || !picked.models) {
      setStatus({
        kind: "error",
        message: `Still needed: ${
          [!picked.npy && "the gradients (.npy)", !picked.models && "the models JSON (.json)"]
            .filter(Boolean).join(" and ")
        }.`,
      });
      return;
    }
    setStatus({ kind: "running", message: "reading the files …" });
    run(picked.npy, picked.models, (message) => setStatus({ kind: "running", message }))
      .then(setStatus)
      .catch((e) => setStatus({ kind: "error", message: (e as Error).message }));
  };
  return (
    <div class="browser-analysis" data-ready={ready ? "true" : undefined}>
      <label
        class={`dropzone${over ? " over" : ""}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          take(e.dataTransfer?.files);
        }}
      >
        <span>
          Drop the gradients <code>.npy</code> ([M, N, D] float32) and its models <code>.json</code>
          {" "}
          here, or choose them:
        </span>
        <input
          type="file"
          multiple
          accept=".npy,.json"
          onChange={(e) => take((e.currentTarget as HTMLInputElement).files)}
        />
        <span class="muted">
          {files.npy ? files.npy.name : "no .npy yet"} ·{" "}
          {files.models ? files.models.name : "no .json yet"}
        </span>
      </label>
      <p
        class={`status${status.kind === "error" ? " notice error" : ""}`}
        role="status"
        data-status={status.kind}
      >
        {status.kind === "idle" &&
          "Nothing runs until both files are here; they are read in this page and never sent anywhere."}
        {status.kind === "running" && status.message}
        {status.kind === "error" && status.message}
        {status.kind === "done" && "Done."}
      </p>
      {status.kind === "done" && <Result done={status} command={props.command} />}
    </div>
  );
}
