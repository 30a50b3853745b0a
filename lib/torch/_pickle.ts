// A restricted unpickler for PyTorch state dicts. It interprets only the opcodes a pickled state
// dict uses (protocols 2–4) and resolves only the globals it needs (OrderedDict, the tensor and
// parameter rebuilders, the storage types); it never calls anything else: every other opcode or
// global is refused, naming it and its byte offset. A checkpoint is untrusted input.

/** A storage a tensor views: its `torch.*Storage` type, its archive key and element count. */
export interface PickledStorage {
  kind: "storage";
  /** The storage type's name, e.g. "FloatStorage". */
  type: string;
  key: string;
  numel: number;
}

/** A tensor rebuilt by `torch._utils._rebuild_tensor_v2`. */
export interface PickledTensor {
  kind: "tensor";
  storage: PickledStorage;
  offset: number;
  shape: number[];
  stride: number[];
}

/** A global the unpickler resolved (only the allowed ones exist). */
interface Global {
  kind: "global";
  name: string;
}

/** What unpickling yields: primitives, arrays (tuples and lists), Maps (dicts), tensors. */
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PickleValue[]
  | Map<string | number, PickleValue>
  | PickledTensor
  | PickledStorage
  | Global;

const ORDERED_DICT = "collections.OrderedDict";
const REBUILD_TENSOR = "torch._utils._rebuild_tensor_v2";
const REBUILD_PARAMETER = "torch._utils._rebuild_parameter";
const ALLOWED = new Set([ORDERED_DICT, REBUILD_TENSOR, REBUILD_PARAMETER]);
const STORAGE = /^torch\.(\w+Storage)$/;

const MARK = Symbol("mark");

class Reader {
  pos = 0;
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array, readonly label: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number): number {
    const p = this.pos;
    if (p + n > this.bytes.length) {
      throw new SyntaxError(
        `${this.label} ends inside a pickle opcode at byte ${p}; the checkpoint is truncated.`,
      );
    }
    this.pos += n;
    return p;
  }
  u8(): number {
    return this.bytes[this.need(1)]!;
  }
  u16(): number {
    return this.view.getUint16(this.need(2), true);
  }
  u32(): number {
    return this.view.getUint32(this.need(4), true);
  }
  i32(): number {
    return this.view.getInt32(this.need(4), true);
  }
  u64(): number {
    return Number(this.view.getBigUint64(this.need(8), true));
  }
  f64be(): number {
    return this.view.getFloat64(this.need(8), false);
  }
  text(n: number): string {
    const p = this.need(n);
    return new TextDecoder().decode(this.bytes.subarray(p, p + n));
  }
  line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) throw new SyntaxError(`${this.label} has an unterminated GLOBAL name.`);
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }
}

/** Little-endian two's-complement integer of `bytes` (LONG1). */
function longOf(bytes: Uint8Array): number | bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  if (bytes.length > 0 && bytes[bytes.length - 1]! & 0x80) v -= 1n << BigInt(8 * bytes.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(v)
    : v;
}

function isInts(v: PickleValue): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isInteger(x));
}

type Slot = PickleValue | typeof MARK;

/**
 * Unpickles a state dict's `data.pkl`. `label` names the file in errors.
 * Cost: O(pickle length).
 *
 * @throws {SyntaxError} for a truncated or malformed pickle, {TypeError} for an opcode or global
 *   that a state dict does not contain (nothing is executed).
 */
export function unpickle(bytes: Uint8Array, label: string): PickleValue {
  const r = new Reader(bytes, label);
  const stack: Slot[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PickleValue>();
  const bad = (what: string, at: number): never => {
    throw new TypeError(
      `${label}: ${what} at byte ${at} is not part of a PyTorch state dict; refusing to unpickle it (only tensors, storages, dicts, lists and numbers are read).`,
    );
  };
  const pop = (at: number): PickleValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) {
      throw new SyntaxError(`${label}: stack underflow at byte ${at}.`);
    }
    return v;
  };
  const top = (at: number): PickleValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) {
      throw new SyntaxError(`${label}: empty stack at byte ${at}.`);
    }
    return v;
  };
  const popMark = (at: number): PickleValue[] => {
    const m = marks.pop();
    if (m === undefined) throw new SyntaxError(`${label}: no MARK before byte ${at}.`);
    const items = stack.splice(m + 1) as PickleValue[];
    stack.pop(); // the mark itself
    return items;
  };
  const resolve = (module: string, name: string, at: number): PickleValue => {
    const full = `${module}.${name}`;
    if (ALLOWED.has(full) || STORAGE.test(full)) return { kind: "global", name: full };
    return bad(`the global ${full}`, at);
  };
  const setItems = (d: PickleValue, items: PickleValue[], at: number) => {
    if (!(d instanceof Map)) return bad("SETITEM on a value that is not a dict", at);
    for (let i = 0; i + 1 < items.length; i += 2) {
      const k = items[i]!;
      if (typeof k !== "string" && typeof k !== "number") {
        return bad("a dict key that is not a string", at);
      }
      d.set(k, items[i + 1]!);
    }
  };
  const reduce = (fn: PickleValue, args: PickleValue, at: number): PickleValue => {
    if (typeof fn !== "object" || fn === null || !("kind" in fn) || fn.kind !== "global") {
      return bad("REDUCE of a value that is not a global", at);
    }
    if (!Array.isArray(args)) return bad("REDUCE with arguments that are not a tuple", at);
    if (fn.name === ORDERED_DICT) {
      if (args.length !== 0) return bad("an OrderedDict built from arguments", at);
      return new Map();
    }
    if (fn.name === REBUILD_PARAMETER) {
      const t = args[0];
      if (typeof t !== "object" || t === null || !("kind" in t) || t.kind !== "tensor") {
        return bad("a parameter that does not wrap a tensor", at);
      }
      return t;
    }
    if (fn.name === REBUILD_TENSOR) {
      const [storage, offset, shape, stride] = args;
      if (
        typeof storage !== "object" || storage === null || !("kind" in storage) ||
        storage.kind !== "storage" || typeof offset !== "number" || !isInts(shape!) ||
        !isInts(stride!)
      ) {
        return bad("a tensor rebuild with unexpected arguments", at);
      }
      return {
        kind: "tensor",
        storage,
        offset,
        shape: shape as number[],
        stride: stride as number[],
      };
    }
    return bad(`a call of ${fn.name}`, at);
  };
  const persistent = (pid: PickleValue, at: number): PickleValue => {
    if (!Array.isArray(pid) || pid[0] !== "storage" || pid.length < 5) {
      return bad("a persistent id that is not a storage", at);
    }
    const [, type, key, , numel] = pid;
    if (
      typeof type !== "object" || type === null || !("kind" in type) || type.kind !== "global" ||
      typeof key !== "string" || typeof numel !== "number"
    ) {
      return bad("a storage persistent id with unexpected fields", at);
    }
    const m = STORAGE.exec(type.name);
    if (!m) return bad(`the storage type ${type.name}`, at);
    return { kind: "storage", type: m[1]!, key, numel };
  };

  for (;;) {
    const at = r.pos;
    const op = r.u8();
    switch (op) {
      case 0x80: // PROTO
        r.u8();
        break;
      case 0x95: // FRAME
        r.u64();
        break;
      case 0x2e: // STOP
        return pop(at);
      case 0x28: // MARK
        marks.push(stack.length);
        stack.push(MARK);
        break;
      case 0x63: { // GLOBAL
        const module = r.line();
        stack.push(resolve(module, r.line(), at));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop(at), module = pop(at);
        if (typeof name !== "string" || typeof module !== "string") {
          bad("STACK_GLOBAL of non-strings", at);
        }
        stack.push(resolve(module as string, name as string, at));
        break;
      }
      case 0x71: // BINPUT
        memo.set(r.u8(), top(at));
        break;
      case 0x72: // LONG_BINPUT
        memo.set(r.u32(), top(at));
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top(at));
        break;
      case 0x68: // BINGET
      case 0x6a: { // LONG_BINGET
        const i = op === 0x68 ? r.u8() : r.u32();
        if (!memo.has(i)) {
          throw new SyntaxError(`${label}: memo entry ${i} is unset at byte ${at}.`);
        }
        stack.push(memo.get(i)!);
        break;
      }
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x74: // TUPLE
      case 0x6c: // LIST
        stack.push(popMark(at));
        break;
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: { // TUPLE3
        const n = op - 0x84;
        const items: PickleValue[] = [];
        for (let i = 0; i < n; i++) items.unshift(pop(at));
        stack.push(items);
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x61: { // APPEND
        const v = pop(at), l = top(at);
        if (!Array.isArray(l)) bad("APPEND to a value that is not a list", at);
        (l as PickleValue[]).push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark(at), l = top(at);
        if (!Array.isArray(l)) bad("APPENDS to a value that is not a list", at);
        (l as PickleValue[]).push(...items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: { // DICT
        const d = new Map<string | number, PickleValue>();
        setItems(d, popMark(at), at);
        stack.push(d);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop(at), k = pop(at);
        setItems(top(at), [k, v], at);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark(at);
        setItems(top(at), items, at);
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(r.text(r.u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(r.text(r.u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(r.text(r.u64()));
        break;
      case 0x4b: // BININT1
        stack.push(r.u8());
        break;
      case 0x4d: // BININT2
        stack.push(r.u16());
        break;
      case 0x4a: // BININT
        stack.push(r.i32());
        break;
      case 0x8a: { // LONG1
        const n = r.u8(), p = r.need(n);
        stack.push(longOf(r.bytes.subarray(p, p + n)));
        break;
      }
      case 0x47: // BINFLOAT
        stack.push(r.f64be());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x52: { // REDUCE
        const args = pop(at), fn = pop(at);
        stack.push(reduce(fn, args, at));
        break;
      }
      case 0x62: { // BUILD: only an OrderedDict's attribute state (state_dict's _metadata)
        const state = pop(at), obj = top(at);
        if (!(obj instanceof Map) || !(state instanceof Map)) bad("BUILD of an object", at);
        break;
      }
      case 0x51: // BINPERSID
        stack.push(persistent(pop(at), at));
        break;
      default:
        bad(`pickle opcode 0x${op.toString(16).padStart(2, "0")}`, at);
    }
  }
}
