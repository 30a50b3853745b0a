/**
 * `/sweeps/:sweep/methods/`: the attribution methods of `salience.methods` side by side, from one
 * set of trained models: p(k,k) against width per method, and each claim's verdict per method,
 * with each method's settings (and Integrated Gradients' completeness error).
 * @module
 */
import type { JSX } from "preact";
import type { ClaimsFile, SimilarityFile } from "../../../lib/analysis/schema.ts";
import { columnFormat } from "../../../lib/site/charts/mod.ts";
import { DataTable, Figure, FileNotice, SweepPage } from "../../../lib/site/components.tsx";
import { ClaimsSideBySide, diagonalSeries, HeadlineChart } from "../../../lib/site/findings.tsx";
import type { RouteContext } from "../../../lib/site/router.ts";
import {
  type Loaded,
  readMethodAnalysis,
  readMethodsIndex,
} from "../../../lib/site/store_reader.ts";
import {
  isExternal,
  requireSweep,
  type SweepBase,
  sweepCommand,
  sweepPreset,
} from "../../../lib/site/sweep_data.ts";
import type { MethodsIndexJson } from "../../../lib/sweep/salience_methods.ts";

/** One method's analysis as read. */
interface MethodData {
  entry: MethodsIndexJson["methods"][number];
  similarity: Loaded<SimilarityFile>;
  claims: Loaded<ClaimsFile>;
}

interface Data {
  base: SweepBase;
  index: Loaded<MethodsIndexJson>;
  methods: MethodData[];
}

/** Loads analysis/methods/index.json and each method's similarity.json and claims.json. */
export async function load(ctx: RouteContext): Promise<Data> {
  const base = await requireSweep(ctx);
  const index = await readMethodsIndex(ctx.store, base.name);
  const methods: MethodData[] = [];
  if (index.status === "ok") {
    for (const entry of index.value.methods) {
      methods.push({
        entry,
        similarity: await readMethodAnalysis(ctx.store, base.name, entry.method, "similarity"),
        claims: await readMethodAnalysis(ctx.store, base.name, entry.method, "claims"),
      });
    }
  }
  return { base, index, methods };
}

/** Page title. */
export function title(data: Data): string {
  return `${data.base.name} — attribution methods`;
}

function settingsText(m: MethodData["entry"]): string {
  const s = m.settings as Record<string, unknown> | null;
  if (!s) return "–";
  const rest = Object.entries(s).filter(([k]) => k !== "method");
  return rest.length ? rest.map(([k, v]) => `${k} ${String(v)}`).join(", ") : "no settings";
}

/** The methods page. */
export default function Methods({ data, ctx }: { data: Data; ctx: RouteContext }): JSX.Element {
  const { base, index, methods } = data;
  const sweep = base.name;
  // The completeness errors (absolute and relative) in one notation.
  const errors = columnFormat(
    methods.flatMap((m) =>
      m.entry.completeness
        ? [m.entry.completeness.maxAbsError, m.entry.completeness.maxRelativeError]
        : []
    ),
  );
  return (
    <SweepPage
      heading="Attribution methods"
      ctx={ctx}
      sweep={sweep}
      current="methods"
      external={isExternal(base)}
    >
      {index.status !== "ok" && (isExternal(base)
        ? (
          <FileNotice
            file="analysis/methods/index.json"
            loaded={index}
            absent="is absent: an external analysis holds the statistics of the gradients it was given, and no models to take other attributions from. To compare methods, export each method's gradients and analyse each file on its own:"
            command="deno task analyze --grads METHOD.npy --models M.json --out METHOD-analysis"
          />
        )
        : (
          <FileNotice
            file="analysis/methods/index.json"
            loaded={index}
            absent={`is absent: this sweep analysed the plain gradient only. List the methods in a config file's salience.methods (e.g. gradient, gradient-x-input, smoothgrad, integrated-gradients)${
              sweepPreset(base) ? `, with "preset": "${sweepPreset(base)}" as its base,` : ""
            } and run the sweep; every method is analysed from the same trained models:`}
            command={sweepCommand(base, "", { config: true })}
          />
        ))}
      {methods.length > 0 && (
        <>
          <Figure
            title="p(k,k) against width k, per attribution method"
            ctx={ctx}
            sweep={sweep}
            file="methods.json"
            csv="methods_pkk.csv"
            caption="The same trained models, their salience taken with each method; one chart per method, bars the bootstrap intervals."
          >
            {methods.map((m) =>
              m.similarity.status === "ok"
                ? (
                  <div class="method-chart">
                    <h4>{m.entry.method}</h4>
                    <HeadlineChart
                      id={`pkk-${m.entry.method}`}
                      series={diagonalSeries(m.similarity.value)}
                    />
                  </div>
                )
                : (
                  <p class="notice missing">
                    {m.entry.method}: {m.entry.dir === "." ? "analysis" : `analysis/${m.entry.dir}`}
                    /similarity.json is{" "}
                    {m.similarity.status === "missing" ? "absent" : "unreadable"}.
                  </p>
                )
            )}
          </Figure>
          <Figure
            title="Claims per attribution method"
            ctx={ctx}
            sweep={sweep}
            file="methods.json"
            csv="methods_claims.csv"
          >
            <ClaimsSideBySide
              class="data"
              columns={methods.map((m) => ({
                label: m.entry.method,
                claims: m.claims.status === "ok" ? m.claims.value.claims : null,
              }))}
            />
          </Figure>
          <DataTable head={["Method", "Settings", "Analysis folder", "Completeness error"]}>
            {methods.map((m) => (
              <tr>
                <td>{m.entry.method}</td>
                <td>{settingsText(m.entry)}</td>
                <td>
                  <code>analysis/{m.entry.dir === "." ? "" : `${m.entry.dir}/`}</code>
                </td>
                <td>
                  {m.entry.completeness
                    ? `max |Σ attributions − Δscalar| ${
                      errors(m.entry.completeness.maxAbsError)
                    }, relative ${
                      errors(m.entry.completeness.maxRelativeError)
                    } over ${m.entry.completeness.runs} runs`
                    : "–"}
                </td>
              </tr>
            ))}
          </DataTable>
        </>
      )}
    </SweepPage>
  );
}
