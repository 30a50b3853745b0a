/**
 * A parser for the small subset of Python literals that NumPy writes into `.npy` headers:
 * dicts, tuples, lists, quoted strings, integers, `True`, `False` and `None`. It evaluates
 * nothing; anything else is a `SyntaxError`.
 *
 * @module
 */

/** A Python literal as NumPy writes it in a header, mapped onto plain JavaScript values. */
export type PyLiteral =
  | string
  | number
  | boolean
  | null
  | PyTuple
  | PyLiteral[]
  | PyDict;

/** A Python tuple, kept apart from lists so that `shape` can be checked to be one. */
export class PyTuple {
  constructor(readonly items: PyLiteral[]) {}
}

/** A Python dict with string keys, in insertion order. */
export class PyDict {
  constructor(readonly entries: Map<string, PyLiteral>) {}
}

/**
 * Parses one Python literal (surrounding whitespace allowed).
 *
 * Cost: O(length of text). Throws `SyntaxError` naming the offset of the first unexpected
 * character.
 */
export function parsePyLiteral(text: string): PyLiteral {
  const p = new Parser(text);
  p.skipSpace();
  const value = p.value();
  p.skipSpace();
  if (p.pos !== text.length) p.fail("end of text");
  return value;
}

class Parser {
  pos = 0;
  constructor(readonly text: string) {}

  fail(expected: string): never {
    const near = JSON.stringify(this.text.slice(this.pos, this.pos + 12));
    throw new SyntaxError(
      `Python literal: expected ${expected} at offset ${this.pos} (near ${near}).`,
    );
  }

  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  value(): PyLiteral {
    const c = this.text[this.pos];
    if (c === "{") return this.dict();
    if (c === "(") return this.sequence("(", ")");
    if (c === "[") return this.sequence("[", "]");
    if (c === "'" || c === '"') return this.string();
    if (c !== undefined && /[-+0-9]/.test(c)) return this.integer();
    for (const [word, val] of [["True", true], ["False", false], ["None", null]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return val;
      }
    }
    return this.fail("a value");
  }

  dict(): PyDict {
    this.pos++; // {
    const entries = new Map<string, PyLiteral>();
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === "}") break;
      if (this.text[this.pos] !== "'" && this.text[this.pos] !== '"') this.fail("a string key");
      const key = this.string();
      this.skipSpace();
      if (this.text[this.pos] !== ":") this.fail("':'");
      this.pos++;
      this.skipSpace();
      if (entries.has(key)) this.fail(`no duplicate key '${key}'`);
      entries.set(key, this.value());
      this.skipSpace();
      if (this.text[this.pos] === ",") this.pos++;
      else if (this.text[this.pos] !== "}") this.fail("',' or '}'");
    }
    this.pos++; // }
    return new PyDict(entries);
  }

  sequence(open: string, close: string): PyLiteral {
    this.pos++; // open
    const items: PyLiteral[] = [];
    let sawComma = false;
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === close) break;
      items.push(this.value());
      this.skipSpace();
      if (this.text[this.pos] === ",") {
        this.pos++;
        sawComma = true;
      } else if (this.text[this.pos] !== close) this.fail(`',' or '${close}'`);
    }
    this.pos++; // close
    if (open === "[") return items;
    // `(3)` is the integer 3 in Python; `(3,)` is a tuple.
    if (items.length === 1 && !sawComma) return items[0]!;
    return new PyTuple(items);
  }

  string(): string {
    const quote = this.text[this.pos]!;
    this.pos++;
    let out = "";
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined || c === "\n") this.fail(`closing ${quote}`);
      this.pos++;
      if (c === quote) return out;
      if (c === "\\") {
        const e = this.text[this.pos];
        this.pos++;
        if (e === "\\" || e === "'" || e === '"') out += e;
        else if (e === "n") out += "\n";
        else if (e === "t") out += "\t";
        else {
          this.pos--;
          this.fail("a simple escape (\\\\, \\', \\\", \\n, \\t)");
        }
      } else out += c;
    }
  }

  integer(): number {
    const m = /^[-+]?[0-9]+L?/.exec(this.text.slice(this.pos));
    if (!m) return this.fail("an integer");
    this.pos += m[0].length;
    const n = Number(m[0].replace("L", ""));
    if (!Number.isSafeInteger(n)) this.fail("an integer below 2^53");
    return n;
  }
}
