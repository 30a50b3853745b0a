// A re-export into a previous export replaces only what the export wrote.
import { join } from "node:path";
import { assert, assertEquals, assertRejects } from "../_shared/assert.ts";
import { exportSite, SITE_MARKER } from "../../lib/site/mod.ts";
import { SITE } from "../../site.ts";

const present = (p: string) => Deno.lstat(p).then(() => true, () => false);

Deno.test("report --out into an export keeps .git/ and CNAME and removes only its own files", async () => {
  const root = await Deno.makeTempDir({ prefix: "export-keep-" });
  const out = join(root, "site");
  await Deno.mkdir(join(root, "results"));
  const first = await exportSite({ root: join(root, "results"), out, site: SITE });
  const marker = JSON.parse(await Deno.readTextFile(join(out, SITE_MARKER)));
  assertEquals(marker.files, first.files);
  // The user's own files, and a file an older export wrote that this one no longer writes.
  await Deno.writeTextFile(join(out, "CNAME"), "example.org\n");
  await Deno.mkdir(join(out, ".git", "refs"), { recursive: true });
  await Deno.writeTextFile(join(out, ".git", "HEAD"), "ref: refs/heads/main\n");
  await Deno.writeTextFile(join(out, "old-page.html"), "stale");
  marker.files.push("old-page.html");
  await Deno.writeTextFile(join(out, SITE_MARKER), JSON.stringify(marker));

  await exportSite({ root: join(root, "results"), out, site: SITE });
  assertEquals(await Deno.readTextFile(join(out, "CNAME")), "example.org\n");
  assertEquals(await Deno.readTextFile(join(out, ".git", "HEAD")), "ref: refs/heads/main\n");
  assert(await present(join(out, ".git", "refs")), ".git/refs went");
  assert(!(await present(join(out, "old-page.html"))), "a file of the old export stayed");
  assert(await present(join(out, "index.html")));

  // A folder holding files but no export is refused, untouched.
  const other = join(root, "other");
  await Deno.mkdir(other);
  await Deno.writeTextFile(join(other, "notes.txt"), "mine");
  await assertRejects(
    () => exportSite({ root: join(root, "results"), out: other, site: SITE }),
    Error,
    "holds other files",
  );
  assertEquals(await Deno.readTextFile(join(other, "notes.txt")), "mine");
  await Deno.remove(root, { recursive: true });
});
